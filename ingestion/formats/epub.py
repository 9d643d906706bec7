"""EPUB (.epub): the chapters in reading order (OPF spine) and the Dublin Core metadata, read with the
standard ZIP module and lxml (EbookLib, the usual library, is AGPL-licensed: not in the default install)."""
from __future__ import annotations

import posixpath
import re

from ingestion.formats.base import Extracted, blocks_text, bounded, metadata, open_zip, properties_date
from ingestion.formats.htmlblocks import html_blocks
from ingestion.limits import TextBudget
from ingestion.read import RawFile, SkipFile

# An XHTML chapter's DOCTYPE, internal subset included: the HTML parser would read « ]> » as text.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.DOTALL | re.IGNORECASE)
_NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container", "opf": "http://www.idpf.org/2007/opf",
       "dc": "http://purl.org/dc/elements/1.1/", "enc": "http://www.w3.org/2001/04/xmlenc#"}
# Font obfuscation (IDPF, Adobe) is declared in encryption.xml too, and is no DRM: the text stays readable.
_FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}


def _xml(archive, name: str):
    from lxml import etree

    try:
        data = archive.read(name)
    except KeyError:
        raise SkipFile(f"EPUB incomplet ({name} absent)") from None
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
    except etree.XMLSyntaxError:
        raise SkipFile(f"EPUB illisible ({name} mal formé)") from None


def extract_epub(raw: RawFile) -> Extracted:
    archive = open_zip(raw.data, "livre numérique EPUB")
    if "META-INF/encryption.xml" in archive.namelist():
        algorithms = {m.get("Algorithm") for m in _xml(archive, "META-INF/encryption.xml").iterfind(
            ".//enc:EncryptionMethod", _NS)}
        if algorithms - _FONT_OBFUSCATION:
            raise SkipFile("livre numérique protégé (DRM) : son texte est chiffré")
    rootfile = _xml(archive, "META-INF/container.xml").find(".//c:rootfile", _NS)
    if rootfile is None or not rootfile.get("full-path"):
        raise SkipFile("EPUB illisible (aucun fichier OPF déclaré)")
    opf_path = rootfile.get("full-path")
    opf = _xml(archive, opf_path)
    base = posixpath.dirname(opf_path)
    items = {i.get("id"): i for i in opf.iterfind(".//opf:manifest/opf:item", _NS)}
    blocks: list[str] = []
    budget, read = TextBudget(), set()
    for ref in opf.iterfind(".//opf:spine/opf:itemref", _NS):
        item = items.get(ref.get("idref"))
        if item is None or "html" not in (item.get("media-type") or "") or ref.get("idref") in read:
            continue  # a chapter listed twice in the spine is read once
        read.add(ref.get("idref"))
        if budget.cut:
            break
        try:
            chapter = archive.read(posixpath.normpath(posixpath.join(base, item.get("href", ""))))
        except KeyError:
            continue  # a spine entry pointing nowhere: the other chapters still count
        chapter_blocks = html_blocks(_DOCTYPE.sub(b"", chapter, count=1))
        blocks.extend(chapter_blocks)
        budget.take(" ".join(chapter_blocks), f"{len(read)} chapitres")

    def dc(name: str) -> str | None:
        el = opf.find(f".//dc:{name}", _NS)
        return el.text if el is not None else None

    meta = metadata(title=dc("title"), author=dc("creator"), **properties_date(dc("date")))
    return bounded(Extracted(text=blocks_text(blocks), meta=meta, cut=budget.cut))
