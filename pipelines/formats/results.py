"""Rules every test-result format shares: school year of the test date, the pupil in the
roster and in a class on that date, and a test moment that fits the date.

A result format (lvs-vclb, and later avi, dmt, idp, welbevinden) calls these from its
`prepare`; they report into the same Findings and return vectorised columns.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dossier.instruments import MOMENT_MONTHS, MOMENT_PERIODS
from pipelines.formats import parsing
from pipelines.report import ERROR, WARNING, Findings

if TYPE_CHECKING:
    import duckdb

_counter = itertools.count()


def school_year(typed: pd.DataFrame, findings: Findings, date_col: str, given_col: str = "schooljaar") -> pd.Series:
    """The school year of each test date; a given `schooljaar` that differs is an error."""
    derived = parsing.school_year_of_dates(typed[date_col])
    given = typed[given_col] if given_col in typed.columns else pd.Series(np.nan, index=typed.index)
    valid_given = given.notna() & parsing.is_school_year(given.fillna(""))
    clash = (valid_given & derived.notna() & (given != derived)).fillna(False).to_numpy(dtype=bool)
    if clash.any():
        rows = typed.index[clash]
        messages = [
            f"schooljaar {{value}} past niet bij {date_col} {parsing.format_date(d)}: dat is schooljaar {sy}"
            for d, sy in zip(typed.loc[rows, date_col], derived.loc[rows], strict=True)
        ]
        findings.add_rows(ERROR, rows, given_col, messages)
    return derived


def resolve_pupils(
    cur: duckdb.DuckDBPyConnection,
    typed: pd.DataFrame,
    school_years: pd.Series,
    findings: Findings,
    date_col: str,
    id_col: str = "leerling_id",
) -> pd.DataFrame:
    """pupil_id and class_id per row (the class of the pupil's enrolment in that school year).

    Unknown pupil: error. No enrolment covering the date: warning (the result is kept).
    """
    # Look up each distinct (pupil, school year) once, then spread the answers over the rows.
    id_codes, id_values = pd.factorize(typed[id_col], use_na_sentinel=False)
    year_codes, year_values = pd.factorize(school_years, use_na_sentinel=False)
    pairs, inverse = np.unique(id_codes.astype(np.int64) * (len(year_values) + 1) + year_codes, return_inverse=True)
    lookup = pd.DataFrame(
        {
            "_pair": np.arange(len(pairs)),
            "pupil_number": pd.Series(
                np.asarray(id_values, dtype=object)[pairs // (len(year_values) + 1)], dtype=parsing.TEXT_DTYPE
            ),
            "school_year": pd.Series(
                np.asarray(year_values, dtype=object)[pairs % (len(year_values) + 1)], dtype=parsing.TEXT_DTYPE
            ),
        }
    )
    view = f"_pupils_{next(_counter)}"
    cur.register(view, lookup)
    try:
        found = cur.execute(
            f"SELECT f._pair, p.id AS pupil_id, e.class_id, e.entry_date, e.leave_date,"
            f" e.pupil_id IS NOT NULL AS has_enrolment"
            f" FROM {view} f LEFT JOIN pupil p ON p.pupil_number = f.pupil_number"
            f" LEFT JOIN enrolment e ON e.pupil_id = p.id AND e.school_year = f.school_year ORDER BY f._pair"
        ).df()
    finally:
        cur.unregister(view)
    found = found.iloc[inverse.ravel()].set_axis(typed.index)
    ids = typed[id_col]
    unknown = (ids.notna() & found["pupil_id"].isna()).to_numpy(dtype=bool)
    already = np.array([findings.has_error(int(r), id_col) for r in typed.index[unknown]], dtype=bool)
    report = unknown.copy()
    report[np.flatnonzero(unknown)[already]] = False  # a malformed id is reported once
    if report.any():
        rows = typed.index[report]
        findings.add_rows(
            ERROR, rows, id_col, [f"leerling {v} staat niet in de leerlingenlijst" for v in ids.loc[rows]]
        )
    dates = typed[date_col]
    entry = pd.to_datetime(found["entry_date"])
    leave = pd.to_datetime(found["leave_date"])
    known = ~unknown & dates.notna().to_numpy() & school_years.notna().to_numpy()
    has = found["has_enrolment"].fillna(False).to_numpy(dtype=bool)
    before = has & (entry.notna() & (dates < entry)).to_numpy(dtype=bool)
    after = has & (leave.notna() & (dates > leave)).to_numpy(dtype=bool)
    for mask, describe in (
        (known & ~has, lambda r: f"heeft geen inschrijving in schooljaar {school_years.at[r]}"),
        (
            known & before,
            lambda r: (
                f"was op {parsing.format_date(dates.at[r])} nog niet ingeschreven"
                f" (instroom {parsing.format_date(entry.at[r])})"
            ),
        ),
        (
            known & after,
            lambda r: (
                f"was op {parsing.format_date(dates.at[r])} al vertrokken (vertrek {parsing.format_date(leave.at[r])})"
            ),
        ),
    ):
        if mask.any():
            rows = typed.index[mask]
            findings.add_rows(WARNING, rows, date_col, [f"leerling {ids.at[r]} {describe(r)}" for r in rows])
    pupil_id = pd.array(found["pupil_id"], dtype="Int64")
    class_id = pd.array(found["class_id"].where(found["has_enrolment"].fillna(False).astype(bool)), dtype="Int64")
    return pd.DataFrame({"pupil_id": pupil_id, "class_id": class_id}, index=typed.index)


def check_moment(typed: pd.DataFrame, findings: Findings, date_col: str, moment_col: str = "afnamemoment") -> None:
    """Warn when the test moment does not fit the month of the test date."""
    dates = typed[date_col]
    months = dates.to_numpy(dtype="datetime64[M]").astype(np.int64) % 12 + 1
    codes, moments_seen = pd.factorize(typed[moment_col])
    fits = np.ones(len(typed), dtype=bool)
    for code, moment in enumerate(moments_seen):
        if moment in MOMENT_MONTHS:
            here = codes == code
            fits[here] = np.isin(months[here], MOMENT_MONTHS[moment])
    fits |= dates.isna().to_numpy()
    moments = typed[moment_col]
    odd = ~fits
    if odd.any():
        rows = typed.index[odd]
        findings.add_rows(
            WARNING,
            rows,
            moment_col,
            [
                f"afnamemoment '{{value}}' past niet bij {date_col} {parsing.format_date(dates.at[r])}:"
                f" {moments.at[r]} valt normaal in {MOMENT_PERIODS[moments.at[r]]}"
                for r in rows
            ],
        )
