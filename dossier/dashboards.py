"""Class and school dashboards: aggregates computed in DuckDB SQL, always within the acting user's scope.

Class queries need permission `dashboard.class` (a teacher: own classes only) and resolve the class
inside the same scope condition, so a crafted class id of another class gives the same Dutch
refusal as an unknown one. School queries need `dashboard.school`.

Every aggregate carries its group size `n`. Groups smaller than `MIN_GROUP_SIZE` are suppressed
(numbers set to missing, `suppressed` true) when the figures leave the app (`export=True`) or
when the user has no access to the pupils behind them; roles that can open those pupils anyway
see the small groups, because hiding them would protect nothing.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from dossier import audit
from dossier.access import ALL, AccessDenied, User, can, class_scope_sql, pupil_scope_sql, require, scope
from dossier.care import measure_active, measure_state, measure_state_sql
from dossier.db import Database
from dossier.instruments import (
    AVI_LEVELS,
    DEFAULT_ZONE_BANDS,
    LVS_DOMAINS,
    MOMENTS,
    ZONE_BANDS_SETTING,
    ZONES,
    expected_avi_rank,
    parse_zone_bands,
)
from dossier.labels import STICORDI
from dossier.schoolyear import is_school_year, school_year_of, shift

MIN_GROUP_SIZE = 5


NO_CLASS = "Deze klas bestaat niet of valt buiten jouw klassen."

# SQL snippets shared by the queries below; they only use column names, never user input.
MOMENT_ORDER_SQL = "list_position(['begin', 'midden', 'eind'], {col})"
DOMAIN_ORDER_SQL = "list_position(['wiskunde', 'spelling', 'technisch_lezen', 'begrijpend_lezen'], {col})"
ZONE_POS_SQL = "list_position(['A', 'B', 'C', 'D', 'E'], {col})"
# Expected AVI rank for a grade: M(g+2) mid-year, E(g+2) at year end; at the start of the year
# the end level of the previous grade. Capped at AVI-Plus.
EXPECTED_AVI_SQL = (
    "least(11, greatest(0, CASE {moment} WHEN 'begin' THEN 2 * {grade} - 2"
    " WHEN 'midden' THEN 2 * {grade} - 1 ELSE 2 * {grade} END))"
)
AVI_LEVELS_SQL = "[" + ", ".join(f"'{level}'" for level in AVI_LEVELS) + "]"


class DashboardError(ValueError):
    """Unusable input for a dashboard query; the message is Dutch."""


# -- helpers ---------------------------------------------------------------------------


def norm_shares(bands: Mapping[str, float]) -> dict[str, float]:
    """The share of the norm population per zone implied by the band table.

    Percentiles are whole numbers, so E (below D's bound of 11) holds P1-P10: 10 %, and D holds
    P11-P24 next to it: 15 %. With the default bands this is the published 25/25/25/15/10 split.
    """
    shares = {
        "A": 100 - bands["A"],
        "B": bands["A"] - bands["B"],
        "C": bands["B"] - bands["C"],
        "D": bands["C"] - (bands["D"] - 1),
        "E": bands["D"] - 1,
    }
    return {zone: value / 100 for zone, value in shares.items()}


def _class_id(value: object) -> int:
    """A class id as passed by a page or URL; anything else is refused like an unknown class."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        ident = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        ident = int(value.strip())
    else:
        raise AccessDenied(NO_CLASS)
    if not 0 < ident < 2**31:
        raise AccessDenied(NO_CLASS)
    return ident


def resolve_class(cur, user: User, class_id: object) -> dict:
    """With an open cursor: the class row, or AccessDenied when it does not exist or is outside the user's scope."""
    ident = _class_id(class_id)
    condition, params = class_scope_sql(user, "dashboard.class", "c.id")
    row = cur.execute(
        f"SELECT c.id, c.name, c.school_year, c.level, c.grade FROM class c WHERE c.id = ? AND {condition}",
        [ident, *params],
    ).fetchone()
    if row is None:
        raise AccessDenied(NO_CLASS)
    return dict(zip(("id", "name", "school_year", "level", "grade"), row, strict=True))


def _run(cur, sql: str, params: list) -> pd.DataFrame:
    return cur.execute(sql, params).df()


def _full_access(user: User, permission: str) -> bool:
    return scope(user, permission) == ALL


def suppress_small_groups(frame: pd.DataFrame, columns: list[str], *, hide: bool) -> pd.DataFrame:
    """Blank n and `columns` of groups with n < MIN_GROUP_SIZE when `hide`; always adds `suppressed`."""
    suppressed = _suppressed({col: frame[col].array.copy() for col in frame.columns}, columns, hide=hide)
    suppressed.index = frame.index
    return suppressed


def _suppressed(columns: dict, numbers: list[str], *, hide: bool) -> pd.DataFrame:
    """suppress_small_groups on a frame's columns (a dict of arrays), building the frame once.

    Nullable types whether or not a group is small, so the columns' types never depend on the data.
    """
    n = np.asarray(columns["n"], dtype=np.int64)  # a group's size is never missing
    small = n < MIN_GROUP_SIZE if hide else np.zeros(len(n), dtype=bool)
    if hide:
        for col in [*numbers, "n"]:
            integer = col == "n" or col.startswith("count")
            values = pd.array(columns[col], dtype="Int64" if integer else "Float64")
            missing = np.asarray(values.isna()) | small
            raw = values.to_numpy(dtype="int64" if integer else "float64", na_value=0 if integer else np.nan)
            kind = pd.arrays.IntegerArray if integer else pd.arrays.FloatingArray
            columns[col] = kind(raw, missing)
    columns["suppressed"] = small
    return _frame(columns)


def _moment(value: object) -> tuple[str | None, str]:
    """(None, 'begin') from 'begin' (the class's own year) or ('2025-2026', 'begin') from a pair."""
    if isinstance(value, str):
        year, moment = None, value
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        year, moment = value
    else:
        raise DashboardError("Kies een toetsmoment: begin, midden of eind (met een schooljaar).")
    if not isinstance(moment, str) or moment not in MOMENTS:
        raise DashboardError(f"Onbekend toetsmoment {moment!r}: kies begin, midden of eind.")
    if year is not None and (not isinstance(year, str) or not is_school_year(year)):
        raise DashboardError(f"Onbekend schooljaar {year!r}: schrijf het als 2025-2026.")
    return year, moment


def _school_year(value: object) -> str:
    if not isinstance(value, str) or not is_school_year(value):
        raise DashboardError(f"Onbekend schooljaar {value!r}: schrijf het als 2025-2026.")
    return value


def _domain(value: object) -> str:
    if value not in LVS_DOMAINS:
        raise DashboardError(f"Onbekend domein {value!r}: kies uit {', '.join(LVS_DOMAINS)}.")
    return value  # type: ignore[return-value]


# -- class dashboard -------------------------------------------------------------------
#
# The page's figures all come from one read of the class's rows (ClassData): two statements in one
# transaction, so both see the same snapshot. The first resolves the class and its members with the
# scope applied in SQL; the second reads every part's rows of those member ids only. The per-view
# functions below derive each frame from that read. Each public query function reads only the
# parts it needs.

_PUPIL_COLS = ["pupil_id", "pupil_number", "first_name", "last_name"]

# Each part's columns with their kind: i32/i64 integers (INTEGER/BIGINT), f floats, d dates,
# s text, o lists. The frames keep the types the single UNION ALL BY NAME read gave them with
# .df(), which the pages and their tests were written against: every integer nullable (the
# union padded each part with NULLs), text typed `str` once any part has a value in that column.
_PART_COLUMNS: dict[str, dict[str, str]] = {
    "pupil": {
        "pupil_id": "i32",
        "pupil_number": "s",
        "first_name": "s",
        "last_name": "s",
        "leave_date": "d",
        "care_ok": "b",
    },
    "lvs": {
        "pupil_id": "i32",
        "domain": "s",
        "school_year": "s",
        "moment": "s",
        "zone": "s",
        "percentile": "f",
        "test_date": "d",
        "grade": "i32",
    },
    "avi": {
        "pupil_id": "i32",
        "school_year": "s",
        "moment": "s",
        "grade": "i32",
        "level_rank": "i32",
        "test_date": "d",
    },
    "dmt": {
        "pupil_id": "i32",
        "school_year": "s",
        "moment": "s",
        "test_date": "d",
        "grade": "i32",
        "card1_correct": "i32",
        "card2_correct": "i32",
        "card3_correct": "i32",
        "card1_errors": "i32",
        "card2_errors": "i32",
        "card3_errors": "i32",
        "percentile": "f",
        "zone": "s",
    },
    "leuven": {
        "pupil_id": "i32",
        "school_year": "s",
        "observed_on": "d",
        "scale": "s",
        "score_text": "s",
        "score": "f",
        "context": "s",
        "observer": "s",
    },
    "phase": {"pupil_id": "i32", "phase": "i32", "phase_start": "d"},
    "measures": {
        "pupil_id": "i32",
        "active_measures": "i64",
        "measures": "o",
        "next_due_date": "d",
        "overdue_measures": "i64",
    },
}
_EMPTY_DTYPE = {
    "b": bool,
    "i32": np.int32,
    "i64": np.int64,
    "f": np.float64,
    "d": "datetime64[us]",
    "s": object,
    "o": object,
}
CLASS_PARTS = frozenset({"lvs", "avi", "dmt", "leuven", "care"})


class ClassData:
    """What one read of a class brings back: the class, its pupils in scope and their rows per instrument.

    `lvs` holds the LVS results from `lvs_from` up to the class's school year; avi, dmt and
    leuven those of the class's school year; phase and measures the care state on `today`
    (only when read with care). Frames of parts not read are empty.

    A read keeps its columns as arrays (`columns`: part -> column -> array, "pupil" for the
    pupils) and builds a part's frame only when asked: the derivations take the arrays, and a
    frame of a few hundred rows costs more to build than the rows cost to read.
    """

    def __init__(
        self,
        *,
        info: dict,
        bands: Mapping[str, float],
        today: date,
        care_read: bool,
        pupils: pd.DataFrame | None = None,
        parts: Mapping[str, pd.DataFrame] | None = None,
        columns: Mapping[str, dict] | None = None,
    ):
        if columns is None and (pupils is None or parts is None):
            raise ValueError("ClassData needs either the frames or the columns of a read")
        self.info = info
        self.bands = bands
        self.today = today
        self.care_read = care_read
        self._memo: dict = {}
        self._frames: dict[str, pd.DataFrame] = {} if columns is not None else {"pupil": pupils, **parts}
        self._names = tuple(columns) if columns is not None else ("pupil", *parts)
        if columns is not None:
            for name, arrays in columns.items():
                self._memo[("arrays", name)] = arrays

    def frame(self, name: str) -> pd.DataFrame:
        """A part's frame (or the pupils' for "pupil"), built from the read's arrays on first use."""
        if name not in self._frames:
            if name not in self._names:
                raise KeyError(name)
            self._frames[name] = _frame(self._memo[("arrays", name)])
        return self._frames[name]

    @property
    def pupils(self) -> pd.DataFrame:
        return self.frame("pupil")

    @property
    def parts(self) -> Mapping[str, pd.DataFrame]:
        return {name: self.frame(name) for name in self._names if name != "pupil"}

    def part(self, name: str) -> pd.DataFrame:
        if name == "pupil":
            raise KeyError(name)
        return self.frame(name)

    def memo(self, key: object, make):
        """`make()`, once per read: the page derives ten frames from the same columns."""
        memo = self._memo
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def arrays(self, name: str) -> dict:
        """The arrays of a part (or of "pupil"), by column."""
        return self.memo(("arrays", name), lambda: {col: series.array for col, series in self.frame(name).items()})

    def values(self, name: str, col: str) -> list:
        """One column of a part (or of "pupil") as a list; the derivations only read it."""
        return self.memo(("values", name, col), lambda: pd.Series(self.arrays(name)[col], copy=False).tolist())


def _history(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise DashboardError("Het aantal vorige schooljaren moet tussen 0 en 10 liggen.")
    return value


# A fetched column: its values and where they are missing.
Column = tuple[np.ndarray, np.ndarray]
Columns = dict[str, Column]

# The rows of each part, for the member ids read first ($ids; $cared: the members whose care the user
# may read). A list parameter costs DuckDB less to plan than the same ids written out in seven places,
# and prunes alike at run time. All parts go in one statement, told apart by `part`; `row_order`
# keeps each part in table order, as the old single read gave it.
_PART_SQL = {
    "names": """SELECT 'names' AS part, rowid AS row_order, id AS pupil_id, pupil_number, first_name, last_name
        FROM pupil WHERE id = ANY($ids)""",
    "lvs": """SELECT 'lvs' AS part, rowid AS row_order, pupil_id, domain, school_year, moment, zone, percentile,
               test_date, grade
        FROM lvs_result WHERE pupil_id = ANY($ids) AND ({lvs_years})""",
    # Every card read; _highest_card keeps the highest per moment, the level reached then. Plain scans
    # here (no GROUP BY) cost DuckDB less to plan than the rows cost to group in Python.
    "avi": """SELECT 'avi' AS part, rowid AS row_order, pupil_id, school_year, moment, grade, level_rank, test_date
        FROM avi_result WHERE pupil_id = ANY($ids) AND school_year = $year""",
    "dmt": """SELECT 'dmt' AS part, rowid AS row_order, pupil_id, school_year, moment, test_date, grade,
               card1_correct, card2_correct, card3_correct, card1_errors, card2_errors, card3_errors, percentile, zone
        FROM dmt_result WHERE pupil_id = ANY($ids) AND school_year = $year""",
    "leuven": """SELECT 'leuven' AS part, rowid AS row_order, pupil_id, school_year, observed_on, scale, score_text,
               score, context, observer
        FROM wellbeing_result WHERE pupil_id = ANY($ids) AND school_year = $year""",
    # The phases open today; _current_phase keeps the latest per pupil.
    "phase": """SELECT 'phase' AS part, rowid AS row_order, pupil_id, phase, start_date AS phase_start
        FROM care_phase
        WHERE pupil_id = ANY($cared) AND start_date <= $today AND (end_date IS NULL OR end_date >= $today)""",
    # Each measure of the cared-for members with each of its evaluations: _active_measures applies
    # care.measure_state_sql's rule to them (a CTE of that SQL here costs more than the rest of the read).
    "measure_rows": """SELECT 'measure_rows' AS part, m.id AS row_order, m.id AS measure_id, m.pupil_id, m.category,
               m.description,
               m.start_date, m.end_date, m.evaluation_date, e.id AS evaluation_id, e.decision, e.evaluated_on,
               e.next_evaluation_date
        FROM measure m LEFT JOIN measure_evaluation e ON e.measure_id = m.id
        WHERE m.pupil_id = ANY($cared)""",
}


def _unpack(fetched: dict) -> Columns:
    """fetchnumpy's columns as (values, missing) pairs: indexing a masked array costs twenty times more."""
    columns = {}
    for name, values in fetched.items():
        if isinstance(values, np.ma.MaskedArray):
            columns[name] = (np.asarray(values.data), np.ma.getmaskarray(values))
        else:
            columns[name] = (np.asarray(values), np.zeros(len(values), dtype=bool))
    return columns


def _rows(columns: Columns, rows: np.ndarray, names) -> Columns:
    return {name: (columns[name][0][rows], columns[name][1][rows]) for name in names}


def _in_row_order(columns: Columns, rows: np.ndarray, names) -> Columns:
    """`rows` of the fetched columns in table order, as the scans of the old single read returned them."""
    return _rows(columns, rows[np.argsort(columns["row_order"][0][rows], kind="stable")], names)


def _typed(column: Column, kind: str, *, text: bool, nullable: bool = True):
    """One fetched column as the array a frame column of the union read's type holds (see _PART_COLUMNS)."""
    raw, mask = column
    if kind in ("i32", "i64"):
        raw = raw.astype(np.int32 if kind == "i32" else np.int64, copy=False)
        return pd.arrays.IntegerArray(raw, mask.copy()) if nullable else pd.arrays.NumpyExtensionArray(raw)
    if kind == "d":
        raw = raw.astype("datetime64[us]", copy=True)
        raw[mask] = np.datetime64("NaT")
        return pd.array(raw)
    if kind == "f":
        raw = raw.astype(np.float64, copy=True)
        raw[mask] = np.nan
        return pd.arrays.NumpyExtensionArray(raw)
    if kind == "b":
        return pd.arrays.NumpyExtensionArray(raw.astype(bool) & ~mask)
    raw = raw.astype(object, copy=True)
    raw[mask] = None
    return pd.array(raw, dtype="str") if text else pd.arrays.NumpyExtensionArray(raw)


def _part_arrays(name: str, columns: Columns | None, *, texts: set[str], grade_nullable: bool) -> dict:
    kinds = _PART_COLUMNS[name]
    if columns is None:
        columns = {col: (np.empty(0, dtype=_EMPTY_DTYPE[kind]), np.empty(0, dtype=bool)) for col, kind in kinds.items()}
    return {
        col: _typed(columns[col], kind, text=col in texts, nullable=col != "grade" or grade_nullable)
        for col, kind in kinds.items()
    }


def _read_class(
    cur,
    user: User,
    class_id: object,
    parts: frozenset[str],
    *,
    history: int = 0,
    lvs_years: tuple[str, ...] = (),
    today: date | None = None,
) -> ClassData:
    """Everything the class dashboard shows, in one transaction; AccessDenied for a class outside the scope.

    The class and pupil scope are applied in SQL to the class and its members; every part reads
    only rows of those pupils. LVS rows cover `history` school years before the class's and any
    of `lvs_years`.
    """
    ident = _class_id(class_id)
    today = today or date.today()
    class_cond, class_params = class_scope_sql(user, "dashboard.class", "c.id")
    pupil_cond, pupil_params = pupil_scope_sql(user, "dashboard.class", "e.pupil_id")
    if "care" in parts:
        care_cond, care_params = pupil_scope_sql(user, "care.read", "e.pupil_id")
        # The same condition holds for every member already; evaluating it twice costs a second scope check.
        if (care_cond, care_params) == (pupil_cond, pupil_params):
            care_cond, care_params = "TRUE", []
    else:
        care_cond, care_params = "FALSE", []
    # Two statements (the members, then their rows) in one transaction, so both see one snapshot.
    cur.execute("BEGIN TRANSACTION")
    try:
        found = cur.execute(
            f"""SELECT c.id, c.name, c.school_year, c.level, c.grade, s.value AS setting,
                   m.pupil_id, m.leave_date, m.care_ok
            FROM class c
            LEFT JOIN setting s ON s.key = '{ZONE_BANDS_SETTING}'
            LEFT JOIN (
                SELECT e.pupil_id, e.leave_date, {care_cond} AS care_ok FROM enrolment e
                WHERE e.class_id = ? AND {pupil_cond}
            ) m ON TRUE
            WHERE c.id = ? AND {class_cond}""",
            [*care_params, ident, *pupil_params, ident, *class_params],
        ).fetchnumpy()
        if not len(found["id"]):
            raise AccessDenied(NO_CLASS)
        found = _unpack(found)
        info = {
            "id": int(found["id"][0][0]),
            "name": str(found["name"][0][0]),
            "school_year": str(found["school_year"][0][0]),
            "level": str(found["level"][0][0]),
            "grade": int(found["grade"][0][0]),
        }
        setting = None if found["setting"][1][0] else found["setting"][0][0]
        members = _rows(found, np.flatnonzero(~found["pupil_id"][1]), ("pupil_id", "leave_date", "care_ok"))
        fetched = _read_parts(cur, members, info["school_year"], parts, history, lvs_years, today)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    try:
        bands = parse_zone_bands(setting)
    except ValueError:
        bands = dict(DEFAULT_ZONE_BANDS)  # an invalid setting must not block the dashboard (as load_zone_bands)
    pupils = _pupil_rows(members, fetched.pop("names", None))
    texts = {"school_year"} | {
        col
        for name, columns in [("pupil", pupils), *fetched.items()]
        for col, kind in _PART_COLUMNS[name].items()
        if kind == "s" and not columns[col][1].all()
    }
    # The old read's grade column was nullable as soon as its union held a row without a grade.
    grade_nullable = setting is not None or any(
        len(columns["pupil_id"][0]) for name, columns in [("pupil", pupils), *fetched.items()] if name not in _GRADED
    )
    fetched["pupil"] = pupils
    arrays = {
        name: _part_arrays(name, fetched.get(name), texts=texts, grade_nullable=grade_nullable)
        for name in ("pupil", "lvs", "avi", "dmt", "leuven", "phase", "measures")
    }
    arrays["pupil"]["left_school"] = pd.arrays.NumpyExtensionArray(~pupils["leave_date"][1])
    data = ClassData(info=info, bands=bands, today=today, care_read="care" in parts, columns=arrays)
    return data


_GRADED = frozenset({"lvs", "avi", "dmt"})
_NAMES = ("pupil_id", "pupil_number", "first_name", "last_name")
_MEASURE_ROWS = (
    "measure_id",
    "pupil_id",
    "category",
    "description",
    "start_date",
    "end_date",
    "evaluation_date",
    "evaluation_id",
    "decision",
    "evaluated_on",
    "next_evaluation_date",
)


def _pupil_rows(members: Columns, names: Columns | None) -> Columns:
    """The members with their names, in the pupil table's order (as the old read's join gave them).

    A member without a pupil row (which the old read's join dropped) has no line of its own.
    """
    if names is None:
        empty = (np.empty(0, dtype=object), np.empty(0, dtype=bool))
        return _rows(members, np.empty(0, dtype=np.intp), members) | dict.fromkeys(_NAMES[1:], empty)
    row_of = {pupil: i for i, pupil in enumerate(members["pupil_id"][0].tolist())}
    at = np.asarray([row_of[pupil] for pupil in names["pupil_id"][0].tolist()], dtype=np.intp)
    return names | _rows(members, at, ("leave_date", "care_ok"))


def _read_parts(cur, members: Columns, year: str, parts, history, lvs_years, today) -> dict[str, Columns]:
    """The members' rows of every part asked for, in one statement; {} without members."""
    pupil_ids, _ = members["pupil_id"]
    if not len(pupil_ids):
        return {}
    # Care only for members the care scope allows and who are still at school.
    care_ok, care_missing = members["care_ok"]
    cared = pupil_ids[care_ok.astype(bool) & ~care_missing & members["leave_date"][1]].tolist()
    y0 = int(year[:4])
    params: dict[str, object] = {
        "ids": pupil_ids.tolist(),
        "year": year,
        "first": f"{y0 - history}-{y0 - history + 1}",
    }
    years = "school_year BETWEEN $first AND $year"
    if lvs_years:
        years += " OR list_contains($extra::VARCHAR[], school_year)"
        params["extra"] = list(lvs_years)
    read = ["names", *(name for name in ("lvs", "avi", "dmt", "leuven") if name in parts)]
    selects = [_PART_SQL[name].format(lvs_years=years) for name in read]
    if "care" in parts and cared:
        read += ["phase", "measure_rows"]
        selects += [_PART_SQL[name] for name in ("phase", "measure_rows")]
        params |= {"cared": cared, "today": today}
    sql = "\nUNION ALL BY NAME\n".join(selects)
    columns = _unpack(cur.execute(sql, {key: value for key, value in params.items() if f"${key}" in sql}).fetchnumpy())
    part = columns["part"][0]
    fields = {"names": _NAMES, "measure_rows": _MEASURE_ROWS}
    fetched = {
        name: _in_row_order(columns, np.flatnonzero(part == name), fields.get(name) or _PART_COLUMNS[name])
        for name in read
    }
    if "avi" in fetched:
        fetched["avi"] = _highest_card(fetched["avi"])
    if "phase" in fetched:
        fetched["phase"] = _current_phase(fetched["phase"])
    if "measure_rows" in fetched:
        fetched["measures"] = _active_measures(fetched.pop("measure_rows"), today)
    return fetched


def _groups(rows: Columns, keys: tuple[str, ...]) -> list[list[int]]:
    """Row positions per distinct value of `keys` (NOT NULL columns), groups in order of their first row."""
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*(rows[col][0].tolist() for col in keys), strict=True)):
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _highest_card(rows: Columns) -> Columns:
    """Per pupil, school year and moment: the highest grade, level and date read (max() over NOT NULL columns).

    Rows come in table order, so each group sits where its first row is, as min(rowid) ordered them in SQL.
    """
    groups = _groups(rows, ("pupil_id", "school_year", "moment"))
    first = np.asarray([group[0] for group in groups], dtype=np.intp)
    out = _rows(rows, first, ("pupil_id", "school_year", "moment"))
    for col in ("grade", "level_rank", "test_date"):
        values = rows[col][0]
        highest = np.asarray([values[group].max() for group in groups], dtype=values.dtype)
        out[col] = (highest, np.zeros(len(groups), dtype=bool))
    return out


def _current_phase(rows: Columns) -> Columns:
    """Per pupil, the phase open today that started last (arg_max(phase, start_date): on a tie the first row)."""
    groups = _groups(rows, ("pupil_id",))
    starts = rows["phase_start"][0]
    latest = np.asarray([group[int(np.argmax(starts[group]))] for group in groups], dtype=np.intp)
    return _rows(rows, latest, ("pupil_id", "phase", "phase_start"))


def _active_measures(rows: Columns, today: date) -> Columns:
    """Per pupil, the measures active on `today`, by the rule of care.measure_state_sql.

    A measure's latest evaluation (highest id) decides, through care.measure_state (the rule's one
    Python copy); tests/test_class_read.py checks the result against that SQL.
    """
    day = np.datetime64(today, "us")

    def values(col: str) -> list:
        raw, missing = rows[col]
        plain = list(raw) if raw.dtype.kind == "M" else raw.tolist()
        return [None if m else v for v, m in zip(plain, missing.tolist(), strict=True)]

    evaluation = values("evaluation_id")
    latest: dict[int, int] = {}
    for i, ident in enumerate(rows["measure_id"][0].tolist()):
        j = latest.get(ident)
        if j is None or (evaluation[i] is not None and (evaluation[j] is None or evaluation[i] > evaluation[j])):
            latest[ident] = i
    start, end, first_due = values("start_date"), values("end_date"), values("evaluation_date")
    evaluated_on, next_date = values("evaluated_on"), values("next_evaluation_date")
    decision, category, description = values("decision"), values("category"), values("description")
    pupil = rows["pupil_id"][0].tolist()
    per_pupil: dict[int, list] = {}
    for ident, i in latest.items():
        last = None if evaluation[i] is None else (decision[i], evaluated_on[i], next_date[i])
        _, effective_end, due = measure_state(end[i], first_due[i], last)
        if measure_active(start[i], effective_end, day):
            label = f"{STICORDI.get(category[i], category[i])}: {description[i]}"
            per_pupil.setdefault(pupil[i], []).append((start[i], ident, label, due))
    order = sorted(per_pupil, key=lambda p: min(item[1] for item in per_pupil[p]))
    items = [sorted(per_pupil[p]) for p in order]
    due_dates = [[item[3] for item in group if item[3] is not None] for group in items]
    next_due = [min(group) if group else None for group in due_dates]
    present = np.zeros(len(order), dtype=bool)
    return {
        "pupil_id": (np.asarray(order, dtype=np.int32), present),
        "active_measures": (np.asarray([len(group) for group in items], dtype=np.int64), present),
        "measures": (
            _object_array([np.asarray([item[2] for item in group], dtype=object) for group in items]),
            present,
        ),
        "next_due_date": (
            np.asarray([np.datetime64("NaT") if d is None else d for d in next_due], dtype="datetime64[us]"),
            np.asarray([d is None for d in next_due], dtype=bool),
        ),
        "overdue_measures": (np.asarray([sum(d < day for d in group) for group in due_dates], dtype=np.int64), present),
    }


def _object_array(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values if values else []
    return out


def read_class(db: Database, user: User, class_id: object, *, history: int = 1, today: date | None = None) -> ClassData:
    """Everything the class dashboard shows, in one read; the care part only for a role with care.read."""
    history = _history(history)
    parts = CLASS_PARTS if can(user, "care.read") else CLASS_PARTS - {"care"}
    with db.cursor() as cur:
        return _read_class(cur, user, class_id, parts, history=history, today=today)


# The derivations below work on row positions in plain Python and build each frame once, taking
# values from the read's own arrays (so every column keeps the type of the read): a class has a few
# hundred rows, where every pandas merge, groupby or sort costs more than the work itself.


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _asc(value: object) -> tuple:
    """Sort key of one value as pandas sorts: missing values last."""
    return (1, 0) if _missing(value) else (0, value)


def _positions(values: list, order: tuple[str, ...]) -> list[int]:
    """1-based position of each value in `order` (as list_position in SQL), 0 when absent."""
    index = {value: i for i, value in enumerate(order, start=1)}
    return [index.get(value, 0) if not _missing(value) else 0 for value in values]


def _take(arrays: Mapping, columns: list[str], rows: list[int]) -> dict:
    """Columns of a part's `arrays` at `rows` (-1: a missing value), each keeping its type."""
    index = np.asarray(rows, dtype=np.intp)
    return {col: arrays[col].take(index, allow_fill=True) for col in columns}


class _Pupils:
    """The read's pupils by id, with the name order the pages list them in."""

    def __init__(self, data: ClassData):
        self.arrays = data.arrays("pupil")
        self.ids = ids = data.values("pupil", "pupil_id")
        self.row = {pupil: i for i, pupil in enumerate(ids)}
        last, first = data.values("pupil", "last_name"), data.values("pupil", "first_name")
        self.name_key = [(_asc(a), _asc(b), _asc(c)) for a, b, c in zip(last, first, ids, strict=True)]

    def take(self, rows: list[int], *, left: bool = False) -> dict:
        return _take(self.arrays, [*_PUPIL_COLS, "left_school"] if left else _PUPIL_COLS, rows)


def _pupils(data: ClassData) -> _Pupils:
    return data.memo("pupils", lambda: _Pupils(data))


def _frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame(columns, copy=False)


def overview_from(data: ClassData, *, history: int = 1) -> pd.DataFrame:
    """class_overview's frame from a read (which must hold the LVS rows of those years)."""
    lvs = data.arrays("lvs")
    first, last = shift(data.info["school_year"], -history), data.info["school_year"]
    years = data.values("lvs", "school_year")
    ids, domains, moments = (data.values("lvs", col) for col in ("pupil_id", "domain", "moment"))
    keys = list(zip(ids, domains, years, moments, strict=True))
    # A cell is a (domain, school_year, moment) at which some pupil of the class was tested.
    cells, found = {}, {}
    for i, key in enumerate(keys):
        if first <= years[i] <= last:
            cells.setdefault(key[1:], i)
            found[key] = i
    pupils = _pupils(data)
    cell_keys = list(cells)
    cell_rows = list(cells.values())
    domain_pos = _positions([key[0] for key in cell_keys], LVS_DOMAINS)
    moment_pos = _positions([key[2] for key in cell_keys], MOMENTS)
    # Pupils in name order, each with the cells in page order: both sorts are stable, as one sort of
    # the whole grid on (name, domain, year, moment) would be.
    pupil_order = sorted(range(len(pupils.ids)), key=pupils.name_key.__getitem__)
    cell_order = sorted(range(len(cell_keys)), key=lambda c: (domain_pos[c], _asc(cell_keys[c][1]), moment_pos[c]))
    grid_pupils = [p for p in pupil_order for _ in cell_order]
    grid_cells = cell_order * len(pupil_order)
    ids = pupils.ids
    columns = pupils.take(grid_pupils, left=True)
    columns |= _take(lvs, ["domain", "school_year", "moment"], [cell_rows[c] for c in grid_cells])
    columns["moment_order"] = np.asarray([moment_pos[c] for c in grid_cells], dtype="int64")
    result_rows = [found.get((ids[p], *cell_keys[c]), -1) for p, c in zip(grid_pupils, grid_cells, strict=True)]
    columns |= _take(lvs, ["zone", "percentile", "test_date", "grade"], result_rows)
    return _frame(columns)


def _median(values: list[float]) -> float:
    present = [v for v in values if not _missing(v)]
    return float(np.median(present)) if present else float("nan")


def zone_distribution_from(data: ClassData, *, export: bool = False) -> pd.DataFrame:
    """zone_distribution's frame from a read."""
    lvs = data.arrays("lvs")
    year = data.info["school_year"]
    domains, moments, zones = (data.values("lvs", col) for col in ("domain", "moment", "zone"))
    percentiles = data.values("lvs", "percentile")
    groups: dict[tuple, list[int]] = {}
    for i, row_year in enumerate(data.values("lvs", "school_year")):
        if row_year == year:
            groups.setdefault((domains[i], moments[i]), []).append(i)
    order = sorted(groups, key=lambda g: (_positions([g[0]], LVS_DOMAINS)[0], _positions([g[1]], MOMENTS)[0]))
    shares = norm_shares(data.bands)
    rows, out = [], {k: [] for k in ("moment_order", "zone", "count", "n", "median_percentile", "norm_share")}
    for domain, moment in order:
        members = groups[(domain, moment)]
        median = _median([percentiles[i] for i in members])
        for zone in sorted(ZONES):
            rows.append(members[0])
            out["moment_order"].append(_positions([moment], MOMENTS)[0])
            out["zone"].append(zone)
            out["count"].append(sum(1 for i in members if zones[i] == zone))
            out["n"].append(len(members))
            out["median_percentile"].append(median)
            out["norm_share"].append(shares[zone])
    columns = _take(lvs, ["domain", "school_year", "moment"], rows)
    count, n = np.asarray(out["count"], dtype="int64"), np.asarray(out["n"], dtype="int64")
    columns |= {
        "moment_order": np.asarray(out["moment_order"], dtype="int64"),
        # Without any group the zone column is untyped, as the pandas cross join gave it.
        "zone": pd.array(out["zone"], dtype="str" if rows else object),
        "count": count,
        "n": n,
        "share": count / n if len(n) else np.zeros(0, dtype="float64"),
        "median_percentile": np.asarray(out["median_percentile"], dtype="float64"),
        "norm_share": np.asarray(out["norm_share"], dtype="float64"),
    }
    return _suppressed(columns, ["count", "share", "median_percentile"], hide=export)


def _growth_moments(data: ClassData, from_moment: object, to_moment: object) -> tuple[tuple, tuple]:
    (from_year, start), (to_year, end) = _moment(from_moment), _moment(to_moment)
    year = data.info["school_year"]
    return (from_year or year, start), (to_year or year, end)


def _pairs(data: ClassData, start: tuple, end: tuple) -> tuple[_Pupils, list[tuple]]:
    """(pupil row, row at the first moment, row at the second) per pupil and domain tested at both, in page order."""
    pupil_ids, domains = data.values("lvs", "pupil_id"), data.values("lvs", "domain")
    at = list(zip(data.values("lvs", "school_year"), data.values("lvs", "moment"), strict=True))
    after = {(pupil_ids[i], domains[i]): i for i in range(len(at)) if at[i] == end}
    pupils = _pupils(data)
    pairs = []
    for i in range(len(at)):
        j = after.get((pupil_ids[i], domains[i])) if at[i] == start else None
        p = pupils.row.get(pupil_ids[i])
        if j is not None and p is not None:
            pairs.append(((_positions([domains[i]], LVS_DOMAINS)[0], pupils.name_key[p]), p, i, j))
    pairs.sort(key=lambda item: item[0])
    return pupils, [(p, i, j) for _, p, i, j in pairs]


def _growth_columns(data: ClassData, from_moment: object, to_moment: object) -> dict:
    """growth's columns, once per read and pair of moments: the page draws the growth and its distribution."""
    start, end = _growth_moments(data, from_moment, to_moment)
    return data.memo(("growth_columns", start, end), lambda: _growth_of(data, *_pairs(data, start, end)))


def _growth_of(data: ClassData, pupils: _Pupils, pairs: list[tuple]) -> dict:
    lvs = data.arrays("lvs")
    columns = pupils.take([p for p, _, _ in pairs], left=True)
    columns |= _take(lvs, ["domain"], [i for _, i, _ in pairs])
    columns["zone_from"] = _take(lvs, ["zone"], [i for _, i, _ in pairs])["zone"]
    columns["zone_to"] = _take(lvs, ["zone"], [j for _, _, j in pairs])["zone"]
    zone_from = np.asarray(_positions(list(columns["zone_from"]), ZONES), dtype="int64")
    zone_to = np.asarray(_positions(list(columns["zone_to"]), ZONES), dtype="int64")
    # Positive = moved up towards A.
    columns["zone_change"] = zone_from - zone_to
    columns["percentile_from"] = _take(lvs, ["percentile"], [i for _, i, _ in pairs])["percentile"]
    columns["percentile_to"] = _take(lvs, ["percentile"], [j for _, _, j in pairs])["percentile"]
    columns["percentile_change"] = columns["percentile_to"] - columns["percentile_from"]
    return columns


def growth_from(data: ClassData, from_moment: object, to_moment: object) -> pd.DataFrame:
    """growth's frame from a read (which must hold the LVS rows of both moments)."""
    return _frame(dict(_growth_columns(data, from_moment, to_moment)))


def growth_distribution_from(
    data: ClassData, from_moment: object, to_moment: object, *, export: bool = False
) -> pd.DataFrame:
    """growth_distribution's frame from a read."""
    per_pupil = _growth_columns(data, from_moment, to_moment)
    domains, changes = per_pupil["domain"].tolist(), per_pupil["zone_change"].tolist()
    percentile_changes = pd.Series(per_pupil["percentile_change"], copy=False).tolist()
    per_domain: dict[object, list[int]] = {}
    per_change: dict[tuple, int] = {}
    for i, domain in enumerate(domains):
        per_domain.setdefault(domain, []).append(i)
        per_change[(domain, changes[i])] = per_change.get((domain, changes[i]), 0) + 1
    medians = {domain: _median([percentile_changes[i] for i in rows]) for domain, rows in per_domain.items()}
    order = sorted(per_change, key=lambda key: (_positions([key[0]], LVS_DOMAINS)[0], -key[1]))
    count = np.asarray([per_change[key] for key in order], dtype="int64")
    # Nullable n and share, as the pandas groupby over the nullable pupil ids gave them.
    n = pd.array([len(per_domain[domain]) for domain, _ in order], dtype="Int64")
    columns = {
        "domain": pd.array([domain for domain, _ in order], dtype=per_pupil["domain"].dtype),
        "zone_change": np.asarray([change for _, change in order], dtype="int64"),
        "count": count,
        "n": n,
        "share": pd.array(count, dtype="Int64") / n,
        "median_percentile_change": np.asarray([medians[domain] for domain, _ in order], dtype="float64"),
    }
    return _suppressed(columns, ["count", "share", "median_percentile_change"], hide=export)


def _avi_levels(ranks: list) -> pd.api.extensions.ExtensionArray:
    levels = [AVI_LEVELS[r] if not _missing(r) and 0 <= r < len(AVI_LEVELS) else None for r in ranks]
    return pd.array(levels, dtype="str")


def _in_name_order(data: ClassData, part: str, lead: list[list]) -> tuple[_Pupils, list[int], list[int]]:
    """Rows of `part` whose pupil is in the read, sorted on the `lead` key columns and then the pupil's name."""
    pupils = _pupils(data)
    keyed = []
    for i, pupil in enumerate(data.values(part, "pupil_id")):
        p = pupils.row.get(pupil)
        if p is not None:
            keyed.append(((*(col[i] for col in lead), pupils.name_key[p]), p, i))
    keyed.sort(key=lambda item: item[0])
    return pupils, [p for _, p, _ in keyed], [i for _, _, i in keyed]


def _by_moment(data: ClassData, part: str) -> tuple[dict, list[int], dict]:
    """A part's arrays, its rows in (moment, name) order, and the columns its frame opens with:
    the pupil, school_year, moment and moment_order."""
    arrays = data.arrays(part)
    moment_order = _positions(data.values(part, "moment"), MOMENTS)
    pupils, prow, rows = _in_name_order(data, part, [moment_order])
    columns = pupils.take(prow)
    columns |= _take(arrays, ["school_year", "moment"], rows)
    columns["moment_order"] = np.asarray([moment_order[i] for i in rows], dtype="int64")
    return arrays, rows, columns


def avi_from(data: ClassData) -> pd.DataFrame:
    """avi_vs_expected's frame from a read."""
    avi, rows, columns = _by_moment(data, "avi")
    columns |= _take(avi, ["grade", "test_date", "level_rank"], rows)
    ranks, grades = list(columns["level_rank"]), list(columns["grade"])
    moments = data.values("avi", "moment")
    expected = [
        None if _missing(grade) else expected_avi_rank(int(grade), moments[i])
        for grade, i in zip(grades, rows, strict=True)
    ]
    columns["level"] = _avi_levels(ranks)
    columns["expected_rank"] = pd.array(expected, dtype="Int64")
    columns["expected_level"] = _avi_levels(expected)
    steps = [None if _missing(r) or e is None else int(r) - e for r, e in zip(ranks, expected, strict=True)]
    columns["steps"] = pd.array(steps, dtype="Int64")
    return _frame(columns)


def dmt_from(data: ClassData) -> pd.DataFrame:
    """dmt_cards' frame from a read."""
    dmt, rows, columns = _by_moment(data, "dmt")
    counts = [f"card{i}_{what}" for what in ("correct", "errors") for i in (1, 2, 3)]
    columns |= _take(dmt, ["test_date", "grade", *counts], rows)
    cards = zip(*(list(columns[f"card{i}_correct"]) for i in (1, 2, 3)), strict=True)
    total = [sum(0 if _missing(c) else int(c) for c in row) for row in cards]
    columns["total_correct"] = np.asarray(total, dtype="int64")
    columns |= _take(dmt, ["percentile", "zone"], rows)
    return _frame(columns)


def wellbeing_from(data: ClassData) -> pd.DataFrame:
    """wellbeing's frame from a read."""
    leuven = data.arrays("leuven")
    lead = [[_asc(v) for v in data.values("leuven", col)] for col in ("scale", "observed_on")]
    pupils, prow, rows = _in_name_order(data, "leuven", lead)
    columns = pupils.take(prow)
    observation = ["school_year", "observed_on", "scale", "score_text", "score", "context", "observer"]
    columns |= _take(leuven, observation, rows)
    return _frame(columns)


def care_from(data: ClassData) -> pd.DataFrame:
    """care_overview's frame from a read with care; pupils who left are not listed."""
    if not data.care_read:
        raise ValueError("read without the care part")
    pupils = _pupils(data)
    listed = [
        p
        for p, (ok, left) in enumerate(
            zip(data.values("pupil", "care_ok"), data.values("pupil", "left_school"), strict=True)
        )
        if ok and not left
    ]
    phase_part, measures_part = data.arrays("phase"), data.arrays("measures")
    phase_row = {pupil: i for i, pupil in enumerate(data.values("phase", "pupil_id"))}
    measure_row = {pupil: i for i, pupil in enumerate(data.values("measures", "pupil_id"))}
    ids = pupils.ids
    phase_rows = [phase_row.get(ids[p], -1) for p in listed]
    phases = data.values("phase", "phase")
    phase = [0 if r < 0 or _missing(phases[r]) else int(phases[r]) for r in phase_rows]
    order = sorted(range(len(listed)), key=lambda k: (-phase[k], pupils.name_key[listed[k]]))
    phase_rows = [phase_rows[k] for k in order]
    measure_rows = [measure_row.get(ids[listed[k]], -1) for k in order]
    columns = pupils.take([listed[k] for k in order])
    columns["phase"] = np.asarray([phase[k] for k in order], dtype="int64")
    columns |= _take(phase_part, ["phase_start"], phase_rows)
    part = _take(measures_part, ["active_measures", "measures", "next_due_date", "overdue_measures"], measure_rows)

    def counts(values) -> np.ndarray:
        return np.asarray([0 if _missing(v) else int(v) for v in values], dtype="int64")

    columns["active_measures"] = counts(part["active_measures"])
    columns["measures"] = pd.array(
        [m if isinstance(m, (list, np.ndarray)) else [] for m in part["measures"]], dtype=object
    )
    columns["next_due_date"] = part["next_due_date"]
    columns["overdue_measures"] = counts(part["overdue_measures"])
    return _frame(columns)


def class_info(db: Database, user: User, class_id: object) -> dict:
    """id, name, school_year, level, grade of a class in the user's dashboard scope."""
    with db.cursor() as cur:
        return resolve_class(cur, user, class_id)


def class_overview(db: Database, user: User, class_id: object, *, history: int = 1) -> pd.DataFrame:
    """One row per pupil × (domain, school_year, moment) at which the class's pupils were tested.

    Covers the class's school year and `history` years before it. A pupil without a result at a
    tested moment gets a row with a missing zone, so the heatmap shows the gap.
    Columns: pupil_id, pupil_number, first_name, last_name, left_school, domain, school_year,
    moment, moment_order, zone, percentile, test_date, grade.
    """
    history = _history(history)
    with db.cursor() as cur:
        data = _read_class(cur, user, class_id, frozenset({"lvs"}), history=history)
    return overview_from(data, history=history)


def zone_distribution(db: Database, user: User, class_id: object, *, export: bool = False) -> pd.DataFrame:
    """Per domain × moment of the class's school year and zone: count, n, share, norm_share.

    Also the group's median percentile. `export=True` suppresses groups smaller than 5.
    """
    with db.cursor() as cur:
        data = _read_class(cur, user, class_id, frozenset({"lvs"}))
    return zone_distribution_from(data, export=export)


def _read_growth(db: Database, user: User, class_id: object, from_moment: object, to_moment: object) -> ClassData:
    years = tuple(year for year, _ in (_moment(from_moment), _moment(to_moment)) if year is not None)
    with db.cursor() as cur:
        return _read_class(cur, user, class_id, frozenset({"lvs"}), lvs_years=years)


def growth(db: Database, user: User, class_id: object, from_moment: object, to_moment: object) -> pd.DataFrame:
    """Per pupil and domain tested at both moments: zone_from/zone_to, zone_change (+ = up), percentile change.

    A moment is 'begin'/'midden'/'eind' in the class's school year, or a (school_year, moment) pair.
    """
    return growth_from(_read_growth(db, user, class_id, from_moment, to_moment), from_moment, to_moment)


def growth_distribution(
    db: Database, user: User, class_id: object, from_moment: object, to_moment: object, *, export: bool = False
) -> pd.DataFrame:
    """The class's distribution of change per domain: zone_change, count, n, share, median_percentile_change.

    n and the median percentile change are per domain (pupils tested at both moments).
    """
    data = _read_growth(db, user, class_id, from_moment, to_moment)
    return growth_distribution_from(data, from_moment, to_moment, export=export)


def avi_vs_expected(db: Database, user: User, class_id: object) -> pd.DataFrame:
    """Per pupil and AVI moment of the class's year: level reached (highest card) against the expected level.

    Columns: pupil_id, pupil_number, first_name, last_name, school_year, moment, grade, test_date,
    level_rank, level, expected_rank, expected_level, steps (reached − expected; negative = behind).
    """
    with db.cursor() as cur:
        return avi_from(_read_class(cur, user, class_id, frozenset({"avi"})))


def dmt_cards(db: Database, user: User, class_id: object) -> pd.DataFrame:
    """Per pupil and DMT moment of the class's year: words correct and errors per card, total, percentile, zone."""
    with db.cursor() as cur:
        return dmt_from(_read_class(cur, user, class_id, frozenset({"dmt"})))


def wellbeing(db: Database, user: User, class_id: object) -> pd.DataFrame:
    """Leuven scale observations (welbevinden, betrokkenheid) of the class's pupils in its school year."""
    with db.cursor() as cur:
        return wellbeing_from(_read_class(cur, user, class_id, frozenset({"leuven"})))


# Care: a measure's current state, derived in one place (dossier.care).
MEASURE_STATE_CTE = measure_state_sql()


def care_overview(db: Database, user: User, class_id: object, *, today: date | None = None) -> pd.DataFrame:
    """Per pupil of the class: open care phase (0 = none open) and active measures on `today`.

    Columns: pupil_id, pupil_number, first_name, last_name, phase, phase_start, active_measures,
    measures (list of 'categorie: omschrijving'), next_due_date, overdue_measures.
    """
    require(user, "care.read")
    with db.cursor() as cur:
        return care_from(_read_class(cur, user, class_id, frozenset({"care"}), today=today))


def record_view(db: Database, user: User, view: str, class_id: object = None) -> None:
    """One audit row when a page opens a dashboard (the queries themselves stay read-only and fast)."""

    def write(cur):
        if class_id is not None:
            info = resolve_class(cur, user, class_id)
            detail = f"klas {info['name']} ({info['school_year']})"
        else:
            require(user, "dashboard.school")
            detail = "hele school"
        audit.record(cur, user, "view", object=f"dashboard:{view}", detail=detail)

    db.write(write)


# -- school view -----------------------------------------------------------------------


def _school_scope(user: User) -> tuple[str, list, bool]:
    """The pupil condition for school aggregates and whether small groups must be hidden."""
    require(user, "dashboard.school")
    # A role may get the school view without reading every pupil: then small groups would
    # single out pupils it cannot open, so those are hidden.
    condition, params = pupil_scope_sql(user, "dashboard.school", "r.pupil_id")
    return condition, params, not _full_access(user, "results.read")


def school_trends(db: Database, user: User, *, export: bool = False) -> pd.DataFrame:
    """Per grade × domain × school_year × moment: n, n_d_e, share_d_e, median_percentile (LVS-VCLB)."""
    condition, params, hide = _school_scope(user)
    with db.cursor() as cur:
        frame = _run(
            cur,
            f"""
            SELECT r.grade, r.domain, r.school_year, r.moment,
                   {MOMENT_ORDER_SQL.format(col="r.moment")} AS moment_order,
                   count(*) AS n,
                   count(*) FILTER (WHERE r.zone IN ('D', 'E')) AS n_d_e,
                   count(*) FILTER (WHERE r.zone IN ('D', 'E')) / count(*) AS share_d_e,
                   median(r.percentile) AS median_percentile
            FROM lvs_result r
            WHERE {condition}
            GROUP BY r.grade, r.domain, r.school_year, r.moment
            ORDER BY r.grade, {DOMAIN_ORDER_SQL.format(col="r.domain")}, r.school_year, moment_order
            """,
            params,
        )
    return suppress_small_groups(frame, ["n_d_e", "share_d_e", "median_percentile"], hide=hide or export)


def cohorts(db: Database, user: User, domain: str, *, export: bool = False) -> pd.DataFrame:
    """A domain followed per cohort through the grades.

    A cohort is the school year a pupil entered L1, derived from the pupil's earliest enrolment
    in a lager class (school year minus grade − 1), so later arrivals join their cohort and a
    pupil who repeats a year stays in the cohort they started with. `cohort_grade` is the grade
    the cohort is in that school year (1 in its L1 year, 2 the year after ...), whatever grade a
    repeater is actually in, so each cohort is one line through time.
    Columns: cohort ('2024-2025'), school_year, cohort_grade, moment, n, n_d_e, share_d_e,
    median_percentile.
    """
    domain = _domain(domain)
    condition, params, hide = _school_scope(user)
    with db.cursor() as cur:
        frame = _run(
            cur,
            f"""
            WITH first_lager AS (
                SELECT e.pupil_id,
                       arg_min(CAST(left(e.school_year, 4) AS INTEGER) - (c.grade - 1), e.school_year) AS l1_start
                FROM enrolment e JOIN class c ON c.id = e.class_id
                WHERE c.level = 'lager'
                GROUP BY e.pupil_id
            )
            SELECT printf('%d-%d', f.l1_start, f.l1_start + 1) AS cohort, r.school_year,
                   CAST(left(r.school_year, 4) AS INTEGER) - f.l1_start + 1 AS cohort_grade, r.moment,
                   {MOMENT_ORDER_SQL.format(col="r.moment")} AS moment_order,
                   count(*) AS n,
                   count(*) FILTER (WHERE r.zone IN ('D', 'E')) AS n_d_e,
                   count(*) FILTER (WHERE r.zone IN ('D', 'E')) / count(*) AS share_d_e,
                   median(r.percentile) AS median_percentile
            FROM lvs_result r JOIN first_lager f ON f.pupil_id = r.pupil_id
            WHERE r.domain = ? AND {condition}
            GROUP BY f.l1_start, r.school_year, r.moment
            ORDER BY cohort, r.school_year, moment_order
            """,
            [domain, *params],
        )
    return suppress_small_groups(frame, ["n_d_e", "share_d_e", "median_percentile"], hide=hide or export)


def compare_classes(
    db: Database, user: User, school_year: str, domain: str, moment: str, *, export: bool = False
) -> pd.DataFrame:
    """Classes side by side at one moment: n, count per zone (count_A … count_E), share_d_e, median_percentile.

    The class is the pupil's enrolment in that school year.
    """
    year = _school_year(school_year)
    domain = _domain(domain)
    if moment not in MOMENTS:
        raise DashboardError(f"Onbekend toetsmoment {moment!r}: kies begin, midden of eind.")
    condition, params, hide = _school_scope(user)
    zone_counts = ", ".join(f"count(*) FILTER (WHERE r.zone = '{z}') AS count_{z}" for z in ZONES)
    with db.cursor() as cur:
        frame = _run(
            cur,
            f"""
            SELECT c.id AS class_id, c.name AS class_name, c.level, c.grade,
                   count(*) AS n, {zone_counts},
                   count(*) FILTER (WHERE r.zone IN ('D', 'E')) / count(*) AS share_d_e,
                   median(r.percentile) AS median_percentile
            FROM lvs_result r
            JOIN enrolment e ON e.pupil_id = r.pupil_id AND e.school_year = r.school_year
            JOIN class c ON c.id = e.class_id
            WHERE r.school_year = ? AND r.domain = ? AND r.moment = ? AND {condition}
            GROUP BY c.id, c.name, c.level, c.grade
            ORDER BY c.grade, c.name
            """,
            [year, domain, moment, *params],
        )
    counts = [f"count_{z}" for z in ZONES]
    return suppress_small_groups(frame, [*counts, "share_d_e", "median_percentile"], hide=hide or export)


# "Slipped since last year": the share in D and E up by this much, or the median percentile down by this much.
# Ten points: in a class of twenty one pupil is five, so smaller moves are mostly noise.
SLIP_SHARE = 0.10
SLIP_MEDIAN = 10.0


def _changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds change_share_d_e, change_median and slipped from the *_before columns (missing stays missing)."""
    now_share, before_share = frame["share_d_e"].astype("Float64"), frame["share_d_e_before"].astype("Float64")
    now_median = frame["median_percentile"].astype("Float64")
    before_median = frame["median_percentile_before"].astype("Float64")
    frame["change_share_d_e"] = now_share - before_share
    frame["change_median"] = now_median - before_median
    # Round before comparing: 0.30 - 0.25 is 0.04999... in floating point.
    slipped = (frame["change_share_d_e"].round(9) >= SLIP_SHARE) | (frame["change_median"].round(9) <= -SLIP_MEDIAN)
    frame["slipped"] = slipped.fillna(False).astype(bool)
    return frame


def latest_moment(trends: pd.DataFrame, school_year: str) -> str | None:
    """The latest test moment of `school_year` in a school_trends frame, or None when it has no results."""
    part = trends[trends["school_year"] == school_year]
    if part.empty:
        return None
    return str(part.sort_values("moment_order")["moment"].iloc[-1])


def year_over_year(trends: pd.DataFrame, school_year: str, moment: str) -> pd.DataFrame:
    """Per grade × domain: `moment` of `school_year` against the same moment a school year earlier.

    Takes the frame of school_trends (so its suppression carries over: a hidden group has no
    figures, and neither has its change). Different pupils: this year's L3 against last year's L3.
    Columns: grade, domain, moment, n, share_d_e, median_percentile, n_before, share_d_e_before,
    median_percentile_before, change_share_d_e, change_median, slipped, suppressed.
    """
    year = _school_year(school_year)
    if moment not in MOMENTS:
        raise DashboardError(f"Onbekend toetsmoment {moment!r}: kies begin, midden of eind.")
    keep = ["grade", "domain", "n", "share_d_e", "median_percentile", "suppressed"]
    now = trends.loc[(trends["school_year"] == year) & (trends["moment"] == moment), keep]
    before = trends.loc[(trends["school_year"] == shift(year, -1)) & (trends["moment"] == moment), keep]
    frame = now.merge(before, on=["grade", "domain"], how="left", suffixes=("", "_before"))
    frame["suppressed"] = frame["suppressed"].astype(bool) | frame["suppressed_before"].fillna(False).astype(bool)
    frame = frame.drop(columns=["suppressed_before"])
    frame.insert(2, "moment", moment)
    order = {d: i for i, d in enumerate(LVS_DOMAINS)}
    frame = frame.sort_values(["grade", "domain"], key=lambda c: c.map(order) if c.name == "domain" else c)
    return _changes(frame.reset_index(drop=True))


def class_changes(db: Database, user: User, school_year: str, moment: str, *, export: bool = False) -> pd.DataFrame:
    """Per class of `school_year` and domain: its pupils at `moment` against the same pupils a year earlier.

    Only pupils tested at both moments count, so the change is theirs, not a different group's.
    Columns: class_id, class_name, level, grade, domain, moment, n, share_d_e, median_percentile,
    share_d_e_before, median_percentile_before, change_share_d_e, change_median, slipped, suppressed.
    """
    year = _school_year(school_year)
    if moment not in MOMENTS:
        raise DashboardError(f"Onbekend toetsmoment {moment!r}: kies begin, midden of eind.")
    require(user, "dashboard.school")
    condition, params = pupil_scope_sql(user, "dashboard.school", "e.pupil_id")
    hide = not _full_access(user, "results.read") or export
    with db.cursor() as cur:
        frame = _run(
            cur,
            f"""
            WITH members AS (
                SELECT e.pupil_id, c.id AS class_id, c.name AS class_name, c.level, c.grade
                FROM enrolment e JOIN class c ON c.id = e.class_id
                WHERE e.school_year = ? AND {condition}
            ),
            now AS (SELECT pupil_id, domain, zone, percentile FROM lvs_result WHERE school_year = ? AND moment = ?),
            before AS (SELECT pupil_id, domain, zone, percentile FROM lvs_result WHERE school_year = ? AND moment = ?)
            SELECT m.class_id, m.class_name, m.level, m.grade, n.domain, ? AS moment,
                   count(*) AS n,
                   count(*) FILTER (WHERE n.zone IN ('D', 'E')) / count(*) AS share_d_e,
                   median(n.percentile) AS median_percentile,
                   count(*) FILTER (WHERE b.zone IN ('D', 'E')) / count(*) AS share_d_e_before,
                   median(b.percentile) AS median_percentile_before
            FROM members m
            JOIN now n ON n.pupil_id = m.pupil_id
            JOIN before b ON b.pupil_id = m.pupil_id AND b.domain = n.domain
            GROUP BY m.class_id, m.class_name, m.level, m.grade, n.domain
            ORDER BY list_position(['kleuter', 'lager', 'secundair'], m.level), m.grade, m.class_name,
                     {DOMAIN_ORDER_SQL.format(col="n.domain")}
            """,
            [year, *params, year, moment, shift(year, -1), moment, moment],
        )
    frame = _changes(frame)
    columns = ["share_d_e", "median_percentile", "share_d_e_before", "median_percentile_before"]
    frame = suppress_small_groups(frame, [*columns, "change_share_d_e", "change_median"], hide=hide)
    frame.loc[frame["suppressed"], "slipped"] = False
    return frame


def care_phase_counts(
    db: Database, user: User, school_year: str | None = None, *, today: date | None = None, export: bool = False
) -> pd.DataFrame:
    """Per grade (level, grade) and care phase 0-3: pupils in that phase, n enrolled, share.

    The phase is the one open on `today`, or on the last day of a past school year. Phase 0
    counts pupils without an open phase of 1 or higher. Pupils who left are not counted.
    """
    today = today or date.today()
    year = _school_year(school_year or school_year_of(today))
    require(user, "dashboard.school")
    condition, params = pupil_scope_sql(user, "dashboard.school", "e.pupil_id")
    hide = not _full_access(user, "care.read") or export
    on_day = min(today, date(int(year[5:]), 8, 31))
    with db.cursor() as cur:
        frame = _run(
            cur,
            f"""
            WITH pupils AS (
                SELECT e.pupil_id, c.level, c.grade
                FROM enrolment e JOIN class c ON c.id = e.class_id
                WHERE e.school_year = ? AND e.leave_date IS NULL AND {condition}
            ),
            open_phase AS (
                SELECT pupil_id, arg_max(phase, start_date) AS phase
                FROM care_phase WHERE start_date <= ?::DATE AND (end_date IS NULL OR end_date >= ?::DATE)
                GROUP BY pupil_id
            ),
            per_pupil AS (
                SELECT p.level, p.grade, coalesce(o.phase, 0) AS phase
                FROM pupils p LEFT JOIN open_phase o ON o.pupil_id = p.pupil_id
            ),
            totals AS (SELECT level, grade, count(*) AS n FROM per_pupil GROUP BY ALL),
            counts AS (SELECT level, grade, phase, count(*) AS count FROM per_pupil GROUP BY ALL)
            SELECT t.level, t.grade, ph.phase, coalesce(c.count, 0) AS count, t.n, coalesce(c.count, 0) / t.n AS share
            FROM totals t CROSS JOIN (SELECT unnest([0, 1, 2, 3]) AS phase) ph
            LEFT JOIN counts c ON c.level = t.level AND c.grade = t.grade AND c.phase = ph.phase
            ORDER BY list_position(['kleuter', 'lager', 'secundair'], t.level), t.grade, ph.phase
            """,
            [year, *params, on_day, on_day],
        )
    return suppress_small_groups(frame, ["count", "share"], hide=hide)
