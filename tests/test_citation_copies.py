"""A cited document that belongs to a near-duplicate cluster says « repris par N sources » and lists the other
copies — only those the asker's audience may see — in `veille ask` (text and JSON), the chat's sources panel
and briefing notes; each cited source shows its main entities as (escaped) chips. Real store, real models."""
from __future__ import annotations

import json

import pytest
from conftest import veille

ARTICLE = """# Rançongiciels : les PME normandes ciblées

Une vague de rançongiciels a touché quarante PME normandes au cours de l'été, selon la CCI Normandie.
L'ANSSI recommande des sauvegardes hors ligne et un plan de reprise testé chaque trimestre.
Les entreprises touchées ont perdu en moyenne douze jours de production avant de redémarrer leurs systèmes.
"""
HEADER = "Accueil > Économie > Numérique\nPublié le 12/08/2026 · Partager : Facebook LinkedIn\n\n"
FOOTER = "\n\nLire aussi : nos dossiers cybersécurité\n© 2026 {site} — Mentions légales\n"
QUESTION = "Combien de PME normandes ont été touchées par les rançongiciels cet été ?"


def _page(title: str, date: str, site: str | None, body: str, audience: str = "") -> str:
    meta = f"---\ntitle: \"{title}\"\ndoc_type: article\ndate: {date}\n"
    if site:
        meta += f"url: https://{site}/rancongiciels\nsite: {site}\n"
    if audience:
        meta += f"audience: [{audience}]\n"
    return meta + "---\n" + body


@pytest.fixture(scope="module")
def copies_home(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    root = tmp_path_factory.mktemp("copies")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "original.md").write_text(_page("Rançongiciels : les PME normandes ciblées", "2026-08-10",
                                              "actu-normandie.example", ARTICLE), encoding="utf-8")
    (corpus / "reprise.md").write_text(_page(
        "Les PME normandes face aux rançongiciels", "2026-08-12", "courrier-normand.example",
        HEADER + ARTICLE.replace("au cours de l'été", "cet été") + FOOTER.format(site="Le Courrier normand")),
        encoding="utf-8")
    (corpus / "reprise-partenaires.md").write_text(_page(
        "Lettre réservée : rançongiciels et PME", "2026-08-14", "club-partenaires.example",
        HEADER + ARTICLE + FOOTER.format(site="Club des partenaires"), audience="partenaires"), encoding="utf-8")
    settings = Settings(home=root / "home", models_path=models_dir)
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.count("added") == 3, [(o.source, o.status, getattr(o, "reason", o)) for o in report.outcomes]
    return settings


def _env(env, settings):
    return {**env, "VEILLE_HOME": str(settings.home)}


def test_ask_lists_the_copies_the_asker_may_see(copies_home, env):
    e = _env(env, copies_home)
    res = veille("ask", "--json", QUESTION, env=e)
    assert res.returncode == 0, res.stderr
    answer = json.loads(res.stdout.splitlines()[-1])
    assert not answer["refused"] and "quarante PME normandes" in answer["answer"]
    cited = answer["citations"][0]
    # The three copies are one cluster: one cited, the two others listed (the local operator sees everything).
    assert len(cited["copies"]) == 2
    sites = {cited["site"]} | {c["source"] for c in cited["copies"]}
    assert sites == {"actu-normandie.example", "courrier-normand.example", "club-partenaires.example"}
    assert ["CCI Normandie", "ORG"] in cited["entities"]

    res = veille("users", "add", "claire", "--role", "entreprise", "--password-stdin",
                 input="motdepasse-claire-2026\n", env=e)
    assert res.returncode == 0, res.stderr
    res = veille("ask", QUESTION, "--as", "claire", env=e)
    assert res.returncode == 0, res.stderr
    assert "repris par 2 sources" in res.stdout and "Entités : " in res.stdout and "CCI Normandie" in res.stdout
    # The partners' copy is never named to an account that may not read it.
    assert "club-partenaires" not in res.stdout and "Lettre réservée" not in res.stdout


def test_chat_sources_panel_and_note_show_copies_and_chips(copies_home):
    from accounts import PUBLIC
    from assistant.conversation.session import Conversation
    from assistant.service import Assistant
    from veille.filters import Filters
    from watch.brief import make_brief
    from webui.briefing import note_sources
    from webui.sources import render_sources

    assistant = Assistant(copies_home)
    answer = Conversation().ask(assistant, QUESTION, Filters())
    panel = render_sources([answer])
    assert "repris par 3 sources" in panel and "club-partenaires.example" in panel
    assert 'class="entity-chip"' in panel and "CCI Normandie" in panel
    public = Conversation().ask(assistant, QUESTION, Filters(audience=[PUBLIC]))
    panel = render_sources([public])
    assert "repris par 2 sources" in panel and "club-partenaires" not in panel and "Lettre réservée" not in panel

    note = make_brief(assistant, "rançongiciels dans les PME normandes", Filters(audience=[PUBLIC]))
    assert not note.empty
    assert "repris par 2 sources" in note.markdown() and "Lettre réservée" not in note.markdown()
    assert "repris par 2 sources" in note_sources(note) and "club-partenaires" not in note_sources(note)


def test_chips_and_copies_are_escaped():
    from assistant.answering.answer import Answer, Citation, Copy
    from webui.sources import render_sources

    c = Citation(n=1, doc_id="d1", chunk_id="c1", title="T", doc_type="article", date="2026-08-10",
                 source="https://a.example/x", quote="q", score=1.0, site="a.example",
                 copies=[Copy("d2", "<img src=x onerror=alert(1)>", "b.example", "javascript:alert(2)", None)],
                 entities=[["<script>alert(3)</script>", "ORG"]])
    panel = render_sources([Answer(question="q", answer="a", refused=False, citations=[c])])
    assert "<script>" not in panel and "<img" not in panel and "javascript:" not in panel
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in panel and "&lt;img src=x" in panel
    assert "repris par 2 sources" in panel


def test_a_copy_in_a_machine_named_file_goes_by_its_title():
    """A copy stored under a machine-made file name (« 000_8364a93a850e761b.txt ») is listed as « fichier local »
    and its title, in the chat's sources panel as in the terminal."""
    from assistant.answering.answer import Answer, Citation, Copy
    from cli.console import out
    from cli.render import print_citation
    from webui.sources import render_sources

    copy = Copy("d2", "Note sur la filière bois", "000_8364a93a850e761b.txt", None, None)
    c = Citation(n=1, doc_id="d1", chunk_id="c1", title="T", doc_type="article", date="2026-08-10",
                 source="https://a.example/x", quote="q", score=1.0, site="a.example", copies=[copy])
    panel = render_sources([Answer(question="q", answer="a", refused=False, citations=[c])])
    assert "fichier local — Note sur la filière bois" in panel and "8364a93a" not in panel
    with out.capture() as seen:
        print_citation(c)
    assert "fichier local — Note sur la filière bois" in seen.get() and "8364a93a" not in seen.get()
