"""Twenty staff members at once through one Database, as the app runs them: one root connection,
a cursor per operation, a thread per session. Each writes 50 registrations (single and for a
group of a class) and reads dashboards and pupil files in between; every registration must land
exactly once and no session may see an error."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

from dossier import dashboards, registrations
from dossier.pupil_file import open_pupil_file
from dossier.users import build_user
from tests.factories import _password_hash, make_school

SESSIONS = 20
CLASS_SIZE = 15
# One session's saves: S a single registration, B the same one for a whole class (CLASS_SIZE pupils).
PLAN = "SBSSBSBS"
PER_SESSION = PLAN.count("S") + PLAN.count("B") * CLASS_SIZE
YESTERDAY = date.today() - timedelta(days=1)


def _fill_classes(db, school) -> None:
    """make_school has three pupils a class; a group registration wants a real class."""

    def write(cur):
        number = 40_000
        for class_id in school.classes.values():
            have = cur.execute("SELECT count(*) FROM enrolment WHERE class_id = ?", [class_id]).fetchone()[0]
            for _ in range(CLASS_SIZE - have):
                number += 1
                pid = cur.execute(
                    "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date, gender)"
                    " VALUES (?, 'Leerling', ?, DATE '2018-05-01', 'M') RETURNING id",
                    [str(number), f"Nummer {number}"],
                ).fetchone()[0]
                cur.execute(
                    "INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, ?, ?)",
                    [pid, school.year, class_id],
                )

    db.write(write)


def _staff(db, school) -> list:
    """SESSIONS users: teachers spread over the three classes, and zorgteam and directie members."""
    plan = []
    for i in range(SESSIONS):
        if i % 5 in (0, 1, 2):
            plan.append((f"leerkracht.{i}", "leerkracht", list(school.classes)[i % 3]))
        else:
            plan.append((f"staf.{i}", "zorgteam" if i % 5 == 3 else "directie", None))

    def write(cur):
        rows = []
        for username, role, klas in plan:
            name = username.replace(".", " ").title()
            user_id = cur.execute(
                "INSERT INTO staff_user (username, display_name, role, password_hash) VALUES (?, ?, ?, ?) RETURNING id",
                [username, name, role, _password_hash()],
            ).fetchone()[0]
            if klas:
                cur.execute("INSERT INTO class_assignment VALUES (?, ?)", [user_id, school.classes[klas]])
            rows.append((user_id, username, name, role))
        return [build_user(cur, row, None) for row in rows]

    return db.write(write)


def _classes_in_scope(db, school, user) -> dict[int, list[int]]:
    """class id -> its pupils, for the classes this user works with."""
    class_ids = sorted(user.class_ids) if user.role == "leerkracht" else sorted(school.classes.values())
    with db.cursor() as cur:
        return {
            class_id: [
                r[0]
                for r in cur.execute(
                    "SELECT pupil_id FROM enrolment WHERE class_id = ? ORDER BY pupil_id", [class_id]
                ).fetchall()
            ]
            for class_id in class_ids
        }


def _session(db, school, user, start: threading.Barrier, expected: list, errors: list) -> None:
    """One person's work: saves, with the reads a session does in between."""
    try:
        classes = _classes_in_scope(db, school, user)
        class_ids = list(classes)
        start.wait()
        for step, kind in enumerate(PLAN):
            class_id = class_ids[step % len(class_ids)]
            pupils = classes[class_id]
            facts = f"{user.username}: waarneming {step}"
            if kind == "B":
                registrations.create_bulk(db, user, pupils, type="observatie", fact_date=YESTERDAY, facts=facts)
                expected.extend((user.id, pid, facts) for pid in pupils)
            else:
                pid = pupils[step % len(pupils)]
                registrations.create_registration(db, user, pid, type="observatie", fact_date=YESTERDAY, facts=facts)
                expected.append((user.id, pid, facts))
            # After every second save a read, in rotation; the pupil file and the list also write an audit row.
            if step % 2 == 0:
                continue
            pid = pupils[(step + 1) % len(pupils)]
            read = (step // 2) % 4
            if read == 0:
                dashboards.class_overview(db, user, class_id)
            elif read == 1:
                dashboards.care_overview(db, user, class_id)
            elif read == 2:
                open_pupil_file(db, user, pid)
            else:
                registrations.list_registrations(db, user, pid)
    except BaseException as exc:  # collected per thread and asserted in the test
        errors.append((user.username, repr(exc)))
        start.abort()


def test_twenty_sessions_write_a_thousand_registrations_exactly_once(db):
    school = make_school(db)
    _fill_classes(db, school)
    staff = _staff(db, school)
    start = threading.Barrier(SESSIONS)
    expected: list = []
    errors: list = []
    threads = [
        threading.Thread(target=_session, args=(db, school, user, start, expected, errors), name=user.username)
        for user in staff
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # a deadlock fails the test instead of hanging the suite

    assert [t.name for t in threads if t.is_alive()] == []
    assert errors == []
    assert SESSIONS * PER_SESSION == 1000
    assert len(expected) == 1000
    with db.cursor() as cur:
        current = cur.execute(
            """
            SELECT registration_id, author_id, pupil_id, facts FROM registration
            QUALIFY row_number() OVER (PARTITION BY registration_id ORDER BY version DESC) = 1
            """
        ).fetchall()
        versions = cur.execute("SELECT count(*), max(version) FROM registration").fetchone()
        creates = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'create'").fetchone()[0]
    assert len(current) == 1000
    assert versions == (1000, 1)
    written = Counter((author, pupil, facts) for _, author, pupil, facts in current)
    assert [key for key, n in written.items() if n > 1] == []
    assert set(written) == set(expected)
    # Each registration was audited once: no retried transaction left a second trace.
    assert creates == 1000
