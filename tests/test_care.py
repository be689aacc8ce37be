"""Care phases, measures, evaluations and the 'te evalueren' list against a real DuckDB file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dossier import care, labels, registrations
from dossier.access import AccessDenied
from dossier.forms import FORM, M_RRN, MAX_TEXT, FormError
from tests.test_registrations import (  # noqa: F401  (fixtures: a fresh copy of one prepared school per test)
    db_fixture,
    school_fixture,
    school_template_fixture,
    users_fixture,
)

TODAY = date.today()


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def count(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def rows(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchall()


# -- care phases ----------------------------------------------------------------------------
def test_a_pupil_without_phase_has_none(db, school, users):
    assert care.current_phase(db, users["zorg"], school.pupils["30001"]) is None
    assert care.phase_history(db, users["zorg"], school.pupils["30001"]).empty


def test_set_phase_closes_the_open_one_keeps_history_and_writes_a_zorgfase_registration(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    care.set_phase(db, zorg, pupil, 1, days(-40), "Lezen blijft moeizaam ondanks differentiatie.")
    care.set_phase(db, zorg, pupil, 2, days(-10), "CLB start een handelingsgericht diagnostisch traject.")

    current = care.current_phase(db, zorg, pupil)
    assert (current["phase"], current["start_date"], current["end_date"]) == (2, days(-10), None)
    assert current["phase_label"] == labels.CARE_PHASES[2]
    history = care.phase_history(db, zorg, pupil)
    assert list(history["phase"]) == [1, 2]
    assert history["end_date"].iloc[0].date() == days(-11)  # the day before the next phase starts
    assert history["end_date"].isna().tolist() == [False, True]
    assert count(db, "SELECT count(*) FROM care_phase WHERE pupil_id = ? AND end_date IS NULL", [pupil]) == 1

    written = registrations.list_registrations(db, zorg, pupil, types=["zorgfase"]).sort_values("fact_date")
    assert [d.date() for d in written["fact_date"]] == [days(-40), days(-10)]
    assert list(written["registration_id"]) == list(history["registration_id"])
    assert labels.CARE_PHASES[1] in written["facts"].iloc[1] and labels.CARE_PHASES[2] in written["facts"].iloc[1]
    assert "diagnostisch traject" in written["facts"].iloc[1]
    assert set(written["author_name"]) == {zorg.name}


def test_a_same_day_correction_closes_the_old_phase_on_that_day(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30002"]
    care.set_phase(db, zorg, pupil, 1, days(-5), "Start verhoogde zorg.")
    care.set_phase(db, zorg, pupil, 2, days(-5), "Vergissing: het is meteen fase 2.")
    history = care.phase_history(db, zorg, pupil)
    assert [d.date() for d in history["end_date"].iloc[:1]] == [days(-5)]
    assert care.current_phase(db, zorg, pupil)["phase"] == 2


def test_set_phase_refuses_the_same_phase_and_an_earlier_start(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    care.set_phase(db, zorg, pupil, 1, days(-20), "Start verhoogde zorg.")
    with pytest.raises(FormError) as caught:
        care.set_phase(db, zorg, pupil, 1, days(-1), "Nog eens.")
    assert set(caught.value.errors) == {"phase"}
    with pytest.raises(FormError) as caught:
        care.set_phase(db, zorg, pupil, 2, days(-30), "Te vroeg.")
    assert set(caught.value.errors) == {"start_date"}
    with pytest.raises(FormError) as caught:
        care.set_phase(db, zorg, pupil, 2, days(1), "Morgen.")
    assert set(caught.value.errors) == {"start_date"}
    with pytest.raises(FormError) as caught:
        care.set_phase(db, zorg, pupil, 2, days(0), "Rijksregister 85.07.30-033.61")
    assert caught.value.errors == {"note": M_RRN}
    assert count(db, "SELECT count(*) FROM care_phase") == 1
    assert count(db, "SELECT count(*) FROM registration WHERE type = 'zorgfase'") == 1


def test_set_phase_is_one_transaction(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    care.set_phase(db, zorg, pupil, 1, days(-20), "Start verhoogde zorg.")
    # The note fits a care phase but not the registration text built around it: that part
    # fails after the open phase was already closed inside the transaction.
    with pytest.raises(FormError) as caught:
        care.set_phase(db, zorg, pupil, 2, days(0), "x" * MAX_TEXT)
    assert set(caught.value.errors) == {"note"}
    assert rows(db, "SELECT phase, end_date FROM care_phase WHERE pupil_id = ?", [pupil]) == [(1, None)]
    assert count(db, "SELECT count(*) FROM registration") == 1


@pytest.mark.parametrize("username", ["juf.k3a", "clb", "beheer"])
def test_only_zorgteam_and_directie_set_phases_or_add_measures(db, school, users, username):
    user = users[username]
    pupil = school.pupils["30001"]
    with pytest.raises(AccessDenied):
        care.set_phase(db, user, pupil, 1, days(0), "Voorstel.")
    with pytest.raises(AccessDenied):
        care.add_measure(db, user, pupil, "compenseren", "Rekenkaart", days(0), days(30))
    assert count(db, "SELECT count(*) FROM care_phase") + count(db, "SELECT count(*) FROM measure") == 0


def test_directie_may_set_phases_too(db, school, users):
    care.set_phase(db, users["directie"], school.pupils["30005"], 1, days(0), "Na het MDO.")
    assert care.current_phase(db, users["directie"], school.pupils["30005"])["phase"] == 1


def test_reading_care_follows_the_scope(db, school, users):
    zorg = users["zorg"]
    own, other = school.pupils["30001"], school.pupils["30007"]
    for pupil in (own, other):
        care.set_phase(db, zorg, pupil, 1, days(-3), "Start verhoogde zorg.")
        care.add_measure(db, zorg, pupil, "differentieren", "Verlengde instructie", days(-3), days(20))
    juf, clb, beheer = users["juf.k3a"], users["clb"], users["beheer"]
    assert care.current_phase(db, juf, own)["phase"] == 1
    assert len(care.list_measures(db, juf, own)) == 1
    for read in (care.current_phase, care.phase_history, care.list_measures):
        with pytest.raises(AccessDenied):
            read(db, juf, other)
        with pytest.raises(AccessDenied):
            read(db, beheer, own)
        assert read(db, clb, other) is not None
    with pytest.raises(AccessDenied):
        care.list_measures(db, juf, 987_654)


def test_care_reads_and_writes_are_audited(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    care.set_phase(db, zorg, pupil, 1, days(0), "Start verhoogde zorg.")
    measure = care.add_measure(db, zorg, pupil, "stimuleren", "Beloningskaart", days(0), days(14))
    care.evaluate_measure(db, zorg, measure, days(0), "Eerste indruk positief.", "verderzetten", days(30))
    care.phase_history(db, zorg, pupil)
    care.list_measures(db, zorg, pupil)
    created = [r[0].split(":")[0] for r in rows(db, "SELECT object FROM audit_log WHERE action = 'create'")]
    assert sorted(created) == ["care_phase", "measure", "measure_evaluation", "registration"]
    viewed = rows(db, "SELECT pupil_id, object FROM audit_log WHERE action = 'view' ORDER BY id")
    assert viewed == [(pupil, "care_phase"), (pupil, "measures")]
    details = " ".join(r[0] for r in rows(db, "SELECT detail FROM audit_log WHERE detail IS NOT NULL"))
    assert "Beloningskaart" not in details and "positief" not in details


# -- measures -------------------------------------------------------------------------------
def test_measure_lifecycle_is_append_only(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30004"]
    measure = care.add_measure(db, zorg, pupil, "Compenseren", "Rekenkaart bij alle toetsen", days(-60), days(-5))
    original = rows(db, "SELECT * FROM measure WHERE id = ?", [measure])

    frame = care.list_measures(db, zorg, pupil, today=TODAY)
    assert list(frame.columns) == list(care.MEASURE_COLUMNS)
    row = frame.iloc[0]
    assert (row["category"], row["evaluations"], bool(row["active"])) == ("compenseren", 0, True)
    assert row["evaluation_date"].date() == days(-5)

    care.evaluate_measure(db, zorg, measure, days(-4), "Werkt, rekent zelfstandiger.", "verderzetten", days(40))
    care.evaluate_measure(db, zorg, measure, days(-2), "Ook bij meten inzetten.", "bijsturen", days(50))
    row = care.list_measures(db, zorg, pupil, today=TODAY).iloc[0]
    assert (row["evaluations"], row["last_decision"], row["last_evaluation_text"]) == (
        2,
        "bijsturen",
        "Ook bij meten inzetten.",
    )
    assert row["evaluation_date"].date() == days(50)
    assert row["first_evaluation_date"].date() == days(-5)

    care.evaluate_measure(db, zorg, measure, days(-1), "Niet meer nodig.", "stopzetten")
    row = care.list_measures(db, zorg, pupil, today=TODAY).iloc[0]
    assert row["end_date"].date() == days(-1)
    assert bool(row["stopped"]) and not bool(row["active"])
    assert row["evaluation_date"] is None or str(row["evaluation_date"]) == "NaT"
    assert care.list_measures(db, zorg, pupil, active_only=True, today=TODAY).empty

    assert rows(db, "SELECT * FROM measure WHERE id = ?", [measure]) == original  # never overwritten
    assert count(db, "SELECT count(*) FROM measure_evaluation WHERE measure_id = ?", [measure]) == 3
    with pytest.raises(FormError) as caught:
        care.evaluate_measure(db, zorg, measure, days(0), "Toch weer?", "verderzetten")
    assert set(caught.value.errors) == {FORM}


def test_evaluation_dates_must_make_sense(db, school, users):
    zorg = users["zorg"]
    measure = care.add_measure(db, zorg, school.pupils["30004"], "remedieren", "Leesgroep", days(-10), days(-1))
    with pytest.raises(FormError) as caught:
        care.evaluate_measure(db, zorg, measure, days(-20), "Te vroeg.", "verderzetten")
    assert set(caught.value.errors) == {"evaluated_on"}
    care.evaluate_measure(db, zorg, measure, days(-1), "Goed.", "verderzetten", days(20))
    with pytest.raises(FormError) as caught:
        care.evaluate_measure(db, zorg, measure, days(-5), "Vroeger dan de vorige.", "bijsturen")
    assert set(caught.value.errors) == {"evaluated_on"}
    with pytest.raises(FormError) as caught:
        care.evaluate_measure(db, zorg, measure, days(0), "Stop.", "stopzetten", days(10))
    assert set(caught.value.errors) == {"next_evaluation_date"}
    with pytest.raises(FormError) as caught:
        care.add_measure(db, zorg, school.pupils["30004"], "sticordi", "", days(0), days(-1))
    assert set(caught.value.errors) == {"category", "description", "evaluation_date"}


def test_a_teacher_cannot_evaluate_and_unknown_measures_are_denied(db, school, users):
    zorg = users["zorg"]
    measure = care.add_measure(db, zorg, school.pupils["30001"], "dispenseren", "Geen dictee", days(-3), days(3))
    with pytest.raises(AccessDenied):
        care.evaluate_measure(db, users["juf.k3a"], measure, days(0), "Gaat goed.", "verderzetten")
    with pytest.raises(AccessDenied):
        care.evaluate_measure(db, zorg, measure + 1000, days(0), "Bestaat niet.", "verderzetten")
    assert count(db, "SELECT count(*) FROM measure_evaluation") == 0


# -- te evalueren ----------------------------------------------------------------------------
@pytest.fixture
def due_school(db, school, users):
    """Measures and agreements around today in K3A and L1B, in each visibility."""
    zorg, directie = users["zorg"], users["directie"]
    k3a, l1b = school.pupils["30001"], school.pupils["30007"]
    made = {
        "k3a_measure": care.add_measure(db, zorg, k3a, "compenseren", "Rekenkaart", days(-30), days(-3)),
        "l1b_measure": care.add_measure(db, zorg, l1b, "remedieren", "Leesgroep", days(-30), days(5)),
        "later_measure": care.add_measure(db, zorg, k3a, "stimuleren", "Sticker", days(-30), days(60)),
    }
    for name, pupil, visibility, when in (
        ("k3a_team", k3a, "team", days(2)),
        ("k3a_zorgteam", k3a, "zorgteam", days(-1)),
        ("k3a_directie", k3a, "directie", days(0)),
        ("l1b_team", l1b, "team", days(-7)),
        ("k3a_far", k3a, "team", days(45)),
    ):
        made[name] = registrations.create_registration(
            db,
            directie,
            pupil,
            type="oudergesprek",
            fact_date=days(-8),
            facts="Gesprek met de ouders.",
            agreements=f"Afspraak {name}",
            owner="Juf",
            evaluation_date=when,
            visibility=visibility,
        )
    return made


def due_keys(frame):
    return {(kind, int(obj)) for kind, obj in zip(frame["kind"], frame["object_id"], strict=True)}


def test_zorgteam_sees_everything_due_it_may_read(db, school, users, due_school):
    frame = care.due_evaluations(db, users["zorg"], within_days=14, today=TODAY)
    assert list(frame.columns) == list(care.DUE_COLUMNS)
    assert due_keys(frame) == {
        ("maatregel", due_school["k3a_measure"]),
        ("maatregel", due_school["l1b_measure"]),
        ("afspraak", due_school["k3a_team"]),
        ("afspraak", due_school["k3a_zorgteam"]),
        ("afspraak", due_school["l1b_team"]),
    }
    first = frame.iloc[0]  # most overdue first
    assert (first["kind"], first["days_overdue"], first["class_name"]) == ("afspraak", 7, "L1B")
    assert first["pupil_name"] == "Ella Desmet" and first["description"] == "Afspraak l1b_team"
    by_key = frame.set_index(["kind", "object_id"])
    assert by_key.loc[("maatregel", due_school["k3a_measure"]), "days_overdue"] == 3
    assert by_key.loc[("afspraak", due_school["k3a_team"]), "days_overdue"] == -2
    directie_sees = due_keys(care.due_evaluations(db, users["directie"], today=TODAY))
    assert ("afspraak", due_school["k3a_directie"]) in directie_sees


def test_a_teacher_sees_own_classes_and_only_what_they_may_read(db, school, users, due_school):
    frame = care.due_evaluations(db, users["juf.k3a"], today=TODAY)
    assert due_keys(frame) == {("maatregel", due_school["k3a_measure"]), ("afspraak", due_school["k3a_team"])}
    assert set(frame["class_name"]) == {"K3A"}
    other = care.due_evaluations(db, users["meester.l1b"], today=TODAY)
    assert due_keys(other) == {("maatregel", due_school["l1b_measure"]), ("afspraak", due_school["l1b_team"])}
    with pytest.raises(AccessDenied):
        care.due_evaluations(db, users["beheer"], today=TODAY)


def test_the_window_widens_with_within_days(db, school, users, due_school):
    narrow = due_keys(care.due_evaluations(db, users["zorg"], within_days=0, today=TODAY))
    assert ("maatregel", due_school["l1b_measure"]) not in narrow
    assert ("afspraak", due_school["k3a_team"]) not in narrow
    wide = due_keys(care.due_evaluations(db, users["zorg"], within_days=90, today=TODAY))
    assert {("maatregel", due_school["later_measure"]), ("afspraak", due_school["k3a_far"])} <= wide


def test_evaluating_removes_an_item_and_a_new_date_brings_it_back(db, school, users, due_school):
    zorg = users["zorg"]
    care.evaluate_measure(db, zorg, due_school["k3a_measure"], days(0), "Werkt.", "verderzetten", days(60))
    care.evaluate_measure(db, zorg, due_school["l1b_measure"], days(0), "Werkt.", "bijsturen", days(7))
    registrations.create_registration(
        db,
        zorg,
        school.pupils["30001"],
        type="evaluatie",
        fact_date=days(0),
        facts="Afspraak nagekeken met de ouders.",
        follows_up=due_school["k3a_team"],
        visibility="team",
    )
    registrations.withdraw_registration(db, users["directie"], due_school["k3a_zorgteam"], "Dubbel ingevoerd")
    keys = due_keys(care.due_evaluations(db, zorg, within_days=14, today=TODAY))
    assert keys == {("maatregel", due_school["l1b_measure"]), ("afspraak", due_school["l1b_team"])}
    assert care.due_evaluations(db, zorg, today=TODAY).set_index("object_id").loc[
        due_school["l1b_measure"], "evaluation_date"
    ].date() == days(7)


def test_due_list_is_audited_without_pupil(db, school, users, due_school):
    care.due_evaluations(db, users["zorg"], today=TODAY)
    assert rows(db, "SELECT pupil_id, object FROM audit_log WHERE action = 'view'") == [(None, "due_evaluations")]
