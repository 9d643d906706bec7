"""Extraction benchmark over generated samples of every format (bench/samples.py).

    python -m bench.formats                 # one row per format
    python -m bench.formats --pdf-backends  # the PDF libraries compared on the two-column report
    python -m bench.formats --no-ocr        # without the scans (Tesseract is slow on small CPUs)

Recall and precision are character-level: the extracted text (after the normaliser, as stored) and
the known text are aligned word by word (difflib), and the characters of the aligned words are counted
against all the characters of the known text (recall) and of the extracted one (precision). Case,
punctuation and layout marks (« # », « - », « : », « | ») are ignored; « rappel sans ordre » counts
the known words found anywhere (tables are written « en-tête : valeur » row by row, which reorders
the grid and repeats the headers: the ordered recall and the precision of table formats pay for it). « pages justes »: pages whose
known text is found (recall ≥ 0.9) between the offsets the extractor gives for that page."""
from __future__ import annotations

import argparse
import io
import json
import re
import time
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.samples import Sample, pdf_sample, samples
from ingestion.extract import extract
from ingestion.formats.base import Extracted, join_pages
from ingestion.formats.layout import PageText, Segment, drop_running, page_text
from ingestion.formats.pdf import extract_pdf
from ingestion.normalize import clean_pages, clean_text
from ingestion.pipeline import documents_of
from ingestion.read import RawFile

PAGE_RECALL = 0.9


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())


def overlap(known: str, found: str) -> tuple[float, float]:
    """(recall, precision) of ``found`` against ``known``, in characters of aligned words."""
    a, b = _words(known), _words(found)
    if not a or not b:
        return 0.0, 0.0
    blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    matched = sum(len(w) for blk in blocks for w in a[blk.a:blk.a + blk.size])
    return matched / sum(map(len, a)), matched / sum(map(len, b))


def coverage(known: str, found: str) -> float:
    """Share of the known characters found at all, in any order (a table rendered « en-tête : valeur »
    row by row holds every cell, though not in the order of the grid)."""
    a, b = Counter(_words(known)), Counter(_words(found))
    total = sum(len(w) * n for w, n in a.items())
    return sum(len(w) * min(n, b[w]) for w, n in a.items()) / total if total else 0.0


def cleaned(extracted: Extracted) -> tuple[str, list[int]]:
    if extracted.pages:
        return clean_pages(extracted.text, extracted.pages)
    return clean_text(extracted.text), []


def pages_right(sample: Sample, text: str, starts: list[int]) -> str:
    if not sample.pages:
        return "–"
    if len(starts) != len(sample.pages):
        return f"0/{len(sample.pages)} ({len(starts)} trouvées)"
    bounds = [*starts, len(text)]
    good = sum(overlap(known, text[bounds[i]:bounds[i + 1]])[0] >= PAGE_RECALL for i, known in enumerate(sample.pages))
    return f"{good}/{len(sample.pages)}"


def meta_right(sample: Sample, meta: dict) -> str:
    if not sample.meta:
        return "–"
    good = sum(str(meta.get(k, "")).strip() == str(v) for k, v in sample.meta.items())
    return f"{good}/{len(sample.meta)}"


def measure(sample: Sample) -> dict:
    raw = RawFile(path=Path(sample.name), data=sample.data, size=len(sample.data), mtime=0.0)
    t0 = time.perf_counter()
    extracted = extract(raw)
    docs = [(src, ext) for src, ext, _, _ in documents_of(sample.name, extracted, {}) if ext is not None]
    own = [ext for src, ext in docs if src == sample.name]
    texts = [cleaned(ext) for ext in (own or [ext for _, ext in docs])]
    seconds = time.perf_counter() - t0
    text = "\n".join(t for t, _ in texts)
    starts = texts[0][1] if len(texts) == 1 else []
    recall, precision = overlap(sample.text, text)
    pages = max(1, len(sample.pages))
    return {"format": sample.family, "fichier": sample.name, "rappel": round(recall, 3),
            "rappel sans ordre": round(coverage(sample.text, text), 3), "précision": round(precision, 3), "pages justes": pages_right(sample, text, starts),
            "métadonnées": meta_right(sample, (own or [docs[0][1]])[0].meta if docs else {}),
            "ms/page": round(seconds * 1000 / pages, 1), "ocr": bool((own or [Extracted("")])[0].meta.get("ocr"))}


# --- PDF libraries compared --------------------------------------------------------------------------------
def _pdfium(data: bytes) -> Extracted:
    return extract_pdf(data)


def _plumber(data: bytes) -> Extracted:
    """pdfplumber's words, grouped into runs, through the same layout glue."""
    import pdfplumber


    pages = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            segments: list[Segment] = []
            for w in page.extract_words(x_tolerance=1.5):
                last = segments[-1] if segments else None
                if last and abs(last.top - w["top"]) < 2 and 0 <= w["x0"] - last.x1 < (w["bottom"] - w["top"]):
                    segments[-1] = Segment(last.x0, w["x1"], last.top, max(last.bottom, w["bottom"]),
                                           last.text + " " + w["text"])
                else:
                    segments.append(Segment(w["x0"], w["x1"], w["top"], w["bottom"], w["text"]))
            pages.append(PageText(float(page.width), float(page.height), segments))
    text, starts = join_pages([page_text(p) for p in drop_running(pages)])
    return Extracted(text=text, pages=starts)


def _pdfminer(data: bytes) -> Extracted:
    """pdfminer.six's own layout analysis (LAParams), page by page; no header/footer removal."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer


    texts = ["\n\n".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
             for page in extract_pages(io.BytesIO(data), laparams=LAParams())]
    text, starts = join_pages(texts)
    return Extracted(text=text, pages=starts)


def _pypdf(data: bytes) -> Extracted:
    """The extractor Veille had before: pypdf's text layer, page by page."""
    from pypdf import PdfReader


    text, starts = join_pages([p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages])
    return Extracted(text=text, pages=starts)


BACKENDS = {"pypdfium2 + mise en page (retenu)": _pdfium, "pdfplumber + mise en page": _plumber,
            "pdfminer.six (LAParams)": _pdfminer, "pypdf (extracteur précédent)": _pypdf}


def compare_pdf(repeat: int = 3) -> list[dict]:
    sample = pdf_sample()
    rows = []
    for name, backend in BACKENDS.items():
        try:
            best = float("inf")
            for _ in range(repeat):
                t0 = time.perf_counter()
                text, starts = cleaned(backend(sample.data))
                best = min(best, time.perf_counter() - t0)
        except ImportError as exc:
            rows.append({"bibliothèque": name, "rappel": "–", "précision": "–", "pages justes": "–",
                         "ms/page": f"non installé ({exc.name})"})
            continue
        recall, precision = overlap(sample.text, text)
        rows.append({"bibliothèque": name, "rappel": round(recall, 3), "précision": round(precision, 3),
                     "pages justes": pages_right(sample, text, starts),
                     "ms/page": round(best * 1000 / len(sample.pages), 1)})
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="left" if column in ("format", "fichier", "bibliothèque") else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.formats",
                                     description="Banc d'extraction : rappel, précision, pages, temps par format")
    parser.add_argument("--no-ocr", action="store_true", help="sans les documents scannés (OCR)")
    parser.add_argument("--pdf-backends", action="store_true", help="comparer les bibliothèques PDF")
    parser.add_argument("--json", action="store_true", help="résultats en JSON")
    args = parser.parse_args(argv)
    result = {"formats": [measure(s) for s in samples(ocr=not args.no_ocr)]}
    if args.pdf_backends:
        result["pdf"] = compare_pdf()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print_table("Extraction par format (échantillons générés)", result["formats"])
    if "pdf" in result:
        print_table("PDF deux colonnes, en-têtes et pieds de page, césures : bibliothèques comparées", result["pdf"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
