"""Dates as Veille stores and reads them: ISO strings, YYYYMMDD integers (Chroma range filters are numeric
only), the one list of French month names, and the dates a French user types in a filter.

Written by hand rather than with ``dateparser``: the forms are a small closed set (« 2019 », « mars 2019 »,
« 03/2019 », « 15 mars 2019 », « 15/03/2019 », ISO) and the library costs a second of import time per
command for locale data Veille never uses."""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime

from veille.errors import VeilleError
from veille.text import fold

MONTH_NAMES = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
               "novembre", "décembre")
# Month number by name, accented and folded, with the usual abbreviations (« janv. », « sept. »).
MONTHS: dict[str, int] = {}
for _number, _name in enumerate(MONTH_NAMES, start=1):
    MONTHS[_name] = MONTHS[fold(_name)] = _number
for _abbrev, _number in {"janv": 1, "fevr": 2, "fev": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "nov": 11,
                         "dec": 12}.items():
    MONTHS[_abbrev] = _number
MONTH_PATTERN = "|".join(sorted((m for m in MONTHS if len(m) > 4 or m in ("mars", "mai", "juin", "aout")),
                                key=len, reverse=True))


def parse_date(value) -> str | None:
    """ISO date (YYYY-MM-DD, or YYYY-MM / YYYY when that is all that is known); None when unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = fold(str(value).strip()).rstrip(".")
    for pattern in (r"^(\d{4})-(\d{2})-(\d{2})", r"^(\d{4})-(\d{2})$", r"^(\d{4})$"):
        m = re.match(pattern, text)
        if m:
            return "-".join(m.groups())
    m = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", text)
    if m:
        d, mo, y = m.groups()
        return _checked(int(y), int(mo), int(d))
    m = re.match(r"^(\d{1,2})[/.-](\d{4})$", text)
    if m:
        return _checked(int(m.group(2)), int(m.group(1)), None)
    m = re.match(r"^(?:(\d{1,2})(?:er)?\s+)?([a-z]+)\.?\s+(\d{4})$", text)
    if m and m.group(2) in MONTHS:
        day = int(m.group(1)) if m.group(1) else None
        return _checked(int(m.group(3)), MONTHS[m.group(2)], day)
    return None


def _checked(year: int, month: int, day: int | None) -> str | None:
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def date_number(iso: str | None) -> int | None:
    """Dates as YYYYMMDD integers. Missing parts count as 01."""
    if not iso:
        return None
    parts = iso.split("-") + ["01", "01"]
    return int(parts[0]) * 10000 + int(parts[1]) * 100 + int(parts[2])


class DateError(VeilleError):
    """A date the user typed that Veille cannot read."""


DATE_FORMATS = "2019, mars 2019, 03/2019, 15 mars 2019, 15/03/2019 ou 2019-03-15"


def filter_bound(value: str | None, end: bool) -> int | None:
    """A « depuis » (``end=False``) or « jusqu'à » (``end=True``) bound typed by a user, as YYYYMMDD: an open
    end covers the whole year or month (« jusqu'à mars 2019 » includes 31 March)."""
    if not value or not str(value).strip():
        return None
    iso = parse_date(value)
    if not iso:
        raise DateError(f"Date illisible : « {str(value).strip()} » (exemples : {DATE_FORMATS}).")
    parts = [int(p) for p in iso.split("-")]
    if end:
        if len(parts) == 1:
            parts += [12, 31]
        elif len(parts) == 2:
            parts.append(calendar.monthrange(parts[0], parts[1])[1])
    parts += [1] * (3 - len(parts))
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def format_day(number: int) -> str:
    """YYYYMMDD as « 15/03/2019 »."""
    return f"{number % 100:02d}/{number // 100 % 100:02d}/{number // 10000}"


def french_date(iso: str | None) -> str:
    """ISO date in words: « 15 mars 2019 », « mars 2019 », « 2019 »."""
    if not iso:
        return ""
    parts = iso.split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {MONTH_NAMES[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTH_NAMES[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        return iso
    return parts[0]


# Where a document's date comes from (``documents.extra["date_source"]``, chosen by ingestion/dating.py), strongest
# evidence first, as a user reads it.
DATE_SOURCES = {"user": "date donnée par une personne", "message": "date du courriel",
                "page": "date de publication de la page", "text": "date lue dans le texte",
                "properties": "date des propriétés du fichier", "file": "date de modification du fichier"}
# Evidence weak enough to be said next to the date wherever it is shown (sources, bulletin, Documents tab).
WEAK_DATE_SOURCES = ("text", "properties", "file")


def date_with_source(iso: str | None, source: str | None, always: bool = False) -> str:
    """« 3 novembre 2025 (date lue dans le texte) »; the evidence is said when weak, or ``always``."""
    if not iso:
        return "non daté"
    said = source in WEAK_DATE_SOURCES or (always and source in DATE_SOURCES)
    return f"{french_date(iso)} ({DATE_SOURCES[source]})" if said else french_date(iso)
