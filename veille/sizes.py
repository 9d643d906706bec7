"""Sizes as a French reader expects them: binary units (1 Mo = 1024 × 1024 octets, the unit of the
limits in the README), decimal comma, no useless « ,0 »."""
from __future__ import annotations

KIB = 1024
MIB = 1024 * 1024


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def megabytes(n_bytes: int | float) -> str:
    """« 20 Mo », « 21,5 Mo »; small sizes in Ko (« 512 Ko »)."""
    if n_bytes < MIB / 10:
        return f"{_number(round(n_bytes / KIB, 1))} Ko"
    return f"{_number(round(n_bytes / MIB, 1))} Mo"


def over_limit(n_bytes: int, limit: int) -> str:
    """« 21 Mo > 20 Mo »; exact byte counts when rounding would show two equal sizes."""
    size, cap = megabytes(n_bytes), megabytes(limit)
    if size == cap:
        size, cap = f"{n_bytes:_} octets".replace("_", "\u202f"), f"{limit:_} octets".replace("_", "\u202f")
    return f"{size} > {cap}"
