"""Web collection against a real HTTP server on loopback serving the 30 real French pages of
../shared/html_fr byte for byte, a sitemap and an RSS feed over them, and hostile endpoints.

Loopback is reachable only because the tests name it in ``collect_allow_hosts``; no traffic ever
leaves 127.0.0.1 (the redirect to 10.0.0.1 must be refused before any connection)."""
from __future__ import annotations

import asyncio
import hashlib

import pytest
from conftest import needs_shared, veille

from bench.site import Site
from ingestion.collect import Collector, Source
from ingestion.collect.fetcher import Fetcher
from ingestion.collect.safety import UnsafeURL, check_url
from veille.store import get_store


@pytest.fixture(scope="module")
def site():
    with Site.from_folder(needs_shared("html_fr/html"), slow_seconds=2.5, big_bytes=2 * 1024 * 1024) as s:
        assert len(s.pages) == 30
        yield s


@pytest.fixture
def csettings(settings):
    return settings.with_(collect_delay=0.0, collect_allow_hosts=("127.0.0.1",), collect_timeout=1.0,
                          collect_retries=2, collect_max_bytes=1024 * 1024)


def _store_state(settings) -> dict:
    store = get_store(settings)
    return {"docs": {r[0] for r in store.db.execute("SELECT doc_id FROM documents")},
            "chunks": {r[0] for r in store.db.execute("SELECT chunk_id FROM chunks")},
            "vectors": set(store.collection.get(include=[])["ids"]),
            "ingestions": store.db.execute("SELECT count(*) FROM ingestions").fetchone()[0]}


def _files(settings) -> dict:
    root = settings.home / "collect"
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def test_sitemap_collection_keeps_bytes_then_second_run_is_conditional_and_writes_nothing(site, csettings, embedder):
    source = Source("plan du site", "sitemap", [f"{site.base}/sitemap.xml"],
                    metadata={"doc_type": "bulletin", "filieres": ["numerique"], "region": "normandie"})
    report = Collector(csettings, embedder=embedder, progress=False).run([source])
    counts = report.counts()
    assert counts["fetched"] == 30 and counts["failed"] == 0
    assert counts["new"] >= 28  # a page may be a duplicate or carry no main text: it then says why
    assert all(p.reason for p in report.pages if p.status != "new")
    store = get_store(csettings)
    docs = store.db.execute("SELECT * FROM documents WHERE state='done'").fetchall()
    assert len(docs) == counts["new"]
    assert all(d["doc_type"] == "bulletin" and d["region"] == "normandie" and '"numerique"' in d["filieres"]
               and d["url"].startswith(site.base) for d in docs)
    # Snapshots hold the bytes exactly as served (several pages are not UTF-8), next to the extracted record.
    state = {r["url"]: r for r in store.db.execute("SELECT * FROM collect_state WHERE kind='page'")}
    assert len(state) == 30
    for name, body in site.pages.items():
        row = state[f"{site.base}/pages/{name}.html"]
        snapshot = csettings.home / "collect" / row["snapshot"]
        assert snapshot.read_bytes() == body
        assert row["etag"] and row["body_hash"] == hashlib.sha256(body).hexdigest()
        if row["doc_id"]:
            assert snapshot.with_suffix(".json").is_file()
    # An accented, non-UTF-8 page decoded right (no replacement characters in the stored text).
    assert all("\ufffd" not in d["text"] for d in docs)

    before_store, before_files = _store_state(csettings), _files(csettings)
    site.log.clear()
    second = Collector(csettings, embedder=embedder, progress=False).run([source])
    hits = list(site.log)
    assert hits and all(h.status == 304 for h in hits)
    assert all(h.headers.get("If-None-Match") for h in hits)  # only conditional requests
    assert len(hits) == 32  # robots.txt + sitemap + 30 pages, one request each
    assert second.counts()["unchanged"] == 30 and second.counts()["fetched"] == 0 and second.ingest is None
    assert _store_state(csettings) == before_store and _files(csettings) == before_files


def test_rss_feed_with_include_pattern_and_reextract_without_network(site, csettings, embedder):
    wanted = ["lopinion.fr.glyphosate", "ledevoir.com.trottinettes"]
    source = Source("flux", "rss", [f"{site.base}/feed.xml"], include=["glyphosate|trottinettes"])
    site.log.clear()
    report = Collector(csettings, embedder=embedder, progress=False).run([source])
    assert report.counts()["new"] == 2
    page_hits = {h.path for h in site.log if h.path.startswith("/pages/")}
    assert page_hits == {f"/pages/{n}.html" for n in wanted}
    before = _store_state(csettings)
    site.log.clear()
    again = Collector(csettings, embedder=embedder, progress=False).reextract()
    assert site.log == [] and again.counts()["unchanged"] == 2 and again.counts()["failed"] == 0
    assert _store_state(csettings)["docs"] == before["docs"]


def test_hostile_server_cases_fail_with_french_reasons_and_bounded_requests(site, csettings, embedder):
    b = site.base
    paths = ["/status/404", "/status/500", "/flaky429.html", "/loop/a", "/to-private", "/big.html", "/data.bin",
             "/private/secret.html", "/doc.pdf", "/slow.html", "/always503.html"]
    site.log.clear()
    report = Collector(csettings, embedder=embedder, progress=False).run([Source("hostile", "url", [b + p for p in paths])])
    by_path = {p.url[len(b):]: p for p in report.pages}
    requests = {}
    for h in site.log:
        requests.setdefault(h.path, []).append(h)

    def reason(path):
        return by_path[path].status, by_path[path].reason

    assert reason("/status/404") == ("failed", "HTTP 404 (page introuvable)") and len(requests["/status/404"]) == 1
    assert reason("/status/500")[0] == "failed" and "HTTP 500" in reason("/status/500")[1]
    assert len(requests["/status/500"]) == 2  # retried once (collect_retries=2), no more
    assert len(requests["/always503.html"]) == 2
    # 429 then 200: retried after the Retry-After the server asked for, and ingested.
    flaky = requests["/flaky429.html"]
    assert [h.status for h in flaky] == [429, 200] and flaky[1].at - flaky[0].at >= 0.9
    assert by_path["/flaky429.html"].status == "new"
    assert reason("/loop/a")[0] == "failed" and "boucle de redirections" in reason("/loop/a")[1]
    assert len(requests["/loop/a"]) + len(requests["/loop/b"]) <= csettings.collect_max_redirects + 1
    assert reason("/to-private")[0] == "failed" and "10.0.0.1" in reason("/to-private")[1]
    assert "adresse interne" in reason("/to-private")[1]
    assert reason("/big.html")[0] == "failed" and "trop volumineuse" in reason("/big.html")[1]
    assert reason("/data.bin") == ("skipped", "type de contenu non pris en charge (application/octet-stream)")
    assert reason("/private/secret.html") == ("skipped", "interdit par robots.txt")
    assert "/private/secret.html" not in requests
    assert reason("/slow.html")[0] == "failed" and "délai dépassé" in reason("/slow.html")[1]
    assert len(requests["/slow.html"]) == 2
    assert by_path["/doc.pdf"].status == "new"
    doc = get_store(csettings).document(by_path["/doc.pdf"].doc_id)
    assert "exportations agroalimentaires" in doc["text"]
    # Every failure is persisted with its reason for `veille collect --status`.
    rows = {r["url"]: r for r in get_store(csettings).db.execute("SELECT * FROM collect_state WHERE kind='page'")}
    assert rows[b + "/status/404"]["status"] == "failed" and rows[b + "/status/404"]["error"].startswith("HTTP 404")


def test_redirect_to_private_address_is_refused_before_connecting(site, csettings):
    async def go():
        async with Fetcher(csettings) as fetcher:
            return await fetcher.fetch(f"{site.base}/to-private")

    result = asyncio.run(go())
    assert result.requests == 1  # the loopback hop only; 10.0.0.1 never contacted
    assert result.final_url == "http://10.0.0.1/secret" and "réseau privé" in result.error


@pytest.mark.parametrize("url, words", [
    ("file:///etc/passwd", "schéma refusé"), ("gopher://exemple.fr/", "schéma refusé"),
    ("http://127.0.0.1:8000/", "boucle locale"), ("http://localhost/", "boucle locale"),
    ("http://[::1]/", "boucle locale"), ("http://10.0.0.1/", "réseau privé"), ("http://192.168.1.20/", "réseau privé"),
    ("http://169.254.169.254/latest/meta-data/", "lien local"), ("http://0.0.0.0/", "adresse réservée"),
    ("http://[::ffff:127.0.0.1]/", "boucle locale"),
])
def test_unsafe_urls_are_refused_by_default(url, words):
    with pytest.raises(UnsafeURL, match=words):
        asyncio.run(check_url(url))


def test_allow_hosts_opens_only_the_named_host():
    asyncio.run(check_url("http://127.0.0.1:8000/page", ("127.0.0.1",)))
    asyncio.run(check_url("http://localhost:8000/page", ("localhost",)))
    with pytest.raises(UnsafeURL):
        asyncio.run(check_url("http://10.0.0.1/", ("127.0.0.1",)))


def test_cli_collect_status_and_bad_sources_file(site, env, tmp_path):
    env = {**env, "VEILLE_COLLECT_ALLOW_HOSTS": "127.0.0.1", "VEILLE_COLLECT_DELAY": "0"}
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: x\n    kind: ftp\n    url: http://exemple.fr\n", encoding="utf-8")
    r = veille("collect", "--sources", str(bad), env=env)
    assert r.returncode == 2 and "type « ftp » inconnu" in r.stderr
    good = tmp_path / "ok.yaml"
    good.write_text(f"sources:\n  - name: Presse test\n    kind: url-list\n    urls:\n"
                    f"      - {site.base}/pages/gala.fr.surnom.html\n      - {site.base}/status/404\n"
                    f"    metadata: {{doc_type: article}}\n", encoding="utf-8")
    r = veille("collect", "--sources", str(good), env=env)
    assert r.returncode == 1, r.stderr  # one page failed: non-zero exit, the other one is in
    assert "Presse test" in r.stdout and "HTTP 404" in r.stdout
    r = veille("collect", "--status", env={**env, "COLUMNS": "200"})  # rich wraps cells to the terminal width
    assert r.returncode == 0 and "Presse test" in r.stdout and "HTTP 404" in r.stdout
    import json

    status = json.loads(veille("collect", "--status", "--json", env=env).stdout)["Presse test"]
    assert status["pages"] == 2 and status["documents"] == 1 and status["failed"] == 1
