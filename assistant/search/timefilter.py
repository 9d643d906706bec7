"""The grammar of French periods in a question: "depuis 2019", "en 2018", "le bulletin de mars 2019",
"avant 2020", "entre 2017 et 2019", "après 2018", "jusqu'en 2019", "en juillet 2017", read as date ranges
(YYYYMMDD integers, as stored). Whether a period restricts publication dates or only favours passages
that cite it is decided in ``assistant.search.period``.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from veille.dates import MONTH_PATTERN, MONTHS

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
    description: str  # French, the documents the range keeps: « documents datés de 2019 »
    # Years a passage may cite to speak of the period (none for an open past: « avant 2020 »), and the
    # month when the period is one month (« juillet 2017 »).
    years: tuple[str, ...] = ()
    month: int | None = None
    label: str = ""  # the period as the question names it: « 2019 », « juillet 2017 », « depuis 2019 »
    start: int = 0  # where the expression begins in the question


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


def _years(first: int, last: int) -> tuple[str, ...]:
    """The years from ``first`` to ``last`` a passage may cite, at most ten (a longer span is no evidence)."""
    return tuple(str(y) for y in range(first, last + 1))[:10]


def parse_time_expression(question: str) -> TimeFilter | None:
    for kind, pattern in _PATTERNS:
        m = pattern.search(question)
        if not m:
            continue
        a_start, a_end = _bounds(m.group("am"), m.group("ay"))
        a, year, at = _label(m.group("am"), m.group("ay")), int(m.group("ay")), m.start()
        if kind == "between":
            b = _label(m.group("bm"), m.group("by"))
            _b_start, b_end = _bounds(m.group("bm"), m.group("by"))
            return TimeFilter(a_start, b_end, f"documents datés entre {a} et {b}", _years(year, int(m.group("by"))),
                              label=f"entre {a} et {b}", start=at)
        if kind == "since":
            return TimeFilter(a_start, None, f"documents datés depuis {a}", _years(year, date.today().year),
                              label=f"depuis {a}", start=at)
        if kind == "after":
            first = year if m.group("am") else year + 1
            return TimeFilter(_shift(a_end, 1), None, f"documents datés après {a}", _years(first, date.today().year),
                              label=f"après {a}", start=at)
        if kind == "before":
            return TimeFilter(None, _shift(a_start, -1), f"documents datés avant {a}", label=f"avant {a}", start=at)
        if kind == "until":
            return TimeFilter(None, a_end, f"documents datés jusqu'à {a}", label=f"jusqu'à {a}", start=at)
        month = MONTHS[m.group("am").lower()] if m.group("am") else None
        return TimeFilter(a_start, a_end, f"documents datés de {a}", (m.group("ay"),), month, a, at)
    return None
