"""The demo school's dossier: registrations, care phases, measures and evaluations, read back from DuckDB.

One demo is built per module (fixed seed and date); checks run as SQL on the file and through the
real core (dossier.registrations, dossier.care) with the demo's own accounts.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import care, labels, registrations
from dossier.access import AccessDenied
from dossier.db import Database
from dossier.forms import GUIDE_LENGTH, check_registrations
from dossier.schoolyear import format_date, school_year_of
from dossier.users import authenticate
from pipelines import demo_dossier
from pipelines.demo import DEMO_PASSWORD, DemoError, build_demo, format_summary, is_demo, plan_roster
from pipelines.demo_dossier import DossierPlanError, check_rate, dossier_counts, plan_dossier
from pipelines.demo_names import ORIGINS
from pipelines.demo_results import generate_results

TODAY = date(2025, 11, 28)  # the November MDO is done, the midden tests are not
PUPILS = 250
SEED = 7
DIAGNOSES = ("dyslexie", "dyscalculie", "adhd", "autisme", "ass", "dcd", "hoogbegaafd", "stoornis", "syndroom")
TEXT_COLUMNS = ("facts", "interpretation", "agreements")

CURRENT = """
    SELECT * FROM registration
    QUALIFY row_number() OVER (PARTITION BY registration_id ORDER BY version DESC) = 1
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo_dossier") / "dossier.duckdb"
    database = Database(path)
    summary = build_demo(database, pupils=PUPILS, seed=SEED, today=TODAY)
    database.checkpoint()
    yield database, summary, path
    database.close()


@pytest.fixture
def demo_copy(demo, tmp_path):
    """A private copy of the module's demo file, for tests that write through the core."""
    _, _, path = demo
    target = tmp_path / "copy.duckdb"
    shutil.copy(path, target)
    database = Database(target)
    yield database
    database.close()


def frame(db, sql, params=None) -> pd.DataFrame:
    with db.cursor() as cur:
        return cur.execute(sql, params or []).df()


def scalar(db, sql, params=None):
    with db.cursor() as cur:
        return cur.execute(sql, params or []).fetchone()[0]


def sign_in(db, username):
    user = authenticate(db, username, DEMO_PASSWORD, today=TODAY)
    assert user is not None
    return user


def persistently_e(db) -> pd.DataFrame:
    """Pupils with at least nine LVS results of which three quarters in zone E (as tests/test_demo.py)."""
    return frame(
        db,
        """SELECT pupil_id FROM lvs_result GROUP BY pupil_id
           HAVING count(*) >= 9 AND avg(CASE WHEN zone = 'E' THEN 1 ELSE 0 END) >= 0.75""",
    )


# -- what is there --------------------------------------------------------------------------


def test_every_registration_type_is_present_and_the_summary_counts_it(demo):
    db, summary, _ = demo
    current = frame(db, CURRENT)
    assert set(current["type"]) == set(labels.REGISTRATION_TYPES)
    counts = summary["dossier"]
    assert counts["registrations"] == len(current)
    assert counts["per_type"] == {t: int((current["type"] == t).sum()) for t in labels.REGISTRATION_TYPES}
    assert counts["versions"] == scalar(db, "SELECT count(*) FROM registration")
    assert counts["withdrawn"] == scalar(db, "SELECT count(*) FROM registration WHERE withdrawn")
    assert counts["care_phases"] == scalar(db, "SELECT count(*) FROM care_phase")
    assert counts["measures"] == scalar(db, "SELECT count(*) FROM measure")
    assert counts["measure_evaluations"] == scalar(db, "SELECT count(*) FROM measure_evaluation")
    assert "Dossier:" in format_summary(summary)
    # A handful per pupil and school year at most, on average.
    pupil_years = scalar(db, "SELECT count(*) FROM enrolment")
    assert 1 <= len(current) / pupil_years <= 5


def test_school_year_and_class_are_those_of_the_fact_date(demo):
    db, _, _ = demo
    rows = frame(
        db,
        """SELECT r.fact_date, r.school_year, r.class_id, e.class_id AS enrolled_class, e.entry_date, e.leave_date
           FROM registration r LEFT JOIN enrolment e ON e.pupil_id = r.pupil_id AND e.school_year = r.school_year""",
    )
    assert (rows["fact_date"].dt.date.map(school_year_of) == rows["school_year"]).all()
    assert rows["class_id"].notna().all()
    assert (rows["class_id"] == rows["enrolled_class"]).all()
    # Written while the pupil was at school, never in the summer holidays.
    assert (rows["entry_date"].isna() | (rows["fact_date"] >= rows["entry_date"])).all()
    assert (rows["leave_date"].isna() | (rows["fact_date"] <= rows["leave_date"])).all()
    assert not rows["fact_date"].dt.month.isin([7, 8]).any()
    assert not rows["fact_date"].dt.day_of_week.isin([5, 6]).any()


def test_nothing_is_dated_after_today(demo):
    db, _, _ = demo
    happened = {
        "registration": ("fact_date", "CAST(created_at AS DATE)"),
        "care_phase": ("start_date", "end_date", "CAST(created_at AS DATE)"),
        "measure": ("start_date", "CAST(created_at AS DATE)"),
        "measure_evaluation": ("evaluated_on", "CAST(created_at AS DATE)"),
    }
    for table, columns in happened.items():
        for column in columns:
            assert scalar(db, f"SELECT max({column}) FROM {table}") <= TODAY, (table, column)
    # Plans may lie ahead, but never before the fact they plan for.
    assert scalar(db, "SELECT count(*) FROM registration WHERE evaluation_date < fact_date") == 0
    assert scalar(db, "SELECT count(*) FROM registration WHERE CAST(created_at AS DATE) < fact_date") == 0
    assert scalar(db, "SELECT count(*) FROM measure WHERE evaluation_date < start_date") == 0


# -- who wrote what -------------------------------------------------------------------------


def test_authors_have_their_real_role_and_a_fitting_visibility(demo):
    db, _, _ = demo
    rows = frame(
        db,
        """SELECT r.*, u.role AS staff_role, u.display_name
           FROM registration r JOIN staff_user u ON u.id = r.author_id""",
    )
    assert len(rows) == scalar(db, "SELECT count(*) FROM registration")
    assert (rows["author_role"] == rows["staff_role"]).all()
    assert (rows["author_name"] == rows["display_name"]).all()
    assert set(rows["author_role"]) == {"leerkracht", "zorgteam", "directie"}  # never CLB or beheerder
    may_write = {"leerkracht": {"team"}, "zorgteam": {"team", "zorgteam"}, "directie": set(labels.VISIBILITIES)}
    assert all(v in may_write[r] for v, r in zip(rows["visibility"], rows["author_role"], strict=True))
    # The CLB's word is recorded by a school user; care decisions by the zorgteam.
    clb = rows[rows["type"] == "clb_terugkoppeling"]
    assert set(clb["author_role"]) == {"zorgteam"} and set(clb["visibility"]) == {"zorgteam"}
    for kind in ("mdo", "zorgfase", "maatregel"):
        assert set(rows.loc[rows["type"] == kind, "author_role"]) == {"zorgteam"}, kind
    assert set(rows.loc[rows["visibility"] == "directie", "author_role"]) == {"directie"}
    rules = rows[rows["type"] == "leefregel"]
    assert set(rules["visibility"]) == {"directie", "zorgteam"} and not rules["transferable"].any()
    reports = rows[rows["type"] == "verslag"]
    assert set(reports["visibility"]) == {"zorgteam"} and reports["transferable"].all()
    assert reports["report_kind"].notna().all() and {"GC", "IAC"} <= set(reports["report_kind"])
    assert rows.loc[rows["type"] != "verslag", "report_kind"].isna().all()
    assert rows["confidential_third_parties"].any()
    assert set(rows.loc[rows["confidential_third_parties"], "visibility"]) == {"directie"}


def test_teachers_write_team_items_for_pupils_of_their_own_class(demo):
    db, _, _ = demo
    teacher_rows = frame(
        db,
        """SELECT r.row_id, r.visibility, r.class_id,
                  EXISTS (SELECT 1 FROM class_assignment a WHERE a.user_id = r.author_id
                          AND a.class_id = r.class_id) AS own_class
           FROM registration r WHERE r.author_role = 'leerkracht'""",
    )
    assert len(teacher_rows) > 100
    assert set(teacher_rows["visibility"]) == {"team"}
    assert teacher_rows["own_class"].all()
    kinds = set(frame(db, "SELECT DISTINCT type FROM registration WHERE author_role = 'leerkracht'")["type"])
    assert {"observatie", "oudergesprek", "leerlinggesprek", "evaluatie"} <= kinds
    assert not kinds & {"mdo", "zorgfase", "clb_terugkoppeling", "verslag", "leefregel", "maatregel"}


# -- care -----------------------------------------------------------------------------------


def test_persistently_e_pupils_have_care_measures_and_an_mdo_note(demo):
    db, _, _ = demo
    pupils = persistently_e(db)["pupil_id"].tolist()
    assert pupils
    for pupil in pupils:
        assert scalar(db, "SELECT max(phase) FROM care_phase WHERE pupil_id = ?", [pupil]) >= 1
        assert scalar(db, "SELECT count(*) FROM measure WHERE pupil_id = ?", [pupil]) >= 1
        assert scalar(db, "SELECT count(*) FROM registration WHERE pupil_id = ? AND type = 'mdo'", [pupil]) >= 1
    # Care follows the results: nobody without a single zone-E result is in a care phase.
    never_e = scalar(
        db,
        """SELECT count(*) FROM care_phase c WHERE NOT EXISTS (
               SELECT 1 FROM lvs_result l WHERE l.pupil_id = c.pupil_id AND l.zone = 'E')""",
    )
    assert never_e == 0


def test_phase_history_is_consistent_with_its_zorgfase_registrations(demo):
    db, _, _ = demo
    phases = frame(db, "SELECT * FROM care_phase ORDER BY pupil_id, start_date")
    assert (phases.groupby("pupil_id")["end_date"].apply(lambda s: s.isna().sum()) == 1).all()  # one open phase
    for _, mine in phases.groupby("pupil_id"):
        starts, ends = mine["start_date"].tolist(), mine["end_date"].tolist()
        for end, next_start in zip(ends[:-1], starts[1:], strict=True):
            assert end == next_start - timedelta(days=1)
        assert (mine["phase"].diff().dropna() != 0).all()
        assert mine["phase"].iloc[0] == 1
    open_phases = phases[phases["end_date"].isna()]["phase"].value_counts()
    assert open_phases.get(1, 0) >= 3 and open_phases.get(2, 0) >= 1
    linked = frame(
        db,
        """SELECT c.pupil_id, c.phase, c.start_date, c.note, r.pupil_id AS reg_pupil, r.type, r.fact_date, r.facts
           FROM care_phase c JOIN registration r ON r.registration_id = c.registration_id AND r.version = 1""",
    )
    assert len(linked) == len(phases) == scalar(db, "SELECT count(*) FROM registration WHERE type = 'zorgfase'")
    assert (linked["type"] == "zorgfase").all() and (linked["pupil_id"] == linked["reg_pupil"]).all()
    assert (linked["fact_date"] == linked["start_date"]).all()
    for row in linked.itertuples():
        assert labels.phase_label(row.phase) in row.facts and row.facts.endswith(row.note)
        assert f"vanaf {format_date(row.start_date.date())}." in row.facts
    first = linked.sort_values("start_date").groupby("pupil_id").head(1)
    assert (
        first["facts"]
        .str.startswith(
            f"Zorgfase gewijzigd van {labels.phase_label(0)} ({care.NO_PHASE_YET}) naar {labels.phase_label(1)}"
        )
        .all()
    )


def test_fase_2_and_3_come_with_the_clb_and_a_verslag(demo):
    db, _, _ = demo
    for pupil in frame(db, "SELECT DISTINCT pupil_id FROM care_phase WHERE phase = 2")["pupil_id"]:
        start = scalar(db, "SELECT min(start_date) FROM care_phase WHERE pupil_id = ? AND phase = 2", [pupil])
        mdo = scalar(db, f"SELECT count(*) FROM ({CURRENT}) WHERE pupil_id = ? AND type = 'mdo' AND fact_date = ?",
                     [pupil, start])  # fmt: skip
        assert mdo == 1
        if start <= TODAY - timedelta(days=40):  # the CLB confirms the referral within three weeks
            clb = "SELECT count(*) FROM registration WHERE pupil_id = ? AND type = 'clb_terugkoppeling'"
            assert scalar(db, clb, [pupil]) >= 1
    for pupil in frame(db, "SELECT DISTINCT pupil_id FROM care_phase WHERE phase = 3")["pupil_id"]:
        reports = frame(db, "SELECT report_kind FROM registration WHERE pupil_id = ? AND type = 'verslag'", [pupil])
        assert "IAC" in set(reports["report_kind"])
        assert scalar(db, "SELECT count(*) FROM care_phase WHERE pupil_id = ? AND phase = 2", [pupil]) == 1
    reported = frame(db, "SELECT DISTINCT pupil_id FROM registration WHERE type = 'verslag'")["pupil_id"]
    in_phase = frame(db, "SELECT DISTINCT pupil_id FROM care_phase WHERE phase >= 2")["pupil_id"]
    assert set(reported) <= set(in_phase)


def test_measures_are_sticordi_with_consistent_evaluations(demo):
    db, _, _ = demo
    measures = frame(db, "SELECT * FROM measure")
    assert set(measures["category"]) <= set(labels.STICORDI) and measures["category"].nunique() >= 4
    assert (measures["created_by_role"] == "zorgteam").all()
    started = frame(
        db,
        """SELECT m.id FROM measure m WHERE NOT EXISTS (
               SELECT 1 FROM care_phase c WHERE c.pupil_id = m.pupil_id AND c.phase >= 1
                 AND c.start_date <= m.start_date)""",
    )
    assert started.empty  # a measure belongs to a pupil in verhoogde zorg or further
    evaluations = frame(
        db, "SELECT e.*, m.start_date FROM measure_evaluation e JOIN measure m ON m.id = e.measure_id ORDER BY e.id"
    )
    assert set(evaluations["decision"]) == set(labels.DECISIONS)
    assert evaluations.loc[evaluations["decision"] == "stopzetten", "next_evaluation_date"].isna().all()
    assert evaluations.loc[evaluations["decision"] != "stopzetten", "next_evaluation_date"].notna().all()
    assert (evaluations["evaluated_on"] >= evaluations["start_date"]).all()
    assert not evaluations["evaluated_on"].dt.month.isin([7, 8]).any()
    for _, mine in evaluations.groupby("measure_id"):
        assert mine["evaluated_on"].is_monotonic_increasing  # the highest id is the latest
        assert (mine["decision"].iloc[:-1] != "stopzetten").all()  # nothing after a stop
        assert (mine["evaluated_on"].iloc[1:].to_numpy() >= mine["next_evaluation_date"].iloc[:-1].to_numpy()).all()
    # Some measures were never evaluated yet, some several times.
    per_measure = evaluations.groupby("measure_id").size().reindex(measures["id"], fill_value=0)
    assert (per_measure == 0).any() and (per_measure >= 2).any()


def test_the_te_evalueren_list_has_overdue_and_upcoming_items(demo):
    db, _, _ = demo
    zorg = sign_in(db, "zorg")
    due = care.due_evaluations(db, zorg, today=TODAY)
    assert set(due["kind"]) == {"maatregel", "afspraak"}
    assert (due["days_overdue"] > 0).any() and (due["days_overdue"] <= 0).any()
    # Nothing long forgotten: what is due comes from this school year.
    assert (due["evaluation_date"].dt.date >= date(2025, 9, 1)).all()
    teacher_class = int(due["class_id"].iloc[0])
    username = scalar(
        db,
        "SELECT u.username FROM class_assignment a JOIN staff_user u ON u.id = a.user_id WHERE a.class_id = ?",
        [teacher_class],
    )
    mine = care.due_evaluations(db, sign_in(db, username), today=TODAY)
    assert not mine.empty and set(mine["class_id"]) == {teacher_class}


# -- versions -------------------------------------------------------------------------------


def test_corrections_and_withdrawals_are_versions_with_a_history(demo):
    db, summary, _ = demo
    rows = frame(db, "SELECT * FROM registration ORDER BY registration_id, version")
    versions = rows.groupby("registration_id")["version"].agg(list)
    assert all(v == list(range(1, len(v) + 1)) for v in versions)
    later = rows[rows["version"] > 1].merge(
        rows, left_on="supersedes", right_on="row_id", suffixes=("", "_before"), validate="1:1"
    )
    assert len(later) == (rows["version"] > 1).sum() >= 5
    assert (later["registration_id"] == later["registration_id_before"]).all()
    assert (later["version"] == later["version_before"] + 1).all()
    assert (later["pupil_id"] == later["pupil_id_before"]).all()
    assert (later["created_at"] > later["created_at_before"]).all()
    assert rows.loc[rows["version"] == 1, "supersedes"].isna().all()
    withdrawn = later[later["withdrawn"]]
    assert 1 <= len(withdrawn) <= 3 and withdrawn["withdrawal_reason"].str.len().gt(5).all()
    assert rows.loc[~rows["withdrawn"], "withdrawal_reason"].isna().all()
    corrected = later[~later["withdrawn"]]
    changed = (corrected["facts"] != corrected["facts_before"]) | (
        corrected["agreements"].fillna("") != corrected["agreements_before"].fillna("")
    )
    assert changed.all()
    assert (corrected["agreements_before"].isna() & corrected["agreements"].notna()).any()  # an added agreement
    assert (corrected["facts"] != corrected["facts_before"]).any()  # a fixed typo
    assert summary["dossier"]["corrected"] == len(corrected)


def test_follow_ups_evaluate_an_earlier_agreement_of_the_same_pupil(demo):
    db, _, _ = demo
    links = frame(
        db,
        f"""SELECT r.pupil_id, r.type, r.fact_date, t.pupil_id AS target_pupil, t.fact_date AS target_date,
                   t.evaluation_date AS target_evaluation, t.withdrawn AS target_withdrawn
            FROM ({CURRENT}) r JOIN ({CURRENT}) t ON t.registration_id = r.follows_up""",
    )
    assert len(links) == scalar(db, f"SELECT count(*) FROM ({CURRENT}) WHERE follows_up IS NOT NULL") > 50
    assert (links["pupil_id"] == links["target_pupil"]).all()
    assert (links["fact_date"] >= links["target_date"]).all()
    assert not links["target_withdrawn"].any()
    assert set(links["type"]) == {"evaluatie", "mdo"}  # the next MDO evaluates the previous one's agreements
    evaluations = frame(db, f"SELECT * FROM ({CURRENT}) WHERE type = 'evaluatie'")
    assert evaluations["follows_up"].notna().all()


# -- through the real core ------------------------------------------------------------------


def expected_ids(db, pupil, visibilities) -> set[int]:
    found = frame(
        db,
        f"SELECT registration_id FROM ({CURRENT}) WHERE pupil_id = ? AND NOT withdrawn"
        " AND list_contains(?, visibility)",
        [pupil, list(visibilities)],
    )
    return set(found["registration_id"])


def test_reading_through_the_core_respects_roles_and_scope(demo):
    db, _, _ = demo
    zorg, directie = sign_in(db, "zorg"), sign_in(db, "directie")
    # A pupil in care now, with items of every visibility.
    pupil = scalar(
        db,
        f"""SELECT r.pupil_id FROM ({CURRENT}) r JOIN enrolment e ON e.pupil_id = r.pupil_id
            AND e.school_year = '2025-2026' AND e.leave_date IS NULL
            GROUP BY r.pupil_id ORDER BY count(DISTINCT r.visibility) DESC, count(*) DESC, r.pupil_id LIMIT 1""",
    )
    seen = registrations.list_registrations(db, zorg, pupil)
    assert set(seen["registration_id"]) == expected_ids(db, pupil, ("team", "zorgteam"))
    assert set(seen["visibility"]) <= {"team", "zorgteam"}
    everything = registrations.list_registrations(db, directie, pupil)
    assert set(everything["registration_id"]) == expected_ids(db, pupil, labels.VISIBILITIES)
    class_id = scalar(db, "SELECT class_id FROM enrolment WHERE pupil_id = ? AND school_year = '2025-2026'", [pupil])
    username = scalar(
        db,
        "SELECT u.username FROM class_assignment a JOIN staff_user u ON u.id = a.user_id WHERE a.class_id = ?",
        [class_id],
    )
    teacher = sign_in(db, username)
    own = registrations.list_registrations(db, teacher, pupil)
    assert set(own["registration_id"]) == expected_ids(db, pupil, ("team",)) and not own.empty
    other = scalar(
        db,
        "SELECT min(pupil_id) FROM enrolment WHERE school_year = '2025-2026' AND class_id <> ?",
        [class_id],
    )
    with pytest.raises(AccessDenied):
        registrations.list_registrations(db, teacher, other)
    # A withdrawn registration is hidden unless asked for, and its history shows both versions.
    gone = scalar(db, "SELECT registration_id FROM registration WHERE withdrawn ORDER BY registration_id LIMIT 1")
    owner = scalar(db, "SELECT pupil_id FROM registration WHERE registration_id = ?", [gone])
    assert gone not in set(registrations.list_registrations(db, directie, owner)["registration_id"])
    shown = registrations.list_registrations(db, directie, owner, include_withdrawn=True)
    assert gone in set(shown["registration_id"])
    history = registrations.registration_history(db, directie, gone)
    assert list(history["version"]) == [1, 2] and history["withdrawn"].tolist() == [False, True]
    phases = care.phase_history(db, teacher, pupil)
    assert len(phases) == scalar(db, "SELECT count(*) FROM care_phase WHERE pupil_id = ?", [pupil])


def test_the_core_carries_on_from_the_demo(demo_copy):
    db = demo_copy
    zorg = sign_in(db, "zorg")
    pupil, measure = frame(
        db,
        """SELECT c.pupil_id, min(m.id) AS measure FROM care_phase c
           JOIN enrolment e ON e.pupil_id = c.pupil_id AND e.school_year = '2025-2026' AND e.leave_date IS NULL
           JOIN measure m ON m.pupil_id = c.pupil_id
           WHERE c.end_date IS NULL AND c.phase = 1 AND NOT EXISTS (
               SELECT 1 FROM measure_evaluation v WHERE v.measure_id = m.id AND v.decision = 'stopzetten')
           GROUP BY c.pupil_id ORDER BY c.pupil_id LIMIT 1""",
    ).iloc[0]
    pupil, measure = int(pupil), int(measure)
    care.set_phase(db, zorg, pupil, 2, TODAY, "Aangemeld bij het CLB.")
    history = care.phase_history(db, zorg, pupil)
    assert history["end_date"].isna().sum() == 1 and history["phase"].iloc[-1] == 2
    care.evaluate_measure(db, zorg, measure, TODAY, "Loopt verder.", "verderzetten", TODAY + timedelta(days=42))
    # New rows from the core take ids after the demo's (the demo advanced the sequences it used).
    created = registrations.create_registration(
        db, zorg, pupil, type="mdo", fact_date=TODAY, facts="Besproken.", visibility="team"
    )
    added = care.add_measure(db, zorg, pupil, "stimuleren", "Beloningskaart.", TODAY, TODAY + timedelta(days=30))
    assert created > scalar(db, "SELECT max(registration_id) FROM registration WHERE registration_id <> ?", [created])
    assert added == scalar(db, "SELECT max(id) FROM measure")
    assert scalar(db, "SELECT count(*) FROM care_phase WHERE pupil_id = ?", [pupil]) == len(history)


# -- texts ----------------------------------------------------------------------------------


def test_texts_pass_the_forms_rules_without_advice(demo):
    db, _, _ = demo
    current = frame(db, CURRENT)
    records = current[list(labels.BASE_FIELDS) + ["type", "report_kind"]].to_dict("records")
    for record in records:
        for key, value in record.items():
            if value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
                record[key] = None
            elif isinstance(value, pd.Timestamp):
                record[key] = value.date()
    checked = check_registrations(records)
    errors = [(r["type"], e) for r, (_, e, _) in zip(records, checked, strict=True) if e]
    advice = [(r["type"], w) for r, (_, _, w) in zip(records, checked, strict=True) if w]
    assert errors == [] and advice == []  # short, and every agreement has an evaluation date
    assert current["owner"].notna().eq(current["agreements"].notna()).all()  # an agreement has an owner
    assert current["facts"].str.len().max() <= GUIDE_LENGTH


def test_texts_name_no_pupil_and_no_diagnosis(demo):
    db, _, _ = demo
    texts = frame(db, "SELECT facts, interpretation, agreements, owner FROM registration")
    measures = frame(db, "SELECT description FROM measure")
    evaluations = frame(db, "SELECT text FROM measure_evaluation")
    corpus = " \n ".join(
        [*texts[list(TEXT_COLUMNS)].stack().dropna().tolist(), *measures["description"], *evaluations["text"]]
    )
    names = {n for _, boys, girls, _ in ORIGINS.values() for n in (*boys, *girls)}
    names |= set(frame(db, "SELECT DISTINCT first_name FROM pupil")["first_name"])
    words = set(re.findall(r"\w+", corpus))
    assert not words & names
    lowered = set(re.findall(r"\w+", corpus.lower()))
    assert not lowered & set(DIAGNOSES)
    assert not re.search(r"\d{11}", corpus)


def test_owners_are_people_or_roles_not_pupils(demo):
    db, _, _ = demo
    owners = set(frame(db, "SELECT DISTINCT owner FROM registration WHERE owner IS NOT NULL")["owner"])
    roles = {"zorgcoördinator", "ouders", "directie", "klasleerkracht"}
    teachers = {o for o in owners - roles}
    assert all(re.fullmatch(r"(juf|meester) \S+", o) for o in teachers)
    assert {"zorgcoördinator", "ouders"} <= owners


# -- knob, determinism, atomicity -----------------------------------------------------------


def plan(pupils, seed, today=TODAY, rate=demo_dossier.DEFAULT_REGISTRATIONS_PER_PUPIL_YEAR):
    roster = plan_roster(pupils, seed, today)
    results = generate_results(roster.enrolments, len(roster.pupils), seed, today, "Els Jacobs")
    return roster, plan_dossier(roster, results, seed, today, registrations_per_pupil_year=rate)


def pupil_years(roster, today) -> float:
    """Time at school in school-year units (1 September - 30 June), counted up to today."""
    enrol = roster.enrolments
    start = pd.to_datetime(enrol["start_year"].astype(str) + "-09-01")
    end = pd.to_datetime((enrol["start_year"] + 1).astype(str) + "-06-30")
    begin = enrol["entry_date"].where(enrol["entry_date"] > start, start)
    stop = enrol["leave_date"].where(enrol["leave_date"] < end, end).clip(upper=pd.Timestamp(today))
    return float(((stop - begin).dt.days + 1).clip(lower=0).sum() / 303)


def test_the_volume_follows_the_knob(demo):
    roster, low = plan(PUPILS, SEED, rate=4)
    _, high = plan(PUPILS, SEED, rate=8)
    years = pupil_years(roster, TODAY)
    for rate, result in ((4, low), (8, high)):
        count = dossier_counts(result)["registrations"]
        assert abs(count / (rate * years) - 1) < 0.1, (rate, count, years)
    # Care comes from the results and stays the same; only the everyday volume grows.
    assert dossier_counts(low)["care_phases"] == dossier_counts(high)["care_phases"]


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=5), st.none(), st.booleans()))
def test_a_bad_knob_is_refused_in_dutch(value):
    usable = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 50
    if usable:
        assert check_rate(value) == float(value)
    else:
        with pytest.raises(DossierPlanError, match="registraties per leerling"):
            check_rate(value)


def test_build_demo_refuses_a_bad_knob_before_writing(db):
    with pytest.raises(DemoError, match="registraties per leerling"):
        build_demo(db, pupils=20, seed=1, today=TODAY, registrations_per_pupil_year=-1)
    assert scalar(db, "SELECT count(*) FROM pupil") == 0


def test_same_seed_same_dossier_other_seed_other_dossier():
    def content(result):
        regs = result.registrations.drop(columns=["created_at"]).reset_index(drop=True)
        return regs, result.measures.reset_index(drop=True), result.evaluations.reset_index(drop=True)

    _, first = plan(60, 11)
    _, second = plan(60, 11)
    _, other = plan(60, 12)
    for a, b in zip(content(first), content(second), strict=True):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(first.registrations, second.registrations)
    assert not first.registrations["facts"].equals(other.registrations["facts"])


def test_a_failing_dossier_write_leaves_nothing(db):
    # A registration row already holding the first id makes the dossier insert fail, after the
    # roster and results were written in the same transaction.
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO registration (row_id, registration_id, version, pupil_id, type, fact_date, facts,"
            " visibility, transferable, author_id, author_name, author_role, school_year)"
            " VALUES (1, 999, 1, 999, 'overige', DATE '2025-01-06', 'x', 'team', false, 0, 'x', 'directie',"
            " '2024-2025')"
        )
    )
    with pytest.raises(Exception, match="(?i)constraint|duplicate"):
        build_demo(db, pupils=40, seed=3, today=TODAY)
    for table in ("pupil", "class", "enrolment", "staff_user", "lvs_result", "care_phase", "measure", "setting"):
        assert scalar(db, f"SELECT count(*) FROM {table}") == 0, table
    assert scalar(db, "SELECT count(*) FROM registration") == 1
    assert not is_demo(db)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pupils=st.integers(min_value=9, max_value=300),
    seed=st.integers(min_value=-(2**40), max_value=2**40),
    today=st.dates(min_value=date(2005, 1, 1), max_value=date(2080, 12, 31)),
    rate=st.floats(min_value=0, max_value=6),
)
def test_any_school_seed_and_date_give_a_consistent_plan(pupils, seed, today, rate):
    roster, result = plan(pupils, seed, today, rate)
    regs = result.registrations
    assert (regs["fact_date"] <= pd.Timestamp(today)).all()
    assert (regs["created_at"] < pd.Timestamp(today + timedelta(days=1))).all()
    assert set(regs["type"]) <= set(labels.REGISTRATION_TYPES)
    keys = set(regs["key"])
    assert set(regs.loc[regs["follows_key"] >= 0, "follows_key"]) <= keys
    assert regs.groupby("key")["version"].apply(lambda v: sorted(v) == list(range(1, len(v) + 1))).all()
    assert not regs.loc[regs["type"] == "leefregel", "transferable"].any()
    phases = result.care_phases
    assert (phases.groupby("pupil_number")["end_date"].apply(lambda s: s.isna().sum()) == 1).all()
    assert (phases["start_date"] <= pd.Timestamp(today)).all()
    assert set(phases["reg_key"]) <= keys
    assert (result.evaluations["evaluated_on"] <= pd.Timestamp(today)).all()
    assert set(regs["pupil_number"]) <= set(roster.pupils["pupil_number"])
