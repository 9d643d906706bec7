"""A real HTTP site on loopback for the collection tests and throughput benchmark.

Serves a folder of HTML pages byte for byte (``/pages/<name>.html``), a sitemap and an RSS feed
over them, honours ``If-None-Match`` / ``If-Modified-Since`` (304), and offers hostile endpoints:
slow answers, 404/500, 429 with ``Retry-After``, redirect loops, a redirect to a private address,
an oversized body, a binary body, a PDF, and a path disallowed by robots.txt. Every request is logged.
Binds 127.0.0.1 only.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF with a text layer (hand-assembled, offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@dataclass
class Hit:
    method: str
    path: str
    headers: dict
    status: int
    at: float


class Site:
    def __init__(self, pages: dict[str, bytes], slow_seconds: float = 3.0, big_bytes: int = 3 * 1024 * 1024,
                 files: dict[str, tuple[bytes, str]] | None = None):
        self.pages = pages  # name -> bytes
        self.files = files or {}  # path -> (bytes, content type): documents of other formats
        self.slow_seconds = slow_seconds
        self.big_bytes = big_bytes
        self.log: list[Hit] = []
        self.counters: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @classmethod
    def from_folder(cls, folder: Path, **kw) -> "Site":
        pages = {}
        for path in sorted(folder.rglob("*.html")):
            if path.name == "expected.html":
                continue
            name = path.stem if path.name != "source.html" else path.parent.name
            pages[name] = path.read_bytes()
        return cls(pages, **kw)

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page_urls(self) -> list[str]:
        return [f"{self.base}/pages/{name}.html" for name in self.pages]

    def count(self, key: str) -> int:
        with self._lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def sitemap(self) -> bytes:
        urls = "".join(f"<url><loc>{u}</loc></url>" for u in self.page_urls())
        return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>").encode()

    def feed(self) -> bytes:
        items = "".join(f"<item><title>Page {i}</title><link>{u}</link>"
                        f"<pubDate>Mon, 0{1 + i % 9} Jan 2024 08:00:00 GMT</pubDate></item>"
                        for i, u in enumerate(self.page_urls()))
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Flux de test</title>'
                f"<link>{self.base}/</link><description>pages</description>{items}</channel></rss>").encode()

    def __enter__(self) -> "Site":
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                try:
                    site._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- routing ------------------------------------------------------------------------------
    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str = "text/html",
              headers: dict | None = None, validators: bool = False, logged: bool = False) -> None:
        extra = dict(headers or {})
        if validators:
            etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
            extra.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
            if h.headers.get("If-None-Match") == etag or (
                    not h.headers.get("If-None-Match") and h.headers.get("If-Modified-Since") == LAST_MODIFIED):
                status, body = 304, b""
        if not logged:
            self._record(h, status)
        h.send_response(status)
        if status != 304:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        if status != 304:
            h.wfile.write(body)

    def _record(self, h: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.log.append(Hit("GET", h.path, dict(h.headers), status, time.time()))

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if path in self.files:
            return self._send(h, 200, *self.files[path], validators=True)
        if path == "/robots.txt":
            return self._send(h, 200, ROBOTS, "text/plain", validators=True)
        if path.startswith("/pages/") and path.endswith(".html") and path[7:-5] in self.pages:
            return self._send(h, 200, self.pages[path[7:-5]], "text/html", validators=True)
        if path == "/sitemap.xml":
            return self._send(h, 200, self.sitemap(), "application/xml", validators=True)
        if path == "/feed.xml":
            return self._send(h, 200, self.feed(), "application/rss+xml", validators=True)
        if path == "/private/secret.html":
            return self._send(h, 200, b"<html><body><p>Ne pas collecter cette page interne.</p></body></html>")
        if path == "/slow.html":
            # Logged on arrival: the client gives up long before the answer, and the test counts requests
            # as soon as the collection ends.
            self._record(h, 200)
            time.sleep(self.slow_seconds)
            return self._send(h, 200, b"<html><body><p>Enfin une r\xc3\xa9ponse, bien trop tard.</p></body></html>",
                              logged=True)
        if path.startswith("/status/"):
            return self._send(h, int(path.rsplit("/", 1)[1]), b"erreur", "text/plain")
        if path == "/flaky429.html":
            if self.count(path) == 1:
                return self._send(h, 429, b"trop vite", "text/plain", {"Retry-After": "1"})
            return self._send(h, 200, b"<html><head><title>Patience r\xc3\xa9compens\xc3\xa9e</title></head><body>"
                              b"<article><p>Le conseil r\xc3\xa9gional de Normandie annonce un fonds de soutien "
                              b"aux entreprises industrielles pour la transition \xc3\xa9nerg\xc3\xa9tique des "
                              b"ateliers de m\xc3\xa9canique.</p></article></body></html>")
        if path == "/always503.html":
            return self._send(h, 503, b"indisponible", "text/plain", {"Retry-After": "0"})
        if path in ("/loop/a", "/loop/b"):
            return self._send(h, 302, b"", headers={"Location": "/loop/b" if path == "/loop/a" else "/loop/a"})
        if path == "/to-private":
            return self._send(h, 302, b"", headers={"Location": "http://10.0.0.1/secret"})
        if path == "/to-page":
            return self._send(h, 301, b"", headers={"Location": self.page_urls()[0]})
        if path == "/big.html":
            return self._send(h, 200, b"<html><body>" + b"a" * self.big_bytes + b"</body></html>")
        if path == "/data.bin":
            return self._send(h, 200, bytes(range(256)) * 64, "application/octet-stream")
        if path == "/doc.pdf":
            return self._send(h, 200, tiny_pdf("Rapport annuel de l'agence de developpement economique de "
                                               "Normandie sur les exportations agroalimentaires"),
                              "application/pdf", validators=True)
        return self._send(h, 404, b"introuvable", "text/plain")
