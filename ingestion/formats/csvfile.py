"""Delimited text (.csv): the separator sniffed (French exports use « ; »), each row a text row."""
from __future__ import annotations

import csv
import io

from ingestion.formats.base import Extracted, bounded, cell_text, table_lines
from ingestion.limits import TextBudget
from ingestion.read import RawFile, SkipFile, decode_text
from veille.numbers import decimal


def extract_csv(raw: RawFile) -> Extracted:
    text = decode_text(raw.data)
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:  # a single column, or too irregular to sniff: the commoner separator wins
        dialect = type("Guessed", (csv.excel,), {"delimiter": ";" if sample.count(";") > sample.count(",") else ","})
    budget = TextBudget()
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            if not budget.take(" ".join(row)):
                if not rows:  # one endless line: its first cells, as many as the budget holds
                    room = budget.chars
                    row = [c for c in row if (room := room - len(c) - 1) >= 0]
                    rows.append([cell_text(c) for c in row])
                break
            rows.append([cell_text(c) for c in row])
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise SkipFile(f"CSV refusé : une cellule dépasse {decimal(csv.field_size_limit(), 0)} caractères") \
                from None
        raise SkipFile("CSV illisible (guillemets ou séparateurs incohérents)") from None
    lines = table_lines(rows)
    if not lines:
        raise SkipFile("CSV sans aucune valeur")
    return bounded(Extracted(text="\n".join(lines), cut=budget.cut))
