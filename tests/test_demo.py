"""The demo school: a real DuckDB file per test module, built with a fixed date and seed."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier.db import Database
from dossier.instruments import zone_for_percentile
from dossier.schoolyear import school_year_of
from dossier.users import SYSTEM_USER, authenticate, create_user
from pipelines.cli import main
from pipelines.demo import (
    DEMO_PASSWORD,
    MAX_CLASS_SIZE,
    SCHOOL_NAME,
    DemoError,
    build_demo,
    demo_accounts,
    is_demo,
    plan_roster,
)
from pipelines.demo_names import ORIGINS
from pipelines.demo_results import AVI_LEVELS, generate_results

TODAY = date(2025, 11, 28)  # begin-of-year tests done, midden and eind not yet
YEARS = ["2023-2024", "2024-2025", "2025-2026"]
PUPILS = 250
REPO = Path(__file__).resolve().parents[1]
RESULT_TABLES = {
    "lvs_result": "test_date",
    "avi_result": "test_date",
    "dmt_result": "test_date",
    "idp_result": "test_date",
    "wellbeing_result": "observed_on",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("demo") / "dossier.duckdb")
    summary = build_demo(database, pupils=PUPILS, seed=7, today=TODAY)
    yield database, summary
    database.close()


def frame(db, sql, params=None) -> pd.DataFrame:
    with db.cursor() as cur:
        return cur.execute(sql, params or []).df()


def scalar(db, sql, params=None):
    with db.cursor() as cur:
        return cur.execute(sql, params or []).fetchone()[0]


ENROLMENTS = """
    SELECT e.pupil_id, e.school_year, e.entry_date, e.leave_date, c.id AS class_id, c.name, c.level, c.grade,
           c.parallel, CASE WHEN c.level = 'kleuter' THEN c.grade - 1 ELSE c.grade + 2 END AS slot,
           p.birth_date, p.pupil_number
    FROM enrolment e JOIN class c ON c.id = e.class_id JOIN pupil p ON p.id = e.pupil_id
"""


# -- pupils, classes, years ---------------------------------------------------------------


def test_three_school_years_of_about_the_requested_size(demo):
    db, summary = demo
    enrol = frame(db, ENROLMENTS)
    per_year = enrol.groupby("school_year").size()
    assert list(per_year.index) == YEARS
    assert all(0.8 * PUPILS <= n <= 1.2 * PUPILS for n in per_year)
    assert summary["pupils_per_year"] == per_year.to_dict()
    assert summary["pupils"] == scalar(db, "SELECT count(*) FROM pupil") == enrol["pupil_id"].nunique()
    assert scalar(db, "SELECT count(*) FROM school_year") == 3
    # Every year has all nine grades, kleuter 1-3 and lager 1-6.
    for _year, rows in enrol.groupby("school_year"):
        assert sorted(set(zip(rows["level"], rows["grade"], strict=True))) == [
            *(("kleuter", g) for g in (1, 2, 3)),
            *(("lager", g) for g in range(1, 7)),
        ]


def test_classes_have_reasonable_sizes_and_separate_columns(demo):
    db, summary = demo
    classes = frame(
        db,
        "SELECT c.*, count(e.pupil_id) AS size FROM class c LEFT JOIN enrolment e ON e.class_id = c.id GROUP BY ALL",
    )
    assert len(classes) == summary["classes"]
    assert classes["size"].between(8, MAX_CLASS_SIZE).all()
    for row in classes.itertuples():
        assert row.name == ("K" if row.level == "kleuter" else "L") + str(row.grade) + row.parallel
        assert row.parallel in ("A", "B")
    parallels = classes.groupby(["school_year", "level", "grade"]).size()
    assert set(parallels) == {1, 2}  # one or two parallels depending on the size of the grade


def test_pupils_move_up_one_grade_a_year_except_rare_repeaters(demo):
    db, _ = demo
    enrol = frame(db, ENROLMENTS)
    enrol["year"] = enrol["school_year"].str[:4].astype(int)
    nxt = enrol.assign(year=enrol["year"] - 1)
    pairs = enrol.merge(nxt, on=["pupil_id", "year"], suffixes=("", "_next"))
    step = pairs["slot_next"] - pairs["slot"]
    assert set(step) <= {0, 1}
    assert 0 < (step == 0).sum() <= 0.03 * len(pairs)  # a rare pupil repeats a year
    assert ((pairs["slot"] == 2) & (pairs["slot_next"] == 3)).any()  # K3 -> L1
    # L6 pupils leave: nobody in L6 one year is at school the next year, unless repeating L6.
    assert not ((pairs["slot"] == 8) & (pairs["slot_next"] != 8)).any()
    # A new K1 intake every year: K1 pupils never enrolled before.
    for year in YEARS[1:]:
        k1 = enrol[(enrol["school_year"] == year) & (enrol["slot"] == 0)]
        earlier = enrol[enrol["year"] < int(year[:4])]
        assert len(k1) > 10 and not k1["pupil_id"].isin(earlier["pupil_id"]).any()


def test_leavers_and_arrivals(demo):
    db, _ = demo
    enrol = frame(db, ENROLMENTS)
    enrol["year"] = enrol["school_year"].str[:4].astype(int)
    left = enrol[enrol["leave_date"].notna()]
    midyear = left[left["leave_date"].dt.month != 6]
    assert len(midyear) >= 2
    assert (enrol["entry_date"].notna()).sum() >= 2
    # Whoever left has no later enrolment; L6 pupils of past years left on 30 June.
    later = left.merge(enrol[["pupil_id", "year"]], on="pupil_id", suffixes=("", "_other"))
    assert not (later["year_other"] > later["year"]).any()
    past_l6 = enrol[(enrol["slot"] == 8) & (enrol["school_year"] != YEARS[-1])]
    assert past_l6["leave_date"].notna().all()
    # Nothing in the current year after today; dates fall inside their school year.
    current = enrol[enrol["school_year"] == YEARS[-1]]
    for col in ("entry_date", "leave_date"):
        assert (current[col].dropna() <= pd.Timestamp(TODAY)).all()
        assert (enrol[col].dropna().dt.date.map(school_year_of) == enrol.loc[enrol[col].notna(), "school_year"]).all()
    assert current["leave_date"].dropna().dt.month.ne(6).all()


def test_birth_dates_fit_the_grade(demo):
    db, _ = demo
    enrol = frame(db, ENROLMENTS)
    # Flemish L1 starts in the calendar year a child turns 6, K1 the year it turns 3.
    nominal = enrol["school_year"].str[:4].astype(int) - enrol["slot"] - 3
    born = enrol["birth_date"].dt.year
    assert ((born == nominal) | (born == nominal - 1)).all()
    assert (born == nominal).mean() > 0.9


def test_pupil_numbers_names_and_genders(demo):
    db, _ = demo
    pupils = frame(db, "SELECT * FROM pupil")
    assert pupils["pupil_number"].str.fullmatch(r"\d{5}").all()
    assert pupils["pupil_number"].is_unique
    assert set(pupils["gender"]) <= {"M", "V", "X"} and {"M", "V"} <= set(pupils["gender"])
    assert (pupils["gender"] == "X").mean() < 0.02
    origins = {key for key, (_, _, _, names) in ORIGINS.items() if pupils["last_name"].isin(names).any()}
    assert "vlaams" in origins and len(origins) >= 4  # a multicultural school
    assert pupils["first_name"].str.len().gt(0).all()


# -- results ------------------------------------------------------------------------------


def test_every_instrument_has_rows_in_the_pupils_class_without_import_batch(demo):
    db, summary = demo
    for table, day in RESULT_TABLES.items():
        assert scalar(db, f"SELECT count(*) FROM {table}") > 0
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE import_batch_id IS NOT NULL") == 0
        # class_id is the pupil's class of that school year, and the pupil was enrolled that day.
        wrong = scalar(
            db,
            f"""SELECT count(*) FROM {table} r LEFT JOIN enrolment e
                    ON e.pupil_id = r.pupil_id AND e.school_year = r.school_year
                WHERE e.class_id IS DISTINCT FROM r.class_id
                   OR r.{day} < coalesce(e.entry_date, DATE '1900-01-01')
                   OR r.{day} > coalesce(e.leave_date, DATE '2999-12-31')""",
        )
        assert wrong == 0, table
    assert sum(summary["results"].values()) == sum(
        scalar(db, f"SELECT count(*) FROM {table}") for table in RESULT_TABLES
    )


def test_no_results_after_today_and_begin_tests_of_this_year_exist(demo):
    db, _ = demo
    for table, day in RESULT_TABLES.items():
        assert scalar(db, f"SELECT max({day}) FROM {table}") <= TODAY
    moments = frame(db, "SELECT DISTINCT moment FROM lvs_result WHERE school_year = ?", [YEARS[-1]])
    assert set(moments["moment"]) == {"begin"}
    assert scalar(db, "SELECT count(*) FROM dmt_result WHERE school_year = ? AND moment = 'begin'", [YEARS[-1]]) > 0
    assert scalar(db, "SELECT count(*) FROM avi_result WHERE school_year = ?", [YEARS[-1]]) == 0
    assert scalar(db, "SELECT count(*) FROM idp_result WHERE school_year = ?", [YEARS[-1]]) == 0
    for year in YEARS[:2]:
        done = frame(db, "SELECT DISTINCT moment FROM lvs_result WHERE school_year = ?", [year])
        assert set(done["moment"]) == {"begin", "midden", "eind"}


def test_lvs_test_dates_follow_the_calendar(demo):
    db, _ = demo
    lvs = frame(db, "SELECT moment, month(test_date) AS m, dayofweek(test_date) AS dow FROM lvs_result")
    assert set(lvs.loc[lvs["moment"] == "begin", "m"]) == {10}
    assert set(lvs.loc[lvs["moment"] == "midden", "m"]) == {2}
    assert set(lvs.loc[lvs["moment"] == "eind", "m"]) == {6}
    assert not lvs["dow"].isin([0, 6]).any()  # school days only


def test_lvs_zones_land_near_the_norm_split_and_match_the_band_table(demo):
    db, _ = demo
    lvs = frame(db, "SELECT * FROM lvs_result")
    share = lvs["zone"].value_counts(normalize=True) * 100
    for zone, expected in {"A": 25, "B": 25, "C": 25, "D": 15, "E": 10}.items():
        assert abs(share[zone] - expected) <= 3.5, (zone, share[zone])
    assert (lvs["zone"] == lvs["percentile"].map(zone_for_percentile)).all()
    assert not lvs["zone_derived"].any()
    assert lvs["percentile"].between(0, 100).all()
    assert ((lvs["raw_score"] >= 0) & (lvs["raw_score"] <= lvs["max_score"])).all()
    # Within one test a higher percentile never has a lower raw score.
    for _, test in lvs.groupby(["school_year", "grade", "domain", "moment"]):
        ordered = test.sort_values(["percentile", "raw_score"])
        assert ordered["raw_score"].is_monotonic_increasing
    assert lvs.loc[lvs["domain"] == "technisch_lezen", "grade"].max() == 3
    assert set(lvs["domain"]) == {"wiskunde", "spelling", "technisch_lezen", "begrijpend_lezen"}


def test_a_few_pupils_stay_in_zone_e(demo):
    db, _ = demo
    per_pupil = frame(
        db,
        "SELECT pupil_id, count(*) AS n, avg(CASE WHEN zone = 'E' THEN 1 ELSE 0 END) AS e"
        " FROM lvs_result GROUP BY pupil_id",
    )
    persistent = per_pupil[(per_pupil["n"] >= 9) & (per_pupil["e"] >= 0.75)]
    assert 1 <= len(persistent) <= 0.06 * len(per_pupil)


def test_results_of_one_pupil_agree_over_domains(demo):
    db, _ = demo
    wide = frame(
        db,
        "PIVOT (SELECT pupil_id, domain, avg(percentile) AS p FROM lvs_result GROUP BY ALL) ON domain USING first(p)",
    )
    assert wide["wiskunde"].corr(wide["spelling"]) > 0.4
    assert wide["begrijpend_lezen"].corr(wide["wiskunde"]) > 0.4


def test_avi_levels_grow_about_one_level_per_half_year(demo):
    db, _ = demo
    avi = frame(db, "SELECT * FROM avi_result ORDER BY pupil_id, test_date")
    assert set(avi["moment"]) == {"midden", "eind"}
    assert (avi["level_achieved"].map(AVI_LEVELS.index) == avi["level_rank"]).all()
    # Expected level for grade g: M(g+2) mid-year (rank 2g-1), E(g+2) at year end (rank 2g).
    avi["expected"] = (2 * avi["grade"] - 1 + (avi["moment"] == "eind")).clip(upper=11)
    medians = avi.groupby(["grade", "moment"]).agg(level=("level_rank", "median"), expected=("expected", "first"))
    assert ((medians["level"] - medians["expected"]).abs() <= 1).all()
    growth = avi.groupby("pupil_id")["level_rank"].diff().dropna()
    assert (growth >= 0).all()  # a reading level is never lost
    assert 0.6 <= growth.mean() <= 1.4
    assert (growth == 0).any()  # some pupils stagnate
    # A card read at beheersing is the level achieved; a harder card read at instructie/frustratie is not.
    card = avi["card"].map(AVI_LEVELS.index)
    mastered = avi["card_result"] == "beheersing"
    assert (card[mastered] == avi.loc[mastered, "level_rank"]).all()
    assert (card[~mastered] == avi.loc[~mastered, "level_rank"] + 1).all()
    assert avi["grade"].between(1, 6).all()


def test_dmt_words_correct_grow_with_the_grade(demo):
    db, _ = demo
    dmt = frame(db, "SELECT * FROM dmt_result")
    assert set(dmt["grade"]) == {2, 3, 4, 5, 6}
    assert set(dmt["moment"]) == {"begin", "midden", "eind"}
    for _, rows in dmt.groupby("moment"):
        means = rows.groupby("grade")["card1_correct"].mean()
        assert means.is_monotonic_increasing
    for i in (1, 2, 3):
        assert dmt[f"card{i}_correct"].between(0, 150).all()
    assert (dmt["zone"] == dmt["percentile"].map(zone_for_percentile)).all()
    assert dmt["card1_correct"].mean() > dmt["card2_correct"].mean() > dmt["card3_correct"].mean()


def test_wellbeing_for_kleuters_on_the_leuven_scale(demo):
    db, _ = demo
    wb = frame(db, "SELECT w.*, c.level FROM wellbeing_result w JOIN class c ON c.id = w.class_id")
    assert set(wb["level"]) == {"kleuter"}
    assert set(wb["scale"]) == {"welbevinden", "betrokkenheid"}
    assert set(wb["score_text"]) <= {"1", "1+", "2", "2+", "3", "3+", "4", "4+", "5"}
    parsed = wb["score_text"].str[0].astype(float) + wb["score_text"].str.endswith("+") * 0.5
    assert (parsed == wb["score"]).all()
    per_year = wb.groupby(["pupil_id", "school_year", "scale"]).size()
    assert per_year.max() == 3 and per_year.median() >= 2  # a few times a year


def test_idp4_in_may_and_idp6_in_june(demo):
    db, _ = demo
    idp = frame(db, "SELECT i.*, c.grade, c.level FROM idp_result i JOIN class c ON c.id = i.class_id")
    for test, grade, month in (("IDP4", 4, 5), ("IDP6", 6, 6)):
        rows = idp[idp["test"] == test]
        assert not rows.empty
        assert set(rows["grade"]) == {grade} and set(rows["level"]) == {"lager"}
        assert set(rows["test_date"].dt.month) == {month}
        assert rows["area"].nunique() >= 4 and rows["part"].nunique() >= 8
    assert "frans" not in set(idp.loc[idp["test"] == "IDP4", "area"])
    assert "frans" in set(idp.loc[idp["test"] == "IDP6", "area"])
    assert ((idp["score"] >= 0) & (idp["score"] <= idp["max_score"])).all()
    assert ((idp["percentage"] - 100 * idp["score"] / idp["max_score"]).abs() <= 1).all()
    assert idp["reference_percentage"].between(30, 95).all()
    # The reference group is one figure per part and year, the same for every pupil.
    assert (idp.groupby(["school_year", "test", "area", "part"])["reference_percentage"].nunique() == 1).all()


# -- accounts and settings ----------------------------------------------------------------


def test_staff_accounts_sign_in_with_the_demo_password(demo):
    db, _ = demo
    for username, role in (("directie", "directie"), ("zorg", "zorgteam"), ("clb", "clb"), ("beheer", "beheerder")):
        user = authenticate(db, username, DEMO_PASSWORD, today=TODAY)
        assert user is not None and user.role == role
    assert authenticate(db, "directie", "verkeerd-wachtwoord", today=TODAY) is None
    stored = scalar(db, "SELECT password_hash FROM staff_user WHERE username = 'directie'")
    assert stored.startswith("$argon2") and DEMO_PASSWORD not in stored


def test_one_teacher_per_current_class_who_keeps_the_grade(demo):
    db, _ = demo
    current = frame(
        db,
        "SELECT c.id, c.name, u.username, u.role FROM class c"
        " LEFT JOIN class_assignment a ON a.class_id = c.id LEFT JOIN staff_user u ON u.id = a.user_id"
        " WHERE c.school_year = ?",
        [YEARS[-1]],
    )
    assert current["id"].is_unique and current["username"].notna().all()
    assert set(current["role"]) == {"leerkracht"}
    assert current["username"].str.fullmatch(r"(juf|meester)\.[a-z]+\d*").all()
    teacher = current.iloc[0]
    user = authenticate(db, teacher["username"], DEMO_PASSWORD, today=TODAY)
    assert user.role == "leerkracht" and user.class_ids == frozenset({int(teacher["id"])})
    # Earlier years: the same teacher has the class of the same name, never another grade.
    history = frame(
        db,
        "SELECT u.username, c.name FROM class_assignment a JOIN staff_user u ON u.id = a.user_id"
        " JOIN class c ON c.id = a.class_id",
    )
    assert (history.groupby("username")["name"].nunique() == 1).all()
    assert history.groupby("username").size().max() == 3


def test_demo_settings_and_accounts_list(demo, db):
    demo_db, summary = demo
    assert is_demo(demo_db)
    assert scalar(demo_db, "SELECT value FROM setting WHERE key = 'school_name'") == SCHOOL_NAME
    assert "demo" in SCHOOL_NAME.lower()
    accounts = demo_accounts(demo_db)
    assert accounts == summary["accounts"]
    assert {a["username"] for a in accounts} >= {"directie", "zorg", "clb", "beheer"}
    assert set(accounts[0]) == {"username", "name", "role", "classes"}
    teachers = [a for a in accounts if a["role"] == "leerkracht"]
    assert len(teachers) == summary["classes_per_year"][YEARS[-1]]
    assert all(len(a["classes"]) == 1 for a in teachers)
    assert scalar(demo_db, "SELECT count(*) FROM staff_user") == len(accounts)
    # A database that is not a demo.
    assert not is_demo(db) and demo_accounts(db) == []


def test_creation_is_audited(demo):
    db, _ = demo
    row = frame(db, "SELECT user_name, action, detail FROM audit_log WHERE object = 'demoschool'")
    assert len(row) == 1 and row["action"][0] == "create" and "demoschool" in row["detail"][0]


# -- idempotence, atomicity, determinism --------------------------------------------------


def test_refuses_a_database_with_pupils(demo):
    db, summary = demo
    with pytest.raises(DemoError, match="bevat al"):
        build_demo(db, pupils=20, seed=1, today=TODAY)
    assert scalar(db, "SELECT count(*) FROM pupil") == summary["pupils"]


def test_existing_accounts_without_pupils_keep_their_username(db):
    create_user(
        db, SYSTEM_USER, display_name="Echte Directeur", role="directie", password="geheim123", username="directie"
    )
    summary = build_demo(db, pupils=30, seed=3, today=TODAY)
    names = [a["username"] for a in summary["accounts"]]
    assert "directie2" in names and "directie" not in names
    assert authenticate(db, "directie", "geheim123", today=TODAY).name == "Echte Directeur"
    assert authenticate(db, "directie2", DEMO_PASSWORD, today=TODAY).role == "directie"


def test_a_failure_halfway_leaves_nothing_written(db):
    # Result rows left behind for pupil ids the demo is about to use: the results insert then
    # violates the unique key, after pupils, classes and accounts were already inserted.
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, zone)"
            " SELECT i, y, DATE '2024-10-01', 1, d, m, 'C' FROM range(1, 200) t(i),"
            " (VALUES ('2023-2024'), ('2024-2025'), ('2025-2026')) ys(y),"
            " (VALUES ('wiskunde'), ('spelling'), ('begrijpend_lezen'), ('technisch_lezen')) ds(d),"
            " (VALUES ('begin'), ('midden'), ('eind')) ms(m)"
        )
    )
    with pytest.raises(Exception, match="(?i)constraint|duplicate"):
        build_demo(db, pupils=30, seed=3, today=TODAY)
    for table in ("pupil", "class", "enrolment", "staff_user", "class_assignment", "setting", "school_year"):
        assert scalar(db, f"SELECT count(*) FROM {table}") == 0, table
    assert not is_demo(db)


def test_same_seed_same_school_other_seed_other_school(tmp_path):
    def build(name, seed):
        database = Database(tmp_path / name)
        try:
            build_demo(database, pupils=40, seed=seed, today=TODAY)
            pupils = frame(database, "SELECT pupil_number, first_name, last_name, birth_date, gender FROM pupil")
            lvs = frame(
                database,
                "SELECT p.pupil_number, r.domain, r.school_year, r.moment, r.test_date, r.percentile, r.raw_score"
                " FROM lvs_result r JOIN pupil p ON p.id = r.pupil_id",
            )
            key = ["pupil_number", "domain", "school_year", "moment"]
            return pupils.sort_values("pupil_number", ignore_index=True), lvs.sort_values(key, ignore_index=True)
        finally:
            database.close()

    first, second, other = build("a.duckdb", 11), build("b.duckdb", 11), build("c.duckdb", 12)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    assert not first[0].equals(other[0])


def test_early_in_the_year_there_are_pupils_but_no_results_yet(db):
    today = date(2025, 9, 3)
    summary = build_demo(db, pupils=40, seed=5, today=today)
    assert summary["school_years"][-1] == "2025-2026"
    assert summary["pupils_per_year"]["2025-2026"] > 0
    for table in RESULT_TABLES:
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE school_year = '2025-2026'") == 0


def test_in_summer_the_whole_year_is_done(db):
    today = date(2025, 7, 15)
    build_demo(db, pupils=40, seed=5, today=today)
    moments = frame(db, "SELECT DISTINCT moment FROM lvs_result WHERE school_year = '2024-2025'")
    assert set(moments["moment"]) == {"begin", "midden", "eind"}
    assert scalar(db, "SELECT count(*) FROM idp_result WHERE school_year = '2024-2025' AND test = 'IDP6'") > 0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pupils=st.integers(min_value=9, max_value=400),
    seed=st.integers(min_value=-(2**70), max_value=2**70),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)
def test_any_size_seed_and_date_give_a_consistent_plan(pupils, seed, today):
    roster = plan_roster(pupils, seed, today)
    enrol = roster.enrolments
    assert roster.years[-1] == school_year_of(today)
    assert roster.pupils["pupil_number"].is_unique
    assert not enrol.duplicated(["pupil_idx", "school_year"]).any()
    for col in ("entry_date", "leave_date"):
        assert (enrol[col].dropna() <= pd.Timestamp(today)).all()
    classes = roster.classes.set_index(["school_year", "name"])
    assert len(classes) == len(roster.classes)
    current = roster.classes[roster.classes["school_year"] == roster.years[-1]]
    assert set(current["name"]) == set(
        roster.assignments.loc[roster.assignments["school_year"] == roster.years[-1], "class_name"]
    )
    assert roster.staff["username"].is_unique
    results = generate_results(enrol, len(roster.pupils), seed, today, "Els Jacobs")
    for table, day in RESULT_TABLES.items():
        dates = results[table][day] if len(results[table]) else pd.Series([], dtype="datetime64[s]")
        assert (dates <= pd.Timestamp(today)).all(), table


# -- command line -------------------------------------------------------------------------


def test_cli_builds_then_skips_or_refuses(tmp_path):
    path = tmp_path / "cli.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(path), "--pupils", "60"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Klaar" in done.stdout and DEMO_PASSWORD in done.stdout and "directie" in done.stdout
    assert "Traceback" not in done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(path), "--pupils", "60"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1 and "bevat al" in again.stderr and "Traceback" not in again.stderr
    skipped = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(path), "--if-empty"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert skipped.returncode == 0 and "overgeslagen" in skipped.stdout


@pytest.mark.parametrize("pupils", ["0", "-5", "8", "100001"])
def test_cli_rejects_an_unusable_school_size(tmp_path, capsys, pupils):
    assert main(["demo", "--db", str(tmp_path / "x.duckdb"), "--pupils", pupils]) == 2
    err = capsys.readouterr().err
    assert "aantal leerlingen" in err and "Traceback" not in err
    assert not (tmp_path / "x.duckdb").exists()  # checked before the file is created


def test_more_school_years_for_the_benchmark(tmp_path):
    from dossier.db import Database
    from pipelines.demo import build_demo

    database = Database(tmp_path / "six.duckdb")
    summary = build_demo(database, pupils=60, seed=3, today=date(2025, 11, 28), years=6)
    assert summary["school_years"] == ["2020-2021", "2021-2022", "2022-2023", "2023-2024", "2024-2025", "2025-2026"]
    with database.cursor() as cur:
        assert cur.execute("SELECT count(DISTINCT school_year) FROM lvs_result").fetchone()[0] == 6
    database.close()
