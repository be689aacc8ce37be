"""Reading the audit log: filters, paging, CSV (Dutch, neutralised), access, the page per role, and
that no code path except the retention job changes or removes audit rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import audit
from dossier.access import POLICY, ROLES, AccessDenied, User
from dossier.users import authenticate
from tests.apptest import signed_in, texts
from tests.factories import PASSWORD, make_school

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def school(db):
    return make_school(db)


def sign_in(db, username):
    user = authenticate(db, username, PASSWORD)
    assert user is not None
    return user


def seed(db, school, when: datetime, action: str, username: str, pupil: str | None = None, detail: str | None = None):
    """One audit row at a chosen moment (record() stamps now; the period filter needs other days)."""
    user_id = school.users[username]

    def write(cur):
        cur.execute(
            "INSERT INTO audit_log (logged_at, user_id, user_name, role, action, pupil_id, object, detail)"
            " VALUES (?, ?, ?, 'leerkracht', ?, ?, 'test', ?)",
            [when, user_id, username, action, school.pupils[pupil] if pupil else None, detail],
        )

    db.write(write)


def audit_rows(db) -> int:
    with db.cursor() as cur:
        return cur.execute("SELECT count(*) FROM audit_log").fetchone()[0]


@pytest.fixture
def seeded(db, school):
    base = datetime(2025, 10, 6, 9, 30)
    seed(db, school, base, "view", "juf.l1a", "30004")
    seed(db, school, base + timedelta(hours=1), "create", "juf.l1a", "30005")
    seed(db, school, base + timedelta(days=1), "view", "zorg", "30004")
    seed(db, school, base + timedelta(days=2), "export", "directie", "30007")
    seed(db, school, base + timedelta(days=3), "sign-in", "zorg")
    return school


def test_filters_narrow_by_pupil_user_action_and_period(db, seeded):
    reader = sign_in(db, "directie")  # sign-in itself adds a row (today)
    everything = audit.query_audit(db, reader)
    assert everything.total == 6
    assert list(everything.rows.columns) == list(audit.AUDIT_HEADERS)
    by_pupil = audit.query_audit(db, reader, pupil_id=seeded.pupils["30004"])
    assert by_pupil.total == 2 and set(by_pupil.rows["pupil"]) == {"Wout Peeters"}
    by_user = audit.query_audit(db, reader, user_id=seeded.users["zorg"])
    assert list(by_user.rows["user_name"]) == ["zorg", "zorg"]
    by_action = audit.query_audit(db, reader, action="view")
    # Earlier reads of the log are views too (object 'auditlog'), with the pupil filtered on.
    seeded_views = by_action.rows[by_action.rows["object"] == "test"]
    assert sorted(seeded_views["user_name"]) == ["juf.l1a", "zorg"]
    assert set(by_action.rows["object"]) == {"test", "auditlog"}
    assert set(by_action.rows["action"]) == {"bekeken"}
    # Period bounds are whole days, both inclusive.
    period = audit.query_audit(db, reader, start=date(2025, 10, 7), end=date(2025, 10, 8))
    assert period.total == 2
    assert list(period.rows["action"]) == ["export", "bekeken"]  # newest first
    one_day = audit.query_audit(db, reader, start=date(2025, 10, 6), end=date(2025, 10, 6))
    assert one_day.total == 2
    combined = audit.query_audit(
        db, reader, pupil_id=seeded.pupils["30004"], user_id=seeded.users["juf.l1a"], action="view"
    )
    assert combined.total == 1 and combined.rows["logged_at"].iloc[0] == datetime(2025, 10, 6, 9, 30)


def test_paging_counts_all_and_returns_one_page(db, school):
    base = datetime(2025, 9, 1, 8, 0)
    for i in range(25):
        seed(db, school, base + timedelta(minutes=i), "view", "zorg", "30001", detail=f"rij {i}")
    reader = sign_in(db, "beheer")
    # The period keeps this test's own reads of the log (logged today) out of the count.
    wanted = {"action": "view", "pupil_id": school.pupils["30001"], "end": date(2025, 9, 1)}
    first = audit.query_audit(db, reader, **wanted, limit=10)
    third = audit.query_audit(db, reader, **wanted, limit=10, offset=20)
    assert first.total == third.total == 25
    assert len(first.rows) == 10 and len(third.rows) == 5
    assert first.rows["detail"].iloc[0] == "rij 24" and third.rows["detail"].iloc[-1] == "rij 0"
    # The activity covers the whole filter, not only the page.
    assert first.activity["count"].sum() == 25
    with pytest.raises(audit.AuditQueryError):
        audit.query_audit(db, reader, limit=0)
    with pytest.raises(audit.AuditQueryError, match="begindatum"):
        audit.query_audit(db, reader, start=date(2025, 10, 2), end=date(2025, 10, 1))
    with pytest.raises(audit.AuditQueryError, match="Onbekende actie"):
        audit.query_audit(db, reader, action="peek")


def test_reading_the_log_is_itself_logged(db, seeded):
    reader = sign_in(db, "directie")
    before = audit_rows(db)
    audit.query_audit(db, reader, pupil_id=seeded.pupils["30007"], action="export")
    with db.cursor() as cur:
        row = cur.execute(
            "SELECT user_id, action, pupil_id, object, detail FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert audit_rows(db) == before + 1
    assert row[:4] == (reader.id, "view", seeded.pupils["30007"], "auditlog")
    assert "actie export" in row[4] and "1 rijen" in row[4]
    audit.export_audit(db, reader)
    with db.cursor() as cur:
        assert cur.execute("SELECT action, object FROM audit_log ORDER BY id DESC LIMIT 1").fetchone() == (
            "export",
            "auditlog",
        )


def parse_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents right
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_csv_has_dutch_headers_dates_and_all_matching_rows(db, seeded):
    reader = sign_in(db, "directie")
    data = audit.export_audit(db, reader, user_id=seeded.users["juf.l1a"])
    rows = parse_csv(data)
    assert rows[0] == list(audit.AUDIT_HEADERS.values())
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["Tijdstip"] for r in body] == ["06/10/2025 09:30", "06/10/2025 10:30"]  # oldest first
    assert [r["Actie"] for r in body] == ["bekeken", "aangemaakt"]
    assert body[0]["Leerling"] == "Wout Peeters" and body[0]["Leerling-id"] == str(seeded.pupils["30004"])
    assert body[0]["Rol"] == "Leerkracht"
    sign_in_row = parse_csv(audit.export_audit(db, reader, action="sign-in", user_id=seeded.users["zorg"]))[1]
    assert sign_in_row[5] == "" and sign_in_row[6] == ""  # no pupil: empty cells, not 'nan'


def test_csv_neutralises_formulas(db, school):
    hostile = ['=HYPERLINK("http://x")', "+31 6", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "gewoon"]
    for i, text in enumerate(hostile):
        seed(db, school, datetime(2025, 9, 1, 8, i), "view", "zorg", detail=text)
    reader = sign_in(db, "directie")
    rows = parse_csv(audit.export_audit(db, reader, start=date(2025, 9, 1), end=date(2025, 9, 1)))
    details = [r[list(audit.AUDIT_HEADERS).index("detail")] for r in rows[1:]]
    assert details == ["'" + t for t in hostile[:-1]] + ["gewoon"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_csv_round_trips_any_text_without_a_live_formula(text):
    frame = audit._dutch(
        __import__("pandas").DataFrame(
            [
                {
                    "id": 1,
                    "logged_at": datetime(2025, 9, 1, 8, 0),
                    "user_name": text,
                    "role": "zorgteam",
                    "action": "view",
                    "pupil_id": None,
                    "pupil": None,
                    "object": "x",
                    "detail": text,
                }
            ]
        )
    )
    rows = list(csv.reader(io.StringIO(audit.audit_csv(frame).decode("utf-8-sig"), newline=""), delimiter=";"))
    detail = rows[1][-1]
    assert not detail.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert detail in (text, "'" + text)


@pytest.mark.parametrize("role", ROLES)
def test_only_directie_and_beheerder_read_the_log(db, school, role):
    reader = User(999, "x", "X", role)
    allowed = role in POLICY["audit.read"]
    before = audit_rows(db)
    calls = [
        lambda: audit.query_audit(db, reader),
        lambda: audit.export_audit(db, reader),
        lambda: audit.audit_users(db, reader),
        lambda: audit.audit_pupils(db, reader),
    ]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(AccessDenied):
                call()
    assert audit_rows(db) == before + (2 if allowed else 0)


def test_filter_lists_include_removed_accounts_and_pupils(db, seeded):
    reader = sign_in(db, "beheer")
    db.write(lambda cur: cur.execute("DELETE FROM pupil WHERE id = ?", [seeded.pupils["30007"]]))
    pupils = audit.audit_pupils(db, reader)
    assert f"#{seeded.pupils['30007']}" in set(pupils["name"])
    assert "Peeters, Wout" in set(pupils["name"])
    users = audit.audit_users(db, reader)
    assert {"juf.l1a", "zorg", "directie", "beheer"} <= set(users["username"])


# -- the page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["directie", "beheer"])
def test_page_shows_log_with_filters(app_db, username):
    _, school = app_db
    at = signed_in(username)
    at.switch_page("pages/auditlog.py").run()
    assert not at.exception
    assert "Auditlog" in [t.value for t in at.title]
    table = at.dataframe[0].value
    assert list(table.columns) == list(audit.AUDIT_HEADERS.values())
    assert "aangemeld" in set(table["Actie"])
    at.selectbox(key="audit_action").select("sign-in-failed").run()
    assert not at.exception
    assert "0 regels" in texts(at)
    at.selectbox(key="audit_action").select("sign-in").run()
    assert set(at.dataframe[0].value["Actie"]) == {"aangemeld"}
    assert at.get("download_button")


def test_page_refuses_wrong_period(app_db):
    at = signed_in("directie")
    at.switch_page("pages/auditlog.py").run()
    at.date_input(key="audit_start").set_value(date(2025, 10, 9)).run()
    at.date_input(key="audit_end").set_value(date(2025, 10, 1)).run()
    assert not at.exception
    assert any("begindatum" in e.value for e in at.error)


@pytest.mark.parametrize("username", ["juf.l1a", "zorg", "clb"])
def test_page_not_reachable_for_other_roles(app_db, username):
    at = signed_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/auditlog.py")


# -- nothing changes the log ------------------------------------------------------------------

RETENTION = "dossier/retention.py"
CHANGE_AUDIT = re.compile(r"\b(UPDATE\s+audit_log|DELETE\s+FROM\s+audit_log|TRUNCATE\s+(TABLE\s+)?audit_log)\b", re.I)
# Also a table name assembled from parts or reached through a variable: any write statement on a
# line that names the table counts.
WRITE_NEAR_AUDIT = re.compile(r"\b(UPDATE|DELETE|TRUNCATE|DROP)\b.*audit_log|audit_log.*\b(UPDATE|DELETE)\b", re.I)


def code_files():
    for folder in ("dossier", "pipelines", "ui", "pages"):
        yield from sorted((ROOT / folder).rglob("*.py"))
        yield from sorted((ROOT / folder).rglob("*.sql"))
    yield ROOT / "app.py"


def test_no_code_path_changes_or_deletes_audit_rows_except_retention():
    offenders = []
    for path in code_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == RETENTION:
            continue
        text = path.read_text("utf-8")
        flat = re.sub(r"\s+", " ", text)  # a statement split over lines or string pieces
        if CHANGE_AUDIT.search(flat) or CHANGE_AUDIT.search(re.sub(r"[\"']\s*[\"']", "", flat)):
            offenders.append(rel)
        offenders += [f"{rel}: {line.strip()}" for line in text.splitlines() if WRITE_NEAR_AUDIT.search(line)]
    assert offenders == []


def test_the_scan_would_catch_an_offender(tmp_path):
    # The guard above must be able to fail: the same patterns on statements it is meant to catch.
    for bad in (
        'cur.execute("DELETE FROM audit_log WHERE id = ?", [1])',
        'cur.execute("UPDATE audit_log SET detail = ?")',
        'cur.execute("DELETE FROM " "audit_log")',
        'cur.execute(\n    "UPDATE"\n    " audit_log SET x = 1")',
    ):
        flat = re.sub(r"\s+", " ", bad)
        assert CHANGE_AUDIT.search(flat) or CHANGE_AUDIT.search(re.sub(r"[\"']\s*[\"']", "", flat)), bad
