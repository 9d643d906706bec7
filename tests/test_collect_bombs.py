"""Decompression bombs served by a real HTTP server on 127.0.0.1: every one is refused with a French
reason while the collector's memory stays bounded; honest compressed pages still decode exactly.

Each bomb is fetched by a fresh Python process whose peak-RSS mark is reset just before the fetch (so the
peak measures this fetch alone), under an address-space limit: a bomb that got through would die of
MemoryError there, not take the machine."""
from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import REPO

brotli = pytest.importorskip("brotli")

MIB = 1 << 20
BOMB_MIB = 2048  # each bomb expands to 2 GiB
CAP = 4 * MIB  # collect_max_bytes in these tests: larger than every compressed bomb
RSS_BOUND_MB = 300

PAGE = ("<html><head><meta charset='utf-8'><title>Filière navale</title></head><body><article><h1>Filière "
        "navale normande</h1><p>Les chantiers de Cherbourg recrutent des soudeurs et des chaudronniers.</p>"
        "</article></body></html>").encode("utf-8")


def zeros_deflate(n_mib: int, wbits: int) -> bytes:
    """n MiB of zeros, gzip (wbits 31) or zlib (15) wrapped: one full-flushed 1 MiB block repeated (the
    compressor's state is reset at each full flush, so every block is the same bytes), a real trailer."""
    zero = bytes(MIB)
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    gz = wbits > 15
    end = c.flush()[:-8 if gz else -4]  # the final empty block, without the trailer of 3 MiB
    check = 0 if gz else 1
    for _ in range(n_mib):
        check = (zlib.crc32 if gz else zlib.adler32)(zero, check)
    trailer = struct.pack("<II", check, (n_mib * MIB) & 0xFFFFFFFF) if gz else struct.pack(">I", check)
    return head + block * (n_mib - 1) + end + trailer


def zeros_brotli(n_mib: int) -> bytes:
    c = brotli.Compressor(quality=5, lgwin=24)
    zero = bytes(MIB)
    return b"".join(c.process(zero) for _ in range(n_mib)) + c.finish()


def expanded_size(body: bytes, wbits: int) -> int:
    """What the body really expands to, decoded a bounded step at a time (proof the bomb is real)."""
    d, size, data = zlib.decompressobj(wbits), 0, body
    while data and not d.eof:
        size += len(d.decompress(data, 16 * MIB))
        data = d.unconsumed_tail
    while not d.eof:
        size += len(d.decompress(b"", 16 * MIB))
    return size


@pytest.fixture(scope="module")
def server():
    gz = zeros_deflate(BOMB_MIB, 31)
    assert expanded_size(gz, 31) == BOMB_MIB * MIB
    routes = {
        "/page.html": ("", PAGE),
        "/page-gzip.html": ("gzip", gzip.compress(PAGE)),
        "/page-deflate.html": ("deflate", zlib.compress(PAGE)),
        "/page-raw-deflate.html": ("deflate", zlib.compress(PAGE, wbits=-15)),
        "/page-br.html": ("br", brotli.compress(PAGE)),
        "/page-gzip-br.html": ("gzip, br", brotli.compress(gzip.compress(PAGE))),
        "/bomb-gzip.html": ("gzip", gz),
        "/bomb-gzip-gzip.html": ("gzip, gzip", gzip.compress(gz, 9)),
        "/bomb-deflate.html": ("deflate", zeros_deflate(BOMB_MIB, 15)),
        "/bomb-br.html": ("br", zeros_brotli(BOMB_MIB)),
        "/triple-gzip.html": ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(PAGE)))),
        "/zstd.html": ("zstd", b"\x28\xb5\x2f\xfd" + PAGE),
        "/not-gzip.html": ("gzip", b"ceci n'est pas du gzip " * 4),
        "/bad-checksum-gzip.html": ("gzip", gzip.compress(PAGE)[:-8] + bytes(8)),
        "/undecodable-gzip.html": ("gzip", gzip.compress(PAGE)[:10] + b"\xff" * 40),
    }
    assert all(len(body) < CAP for path, (_, body) in routes.items())  # no bomb is refused before decoding
    assert len(routes["/bomb-br.html"][1]) < 4096 and len(routes["/bomb-gzip-gzip.html"][1]) < 8192

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            encoding, body = routes.get(self.path, ("", b""))
            self.send_response(200 if self.path in routes else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    httpd.shutdown()
    httpd.server_close()


CHILD = r"""
import asyncio, json, resource, sys
from pathlib import Path
from ingestion.collect.fetcher import Fetcher
from veille.config import Settings

base, path, home, cap = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
settings = Settings(home=home, collect_allow_hosts=("127.0.0.1",), collect_max_bytes=cap,
                    collect_delay=0.0, collect_retries=1, collect_timeout=30.0)

async def fetch(url):
    async with Fetcher(settings) as f:
        return await f.fetch(url, check_robots=False)

def status_kb(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key + ":")).split()[1])

warm = asyncio.run(fetch(base + "/page-gzip.html"))  # every code path loaded before the baseline
assert warm.ok, warm.error
try:  # Linux: reset the peak-RSS mark to the current RSS, so that the peak measured is this fetch's
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
except OSError:
    pass
before_kb = status_kb("VmRSS")
limit = (status_kb("VmSize") + 1024 * 1024) * 1024  # 1 GiB of address space more than now
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    result = asyncio.run(fetch(base + path))
    outcome = {"error": result.error, "body_bytes": len(result.body)}
except MemoryError:
    outcome = {"error": "MemoryError", "body_bytes": None}
peak_kb = status_kb("VmHWM")
print(json.dumps({**outcome, "baseline_mb": before_kb / 1024, "peak_mb": peak_kb / 1024,
                  "growth_mb": (peak_kb - before_kb) / 1024}))
"""


def fetch_in_child(server, path: str, tmp_path) -> dict:
    base, _ = server
    run = subprocess.run([sys.executable, "-c", CHILD, base, path, str(tmp_path / "home"), str(CAP)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", ["/bomb-gzip.html", "/bomb-gzip-gzip.html", "/bomb-deflate.html", "/bomb-br.html"])
def test_decompression_bomb_is_refused_with_bounded_memory(server, path, tmp_path, record_property):
    _, routes = server
    out = fetch_in_child(server, path, tmp_path)
    record_property("peak_rss", out)
    growth = f"{out['growth_mb']:.1f}".replace(".", ",")
    print(f"\n{path}: {len(routes[path][1])} octets compressés → {BOMB_MIB} Mio ; "
          f"RSS de référence {out['baseline_mb']:.0f} Mo, pic {out['peak_mb']:.0f} Mo (+{growth} Mo)")
    assert out["error"] != "MemoryError", "la bombe a été décompressée en mémoire"
    assert out["error"] == "page trop volumineuse une fois décompressée (plus de 4 Mo, téléchargement abandonné)"
    assert out["growth_mb"] < RSS_BOUND_MB


@pytest.mark.parametrize("path, reason", [
    ("/triple-gzip.html", "page refusée : trop d'encodages de contenu empilés (gzip, gzip, gzip ; au plus 2)"),
    ("/zstd.html", "page refusée : encodage de contenu non pris en charge (« zstd »)"),
    ("/not-gzip.html", "page refusée : contenu compressé illisible"),
    ("/bad-checksum-gzip.html", "page refusée : contenu compressé illisible"),
    ("/undecodable-gzip.html", "page refusée : contenu compressé illisible"),
])
def test_stacked_unknown_or_broken_encodings_are_refused(server, path, reason, tmp_path):
    out = fetch_in_child(server, path, tmp_path)
    assert out["error"].startswith(reason) and out["body_bytes"] == 0


def test_honest_compressed_pages_decode_exactly(server, settings):
    import asyncio

    from ingestion.collect.fetcher import Fetcher

    base, routes = server
    csettings = settings.with_(collect_allow_hosts=("127.0.0.1",), collect_max_bytes=CAP, collect_delay=0.0)

    async def go():
        async with Fetcher(csettings) as f:
            return {p: await f.fetch(base + p, check_robots=False) for p in routes if p.startswith("/page")}

    results = asyncio.run(go())
    assert len(results) == 6
    for path, result in results.items():
        assert result.ok, (path, result.error)
        assert result.body == PAGE, path
