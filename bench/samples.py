"""Sample files of every supported format, generated from a known text (tests and ``bench``).

Nothing is downloaded or committed: each sample is written by the library that writes the format
(python-docx, python-pptx, openpyxl, odfpy, reportlab, Pillow, the standard ``email``/``zipfile``
modules), so the text an extractor should find is known exactly. Writing needs the test extras
(reportlab, msoffcrypto-tool) besides the default install."""
from __future__ import annotations

import io
import os
import random
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

_SUBJECTS = ["l'emploi salarié", "le chiffre d'affaires des PME", "l'investissement industriel",
             "le nombre de créations d'entreprises", "la fréquentation touristique", "l'export agroalimentaire",
             "la production de lait", "le trafic portuaire", "le nombre d'apprentis", "la dépense de recherche",
             "la capacité éolienne installée", "le nombre de brevets déposés", "l'activité du bâtiment",
             "la surface de bureaux commercialisée", "le nombre de nuitées hôtelières"]
_VERBS = ["a progressé de", "a reculé de", "s'est stabilisé autour de", "a augmenté de", "a diminué de",
          "a gagné", "a perdu"]
_PLACES = ["la Manche", "le Calvados", "l'Orne", "l'Eure", "la Seine-Maritime", "la métropole rouennaise",
           "l'agglomération caennaise", "le Havre Seine Métropole", "le Cotentin", "le pays de Bray",
           "la vallée de la Bresle", "le Perche ornais"]
_SOURCES = ["l'Insee", "la Banque de France", "la chambre régionale de commerce et d'industrie",
            "l'observatoire régional de l'emploi", "l'agence de développement régionale", "la direction régionale "
            "de l'économie", "le comité régional du tourisme", "la chambre régionale d'agriculture"]
_FOLLOW = ["Cette évolution s'explique surtout par la reprise des commandes publiques et privées.",
           "Les entreprises interrogées anticipent une poursuite de cette tendance au semestre suivant.",
           "Les difficultés de recrutement restent toutefois le premier frein cité par les dirigeants.",
           "La hausse des coûts de l'énergie pèse encore sur les marges des établissements industriels.",
           "Les collectivités accompagnent ce mouvement par des aides ciblées à l'innovation.",
           "Le repli concerne d'abord les établissements de moins de dix salariés."]


def sentences(seed: int, n: int) -> list[str]:
    """``n`` distinct French watch-report sentences (a different seed gives different ones)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        year = rng.randint(2015, 2024)
        amount = f"{rng.randint(1, 19)},{rng.randint(0, 9)} %"
        out.append(f"En {year}, {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {amount} dans {rng.choice(_PLACES)}, "
                   f"selon {rng.choice(_SOURCES)}.")
        if rng.random() < 0.35:
            out.append(rng.choice(_FOLLOW))
    return out


def paragraphs(seed: int, n: int, per: int = 3) -> list[str]:
    flat = sentences(seed, n * per)
    return [" ".join(flat[i * per:(i + 1) * per]) for i in range(n)]


INDICATORS = [["Territoire", "Population", "Taux de chômage", "Créations d'entreprises"],
              ["Calvados", "702 945", "7,1 %", "6 512"], ["Manche", "495 045", "6,2 %", "3 904"],
              ["Orne", "279 942", "7,4 %", "2 011"], ["Eure", "599 507", "7,8 %", "5 117"],
              ["Seine-Maritime", "1 255 633", "8,9 %", "11 802"]]


def table_known(rows: list[list[str]]) -> str:
    return "\n".join(" ".join(row) for row in rows)


@dataclass
class Sample:
    name: str  # file name, its extension telling the format
    family: str  # row of the benchmark table
    data: bytes
    text: str  # the text an extractor should find, in reading order
    pages: list[str] = field(default_factory=list)  # the same, page by page (paged formats)
    meta: dict = field(default_factory=dict)  # title / author / date the file carries
    ocr: bool = False


@dataclass
class Broken:
    name: str
    data: bytes
    reason: str  # a fragment of the French reason the report must give


AUTHOR = "Observatoire régional de l'économie"
DATE = datetime(2023, 5, 15, 9, 30)


# --- Office Open XML ----------------------------------------------------------------------------------------
def docx_sample(seed: int = 1000, title: str = "Note de conjoncture régionale",
                name: str = "note-conjoncture.docx") -> Sample:
    import docx

    paras = paragraphs(seed, 4)
    doc = docx.Document()
    doc.core_properties.title, doc.core_properties.author = title, AUTHOR
    doc.core_properties.created = doc.core_properties.modified = DATE
    doc.add_heading(title, level=1)
    doc.add_paragraph(paras[0])
    doc.add_heading("Indicateurs par département", level=2)
    table = doc.add_table(rows=0, cols=len(INDICATORS[0]))
    for row in INDICATORS:
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = value
    doc.add_heading("Perspectives", level=2)
    for p in paras[1:3]:
        doc.add_paragraph(p)
    items = sentences(seed + 100, 3)
    for item in items:
        doc.add_paragraph(item, style="List Bullet")
    doc.add_paragraph(paras[3])
    buf = io.BytesIO()
    doc.save(buf)
    known = "\n".join([title, paras[0], "Indicateurs par département", table_known(INDICATORS), "Perspectives",
                       *paras[1:3], *items, paras[3]])
    return Sample(name, "docx", buf.getvalue(), known,
                  meta={"title": title, "author": AUTHOR, "date": "2023-05-15"})


def pptx_sample(seed: int = 2000) -> Sample:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    deck.core_properties.title, deck.core_properties.author = "Rencontres de la filière numérique", AUTHOR
    deck.core_properties.created = DATE
    known = []
    slides = [("Rencontres de la filière numérique", sentences(seed, 2)), ("Chiffres clés", sentences(seed + 1, 3)),
              ("Prochaines étapes", sentences(seed + 2, 2))]
    for i, (title, bullets) in enumerate(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for b in bullets[1:]:
            body.add_paragraph().text = b
        known += [title, *bullets]
        if i == 1:
            rows = INDICATORS[:3]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(0.5), Inches(5), Inches(9), Inches(1.5))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = value
            known.append(table_known(rows))
    buf = io.BytesIO()
    deck.save(buf)
    return Sample("rencontres-numerique.pptx", "pptx", buf.getvalue(), "\n".join(known),
                  meta={"title": "Rencontres de la filière numérique", "author": AUTHOR, "date": "2023-05-15"})


def xlsx_sample() -> Sample:
    import openpyxl

    book = openpyxl.Workbook()
    book.properties.title, book.properties.creator, book.properties.created = "Indicateurs socio-économiques", \
        AUTHOR, DATE
    sheet = book.active
    sheet.title = "Départements"
    for row in INDICATORS:
        sheet.append(row)
    second = book.create_sheet("Emploi")
    jobs = [["Secteur", "Emplois 2022", "Évolution"], ["Industrie", 178400, 0.012], ["Construction", 71250, -0.004],
            ["Tertiaire marchand", 412300, 0.021]]
    for row in jobs:
        second.append(row)
    for cell in second["C"][1:]:
        cell.number_format = "0.0%"
    buf = io.BytesIO()
    book.save(buf)
    shown = [jobs[0], ["Industrie", "178400", "1,2 %"], ["Construction", "71250", "-0,4 %"],
             ["Tertiaire marchand", "412300", "2,1 %"]]
    known = "\n".join(["Départements", table_known(INDICATORS), "Emploi", table_known(shown)])
    return Sample("indicateurs.xlsx", "xlsx", buf.getvalue(), known,
                  meta={"title": "Indicateurs socio-économiques", "author": AUTHOR, "date": "2023-05-15"})


# --- OpenDocument -------------------------------------------------------------------------------------------
def _odf_meta(doc, title: str) -> None:
    from odf import dc, meta

    doc.meta.addElement(dc.Title(text=title))
    doc.meta.addElement(meta.InitialCreator(text=AUTHOR))
    doc.meta.addElement(meta.CreationDate(text=DATE.isoformat()))


def _odf_table(rows: list[list[str]]):
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    table = Table(name="Indicateurs")
    table.addElement(TableColumn(numbercolumnsrepeated=len(rows[0])))
    for row in rows:
        tr = TableRow()
        table.addElement(tr)
        for value in row:
            cell = TableCell()
            cell.addElement(P(text=value))
            tr.addElement(cell)
    return table


def _odf_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def odt_sample(seed: int = 3000) -> Sample:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, List, ListItem, P

    title = "Bulletin de veille de l'industrie"
    paras = paragraphs(seed, 3)
    items = sentences(seed + 100, 2)
    doc = OpenDocumentText()
    _odf_meta(doc, title)
    doc.text.addElement(H(outlinelevel=1, text=title))
    doc.text.addElement(P(text=paras[0]))
    doc.text.addElement(H(outlinelevel=2, text="Chiffres du trimestre"))
    doc.text.addElement(_odf_table(INDICATORS))
    doc.text.addElement(P(text=paras[1]))
    lst = List()
    for item in items:
        li = ListItem()
        li.addElement(P(text=item))
        lst.addElement(li)
    doc.text.addElement(lst)
    doc.text.addElement(P(text=paras[2]))
    known = "\n".join([title, paras[0], "Chiffres du trimestre", table_known(INDICATORS), paras[1], *items, paras[2]])
    return Sample("bulletin-industrie.odt", "odt", _odf_bytes(doc), known,
                  meta={"title": title, "author": AUTHOR, "date": "2023-05-15"})


def odp_sample(seed: int = 4000) -> Sample:
    from odf.draw import Frame, Page, TextBox
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    doc = OpenDocumentPresentation()
    layout = PageLayout(name="Mise")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Maitre", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    _odf_meta(doc, "Atelier export agroalimentaire")
    known = []
    for title, lines in [("Atelier export agroalimentaire", sentences(seed, 2)),
                         ("Marchés cibles", sentences(seed + 1, 3))]:
        page = Page(masterpagename=master)
        doc.presentation.addElement(page)
        frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
        frame.setAttrNS(PRESENTATIONNS, "class", "title")
        box = TextBox()
        box.addElement(P(text=title))
        frame.addElement(box)
        page.addElement(frame)
        body = Frame(width="20cm", height="12cm", x="1cm", y="5cm")
        body.setAttrNS(PRESENTATIONNS, "class", "outline")
        box = TextBox()
        for line in lines:
            box.addElement(P(text=line))
        body.addElement(box)
        page.addElement(body)
        known += [title, *lines]
    return Sample("atelier-export.odp", "odp", _odf_bytes(doc), "\n".join(known),
                  meta={"title": "Atelier export agroalimentaire", "author": AUTHOR, "date": "2023-05-15"})


def ods_sample() -> Sample:
    from odf.opendocument import OpenDocumentSpreadsheet

    doc = OpenDocumentSpreadsheet()
    _odf_meta(doc, "Tableau de bord territorial")
    doc.spreadsheet.addElement(_odf_table(INDICATORS))
    return Sample("tableau-de-bord.ods", "ods", _odf_bytes(doc), "\n".join(["Indicateurs", table_known(INDICATORS)]),
                  meta={"title": "Tableau de bord territorial", "author": AUTHOR, "date": "2023-05-15"})


def csv_sample() -> Sample:
    rows = [["Commune", "Population", "Emplois", "Part des cadres"], ["Caen", "105 403", "98 120", "21,4 %"],
            ["Rouen", "114 083", "107 560", "19,8 %"], ["Le Havre", "166 462", "85 210", "12,3 %"],
            ["Cherbourg-en-Cotentin", "78 549", "41 870", "11,9 %"], ["Évreux", "46 707", "38 990", "13,2 %"]]
    data = "\r\n".join(";".join(row) for row in rows).encode("cp1252")  # as a French spreadsheet exports it
    return Sample("communes.csv", "csv", data, table_known(rows))


# --- e-mail ---------------------------------------------------------------------------------------------------
def _message(subject: str, body: str, sender: str = "Lettre de veille <veille@observatoire.example>",
             attachments: list[tuple[str, bytes, str]] = (), html: str | None = None, day: int = 15) -> bytes:

    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "cellule@region.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2023, 5, day, 8, 0).astimezone())
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def eml_sample(seed: int = 5000) -> tuple[Sample, Sample]:
    """A newsletter (plain + HTML alternative) with a Word note attached: the message and its attachment."""
    paras = paragraphs(seed, 3)
    subject = "Lettre de veille n° 42 : conjoncture de mai"
    html = "<html><body>" + "".join(f"<p>{p}</p>" for p in paras) + "</body></html>"
    note = docx_sample(seed + 50, "Note jointe sur l'emploi régional", "note-emploi.docx")
    data = _message(subject, "\n\n".join(paras), html=html,
                    attachments=[(note.name, note.data, "application/vnd.openxmlformats-officedocument."
                                                        "wordprocessingml.document")])
    message = Sample("lettre-veille.eml", "eml", data, "\n".join([subject, *paras]),
                     meta={"title": subject, "author": "Lettre de veille", "date": "2023-05-15"})
    return message, note


def mbox_sample(seed: int = 6000) -> tuple[Sample, list[str]]:
    """A mailbox of two messages, the second with a CSV attached; the known text of each document."""
    first, second = paragraphs(seed, 2), paragraphs(seed + 1, 2)
    csv_part = csv_sample()
    box = b""
    texts = []
    for i, (subject, paras, attach) in enumerate([("Point mensuel sur l'emploi", first, []),
                                                   ("Données communales à jour", second,
                                                    [(csv_part.name, csv_part.data, "text/csv")])]):
        data = _message(subject, "\n\n".join(paras), attachments=attach, day=10 + i)
        box += b"From veille@observatoire.example Mon May 15 08:00:00 2023\n" + data.replace(b"\r\n", b"\n") + b"\n"
        texts.append("\n".join([subject, *paras]))
    texts.append(csv_part.text)
    return Sample("boite-veille.mbox", "mbox", box, "\n".join(texts)), texts


# --- EPUB, RTF ------------------------------------------------------------------------------------------------
def epub_sample(seed: int = 7000) -> Sample:
    chapters = [("Introduction", paragraphs(seed, 2)), ("Les filières d'avenir", paragraphs(seed + 1, 2))]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:'
                   'tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type='
                   '"application/oebps-package+xml"/></rootfiles></container>')
        manifest, spine = [], []
        for i, (title, paras) in enumerate(chapters, 1):
            body = f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paras)
            z.writestr(f"OEBPS/chap{i}.xhtml", f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/'
                       f'1999/xhtml"><head><title>{title}</title></head><body>{body}</body></html>')
            manifest.append(f'<item id="c{i}" href="chap{i}.xhtml" media-type="application/xhtml+xml"/>')
            spine.append(f'<itemref idref="c{i}"/>')
        z.writestr("OEBPS/content.opf", '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/'
                   '2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
                   '<dc:identifier id="id">veille-16</dc:identifier><dc:title>Panorama des filières normandes</dc:title>'
                   f'<dc:creator>{AUTHOR}</dc:creator><dc:date>2023-05-15</dc:date><dc:language>fr</dc:language>'
                   f'</metadata><manifest>{"".join(manifest)}</manifest><spine>{"".join(spine)}</spine></package>')
    known = "\n".join(line for title, paras in chapters for line in [title, *paras])
    return Sample("panorama-filieres.epub", "epub", buf.getvalue(), known,
                  meta={"title": "Panorama des filières normandes", "author": AUTHOR, "date": "2023-05-15"})


def _rtf_escape(text: str) -> str:
    return "".join(c if ord(c) < 128 else f"\\u{ord(c) if ord(c) < 32768 else ord(c) - 65536}?" for c in text)


def rtf_sample(seed: int = 8000) -> Sample:
    title = "Compte rendu du comité de filière"
    paras = paragraphs(seed, 3)
    rows = INDICATORS[:3]
    body = [f"{{\\pard\\s1\\outlinelevel0\\b {_rtf_escape(title)}\\b0\\par}}"]
    body += [f"{{\\pard {_rtf_escape(paras[0])}\\par}}", f"{{\\pard {_rtf_escape(paras[1])}\\par}}"]
    for row in rows:
        cells = "".join(f"\\cellx{2000 * (j + 1)}" for j in range(len(row)))
        body.append(f"\\trowd{cells} " + "".join(f"{_rtf_escape(c)}\\cell " for c in row) + "\\row")
    body.append(f"{{\\pard {_rtf_escape(paras[2])}\\par}}")
    rtf = ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}{\\info{\\title " + _rtf_escape(title) +
           "}{\\author " + _rtf_escape(AUTHOR) + "}{\\creatim\\yr2023\\mo5\\dy15\\hr9\\min30}}\n" + "\n".join(body) + "}")
    known = "\n".join([title, paras[0], paras[1], table_known(rows), paras[2]])
    return Sample("compte-rendu.rtf", "rtf", rtf.encode("ascii"), known,
                  meta={"title": title, "author": AUTHOR, "date": "2023-05-15"})


# --- PDF: two columns, running header and footer, hyphenated line ends ----------------------------------------
PDF_HEADER = "Observatoire régional de l'économie · Rapport annuel 2023"
PDF_TITLE = "Rapport annuel de conjoncture régionale"


def _line(queue: list[str], width: float, measure, may_hyphenate: bool) -> tuple[str, bool]:
    """Take the words of one line off ``queue``; a long word that does not fit is hyphenated when allowed."""
    current: list[str] = []
    while queue:
        word = queue[0]
        if not current or measure(" ".join(current + [word])) <= width:
            current.append(queue.pop(0))
            continue
        if may_hyphenate and len(word) >= 9 and word.isalpha():
            for cut in range(len(word) - 4, 3, -1):
                if measure(" ".join(current + [word[:cut] + "-"])) <= width:
                    queue[0] = word[cut:]
                    return " ".join(current + [word[:cut] + "-"]), True
        break
    return " ".join(current), False


def pdf_sample(seed: int = 9000, pages: int = 3) -> Sample:
    """A report laid out in two columns with a running header and a page footer on every page, and words
    hyphenated at line ends (never at the foot of a column, so each word belongs to one page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    width, height = A4
    margin, gutter, size, leading, per_column = 56, 24, 10, 13, 22
    col_width = (width - 2 * margin - gutter) / 2
    measure = lambda s: stringWidth(s, "Helvetica", size)  # noqa: E731
    queue = " ".join(paragraphs(seed, 40, per=2)).split()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(PDF_TITLE)
    c.setAuthor(AUTHOR)
    known_pages: list[str] = []
    for number in range(1, pages + 1):
        words: list[str] = []
        c.setFont("Helvetica", 8)
        c.drawString(margin, height - 36, PDF_HEADER)
        c.drawCentredString(width / 2, 30, f"Page {number} sur {pages}")
        top = height - 80
        if number == 1:
            c.setFont("Helvetica-Bold", 16)
            c.drawString(margin, top, PDF_TITLE)
            words += PDF_TITLE.split()
            top -= 36
        c.setFont("Helvetica", size)
        columns = [[_line(queue, col_width, measure, may_hyphenate=row < per_column - 1)[0]
                    for row in range(per_column)] for _ in range(2)]
        for column in columns:
            words += " ".join(column).split()
        # Drawn row by row across both columns, as some producers do: the content stream's order is not
        # the reading order, which an extractor must rebuild from positions.
        for row in range(per_column):
            for index, column in enumerate(columns):
                if column[row]:
                    c.drawString(margin + index * (col_width + gutter), top - row * leading, column[row])
        c.showPage()
        known_pages.append(_unhyphenate(words))
    c.save()
    return Sample("rapport-conjoncture.pdf", "pdf (2 colonnes)", buf.getvalue(), "\n".join(known_pages),
                  pages=known_pages, meta={"title": PDF_TITLE, "author": AUTHOR})


def _unhyphenate(words: list[str]) -> str:
    out: list[str] = []
    joined = False
    for word in words:
        if joined:
            out[-1] = out[-1][:-1] + word
        else:
            out.append(word)
        joined = word.endswith("-") and word[:-1].isalpha() and len(word) > 4
    return " ".join(out)


# --- scans: known text rendered at 200 dpi ----------------------------------------------------------------------
SCAN_DPI = 200


def _font(size: int):
    from PIL import ImageFont

    try:
        import matplotlib

        return ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf"), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size)


def scan_page(lines: list[str]):
    """An A4 page at 200 dpi holding ``lines`` in an 11-point font, as a scanner gives it (greyscale)."""
    from PIL import Image, ImageDraw

    page = Image.new("L", (int(8.27 * SCAN_DPI), int(11.69 * SCAN_DPI)), 255)
    draw = ImageDraw.Draw(page)
    font = _font(int(11 / 72 * SCAN_DPI))
    y = int(0.9 * SCAN_DPI)
    for line in lines:
        draw.text((int(0.9 * SCAN_DPI), y), line, fill=20, font=font)
        y += int(11 / 72 * SCAN_DPI * 1.6)
    return page


def _scan_lines(seed: int, n: int) -> list[str]:
    words = " ".join(sentences(seed, n)).split()
    lines, current = [], []
    for word in words:
        if len(" ".join(current + [word])) > 70:
            lines.append(" ".join(current))
            current = []
        current.append(word)
    lines.append(" ".join(current))
    return lines


def scanned_pdf_sample(seed: int = 10000, pages: int = 2) -> Sample:
    texts = [_scan_lines(seed + i, 8) for i in range(pages)]
    images = [scan_page(lines) for lines in texts]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=SCAN_DPI, save_all=True, append_images=images[1:])
    known = [" ".join(lines) for lines in texts]
    return Sample("rapport-scanne.pdf", "pdf scanné (OCR)", buf.getvalue(), "\n".join(known), pages=known, ocr=True)


def image_sample(fmt: str = "png", seed: int = 11000) -> Sample:
    lines = _scan_lines(seed, 6)
    buf = io.BytesIO()
    scan_page(lines).save(buf, fmt.upper() if fmt != "jpg" else "JPEG", dpi=(SCAN_DPI, SCAN_DPI))
    return Sample(f"affiche-scannee.{fmt}", f"{fmt} (OCR)", buf.getvalue(), " ".join(lines), ocr=True)


def tiff_sample(seed: int = 12000) -> Sample:
    texts = [_scan_lines(seed + i, 5) for i in range(2)]
    images = [scan_page(lines) for lines in texts]
    buf = io.BytesIO()
    images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], dpi=(SCAN_DPI, SCAN_DPI),
                   compression="tiff_lzw")
    known = [" ".join(lines) for lines in texts]
    return Sample("courrier-scanne.tiff", "tiff (OCR)", buf.getvalue(), "\n".join(known), pages=known, ocr=True)


# --- all of them, and broken ones ------------------------------------------------------------------------------
def samples(ocr: bool = True) -> list[Sample]:
    """One sample per format (the e-mail's attachment and the mailbox count as their own rows)."""
    message, _ = eml_sample()
    box, _ = mbox_sample()
    out = [docx_sample(), pptx_sample(), xlsx_sample(), odt_sample(), odp_sample(), ods_sample(), csv_sample(),
           message, box, epub_sample(), rtf_sample(), pdf_sample()]
    if ocr:
        out += [scanned_pdf_sample(), image_sample("png"), tiff_sample()]
    return out


def broken_samples() -> list[Broken]:
    """Files a watch cell does receive: each must be skipped with a clear reason, the batch going on."""
    import msoffcrypto.format.ooxml as ooxml
    from pypdf import PdfReader, PdfWriter

    good = docx_sample(seed=20000, title="Note confidentielle")
    encrypted = io.BytesIO()
    ooxml.OOXMLFile(io.BytesIO(good.data)).encrypt("secret", encrypted)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_sample(seed=21000, pages=1).data)))
    writer.encrypt(user_password="secret", owner_password="proprietaire")
    locked = io.BytesIO()
    writer.write(locked)
    bad_mail = _message("Budget prévisionnel 2024", "\n\n".join(paragraphs(22000, 2)))
    bad_mail = _with_bad_attachment(bad_mail)
    return [Broken("note-tronquee.docx", good.data[: len(good.data) // 2], "tronqué"),
            Broken("note-protegee.docx", encrypted.getvalue(), "mot de passe"),
            Broken("rapport-chiffre.pdf", locked.getvalue(), "mot de passe"),
            Broken("budget.eml#budget.xlsx", bad_mail, "base64")]


def _with_bad_attachment(message: bytes) -> bytes:
    """The same message with a spreadsheet attached whose base64 body is damaged in transit."""
    msg = message_from_bytes(message, policy=policy.default)
    msg.add_attachment(b"x" * 10, maintype="application", subtype="vnd.openxmlformats-officedocument."
                       "spreadsheetml.sheet", filename="budget.xlsx")
    data = bytes(msg)
    encoded = __import__("base64").b64encode(b"x" * 10)
    return data.replace(encoded, b"UEsDBBQ@@@@!!!!ZZ*")


def write_samples(folder: Path, ocr: bool = True, broken: bool = False) -> dict[str, Sample | Broken]:
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Sample | Broken] = {}
    for sample in samples(ocr) + (broken_samples() if broken else []):
        name = sample.name.split("#")[0]
        (folder / name).write_bytes(sample.data)
        written[sample.name] = sample
    return written
