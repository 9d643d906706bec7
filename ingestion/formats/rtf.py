"""Rich Text Format (.rtf) with striprtf: headings from Word's outline levels, table rows, \\info metadata."""
from __future__ import annotations

import re

from ingestion.formats.base import Extracted, blocks_text, cell_text, metadata, properties_date, table_lines
from ingestion.read import RawFile, SkipFile

# Word marks headings with \outlinelevelN: a Markdown-like '#' is slipped in before the paragraph's text.
_OUTLINE = re.compile(r"\\outlinelevel(\d)((?:\\[a-z]+-?\d* ?)*)")
_CODEPAGE = re.compile(r"\\ansicpg(\d+)")


def _info(rtf: str, name: str, codepage: str) -> str | None:
    from striprtf.striprtf import rtf_to_text

    m = re.search(r"\{\\" + name + r"\s+((?:[^{}\\]|\\.|\\[a-z]+-?\d* ?)*)\}", rtf)
    if not m:
        return None
    return rtf_to_text("{\\rtf1 " + m.group(1) + "}", encoding=codepage, errors="replace").strip() or None


def extract_rtf(raw: RawFile) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    rtf = raw.data.decode("latin-1")  # RTF is 7-bit; its escapes name the code page of each byte
    if not rtf.lstrip().startswith("{\\rtf"):
        raise SkipFile("RTF illisible (en-tête {\\rtf absent)")
    m = _CODEPAGE.search(rtf[:2000])
    codepage = f"cp{m.group(1)}" if m else "cp1252"
    try:
        "".encode(codepage)
    except LookupError:
        codepage = "cp1252"
    marked = _OUTLINE.sub(lambda m: m.group(2) + "#" * (int(m.group(1)) + 1) + " ", rtf)
    text = rtf_to_text(marked, encoding=codepage, errors="replace")
    blocks, rows = [], []
    for line in text.split("\n"):
        line = line.strip()
        if line.endswith("|"):  # striprtf ends every table cell with '|'
            rows.append([cell_text(c) for c in line[:-1].split("|")])
            continue
        if rows:
            blocks.extend(table_lines(rows))
            rows = []
        blocks.append(line)
    blocks.extend(table_lines(rows))
    created = re.search(r"\\creatim\\yr(\d{4})\\mo(\d{1,2})\\dy(\d{1,2})", rtf)
    meta = metadata(title=_info(rtf, "title", codepage), author=_info(rtf, "author", codepage),
                    **(properties_date(f"{created.group(1)}-{int(created.group(2)):02d}-{int(created.group(3)):02d}")
                       if created else {}))
    return Extracted(text=blocks_text(blocks), meta=meta)
