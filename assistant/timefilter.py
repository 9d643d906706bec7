"""Explicit French time expressions in a question become date filters.

"depuis 2019", "en 2018", "le bulletin de mars 2019", "avant 2020", "entre 2017 et 2019",
"après 2018", "jusqu'en 2019", "en juillet 2017". Dates are YYYYMMDD integers, as stored.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from veille.dates import MONTH_PATTERN, MONTHS
from veille.filters import Filters

_MONTH = f"(?:{MONTH_PATTERN})"
_PERIOD = rf"(?:(?P<{{p}}m>{_MONTH})\s+)?(?P<{{p}}y>(?:19|20)\d\d)\b"


def _period(prefix: str) -> str:
    return _PERIOD.format(p=prefix)


_PATTERNS = [
    ("between", re.compile(rf"\bentre\s+(?:le\s+|l'|les\s+)?{_period('a')}\s+et\s+(?:le\s+|l'|les\s+)?{_period('b')}",
                           re.IGNORECASE)),
    ("since", re.compile(rf"\b(?:depuis|à partir de|a partir de|dès|des)\s+(?:le\s+mois\s+de\s+|l'année\s+)?{_period('a')}",
                         re.IGNORECASE)),
    ("after", re.compile(rf"\bapr[èe]s\s+{_period('a')}", re.IGNORECASE)),
    ("before", re.compile(rf"\bavant\s+{_period('a')}", re.IGNORECASE)),
    ("until", re.compile(rf"\bjusqu['’]\s*(?:en|à|a|au)\s+{_period('a')}", re.IGNORECASE)),
    ("in", re.compile(rf"\b(?:en|de|d['’]|du mois de|au cours de|pendant|courant)\s*{_period('a')}", re.IGNORECASE)),
]


@dataclass(frozen=True)
class TimeFilter:
    date_from: int | None
    date_to: int | None
    description: str  # French, shown with the answer
    # Years an exact period names ("en 2005", "de février 2019"): such a period may date an event told
    # inside a document rather than the document itself, so passages mentioning it are also searched.
    years: tuple[str, ...] = ()


def _bounds(month: str | None, year: str) -> tuple[int, int]:
    y = int(year)
    if month:
        m = MONTHS[month.lower()]
        return y * 10000 + m * 100 + 1, y * 10000 + m * 100 + calendar.monthrange(y, m)[1]
    return y * 10000 + 101, y * 10000 + 1231


def _shift(number: int, days: int) -> int:
    """A YYYYMMDD integer moved by ``days`` calendar days."""
    moved = date(number // 10000, number // 100 % 100, number % 100) + timedelta(days=days)
    return moved.year * 10000 + moved.month * 100 + moved.day


def _label(month: str | None, year: str) -> str:
    return f"{month.lower()} {year}" if month else year


def parse_time_expression(question: str) -> TimeFilter | None:
    for kind, pattern in _PATTERNS:
        m = pattern.search(question)
        if not m:
            continue
        a_start, a_end = _bounds(m.group("am"), m.group("ay"))
        a = _label(m.group("am"), m.group("ay"))
        if kind == "between":
            b_start, b_end = _bounds(m.group("bm"), m.group("by"))
            years = tuple(str(y) for y in range(int(m.group("ay")), int(m.group("by")) + 1))[:10]
            return TimeFilter(a_start, b_end, f"documents datés entre {a} et {_label(m.group('bm'), m.group('by'))}",
                              years)
        if kind == "since":
            return TimeFilter(a_start, None, f"documents datés depuis {a}")
        if kind == "after":
            return TimeFilter(_shift(a_end, 1), None, f"documents datés après {a}")
        if kind == "before":
            return TimeFilter(None, _shift(a_start, -1), f"documents datés avant {a}")
        if kind == "until":
            return TimeFilter(None, a_end, f"documents datés jusqu'à {a}")
        return TimeFilter(a_start, a_end, f"documents datés de {a}", (m.group("ay"),))
    return None


def apply_time_expression(question: str, filters: Filters) -> tuple[Filters, TimeFilter | None]:
    """Filters with the question's time expression added (and that expression), unless the user
    already chose dates."""
    if filters.date_from or filters.date_to:
        return filters, None
    found = parse_time_expression(question)
    if not found:
        return filters, None
    return replace(filters, date_from=found.date_from, date_to=found.date_to), found
