"""Small constructed schools for tests, written straight into a real DuckDB file."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from dossier.db import Database
from dossier.schoolyear import bounds, current_school_year, shift
from dossier.users import hash_password

PASSWORD = "geheim123"


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class School:
    year: str
    previous_year: str
    classes: dict[str, int]  # name -> id (current year)
    previous_classes: dict[str, int]
    pupils: dict[str, int]  # pupil_number -> id
    users: dict[str, int]  # username -> id


def make_school(db: Database) -> School:
    """Two school years, three classes, nine pupils; one teacher per class and one per other role."""
    year = current_school_year()
    prev = shift(year, -1)

    def write(cur):
        for y in (prev, year):
            start, end = bounds(y)
            cur.execute("INSERT INTO school_year VALUES (?, ?, ?)", [y, start, end])
        classes, previous = {}, {}
        for y, target in ((year, classes), (prev, previous)):
            for name, level, grade, par in (
                ("K3A", "kleuter", 3, "A"),
                ("L1A", "lager", 1, "A"),
                ("L1B", "lager", 1, "B"),
            ):
                target[name] = cur.execute(
                    "INSERT INTO class (school_year, name, level, grade, parallel) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    [y, name, level, grade, par],
                ).fetchone()[0]
        pupils = {}
        roster = [
            ("30001", "Nora", "Maes", "K3A"),
            ("30002", "Jules", "Çelik", "K3A"),
            ("30003", "Amira", "El Amrani", "K3A"),
            ("30004", "Wout", "Peeters", "L1A"),
            ("30005", "Lina", "Wouters", "L1A"),
            ("30006", "Lucas", "Nowak", "L1A"),
            ("30007", "Ella", "Desmet", "L1B"),
            ("30008", "Louis", "Lambrechts", "L1B"),
            ("30009", "Julie", "De Clercq", "L1B"),
        ]
        for number, first, last, klas in roster:
            pid = cur.execute(
                "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date, gender)"
                " VALUES (?, ?, ?, ?, 'V') RETURNING id",
                [number, first, last, date(2019, 3, 1)],
            ).fetchone()[0]
            pupils[number] = pid
            cur.execute(
                "INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, ?, ?)", [pid, year, classes[klas]]
            )
            # Last year the L1 pupils were in K3A.
            if klas.startswith("L1"):
                cur.execute(
                    "INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, ?, ?)",
                    [pid, prev, previous["K3A"]],
                )
        return classes, previous, pupils

    classes, previous, pupils = db.write(write)
    users = {}
    staff = (
        ("juf.k3a", "leerkracht", ["K3A"]),
        ("juf.l1a", "leerkracht", ["L1A"]),
        ("meester.l1b", "leerkracht", ["L1B"]),
        ("zorg", "zorgteam", []),
        ("directie", "directie", []),
        ("clb", "clb", []),
        ("beheer", "beheerder", []),
    )

    def add_staff(cur):
        # One argon2 hash for all (hashing costs ~0.3 s each); create_user itself is tested in test_users.
        for username, role, klassen in staff:
            users[username] = cur.execute(
                "INSERT INTO staff_user (username, display_name, role, password_hash) VALUES (?, ?, ?, ?) RETURNING id",
                [username, username.replace(".", " ").title(), role, _password_hash()],
            ).fetchone()[0]
            for klas in klassen:
                cur.execute("INSERT INTO class_assignment VALUES (?, ?)", [users[username], classes[klas]])

    db.write(add_staff)
    return School(year, prev, classes, previous, pupils, users)
