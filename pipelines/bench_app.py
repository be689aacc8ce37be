"""Bench sections for what people open: the pupil page and the class and school dashboards.

Both run on one synthetic school group (20,000 pupils a year over six school years, every
instrument, about 300,000 registrations), built once per bench run. Each figure is compared in
the same run with a bare DuckDB query over the same rows, alternating the two so that load on
the machine hits both alike; the reported figure is the median.
"""

from __future__ import annotations

import atexit
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines.bench import BenchContext, BenchError, _dec, _n, section

GROUP_PUPILS = 20_000
GROUP_YEARS = 6
# About 300,000 registrations at 20,000 pupils over six years (the current year counts in part).
REGISTRATIONS_PER_PUPIL_YEAR = 2.9
SAMPLE_PUPILS = 25
TARGET_PUPIL_RATIO = 2.0
TARGET_APPTEST_SECONDS = 0.5
TARGET_CLASS_RATIO = 2.0
TARGET_SCHOOL_SECONDS = 1.0

_GROUP: dict[tuple[int, int], tuple[Path, dict]] = {}


def group_pupils(ctx: BenchContext) -> int:
    return int(getattr(ctx, "group_pupils", 0) or GROUP_PUPILS)


def group_database(ctx: BenchContext) -> tuple[Path, dict]:
    """The school group's database file, built on first use in this process."""
    from dossier.db import Database
    from pipelines.demo import build_demo

    pupils = group_pupils(ctx)
    key = (pupils, GROUP_YEARS)
    if key in _GROUP and _GROUP[key][0].exists():
        return _GROUP[key]
    folder = Path(tempfile.mkdtemp(prefix="dossier-bench-group-"))
    atexit.register(shutil.rmtree, folder, True)  # ~250 MB at full size: never left behind
    path = folder / f"group-{pupils}.duckdb"
    path.unlink(missing_ok=True)
    ctx.say(f"Scholengroep aanmaken: {_n(pupils)} leerlingen per jaar, {GROUP_YEARS} schooljaren…")
    started = time.perf_counter()
    db = Database(path)
    summary = build_demo(
        db,
        pupils=pupils,
        seed=2024,
        today=date.today(),
        years=GROUP_YEARS,
        registrations_per_pupil_year=REGISTRATIONS_PER_PUPIL_YEAR,
    )
    db.checkpoint()
    db.close()
    facts = {
        "pupils_per_year": pupils,
        "school_years": GROUP_YEARS,
        "distinct_pupils": summary["pupils"],
        "registrations": summary["dossier"]["registrations"],
        "results": sum(summary["results"].values()),
        "seed_seconds": round(time.perf_counter() - started, 1),
    }
    _GROUP[key] = (path, facts)
    return path, facts


def _median_pair(core, bare, repeat: int) -> tuple[float, float]:
    core_times, bare_times = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        core()
        core_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare()
        bare_times.append(time.perf_counter() - started)
    return statistics.median(core_times), statistics.median(bare_times)


# -- the pupil page ----------------------------------------------------------------------------
BARE_PUPIL_QUERIES = (
    "SELECT * FROM pupil WHERE id = $1",
    "SELECT * FROM enrolment WHERE pupil_id = $1",
    # The core reads the pupil's classes too (class history, the class of each registration).
    "SELECT c.* FROM class c WHERE c.id IN (SELECT class_id FROM enrolment WHERE pupil_id = $1)",
    "SELECT * FROM registration WHERE pupil_id = $1",
    "SELECT * FROM care_phase WHERE pupil_id = $1",
    "SELECT * FROM measure WHERE pupil_id = $1",
    "SELECT e.* FROM measure_evaluation e JOIN measure m ON m.id = e.measure_id WHERE m.pupil_id = $1",
    "SELECT * FROM lvs_result WHERE pupil_id = $1",
    "SELECT * FROM avi_result WHERE pupil_id = $1",
    "SELECT * FROM dmt_result WHERE pupil_id = $1",
    "SELECT * FROM idp_result WHERE pupil_id = $1",
    "SELECT * FROM wellbeing_result WHERE pupil_id = $1",
)


def _sample_pupils(db, count: int) -> list[int]:
    from dossier.schoolyear import current_school_year

    with db.cursor() as cur:
        rows = cur.execute(
            """
            SELECT e.pupil_id FROM enrolment e
            JOIN (SELECT pupil_id, count(*) AS n FROM registration GROUP BY pupil_id) r USING (pupil_id)
            WHERE e.school_year = ? ORDER BY hash(e.pupil_id) LIMIT ?
            """,
            [current_school_year(), count],
        ).fetchall()
    return [r[0] for r in rows]


def _zorg_user(db):
    from dossier.access import User

    with db.cursor() as cur:
        row = cur.execute(
            "SELECT id, username, display_name FROM staff_user WHERE role = 'zorgteam' LIMIT 1"
        ).fetchone()
    return User(id=row[0], username=row[1], name=row[2], role="zorgteam")


def _apptest_pupil_page(path: Path, user, pupil_ids: list[int]) -> list[float]:
    """Full AppTest runs of the pupil page, in a child process: pipelines never import Streamlit."""
    import json
    import subprocess
    import sys

    args = [sys.executable, "-m", "ui.bench_pages", str(path), str(user.id), ",".join(map(str, pupil_ids))]
    done = subprocess.run(args, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise BenchError(f"AppTest van de leerlingpagina mislukte: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def _render_pupil(result: dict) -> list[str]:
    group = result["group"]
    return [
        f"Scholengroep: {_n(group['pupils_per_year'])} leerlingen per jaar, {group['school_years']} schooljaren,"
        f" {_n(group['registrations'])} registraties, {_n(group['results'])} resultaten"
        f" (aangemaakt in {_dec(group['seed_seconds'], 1)} s)",
        f"{'':44}{'mediaan':>12}",
        f"{'Dossier openen (open_pupil_file)':44}{_dec(result['core_ms'], 1) + ' ms':>12}",
        f"{'Kale SELECTs van dezelfde rijen':44}{_dec(result['bare_ms'], 1) + ' ms':>12}",
        f"{'Dezelfde SELECTs, als data frames':44}{_dec(result['bare_frames_ms'], 1) + ' ms':>12}",
        f"{'Dossier openen + alle data frames gebouwd':44}{_dec(result['core_with_frames_ms'], 1) + ' ms':>12}",
        f"Verhouding tegenover data frames: {_dec(result['ratio_vs_frames'], 2)}"
        f" (met alle frames gebouwd: {_dec(result['ratio_with_frames_vs_frames'], 2)})",
        f"Verhouding: {_dec(result['ratio'], 2)} (doel: hoogstens {_dec(TARGET_PUPIL_RATIO, 0)})"
        f" - {'gehaald' if result['ratio'] <= TARGET_PUPIL_RATIO else 'niet gehaald'}",
        f"AppTest van de leerlingpagina: mediaan {_dec(result['apptest_median_s'], 3)} s over"
        f" {result['apptest_runs']} runs (doel: hoogstens {_dec(TARGET_APPTEST_SECONDS, 1)} s)"
        f" - {'gehaald' if result['apptest_median_s'] <= TARGET_APPTEST_SECONDS else 'niet gehaald'}",
    ]


def _all_frames(file) -> None:
    for part in ("class_history", "registrations", "phases", "measures", "results", "due", "phase"):
        getattr(file, part)


@section("pupil_page", "Leerlingpagina op schaal van een scholengroep", render=_render_pupil)
def bench_pupil_page(ctx: BenchContext) -> dict:
    from dossier.db import Database
    from dossier.pupil_file import open_pupil_file

    path, facts = group_database(ctx)
    db = Database(path)
    try:
        user = _zorg_user(db)
        sample = _sample_pupils(db, SAMPLE_PUPILS)
        if not sample:
            raise BenchError("geen leerlingen met registraties in de scholengroep")
        ctx.say(f"Leerlingpagina: {len(sample)} dossiers openen, afgewisseld met kale SELECTs…")
        core_all, bare_all, frames_all, core_frames_all = [], [], [], []
        for pupil_id in sample:

            def bare(pupil_id=pupil_id):
                with db.cursor() as cur:
                    for query in BARE_PUPIL_QUERIES:
                        cur.execute(query, [pupil_id]).fetchall()

            def bare_frames(pupil_id=pupil_id):
                # The same rows as data frames, which is what a page can draw from.
                with db.cursor() as cur:
                    for query in BARE_PUPIL_QUERIES:
                        cur.execute(query, [pupil_id]).df()

            core, plain = _median_pair(lambda p=pupil_id: open_pupil_file(db, user, p), bare, max(3, ctx.repeat))
            # The pupil file builds its frames when the page first asks; this pair counts them all in.
            with_frames, frames = _median_pair(
                lambda p=pupil_id: _all_frames(open_pupil_file(db, user, p)), bare_frames, max(3, ctx.repeat)
            )
            core_frames_all.append(with_frames)
            core_all.append(core)
            bare_all.append(plain)
            frames_all.append(frames)
    finally:
        db.close()
    ctx.say("Leerlingpagina: volledige AppTest-runs…")
    apptimes = _apptest_pupil_page(path, user, sample[: max(5, min(len(sample), 10))])
    core_ms = statistics.median(core_all) * 1000
    bare_ms = statistics.median(bare_all) * 1000
    frames_ms = statistics.median(frames_all) * 1000
    core_frames_ms = statistics.median(core_frames_all) * 1000
    return {
        "core_with_frames_ms": round(core_frames_ms, 2),
        "ratio_with_frames_vs_frames": round(core_frames_ms / frames_ms, 2),
        "bare_frames_ms": round(frames_ms, 2),
        "ratio_vs_frames": round(core_ms / frames_ms, 2),
        "group": facts,
        "pupils_sampled": len(sample),
        "core_ms": round(core_ms, 2),
        "bare_ms": round(bare_ms, 2),
        "ratio": round(core_ms / bare_ms, 2),
        "apptest_median_s": round(statistics.median(apptimes), 3),
        "apptest_runs": len(apptimes),
        "targets": {
            "ratio_max": TARGET_PUPIL_RATIO,
            "ratio_met": core_ms / bare_ms <= TARGET_PUPIL_RATIO,
            "apptest_max_s": TARGET_APPTEST_SECONDS,
            "apptest_met": statistics.median(apptimes) <= TARGET_APPTEST_SECONDS,
        },
    }


# -- the class and school dashboards ----------------------------------------------------------
# The baseline the class dashboard is judged against: one hand-written aggregate over the rows the
# dashboard reads (history=1, a role with care): the class's members by their enrolment with their
# names, their LVS rows of the class's school year and the one before, their AVI, DMT and Leuven rows
# of the class's school year, their care phases open today and their measures with every evaluation.
_MEMBERS_CTE = """
    WITH cls AS (
        SELECT school_year,
               printf('%d-%d', CAST(left(school_year, 4) AS INTEGER) - 1, CAST(left(school_year, 4) AS INTEGER))
                   AS previous_year
        FROM class WHERE id = $1
    ),
    members AS (SELECT pupil_id FROM enrolment WHERE class_id = $1)
"""
_RESULTS_AGGREGATE = """
    SELECT 'lvs' AS part, domain, moment, zone, count(*) AS n, median(percentile) AS median
    FROM lvs_result WHERE pupil_id IN (SELECT pupil_id FROM members)
      AND school_year IN (SELECT school_year FROM cls UNION ALL SELECT previous_year FROM cls)
    GROUP BY ALL
    UNION ALL
    SELECT 'avi', NULL, moment, NULL, count(*), median(level_rank) FROM avi_result
    WHERE pupil_id IN (SELECT pupil_id FROM members) AND school_year = (SELECT school_year FROM cls) GROUP BY ALL
    UNION ALL
    SELECT 'dmt', NULL, moment, NULL, count(*), median(card1_correct) FROM dmt_result
    WHERE pupil_id IN (SELECT pupil_id FROM members) AND school_year = (SELECT school_year FROM cls) GROUP BY ALL
    UNION ALL
    SELECT 'leuven', scale, NULL, NULL, count(*), median(score) FROM wellbeing_result
    WHERE pupil_id IN (SELECT pupil_id FROM members) AND school_year = (SELECT school_year FROM cls) GROUP BY ALL
"""
BARE_CLASS_SQL = (
    _MEMBERS_CTE
    + """
    SELECT 'names' AS part, NULL AS domain, NULL AS moment, NULL AS zone, count(*) AS n, NULL AS median
    FROM pupil WHERE id IN (SELECT pupil_id FROM members)
    UNION ALL
"""
    + _RESULTS_AGGREGATE
    + """
    UNION ALL
    SELECT 'phase', phase::VARCHAR, NULL, NULL, count(*), NULL FROM care_phase
    WHERE pupil_id IN (SELECT pupil_id FROM members)
      AND start_date <= current_date AND (end_date IS NULL OR end_date >= current_date) GROUP BY ALL
    UNION ALL
    SELECT 'measures', m.category, NULL, NULL, count(*), count(e.id) FROM measure m
    LEFT JOIN measure_evaluation e ON e.measure_id = m.id
    WHERE m.pupil_id IN (SELECT pupil_id FROM members) GROUP BY ALL
"""
)

# The baseline of the sessions before, still printed: the same aggregate over the four results tables
# only, without the names, care phases and measures the dashboard also reads.
BARE_CLASS_RESULTS_SQL = _MEMBERS_CTE + _RESULTS_AGGREGATE


BARE_ZONE_SQL = """
    SELECT domain, school_year, moment, zone, count(*) AS n,
           count(*) / sum(count(*)) OVER (PARTITION BY domain, school_year, moment) AS share,
           median(percentile) OVER (PARTITION BY domain, school_year, moment) AS median_percentile
    FROM lvs_result WHERE class_id = $1 GROUP BY domain, school_year, moment, zone, percentile
"""


def _sample_classes(db, count: int) -> list[int]:
    from dossier.schoolyear import current_school_year

    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT id FROM class WHERE school_year = ? AND level = 'lager' ORDER BY hash(id) LIMIT ?",
            [current_school_year(), count],
        ).fetchall()
    return [r[0] for r in rows]


def _class_dashboard(db, user, class_id: int) -> None:
    """What pages/klas.py gets from the core on each run: one scoped read, then every frame the page draws.

    The export's frames are not among them: the page builds its workbook only when the button is clicked.
    """
    from dossier import dashboards

    data = dashboards.read_class(db, user, class_id)
    dashboards.overview_from(data)
    dashboards.zone_distribution_from(data)
    dashboards.growth_from(data, "begin", "midden")
    dashboards.growth_distribution_from(data, "begin", "midden")
    dashboards.avi_from(data)
    dashboards.dmt_from(data)
    dashboards.wellbeing_from(data)
    dashboards.care_from(data)


def _school_view(db, user) -> None:
    from dossier import dashboards
    from dossier.schoolyear import current_school_year

    dashboards.school_trends(db, user)
    dashboards.cohorts(db, user, "wiskunde")
    dashboards.compare_classes(db, user, current_school_year(), "wiskunde", "begin")
    dashboards.care_phase_counts(db, user)


def _render_dashboards(result: dict) -> list[str]:
    return [
        f"{'':60}{'mediaan':>12}",
        f"{'Klasdashboard: lezing + alle frames van de pagina':60}{_dec(result['class_ms'], 1) + ' ms':>12}",
        f"{'Klasdashboard: enkel de lezing (read_class)':60}{_dec(result['read_ms'], 1) + ' ms':>12}",
        f"{'Eén handgeschreven aggregaat over dezelfde rijen':60}{_dec(result['bare_class_ms'], 1) + ' ms':>12}",
        "  (leerlingen van de klas volgens inschrijving met hun naam; LVS van dit en vorig schooljaar,",
        "   AVI/DMT/Leuven van dit schooljaar; zorgfasen van vandaag; maatregelen met hun evaluaties)",
        f"Verhouding: {_dec(result['class_ratio'], 2)} (doel: hoogstens {_dec(TARGET_CLASS_RATIO, 0)})"
        f" - {'gehaald' if result['targets']['class_met'] else 'niet gehaald'};"
        f" enkel de lezing: {_dec(result['read_ratio'], 2)}",
        f"{'Ter vergelijking, hetzelfde aggregaat over enkel de resultaten':60}"
        f"{_dec(result['bare_class_results_ms'], 1) + ' ms':>12}",
        f"  (de basislijn van vorige sessies, zonder namen, zorgfasen en maatregelen); verhouding daartegen:"
        f" {_dec(result['class_ratio_vs_results'], 2)}, enkel de lezing: {_dec(result['read_ratio_vs_results'], 2)}",
        f"{'Zoneverdeling (zone_distribution, scope + n)':60}{_dec(result['zone_distribution_ms'], 1) + ' ms':>12}",
        f"{'Dezelfde verdeling, handgeschreven':60}{_dec(result['bare_zone_ms'], 1) + ' ms':>12}",
        f"Verhouding zoneverdeling: {_dec(result['zone_ratio'], 2)}",
        f"Schoolzicht (trends, cohortes, klassen vergeleken, zorgfasen): {_dec(result['school_s'], 3)} s"
        f" (doel: hoogstens {_dec(TARGET_SCHOOL_SECONDS, 0)} s)"
        f" - {'gehaald' if result['targets']['school_met'] else 'niet gehaald'}",
    ]


def _median_alternating(runs: dict, repeat: int) -> dict[str, float]:
    """Each of `runs` `repeat` times, taking turns, so that load on the machine hits all alike: the medians."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


@section("dashboards", "Klas- en schooldashboards op schaal van een scholengroep", render=_render_dashboards)
def bench_dashboards(ctx: BenchContext) -> dict:
    from dossier.db import Database

    path, facts = group_database(ctx)
    db = Database(path)
    try:
        user = _zorg_user(db)
        classes = _sample_classes(db, 10)
        if not classes:
            raise BenchError("geen klassen lager onderwijs in de scholengroep")
        ctx.say(f"Klasdashboard: {len(classes)} klassen, afgewisseld met de handgeschreven aggregaten…")
        from dossier import dashboards

        medians: dict[str, list[float]] = {}
        for class_id in classes:

            def bare(sql, class_id=class_id):
                with db.cursor() as cur:
                    cur.execute(sql, [class_id]).df()

            measured = _median_alternating(
                {
                    "class": lambda c=class_id: _class_dashboard(db, user, c),
                    "bare": lambda: bare(BARE_CLASS_SQL),
                    "read": lambda c=class_id: dashboards.read_class(db, user, c),
                    "bare_results": lambda: bare(BARE_CLASS_RESULTS_SQL),
                    "zone": lambda c=class_id: dashboards.zone_distribution(db, user, c),
                    "bare_zone": lambda: bare(BARE_ZONE_SQL),
                },
                max(3, ctx.repeat),
            )
            for name, seconds in measured.items():
                medians.setdefault(name, []).append(seconds)
        ctx.say("Schoolzicht…")
        school_times = []
        for _ in range(max(3, ctx.repeat)):
            started = time.perf_counter()
            _school_view(db, user)
            school_times.append(time.perf_counter() - started)
    finally:
        db.close()
    ms = {name: statistics.median(values) * 1000 for name, values in medians.items()}
    school_s = statistics.median(school_times)
    return {
        "zone_distribution_ms": round(ms["zone"], 2),
        "bare_zone_ms": round(ms["bare_zone"], 2),
        "zone_ratio": round(ms["zone"] / ms["bare_zone"], 2),
        "group": facts,
        "classes_sampled": len(classes),
        "class_ms": round(ms["class"], 2),
        "read_ms": round(ms["read"], 2),
        "bare_class_ms": round(ms["bare"], 2),
        "bare_class_results_ms": round(ms["bare_results"], 2),
        "class_ratio": round(ms["class"] / ms["bare"], 2),
        "read_ratio": round(ms["read"] / ms["bare"], 2),
        "class_ratio_vs_results": round(ms["class"] / ms["bare_results"], 2),
        "read_ratio_vs_results": round(ms["read"] / ms["bare_results"], 2),
        "school_s": round(school_s, 3),
        "targets": {
            "class_ratio_max": TARGET_CLASS_RATIO,
            "class_met": ms["class"] / ms["bare"] <= TARGET_CLASS_RATIO,
            "school_max_s": TARGET_SCHOOL_SECONDS,
            "school_met": school_s <= TARGET_SCHOOL_SECONDS,
        },
    }
