"""Delimited text (.csv): the separator sniffed (French exports use « ; »), each row a text row."""
from __future__ import annotations

import csv
import io

from ingestion.formats.base import Extracted, cell_text, table_lines
from ingestion.read import RawFile, SkipFile, decode_text


def extract_csv(raw: RawFile) -> Extracted:
    text = decode_text(raw.data)
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:  # a single column, or too irregular to sniff: the commoner separator wins
        dialect = type("Guessed", (csv.excel,), {"delimiter": ";" if sample.count(";") > sample.count(",") else ","})
    try:
        rows = [[cell_text(c) for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise SkipFile(f"CSV illisible ({exc})") from None
    lines = table_lines(rows)
    if not lines:
        raise SkipFile("CSV sans aucune valeur")
    return Extracted(text="\n".join(lines))
