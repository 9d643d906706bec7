"""Hostile files of every format Veille reads, written as streams so that each is small on disk and never whole
in memory: zip bombs (DOCX, EPUB), endless text, a giant PDF page, a one-line CSV, a million-row XLSX, a workbook
declaring a billion cells, a PPTX of 100,000 slides, mailboxes with a broken message, a message of 5,000
attachments. Used by tests/test_hostile_files.py (small sizes) and scripts/bench_hostile.py (the issue's sizes)."""
from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CHUNK = 1 << 20


def _docx_skeleton() -> dict[str, bytes]:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        return {n: z.read(n) for n in z.namelist()}


def _rezip(path: Path, members: dict[str, bytes], streamed: dict[str, object]) -> Path:
    """A ZIP of ``members`` plus members written from generators of bytes (never whole in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            if name not in streamed:
                z.writestr(name, data)
        for name, chunks in streamed.items():
            with z.open(name, "w", force_zip64=True) as out:
                for chunk in chunks:
                    out.write(chunk)
    return path


def _paragraphs(count: int, text: str = "Texte de remplissage sans fin. " * 2, varied: bool = False):
    """document.xml of ``count`` paragraphs: the same one (a bomb: deflates ~300×), or numbered ones (text)."""
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>'.encode()
    unit = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()
    per = max(1, CHUNK // len(unit))
    done = 0
    while done < count:
        n = min(per, count - done)
        if varied:
            yield "".join(f"<w:p><w:r><w:t>Paragraphe {done + i} : la filière {(done + i) * 7919 % 104729} "
                          f"signale le marché {(done + i) * 31 % 997}.</w:t></w:r></w:p>" for i in range(n)).encode()
        else:
            yield unit * n
        done += n
    yield b"</w:body></w:document>"


def docx_bomb(path: Path, inflated: int) -> Path:
    """A DOCX whose ``word/document.xml`` inflates to about ``inflated`` bytes."""
    unit_len = len("<w:p><w:r><w:t>" + "Texte de remplissage sans fin. " * 2 + "</w:t></w:r></w:p>")
    return _rezip(path, _docx_skeleton(), {"word/document.xml": _paragraphs(inflated // unit_len)})


def docx_text(path: Path, paragraphs: int) -> Path:
    """A DOCX of ``paragraphs`` paragraphs of text (endless text, under the archive budgets when small)."""
    return _rezip(path, _docx_skeleton(), {"word/document.xml": _paragraphs(paragraphs, varied=True)})


def docx_entity(path: Path) -> Path:
    """A DOCX whose text holds an entity reference declared in a DOCTYPE."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE w:document [<!ENTITY x "rien">]>'
           f"<w:document {W}><w:body><w:p><w:r><w:t>Début &x; fin de la phrase lue.</w:t></w:r></w:p>"
           f"</w:body></w:document>").encode()
    return _rezip(path, {**_docx_skeleton(), "word/document.xml": xml}, {})


def epub_bomb(path: Path, inflated: int) -> Path:
    """An EPUB whose one chapter inflates to about ``inflated`` bytes."""
    container = (b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 b'container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-'
                 b'package+xml"/></rootfiles></container>')
    opf = (b'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Bombe</dc:title></metadata><manifest>'
           b'<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine>'
           b'<itemref idref="c1"/></spine></package>')

    def chapter():
        yield b"<html><body>"
        unit = b"<p>Chapitre sans fin, la meme phrase encore et encore.</p>"
        for _ in range(inflated // (len(unit) * (CHUNK // len(unit))) + 1):
            yield unit * (CHUNK // len(unit))
        yield b"</body></html>"

    return _rezip(path, {"mimetype": b"application/epub+zip", "META-INF/container.xml": container,
                         "OEBPS/content.opf": opf}, {"OEBPS/c1.xhtml": chapter()})


def _write_pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF of these numbered objects (1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def pdf_giant_page(path: Path, inches: int = 200) -> Path:
    """A PDF of one ``inches`` × ``inches`` page drawn full by a one-pixel image (no text: a « scan »)."""
    side = inches * 72
    content = f"q {side} 0 0 {side} 0 0 cm /Im0 Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] /Resources << /XObject << /Im0 5 0 R >> >> "
        f"/Contents 4 0 R >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Length 1 >>\nstream\n\x80\nendstream",
    ]
    return _write_pdf(path, objects)


def csv_one_line(path: Path, cells: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for start in range(0, cells, 100_000):
            fh.write(";".join(f"v{i}" for i in range(start, min(cells, start + 100_000))) + ";")
        fh.write("\n")
    return path


def xlsx_rows(path: Path, rows: int) -> Path:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Données")
    sheet.append(["Entreprise", "Ville", "Effectif"])
    for i in range(rows):
        sheet.append([f"Entreprise {i}", "Rouen", i])
    book.save(path)
    return path


def xlsx_billion_cells(path: Path) -> Path:
    """A workbook whose sheet declares A1:XFD1048576 (17 billion cells) and holds two."""
    import openpyxl

    buffer = io.BytesIO()
    book = openpyxl.Workbook()
    book.active["A1"] = "Début du classeur"
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        members = {n: z.read(n) for n in z.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    import re

    sheet = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', sheet)
    sheet = sheet.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>fin</t></is>'
                                          '</c></row></sheetData>')
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    return _rezip(path, members, {})


def pptx_slides(path: Path, slides: int) -> Path:
    """A PPTX listing ``slides`` slide parts (members over the archive's budget)."""
    import pptx

    buffer = io.BytesIO()
    pptx.Presentation().save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        members = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for i in range(1, slides + 1):
            z.writestr(f"ppt/slides/slide{i}.xml", b"<p:sld/>")
    return path


def _message(subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "cellule@veille.example"
    message["To"] = "filiere@veille.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 03 Nov 2025 09:00:00 +0100"
    message.set_content(body)
    return message


def _many_parts(parts: int) -> bytes:
    boundary = "b0undary"
    head = (f"From: a@veille.example\nSubject: Mille morceaux\nDate: Mon, 03 Nov 2025 09:00:00 +0100\n"
            f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n')
    part = f"--{boundary}\nContent-Type: text/plain\n\nmorceau\n"
    return (head + part * parts + f"--{boundary}--\n").encode()


def _nested(depth: int) -> bytes:
    lines = ["From: a@veille.example", "Subject: Poupées russes", "MIME-Version: 1.0"]
    for level in range(depth):
        lines.append(f'Content-Type: multipart/mixed; boundary="n{level}"\n\n--n{level}')
    lines.append("Content-Type: text/plain\n\nau fond\n")
    lines.extend(f"--n{level}--" for level in reversed(range(depth)))
    return "\n".join(lines).encode()


def mbox_with_bad_message(path: Path, parts: int = 10_000, depth: int = 0) -> Path:
    """Three readable messages and one of ``parts`` MIME parts (or nested ``depth`` deep)."""
    good = [_message(f"Note {i} de la cellule de veille", f"Le pôle Hydrogène Normandie annonce son projet numéro "
                     f"{i} pour les entreprises de la filière.") for i in range(1, 4)]
    bad = _nested(depth) if depth else _many_parts(parts)
    with path.open("wb") as fh:
        for message in (good[0], good[1], None, good[2]):
            fh.write(b"From veille@example Mon Nov  3 09:00:00 2025\n")
            fh.write((message.as_bytes() if message is not None else bad).replace(b"\nFrom ", b"\n>From "))
            fh.write(b"\n\n")
    return path


def eml_attachments(path: Path, attachments: int) -> Path:
    message = _message("Pièces jointes en masse", "Le message porte de très nombreuses pièces jointes de test.")
    for i in range(attachments):
        message.add_attachment(f"Annexe {i} : chiffre d'affaires de la filière.".encode(), maintype="text",
                               subtype="plain", filename=f"annexe-{i}.txt")
    path.write_bytes(message.as_bytes())
    return path


NORMAL_NOTE = ("# Note de la cellule de veille\n\nLe pôle Hydrogène Normandie accompagne la start-up Hydronor "
               "Énergies, qui investit 12 millions d'euros dans une usine d'électrolyseurs au Havre.\n")


def epub_doctype(path: Path) -> Path:
    """An EPUB whose chapter starts with a DOCTYPE and its internal subset (« ]> » must not become text)."""
    container = (b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 b'container"><rootfiles><rootfile full-path="content.opf" media-type="application/oebps-'
                 b'package+xml"/></rootfiles></container>')
    opf = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
           'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Guide export des PME</dc:title></metadata>'
           '<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine>'
           '<itemref idref="c1"/></spine></package>').encode()
    chapter = ('<?xml version="1.0"?><!DOCTYPE html [<!ENTITY nom "Normandie">]><html '
               'xmlns="http://www.w3.org/1999/xhtml"><body><p>Les PME exportatrices de la région trouvent ici '
               'les contacts utiles des chambres de commerce.</p></body></html>').encode()
    return _rezip(path, {"mimetype": b"application/epub+zip", "META-INF/container.xml": container,
                         "content.opf": opf, "c1.xhtml": chapter}, {})


def pdf_recursive(path: Path) -> Path:
    """A PDF whose page tree holds itself (a recursive object graph)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
               b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"]
    return _write_pdf(path, objects)


def docx_image_bomb(path: Path, side: int = 40_000) -> Path:
    """A DOCX carrying a ``side`` × ``side`` PNG (1.6 Go once decoded) beside a line of text."""
    import struct
    import zlib

    def png():
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

        yield b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", side, side, 8, 0, 0, 0, 0))
        squeeze = zlib.compressobj(9)
        row = b"\x00" * (side + 1)
        data = b"".join(squeeze.compress(row * 64) for _ in range(side // 64)) + squeeze.flush()
        yield chunk(b"IDAT", data) + chunk(b"IEND", b"")

    members = _docx_skeleton()
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body><w:p><w:r><w:t>Note illustrée '
           f"d'une image démesurée.</w:t></w:r></w:p></w:body></w:document>").encode()
    return _rezip(path, {**members, "word/document.xml": xml}, {"word/media/image1.png": png()})
