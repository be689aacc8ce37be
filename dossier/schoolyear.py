"""The Flemish school calendar: school years run 1 September - 31 August."""

from __future__ import annotations

import re
from datetime import date

_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


def school_year_of(day: date) -> str:
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def current_school_year(today: date | None = None) -> str:
    return school_year_of(today or date.today())


def is_school_year(text: str) -> bool:
    match = _YEAR_RE.match(text or "")
    return bool(match) and int(match.group(2)) == int(match.group(1)) + 1


def bounds(school_year: str) -> tuple[date, date]:
    """First and last calendar day of a school year ('2025-2026')."""
    if not is_school_year(school_year):
        raise ValueError(f"geen geldig schooljaar: {school_year!r}")
    start = int(school_year[:4])
    return date(start, 9, 1), date(start + 1, 8, 31)


def shift(school_year: str, years: int) -> str:
    start = int(school_year[:4]) + years
    return f"{start}-{start + 1}"


def format_date(day: date | None) -> str:
    """nl-BE display: dd/mm/jjjj."""
    return day.strftime("%d/%m/%Y") if day else ""
