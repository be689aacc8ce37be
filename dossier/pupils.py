"""Pupils, classes and school years, always filtered to the acting user's scope in SQL."""

from __future__ import annotations

import pandas as pd

from dossier.access import NAMES_ONLY, AccessDenied, User, class_scope_sql, pupil_scope_sql, require
from dossier.db import Database

OUT_OF_SCOPE = "Deze leerling bestaat niet of valt buiten jouw klassen."


def school_years(db: Database) -> list[str]:
    """Known school years, newest first."""
    with db.cursor() as cur:
        rows = cur.execute("SELECT name FROM school_year ORDER BY name DESC").fetchall()
    return [r[0] for r in rows]


def list_classes(db: Database, user: User, school_year: str) -> pd.DataFrame:
    """Classes of one school year within the user's scope, with their pupil count."""
    condition, params = class_scope_sql(user, "pupils.read", "c.id")
    with db.cursor() as cur:
        return cur.execute(
            f"""
            SELECT c.id, c.name, c.level, c.grade, c.parallel,
                   count(e.pupil_id) FILTER (WHERE e.leave_date IS NULL) AS pupils
            FROM class c LEFT JOIN enrolment e ON e.class_id = c.id
            WHERE c.school_year = ? AND {condition}
            GROUP BY c.id, c.name, c.level, c.grade, c.parallel
            ORDER BY CASE c.level WHEN 'kleuter' THEN 0 WHEN 'lager' THEN 1 ELSE 2 END, c.grade, c.name
            """,
            [school_year, *params],
        ).df()


def list_pupils(
    db: Database,
    user: User,
    school_year: str,
    *,
    class_id: int | None = None,
    search: str | None = None,
    include_left: bool = True,
) -> pd.DataFrame:
    """Pupils enrolled in `school_year`, within scope; a beheerder gets names and class only."""
    condition, params = pupil_scope_sql(user, "pupils.read", "p.id")
    names_only = require(user, "pupils.read") == NAMES_ONLY
    filters = ["e.school_year = ?", condition]
    values: list = [school_year, *params]
    if class_id is not None:
        filters.append("e.class_id = ?")
        values.append(class_id)
    if not include_left:
        filters.append("e.leave_date IS NULL")
    if search and search.strip():
        # Accent- and case-insensitive, so 'celik' finds Çelik; numbers match as a prefix.
        filters.append(
            "(strip_accents(lower(p.first_name || ' ' || p.last_name)) LIKE '%' || strip_accents(lower(?)) || '%'"
            " OR strip_accents(lower(p.last_name || ' ' || p.first_name)) LIKE '%' || strip_accents(lower(?)) || '%'"
            " OR p.pupil_number LIKE ? || '%')"
        )
        term = search.strip()
        values += [term, term, term]
    columns = (
        "p.id, p.first_name, p.last_name, c.name AS class_name, c.id AS class_id"
        if names_only
        else "p.id, p.pupil_number, p.first_name, p.last_name, p.birth_date, p.gender,"
        " c.name AS class_name, c.id AS class_id, c.level, c.grade, e.entry_date, e.leave_date"
    )
    with db.cursor() as cur:
        return cur.execute(
            f"""
            SELECT {columns}
            FROM pupil p
            JOIN enrolment e ON e.pupil_id = p.id
            JOIN class c ON c.id = e.class_id
            WHERE {" AND ".join(filters)}
            ORDER BY c.grade, c.name, p.last_name, p.first_name
            """,
            values,
        ).df()


def get_pupil(db: Database, user: User, pupil_id: int) -> dict:
    """One pupil's identification; AccessDenied when it does not exist or is out of scope.

    Both cases give the same message, so probing ids reveals nothing.
    """
    condition, params = pupil_scope_sql(user, "pupils.read", "p.id")
    names_only = require(user, "pupils.read") == NAMES_ONLY
    columns = (
        "p.id, p.first_name, p.last_name"
        if names_only
        else "p.id, p.pupil_number, p.first_name, p.last_name, p.birth_date, p.gender"
    )
    with db.cursor() as cur:
        cur.execute(f"SELECT {columns} FROM pupil p WHERE p.id = ? AND {condition}", [pupil_id, *params])
        row = cur.fetchone()
        if row is None:
            raise AccessDenied(OUT_OF_SCOPE)
        return dict(zip([d[0] for d in cur.description], row, strict=True))


def class_history(db: Database, user: User, pupil_id: int) -> pd.DataFrame:
    """The pupil's classes per school year, oldest first."""
    get_pupil(db, user, pupil_id)
    with db.cursor() as cur:
        return query_class_history(cur, pupil_id)


def query_class_history(cur, pupil_id: int) -> pd.DataFrame:
    """Unchecked: only for callers that verified the pupil is in scope (get_pupil) first."""
    return cur.execute(
        """
        SELECT e.school_year, c.name AS class_name, c.level, c.grade, e.entry_date, e.leave_date
        FROM enrolment e JOIN class c ON c.id = e.class_id
        WHERE e.pupil_id = ?
        ORDER BY e.school_year
        """,
        [pupil_id],
    ).df()


def school_counts(db: Database, user: User, school_year: str) -> dict:
    """Headline numbers for the start page, within the user's scope."""
    classes = list_classes(db, user, school_year)
    return {
        "classes": len(classes),
        "pupils": int(classes["pupils"].sum()) if len(classes) else 0,
        "levels": classes.groupby("level")["pupils"].sum().to_dict() if len(classes) else {},
    }
