"""The pupil file derives current versions and measure states in numpy: equal to the SQL that lists them.

`registrations.execute_current_versions` and `care.execute_measures` stay the reference (they
serve the lists outside the pupil file). These tests compare both paths frame by frame, dtypes
included, on the demo school for every pupil and role, and on generated version histories
(corrections, withdrawals, visibility changes, follow-ups, attachments, evaluations).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import care, pupil_rows
from dossier.access import User
from dossier.pupil_file import (
    _agreements_that_may_be_due,
    _attachments,
    _class_names,
    _measures,
    columns_frame,
    open_pupil_file,
)
from dossier.registrations import LIST_COLUMNS, VISIBILITIES, execute_current_versions, readable_visibilities
from dossier.results import INSTRUMENTS, query_pupil_results
from dossier.users import build_user
from pipelines.demo import build_demo

TODAY = date(2026, 3, 16)


def _users(cur) -> list[User]:
    """Zorgteam, directie, CLB and three teachers of the demo, as the sign-in builds them."""
    rows = cur.execute(
        "SELECT id, username, display_name, role FROM staff_user WHERE role <> 'beheerder' ORDER BY id"
    ).fetchall()
    teachers = [r for r in rows if r[3] == "leerkracht"][:3]
    return [build_user(cur, r, TODAY) for r in rows if r[3] != "leerkracht"] + [
        build_user(cur, r, TODAY) for r in teachers
    ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from dossier.db import Database

    database = Database(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    build_demo(database, pupils=60, seed=11, today=TODAY, years=3)
    yield database
    database.close()


def _sql_current(cur, user: User, pupil: int, visibilities) -> pd.DataFrame:
    return execute_current_versions(cur, user, pupil, visibilities).df()


def test_the_pupil_file_equals_the_sql_lists_for_every_pupil_and_role(demo):
    with demo.cursor() as cur:
        users = _users(cur)
        pupils = [p for (p,) in cur.execute("SELECT id FROM pupil ORDER BY id").fetchall()]
    assert {u.role for u in users} == {"zorgteam", "directie", "clb", "leerkracht"}
    compared = {"registrations": 0, "measures": 0, "versions": 0}
    for user in users:
        for pupil in pupils:
            try:
                file = open_pupil_file(demo, user, pupil, today=TODAY)
            except Exception as exc:  # out of the user's scope: the same refusal as before
                assert type(exc).__name__ == "AccessDenied"
                continue
            with demo.cursor() as cur:
                if file.rows["registrations"] is not None:
                    visibilities = [v for v in readable_visibilities(user)]
                    expected = _sql_current(cur, user, pupil, visibilities)
                    pd.testing.assert_frame_equal(columns_frame(file.rows["registrations"]), expected)
                    compared["registrations"] += len(expected)
                    compared["versions"] += int((expected["version"] > 1).sum())
                if file.rows["measures"] is not None:
                    expected = care.execute_measures(cur, pupil, TODAY).df()
                    pd.testing.assert_frame_equal(columns_frame(file.rows["measures"]), expected)
                    compared["measures"] += len(expected)
                    phases = care.execute_phase_history(cur, pupil).df()
                    pd.testing.assert_frame_equal(columns_frame(file.rows["phases"]), phases)
                for key, frame in query_pupil_results(cur, user, pupil).items():
                    got = columns_frame(file.rows[key])
                    date_col = INSTRUMENTS[key][1]
                    assert got[date_col].is_monotonic_increasing
                    # Rows on the same date may come in any order from an ORDER BY on the date alone.
                    by_all = list(frame.columns)
                    pd.testing.assert_frame_equal(
                        got.sort_values(by_all).reset_index(drop=True), frame.sort_values(by_all).reset_index(drop=True)
                    )
    # The demo has what the derivation must get right: corrected items, measures with evaluations.
    assert compared["registrations"] > 500 and compared["versions"] > 5 and compared["measures"] > 20


# -- generated histories -------------------------------------------------------------------------

PUPIL = 7
CLASSES = {1: "L3A", 2: "L4B", 3: "L5C"}  # 3 is not in the pupil's class history

version_strategy = st.fixed_dictionaries(
    {
        "visibility": st.sampled_from(VISIBILITIES),
        "withdrawn": st.booleans(),
        "follows": st.one_of(st.none(), st.integers(0, 5)),
        "type": st.sampled_from(["observatie", "verslag", "oudergesprek"]),
        "days": st.integers(-400, 30),
        "evaluation": st.one_of(st.none(), st.integers(-30, 40)),
        "text": st.one_of(st.none(), st.text(max_size=8)),
        "class_id": st.one_of(st.none(), st.sampled_from(sorted(CLASSES))),
        "author": st.integers(1, 3),
    }
)
history_strategy = st.lists(st.lists(version_strategy, min_size=1, max_size=3), min_size=0, max_size=6)
evaluation_strategy = st.fixed_dictionaries(
    {
        "decision": st.sampled_from(["verderzetten", "bijsturen", "stopzetten"]),
        "days": st.integers(-60, 10),
        "next": st.one_of(st.none(), st.integers(1, 60)),
    }
)
measure_strategy = st.fixed_dictionaries(
    {
        "start": st.integers(-200, 20),
        "end": st.one_of(st.none(), st.integers(0, 300)),
        "evaluations": st.lists(evaluation_strategy, max_size=3),
        "text": st.text(min_size=1, max_size=6),
    }
)


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    from dossier.db import Database

    database = Database(tmp_path_factory.mktemp("rows") / "rows.duckdb")
    yield database
    database.close()


def _write_history(cur, histories, attach_to: set[int]) -> None:
    cur.execute("DELETE FROM registration; DELETE FROM registration_attachment")
    cur.execute("DELETE FROM class; DELETE FROM enrolment")
    for class_id, name in CLASSES.items():
        cur.execute(
            "INSERT INTO class (id, school_year, name, level, grade) VALUES (?, '2025-2026', ?, 'lager', 3)",
            [class_id, name],
        )
    cur.execute("INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, '2024-2025', 1)", [PUPIL])
    cur.execute("INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, '2025-2026', 2)", [PUPIL])
    row = 0
    for index, versions in enumerate(histories):
        registration = 100 + index
        for number, v in enumerate(versions, start=1):
            row += 1
            cur.execute(
                "INSERT INTO registration (row_id, registration_id, version, pupil_id, type, fact_date, facts,"
                " interpretation, agreements, owner, evaluation_date, visibility, transferable, follows_up,"
                " author_id, author_name, author_role, created_at, withdrawn, withdrawal_reason, school_year,"
                " class_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, 'zorgteam', ?, ?, ?,"
                " '2025-2026', ?)",
                [
                    row,
                    registration,
                    number,
                    PUPIL,
                    v["type"],
                    TODAY + timedelta(days=v["days"]),
                    f"feit {row}",
                    v["text"],
                    v["text"],
                    v["text"],
                    None if v["evaluation"] is None else TODAY + timedelta(days=v["evaluation"]),
                    v["visibility"],
                    None if v["follows"] is None else 100 + v["follows"],
                    v["author"],
                    f"auteur {v['author']}",
                    # Same creation time for some versions: ties must order like the SQL does.
                    pd.Timestamp(TODAY) + pd.Timedelta(minutes=row // 2),
                    v["withdrawn"],
                    "reden" if v["withdrawn"] else None,
                    v["class_id"],
                ],
            )
        # As attach_pdf allows: a PDF only on a registration that is (or was) a verslag.
        if index in attach_to and any(v["type"] == "verslag" for v in versions):
            for n in range(2):
                cur.execute(
                    "INSERT INTO registration_attachment (registration_id, file_name, sha256, size_bytes, content,"
                    " uploaded_by_id, uploaded_by_name) VALUES (?, ?, 'x', 1, '\\x25'::BLOB, 1, 'a')",
                    [registration, f"verslag-{index}-{n}.pdf"],
                )


def _write_measures(cur, measures) -> None:
    cur.execute("DELETE FROM measure; DELETE FROM measure_evaluation")
    for index, m in enumerate(measures, start=1):
        start = TODAY + timedelta(days=m["start"])
        cur.execute(
            "INSERT INTO measure (id, pupil_id, category, description, start_date, end_date, evaluation_date,"
            " created_by_id, created_by_name, created_by_role, created_at)"
            " VALUES (?, ?, 'remedieren', ?, ?, ?, ?, 1, 'zorg', 'zorgteam', ?)",
            [
                index,
                PUPIL,
                m["text"],
                start,
                None if m["end"] is None else start + timedelta(days=m["end"]),
                start + timedelta(days=14),
                pd.Timestamp(TODAY),
            ],
        )
        for e in m["evaluations"]:
            stop = e["decision"] == "stopzetten"
            cur.execute(
                "INSERT INTO measure_evaluation (measure_id, evaluated_on, text, decision, next_evaluation_date,"
                " created_by_id, created_by_name, created_by_role) VALUES (?, ?, 'ev', ?, ?, 1, 'zorg', 'zorgteam')",
                [
                    index,
                    TODAY + timedelta(days=e["days"]),
                    e["decision"],
                    None if stop or e["next"] is None else TODAY + timedelta(days=e["next"]),
                ],
            )


SQL_FOLLOWED_UP = """
    SELECT DISTINCT f.follows_up FROM (
        SELECT * FROM registration WHERE follows_up IS NOT NULL AND pupil_id = ?
        QUALIFY row_number() OVER (PARTITION BY registration_id ORDER BY version DESC) = 1
    ) f WHERE NOT f.withdrawn AND list_contains(?, f.follows_up)
"""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    histories=history_strategy,
    attach=st.sets(st.integers(0, 5), max_size=3),
    visible=st.sets(st.sampled_from(VISIBILITIES)),
    measures=st.lists(measure_strategy, max_size=4),
)
def test_generated_histories_derive_as_the_sql(blank, histories, attach, visible, measures):
    visibilities = [v for v in VISIBILITIES if v in visible]

    with blank.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            _check(cur, histories, attach, visibilities, measures)
        finally:
            cur.execute("ROLLBACK")  # nothing of the example stays for the next one


def _check(cur, histories, attach, visibilities, measures) -> None:
    zorg = User(id=1, username="zorg", name="Zorg", role="zorgteam")
    _write_history(cur, histories, attach)
    _write_measures(cur, measures)
    history = cur.execute(
        "SELECT c.id AS class_id, c.name AS class_name FROM enrolment e JOIN class c ON c.id = e.class_id"
        " WHERE e.pupil_id = ?",
        [PUPIL],
    ).fetchnumpy()
    versions = cur.execute(pupil_rows.registration_rows_sql(visibilities), [PUPIL]).fetchnumpy()
    current = pupil_rows.current_versions(
        versions, visibilities, _class_names(cur, history, versions), _attachments(cur, versions)
    )
    expected = execute_current_versions(cur, zorg, PUPIL, visibilities).df()
    pd.testing.assert_frame_equal(columns_frame(current), expected)
    assert tuple(expected.columns) == LIST_COLUMNS
    # Text of what the user may not read never leaves the database.
    hidden = ~pd.Series(versions["visibility"]).isin(visibilities)
    assert pd.Series(versions["facts"])[hidden].isna().all()
    candidates = _agreements_that_may_be_due(current, TODAY)
    sql = {r[0] for r in cur.execute(SQL_FOLLOWED_UP, [PUPIL, candidates]).fetchall()}
    assert pupil_rows.followed_up(versions, candidates) == sql
    pd.testing.assert_frame_equal(
        columns_frame(_measures(cur, PUPIL, TODAY)), care.execute_measures(cur, PUPIL, TODAY).df()
    )
