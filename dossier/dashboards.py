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
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from dossier import audit
from dossier.access import ALL, AccessDenied, User, can, class_scope_sql, pupil_scope_sql, require, scope
from dossier.care import measure_state_sql
from dossier.db import Database
from dossier.instruments import (
    AVI_LEVELS,
    DEFAULT_ZONE_BANDS,
    LVS_DOMAINS,
    MOMENTS,
    ZONE_BANDS_SETTING,
    ZONES,
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
    frame = frame.copy()
    small = (frame["n"] < MIN_GROUP_SIZE).to_numpy(dtype=bool) if hide else np.zeros(len(frame), dtype=bool)
    if hide:
        # Nullable types whether or not a group is small, so the columns' types never depend on the data.
        for col in [*columns, "n"]:
            frame[col] = frame[col].astype("Int64" if col == "n" or col.startswith("count") else "Float64")
            frame.loc[small, col] = pd.NA
    frame["suppressed"] = small
    return frame


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
# The page's figures all come from one read of the class's rows (ClassData, one SQL statement
# with the scope applied once in the `members` CTE); the per-view functions below derive each
# frame from that read. Each public query function reads only the parts it needs.

_PUPIL_COLS = ["pupil_id", "pupil_number", "first_name", "last_name"]

# Columns of each part of the one read (the union has them all; a part keeps its own).
_PART_COLUMNS = {
    "class": ["class_id", "class_name", "school_year", "level", "grade"],
    "pupil": [*_PUPIL_COLS, "leave_date", "care_ok"],
    "lvs": ["pupil_id", "domain", "school_year", "moment", "zone", "percentile", "test_date", "grade"],
    "avi": ["pupil_id", "school_year", "moment", "grade", "level_rank", "test_date"],
    "dmt": [
        "pupil_id",
        "school_year",
        "moment",
        "test_date",
        "grade",
        "card1_correct",
        "card2_correct",
        "card3_correct",
        "card1_errors",
        "card2_errors",
        "card3_errors",
        "percentile",
        "zone",
    ],
    "leuven": ["pupil_id", "school_year", "observed_on", "scale", "score_text", "score", "context", "observer"],
    "phase": ["pupil_id", "phase", "phase_start"],
    "measures": ["pupil_id", "active_measures", "measures", "next_due_date", "overdue_measures"],
}
CLASS_PARTS = frozenset({"lvs", "avi", "dmt", "leuven", "care"})


@dataclass(frozen=True)
class ClassData:
    """What one read of a class brings back: the class, its pupils in scope and their rows per instrument.

    `lvs` holds the LVS results from `lvs_from` up to the class's school year; avi, dmt and
    leuven those of the class's school year; phase and measures the care state on `today`
    (only when read with care). Frames of parts not read are empty.
    """

    info: dict
    pupils: pd.DataFrame
    parts: Mapping[str, pd.DataFrame]
    bands: Mapping[str, float]
    today: date
    care_read: bool

    def part(self, name: str) -> pd.DataFrame:
        return self.parts[name]


def _history(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise DashboardError("Het aantal vorige schooljaren moet tussen 0 en 10 liggen.")
    return value


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
    """One statement for everything the class dashboard shows; AccessDenied for a class outside the scope.

    The class and pupil scope are applied once, in `members`; every part reads only rows of
    those pupils. LVS rows cover `history` school years before the class's and any of `lvs_years`.
    """
    ident = _class_id(class_id)
    today = today or date.today()
    care = "care" in parts
    class_cond, class_params = class_scope_sql(user, "dashboard.class", "c.id")
    pupil_cond, pupil_params = pupil_scope_sql(user, "dashboard.class", "e.pupil_id")
    if care:
        care_cond, care_params = pupil_scope_sql(user, "care.read", "e.pupil_id")
        # The same condition holds for every member already; evaluating it twice costs a second scope check.
        if (care_cond, care_params) == (pupil_cond, pupil_params):
            care_cond, care_params = "TRUE", []
    else:
        care_cond, care_params = "FALSE", []
    # Every part is in the statement, a part not asked for as `AND FALSE` (the planner drops it), so
    # the columns and their types are the same whatever was asked.
    wanted = {name: "TRUE" if name in parts else "FALSE" for name in ("lvs", "avi", "dmt", "leuven", "care")}
    in_members = "pupil_id IN (SELECT pupil_id FROM members)"
    this_year = "school_year = (SELECT school_year FROM cls)"
    cared = f"{wanted['care']} AND pupil_id IN (SELECT pupil_id FROM members WHERE care_ok AND leave_date IS NULL)"
    ctes = [
        f"""cls AS MATERIALIZED (
            SELECT c.id, c.name, c.school_year, c.level, c.grade, CAST(left(c.school_year, 4) AS INTEGER) AS y0
            FROM class c WHERE c.id = ? AND {class_cond}
        )""",
        f"""members AS MATERIALIZED (
            SELECT e.pupil_id, e.leave_date, {care_cond} AS care_ok
            FROM enrolment e JOIN cls ON cls.id = e.class_id
            WHERE {pupil_cond}
        )""",
        measure_state_sql(cared).strip(),
    ]
    selects = [
        "SELECT 'class' AS part, id AS class_id, name AS class_name, school_year, level, grade FROM cls",
        "SELECT 'pupil' AS part, m.pupil_id, p.pupil_number, p.first_name, p.last_name, m.leave_date, m.care_ok"
        " FROM members m JOIN pupil p ON p.id = m.pupil_id",
        f"SELECT 'setting' AS part, value AS setting FROM setting WHERE key = '{ZONE_BANDS_SETTING}'",
        f"""SELECT 'lvs' AS part, pupil_id, domain, school_year, moment, zone, percentile, test_date, grade
        FROM lvs_result WHERE {wanted["lvs"]} AND {in_members}
          AND (school_year BETWEEN (SELECT printf('%d-%d', y0 - ?, y0 - ? + 1) FROM cls)
                               AND (SELECT school_year FROM cls)
               OR list_contains(?::VARCHAR[], school_year))""",
        # The highest card read counts as the level reached at that moment.
        f"""SELECT 'avi' AS part, pupil_id, school_year, moment, max(grade) AS grade,
               max(level_rank) AS level_rank, max(test_date) AS test_date
        FROM avi_result WHERE {wanted["avi"]} AND {in_members} AND {this_year}
        GROUP BY pupil_id, school_year, moment""",
        f"""SELECT 'dmt' AS part, pupil_id, school_year, moment, test_date, grade,
               card1_correct, card2_correct, card3_correct, card1_errors, card2_errors, card3_errors,
               percentile, zone
        FROM dmt_result WHERE {wanted["dmt"]} AND {in_members} AND {this_year}""",
        f"""SELECT 'leuven' AS part, pupil_id, school_year, observed_on, scale, score_text, score, context, observer
        FROM wellbeing_result WHERE {wanted["leuven"]} AND {in_members} AND {this_year}""",
        f"""SELECT 'phase' AS part, pupil_id, arg_max(phase, start_date) AS phase, max(start_date) AS phase_start
        FROM care_phase WHERE {cared} AND start_date <= ?::DATE AND (end_date IS NULL OR end_date >= ?::DATE)
        GROUP BY pupil_id""",
        f"""SELECT 'measures' AS part, pupil_id, count(*) AS active_measures,
               list({_category_label_sql("category")} || ': ' || description ORDER BY start_date, id) AS measures,
               min(next_evaluation) AS next_due_date,
               count(*) FILTER (WHERE next_evaluation < ?::DATE) AS overdue_measures
        FROM measure_state WHERE start_date <= ?::DATE AND (effective_end IS NULL OR effective_end >= ?::DATE)
        GROUP BY pupil_id""",
    ]
    params = [ident, *class_params, *care_params, *pupil_params, history, history, list(lvs_years), *[today] * 5]
    sql = "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL BY NAME\n".join(selects)
    frame = cur.execute(sql, params).df()
    # Split by position rather than with a pandas groupby: each part is a handful of rows.
    rows_of: dict[str, list[int]] = {}
    for i, name in enumerate(frame["part"].tolist()):
        rows_of.setdefault(name, []).append(i)
    if "class" not in rows_of:
        raise AccessDenied(NO_CLASS)
    info_row = rows_of["class"][0]
    info = {
        "id": int(frame["class_id"].iat[info_row]),
        "name": str(frame["class_name"].iat[info_row]),
        "school_year": str(frame["school_year"].iat[info_row]),
        "level": str(frame["level"].iat[info_row]),
        "grade": int(frame["grade"].iat[info_row]),
    }
    setting = rows_of.get("setting")
    try:
        bands = parse_zone_bands(None if setting is None else frame["setting"].iat[setting[0]])
    except ValueError:
        bands = dict(DEFAULT_ZONE_BANDS)  # an invalid setting must not block the dashboard (as load_zone_bands)
    read = {}
    for name in ("lvs", "avi", "dmt", "leuven", "phase", "measures"):
        read[name] = _frame(_take(frame, _PART_COLUMNS[name], rows_of.get(name, [])))
    columns = _take(frame, _PART_COLUMNS["pupil"], rows_of.get("pupil", []))
    columns["left_school"] = ~pd.isna(np.asarray(columns["leave_date"]))
    columns["care_ok"] = np.asarray([not _missing(ok) and bool(ok) for ok in columns["care_ok"]], dtype=bool)
    pupils = _frame(columns)
    return ClassData(info=info, pupils=pupils, parts=read, bands=bands, today=today, care_read=care)


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


def _take(frame: pd.DataFrame, columns: list[str], rows: list[int]) -> dict:
    """Columns of `frame` at `rows` (-1: a missing value), each keeping its type."""
    index = np.asarray(rows, dtype=np.intp)
    return {col: frame[col].array.take(index, allow_fill=True) for col in columns}


class _Pupils:
    """The read's pupils by id, with the name order the pages list them in."""

    def __init__(self, data: ClassData):
        self.frame = data.pupils
        ids = self.frame["pupil_id"].tolist()
        self.row = {pupil: i for i, pupil in enumerate(ids)}
        last, first = self.frame["last_name"].tolist(), self.frame["first_name"].tolist()
        self.name_key = [(_asc(a), _asc(b), _asc(c)) for a, b, c in zip(last, first, ids, strict=True)]

    def take(self, rows: list[int], *, left: bool = False) -> dict:
        return _take(self.frame, [*_PUPIL_COLS, "left_school"] if left else _PUPIL_COLS, rows)


def _frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame(columns, copy=False)


def overview_from(data: ClassData, *, history: int = 1) -> pd.DataFrame:
    """class_overview's frame from a read (which must hold the LVS rows of those years)."""
    lvs = data.part("lvs")
    first, last = shift(data.info["school_year"], -history), data.info["school_year"]
    years = lvs["school_year"].tolist()
    keys = list(zip(lvs["pupil_id"].tolist(), lvs["domain"].tolist(), years, lvs["moment"].tolist(), strict=True))
    # A cell is a (domain, school_year, moment) at which some pupil of the class was tested.
    cells, found = {}, {}
    for i, key in enumerate(keys):
        if first <= years[i] <= last:
            cells.setdefault(key[1:], i)
            found[key] = i
    pupils = _Pupils(data)
    cell_rows = list(cells.values())
    domain_pos = _positions([keys[i][1] for i in cell_rows], LVS_DOMAINS)
    moment_pos = _positions([keys[i][3] for i in cell_rows], MOMENTS)
    grid = []
    for p, pupil in enumerate(pupils.frame["pupil_id"].tolist()):
        for c, (domain, year, moment) in enumerate(cells):
            key = (pupils.name_key[p], domain_pos[c], _asc(year), moment_pos[c])
            grid.append((key, p, c, found.get((pupil, domain, year, moment), -1)))
    grid.sort(key=lambda item: item[0])
    columns = pupils.take([g[1] for g in grid], left=True)
    cell_of = [cell_rows[g[2]] for g in grid]
    columns |= _take(lvs, ["domain", "school_year", "moment"], cell_of)
    columns["moment_order"] = np.asarray([moment_pos[g[2]] for g in grid], dtype="int64")
    columns |= _take(lvs, ["zone", "percentile", "test_date", "grade"], [g[3] for g in grid])
    return _frame(columns)


def _median(values: list[float]) -> float:
    present = [v for v in values if not _missing(v)]
    return float(np.median(present)) if present else float("nan")


def zone_distribution_from(data: ClassData, *, export: bool = False) -> pd.DataFrame:
    """zone_distribution's frame from a read."""
    lvs = data.part("lvs")
    year = data.info["school_year"]
    domains, moments, zones = lvs["domain"].tolist(), lvs["moment"].tolist(), lvs["zone"].tolist()
    percentiles = lvs["percentile"].tolist()
    groups: dict[tuple, list[int]] = {}
    for i, row_year in enumerate(lvs["school_year"].tolist()):
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
    return suppress_small_groups(_frame(columns), ["count", "share", "median_percentile"], hide=export)


def _growth_moments(data: ClassData, from_moment: object, to_moment: object) -> tuple[tuple, tuple]:
    (from_year, start), (to_year, end) = _moment(from_moment), _moment(to_moment)
    year = data.info["school_year"]
    return (from_year or year, start), (to_year or year, end)


def _growth_rows(data: ClassData, from_moment: object, to_moment: object) -> tuple[_Pupils, list[tuple]]:
    """(pupil row, row at the first moment, row at the second) per pupil and domain tested at both, in page order."""
    start, end = _growth_moments(data, from_moment, to_moment)
    lvs = data.part("lvs")
    pupil_ids, domains = lvs["pupil_id"].tolist(), lvs["domain"].tolist()
    at = list(zip(lvs["school_year"].tolist(), lvs["moment"].tolist(), strict=True))
    after = {(pupil_ids[i], domains[i]): i for i in range(len(at)) if at[i] == end}
    pupils = _Pupils(data)
    pairs = []
    for i in range(len(at)):
        j = after.get((pupil_ids[i], domains[i])) if at[i] == start else None
        p = pupils.row.get(pupil_ids[i])
        if j is not None and p is not None:
            pairs.append(((_positions([domains[i]], LVS_DOMAINS)[0], pupils.name_key[p]), p, i, j))
    pairs.sort(key=lambda item: item[0])
    return pupils, [(p, i, j) for _, p, i, j in pairs]


def _growth_frame(data: ClassData, pupils: _Pupils, pairs: list[tuple]) -> pd.DataFrame:
    lvs = data.part("lvs")
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
    frame = _frame(columns)
    frame["percentile_change"] = frame["percentile_to"] - frame["percentile_from"]
    return frame


def growth_from(data: ClassData, from_moment: object, to_moment: object) -> pd.DataFrame:
    """growth's frame from a read (which must hold the LVS rows of both moments)."""
    pupils, pairs = _growth_rows(data, from_moment, to_moment)
    return _growth_frame(data, pupils, pairs)


def growth_distribution_from(
    data: ClassData, from_moment: object, to_moment: object, *, export: bool = False
) -> pd.DataFrame:
    """growth_distribution's frame from a read."""
    per_pupil = growth_from(data, from_moment, to_moment)
    domains, changes = per_pupil["domain"].tolist(), per_pupil["zone_change"].tolist()
    percentile_changes = per_pupil["percentile_change"].tolist()
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
    return suppress_small_groups(_frame(columns), ["count", "share", "median_percentile_change"], hide=export)


def _avi_levels(ranks: list) -> pd.api.extensions.ExtensionArray:
    levels = [AVI_LEVELS[r] if not _missing(r) and 0 <= r < len(AVI_LEVELS) else None for r in ranks]
    return pd.array(levels, dtype="str")


def _in_name_order(data: ClassData, part: pd.DataFrame, lead: list[list]) -> tuple[_Pupils, list[int], list[int]]:
    """Rows of `part` whose pupil is in the read, sorted on the `lead` key columns and then the pupil's name."""
    pupils = _Pupils(data)
    keyed = []
    for i, pupil in enumerate(part["pupil_id"].tolist()):
        p = pupils.row.get(pupil)
        if p is not None:
            keyed.append(((*(col[i] for col in lead), pupils.name_key[p]), p, i))
    keyed.sort(key=lambda item: item[0])
    return pupils, [p for _, p, _ in keyed], [i for _, _, i in keyed]


def avi_from(data: ClassData) -> pd.DataFrame:
    """avi_vs_expected's frame from a read."""
    avi = data.part("avi")
    moment_order = _positions(avi["moment"].tolist(), MOMENTS)
    pupils, prow, rows = _in_name_order(data, avi, [moment_order])
    columns = pupils.take(prow)
    columns |= _take(avi, ["school_year", "moment"], rows)
    columns["moment_order"] = np.asarray([moment_order[i] for i in rows], dtype="int64")
    columns |= _take(avi, ["grade", "test_date", "level_rank"], rows)
    ranks, grades = list(columns["level_rank"]), list(columns["grade"])
    # The same rule as EXPECTED_AVI_SQL: moment_order - 3 is begin -2, midden -1, eind 0.
    expected = [
        None if _missing(grade) else min(len(AVI_LEVELS) - 1, max(0, 2 * int(grade) + moment_order[i] - 3))
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
    dmt = data.part("dmt")
    moment_order = _positions(dmt["moment"].tolist(), MOMENTS)
    pupils, prow, rows = _in_name_order(data, dmt, [moment_order])
    columns = pupils.take(prow)
    columns |= _take(dmt, ["school_year", "moment"], rows)
    columns["moment_order"] = np.asarray([moment_order[i] for i in rows], dtype="int64")
    counts = [f"card{i}_{what}" for what in ("correct", "errors") for i in (1, 2, 3)]
    columns |= _take(dmt, ["test_date", "grade", *counts], rows)
    cards = zip(*(list(columns[f"card{i}_correct"]) for i in (1, 2, 3)), strict=True)
    total = [sum(0 if _missing(c) else int(c) for c in row) for row in cards]
    columns["total_correct"] = np.asarray(total, dtype="int64")
    columns |= _take(dmt, ["percentile", "zone"], rows)
    return _frame(columns)


def wellbeing_from(data: ClassData) -> pd.DataFrame:
    """wellbeing's frame from a read."""
    leuven = data.part("leuven")
    lead = [[_asc(v) for v in leuven[col].tolist()] for col in ("scale", "observed_on")]
    pupils, prow, rows = _in_name_order(data, leuven, lead)
    columns = pupils.take(prow)
    observation = ["school_year", "observed_on", "scale", "score_text", "score", "context", "observer"]
    columns |= _take(leuven, observation, rows)
    return _frame(columns)


def care_from(data: ClassData) -> pd.DataFrame:
    """care_overview's frame from a read with care; pupils who left are not listed."""
    if not data.care_read:
        raise ValueError("read without the care part")
    pupils = _Pupils(data)
    listed = [
        p
        for p, (ok, left) in enumerate(
            zip(pupils.frame["care_ok"].tolist(), pupils.frame["left_school"].tolist(), strict=True)
        )
        if ok and not left
    ]
    phase_part, measures_part = data.part("phase"), data.part("measures")
    phase_row = {pupil: i for i, pupil in enumerate(phase_part["pupil_id"].tolist())}
    measure_row = {pupil: i for i, pupil in enumerate(measures_part["pupil_id"].tolist())}
    ids = pupils.frame["pupil_id"].tolist()
    phase_rows = [phase_row.get(ids[p], -1) for p in listed]
    phases = phase_part["phase"].tolist()
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


def _category_label_sql(col: str) -> str:
    cases = " ".join(f"WHEN '{code}' THEN '{label}'" for code, label in STICORDI.items())
    return f"CASE {col} {cases} ELSE {col} END"


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
