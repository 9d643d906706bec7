"""`veille brief`: a note de synthèse with an overview, themes, dated and cited key points, sources and
filters — extractive and generative, each citation pointing at a listed source that holds the sentence."""
from __future__ import annotations

import re

import pytest
from conftest import REPO, veille
from openai_server import FakeOpenAIServer

from assistant.service import Assistant
from veille.filters import Filters
from watch.brief import make_brief

TOPIC = "intelligence économique territoriale en Normandie"
SECTIONS = ["# Note de synthèse : ", "## Vue d'ensemble", "## Points clés par thème", "### ", "## Sources",
            "## Filtres utilisés"]


def check_structure(briefing) -> str:
    md = briefing.markdown()
    positions = [md.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    listed = {int(n) for n in re.findall(r"^(\d+)\. \*\*", md, re.M)}
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", md)}
    assert cited == listed == set(range(1, len(briefing.sources) + 1))
    quotes = {c.n: c.quote for c in briefing.sources}
    for theme in briefing.themes:
        assert theme.title and theme.points
        for p in theme.points:
            assert all(p.text in quotes[n] for n in p.numbers)  # key points are quoted, not invented
    return md


def test_extractive_briefing(demo_store):
    briefing = make_brief(Assistant(demo_store), TOPIC)
    md = check_structure(briefing)
    assert briefing.mode == "extractif" and len(briefing.themes) >= 2 and briefing.documents >= 3
    assert "Aucun filtre" in md and "juillet 2017" in md  # key points are dated


def test_filters_are_applied_and_listed(demo_store):
    briefing = make_brief(Assistant(demo_store), TOPIC, Filters(date_from=20190101))
    md = briefing.markdown()
    assert briefing.sources and all(c.date >= "2019" for c in briefing.sources)
    assert "depuis le 01/01/2019" in md


def test_off_topic_briefing_says_so(demo_store):
    briefing = make_brief(Assistant(demo_store), "recette de la teurgoule")
    assert briefing.empty and not briefing.sources and "ne contient pas" in briefing.markdown()


@pytest.mark.parametrize("scenario", ["normal", "error500"])
def test_generative_briefing_is_verified_or_falls_back(demo_store, scenario):
    with FakeOpenAIServer() as server:
        settings = demo_store.with_(llm_base_url=server.url, llm_model=scenario, llm_timeout=2.0, llm_retries=0)
        briefing = make_brief(Assistant(settings), TOPIC)
        assert any("note de synthèse" in r["messages"][-1]["content"] for r in server.requests)
    check_structure(briefing)
    if scenario == "normal":
        assert briefing.mode == "génératif (normal)" and briefing.notice is None
    else:
        assert briefing.mode == "extractif" and "indisponible" in briefing.notice


def test_veille_brief_writes_a_markdown_file(env, tmp_path):
    assert veille("ingest", str(REPO / "corpus"), env=env).returncode == 0
    note = tmp_path / "notes" / "note.md"
    run = veille("brief", TOPIC, "--since", "2017", "--type", "article", "-o", str(note), env=env)
    assert run.returncode == 0, run.stderr
    md = note.read_text(encoding="utf-8")
    assert md.startswith(f"# Note de synthèse : {TOPIC}") and "type : article" in md
    assert "rapport" not in md.split("## Sources")[1].split("## Filtres")[0]
    assert "Note de synthèse écrite" in run.stdout
