"""Files of every format with a known true date, each made by the library that writes the format (python-docx,
python-pptx, openpyxl, odfpy, reportlab + pypdf, the standard ``email`` module, plain HTML and Markdown): what
``scripts/bench_dates.py`` measures the dating on, and what tests/test_dating.py ingests.

Each sample says its true date, where that date is (the evidence ingestion/dating.py should name), and the date
the format alone gave before dating weighed the evidence (python-docx's template stamp, htmldate's extensive
search…)."""
from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

_BODY = ("La filière laitière normande investit dans la transformation locale du lait. Les coopératives du "
         "Cotentin annoncent de nouveaux ateliers de fromagerie et recrutent des techniciens. ")
# The modification time given to every sample file: the last evidence, the true date when nothing else says one.
FILE_DAY = dt.date(2025, 2, 10)


@dataclass
class DatedSample:
    name: str  # file name, which says the format
    case: str  # what the file holds, in French (the benchmark's table)
    true_date: str | None
    evidence: str  # the date source that should be found (veille.dates.DATE_SOURCES)
    data: bytes


def _docx(lines: list[str], created: dt.datetime | None = None) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    if created is not None:
        document.core_properties.created = document.core_properties.modified = created
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pptx(lines: list[str]) -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = lines[0]
    slide.placeholders[1].text = "\n".join(lines[1:])
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _xlsx(rows: list[list[str]], created: dt.datetime) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.properties.created = book.properties.modified = created
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _odt(lines: list[str], created: str | None = None) -> bytes:
    from odf import meta
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()
    if created:
        doc.meta.addElement(meta.CreationDate(text=created))
    for line in lines:
        doc.text.addElement(P(text=line))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _pdf(lines: list[str], info_date: str | None) -> bytes:
    """reportlab writes the page (and today as its creation date); pypdf then sets the info dictionary as
    asked: ``info_date`` (« D:20240115093000 ») or no date at all."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    raw = io.BytesIO()
    page = canvas.Canvas(raw, pagesize=A4)
    y = 800
    for line in lines:
        page.drawString(60, y, line)
        y -= 18
    page.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw.getvalue())))
    writer.metadata = None
    writer.add_metadata({"/Title": lines[0], **({"/CreationDate": info_date, "/ModDate": info_date}
                                                if info_date else {})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _eml(subject: str, body: str, sent: dt.datetime) -> bytes:
    message = EmailMessage()
    message["From"] = "Observatoire <veille@observatoire.example>"
    message["To"] = "equipe@region.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message.set_content(body)
    return bytes(message)


def _html(head: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'>{head}<title>Filière laitière</title></head><body><article>"
            f"<h1>Filière laitière</h1>{body}<p>{_BODY * 4}</p></article>"
            "<footer>© 2019 Région Normandie — mentions légales</footer></body></html>").encode("utf-8")


def dated_samples() -> list[DatedSample]:
    """One sample per format and kind of evidence, its true date known."""
    utc = dt.timezone.utc
    return [
        DatedSample("note-hydrogene.docx", "DOCX python-docx, « Note du 3 novembre 2025 » en tête", "2025-11-03", "text",
                    _docx(["Note du 3 novembre 2025", "Plan régional hydrogène", _BODY])),
        DatedSample("note-laitiere.odt", "ODT odfpy sans date, « Rouen, le 12 mars 2024 »", "2024-03-12", "text",
                    _odt(["Rouen, le 12 mars 2024", "La filière laitière", _BODY])),
        DatedSample("bilan-2024.docx", "DOCX aux propriétés enregistrées (6 mai 2024), texte sans date", "2024-05-06",
                    "properties", _docx(["Bilan de la filière", _BODY], dt.datetime(2024, 5, 6, 10, 30))),
        DatedSample("gabarit.docx", "DOCX python-docx (gabarit 23/12/2013), texte sans date",
                    FILE_DAY.isoformat(), "file", _docx(["Point d'étape de la filière", _BODY])),
        DatedSample("fiche.odt", "ODT aux propriétés (1er juin 2023), texte sans date", "2023-06-01", "properties",
                    _odt(["Fiche filière", _BODY], created="2023-06-01T09:00:00")),
        DatedSample("comite.pptx", "PPTX python-pptx (gabarit 2013), « Comité du 4 décembre 2025 »", "2025-12-04",
                    "text", _pptx(["Comité du 4 décembre 2025", "Ordre du jour : filière laitière",
                                   "Point sur les investissements"])),
        DatedSample("tableau.xlsx", "XLSX openpyxl aux propriétés (15 septembre 2025)", "2025-09-15", "properties",
                    _xlsx([["Département", "Collecte"], ["Manche", "1 200"], ["Orne", "800"]],
                          dt.datetime(2025, 9, 15, 8, 0))),
        DatedSample("rapport-info.pdf", "PDF à date d'information (15 janvier 2024), texte sans date", "2024-01-15",
                    "properties", _pdf(["Rapport sur la filière laitière", _BODY[:90]], "D:20240115093000+01'00'")),
        DatedSample("communique.pdf", "PDF sans date d'information, « Paris, le 5 février 2025 »", "2025-02-05",
                    "text", _pdf(["Paris, le 5 février 2025", "Communiqué de presse", _BODY[:90]], None)),
        DatedSample("sans-date.pdf", "PDF sans date d'information ni date dans le texte", FILE_DAY.isoformat(), "file",
                    _pdf(["Communiqué de presse", _BODY[:90]], None)),
        DatedSample("message.eml", "Courriel (Date : 14 octobre 2025), « réunion du 2 juin 2024 » en tête",
                    "2025-10-14", "message", _eml("Compte rendu de la réunion du 2 juin 2024", _BODY,
                                                  dt.datetime(2025, 10, 14, 9, 12, tzinfo=utc))),
        DatedSample("page-meta.html", "Page HTML à métadonnée article:published_time (3 novembre 2025)",
                    "2025-11-03", "page", _html('<meta property="article:published_time" '
                                                'content="2025-11-03T08:00:00+01:00">', "")),
        DatedSample("page-texte.html", "Page HTML sans métadonnée, « Caen, le 7 octobre 2025 » en tête",
                    "2025-10-07", "text", _html("", "<p>Caen, le 7 octobre 2025</p>")),
        DatedSample("page-nue.html", "Page HTML sans métadonnée ni date, pied « © 2019 »", FILE_DAY.isoformat(),
                    "file", _html("", "<p>Les éleveurs de l'Orne se regroupent pour vendre en circuit court.</p>")),
        DatedSample("note.md", "Markdown à en-tête YAML (date: 2025-12-01)", "2025-12-01", "user",
                    ("---\ntitle: Note laitière\ndate: 2025-12-01\n---\n\n# Note laitière\n\n" + _BODY).encode()),
        DatedSample("compte-rendu.txt", "Texte « Compte rendu de la réunion du 7 juin 2019 »", "2019-06-07", "text",
                    ("Compte rendu de la réunion du 7 juin 2019\n\n" + _BODY).encode()),
    ]


def write_samples(folder: Path, samples: list[DatedSample] | None = None) -> list[tuple[DatedSample, Path]]:
    """The samples written under ``folder``, each modified on ``FILE_DAY`` (noon, local time)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.combine(FILE_DAY, dt.time(12)).timestamp()
    out = []
    for sample in samples or dated_samples():
        path = folder / sample.name
        path.write_bytes(sample.data)
        os.utime(path, (stamp, stamp))
        out.append((sample, path))
    return out
