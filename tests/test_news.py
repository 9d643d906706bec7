"""« Nouveautés depuis votre dernière visite »: per user, the documents that arrived since their previous visit and
concern them (a watch's entity, their filières), one per near-duplicate cluster, with cited sentences; a refresh
within a visit does not empty the list. Real corpus, real store, real CLI."""
from __future__ import annotations

import json
import shutil
import time

from conftest import REPO, veille

CYBER = """---
title: Guichet cybersécurité pour les PME
doc_type: article
date: 2026-11-20
filieres: [cybersecurite]
---
La CCI Normandie ouvre un guichet cybersécurité pour les PME du Calvados et de la Manche.
Le guichet propose un diagnostic gratuit et un accompagnement en cas d'attaque par rançongiciel.
"""


def test_news_since_the_last_visit(tmp_path, settings, embedder, env):
    from accounts import add_user, restrict, user_for_cli
    from assistant.service import Assistant
    from ingestion.pipeline import Ingestor
    from veille.filters import Filters
    from watch.news import VISIT_GAP_S, whats_new
    from watch.watches import add_watch

    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    ingestor = Ingestor(settings, embedder=embedder, progress=False)
    ingestor.ingest_paths([corpus])
    add_watch("Carpentier", Filters(entities=["Jean-Baptiste Carpentier"]), name="carpentier", settings=settings)
    assistant = Assistant(settings, embedder=embedder)

    first = whats_new(assistant, now=time.time())
    assert first.first_visit and first.user == "local"
    titles = {i.title for i in first.items}
    assert len(first.items) == 2 and all(i.reasons == ["entité Jean-Baptiste Carpentier"] for i in first.items)
    assert any("Carpentier" in s for i in first.items for s in i.sentences)
    assert titles == {i.title for i in whats_new(assistant, now=time.time() + 10).items}  # same visit, same list

    later = time.time() + 20
    # Two new documents: the article republished elsewhere (same cluster as the one seen), and a filière note.
    text = (REPO / "corpus" / "003_bf5e1784fceaf955.txt").read_text(encoding="utf-8")
    (corpus / "reprise.txt").write_text("Publié le 06/07/2017 · Partager\n\n" + text + "\n\n© Normandie Actu",
                                        encoding="utf-8")
    (corpus / "guichet.md").write_text(CYBER, encoding="utf-8")
    time.sleep(max(0.0, later - time.time()) + 1)
    ingestor.ingest_paths([corpus])
    visit = whats_new(assistant, now=later + VISIT_GAP_S + 60)  # back after the gap: a new visit
    assert not visit.first_visit and abs(visit.since - later) < 30
    assert [i.title for i in visit.items] == [i.title for i in visit.items if "Guichet" not in i.title]
    assert len(visit.items) == 1 and len(visit.items[0].copies) == 1  # the copy, once, and the other listed
    assert visit.items[0].copies_label() == "repris par 2 sources"

    # An account sees what concerns its filières, within its audience only.
    add_user(settings, "paul", "motdepasse-paul-2026", role="conseiller", filieres=["cybersecurite"])
    paul = restrict(Filters(), user_for_cli(settings, "paul"))
    mine = whats_new(assistant, paul, now=later + VISIT_GAP_S + 90)
    guichet = next(i for i in mine.items if "Guichet" in i.title)
    assert "filière cybersecurite" in guichet.reasons and any("guichet" in s for s in guichet.sentences)

    res = veille("watch", "news", "--visite", "--json", env={**env, "VEILLE_HOME": str(settings.home)})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["user"] == "local"
