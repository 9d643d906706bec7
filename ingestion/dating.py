"""A document's date from the best evidence, and which evidence it was (stored as ``date_source``).

Strongest first:
1. a date set by a person: front matter, ``<file>.meta.json``, a correction (``veille date``, the Documents tab);
2. the e-mail's ``Date``, or the web page's publication metadata (htmldate without its extensive search; a feed's
   publication date);
3. a date stated at the head of the text: « Note du 3 novembre 2025 », « Rouen, le 12 mars 2024 », a dateline —
   read by dateparser's ``search_dates`` in French;
4. the file's properties (Office, OpenDocument, PDF, EPUB, RTF), unless they are a template's: a known template
   stamp (python-docx writes 23/12/2013 23:15:00 in every file), or years before every date written in the text;
5. the modification time of a local file (not of an upload: its copy is as old as the upload).
Otherwise the document is undated (``none``), and the watch products list it apart (« Non datés »). A document
stored before its date had evidence (no ``date_source``) is read again once, its date weighed anew.
Measured on real files of every format: ``python scripts/bench_dates.py``."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dateparser.search import search_dates

from veille.dates import DATE_FORMATS, MONTH_PATTERN, DateError, parse_date
from veille.text import fold

# Creation stamps of the templates that libraries copy into every file they make (to the second).
TEMPLATE_STAMPS = {"2013-12-23T23:15:00": "python-docx", "2013-01-27T09:14:16": "python-pptx"}
# Properties this many years before every date written in the text are a template's or an old file's reused.
YEARS_BEFORE = 2
HEAD_LINES, HEAD_CHARS = 4, 400  # « the head of the text »: a title, a dateline, an opening line
TEXT_CHARS = 20_000  # how far dates are looked for when judging the properties
_PARSER = {"languages": ["fr"], "settings": {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first",
                                             "REQUIRE_PARTS": ["day", "month", "year"]}}
_MONTH_ONLY = {"languages": ["fr"], "settings": {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first",
                                                 "REQUIRE_PARTS": ["month", "year"]}}
# Full dates written in a text (« 3 novembre 2025 », « 03/11/2025 »): the years the properties are weighed against.
_FULL_DATE = re.compile(rf"\b\d{{1,2}}(?:er)?\s+(?:{MONTH_PATTERN})\.?\s+((?:19|20)\d\d)\b"
                        r"|\b\d{1,2}[/.]\d{1,2}[/.]((?:19|20)\d\d)\b")


@dataclass(frozen=True)
class Dating:
    date: str | None  # ISO: YYYY-MM-DD, or YYYY-MM when only the month is known
    source: str  # user | message | page | text | properties | file (veille.dates.DATE_SOURCES) | none (undated)


def date_document(text: str, found: dict, given: dict, file_time: float | None = None,
                  today: dt.date | None = None) -> Dating:
    """The date of a document whose (normalised) ``text`` was read with the format metadata ``found``
    (``Extracted.meta``: ``date``, ``date_source``, ``stamp``), and ``given`` metadata (sidecar, collection)."""
    today = today or dt.date.today()
    person = parse_date(given.get("date")) or (parse_date(found.get("date"))
                                               if found.get("date_source") == "user" else None)
    if person:
        return Dating(person, "user")
    kind = found.get("date_source") or "page"  # a date a producer gave without saying how: its metadata
    declared = parse_date(found.get("date"))
    if declared and kind in ("message", "page") and _plausible(declared, today):
        return Dating(declared, kind)
    stated = head_date(text, today)
    if stated:
        return Dating(stated, "text")
    if declared and kind == "properties" and _plausible(declared, today) \
            and not is_template(found.get("stamp"), declared, text):
        return Dating(declared, "properties")
    if file_time:
        return Dating(dt.date.fromtimestamp(file_time).isoformat(), "file")
    return Dating(None, "none")


def head_date(text: str, today: dt.date | None = None) -> str | None:
    """The first date written at the head of ``text`` (its first lines): day, month and year, else month and year
    (« novembre 2025 » → 2025-11). None when the head states no date."""
    today = today or dt.date.today()
    lines = [line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()][:HEAD_LINES]
    head = "\n".join(lines)[:HEAD_CHARS]
    if not re.search(r"\d{4}", head):  # no year, no date: dateparser is not asked (most texts)
        return None
    for said, value in search_dates(head, **_PARSER) or []:
        if re.search(r"\d{4}", said) and _plausible(value.date().isoformat(), today):
            return value.date().isoformat()
    for said, value in search_dates(head, **_MONTH_ONLY) or []:
        # a month named in words and a year (« novembre 2025 »), not two numbers that may mean anything
        if re.search(rf"\b(?:{MONTH_PATTERN})\b", fold(said.lower())) and re.search(r"\d{4}", said):
            month = value.date().isoformat()[:7]
            if _plausible(month, today):
                return month
    return None


def is_template(stamp: str | None, declared: str, text: str) -> bool:
    """Properties that date the template, not the document: a known template stamp, or a date ``YEARS_BEFORE``
    years or more before every full date written in the text."""
    if stamp and stamp in TEMPLATE_STAMPS:
        return True
    years = [int(a or b) for a, b in _FULL_DATE.findall(fold(text[:TEXT_CHARS].lower()))]
    return bool(years) and int(declared[:4]) + YEARS_BEFORE <= min(years)


def _plausible(iso: str, today: dt.date) -> bool:
    """Not before 1900, nor more than a year ahead (a deadline, a typing slip)."""
    year = int(iso[:4])
    return 1900 <= year and iso[:10] <= (today + dt.timedelta(days=366)).isoformat()


NO_DATE = ("aucune", "inconnue", "sans", "non daté", "non date")


def corrected_date(typed: str) -> str | None:
    """A date a person types to correct a document's (« 2025-11-03 », « 3 novembre 2025 », « 11/2025 »…), or None
    for « aucune » (the document is undated); ``DateError`` (French) when unreadable."""
    text = (typed or "").strip()
    if fold(text.lower()) in NO_DATE:
        return None
    iso = parse_date(text)
    if not iso:
        raise DateError(f"Date illisible : « {text} » (exemples : {DATE_FORMATS} ; « aucune » pour ôter la date).")
    return iso
