"""20 browser sessions at once against the real app on loopback (Gradio API via gradio_client):
every session gets the answer to its own question, and its follow-up is read in its own conversation."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port

SESSIONS = 20
QUESTIONS = [
    "Quels sont les pôles de compétitivité normands ?",
    "Qui co-préside le comité stratégique d'intelligence économique territoriale ?",
    "Qu'est-ce que l'intelligence territoriale ?",
    "Combien de personnes les actions de sensibilisation ont-elles touchées en 2019 ?",
]
NO_FILTERS = ([], "", "", [], [], [])


@pytest.fixture(scope="module")
def served(demo_store, embedder):
    from assistant.serve import start
    from assistant.service import Assistant

    assistant = Assistant(demo_store, embedder=embedder)
    port = free_port()
    app = start("127.0.0.1", port, settings=demo_store, assistant=assistant, block=False, warm=True,
                say=lambda *_: None, allow_upload=False)
    yield f"http://127.0.0.1:{port}", assistant
    app.close()


def text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def session(url: str, i: int) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)
    question = QUESTIONS[i % len(QUESTIONS)]
    t0 = time.perf_counter()
    first = client.predict(question, *NO_FILTERS, api_name="/chat")
    follow = client.predict("Et en 2019 ?", *NO_FILTERS, api_name="/chat")
    return {"i": i, "question": question, "first": first, "follow": follow, "seconds": time.perf_counter() - t0}


def test_twenty_concurrent_sessions_get_their_own_answers(served):
    from assistant.conversation import Conversation
    from assistant.ui.chat import escape_markdown, link_citations

    url, assistant = served
    expected = {q: assistant.ask(q) for q in QUESTIONS}
    started = time.perf_counter()
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(lambda i: session(url, i), range(SESSIONS), timeout=900))
    elapsed = time.perf_counter() - started
    assert len(results) == SESSIONS
    for r in results:
        history, sources_html, box = r["first"]
        assert len(history) == 2, f"session {r['i']}: conversation mélangée ({len(history)} messages)"
        assert text(history[0]) == escape_markdown(r["question"])
        want = expected[r["question"]]
        body = text(history[1])
        if want.refused:
            assert "Le corpus ne couvre pas" in body
        else:
            assert link_citations(escape_markdown(want.answer), 0) in body, f"session {r['i']}: mauvaise réponse"
            assert want.citations[0].title.split()[0] in sources_html
        history2, _, _ = r["follow"]
        assert len(history2) == 4, f"session {r['i']}: la relance ne suit pas la bonne conversation"
        # The follow-up was condensed with this session's own first question, never another one's.
        conv = Conversation()
        conv.record(r["question"], r["question"], want)
        standalone = conv.condense_without_llm("Et en 2019 ?")
        assert escape_markdown(standalone) in text(history2[3])
        others = [q for q in QUESTIONS if q != r["question"]]
        assert not any(escape_markdown(q) in text(history2[3]) for q in others)
        assert "erreur interne" not in body + text(history2[3])
    print(f"\n{SESSIONS} sessions × 2 questions en {elapsed:.1f} s")
