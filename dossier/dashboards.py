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
from dossier.access import ALL, AccessDenied, User, class_scope_sql, pupil_scope_sql, require, scope
from dossier.care import measure_state_sql
from dossier.db import Database
from dossier.instruments import AVI_LEVELS, LVS_DOMAINS, MOMENTS, ZONES, load_zone_bands
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


def _members_cte(user: User) -> tuple[str, list]:
    """CTE `members`: pupils enrolled in class ? (the class id is the first parameter after these)."""
    class_cond, class_params = class_scope_sql(user, "dashboard.class", "c.id")
    pupil_cond, pupil_params = pupil_scope_sql(user, "dashboard.class", "e.pupil_id")
    sql = f"""
        members AS (
            SELECT e.pupil_id, e.class_id, c.school_year, e.entry_date, e.leave_date
            FROM enrolment e JOIN class c ON c.id = e.class_id
            WHERE c.id = ? AND {class_cond} AND {pupil_cond}
        )"""
    return sql, [*class_params, *pupil_params]


def _run(cur, sql: str, params: list) -> pd.DataFrame:
    return cur.execute(sql, params).df()


def _class_frame(cur, user: User, class_id: object, sql: str, params: list) -> pd.DataFrame:
    """Run a class query that starts with the `members` CTE, then `params`.

    The CTE applies the class scope itself, so rows only come back for a class the user may open;
    only an empty answer costs a second look, to refuse an unknown or foreign class id instead of
    showing it as an empty class.
    """
    ident = _class_id(class_id)
    _, scope_params = _members_cte(user)
    frame = cur.execute(sql, [ident, *scope_params, *params]).df()
    if frame.empty:
        resolve_class(cur, user, ident)
    return frame


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
    if isinstance(history, bool) or not isinstance(history, int) or not 0 <= history <= 10:
        raise DashboardError("Het aantal vorige schooljaren moet tussen 0 en 10 liggen.")
    members, _ = _members_cte(user)
    with db.cursor() as cur:
        # Constant year bounds let DuckDB skip older results, worth the one lookup of the class's year.
        year = resolve_class(cur, user, class_id)["school_year"]
        return _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {members},
            res AS (
                SELECT r.pupil_id, r.domain, r.school_year, r.moment, r.zone, r.percentile, r.test_date, r.grade
                FROM lvs_result r JOIN members m ON m.pupil_id = r.pupil_id
                WHERE r.school_year BETWEEN ? AND ?
            ),
            cells AS (SELECT DISTINCT domain, school_year, moment FROM res)
            SELECT p.id AS pupil_id, p.pupil_number, p.first_name, p.last_name,
                   m.leave_date IS NOT NULL AS left_school,
                   c.domain, c.school_year, c.moment, {MOMENT_ORDER_SQL.format(col="c.moment")} AS moment_order,
                   r.zone, r.percentile, r.test_date, r.grade
            FROM members m
            JOIN pupil p ON p.id = m.pupil_id
            CROSS JOIN cells c
            LEFT JOIN res r ON r.pupil_id = m.pupil_id AND r.domain = c.domain
                AND r.school_year = c.school_year AND r.moment = c.moment
            ORDER BY p.last_name, p.first_name, p.id, {DOMAIN_ORDER_SQL.format(col="c.domain")},
                     c.school_year, moment_order
            """,
            [shift(year, -history), year],
        )


def zone_distribution(db: Database, user: User, class_id: object, *, export: bool = False) -> pd.DataFrame:
    """Per domain × moment of the class's school year and zone: count, n, share, norm_share.

    Also the group's median percentile. `export=True` suppresses groups smaller than 5.
    """
    members, _ = _members_cte(user)
    zone_counts = ", ".join(f"count(*) FILTER (WHERE r.zone = '{z}') AS \"{z}\"" for z in ZONES)
    zone_names = ", ".join(f'"{z}"' for z in ZONES)
    with db.cursor() as cur:
        frame = _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {members},
            agg AS (
                SELECT r.domain, r.school_year, r.moment, count(*) AS n,
                       median(r.percentile) AS median_percentile, {zone_counts}
                FROM lvs_result r JOIN members m ON m.pupil_id = r.pupil_id
                WHERE r.school_year = m.school_year
                GROUP BY r.domain, r.school_year, r.moment
            )
            SELECT domain, school_year, moment, {MOMENT_ORDER_SQL.format(col="moment")} AS moment_order,
                   zone, count, n, count / n AS share, median_percentile
            FROM (UNPIVOT agg ON {zone_names} INTO NAME zone VALUE count)
            ORDER BY {DOMAIN_ORDER_SQL.format(col="domain")}, moment_order, zone
            """,
            [],
        )
        bands = load_zone_bands(cur)
    frame["norm_share"] = frame["zone"].map(norm_shares(bands)).astype("float64")
    return suppress_small_groups(frame, ["count", "share", "median_percentile"], hide=export)


def _growth_cte(user: User) -> tuple[str, list]:
    members, params = _members_cte(user)
    sql = f"""
        {members},
        f AS (SELECT pupil_id, domain, zone, percentile FROM lvs_result WHERE school_year = ? AND moment = ?),
        t AS (SELECT pupil_id, domain, zone, percentile FROM lvs_result WHERE school_year = ? AND moment = ?),
        growth AS (
            SELECT m.pupil_id, m.leave_date, f.domain,
                   f.zone AS zone_from, t.zone AS zone_to,
                   -- positive = moved up towards A
                   {ZONE_POS_SQL.format(col="f.zone")} - {ZONE_POS_SQL.format(col="t.zone")} AS zone_change,
                   f.percentile AS percentile_from, t.percentile AS percentile_to,
                   t.percentile - f.percentile AS percentile_change
            FROM members m
            JOIN f ON f.pupil_id = m.pupil_id
            JOIN t ON t.pupil_id = m.pupil_id AND t.domain = f.domain
        )"""
    return sql, params


def _growth_params(cur, user: User, class_id: object, from_moment: object, to_moment: object) -> list:
    start, end = _moment(from_moment), _moment(to_moment)
    # Constants let DuckDB skip most of lvs_result, worth the one lookup of the class's year.
    year = resolve_class(cur, user, class_id)["school_year"]
    return [start[0] or year, start[1], end[0] or year, end[1]]


def growth(db: Database, user: User, class_id: object, from_moment: object, to_moment: object) -> pd.DataFrame:
    """Per pupil and domain tested at both moments: zone_from/zone_to, zone_change (+ = up), percentile change.

    A moment is 'begin'/'midden'/'eind' in the class's school year, or a (school_year, moment) pair.
    """
    cte, _ = _growth_cte(user)
    with db.cursor() as cur:
        params = _growth_params(cur, user, class_id, from_moment, to_moment)
        return _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {cte}
            SELECT g.pupil_id, p.pupil_number, p.first_name, p.last_name, g.leave_date IS NOT NULL AS left_school,
                   g.domain, g.zone_from, g.zone_to, g.zone_change,
                   g.percentile_from, g.percentile_to, g.percentile_change
            FROM growth g JOIN pupil p ON p.id = g.pupil_id
            ORDER BY {DOMAIN_ORDER_SQL.format(col="g.domain")}, p.last_name, p.first_name, p.id
            """,
            params,
        )


def growth_distribution(
    db: Database, user: User, class_id: object, from_moment: object, to_moment: object, *, export: bool = False
) -> pd.DataFrame:
    """The class's distribution of change per domain: zone_change, count, n, share, median_percentile_change.

    n and the median percentile change are per domain (pupils tested at both moments).
    """
    cte, _ = _growth_cte(user)
    with db.cursor() as cur:
        params = _growth_params(cur, user, class_id, from_moment, to_moment)
        frame = _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {cte},
            per_domain AS (
                SELECT domain, count(*) AS n, median(percentile_change) AS median_percentile_change
                FROM growth GROUP BY domain
            ),
            per_change AS (SELECT domain, zone_change, count(*) AS count FROM growth GROUP BY ALL)
            SELECT c.domain, c.zone_change, c.count, d.n, c.count / d.n AS share, d.median_percentile_change
            FROM per_change c JOIN per_domain d USING (domain)
            ORDER BY {DOMAIN_ORDER_SQL.format(col="c.domain")}, c.zone_change DESC
            """,
            params,
        )
    return suppress_small_groups(frame, ["count", "share", "median_percentile_change"], hide=export)


def avi_vs_expected(db: Database, user: User, class_id: object) -> pd.DataFrame:
    """Per pupil and AVI moment of the class's year: level reached (highest card) against the expected level.

    Columns: pupil_id, pupil_number, first_name, last_name, school_year, moment, grade, test_date,
    level_rank, level, expected_rank, expected_level, steps (reached − expected; negative = behind).
    """
    members, _ = _members_cte(user)
    expected = EXPECTED_AVI_SQL.format(moment="a.moment", grade="a.grade")
    with db.cursor() as cur:
        return _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {members},
            a AS (
                SELECT r.pupil_id, r.school_year, r.moment, max(r.grade) AS grade,
                       max(r.level_rank) AS level_rank, max(r.test_date) AS test_date
                FROM avi_result r JOIN members m ON m.pupil_id = r.pupil_id
                WHERE r.school_year = m.school_year
                GROUP BY ALL
            )
            SELECT a.pupil_id, p.pupil_number, p.first_name, p.last_name, a.school_year, a.moment,
                   {MOMENT_ORDER_SQL.format(col="a.moment")} AS moment_order, a.grade, a.test_date,
                   a.level_rank, {AVI_LEVELS_SQL}[a.level_rank + 1] AS level,
                   {expected} AS expected_rank, {AVI_LEVELS_SQL}[{expected} + 1] AS expected_level,
                   a.level_rank - {expected} AS steps
            FROM a JOIN pupil p ON p.id = a.pupil_id
            ORDER BY moment_order, p.last_name, p.first_name, p.id
            """,
            [],
        )


def dmt_cards(db: Database, user: User, class_id: object) -> pd.DataFrame:
    """Per pupil and DMT moment of the class's year: words correct and errors per card, total, percentile, zone."""
    members, _ = _members_cte(user)
    with db.cursor() as cur:
        return _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {members}
            SELECT r.pupil_id, p.pupil_number, p.first_name, p.last_name, r.school_year, r.moment,
                   {MOMENT_ORDER_SQL.format(col="r.moment")} AS moment_order, r.test_date, r.grade,
                   r.card1_correct, r.card2_correct, r.card3_correct,
                   r.card1_errors, r.card2_errors, r.card3_errors,
                   coalesce(r.card1_correct, 0) + coalesce(r.card2_correct, 0) + coalesce(r.card3_correct, 0)
                       AS total_correct,
                   r.percentile, r.zone
            FROM dmt_result r JOIN members m ON m.pupil_id = r.pupil_id JOIN pupil p ON p.id = r.pupil_id
            WHERE r.school_year = m.school_year
            ORDER BY moment_order, p.last_name, p.first_name, p.id
            """,
            [],
        )


def wellbeing(db: Database, user: User, class_id: object) -> pd.DataFrame:
    """Leuven scale observations (welbevinden, betrokkenheid) of the class's pupils in its school year."""
    members, _ = _members_cte(user)
    with db.cursor() as cur:
        return _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {members}
            SELECT r.pupil_id, p.pupil_number, p.first_name, p.last_name, r.school_year, r.observed_on,
                   r.scale, r.score_text, r.score, r.context, r.observer
            FROM wellbeing_result r JOIN members m ON m.pupil_id = r.pupil_id JOIN pupil p ON p.id = r.pupil_id
            WHERE r.school_year = m.school_year
            ORDER BY r.scale, r.observed_on, p.last_name, p.first_name, p.id
            """,
            [],
        )


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
    today = today or date.today()
    require(user, "care.read")
    members, _ = _members_cte(user)
    care_cond, care_params = pupil_scope_sql(user, "care.read", "m.pupil_id")
    with db.cursor() as cur:
        return _class_frame(
            cur,
            user,
            class_id,
            f"""
            WITH {members}, {MEASURE_STATE_CTE},
            phase AS (
                SELECT pupil_id, arg_max(phase, start_date) AS phase, max(start_date) AS phase_start
                FROM care_phase WHERE start_date <= ?::DATE AND (end_date IS NULL OR end_date >= ?::DATE)
                GROUP BY pupil_id
            ),
            meas AS (
                SELECT pupil_id, count(*) AS active_measures,
                       list({_category_label_sql("category")} || ': ' || description ORDER BY start_date, id)
                           AS measures,
                       min(next_evaluation) AS next_due_date,
                       count(*) FILTER (WHERE next_evaluation < ?::DATE) AS overdue_measures
                FROM measure_state
                WHERE start_date <= ?::DATE AND (effective_end IS NULL OR effective_end >= ?::DATE)
                GROUP BY pupil_id
            )
            SELECT m.pupil_id, p.pupil_number, p.first_name, p.last_name,
                   coalesce(ph.phase, 0) AS phase, ph.phase_start,
                   coalesce(me.active_measures, 0) AS active_measures, coalesce(me.measures, []) AS measures,
                   me.next_due_date, coalesce(me.overdue_measures, 0) AS overdue_measures
            FROM members m JOIN pupil p ON p.id = m.pupil_id
            LEFT JOIN phase ph ON ph.pupil_id = m.pupil_id
            LEFT JOIN meas me ON me.pupil_id = m.pupil_id
            WHERE m.leave_date IS NULL AND {care_cond}
            ORDER BY phase DESC, p.last_name, p.first_name, p.id
            """,
            [today, today, today, today, today, *care_params],
        )


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
