"""Overdracht: what goes to the new school, the parents' objection window, records, roles, audit, JSON bundle."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier import care, overdracht, registrations
from dossier.access import AccessDenied
from dossier.db import Database, get_setting
from dossier.inzage import REASON_CONFIDENTIAL, REASON_DIRECTIE, REASON_WITHDRAWN, DisclosureError
from pipelines.cli import main
from tests.test_inzage import run_cli
from tests.test_registrations import (  # noqa: F401  (fixtures: a fresh copy of one prepared school per test)
    db_fixture,
    school_fixture,
    school_template_fixture,
    users_fixture,
)

TODAY = date.today()
DAY = TODAY - timedelta(days=40)
PUPIL = "30004"
HOSTILE = "<script>alert('x')</script> [klik](http://evil.example) =HYPERLINK(\"http://x\") **vet**"
PDF_BYTES = b"%PDF-1.4\n% verslag GC\n%%EOF\n"


def count(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def audit_rows(db, action, pupil_id):
    with db.cursor() as cur:
        return cur.execute(
            "SELECT user_name, role, object, detail FROM audit_log WHERE action = ? AND pupil_id = ? ORDER BY id",
            [action, pupil_id],
        ).fetchall()


@pytest.fixture
def dossier(db, school, users):
    """One pupil with a registration for every rule of the selection; name -> registration id."""
    zorg, directie = users["zorg"], users["directie"]
    pid = school.pupils[PUPIL]

    def add(user, **fields):
        return registrations.create_registration(db, user, pid, fact_date=DAY, **fields)

    made = {
        "transferable": add(zorg, type="mdo", facts=HOSTILE, visibility="team", transferable=True),
        "not_transferable": add(zorg, type="observatie", facts="Speelt graag buiten.", transferable=False),
        "leefregel": add(directie, type="leefregel", facts="Vechtpartij op de speelplaats.", visibility="directie"),
        "confidential": add(
            zorg,
            type="klassenraad",
            facts="Info van derden.",
            transferable=True,
            confidential_third_parties=True,
        ),
        "directie": add(
            directie, type="mdo", facts="Thuissituatie besproken.", visibility="directie", transferable=True
        ),
        "gc": add(zorg, type="verslag", report_kind="GC", facts="Verslag GC.", visibility="zorgteam"),
        "iac": add(
            directie,
            type="verslag",
            report_kind="IAC",
            facts="Verslag IAC.",
            visibility="directie",
            confidential_third_parties=True,
        ),
        "ov4": add(zorg, type="verslag", report_kind="OV4", facts="Verslag OV4.", visibility="zorgteam"),
        "attest": add(
            zorg, type="verslag", report_kind="extern_attest", facts="Attest logopedie.", visibility="zorgteam"
        ),
        "withdrawn_gc": add(zorg, type="verslag", report_kind="GC", facts="Fout verslag.", visibility="zorgteam"),
        "withdrawn": add(zorg, type="maatregel", facts="Ingetrokken maatregel.", transferable=True),
    }
    registrations.withdraw_registration(db, zorg, made["withdrawn_gc"], "Verkeerd bestand.")
    registrations.withdraw_registration(db, zorg, made["withdrawn"], "Dubbel ingevoerd.")
    registrations.attach_pdf(db, zorg, made["gc"], "verslag GC <2025>.pdf", PDF_BYTES)
    care.set_phase(db, zorg, pid, 1, DAY, "Lezen moeizaam.")
    return pid, made


def ids(frame):
    return set() if frame.empty else {int(i) for i in frame["registration_id"]}


def reasons(selection):
    frame = selection.left_out
    return dict(zip(frame["registration_id"], frame["reason"], strict=True))


# -- selection ------------------------------------------------------------------------------
def test_full_package_holds_transferable_items_and_always_the_verslagen(db, users, dossier):
    pid, made = dossier
    plan = overdracht.prepare_overdracht(db, users["directie"], pid)
    included = ids(plan.selection.included)
    assert {made["transferable"], made["gc"], made["iac"], made["ov4"], made["attest"]} <= included
    why = reasons(plan.selection)
    assert why[made["not_transferable"]] == overdracht.REASON_NOT_TRANSFERABLE
    assert why[made["leefregel"]] == overdracht.REASON_LEEFREGEL
    assert why[made["confidential"]] == REASON_CONFIDENTIAL
    assert why[made["directie"]] == REASON_DIRECTIE
    assert why[made["withdrawn_gc"]] == REASON_WITHDRAWN and why[made["withdrawn"]] == REASON_WITHDRAWN
    mandatory = plan.selection.included.set_index("registration_id")["mandatory"]
    assert {int(i) for i in mandatory[mandatory].index} == {made["gc"], made["iac"], made["ov4"]}


def test_mandatory_only_is_the_gc_iac_ov4_verslagen_and_nothing_else(db, users, dossier):
    pid, made = dossier
    plan = overdracht.prepare_overdracht(db, users["directie"], pid, mandatory_only=True, include_directie=True)
    assert ids(plan.selection.included) == {made["gc"], made["iac"], made["ov4"]}
    assert reasons(plan.selection)[made["attest"]] == overdracht.REASON_MANDATORY_ONLY
    assert plan.content.class_history.empty and plan.content.phases.empty and plan.content.results == {}


def test_a_leefregel_never_goes_not_even_on_the_directies_choice(db, users, dossier):
    pid, made = dossier
    plan = overdracht.prepare_overdracht(db, users["directie"], pid, include_directie=True)
    assert made["directie"] in ids(plan.selection.included)
    assert made["leefregel"] not in ids(plan.selection.included)


def test_the_rules_in_order_on_a_constructed_frame():
    rows = [
        # type, report_kind, transferable, confidential, visibility, withdrawn
        ("leefregel", None, False, False, "directie", False),
        ("verslag", "OV4", True, True, "directie", False),
        ("verslag", "GC", True, False, "zorgteam", True),
        ("observatie", None, True, False, "team", False),
        ("observatie", None, False, False, "team", False),
    ]
    frame = pd.DataFrame(
        rows, columns=["type", "report_kind", "transferable", "confidential_third_parties", "visibility", "withdrawn"]
    ).assign(registration_id=range(1, 6), fact_date=DAY, facts="x")
    full = overdracht.select_for_overdracht(frame)
    assert ids(full.included) == {2, 4}
    assert reasons(full) == {
        1: overdracht.REASON_LEEFREGEL,
        3: REASON_WITHDRAWN,
        5: overdracht.REASON_NOT_TRANSFERABLE,
    }
    assert ids(overdracht.select_for_overdracht(frame, mandatory_only=True).included) == {2}
    empty = overdracht.select_for_overdracht(frame.iloc[0:0])
    assert empty.included.empty and empty.left_out.empty


# -- the objection window -------------------------------------------------------------------
@given(
    inspected=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=overdracht.MAX_WINDOW_DAYS),
    offset=st.integers(min_value=0, max_value=90),
    objected=st.booleans(),
)
def test_window_state_allows_the_full_package_only_after_the_window_without_objection(
    inspected, days, offset, objected
):
    end = inspected + timedelta(days=days)
    today = inspected + timedelta(days=offset)
    record = {"inspected_on": inspected, "window_end": end, "objection_on": today if objected else None}
    state = overdracht.window_state(record, today)
    assert state.full_allowed == (not objected and offset > days)
    assert state.status == (
        overdracht.OBJECTION if objected else overdracht.WINDOW_OPEN if offset <= days else overdracht.WINDOW_CLOSED
    )
    assert end.strftime("%d/%m/%Y") in state.message or objected


def test_ten_calendar_days_by_default_counted_from_the_inspection(db, users, dossier):
    pid, _ = dossier
    inspected = date(2025, 3, 1)
    overdracht.record_inspection(db, users["zorg"], pid, "01/03/2025", today=date(2025, 3, 1))
    record = overdracht.current_record(db, users["zorg"], pid)
    assert (record["window_days"], record["window_end"]) == (10, date(2025, 3, 11))
    assert not overdracht.window_state(record, date(2025, 3, 11)).full_allowed
    assert overdracht.window_state(record, date(2025, 3, 12)).full_allowed
    assert overdracht.window_state(record, inspected).status == overdracht.WINDOW_OPEN
    assert overdracht.window_state(None, inspected).status == overdracht.NOT_INSPECTED


def test_export_is_blocked_while_the_window_is_open_unless_mandatory_only(db, users, dossier):
    pid, made = dossier
    directie = users["directie"]
    with pytest.raises(DisclosureError, match="nog niet ingezien"):
        overdracht.export_overdracht(db, directie, pid)
    overdracht.record_inspection(db, users["zorg"], pid, TODAY - timedelta(days=3))
    with pytest.raises(DisclosureError, match="bezwaar maken tot en met"):
        overdracht.export_overdracht(db, directie, pid)
    assert audit_rows(db, "export", pid) == []
    assert count(db, "SELECT count(*) FROM overdracht_record WHERE exported_at IS NOT NULL") == 0

    package = overdracht.export_overdracht(db, directie, pid, mandatory_only=True)
    assert package.mandatory_only and package.registrations == 3

    later = TODAY + timedelta(days=8)  # day 11 after the inspection
    full = overdracht.export_overdracht(db, directie, pid, today=later)
    assert not full.mandatory_only and made["transferable"] in full.registration_ids()


def test_after_an_objection_only_the_mandatory_verslagen_may_go(db, users, dossier):
    pid, made = dossier
    zorg, directie = users["zorg"], users["directie"]
    overdracht.record_inspection(db, zorg, pid, TODAY - timedelta(days=30))
    overdracht.record_objection(db, zorg, pid, "Ouders willen geen observaties doorgeven.", TODAY - timedelta(days=25))
    plan = overdracht.prepare_overdracht(db, zorg, pid)
    assert plan.window.status == overdracht.OBJECTION and plan.blocked
    with pytest.raises(DisclosureError, match="bezwaar"):
        overdracht.export_overdracht(db, directie, pid)
    package = overdracht.export_overdracht(db, directie, pid, mandatory_only=True)
    assert set(package.registration_ids()) == {made["gc"], made["iac"], made["ov4"]}
    # A new inspection is no way around the objection.
    overdracht.record_inspection(db, zorg, pid, TODAY - timedelta(days=20))
    assert overdracht.prepare_overdracht(db, zorg, pid).window.status == overdracht.OBJECTION
    with pytest.raises(DisclosureError, match="bezwaar"):
        overdracht.export_overdracht(db, directie, pid)


def test_objection_rules(db, users, dossier):
    pid, _ = dossier
    zorg = users["zorg"]
    with pytest.raises(DisclosureError, match="Registreer eerst"):
        overdracht.record_objection(db, zorg, pid, "Bezwaar.")
    overdracht.record_inspection(db, zorg, pid, TODAY - timedelta(days=2))
    with pytest.raises(DisclosureError, match="Beschrijf"):
        overdracht.record_objection(db, zorg, pid, "   ")
    with pytest.raises(DisclosureError, match="voor de datum"):
        overdracht.record_objection(db, zorg, pid, "Bezwaar.", TODAY - timedelta(days=5))
    with pytest.raises(DisclosureError, match="toekomst"):
        overdracht.record_objection(db, zorg, pid, "Bezwaar.", TODAY + timedelta(days=1))
    overdracht.record_objection(db, zorg, pid, "Bezwaar.")
    with pytest.raises(DisclosureError, match="al een bezwaar"):
        overdracht.record_objection(db, zorg, pid, "Nog een bezwaar.")
    record = overdracht.current_record(db, zorg, pid)
    assert (record["objection_text"], record["objection_on"]) == ("Bezwaar.", TODAY)


def test_the_window_length_is_a_setting_for_new_inspections(db, users, dossier):
    pid, _ = dossier
    assert overdracht.objection_window_days(db) == 10
    assert overdracht.set_objection_window_days(db, users["beheer"], "14") == 14
    assert get_setting(db, overdracht.WINDOW_SETTING) == "14"
    overdracht.set_objection_window_days(db, users["directie"], 7)
    for bad in ("-1", "61", "tien", None):
        with pytest.raises(DisclosureError):
            overdracht.set_objection_window_days(db, users["directie"], bad)
    for role in ("zorg", "juf.l1a", "clb"):
        with pytest.raises(AccessDenied):
            overdracht.set_objection_window_days(db, users[role], 5)
    assert overdracht.objection_window_days(db) == 7
    overdracht.record_inspection(db, users["zorg"], pid, TODAY)
    assert overdracht.current_record(db, users["zorg"], pid)["window_end"] == TODAY + timedelta(days=7)


# -- records and audit ----------------------------------------------------------------------
def test_an_export_records_approval_and_exactly_what_went(db, users, dossier):
    pid, made = dossier
    zorg, directie = users["zorg"], users["directie"]
    overdracht.record_inspection(db, zorg, pid, TODAY - timedelta(days=20))
    first = overdracht.export_overdracht(db, directie, pid)
    second = overdracht.export_overdracht(db, directie, pid, mandatory_only=True)
    records = overdracht.list_records(db, zorg, pid)
    assert list(records["id"]) == [second.record_id, first.record_id]
    for package, row in zip((second, first), records.itertuples(), strict=True):
        items = json.loads(row.items_included)
        assert set(items["registrations"]) == set(package.registration_ids())
        assert row.approved_by_name == directie.name and pd.notna(row.exported_at)
        assert row.inspected_on.date() == TODAY - timedelta(days=20)  # the second export copies the case
        assert bool(row.mandatory_only) == package.mandatory_only
    exports = audit_rows(db, "export", pid)
    assert [e[2] for e in exports] == [f"overdracht_record:{first.record_id}", f"overdracht_record:{second.record_id}"]
    assert all(e[0] == "directie" and e[1] == "directie" for e in exports)
    assert "volledig pakket" in exports[0][3] and "enkel verplichte verslagen" in exports[1][3]


def test_inspection_and_objection_are_audited(db, users, dossier):
    pid, _ = dossier
    before = len(audit_rows(db, "create", pid))
    record_id = overdracht.record_inspection(db, users["zorg"], pid, TODAY)
    overdracht.record_objection(db, users["zorg"], pid, "Bezwaar.")
    created = audit_rows(db, "create", pid)[before:]
    assert [c[2] for c in created] == [f"overdracht_record:{record_id}"] * 2


@pytest.mark.parametrize("username", ["juf.l1a", "clb", "beheer"])
def test_roles_without_export_rights_can_do_nothing(db, users, dossier, username):
    pid, _ = dossier
    user = users[username]
    for call in (
        lambda: overdracht.prepare_overdracht(db, user, pid),
        lambda: overdracht.record_inspection(db, user, pid, TODAY),
        lambda: overdracht.record_objection(db, user, pid, "x"),
        lambda: overdracht.export_overdracht(db, user, pid, mandatory_only=True),
        lambda: overdracht.current_record(db, user, pid),
    ):
        with pytest.raises(AccessDenied):
            call()
    assert count(db, "SELECT count(*) FROM overdracht_record") == 0


def test_the_zorgteam_prepares_but_only_the_directie_exports(db, users, dossier):
    pid, _ = dossier
    overdracht.record_inspection(db, users["zorg"], pid, TODAY - timedelta(days=20))
    plan = overdracht.prepare_overdracht(db, users["zorg"], pid)
    assert plan.blocked is None and plan.directie_hidden
    with pytest.raises(AccessDenied):
        overdracht.export_overdracht(db, users["zorg"], pid)
    with pytest.raises(AccessDenied):
        overdracht.prepare_overdracht(db, users["zorg"], pid, include_directie=True)


# -- the JSON bundle ------------------------------------------------------------------------
def test_bundle_structure_hostile_text_literal_and_attachments(db, users, dossier):
    pid, made = dossier
    overdracht.record_inspection(db, users["zorg"], pid, TODAY - timedelta(days=20))
    package = overdracht.export_overdracht(db, users["directie"], pid)
    bundle = json.loads(package.json_bytes.decode("utf-8"))
    assert bundle["format"] == overdracht.BUNDLE_FORMAT and bundle["version"] == 1
    assert bundle["mandatory_only"] is False
    assert bundle["parents_inspected_on"] == (TODAY - timedelta(days=20)).isoformat()
    assert bundle["pupil"] == {
        "pupil_number": PUPIL,
        "first_name": "Wout",
        "last_name": "Peeters",
        "birth_date": "2019-03-01",
    }
    assert [c["class_name"] for c in bundle["class_history"]] == ["K3A", "L1A"]
    assert [p["phase"] for p in bundle["care_phases"]] == [1]
    assert set(bundle["results"]) == {"lvs", "avi", "dmt", "idp"}
    by_id = {r["registration_id"]: r for r in bundle["registrations"]}
    assert by_id[made["transferable"]]["facts"] == HOSTILE
    assert by_id[made["transferable"]]["fact_date"] == DAY.isoformat()
    assert {r["type"] for r in bundle["registrations"]}.isdisjoint({"leefregel"})
    gc = by_id[made["gc"]]
    assert gc["mandatory"] is True and gc["report_kind"] == "GC"
    (attachment,) = package.attachments
    assert gc["attachment"] == {"file": attachment.file_name, "sha256": hashlib.sha256(PDF_BYTES).hexdigest()}
    assert attachment.content == PDF_BYTES and "/" not in attachment.file_name and "<" not in attachment.file_name
    assert by_id[made["ov4"]]["attachment"] is None


def test_mandatory_only_bundle_leaves_the_rest_out(db, users, dossier):
    pid, made = dossier
    package = overdracht.export_overdracht(db, users["directie"], pid, mandatory_only=True)
    bundle = json.loads(package.json_bytes)
    assert bundle["mandatory_only"] is True and bundle["parents_inspected_on"] is None
    assert bundle["class_history"] == [] and bundle["care_phases"] == [] and bundle["results"] == {}
    assert {r["registration_id"] for r in bundle["registrations"]} == {made["gc"], made["iac"], made["ov4"]}


# -- command line ---------------------------------------------------------------------------
@pytest.fixture
def cli_db(tmp_path, school_template):
    """A closed database file with a GC verslag (with its PDF) and a transferable MDO."""
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(school_template[0], path)
    database = Database(path)
    zorg, pid = school_template[2]["zorg"], school_template[1].pupils[PUPIL]
    gc = registrations.create_registration(
        database, zorg, pid, type="verslag", report_kind="GC", fact_date=DAY, facts="Verslag GC.", visibility="zorgteam"
    )
    registrations.attach_pdf(database, zorg, gc, "verslag.pdf", PDF_BYTES)
    registrations.create_registration(
        database, zorg, pid, type="mdo", fact_date=DAY, facts=HOSTILE, visibility="team", transferable=True
    )
    database.close()
    return path


def test_cli_overdracht_mandatory_only_full_after_the_window_and_refused_after_objection(cli_db, tmp_path):
    out = tmp_path / "pakket"
    stem = f"overdracht-{PUPIL}-{TODAY:%Y%m%d}"
    refused = run_cli("export", "overdracht", "--pupil", PUPIL, "--out", out, "--db", cli_db)
    assert refused.returncode == 1 and "Geweigerd" in refused.stderr and "nog niet ingezien" in refused.stderr
    assert "Traceback" not in refused.stderr and not list(out.glob("*"))

    mandatory = run_cli("export", "overdracht", "--pupil", PUPIL, "--out", out, "--mandatory-only", "--db", cli_db)
    assert mandatory.returncode == 0, mandatory.stderr
    bundle = json.loads((out / f"{stem}.json").read_text("utf-8"))
    assert bundle["mandatory_only"] is True and [r["type"] for r in bundle["registrations"]] == ["verslag"]
    assert (out / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "bijlagen" / bundle["registrations"][0]["attachment"]["file"]).read_bytes() == PDF_BYTES

    inspected = (TODAY - timedelta(days=20)).strftime("%d/%m/%Y")
    full = run_cli("export", "overdracht", "--pupil", PUPIL, "--out", out, "--inspected-on", inspected, "--db", cli_db)
    assert full.returncode == 0, full.stderr
    assert "volledig pakket" in full.stdout
    bundle = json.loads((out / f"{stem}.json").read_text("utf-8"))
    assert bundle["mandatory_only"] is False and HOSTILE in [r["facts"] for r in bundle["registrations"]]

    objected = run_cli("export", "overdracht", "--pupil", PUPIL, "--out", out, "--objection", "Nee.", "--db", cli_db)
    assert objected.returncode == 1 and "Bezwaar van de ouders geregistreerd" in objected.stdout
    assert "bezwaar" in objected.stderr
    con = duckdb.connect(str(cli_db), read_only=True)
    try:
        exports = con.execute("SELECT count(*) FROM audit_log WHERE action = 'export'").fetchone()[0]
        objection = con.execute("SELECT objection_text FROM overdracht_record ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert exports == 2 and objection == ("Nee.",)


def test_cli_overdracht_bad_calls_exit_2(cli_db, tmp_path, capsys):
    (tmp_path / "bestand").write_text("x")
    cases = [
        (["--pupil", "onbekend", "--out", tmp_path / "p"], "Geen leerling"),
        (["--pupil", PUPIL, "--out", tmp_path / "bestand"], "geen map"),
        (["--pupil", PUPIL, "--out", tmp_path / "p", "--inspected-on", "morgen"], "dd/mm/jjjj"),
        (["--out", tmp_path / "p"], "Ongeldige opdracht"),
    ]
    for args, message in cases:
        try:
            code = main(["export", "overdracht", *map(str, args), "--db", str(cli_db)])
        except SystemExit as exc:
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
