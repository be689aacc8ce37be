"""Retention: due dates per rule, legal holds, real deletion down to the file's bytes, dry runs,
the run's audit entry, who may do what, and the archive rule in pupil_scope_sql."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import pupils, registrations, retention
from dossier.access import AccessDenied, User, pupil_scope_sql
from dossier.db import Database
from dossier.schoolyear import bounds, shift
from dossier.users import SYSTEM_USER
from tests.retention_school import CANARIES, LEFT_NUMBER, make_retention_school

ROLES = {
    "leerkracht": User(id=1, username="juf.l1a", name="Juf", role="leerkracht"),
    "zorgteam": User(id=4, username="zorg", name="Zorg", role="zorgteam"),
    "directie": User(id=5, username="directie", name="Directie", role="directie"),
    "clb": User(id=6, username="clb", name="Clb", role="clb"),
    "beheerder": User(id=7, username="beheer", name="Beheer", role="beheerder"),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The school is built once (eight imports and a dossier); each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("retention") / "template.duckdb"
    database = Database(path)
    built = make_retention_school(database)
    database.close()
    return path, built


@pytest.fixture
def db(template, tmp_path):
    """Overrides conftest's empty database: a fresh copy of the template per test."""
    target = tmp_path / "dossier.duckdb"
    shutil.copyfile(template[0], target)
    database = Database(target)
    yield database
    database.close()  # closing twice is harmless (some tests close it themselves)


@pytest.fixture
def empty_db(tmp_path):
    database = Database(tmp_path / "empty.duckdb")
    yield database
    database.close()


@pytest.fixture
def rs(template):
    return template[1]


def scalar(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def pupil_rows(db, pupil_id: int, ids: dict) -> dict[str, int]:
    """Rows that belong to the pupil, per table, found independently of dossier/retention.py."""
    with db.cursor() as cur:
        tables = [
            r[0]
            for r in cur.execute(
                "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'pupil_id'"
                " AND schema_name = 'main' AND database_name = current_database()"
            ).fetchall()
        ]
        found = {
            t: cur.execute(f"SELECT count(*) FROM {t} WHERE pupil_id = ?", [pupil_id]).fetchone()[0] for t in tables
        }
        found["pupil"] = cur.execute("SELECT count(*) FROM pupil WHERE id = ?", [pupil_id]).fetchone()[0]
        found["registration_attachment"] = cur.execute(
            "SELECT count(*) FROM registration_attachment WHERE list_contains(?, registration_id)",
            [ids["registrations"]],
        ).fetchone()[0]
        found["measure_evaluation"] = cur.execute(
            "SELECT count(*) FROM measure_evaluation WHERE list_contains(?, measure_id)", [ids["measures"]]
        ).fetchone()[0]
        found["import_change"] = cur.execute(
            "SELECT count(*) FROM import_change WHERE entity_key LIKE ? OR entity_key LIKE ?",
            [f'%"pupil_id":{pupil_id},%', f'%"pupil_number":"{LEFT_NUMBER}"%'],
        ).fetchone()[0]
        found["import_insert"] = cur.execute(
            "SELECT count(*) FROM import_insert WHERE list_contains(?, struct_pack(e := entity, r := row_id))",
            [ids["inserted"]],
        ).fetchone()[0]
    return found


def owned_ids(db, pupil_id: int) -> dict:
    with db.cursor() as cur:
        inserted = [{"e": "pupil", "r": pupil_id}]
        for table in retention.RESULT_TABLES:
            inserted += [
                {"e": table, "r": r[0]}
                for r in cur.execute(f"SELECT id FROM {table} WHERE pupil_id = ?", [pupil_id]).fetchall()
            ]
        return {
            "registrations": [
                r[0]
                for r in cur.execute(
                    "SELECT DISTINCT registration_id FROM registration WHERE pupil_id = ?", [pupil_id]
                ).fetchall()
            ],
            "measures": [r[0] for r in cur.execute("SELECT id FROM measure WHERE pupil_id = ?", [pupil_id]).fetchall()],
            "inserted": inserted,
        }


def snapshot(db, skip=("retention_run",)) -> dict[str, str]:
    """Every table's full content, sorted, as text."""
    with db.cursor() as cur:
        tables = [
            r[0]
            for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database()"
            ).fetchall()
        ]
        return {
            t: "\n".join(sorted(map(str, cur.execute(f"SELECT * FROM {t}").fetchall())))
            for t in tables
            if t not in skip
        }


# -- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference,term,expected",
    [
        (date(2026, 3, 10), 1, date(2027, 8, 31)),
        (date(2026, 8, 31), 1, date(2027, 8, 31)),  # last day of 2025-2026
        (date(2026, 9, 1), 1, date(2028, 8, 31)),  # first day of 2026-2027
        (date(2026, 3, 10), 0, date(2026, 8, 31)),
        (date(2025, 11, 2), 2, date(2028, 8, 31)),
    ],
)
def test_due_date_and_its_sql_twin(db, reference, term, expected):
    assert retention.due_date(reference, term) == expected
    sql = retention._due_date_sql("d", term)
    assert scalar(db, f"SELECT {sql} FROM (SELECT ?::TIMESTAMP AS d)", [reference]) == expected


@pytest.mark.parametrize("offset,expected_due", [(-1, False), (0, True), (1, True)])
def test_pupil_classes_due_on_31_august_not_before(db, rs, offset, expected_due):
    day = rs.due_on + timedelta(days=offset)  # 30/08, 31/08, 01/09
    report = retention.due(db, SYSTEM_USER, day)
    for key in (*retention.PUPIL_CLASSES, retention.IDENTITY):
        assert (report.counts[key].pupils == 1) is expected_due, (key, day)
        assert (report.counts[key].rows > 0) is expected_due, (key, day)


@pytest.mark.parametrize("longer", retention.PUPIL_CLASSES)
def test_each_pupil_rule_has_its_own_term(db, rs, longer):
    retention.set_rule(db, rs.beheerder, longer, 2)
    one_year = retention.due(db, SYSTEM_USER, rs.due_on)
    assert one_year.counts[longer].pupils == 0 and one_year.counts[longer].rows == 0
    for other in retention.PUPIL_CLASSES:
        if other != longer:
            assert one_year.counts[other].pupils == 1
    # The pupil row stays while any of its data classes does.
    assert one_year.counts[retention.IDENTITY].pupils == 0
    a_year_later = retention.due(db, SYSTEM_USER, date(rs.due_on.year + 1, 8, 31))
    assert a_year_later.counts[longer].pupils == 1
    assert a_year_later.counts[retention.IDENTITY].pupils == 1
    before = retention.due(db, SYSTEM_USER, date(rs.due_on.year + 1, 8, 30))
    assert before.counts[longer].pupils == 0


def test_access_log_kept_two_school_years_per_entry(db, rs):
    def add(cur):
        for logged_at in ("2023-08-31 23:59:00", "2023-09-01 00:00:00"):
            cur.execute(
                "INSERT INTO audit_log (logged_at, user_name, role, action, detail)"
                " VALUES (?, 'x', 'zorgteam', 'view', 'oud')",
                [logged_at],
            )

    db.write(add)
    # 31/08/2023 belongs to 2022-2023: gone on 31/08/2025; 01/09/2023 (2023-2024) on 31/08/2026.
    assert retention.due(db, SYSTEM_USER, date(2025, 8, 30)).counts["access_log"].rows == 0
    assert retention.due(db, SYSTEM_USER, date(2025, 8, 31)).counts["access_log"].rows == 1
    assert retention.due(db, SYSTEM_USER, date(2026, 8, 30)).counts["access_log"].rows == 1
    assert retention.due(db, SYSTEM_USER, date(2026, 8, 31)).counts["access_log"].rows == 2
    retention.set_rule(db, rs.beheerder, "access_log", 3)
    assert retention.due(db, SYSTEM_USER, date(2026, 8, 31)).counts["access_log"].rows == 1


def test_nothing_of_current_pupils_is_due(db, rs):
    far = date(rs.due_on.year + 5, 9, 1)
    report = retention.due(db, SYSTEM_USER, far)
    assert report.counts["identity"].pupils == 1  # only the one who left
    frame = retention.archive(db, rs.directie, far)
    assert frame["pupil_number"].tolist() == [LEFT_NUMBER]


# -- who left ----------------------------------------------------------------------------------


def test_left_pupils_definition(empty_db):
    db = empty_db

    def add(cur):
        cur.execute(
            "INSERT INTO enrolment (pupil_id, school_year, class_id, leave_date) VALUES"
            " (1, '2024-2025', 1, NULL),"  # not on the 2025-2026 roster
            " (2, '2024-2025', 1, '2025-03-01'),"  # left during the year
            " (3, '2024-2025', 1, '2025-03-01'), (3, '2025-2026', 1, NULL),"  # came back
            " (4, '2025-2026', 1, '2026-01-10')"  # leaves in January
        )

    db.write(add)

    def left(day):
        with db.cursor() as cur:
            return dict(cur.execute("SELECT pupil_id, left_on FROM left_pupils(?::DATE)", [day]).fetchall())

    assert left(date(2025, 8, 31)) == {2: date(2025, 3, 1)}
    # From 1 September the 2025-2026 roster is there and pupil 1 is not on it.
    assert left(date(2025, 9, 1)) == {1: date(2025, 8, 31), 2: date(2025, 3, 1)}
    assert 4 not in left(date(2026, 1, 9)) and left(date(2026, 1, 10))[4] == date(2026, 1, 10)
    # A new school year without any enrolment yet: absence alone makes nobody leave.
    assert set(left(date(2026, 9, 1))) == {2, 4}


# -- legal hold ---------------------------------------------------------------------------------


def test_legal_hold_skips_the_pupil_and_release_lets_the_run_delete(db, rs):
    ids = owned_ids(db, rs.left_pupil)
    retention.set_legal_hold(db, rs.directie, rs.left_pupil, "Beslissing betwist bij de klachtencommissie")
    # An old access-log row of the held pupil stays too.
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO audit_log (logged_at, user_name, role, action, pupil_id) VALUES"
            " ('2020-01-01', 'x', 'zorgteam', 'view', ?), ('2020-01-01', 'x', 'zorgteam', 'view', NULL)",
            [rs.left_pupil],
        )
    )
    before = pupil_rows(db, rs.left_pupil, ids)
    report = retention.run(db, SYSTEM_USER, rs.due_on)
    assert report.held_pupils == 1
    assert all(report.counts[k].pupils == 0 for k in (*retention.PUPIL_CLASSES, retention.IDENTITY))
    assert report.counts["access_log"].rows == 1  # the other old row
    assert pupil_rows(db, rs.left_pupil, ids) == before

    retention.release_legal_hold(db, rs.directie, rs.left_pupil, "Klacht afgehandeld")
    report = retention.run(db, SYSTEM_USER, rs.due_on)
    assert report.held_pupils == 0 and report.counts["identity"].pupils == 1
    assert set(pupil_rows(db, rs.left_pupil, ids).values()) == {0}


def test_legal_hold_input_and_audit(db, rs):
    with pytest.raises(retention.RetentionError, match="reden"):
        retention.set_legal_hold(db, rs.directie, rs.left_pupil, "   ")
    with pytest.raises(retention.RetentionError, match="Onbekende leerling"):
        retention.set_legal_hold(db, rs.directie, 987654, "x")
    with pytest.raises(retention.RetentionError, match="geen blokkering"):
        retention.release_legal_hold(db, rs.directie, rs.left_pupil, "x")
    retention.set_legal_hold(db, rs.directie, rs.left_pupil, "Geheime reden Quackenbosch")
    with pytest.raises(retention.RetentionError, match="al een blokkering"):
        retention.set_legal_hold(db, rs.directie, rs.left_pupil, "nog eens")
    holds = retention.legal_holds(db, rs.directie)
    assert holds["reason"].tolist() == ["Geheime reden Quackenbosch"]
    with db.cursor() as cur:
        detail = cur.execute("SELECT detail FROM audit_log WHERE action = 'legal-hold'").fetchall()
    assert detail == [("blokkering gezet",)]


# -- the real thing -----------------------------------------------------------------------------


def test_run_deletes_every_row_of_the_pupil_and_nothing_else(db, rs, tmp_path):
    # A table a later migration might add: the job finds it by its pupil_id column.
    db.write(lambda cur: cur.execute("CREATE TABLE later_note (pupil_id INTEGER, note VARCHAR)"))
    db.write(
        lambda cur: cur.execute("INSERT INTO later_note VALUES (?, 'Quackenbosch'), (1, 'ander')", [rs.left_pupil])
    )
    ids = owned_ids(db, rs.left_pupil)
    before = pupil_rows(db, rs.left_pupil, ids)
    # Every kind of row is really there before, so "gone" below means something.
    for table in (
        "registration",
        "registration_attachment",
        "care_phase",
        "measure",
        "measure_evaluation",
        "signal_dismissal",
        "audit_log",
        "enrolment",
        "pupil",
        "import_change",
        "import_insert",
        "later_note",
        *retention.RESULT_TABLES,
    ):
        assert before[table] > 0, table
    others = {t: scalar(db, f"SELECT count(*) FROM {t}") - n for t, n in before.items()}

    report = retention.run(db, SYSTEM_USER, rs.due_on)
    # pupil_left is derived from enrolment (dossier/left.py): it follows, it is not counted.
    assert report.total_rows == sum(n for t, n in before.items() if t != "pupil_left")  # every counted row, once
    assert set(pupil_rows(db, rs.left_pupil, ids).values()) == {0}
    # audit_log gained the run's own entry; everything else of other pupils is untouched.
    after_others = {t: scalar(db, f"SELECT count(*) FROM {t}") for t in before}
    after_others["audit_log"] -= 1
    assert after_others == others

    path = db.path
    db.close()
    fresh = duckdb.connect(str(path), read_only=True)
    try:
        assert fresh.execute("SELECT count(*) FROM pupil WHERE pupil_number = ?", [LEFT_NUMBER]).fetchone()[0] == 0
        assert fresh.execute("SELECT count(*) FROM registration WHERE pupil_id = ?", [rs.left_pupil]).fetchone()[0] == 0
    finally:
        fresh.close()


def test_the_bytes_leave_the_file(db, rs):
    path = db.path
    db.checkpoint()
    raw = path.read_bytes()
    # The test can fail: each canary is readable in the file before the run.
    assert all(canary in raw for canary in CANARIES), [c for c in CANARIES if c not in raw]
    retention.run(db, SYSTEM_USER, rs.due_on)
    before, after = retention.compact(db)
    raw = path.read_bytes()
    assert [c for c in CANARIES if c in raw] == []
    assert after <= before
    assert not path.with_name(path.name + ".wal").exists()
    assert not path.with_name(path.name + ".compact").exists()
    # The compacted file is a working database: sequences continue, migrations are recorded.
    db = Database(path)
    try:
        assert db.schema_version() >= 6
        new_id = db.write(
            lambda cur: cur.execute(
                "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date)"
                " VALUES ('1', 'a', 'b', '2019-01-01') RETURNING id"
            ).fetchone()[0]
        )
        assert new_id > rs.left_pupil
        assert scalar(db, "SELECT count(*) FROM pupil") == 10
    finally:
        db.close()


def test_dry_run_changes_nothing_and_counts_what_the_run_removes(db, rs):
    before = snapshot(db)
    dry = retention.run(db, SYSTEM_USER, rs.due_on, dry_run=True)
    assert snapshot(db) == before
    assert dry.dry_run and dry.total_rows > 0
    assert scalar(db, "SELECT count(*) FROM retention_run WHERE dry_run") == 1
    real = retention.run(db, SYSTEM_USER, rs.due_on)
    assert real.counts_json() == dry.counts_json()
    assert retention.due(db, SYSTEM_USER, rs.due_on).total_rows == 0


def test_audit_entry_and_run_log_hold_counts_not_content(db, rs):
    report = retention.run(db, SYSTEM_USER, rs.due_on)
    with db.cursor() as cur:
        entry = cur.execute(
            "SELECT user_name, action, pupil_id, object, detail FROM audit_log WHERE action = 'retention'"
        ).fetchall()
        logged = cur.execute("SELECT counts, total_rows, dry_run FROM retention_run").fetchall()
    assert len(entry) == 1
    user_name, action, pupil_id, obj, detail = entry[0]
    assert (user_name, pupil_id, obj) == ("opdrachtregel", None, f"retention_run:{report.run_id}")
    assert f"{report.counts['dossier'].rows} rijen" in detail and "1 leerling" in detail
    for text in (detail, logged[0][0]):
        for word in ("Zebul", "Quackenbosch", "Xylofoon", LEFT_NUMBER, "Nora", "Maes"):
            assert word not in text
    assert json.loads(logged[0][0]) == report.counts_json()
    assert logged[0][1] == report.total_rows and logged[0][2] is False


# -- rules ----------------------------------------------------------------------------------


def test_rules_default_and_edit(db, rs):
    terms = retention.rules(db).set_index("data_class")["term_years"].to_dict()
    assert terms == {"dossier": 1, "results": 1, "pupil_log": 1, "access_log": 2}
    retention.set_rule(db, rs.beheerder, "results", "3")
    table = retention.rules(db).set_index("data_class")
    assert table.loc["results", "term_years"] == 3 and table.loc["results", "changed_by"] == "Beheer"
    with db.cursor() as cur:
        assert cur.execute("SELECT detail FROM audit_log WHERE action = 'retention'").fetchall() == [
            ("bewaartermijn LVS-resultaten: 1 -> 3 schooljaren",)
        ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=st.one_of(st.text(max_size=12), st.integers(-1000, 1000), st.floats(allow_nan=True), st.none()))
def test_hostile_terms_give_a_dutch_message_or_a_valid_term(db, term):
    beheerder = ROLES["beheerder"]
    try:
        stored = retention.set_rule(db, beheerder, "dossier", term)
    except retention.RetentionError as exc:
        assert "schooljaren" in str(exc) or "termijn" in str(exc).lower()
    else:
        assert 0 <= stored <= retention.MAX_TERM_YEARS
        assert retention.rules(db).set_index("data_class").loc["dossier", "term_years"] == stored


def test_unknown_data_class(db):
    with pytest.raises(retention.RetentionError, match="Onbekende gegevenssoort"):
        retention.set_rule(db, ROLES["beheerder"], "pupil", 1)


# -- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLES))
def test_who_may_do_what(db, rs, role):
    user = ROLES[role]
    calls = {
        "set_rule": (lambda: retention.set_rule(db, user, "dossier", 2), {"beheerder"}),
        "hold": (lambda: retention.set_legal_hold(db, user, rs.left_pupil, "reden"), {"directie"}),
        "holds": (lambda: retention.legal_holds(db, user), {"directie"}),
        "due": (lambda: retention.due(db, user, rs.due_on), {"directie", "beheerder"}),
        "archive": (lambda: retention.archive(db, user, rs.due_on), {"directie", "beheerder"}),
        "runs": (lambda: retention.runs(db, user), {"directie", "beheerder"}),
        "dry run": (lambda: retention.run(db, user, rs.due_on, dry_run=True), {"directie", "beheerder"}),
    }
    for call, allowed in calls.values():
        if role in allowed:
            call()
        else:
            with pytest.raises(AccessDenied):
                call()


def test_archive_names_only_for_directie(db, rs):
    named = retention.archive(db, rs.directie, rs.due_on)
    assert named.loc[0, "last_name"] == "Quackenbosch"
    bare = retention.archive(db, rs.beheerder, rs.due_on)
    assert "last_name" not in bare and "pupil_number" not in bare
    assert bare.loc[0, "dossier_rows"] == named.loc[0, "dossier_rows"] > 0


# -- archive rule in pupil_scope_sql -----------------------------------------------------------


def test_left_pupils_are_directie_only(db, rs):
    school = rs.school
    year, prev = school.year, school.previous_year
    users = {
        "juf.l1a": User(
            id=school.users["juf.l1a"],
            username="juf.l1a",
            name="Juf",
            role="leerkracht",
            class_ids=frozenset({school.classes["L1A"], school.previous_classes["L1A"]}),
        ),
        "zorg": ROLES["zorgteam"],
        "clb": ROLES["clb"],
        "beheer": ROLES["beheerder"],
        "directie": rs.directie,
    }
    # Wout (L1A) leaves yesterday; Lina (L1A) leaves next week.
    today = date.today()
    db.write(
        lambda cur: cur.execute(
            "UPDATE enrolment SET leave_date = CASE pupil_id WHEN ? THEN ?::DATE ELSE ?::DATE END"
            " WHERE school_year = ? AND pupil_id IN (?, ?)",
            [
                school.pupils["30004"],
                today - timedelta(days=1),
                today + timedelta(days=7),
                year,
                school.pupils["30004"],
                school.pupils["30005"],
            ],
        )
    )
    for name, user in users.items():
        listed = set(pupils.list_pupils(db, user, year)["last_name"]) | set(
            pupils.list_pupils(db, user, prev)["last_name"]
        )
        sees_left = "Quackenbosch" in listed
        assert sees_left is (name == "directie"), name
        assert ("Peeters" in listed) is (name == "directie"), name
        assert "Wouters" in listed, name  # not gone yet
        if name != "directie":
            with pytest.raises(AccessDenied):
                pupils.get_pupil(db, user, rs.left_pupil)
    assert registrations.list_registrations(db, rs.directie, rs.left_pupil).shape[0] > 0
    with pytest.raises(AccessDenied):
        registrations.list_registrations(db, users["zorg"], rs.left_pupil)
    # The school view's aggregates keep former pupils: past years' figures must not change.
    assert pupil_scope_sql(users["zorg"], "dashboard.school", "x") == ("TRUE", [])


def test_no_left_pupil_when_the_new_roster_is_not_in(empty_db):
    """Early September, before the new roster: last year's pupils are not archived by absence."""
    db = empty_db
    from tests.factories import make_school

    school = make_school(db)
    db.write(lambda cur: cur.execute("DELETE FROM enrolment WHERE school_year = ?", [school.year]))
    start, _ = bounds(school.year)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM left_pupils(?::DATE)", [start]).fetchone()[0] == 0
    assert len(pupils.list_pupils(db, ROLES["zorgteam"], shift(school.year, -1))) == 6
