"""The class dashboard's read (dashboards._read_class, a few statements in one transaction) gives exactly
what the single UNION ALL BY NAME statement gave (tests/class_read_reference.py, the code as it was):
the same info, bands and frames (columns, dtypes, values, row order) for every class, role, set of
parts, history, extra LVS years and day, on the demo school and on hand-made edge cases.

Three parts were produced by a GROUP BY in the old statement (avi, phase, measures), whose row order
was the hash table's; those are compared in key order. Every frame the pages draw, derived from the read,
must be identical to what the old derivations (kept in the reference module) made of the old read.
"""

from __future__ import annotations

import itertools
from datetime import date

import pandas as pd
import pytest

from dossier import dashboards as dash
from dossier.access import AccessDenied, User
from dossier.db import Database
from dossier.instruments import ZONE_BANDS_SETTING
from dossier.users import build_user
from pipelines.demo import build_demo
from tests import class_read_reference as reference
from tests.class_read_reference import read_class_reference

TODAY = date(2026, 3, 1)
THIS_YEAR = "2025-2026"
# Parts whose rows came out of a hash aggregate in the old read: compared in key order.
KEY_ORDER = {"avi": ["pupil_id", "school_year", "moment"], "phase": ["pupil_id"], "measures": ["pupil_id"]}
SUBSETS = [
    frozenset(c) for r in range(len(dash.CLASS_PARTS) + 1) for c in itertools.combinations(sorted(dash.CLASS_PARTS), r)
]


def _demo(path) -> tuple[Database, dict[str, User], list[int]]:
    db = Database(path)
    build_demo(db, pupils=60, today=TODAY)
    with db.cursor() as cur:
        rows = cur.execute("SELECT id, username, display_name, role FROM staff_user ORDER BY id").fetchall()
        users = {row[1]: build_user(cur, row, TODAY) for row in rows}
        classes = [r[0] for r in cur.execute("SELECT id FROM class ORDER BY id").fetchall()]
    teachers = [u for u in users.values() if u.role == "leerkracht" and u.class_ids]
    users["first_teacher"], users["last_teacher"] = teachers[0], teachers[-1]
    # A teacher with classes of two school years (the sign-in gives one year's; the scope code takes any).
    teacher = teachers[3]
    users["two_years"] = User(teacher.id, teacher.username, teacher.name, "leerkracht", frozenset(classes[3::9]))
    return db, users, classes


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db, users, classes = _demo(tmp_path_factory.mktemp("class_read") / "demo.duckdb")
    yield db, users, classes
    db.close()


def _sorted(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if name not in KEY_ORDER:
        return frame
    return frame.sort_values(KEY_ORDER[name], kind="stable").reset_index(drop=True)


def _outcome(read, cur, user, class_id, parts, **kwargs):
    try:
        return read(cur, user, class_id, parts, **kwargs)
    except AccessDenied as exc:
        return ("AccessDenied", str(exc))


def assert_same_read(db, user, class_id, parts, **kwargs) -> tuple[dash.ClassData, dash.ClassData] | None:
    """Old and new read agree; returns both reads (None when both refused)."""
    with db.cursor() as cur:
        old = _outcome(read_class_reference, cur, user, class_id, parts, **kwargs)
        new = _outcome(dash._read_class, cur, user, class_id, parts, **kwargs)
    if isinstance(old, tuple) or isinstance(new, tuple):
        assert new == old
        return None
    assert new.info == old.info
    assert [type(v) for v in new.info.values()] == [type(v) for v in old.info.values()]
    assert dict(new.bands) == dict(old.bands)
    assert (new.today, new.care_read) == (old.today, old.care_read)
    pd.testing.assert_frame_equal(new.pupils, old.pupils)
    assert list(new.parts) == list(old.parts)
    for name in old.parts:
        pd.testing.assert_frame_equal(_sorted(name, new.parts[name]), _sorted(name, old.parts[name]), obj=name)
    return old, new


# (function name, arguments after the read): every frame the class page and the public queries derive.
DERIVED = [
    ("overview_from", (), {}),
    ("overview_from", (), {"history": 0}),
    ("zone_distribution_from", (), {}),
    ("zone_distribution_from", (), {"export": True}),
    ("growth_from", ("begin", "midden"), {}),
    ("growth_from", ("begin", "eind"), {}),
    ("growth_from", (("2024-2025", "eind"), "midden"), {}),
    ("growth_distribution_from", ("begin", "midden"), {}),
    ("growth_distribution_from", ("begin", "eind"), {"export": True}),
    ("avi_from", (), {}),
    ("dmt_from", (), {}),
    ("wellbeing_from", (), {}),
]


def assert_same_frames(old: dash.ClassData, new: dash.ClassData) -> None:
    """Every frame the class page derives is identical to what the old derivations made of the old read."""
    derived = DERIVED + ([("care_from", (), {})] if old.care_read else [])
    for name, args, kwargs in derived:
        expected = getattr(reference, name)(old, *args, **kwargs)
        pd.testing.assert_frame_equal(getattr(dash, name)(new, *args, **kwargs), expected, obj=name)


@pytest.mark.parametrize(
    "username", ["directie", "zorg", "clb", "beheer", "first_teacher", "last_teacher", "two_years"]
)
def test_every_class_every_history_for_each_role(demo, username):
    db, users, classes = demo
    user = users[username]
    parts = dash.CLASS_PARTS if dash.can(user, "care.read") else dash.CLASS_PARTS - {"care"}
    refused = 0
    for class_id in classes:
        for history in (0, 1, 2):
            reads = assert_same_read(db, user, class_id, parts, history=history, today=TODAY)
            if reads is None:
                refused += 1
                break
            assert_same_frames(*reads)
    # Teachers are refused the classes that are not theirs, beheer every class: both reads agreed on that.
    if user.role == "leerkracht":
        assert refused == len(classes) - len(user.class_ids)
    elif user.role == "beheerder":
        assert refused == len(classes)
    else:
        assert refused == 0


def test_every_teacher_account_of_the_demo(demo):
    db, users, classes = demo
    teachers = [u for u in users.values() if u.role == "leerkracht"]
    assert len(teachers) >= 9
    for user in teachers:
        for class_id in sorted(user.class_ids):
            old, new = assert_same_read(db, user, class_id, dash.CLASS_PARTS, history=1, today=TODAY)
            assert not old.pupils.empty
            assert_same_frames(old, new)


@pytest.mark.parametrize("username", ["zorg", "directie", "clb", "two_years"])
def test_every_set_of_parts(demo, username):
    db, users, classes = demo
    user = users[username]
    # A kleuter class and a lager class of this year, a lager class of the year before.
    targets = sorted(user.class_ids) if user.role == "leerkracht" else [classes[-9], classes[-4], classes[-13]]
    for class_id, parts in itertools.product(targets, SUBSETS):
        assert_same_read(db, user, class_id, parts, history=1, today=TODAY)


@pytest.mark.parametrize(
    "lvs_years", [(), ("2023-2024",), ("2024-2025", THIS_YEAR), ("2030-2031",), ("2023-2024", "2019-2020")]
)
def test_extra_lvs_years(demo, lvs_years):
    db, users, classes = demo
    for class_id, history in itertools.product(classes[-18:], (0, 2)):
        assert_same_read(db, users["zorg"], class_id, frozenset({"lvs"}), history=history, lvs_years=lvs_years)


@pytest.mark.parametrize("day", [date(2023, 9, 1), date(2024, 11, 15), TODAY, date(2031, 1, 1)])
def test_care_on_other_days(demo, day):
    db, users, classes = demo
    for username in ("zorg", "directie", "first_teacher", "two_years"):
        user = users[username]
        for class_id in classes[-9:]:
            assert_same_read(db, user, class_id, frozenset({"care"}), today=day)
            assert_same_read(db, user, class_id, dash.CLASS_PARTS, history=1, today=day)


@pytest.mark.parametrize("bad", [None, True, "12", "12a", 0, -1, 2**31, 3.0, "", " 7 ", 10**6])
def test_class_ids_that_are_no_class(demo, bad):
    db, users, _ = demo
    for username in ("zorg", "first_teacher", "beheer"):
        assert_same_read(db, users[username], bad, dash.CLASS_PARTS, history=1, today=TODAY)


def test_public_queries_give_what_the_old_read_gave(demo):
    db, users, classes = demo
    user = users["zorg"]
    for class_id in classes[-9:]:
        with db.cursor() as cur:
            lvs = read_class_reference(cur, user, class_id, frozenset({"lvs"}), history=1)
            growth_read = read_class_reference(cur, user, class_id, frozenset({"lvs"}), lvs_years=("2024-2025",))
            avi = read_class_reference(cur, user, class_id, frozenset({"avi"}))
            dmt = read_class_reference(cur, user, class_id, frozenset({"dmt"}))
            leuven = read_class_reference(cur, user, class_id, frozenset({"leuven"}))
            care = read_class_reference(cur, user, class_id, frozenset({"care"}), today=TODAY)
        same = pd.testing.assert_frame_equal
        same(dash.class_overview(db, user, class_id), dash.overview_from(lvs))
        same(dash.zone_distribution(db, user, class_id, export=True), dash.zone_distribution_from(lvs, export=True))
        earlier = ("2024-2025", "eind")
        same(dash.growth(db, user, class_id, earlier, "midden"), dash.growth_from(growth_read, earlier, "midden"))
        same(
            dash.growth_distribution(db, user, class_id, earlier, "midden"),
            dash.growth_distribution_from(growth_read, earlier, "midden"),
        )
        same(dash.avi_vs_expected(db, user, class_id), dash.avi_from(avi))
        same(dash.dmt_cards(db, user, class_id), dash.dmt_from(dmt))
        same(dash.wellbeing(db, user, class_id), dash.wellbeing_from(leuven))
        same(dash.care_overview(db, user, class_id, today=TODAY), dash.care_from(care))


def test_a_refused_read_leaves_no_transaction_open(demo):
    db, users, classes = demo
    teacher = users["two_years"]
    other = next(c for c in classes if c not in teacher.class_ids)
    mine = min(teacher.class_ids)
    with db.cursor() as cur:
        with pytest.raises(AccessDenied):
            dash._read_class(cur, teacher, other, dash.CLASS_PARTS)
        # The same cursor reads again and starts its own transaction: the refused one was rolled back.
        data = dash._read_class(cur, teacher, mine, dash.CLASS_PARTS, history=1)
        cur.execute("BEGIN TRANSACTION")
        cur.execute("ROLLBACK")
    assert not data.pupils.empty


# -- edge cases the demo does not have ---------------------------------------------------------


@pytest.fixture
def edge(tmp_path):
    db, users, classes = _demo(tmp_path / "edge.duckdb")
    yield db, users, classes
    db.close()


def _current_class(db, name: str) -> int:
    with db.cursor() as cur:
        return cur.execute("SELECT id FROM class WHERE school_year = ? AND name = ?", [THIS_YEAR, name]).fetchone()[0]


def _check_all(db, users, class_ids):
    for class_id, parts, history in itertools.product(class_ids, SUBSETS, (0, 1)):
        assert_same_read(db, users["zorg"], class_id, parts, history=history, today=TODAY)
    for username in ("zorg", "directie", "clb", "two_years"):
        user = users[username]
        for class_id in class_ids:
            reads = assert_same_read(db, user, class_id, dash.CLASS_PARTS, history=1, today=TODAY)
            if reads is not None:
                assert_same_frames(*reads)


@pytest.mark.parametrize("setting", [None, "valid", "invalid"])
def test_a_class_without_pupils(edge, setting):
    db, users, classes = edge

    def write(cur):
        cur.execute(
            "INSERT INTO class (school_year, name, level, grade) VALUES (?, 'L9Z', 'lager', 4) RETURNING id",
            [THIS_YEAR],
        )
        if setting == "valid":
            bands = '{"A": 80, "B": 55, "C": 30, "D": 15}'
            cur.execute("INSERT INTO setting (key, value) VALUES (?, ?)", [ZONE_BANDS_SETTING, bands])
        elif setting == "invalid":
            cur.execute("INSERT INTO setting (key, value) VALUES (?, 'geen tabel')", [ZONE_BANDS_SETTING])

    db.write(write)
    empty = _current_class(db, "L9Z")
    _check_all(db, users, [empty, _current_class(db, "L3A")])
    _, data = assert_same_read(db, users["zorg"], empty, dash.CLASS_PARTS, history=1)
    assert data.pupils.empty and all(frame.empty for frame in data.parts.values())


def test_missing_values_left_pupils_and_orphans(edge):
    db, users, classes = edge
    l3a, l4a = _current_class(db, "L3A"), _current_class(db, "L4A")

    def write(cur):
        # Missing optional values in the parts: text columns then hold only missing values.
        cur.execute("UPDATE dmt_result SET zone = NULL, percentile = NULL, card2_errors = NULL")
        cur.execute("UPDATE wellbeing_result SET context = NULL, observer = NULL")
        # One pupil of L3A leaves next month (still in scope, no longer in the care part), one left last month.
        first, second = [
            r[0]
            for r in cur.execute(
                "SELECT pupil_id FROM enrolment WHERE class_id = ? ORDER BY pupil_id LIMIT 2", [l3a]
            ).fetchall()
        ]
        cur.execute(
            "UPDATE enrolment SET leave_date = DATE '2099-04-01' WHERE pupil_id = ? AND class_id = ?", [first, l3a]
        )
        cur.execute(
            "UPDATE enrolment SET leave_date = DATE '2026-02-01' WHERE pupil_id = ? AND class_id = ?", [second, l3a]
        )
        # An enrolment whose pupil row is gone: no pupil line, its results still count as the class's rows.
        cur.execute("INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (999999, ?, ?)", [THIS_YEAR, l4a])
        cur.execute(
            "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, percentile, zone)"
            " VALUES (999999, ?, DATE '2025-10-01', 4, 'wiskunde', 'begin', 50, 'C')",
            [THIS_YEAR],
        )

    db.write(write)
    _check_all(db, users, [l3a, l4a])
    _, data = assert_same_read(db, users["directie"], l3a, dash.CLASS_PARTS, history=1, today=TODAY)
    assert data.pupils["left_school"].sum() >= 1
