"""Documents are quoted as they read (issue 35 §2 and §4): a Markdown file's marks, a web page extracted with
its formatting, a PDF whose lines break mid-sentence and a scan read by OCR, ingested for real and asked through
the real Assistant; greetings and sentences that lean on the one before are not answer material."""
from __future__ import annotations

import io
import re
import shutil

import pytest

from bench.samples import SCAN_DPI, _font

MARKDOWN = """# Note de veille… Affaire des contrats de *l'Élysée*

### Alexis Kohler

Selon *Mediapart*, **le parquet national financier (PNF) a ouvert une enquête** sur les contrats de la société \
_Arpège Conseil_ signés en 2019.

| Année | Montant des contrats |
|---|---|
| 2019 | 4 millions d'euros |

Voir [le communiqué](http://exemple.fr/communique) du parquet.
"""

HTML = """<html><head><title>Programme régional de rénovation</title></head><body><article>
<h1>Programme régional de rénovation</h1>
<h5><em>Malgré les acquis réalisés…</em></h5>
<p>La Région Normandie a consacré <strong>35 millions d'euros</strong> à la rénovation énergétique des lycées
normands en 2022, selon <em>Ouest-France</em>.</p>
<p>Les travaux de rénovation énergétique des lycées ont commencé à Alençon et à Dieppe au printemps.</p>
</article></body></html>"""

MESSAGE = """Bonjour à tous,

Vous trouverez en pièce jointe la note sur le réseau de chaleur de Caen et ses logements.

Le réseau de chaleur de Caen dessert 8 000 logements depuis 2018 grâce à la chaufferie biomasse.
"""

BRIEF = """La métropole de Rouen a lancé un réseau de chaleur urbain au bois en 2020 dans le quartier Flaubert.
Ce dernier alimente désormais 12 000 logements du quartier en chaleur renouvelable.

… accompagne le projet de réseau de chaleur de la métropole pour les logements sociaux du quartier.
"""

# Three pages of a report drawn line by line, the fact asked for on page 3, broken across two lines.
FILLER = ("Le comité régional de l'emploi a présenté son bilan annuel aux élus et aux partenaires sociaux "
          "du département. ")
FACT = "Le port de Granville a accueilli 1 250 escales de navires de pêche en 2023."
SCAN_LINES = ["Note d'information", "La station de Saint-Lô distribue", "chaque jour 95 kilogrammes",
              "d'hydrogène aux bus de la ville.", "Elle a ouvert ses portes en 2021."]


def _lines(text: str, width: int = 48) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return lines + [current]


def report_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pages = [FILLER * 2, FILLER.replace("annuel", "semestriel") * 2,
             FILLER.replace("annuel", "trimestriel") + FACT]
    for text in pages:
        c.setFont("Helvetica", 11)
        for row, line in enumerate(_lines(text)):
            c.drawString(72, 760 - row * 14, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def scanned_pdf() -> bytes:
    """A scan with widely spaced lines: Tesseract reads each line as a paragraph of its own."""
    from PIL import Image, ImageDraw

    page = Image.new("L", (int(8.27 * SCAN_DPI), int(11.69 * SCAN_DPI)), 255)
    draw = ImageDraw.Draw(page)
    font = _font(int(11 / 72 * SCAN_DPI))
    for row, line in enumerate(SCAN_LINES):
        draw.text((int(0.9 * SCAN_DPI), int(0.9 * SCAN_DPI) + row * int(11 / 72 * SCAN_DPI * 3.2)), line,
                  fill=20, font=font)
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=SCAN_DPI)
    return buf.getvalue()


@pytest.fixture(scope="module")
def home(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    root = tmp_path_factory.mktemp("read-as-written")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "note-elysee.md").write_text(MARKDOWN, encoding="utf-8")
    (corpus / "renovation.html").write_text(HTML, encoding="utf-8")
    (corpus / "message.txt").write_text(MESSAGE, encoding="utf-8")
    (corpus / "chaleur-rouen.txt").write_text(BRIEF, encoding="utf-8")
    (corpus / "rapport-emploi.pdf").write_bytes(report_pdf())
    if shutil.which("tesseract"):
        (corpus / "station-scannee.pdf").write_bytes(scanned_pdf())
    settings = Settings(home=root / "home", models_path=models_dir)
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.count("added") == len(list(corpus.iterdir())), report.as_dict()
    return settings


@pytest.fixture(scope="module")
def assistant(home, embedder):
    from assistant.service import Assistant

    return Assistant(home, embedder=embedder)


MARKS = re.compile(r"\*\*|(?<!\w)[*_]\w|\w[*_](?!\w)|^#|\n#|`|\|\s*-{3}|\]\(")


def test_markdown_and_formatted_pages_are_stored_searched_and_quoted_as_text(assistant):
    store = assistant.store
    docs = [store.document(d["doc_id"]) for d in store.documents()]
    assert len(docs) >= 5
    for doc in docs:
        assert not MARKS.search(doc["text"]), doc["text"]
    assert not [row["heading"] for row in store.all_chunk_rows() if MARKS.search(row["heading"] or "")]
    answer = assistant.ask("Quelle enquête le parquet national financier a-t-il ouverte sur les contrats ?")
    assert not answer.refused, answer.answer
    assert "le parquet national financier (PNF) a ouvert une enquête" in answer.answer
    assert "Selon Mediapart" in answer.answer
    shown = answer.answer + " ".join(c.quote + c.context + c.title for c in answer.citations)
    assert not MARKS.search(shown), shown
    assert "Note de veille… Affaire des contrats de l'Élysée" in answer.citations[0].title
    # The table reads as a row; a mark is never a term of the index: « _Arpège » was the term « _arpeg ».
    context = answer.citations[0].context
    assert "Année : 2019 ; Montant des contrats : 4 millions d'euros" in context
    from veille.text import tokens

    assert tokens("_Arpège Conseil_") != tokens("Arpège Conseil")  # what the mark did to the index
    assert store.lexical_search(tokens("Arpège"), top_k=5)

    page = assistant.ask("Combien la Région Normandie a-t-elle consacré à la rénovation énergétique des lycées ?")
    assert not page.refused, page.answer
    assert page.answer.startswith("La Région Normandie a consacré 35 millions d'euros"), page.answer
    assert not MARKS.search(page.answer + page.citations[0].quote)


def test_headings_lose_their_marks_but_stay_headings_for_the_chunker():
    from ingestion.chunk import chunk_text
    from ingestion.extract import extract_markdown
    from ingestion.normalize import clean_document

    long_question = "Que reproche le parquet national financier aux contrats signés par la société en 2019 ?"
    extracted = extract_markdown(f"# Affaire\n\n## {long_question}\n" + "Le parquet examine les contrats. " * 60)
    text, pages, headings = clean_document(extracted.text, extracted.pages)
    assert "#" not in text and text.startswith(f"Affaire\n\n{long_question}\n\nLe parquet") and pages == []
    assert [text[h:].split("\n", 1)[0] for h in headings] == ["Affaire", long_question]
    chunks = chunk_text(text, 160, 1, headings)
    assert len(chunks) > 1 and {c.heading for c in chunks[1:]} == {long_question}
    # Without the marks' places, a question that long on its own line would not be taken for a heading.
    assert {c.heading for c in chunk_text(text, 160, 1)[1:]} == {"Affaire"}


def test_a_greeting_or_a_covering_formula_is_never_the_answer(assistant):
    answer = assistant.ask("Combien de logements le réseau de chaleur de Caen dessert-il ?")
    assert not answer.refused, answer.answer
    assert answer.answer.startswith("Le réseau de chaleur de Caen dessert 8 000 logements"), answer.answer
    assert "Bonjour" not in answer.answer and "pièce jointe" not in answer.answer


def test_a_sentence_that_leans_on_the_one_before_is_given_with_it_or_not_at_all(assistant):
    from watch.brief import make_brief

    answer = assistant.ask("Combien de logements le réseau de chaleur de Rouen alimente-t-il ?")
    assert not answer.refused, answer.answer
    assert answer.answer.startswith("La métropole de Rouen a lancé un réseau de chaleur urbain au bois en 2020 "
                                    "dans le quartier Flaubert. Ce dernier alimente"), answer.answer
    note = make_brief(assistant, "réseau de chaleur des logements de la métropole de Rouen")
    assert not note.empty
    opening = note.overview.lstrip()
    assert not opening.startswith(("…", "Ce dernier", "accompagne")), opening
    assert "… accompagne" not in note.overview and not any(
        p.text.startswith(("…", "Ce dernier")) for t in note.themes for p in t.points)
    assert "Ce dernier alimente" not in note.markdown() or "quartier Flaubert. Ce dernier alimente" in note.markdown()


def test_a_pdf_fact_on_page_3_is_cited_on_page_3(assistant):
    answer = assistant.ask("Combien d'escales de navires de pêche le port de Granville a-t-il accueillies en 2023 ?")
    assert not answer.refused, answer.answer
    assert FACT in answer.answer, answer.answer  # the line break inside the sentence is a space
    cited = answer.citations[0]
    assert cited.pages_label() == "p. 3", (cited.pages_label(), cited.char_start, cited.page_end)
    passage_pages = assistant.store.chunk_pages(cited.chunk_id)
    assert passage_pages[0] < 3  # the passage itself starts earlier: the page is the sentence's own


@pytest.mark.skipif(not shutil.which("tesseract"), reason="Tesseract absent (paquets tesseract-ocr tesseract-ocr-fra)")
def test_a_scan_read_by_ocr_is_cut_into_sentences_not_lines(assistant):
    answer = assistant.ask("Quelle station distribue de l'hydrogène aux bus ?")
    assert not answer.refused, answer.answer
    assert answer.answer.startswith("La station de Saint-Lô distribue chaque jour 95 kilogrammes d'hydrogène aux "
                                    "bus de la ville."), answer.answer
    assert answer.citations[0].pages_label() == "p. 1 (OCR)"
