"""`veille serve` as a user runs it, and the UI's pure pieces (escaping, streaming cuts, feedback export)."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import REPO, free_port


def readme_tabs() -> set[str]:
    """The tabs the web UI guide (docs/webui.md) promises: its bold list items (« - **Veilles** : … »)."""
    text = (REPO / "docs" / "webui.md").read_text(encoding="utf-8")
    return set(re.findall(r"^- \*\*([^*]+)\*\* :", text, flags=re.M)) - {"Sécurité", "Extension"}


README_TABS = readme_tabs()


def test_veille_serve_warms_up_then_serves_offline(env):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.time() + 240
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "« veille ask » passe par ce serveur" in line or time.time() > deadline:
                break
        out = "\n".join(lines)
        assert f"Veille est prête : http://127.0.0.1:{port}" in out, out
        assert (Path(env["VEILLE_HOME"]) / "ask.sock").exists(), out
        assert out.index("Préchauffage") < out.index("Modèle prêt") < out.index("Veille est prête")
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and "Veille" in page.text
        config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=30).json()
        assert config.get("analytics_enabled") is False
        assert not config.get("share_url")
        assert "fonts.googleapis.com" not in json.dumps(config.get("theme_css", "")) + page.text
        # The app users get has every tab the guide lists (one was once registered only when a test imported it).
        tabs = {c.get("props", {}).get("label") for c in config["components"] if c.get("type") == "tabitem"}
        assert README_TABS <= tabs, tabs
    finally:
        proc.terminate()  # SIGTERM, as a service manager stops it: the same clean stop as Ctrl-C
        rest = proc.communicate(timeout=60)[0]
    assert "Traceback" not in rest and "Arrêt demandé" in rest, rest
    assert f"Serveur arrêté (port {port} libéré)." in rest and "Closing server" not in rest, rest  # French only
    assert not (Path(env["VEILLE_HOME"]) / "ask.sock").exists()  # `veille ask` is not sent to a dead server


def test_veille_serve_busy_port_fails_fast_in_french(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.time()
        res = subprocess.run([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    assert "Impossible de démarrer le serveur" in res.stderr and "--port" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert "Préchauffage" not in res.stdout  # refused before loading the model


def test_sources_panel_escapes_hostile_text():
    from assistant.answering.answer import Answer, Citation
    from webui.sources import render_sources

    hostile = 'Texte <script>alert(1)</script> <img src=x onerror="alert(2)"> et la phrase citée ici.'
    c = Citation(n=1, doc_id="d", chunk_id="c", title='<b onmouseover="alert(3)">Titre</b>', doc_type="article",
                 date="2021-03", source="/tmp/x.md", quote=hostile, score=1.0, url="javascript:alert(4)",
                 sentence="et la phrase citée ici.")
    html = render_sources([Answer(question="<i>q</i>", answer="a [1]", refused=False, citations=[c])])
    assert "<script" not in html and "<img" not in html and "<b " not in html and "<i>" not in html
    assert "href=\"javascript" not in html and "Voir l" not in html  # a non-http link is not offered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>et la phrase citée ici.</mark>" in html
    assert 'id="src-0-1"' in html and " open" in html


def test_streamed_chunks_rebuild_the_answer_without_cutting_citations():
    from webui.context import word_chunks

    text = "Le comité a été installé en 2017 [1]. La Région finance six pôles [2] et trois filières [3]."
    parts = list(word_chunks(text, 5))
    assert parts[-1] == text and len(parts) >= 4
    assert all(text.startswith(p) for p in parts)
    assert all(len(a) < len(b) for a, b in zip(parts, parts[1:]))
    assert not any(p.endswith("[") or p.rstrip().endswith(("[1", "[2", "[3")) for p in parts)


def test_feedback_export_makes_candidate_pairs(tmp_path, env):
    from conftest import veille

    from accounts.feedback import FeedbackRecord, FeedbackStore, feedback_path
    from veille.config import Settings

    store = FeedbackStore(feedback_path(Settings(home=tmp_path / "home")))
    cit = [{"n": 1, "doc_id": "doc1", "chunk_id": "doc1-0", "title": "T", "source": "s"}]
    good = store.record(FeedbackRecord(rating=1, question="Q1 ?", answer="R [1]", citations=cit, session="a", turn=0))
    store.record(FeedbackRecord(rating=-1, question="Q2 ?", answer="Faux [1]", citations=cit, session="a", turn=1))
    # Changing one's mind on the same answer updates the row, the comment is kept.
    store.comment(good, "précis")
    assert store.record(FeedbackRecord(rating=-1, question="Q1 ?", answer="R [1]", citations=cit, session="a",
                                       turn=0)) == good
    store.record(FeedbackRecord(rating=1, question="Q1 ?", answer="R [1]", citations=cit, session="a", turn=0))
    res = veille("feedback", "export", "-o", str(tmp_path / "pairs.jsonl"), env=env)
    assert res.returncode == 0, res.stderr
    pairs = [json.loads(l) for l in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert [p["question"] for p in pairs] == ["Q1 ?", "Q2 ?"]
    assert pairs[0]["gold_doc_ids"] == ["doc1"] and pairs[0]["comment"] == "précis" and not pairs[0]["needs_review"]
    assert pairs[1]["needs_review"] and pairs[1]["gold_doc_ids"] == [] and pairs[1]["observed"]["answer"] == "Faux [1]"
    assert "1 à relire" in " ".join(res.stderr.split())
