"""Numbers as a French reader writes them: decimal comma (« 0,75 », « 1,5 s »), file sizes in
« octets, Ko, Mo, Go » (binary multiples: the 20 Mo limit is 20 × 1 024 × 1 024 bytes), and counted words
agreed with their number (« 1 document », « 2 documents », never « document(s) »)."""
from __future__ import annotations


def decimal(value: float, digits: int = 1) -> str:
    """« 12,3 »: the decimal comma, a narrow no-break space between thousands."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def plural(n: int, one: str, many: str | None = None) -> str:
    """« 1 document », « 3 nouveaux documents »: the number and its words agreed (French: singular under 2,
    « 0 document »). ``many`` for the irregular forms; else an « s » is added."""
    return f"{n} {one if abs(n) < 2 else (many or one + 's')}"


def file_size(n_bytes: float) -> str:
    """« 850 octets », « 12,3 Ko », « 20 Mo »: one decimal under 100, none when it is a round number."""
    size = float(n_bytes)
    if size < 1024:
        return plural(int(size), "octet")
    for unit in ("Ko", "Mo", "Go", "To"):
        size /= 1024
        if size < 1024 or unit == "To":
            break
    if size >= 100 or round(size, 1).is_integer():  # « 20 Mo », never « 20,0 Mo »
        return f"{decimal(size, 0)} {unit}"
    return f"{decimal(size, 1)} {unit}"


def over_limit(n_bytes: int, limit: int) -> str:
    """« 21 Mo > 20 Mo »; exact byte counts when rounding would show two equal sizes."""
    size, cap = file_size(n_bytes), file_size(limit)
    if size == cap:
        size, cap = f"{n_bytes:_} octets".replace("_", "\u202f"), f"{limit:_} octets".replace("_", "\u202f")
    return f"{size} > {cap}"


def seconds(value: float) -> str:
    """« 0,3 s »."""
    return f"{decimal(value, 1)} s"
