"""The class read and the page's derivations as they were before issue #5 item 8 (one UNION ALL BY NAME
statement fetched with .df(); the *_from functions on it).

Test-only reference: tests/test_class_read.py checks that dossier.dashboards gives the same ClassData
(columns, dtypes, row order) and the same derived frames as this, for every role, part set and history.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from dossier.access import AccessDenied, User, class_scope_sql, pupil_scope_sql
from dossier.care import measure_state_sql
from dossier.dashboards import MIN_GROUP_SIZE, NO_CLASS, ClassData, _class_id, _moment, norm_shares
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
from dossier.schoolyear import shift

_PUPIL_COLS = ["pupil_id", "pupil_number", "first_name", "last_name"]

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


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _take(frame: pd.DataFrame, columns: list[str], rows: list[int]) -> dict:
    index = np.asarray(rows, dtype=np.intp)
    return {col: frame[col].array.take(index, allow_fill=True) for col in columns}


def _frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame(columns, copy=False)


def _category_label_sql(col: str) -> str:
    cases = " ".join(f"WHEN '{code}' THEN '{label}'" for code, label in STICORDI.items())
    return f"CASE {col} {cases} ELSE {col} END"


def read_class_reference(
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


# -- the derivations as they were (HEAD before issue #5 item 8), for the frames the page draws ----------


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


def _asc(value: object) -> tuple:
    """Sort key of one value as pandas sorts: missing values last."""
    return (1, 0) if _missing(value) else (0, value)


def _positions(values: list, order: tuple[str, ...]) -> list[int]:
    """1-based position of each value in `order` (as list_position in SQL), 0 when absent."""
    index = {value: i for i, value in enumerate(order, start=1)}
    return [index.get(value, 0) if not _missing(value) else 0 for value in values]


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
