"""The pupil file: one read, one audit entry, scope and visibility respected."""

from datetime import date, timedelta

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
