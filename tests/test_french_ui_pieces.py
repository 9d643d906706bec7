"""What a French user reads outside the answers: every `--help` of the CLI, dates typed as they come
(« mars 2019 »), sizes and counts, tables at 80 columns, the Word export, one source number per document
with quotes on the cited sentence, and the Documents tab's queries."""
from __future__ import annotations

import argparse
import re

import pytest
from conftest import REPO
from rich.console import Console

from assistant.answering.answer import Answer
from assistant.answering.citations import CitationNumbering, centred_excerpt
from cli.main import build_parser
from cli.options import filters_from_args
from veille.numbers import file_size

# What argparse writes in English when a string escapes translation.
ENGLISH = ["usage:", "positional arguments", "optional arguments", "options:", "show this help", "help message",
           "default:", "(default", "arguments:", "expected one argument", "invalid choice", "required:"]
ENGLISH_NAMES = re.compile(r"(?<![\w_-])(?:NAME|THRESHOLD|QUERY|LOGIN|OUTPUT|DOC_TYPE|TOPIC|PATHS|URLS|TAGS|query|"
                           r"topic|paths|urls|login|name)(?![\w_])")


def every_parser(parser: argparse.ArgumentParser, path=("veille",)):
    yield path, parser
    for action in parser._actions:  # noqa: SLF001 - argparse keeps sub-commands there
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                yield from every_parser(sub, (*path, name))


def test_every_help_of_the_cli_is_french():
    parsers = list(every_parser(build_parser(None)))
    assert len(parsers) > 25  # the commands and their actions (watch add, users modify…)
    for path, parser in parsers:
        text = parser.format_help()
        found = [e for e in ENGLISH if e in text] + ENGLISH_NAMES.findall(text)
        assert not found, f"{' '.join(path)} --help : {found}\n{text}"
        assert "Options :" in text and "afficher cette aide et quitter" in text, text
        for action in parser._actions:  # noqa: SLF001 - every option says what it does
            assert action.help, f"{' '.join(path)} : {action.option_strings or action.dest} sans aide"


@pytest.mark.parametrize("argv, message", [
    (["ask", "--bogus"], "arguments non reconnus"),
    (["watch"], "arguments obligatoires manquants"),
    (["serve", "--port", "abc"], "un nombre entier attendu, pas « abc »"),
    (["audit", "export", "--as", "x", "--format", "xml"], "choix invalide"),
])
def test_cli_errors_are_french(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser(argv).parse_args(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "error:" not in err and "usage :" in err


def test_since_accepts_the_dates_a_french_user_types():
    for typed, since, until in [("mars 2019", 20190301, 20190331), ("03/2019", 20190301, 20190331),
                                ("15 mars 2019", 20190315, 20190315), ("2019", 20190101, 20191231)]:
        args = build_parser(["ask"]).parse_args(["ask", "--since", typed, "--until", typed, "q"])
        f = filters_from_args(args)
        assert (f.date_from, f.date_to) == (since, until), typed


def test_the_ui_date_fields_accept_mars_2019_and_explain_what_they_cannot_read():
    from webui.chat import date_problems, make_filters

    assert make_filters([], "mars 2019", "", [], [], []).date_from == 20190301
    assert date_problems("mars 2019", "15/03/2020") == ""
    problem = date_problems("le mois dernier", "")
    assert problem.startswith("Depuis : Date illisible : « le mois dernier »") and "mars 2019" in problem
    assert "après" in date_problems("2020", "2019")


def test_sizes_and_counts_read_french():
    assert file_size(20 * 1024 * 1024) == "20 Mo"  # the README's 20 Mo, not « 21 Mo »
    assert file_size(12.3 * 1024) == "12,3 Ko" and file_size(1) == "1 octet" and file_size(900) == "900 octets"
    from veille.numbers import plural

    assert plural(1, "nouveau document", "nouveaux documents") == "1 nouveau document"
    assert plural(3, "nouveau document", "nouveaux documents") == "3 nouveaux documents"
    assert plural(0, "élément") == "0 élément" and plural(2, "élément") == "2 éléments"


def test_cli_count_tables_fit_80_columns():
    import cli.commands.collect as collect
    import cli.commands.ingest as ingest

    console = Console(width=80, record=True, color_system=None)
    ingest.out = collect.out = console

    class Report:
        recovered, documents_written, chunks_written, seconds, embed_seconds, outcomes = 0, 3, 12345, 123.4, 5, []
        embedded, reused = 12345, 12345

        def count(self, status):
            return 12345

        def duplicates(self):
            return []

    class Collected:
        sources, pages, timings, requests, conditional_requests, seconds = ["site-de-la-region", "b"], [], {}, 3, 1, 2.0

        def counts(self, name=None):
            return {k: 12345 for k, _ in collect.COLUMNS}

    try:
        ingest.print_ingest_report(Report())
        collect.print_report(Collected())
    finally:
        ingest.out = collect.out = Console()
    text = console.export_text()
    assert "…" not in text and all(len(line) <= 80 for line in text.splitlines())
    for header in ("ajoutés", "modifiés", "inchangés", "ignorés", "échecs", "retirés", "passages", "durée",
                   "reçues", "nouvelles", "modifiées", "inchangées", "ignorées"):
        assert header in text
    assert "123,4 s" in text and "3 requêtes HTTP dont 1 conditionnelle" in text


def test_docx_export_has_real_formatting_and_numbered_sources(tmp_path):
    from docx import Document

    from webui.docx_export import markdown_to_docx

    note = ("# Note de synthèse : IET\n\n*Établie le 1er décembre 2026*\n\n## Vue d'ensemble\n\n"
            "Le **comité stratégique** a été installé [1]. Voir [le site](https://www.normandie.fr/iet) et "
            "[Enjeux, nature et portée des actions IET](#) [2].\n\n## Sources\n\n"
            "1. **Installation du comité** — article, juillet 2017 — https://exemple.fr\n"
            "2. **Intelligence territoriale** — autre, non datée — document du corpus\n")
    doc = Document(markdown_to_docx(note, tmp_path / "note.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "*" not in text and "](#)" not in text and "](" not in text
    runs = [r for p in doc.paragraphs for r in p.runs]
    assert any(r.bold and r.text == "comité stratégique" for r in runs)
    assert any(r.italic and "Établie le" in r.text for r in runs)
    assert any(r.font.superscript and r.text == "1" for r in runs)  # the link's note number
    assert "1. https://www.normandie.fr/iet" in text and "Liens" in text
    assert "[1] Installation du comité" in text and "[2] Intelligence territoriale" in text
    assert doc.paragraphs[0].style.name == "Title"


def test_centred_excerpt_keeps_the_cited_sentence_with_some_context():
    text = ("[Enjeux, nature et portée des actions IET](#) " + "Un préambule sans rapport. " * 20 +
            "Le comité est co-présidé par Fabienne Buccio. " + "Une suite qui continue. " * 20)
    quote = centred_excerpt(text, "Le comité est co-présidé par Fabienne Buccio.")
    assert "Le comité est co-présidé par Fabienne Buccio." in quote
    assert quote.startswith("… ") and quote.endswith(" …") and len(quote) <= 340
    assert "Enjeux" not in quote


def test_one_number_per_document_its_passages_under_it(demo_store):
    from assistant.service import Assistant

    assistant = Assistant(demo_store)
    result = assistant.retrieve("comité stratégique d'intelligence économique territoriale co-présidé")
    docs = [p.node.metadata["doc_id"] for p in result.passages]
    twice = next(d for d in docs if docs.count(d) > 1)
    first, second = [i for i, d in enumerate(docs) if d == twice][:2]
    numbering = CitationNumbering(assistant.store, result.passages)
    s1 = "Première phrase citée."
    n1 = numbering(first, s1)
    n2 = numbering(second, "Seconde phrase citée.")
    assert n1 == n2 == 1 and len(numbering.citations) == 1
    citation = numbering.citations[0]
    assert [p.chunk_id for p in citation.passages] == [result.passages[first].node.node_id,
                                                       result.passages[second].node.node_id]
    assert citation.sentences == [s1, "Seconde phrase citée."]
    other = next(i for i, d in enumerate(docs) if d != twice)
    assert numbering(other, "Autre.") == 2 and numbering.marks([(first, s1), (other, "Autre.")]) == "[1][2]"


def test_answers_quote_the_cited_sentence_and_keep_the_passage(demo_store):
    from assistant.service import Assistant

    answer: Answer = Assistant(demo_store).ask(
        "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?")
    assert not answer.refused and answer.citations
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert sorted(set(numbers)) == [c.n for c in answer.citations]  # [n] ↔ one document each
    assert len({c.doc_id for c in answer.citations}) == len(answer.citations)
    for c in answer.citations:
        for sentence in c.sentences:
            assert " ".join(sentence.split()) in c.quote  # the quote is on the cited sentence…
            assert " ".join(sentence.split()) in " ".join(c.context.split())  # …and the passage is kept
        assert len(c.quote) < len(c.context) or len(c.context) <= 340
        data = answer.as_json()["citations"][c.n - 1]
        assert data["quote"] == c.quote and data["context"] == c.context


def test_document_queries_for_the_documents_tab(demo_store):
    from veille.store import get_store
    from webui.documents import list_documents, render_document

    store = get_store(demo_store)
    everything = list_documents(store, None, order="title")
    assert len(everything) == 5 and [d["title"] for d in everything] == sorted(
        (d["title"] for d in everything), key=str.lower)
    found = list_documents(store, None, "comite strategique")  # accents and case do not matter
    assert found and all("omité" in (d["title"] + store.document(d["doc_id"])["text"]) for d in found)
    assert list_documents(store, None, "Intelligence territoriale", types=["autre"])
    assert not list_documents(store, None, "teurgoule")
    doc = store.document(next(d["doc_id"] for d in everything if d["title"] == "Intelligence territoriale"))
    page = render_document(store, doc)
    assert "Intelligence territoriale" in page and "passages indexés" in page
    assert str(REPO) not in page and "004_d825efe098dbc4d8" not in page  # no server path, no hash file name
    assert len(store.document_passages(doc["doc_id"])) == doc["n_chunks"]
