"""The pupil file: one read, one audit entry, scope and visibility respected."""

from datetime import date, timedelta

import pandas as pd
import pytest

from dossier import care, registrations
from dossier.access import AccessDenied
from dossier.pupil_file import filter_registrations, open_pupil_file, timeline_data
from dossier.users import authenticate
from tests.factories import PASSWORD, make_school


@pytest.fixture
def school(db):
    school = make_school(db)
    zorg = authenticate(db, "zorg", PASSWORD)
    teacher = authenticate(db, "juf.l1a", PASSWORD)
    pupil = school.pupils["30004"]
    yesterday = date.today() - timedelta(days=1)
    registrations.create_registration(
        db,
        teacher,
        pupil,
        type="observatie",
        fact_date=yesterday,
        facts="Wiebelt voortdurend; splitsen lukt niet",
        agreements="Dagelijks 5 minuten splitsen oefenen",
        owner="juf",
        evaluation_date=date.today() + timedelta(days=3),
    )
    registrations.create_registration(
        db,
        zorg,
        pupil,
        type="clb_terugkoppeling",
        fact_date=yesterday,
        facts="CLB start een onderzoek",
        visibility="zorgteam",
    )
    care.add_measure(
        db, zorg, pupil, "remedieren", "Extra inoefenen splitsen", yesterday, date.today() + timedelta(days=10)
    )
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO avi_result (pupil_id, school_year, test_date, grade, moment, card, level_achieved, level_rank)"
            " VALUES (?, ?, ?, 1, 'midden', 'M3', 'M3', 1)",
            [pupil, school.year, yesterday],
        )
    )
    return school


def audit_count(db):
    with db.cursor() as cur:
        return cur.execute("SELECT count(*) FROM audit_log WHERE action = 'view'").fetchone()[0]


def test_one_opening_is_one_audit_entry(db, school):
    zorg = authenticate(db, "zorg", PASSWORD)
    before = audit_count(db)
    file = open_pupil_file(db, zorg, school.pupils["30004"])
    assert audit_count(db) == before + 1
    assert len(file.registrations) == 2
    # Missing text (here: no domain given) is '' rather than NaN, which pages would print as "nan".
    assert all(isinstance(v, str) for col in ("domain", "interpretation", "owner") for v in file.registrations[col])
    assert file.active_measures["description"].tolist() == ["Extra inoefenen splitsen"]
    assert set(file.due["kind"]) == {"maatregel", "afspraak"}
    with db.cursor() as cur:
        row = cur.execute("SELECT object, pupil_id, user_name FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("dossier", school.pupils["30004"], "zorg")


def test_teacher_sees_team_items_of_own_pupil_only(db, school):
    teacher = authenticate(db, "juf.l1a", PASSWORD)
    file = open_pupil_file(db, teacher, school.pupils["30004"])
    assert file.registrations["type"].tolist() == ["observatie"]
    assert file.writable == ("team",)
    assert not file.may_write_care
    with pytest.raises(AccessDenied):
        open_pupil_file(db, teacher, school.pupils["30007"])


def test_beheerder_and_unknown_ids_are_refused(db, school):
    with pytest.raises(AccessDenied):
        open_pupil_file(db, authenticate(db, "beheer", PASSWORD), school.pupils["30004"])
    with pytest.raises(AccessDenied):
        open_pupil_file(db, authenticate(db, "zorg", PASSWORD), 999_999)


def test_clb_reads_but_may_not_write(db, school):
    file = open_pupil_file(db, authenticate(db, "clb", PASSWORD), school.pupils["30004"])
    assert len(file.registrations) == 2
    assert file.writable == ()


def test_filtering_without_reading_again(db, school):
    zorg = authenticate(db, "zorg", PASSWORD)
    file = open_pupil_file(db, zorg, school.pupils["30004"])
    before = audit_count(db)
    assert len(filter_registrations(file.registrations, search="SPLITSEN")) == 1
    assert len(filter_registrations(file.registrations, search="clb onderzoek")) == 0
    assert len(filter_registrations(file.registrations, search="onderzoek")) == 1
    assert len(filter_registrations(file.registrations, types=["observatie", "mdo"])) == 1
    assert audit_count(db) == before


def test_withdrawn_items_stay_visible_as_withdrawn(db, school):
    zorg = authenticate(db, "zorg", PASSWORD)
    file = open_pupil_file(db, zorg, school.pupils["30004"])
    target = int(file.registrations[file.registrations["type"] == "clb_terugkoppeling"]["registration_id"].iloc[0])
    registrations.withdraw_registration(db, zorg, target, "Verkeerde leerling")
    file = open_pupil_file(db, zorg, school.pupils["30004"])
    assert len(file.registrations) == 2
    assert len(file.active_registrations) == 1
    assert len(filter_registrations(file.registrations)) == 1
    assert len(filter_registrations(file.registrations, include_withdrawn=True)) == 2


def test_timeline_data_adds_expected_avi_level(db, school):
    file = open_pupil_file(db, authenticate(db, "zorg", PASSWORD), school.pupils["30004"])
    data = timeline_data(file)
    assert data.avi["expected_rank"].tolist() == [1]  # L1 mid-year: M3
    assert set(data.registrations["type_label"]) == {"Observatie", "CLB-terugkoppeling"}


def test_columns_frame_matches_duckdb_df(db, school):
    """Frames built from fetched column arrays have the dtypes and values .df() gives, NULLs included."""
    from dossier.pupil_file import columns_frame

    query = (
        "SELECT * FROM (VALUES (1::INTEGER, NULL::BIGINT, NULL::BOOLEAN, 'a', NULL::VARCHAR, DATE '2024-09-01',"
        " NULL::DOUBLE, NULL::TIMESTAMP), (2, 5, true, NULL, NULL, NULL, 1.5, TIMESTAMP '2024-09-02 10:00'))"
        " t(a, b, c, d, e, f, g, h)"
    )
    with db.cursor() as cur:
        for sql in (query, query + " LIMIT 0", "SELECT * FROM registration", "SELECT * FROM avi_result"):
            pd.testing.assert_frame_equal(columns_frame(cur.execute(sql).fetchnumpy()), cur.execute(sql).df())


def _due_of(db, user, pupil, day):
    with db.cursor() as cur:
        return care.query_due_evaluations(cur, user, today=day, pupil_id=pupil)


DUE_KEYS = ["kind", "object_id", "subtype", "description", "owner", "evaluation_date", "days_overdue", "class_name"]


@pytest.mark.parametrize("username", ["zorg", "juf.l1a", "clb", "directie"])
def test_open_evaluations_equal_the_care_due_list(db, school, username):
    """The file derives the pupil's open evaluations itself; they must equal care's due list for that pupil."""
    zorg = authenticate(db, "zorg", PASSWORD)
    pupil = school.pupils["30004"]
    today = date.today()
    # A team agreement followed up by a zorgteam registration: evaluated, also for a teacher who cannot read that.
    followed = registrations.create_registration(
        db,
        zorg,
        pupil,
        type="oudergesprek",
        fact_date=today - timedelta(days=5),
        facts="Gesprek",
        agreements="Leesbril testen",
        evaluation_date=today - timedelta(days=2),
        visibility="team",
    )
    registrations.create_registration(
        db,
        zorg,
        pupil,
        type="evaluatie",
        fact_date=today,
        facts="Bril is er",
        visibility="zorgteam",
        follows_up=followed,
    )
    # A withdrawn agreement is never due; one without agreement text shows its facts.
    withdrawn = registrations.create_registration(
        db,
        zorg,
        pupil,
        type="observatie",
        fact_date=today,
        facts="Vergissing",
        evaluation_date=today,
    )
    registrations.withdraw_registration(db, zorg, withdrawn, "Verkeerde leerling")
    registrations.create_registration(
        db,
        zorg,
        pupil,
        type="mdo",
        fact_date=today - timedelta(days=12),
        facts="Alleen feiten",
        evaluation_date=today - timedelta(days=9),
        visibility="zorgteam",
    )
    stopped = care.add_measure(db, zorg, pupil, "compenseren", "Rekenmachine", today - timedelta(days=30), today)
    care.evaluate_measure(db, zorg, stopped, today, "Niet meer nodig.", "stopzetten")
    later = care.add_measure(db, zorg, pupil, "dispenseren", "Geen dictee", today, today + timedelta(days=40))
    assert later
    user = authenticate(db, username, PASSWORD)
    for day in (today, today + timedelta(days=20)):
        file = open_pupil_file(db, user, pupil, today=day)
        expected = _due_of(db, user, pupil, day)
        assert len(expected) >= 2  # the comparison is not vacuous
        got = file.due
        assert list(got.columns) == list(expected.columns)
        pd.testing.assert_frame_equal(
            got[DUE_KEYS].reset_index(drop=True), expected[DUE_KEYS].reset_index(drop=True), check_dtype=False
        )
    assert followed not in set(file.due["object_id"])
    assert withdrawn not in set(file.due["object_id"])


def test_a_pupil_who_is_not_enrolled_now_has_nothing_due(db, school):
    zorg = authenticate(db, "zorg", PASSWORD)
    pupil = school.pupils["30004"]
    day = date.today() + timedelta(days=3)
    db.write(lambda cur: cur.execute("UPDATE enrolment SET leave_date = ? WHERE pupil_id = ?", [date.today(), pupil]))
    assert _due_of(db, zorg, pupil, day).empty
    with pytest.raises(AccessDenied):  # a pupil who left is archived for the zorgteam
        open_pupil_file(db, zorg, pupil, today=day)
    director = authenticate(db, "directie", PASSWORD)  # reads the archive; the measure of the fixture is due soon
    assert _due_of(db, director, pupil, day).empty
    file = open_pupil_file(db, director, pupil, today=day)
    assert not file.active_measures.empty and file.due.empty


def test_frames_are_built_once_and_reading_them_touches_no_database(db, school):
    file = open_pupil_file(db, authenticate(db, "zorg", PASSWORD), school.pupils["30004"])
    before = audit_count(db)
    db.close()  # every part was fetched inside the one audited read
    assert file.registrations is file.registrations
    assert len(file.registrations) == 2 and len(file.results["avi"]) == 1
    assert file.phase is None and not file.class_history.empty and len(file.due) == 2
    reopened = type(db)(db.path)
    with reopened.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'view'").fetchone()[0] == before
    reopened.close()


def test_a_teacher_never_receives_other_visibilities_or_results_of_other_classes(db, school):
    teacher = authenticate(db, "juf.l1a", PASSWORD)
    file = open_pupil_file(db, teacher, school.pupils["30004"])
    assert set(file.rows["registrations"]["visibility"]) == {"team"}
    assert all(len(frame) == 0 or key == "avi" for key, frame in file.results.items())
    with pytest.raises(AccessDenied):
        open_pupil_file(db, teacher, school.pupils["30007"])
    with pytest.raises(AccessDenied):
        open_pupil_file(db, teacher, "30004")  # ids only; a pupil number is not an id
