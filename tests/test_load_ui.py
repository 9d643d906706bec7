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
    from assistant.service import Assistant
    from webui.serve import start

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
    from assistant.conversation.session import Conversation
    from veille.markup import md_literal
    from webui.chat import link_citations

    url, assistant = served
    expected = {q: assistant.ask(q) for q in QUESTIONS}
    started = time.perf_counter()
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(lambda i: session(url, i), range(SESSIONS), timeout=900))
    elapsed = time.perf_counter() - started
    assert len(results) == SESSIONS
    for r in results:
        history, sources_html, box, dates_message = r["first"]
        assert dates_message == ""  # no date typed, nothing said beside the date fields
        assert len(history) == 2, f"session {r['i']}: conversation mélangée ({len(history)} messages)"
        assert text(history[0]) == md_literal(r["question"])
        want = expected[r["question"]]
        body = text(history[1])
        if want.refused:
            assert md_literal(want.answer.partition(". ")[0]) in body  # the refusal every channel gives
        else:
            assert link_citations(md_literal(want.answer, lines=True), 0) in body, f"session {r['i']}: mauvaise réponse"
            assert want.citations[0].title.split()[0] in sources_html
        history2, *_ = r["follow"]
        assert len(history2) == 4, f"session {r['i']}: la relance ne suit pas la bonne conversation"
        # The follow-up was condensed with this session's own first question, never another one's.
        conv = Conversation()
        conv.record(r["question"], r["question"], want)
        standalone = conv.condense_without_llm("Et en 2019 ?")
        assert md_literal(standalone) in text(history2[3])
        others = [q for q in QUESTIONS if q != r["question"]]
        assert not any(md_literal(q) in text(history2[3]) for q in others)
        assert "erreur interne" not in body + text(history2[3])
    print(f"\n{SESSIONS} sessions × 2 questions en {elapsed:.1f} s")


def test_llm_endpoint_down_gives_extractive_answer_with_notice(demo_store, embedder):
    """Generative mode configured but its endpoint unreachable: the page shows the extractive answer and a
    French notice, never a traceback."""
    from gradio_client import Client

    from assistant.service import Assistant
    from webui.serve import start

    dead = free_port()  # nothing listens there
    settings = demo_store.with_(llm_base_url=f"http://127.0.0.1:{dead}/v1", llm_model="modele-absent",
                                llm_retries=0, llm_timeout=5.0)
    port = free_port()
    app = start("127.0.0.1", port, settings=settings, assistant=Assistant(settings, embedder=embedder),
                block=False, warm=False, say=lambda *_: None, allow_upload=False)
    try:
        client = Client(f"http://127.0.0.1:{port}", verbose=False)
        history, sources_html, *_ = client.predict(QUESTIONS[0], *NO_FILTERS, api_name="/chat")
    finally:
        app.close()
    body = text(history[-1])
    assert "⚠️" in body and "indisponible" in body
    assert "Cosmetic Valley" in body and "[1]" in body and "Mode : extractif" in body
    assert "Traceback" not in body and "erreur interne" not in body
    assert "<details" in sources_html
