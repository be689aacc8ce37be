"""Facts about the LVS instruments that rules and charts share: zones, bands, test moments,
the AVI scale and the Leuven scales.

The LVS-VCLB zone bands (A >= P75, B P50-74, C P25-49, D P11-24, E <= P10) are the published
default; a school may set its own in the `setting` table under `zone_bands`, as JSON with the
lower bound (inclusive) of zones A-D, e.g. {"A": 75, "B": 50, "C": 25, "D": 11}. Everything
below D's bound is E.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

ZONES = ("A", "B", "C", "D", "E")
ZONE_BANDS_SETTING = "zone_bands"
DEFAULT_ZONE_BANDS: dict[str, float] = {"A": 75.0, "B": 50.0, "C": 25.0, "D": 11.0}

LVS_DOMAINS = ("wiskunde", "spelling", "technisch_lezen", "begrijpend_lezen")
MOMENTS = ("begin", "midden", "eind")
# Months in which each test moment is normally administered (domain brief §6).
MOMENT_MONTHS: dict[str, tuple[int, ...]] = {"begin": (9, 10), "midden": (1, 2), "eind": (5, 6)}
MOMENT_PERIODS = {"begin": "september-oktober", "midden": "januari-februari", "eind": "mei-juni"}


def validate_zone_bands(bands: Mapping[str, object]) -> dict[str, float]:
    """Check a band table (lower bounds of A-D); raises ValueError with a Dutch message."""
    if not isinstance(bands, Mapping) or set(bands) != set(ZONES[:-1]):
        raise ValueError("De zonegrenzen moeten een ondergrens geven voor zone A, B, C en D.")
    try:
        values = {zone: float(bands[zone]) for zone in ZONES[:-1]}
    except (TypeError, ValueError) as exc:
        raise ValueError("Elke zonegrens moet een getal zijn.") from exc
    ordered = [values[zone] for zone in ZONES[:-1]]
    if not all(0 < v <= 100 for v in ordered):
        raise ValueError("Elke zonegrens moet tussen 0 en 100 liggen.")
    if any(a <= b for a, b in zip(ordered, ordered[1:], strict=False)):
        raise ValueError("De zonegrenzen moeten dalen: A hoger dan B, B hoger dan C, C hoger dan D.")
    return values


def parse_zone_bands(text: str | None) -> dict[str, float]:
    if not text:
        return dict(DEFAULT_ZONE_BANDS)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError("De zonegrenzen zijn geen geldige JSON.") from exc
    return validate_zone_bands(data)


def load_zone_bands(cur) -> dict[str, float]:
    """The school's band table (setting `zone_bands`), or the default when unset or invalid.

    An invalid setting must not block every import; the settings screen validates on save.
    """
    row = cur.execute("SELECT value FROM setting WHERE key = ?", [ZONE_BANDS_SETTING]).fetchone()
    return zone_bands_or_default(row[0] if row else None)


def zone_bands_or_default(text: str | None) -> dict[str, float]:
    """The band table of a stored setting value; the default when it is unset or invalid."""
    try:
        return parse_zone_bands(text)
    except ValueError:
        return dict(DEFAULT_ZONE_BANDS)


def zone_bands(db) -> dict[str, float]:
    with db.cursor() as cur:
        return load_zone_bands(cur)


def zone_for_percentile(percentile: float, bands: Mapping[str, float] | None = None) -> str:
    bands = bands or DEFAULT_ZONE_BANDS
    for zone in ZONES[:-1]:
        if percentile >= bands[zone]:
            return zone
    return ZONES[-1]


def zones_for_percentiles(percentiles: pd.Series, bands: Mapping[str, float] | None = None) -> pd.Series:
    """Vectorised `zone_for_percentile`; missing percentiles give a missing zone."""
    bands = bands or DEFAULT_ZONE_BANDS
    values = pd.to_numeric(percentiles, errors="coerce").astype("float64").to_numpy()
    # The number of lower bounds a value reaches: 4 -> A ... 0 -> E.
    reached = sum((values >= bands[zone]).astype(np.int64) for zone in ZONES[:-1])
    position = pa.array(len(ZONES) - 1 - reached, mask=np.isnan(values))
    zones = pa.array(ZONES, pa.large_string()).take(position)
    return pd.Series(pd.arrays.ArrowStringArray(zones), index=percentiles.index).astype("str")


def describe_zone_bands(bands: Mapping[str, float] | None = None) -> str:
    """'A ≥ 75, B 50-74, ...' for legends and messages."""
    bands = bands or DEFAULT_ZONE_BANDS

    def below(x: float) -> str:  # the highest value still under a bound: 74 under 75
        return f"{x - 1:g}" if float(x).is_integer() else f"<{x:g}"

    parts = [f"A ≥ {bands['A']:g}"]
    for upper, zone in zip(ZONES[:-2], ZONES[1:-1], strict=True):
        parts.append(f"{zone} {bands[zone]:g}-{below(bands[upper])}")
    e = below(bands["D"])
    parts.append(f"E ≤ {e}" if not e.startswith("<") else f"E {e}")
    return ", ".join(parts)


# -- AVI (technical reading) -------------------------------------------------------------------
# The Flemish AVI scale in order; avi_result.level_rank indexes it (0 = AVI-Start ... 11 = AVI-Plus).
AVI_LEVELS = ("AVI-Start", "M3", "E3", "M4", "E4", "M5", "E5", "M6", "E6", "M7", "E7", "AVI-Plus")
AVI_RANK: dict[str, int] = {level: rank for rank, level in enumerate(AVI_LEVELS)}
AVI_CARD_RESULTS = ("beheersing", "instructie", "frustratie")
_AVI_CORE = {"START": "AVI-Start", "PLUS": "AVI-Plus"}


def normalise_avi_level(text: object) -> str | None:
    """The level as written in AVI_LEVELS ('AVI-M3', 'm3', 'avi start', 'plus' ...), or None.

    Schools write the same card in many ways; the prefix 'AVI', separators and case carry no
    meaning, so they are dropped before the core (START, PLUS, M3 ... E7) is looked up.
    """
    if not isinstance(text, str):
        return None
    core = re.sub(r"[\s_\-.]+", "", text.strip().upper())
    if core.startswith("AVI") and len(core) > 3:
        core = core[3:]
    if core in _AVI_CORE:
        return _AVI_CORE[core]
    return core if core in AVI_RANK else None


def expected_avi_rank(grade: int, moment: str) -> int:
    """The rank a pupil of `grade` (lager 1-6) is expected to reach at `moment`.

    AVI levels count from the first grade as 3 (grade = level number - 2): M(grade+2) mid-year,
    E(grade+2) at the end of the year; at the start of the year the end level of the year
    before. Bounded to the scale (AVI-Start ... AVI-Plus), like dossier.dashboards' SQL.
    """
    base = {"begin": 2 * grade - 2, "midden": 2 * grade - 1, "eind": 2 * grade}
    if moment not in base:
        raise ValueError(f"onbekend afnamemoment '{moment}': verwacht begin, midden of eind")
    return max(0, min(len(AVI_LEVELS) - 1, base[moment]))


# -- Leuven scales (welbevinden, betrokkenheid) ------------------------------------------------------
LEUVEN_SCALES = ("welbevinden", "betrokkenheid")
LEUVEN_SCORES = ("1", "1+", "2", "2+", "3", "3+", "4", "4+", "5")


def parse_leuven_score(text: object) -> float | None:
    """'3+' -> 3.5, '4' -> 4.0; None for anything outside 1, 1+, ... 4+, 5 (spaces ignored)."""
    if not isinstance(text, str):
        return None
    core = re.sub(r"\s+", "", text)
    if core not in LEUVEN_SCORES:
        return None
    return float(core[0]) + (0.5 if core.endswith("+") else 0.0)


# -- IDP (interdiocesane proeven) --------------------------------------------------------------------
IDP_TESTS = ("IDP4", "IDP6")
IDP_AREAS = ("wiskunde", "nederlands", "frans", "wetenschappen_techniek", "mens_maatschappij")
