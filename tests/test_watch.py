"""Saved watches: run over new documents only, relevance threshold, filters, cited snippets, durability,
and the hooks after `veille collect` and `veille ingest`."""
from __future__ import annotations

import re

import pytest
from conftest import needs_shared, veille

from bench.site import Site
from ingestion.collect import Collector, Source
from veille.filters import Filters
from watch.watches import WatchError, add_watch, list_watches, news, news_markdown, remove_watch, run_watches

PAGES = ["lopinion.fr.glyphosate", "sports.fr.lorient", "ledevoir.com.trottinettes"]


@pytest.fixture(scope="module")
def site():
    with Site.from_folder(needs_shared("html_fr/html")) as s:
        yield s


def test_watches_flag_only_relevant_new_documents_with_cited_snippets(site, settings, embedder):
    settings = settings.with_(collect_delay=0.0, collect_allow_hosts=("127.0.0.1",))
    glypho = add_watch("glyphosate et pesticides dans l'agriculture", name="glyphosate", settings=settings)
    foot = add_watch("match de football de Lorient", name="football", settings=settings)
    foot_num = add_watch("match de football de Lorient", Filters(filieres=["numerique"]), name="football numérique",
                         settings=settings)
    with pytest.raises(WatchError, match="existe déjà"):
        add_watch("autre requête", name="glyphosate", settings=settings)

    source = Source("presse", "url-list", [f"{site.base}/pages/{p}.html" for p in PAGES],
                    metadata={"filieres": ["agriculture"]})
    report = Collector(settings, embedder=embedder, progress=False).run([source])
    assert report.counts()["new"] == 3
    doc_of = {p.url.rsplit("/", 1)[1][:-5]: p.doc_id for p in report.pages}

    found = run_watches(settings, embedder=embedder)
    assert {h.doc_id for h in found["glyphosate"]} == {doc_of["lopinion.fr.glyphosate"]}
    assert {h.doc_id for h in found["football"]} == {doc_of["sports.fr.lorient"]}
    assert found["football numérique"] == []  # the watch's filter excludes these documents
    hit = found["glyphosate"][0]
    assert "glyphosate" in hit.snippet.lower() and hit.url.endswith("lopinion.fr.glyphosate.html") and hit.title
    assert hit.score >= settings.watch_threshold

    unread = news(settings)
    assert len(unread["glyphosate"]) == 1 and len(unread["football"]) == 1
    assert news(settings) == {"glyphosate": [], "football": [], "football numérique": []}  # now read
    assert len(news(settings, include_seen=True)["glyphosate"]) == 1
    assert "glyphosate" in news_markdown(settings).lower()

    # Nothing new since: a second run finds nothing, and a watch created now ignores older documents.
    late = add_watch("trottinettes en libre-service à Montréal", name="trottinettes", settings=settings)
    again = run_watches(settings, embedder=embedder)
    assert all(v == [] for v in again.values())
    assert {w.name for w in list_watches(settings)} == {"glyphosate", "football", "football numérique", "trottinettes"}
    remove_watch("trottinettes", settings)
    assert "trottinettes" not in {w.name for w in list_watches(settings)}
    assert glypho.id and foot.id and foot_num.id and late.id


def test_cli_watch_add_then_ingest_reports_news(env, corpus_copy):
    r = veille("watch", "add", "comité stratégique d'intelligence économique", "--name", "IE", "--type", "article",
               env=env)
    assert r.returncode == 0, r.stderr
    r = veille("watch", "add", "recette de la tarte aux pommes", "--name", "cuisine", env=env)
    assert r.returncode == 0
    r = veille("ingest", str(corpus_copy), env=env)
    assert r.returncode == 0, r.stderr
    assert "Veille « IE »" in r.stdout and "cuisine" not in r.stdout
    r = veille("watch", "news", "--json", env=env)
    import json

    data = json.loads(r.stdout)
    assert data["cuisine"] == [] and data["IE"]
    assert all(h["doc_type"] == "article" and h["snippet"] for h in data["IE"])
    r = veille("watch", "list", env=env)  # stored durably: a new process sees them
    assert "IE" in r.stdout and "cuisine" in r.stdout
    r = veille("watch", "remove", "inconnue", env=env)
    assert r.returncode == 2 and "Aucune veille" in r.stderr


def test_veilles_tab_renders_findings_escaped(settings, embedder):
    """The Gradio "Veilles" tab registers itself and renders the stored findings with corpus text escaped."""
    import time

    from assistant.service import Assistant
    from veille.store import get_store
    from webui.app import build_app
    from webui.context import UIContext
    from webui.watches import render_news

    w = add_watch("fonds régional pour l'industrie", name="industrie <b>", settings=settings)
    get_store(settings).db.execute(
        "INSERT INTO watch_hits(watch_id, doc_id, score, title, url, date, doc_type, snippet, found_at) "
        "VALUES(?,?,?,?,?,?,?,?,?)", (w.id, "d1", 0.8, "Titre <script>alert(1)</script>", "javascript:alert(1)",
                                      "2024-03-01", "article", "Un fonds <img src=x onerror=alert(1)> régional.",
                                      time.time()))
    assistant = Assistant(settings, embedder=embedder)
    html = render_news(UIContext.create(assistant, settings))
    assert "industrie &lt;b&gt;" in html and "Un fonds &lt;img" in html and "01/03/2024" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "Titre &lt;script&gt;" in html
    app = build_app(assistant, settings)
    assert any(getattr(b, "elem_id", None) == "watches-news" for b in app.blocks.values())


def test_cli_watch_add_can_look_at_the_documents_already_there(env, corpus_copy):
    """« appliquer aux documents déjà présents »: without the flag a new watch waits for new documents;
    with it, it reads the corpus at once (cited snippets centred on the sentence, titles not paths)."""
    import json

    assert veille("ingest", str(corpus_copy), env=env).returncode == 0
    r = veille("watch", "add", "comité stratégique d'intelligence économique", "--name", "plus tard", env=env)
    assert r.returncode == 0 and "déjà présents" not in r.stdout
    r = veille("watch", "add", "comité stratégique d'intelligence économique", "--name", "IE", "--existants", env=env)
    assert r.returncode == 0, r.stderr
    assert re.search(r"Documents déjà présents : [1-9]\d* documents? pertinents?", " ".join(r.stdout.split())), r.stdout
    data = json.loads(veille("watch", "news", "--json", "--keep", env=env).stdout)
    assert data["plus tard"] == [] and data["IE"]
    assert all(0 < len(h["snippet"]) < 800 for h in data["IE"]), [len(h["snippet"]) for h in data["IE"]]
    assert any("comité stratégique" in h["snippet"].lower() for h in data["IE"])
    shown = veille("watch", "news", "IE", env=env).stdout
    assert "Installation du comité stratégique" in shown and str(corpus_copy) not in shown
    assert re.search(r"pertinence \d,\d\d", shown) and re.search(r"— \d+ nouveaux? documents?", shown)
    assert "(s)" not in shown and "(x)" not in shown  # real plurals
