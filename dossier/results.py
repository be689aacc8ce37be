"""Reading LVS results, always within the acting user's scope (permission results.read)."""

from __future__ import annotations

import pandas as pd

from dossier.access import User, pupil_scope_sql
from dossier.db import Database

# instrument -> (table, date column, columns shown)
INSTRUMENTS: dict[str, tuple[str, str, str]] = {
    "lvs": (
        "lvs_result",
        "test_date",
        "r.test_date, r.school_year, r.grade, r.domain, r.moment, r.raw_score, r.max_score, r.percentile, r.zone,"
        " r.zone_derived, r.remark",
    ),
    "avi": (
        "avi_result",
        "test_date",
        "r.test_date, r.school_year, r.grade, r.moment, r.card, r.reading_time_sec, r.errors, r.card_result,"
        " r.level_achieved, r.level_rank, r.administered_by",
    ),
    "dmt": (
        "dmt_result",
        "test_date",
        "r.test_date, r.school_year, r.grade, r.moment, r.version, r.card1_correct, r.card1_errors,"
        " r.card2_correct, r.card2_errors, r.card3_correct, r.card3_errors, r.norm_set, r.percentile, r.zone",
    ),
    "idp": (
        "idp_result",
        "test_date",
        "r.test_date, r.school_year, r.test, r.area, r.part, r.score, r.max_score, r.percentage,"
        " r.reference_percentage",
    ),
    "wellbeing": (
        "wellbeing_result",
        "observed_on",
        "r.observed_on, r.school_year, r.scale, r.score_text, r.score, r.context, r.observer, r.remark",
    ),
}


def pupil_results(db: Database, user: User, pupil_id: int) -> dict[str, pd.DataFrame]:
    """All results of one pupil per instrument, oldest first; empty frames when out of scope."""
    with db.cursor() as cur:
        return query_pupil_results(cur, user, pupil_id)


def query_pupil_results(cur, user: User, pupil_id: int) -> dict[str, pd.DataFrame]:
    condition, params = pupil_scope_sql(user, "results.read", "r.pupil_id")
    # One indexed SELECT per instrument, empty or not: an empty result still carries the right
    # columns and types, and a count first to skip the empty ones cost more than it saved.
    return {key: cur.execute(instrument_sql(key, condition), [pupil_id, *params]).df() for key in INSTRUMENTS}


def instrument_sql(key: str, condition: str = "TRUE", *, ordered: bool = True) -> str:
    """One pupil's rows of one instrument (parameter: the pupil id), oldest first, limited by `condition`.

    `ordered=False`: in no particular order, for a caller that sorts on the date column itself.
    """
    table, date_col, columns = INSTRUMENTS[key]
    order = f" ORDER BY r.{date_col}" if ordered else ""
    return f"SELECT {columns} FROM {table} r WHERE r.pupil_id = ? AND {condition}{order}"


def latest_zones(lvs: pd.DataFrame) -> pd.DataFrame:
    """The most recent LVS-VCLB result per domain (from a pupil_results frame)."""
    if lvs.empty:
        return lvs
    return lvs.sort_values("test_date").groupby("domain", as_index=False).last()
