"""The pupil_left table behind the archive rule follows the enrolments in the same transaction."""

from __future__ import annotations

from datetime import date, timedelta

from dossier import left
from dossier.access import User
from dossier.pupils import list_pupils
from dossier.schoolyear import bounds
from tests.factories import make_school


def left_rows(db) -> dict[int, date]:
    with db.cursor() as cur:
        return dict(cur.execute("SELECT pupil_id, left_on FROM pupil_left").fetchall())


def zorg(school) -> User:
    return User(id=school.users["zorg"], username="zorg", name="Zorg", role="zorgteam")


def test_a_leave_date_archives_the_pupil_from_that_day_for_roles_other_than_directie(db):
    school = make_school(db)
    pupil = school.pupils["30004"]
    assert left_rows(db) == {}
    yesterday, tomorrow = date.today() - timedelta(days=1), date.today() + timedelta(days=1)
    set_leave = "UPDATE enrolment SET leave_date = ? WHERE pupil_id = ? AND school_year = ?"
    db.write(lambda cur: cur.execute(set_leave, [tomorrow, pupil, school.year]))
    assert left_rows(db) == {pupil: tomorrow}  # known in advance, not archived yet
    assert pupil in set(list_pupils(db, zorg(school), school.year)["id"])
    db.write(lambda cur: cur.execute(set_leave, [yesterday, pupil, school.year]))
    assert left_rows(db) == {pupil: yesterday}
    assert pupil not in set(list_pupils(db, zorg(school), school.year)["id"])
    directie = User(id=school.users["directie"], username="directie", name="D", role="directie")
    assert pupil in set(list_pupils(db, directie, school.year)["id"])


def test_absent_from_the_newest_roster_means_left_on_31_august_of_the_last_year(db):
    school = make_school(db)
    gone = school.pupils["30009"]
    db.write(
        lambda cur: cur.execute("DELETE FROM enrolment WHERE pupil_id = ? AND school_year = ?", [gone, school.year])
    )
    assert left_rows(db) == {gone: bounds(school.previous_year)[1]}
    # Before a newer roster exists nobody is left by absence: the newest year decides.
    db.write(lambda cur: cur.execute("DELETE FROM enrolment WHERE school_year = ?", [school.year]))
    assert left_rows(db) == {}


def test_refresh_only_rewrites_when_the_enrolments_changed(db):
    make_school(db)
    with db.cursor() as cur:
        cur.execute("BEGIN")
        assert left.refresh(cur) is False
        cur.execute("UPDATE enrolment SET leave_date = DATE '2000-01-01' WHERE pupil_id = 1")
        assert left.refresh(cur) is True
        assert left.refresh(cur) is False
        cur.execute("ROLLBACK")
    assert left_rows(db) == {}
