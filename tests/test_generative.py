"""Generative mode against a real OpenAI-protocol HTTP server on loopback: streaming and not, every
failure mode falling back to the extractive answer, citations verified and renumbered, prompts as data."""
from __future__ import annotations

import re

import pytest
from openai_server import FakeOpenAIServer

from assistant.generation.prompts import PromptError, load_prompt
from assistant.generation.verify import Verifier, split_cited_sentences
from assistant.service import Assistant

QUESTION = "Quels sont les pôles de compétitivité normands ?"


@pytest.fixture(scope="module")
def llm_server():
    with FakeOpenAIServer(slow_seconds=2.5) as server:
        yield server


def llm_assistant(demo_store, server, scenario: str) -> Assistant:
    settings = demo_store.with_(llm_base_url=server.url, llm_model=scenario, llm_api_key="cle-de-test",
                                llm_timeout=1.0, llm_retries=0)
    return Assistant(settings)


# -- prompts ---------------------------------------------------------------------------------------------
def test_every_prompt_loads_with_its_variables():
    expected = {"system": {"refusal"}, "answer": {"passages", "question", "filters"},
                "condense": {"history", "question"}, "brief": {"topic", "filters", "passages"}, "refusal": set()}
    for name, variables in expected.items():
        assert load_prompt(name).variables == variables, name


def test_prompt_variables_are_checked():
    answer = load_prompt("answer")
    with pytest.raises(PromptError, match="manquantes : filters"):
        answer.render(passages="…", question="?")
    with pytest.raises(PromptError, match="inconnues : quetsion"):
        answer.render(passages="…", question="?", filters="aucun", quetsion="?")
    with pytest.raises(PromptError, match="Gabarit inconnu"):
        load_prompt("n-existe-pas")


def test_malformed_template_is_a_clear_error(tmp_path):
    (tmp_path / "bad.txt").write_text("Bonjour {nom", encoding="utf-8")
    with pytest.raises(PromptError, match="mal formé"):
        load_prompt("bad", tmp_path)


# -- verification (pure) -----------------------------------------------------------------------------------
PASSAGES = ["Le comité stratégique a été installé à Caen le 4 juillet 2017, co-présidé par Fabienne Buccio "
            "et Sophie Gaugain.",
            "La Normandie compte six pôles de compétitivité, dont HIPPOLIA et VALORIAL."]


@pytest.mark.parametrize("sentence, kept", [
    ("Le comité stratégique a été installé à Caen en juillet 2017 [1].", [1]),
    ("La Normandie compte six pôles de compétitivité, dont HIPPOLIA [2].", [2]),
    ("Le comité stratégique a été installé à Caen en juillet 2019 [1].", []),  # wrong year
    ("Le comité stratégique a été installé en mars 2017 [1].", []),  # wrong month
    ("Le comité stratégique est présidé par Emmanuel Macron [1].", []),  # entity not in passage
    ("Les pôles de compétitivité normands sont financés [9].", []),  # passage does not exist
    ("Le tourisme balnéaire attire les familles chaque été [1].", []),  # unrelated
])
def test_each_citation_is_checked_against_its_passage(sentence, kept):
    check = Verifier().verify(sentence, PASSAGES)
    assert check.sentences[0].kept == kept
    if not kept:
        assert check.sentences[0].dropped


def test_marks_after_the_full_stop_belong_to_the_sentence_before():
    parts = split_cited_sentences("Première phrase citée ici. [1] Deuxième phrase citée là [2][1].\n- Point [3, 4]")
    assert [nums for _, nums in parts] == [[1], [2, 1], [3, 4]]


# -- the endpoint, scenario by scenario --------------------------------------------------------------------
def test_normal_non_streaming_answer_is_generated_and_verified(demo_store, llm_server):
    answer = llm_assistant(demo_store, llm_server, "normal").ask(QUESTION)
    assert answer.mode == "génératif (normal)" and not answer.refused and answer.notice is None
    assert "HIPPOLIA" in answer.answer
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert sorted(set(numbers)) == [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert c.sentence and c.sentence in c.quote
    sent = llm_server.requests[-1]
    assert sent["model"] == "normal" and not sent.get("stream")
    assert sent["headers"]["authorization"] == "Bearer cle-de-test"
    assert sent["messages"][0]["role"] == "system" and "<documents>" in sent["messages"][1]["content"]
    # Each passage comes with its document's title and type, whichever branch found it.
    blocks = re.findall(r"<passage ([^>]*)>", sent["messages"][1]["content"])
    assert blocks and all('titre="' in b and 'type="' in b for b in blocks)


def test_streaming_yields_tokens_then_the_verified_answer(demo_store, llm_server):
    stream = llm_assistant(demo_store, llm_server, "normal").ask_stream(QUESTION)
    deltas = list(stream)
    assert len(deltas) > 5 and "[" in "".join(deltas)
    assert llm_server.requests[-1]["stream"] is True
    answer = stream.answer
    assert answer.mode == "génératif (normal)" and not answer.refused and answer.citations
    assert answer.timings_ms["generate"] > 0


@pytest.mark.parametrize("scenario, reason", [
    ("slow", "pas répondu à temps"),
    ("error500", "erreur HTTP 500"),
    ("truncated", "interrompue"),
    ("garbage", "illisible"),
])
@pytest.mark.parametrize("streaming", [False, True])
def test_failing_endpoint_gives_the_extractive_answer_with_a_notice(demo_store, llm_server, scenario, reason,
                                                                    streaming):
    assistant = llm_assistant(demo_store, llm_server, scenario)
    answer = assistant.ask_stream(QUESTION).result() if streaming else assistant.ask(QUESTION)
    assert answer.mode == "extractif" and not answer.refused
    assert "HIPPOLIA" in answer.answer and answer.citations
    assert answer.notice.startswith("Mode génératif indisponible")
    if not (scenario == "truncated" and not streaming):  # a cut JSON body reads as a dropped connection
        assert reason in answer.notice


def test_a_stream_cut_mid_answer_is_said_interrupted_not_unreadable(demo_store, llm_server):
    answer = llm_assistant(demo_store, llm_server, "cut").ask_stream(QUESTION).result()
    assert answer.mode == "extractif" and "HIPPOLIA" in answer.answer
    assert "interrompue (connexion coupée en cours de réponse)" in answer.notice, answer.notice


def test_a_base_url_without_v1_is_hinted_at(demo_store, llm_server):
    settings = demo_store.with_(llm_base_url=llm_server.url.removesuffix("/v1"), llm_model="normal",
                                llm_timeout=2.0, llm_retries=0)
    answer = Assistant(settings).ask(QUESTION)
    assert answer.mode == "extractif" and "HTTP 404" in answer.notice and "/v1" in answer.notice, answer.notice


def test_an_unknown_model_name_is_refused_naming_the_ones_offered(demo_store, llm_server):
    settings = demo_store.with_(llm_base_url=llm_server.url, llm_model="gpt-inexistant", llm_timeout=2.0,
                                llm_retries=0)
    answer = Assistant(settings).ask(QUESTION)
    assert answer.mode == "extractif" and "HIPPOLIA" in answer.answer
    assert "modèle « gpt-inexistant » inconnu du serveur" in answer.notice and "« normal »" in answer.notice
    assert "« smollm2-135m-instruct-q8_0 »" in answer.notice and "/modeles/" not in answer.notice


def test_a_model_listed_as_a_file_path_answers_to_its_short_name(demo_store, llm_server):
    settings = demo_store.with_(llm_base_url=llm_server.url, llm_model="SmolLM2-135M-Instruct-Q8_0",
                                llm_timeout=2.0, llm_retries=0)
    answer = Assistant(settings).ask(QUESTION)
    assert answer.mode == "génératif (SmolLM2-135M-Instruct-Q8_0)" and not answer.notice, answer.notice
    assert llm_server.requests[-1]["model"] == "/modeles/smollm2-135m-instruct-q8_0.gguf"


def test_invented_citations_and_numbers_are_removed_and_flagged(demo_store, llm_server):
    answer = llm_assistant(demo_store, llm_server, "invent").ask(QUESTION)
    assert not answer.refused and answer.mode == "génératif (invent)"
    assert "[9]" not in answer.answer and "742" not in answer.answer and "Bercy" not in answer.answer
    assert "2 phrases" in answer.notice
    reasons = " ".join(r for f in answer.flagged for r in f["raisons"].values())
    assert "passage inexistant [9]" in reasons and "nombre absent" in reasons
    assert max(int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)) == len(answer.citations)


def test_answer_left_without_support_becomes_a_refusal(demo_store, llm_server):
    answer = llm_assistant(demo_store, llm_server, "unsupported").ask(QUESTION)
    assert answer.refused and not answer.citations
    assert "Groenland" not in answer.answer and "ne contient pas" in answer.answer
    assert "étayée par aucun" in answer.notice and len(answer.flagged) == 2


def test_unanswerable_question_is_refused_without_calling_the_model(demo_store, llm_server):
    before = len(llm_server.requests)
    answer = llm_assistant(demo_store, llm_server, "normal").ask("Quelle est la recette de la teurgoule ?")
    assert answer.refused and len(llm_server.requests) == before


def test_non_ascii_api_key_is_explained(demo_store, llm_server):
    settings = demo_store.with_(llm_base_url=llm_server.url, llm_model="normal", llm_api_key="clé")
    answer = Assistant(settings).ask(QUESTION)
    assert not answer.refused and "non ASCII" in answer.notice


def test_unreachable_endpoint_never_raises(demo_store):
    from conftest import free_port

    settings = demo_store.with_(llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_model="m", llm_timeout=1.0,
                                llm_retries=0)
    answer = Assistant(settings).ask(QUESTION)
    assert not answer.refused and "injoignable" in answer.notice


def test_veille_ask_streams_its_generative_answer(llm_server, env):
    from conftest import REPO, veille

    assert veille("ingest", str(REPO / "corpus"), env=env).returncode == 0
    before = len(llm_server.requests)
    run = veille("ask", QUESTION, env=dict(env, VEILLE_LLM_BASE_URL=llm_server.url, VEILLE_LLM_MODEL="normal"))
    assert run.returncode == 0, run.stderr
    assert "Mode : génératif (normal)" in run.stdout and "Sources" in run.stdout
    asked = [r for r in llm_server.requests[before:] if "<passage" in r["messages"][-1]["content"]]
    assert asked and all(r["stream"] is True for r in asked)  # streamed: alive while the server sends anything


def test_the_prompt_is_sized_to_the_context_the_server_reports(demo_store):
    """llama.cpp-like server with a 1,500-token context (/props, /tokenize): the passages are fitted and the
    answer has room; told 8,192 instead (VEILLE_LLM_CONTEXT), the same server cuts the answer (« length »)."""
    from openai_server import count_tokens

    with FakeOpenAIServer(n_ctx=1500, keepalives=2, keepalive_seconds=0.6) as server:
        settings = demo_store.with_(llm_base_url=server.url, llm_model="normal", llm_timeout=1.0, llm_retries=0)
        answer = Assistant(settings).ask_stream(QUESTION).result()
        sent = server.requests[-1]
        prompt = sum(count_tokens(m["content"]) for m in sent["messages"])
        assert sent["max_tokens"] == 375 and prompt + sent["max_tokens"] <= 1500
        assert answer.mode == "génératif (normal)" and not answer.notice, answer.notice  # keep-alives kept it alive
        told_wrong = Assistant(settings.with_(llm_context=8192)).ask_stream(QUESTION).result()
    assert told_wrong.mode == "extractif" and "coupée (limite de longueur)" in told_wrong.notice


def test_llama_cpp_python_counts_the_prompt_at_its_own_route(demo_store):
    """llama-cpp-python's server (the one scripts/bench_llamacpp.py starts) publishes no context and counts tokens
    at /extras/tokenize: with its context given (VEILLE_LLM_CONTEXT), the prompt is fitted by its own count."""
    from openai_server import count_tokens

    with FakeOpenAIServer(n_ctx=1500, python_server=True) as server:
        settings = demo_store.with_(llm_base_url=server.url, llm_model="normal", llm_timeout=1.0, llm_retries=0,
                                    llm_context=1500)
        answer = Assistant(settings).ask_stream(QUESTION).result()
        sent = server.requests[-1]
        prompt = sum(count_tokens(m["content"]) for m in sent["messages"])
    assert server.tokenized > 0 and prompt + sent["max_tokens"] <= 1500
    assert answer.mode == "génératif (normal)" and not answer.notice, answer.notice
