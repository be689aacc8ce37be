"""Inzage for parents: which registrations they see, who may prepare and export, explanation records, audit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dossier import inzage, registrations
from dossier.access import AccessDenied
from dossier.db import Database
from pipelines.cli import main
from tests.test_registrations import (  # noqa: F401  (fixtures: a fresh copy of one prepared school per test)
    db_fixture,
    school_fixture,
    school_template_fixture,
    users_fixture,
)

TODAY = date.today()
DAY = TODAY - timedelta(days=5)
PUPIL = "30004"


def count(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def audit_rows(db, action, pupil_id=None):
    with db.cursor() as cur:
        return cur.execute(
            "SELECT user_name, role, pupil_id, object, detail FROM audit_log WHERE action = ?"
            " AND (? IS NULL OR pupil_id = ?) ORDER BY id",
            [action, pupil_id, pupil_id],
        ).fetchall()


@pytest.fixture
def dossier(db, school, users):
    """One pupil with one registration per rule the selection knows; name -> registration id."""
    zorg, directie = users["zorg"], users["directie"]
    pid = school.pupils[PUPIL]

    def add(user, **fields):
        return registrations.create_registration(db, user, pid, fact_date=DAY, **fields)

    made = {
        "team": add(zorg, type="observatie", facts="Leest hakkelend voor in de klas.", visibility="team"),
        "zorgteam": add(zorg, type="mdo", facts="MDO: extra leesinstructie.", visibility="zorgteam"),
        "confidential": add(
            zorg,
            type="clb_terugkoppeling",
            facts="Info van de huisarts over de broer.",
            visibility="zorgteam",
            confidential_third_parties=True,
        ),
        "directie": add(directie, type="oudergesprek", facts="Gesprek over de scheiding.", visibility="directie"),
        "withdrawn": add(zorg, type="observatie", facts="Verkeerde leerling genoteerd.", visibility="team"),
        "corrected": add(zorg, type="observatie", facts="Eerste versie: fout.", visibility="team"),
        "verslag": add(zorg, type="verslag", report_kind="GC", facts="Verslag GC uitgereikt.", visibility="zorgteam"),
    }
    registrations.withdraw_registration(db, zorg, made["withdrawn"], "Bij de verkeerde leerling geschreven.")
    registrations.correct_registration(db, zorg, made["corrected"], facts="Tweede versie: juist.")
    return pid, made


def ids(frame):
    return set() if frame.empty else {int(i) for i in frame["registration_id"]}


# -- selection ------------------------------------------------------------------------------
def test_parents_see_current_team_and_zorgteam_items_without_confidential_or_withdrawn(db, users, dossier):
    pid, made = dossier
    preview = inzage.prepare_inzage(db, users["directie"], pid)
    included = ids(preview.selection.included)
    assert {made["team"], made["zorgteam"], made["corrected"], made["verslag"]} <= included
    assert not included & {made["confidential"], made["withdrawn"], made["directie"]}
    reasons = dict(
        zip(preview.selection.left_out["registration_id"], preview.selection.left_out["reason"], strict=True)
    )
    assert reasons[made["confidential"]] == inzage.REASON_CONFIDENTIAL
    assert reasons[made["withdrawn"]] == inzage.REASON_WITHDRAWN
    assert reasons[made["directie"]] == inzage.REASON_DIRECTIE
    corrected = preview.selection.included.set_index("registration_id").loc[made["corrected"]]
    assert corrected["facts"] == "Tweede versie: juist." and corrected["version"] == 2


def test_the_directie_may_include_directie_items_but_confidential_ones_stay_out(db, users, dossier):
    pid, made = dossier
    preview = inzage.prepare_inzage(db, users["directie"], pid, include_directie=True)
    included = ids(preview.selection.included)
    assert made["directie"] in included
    assert made["confidential"] not in included and made["withdrawn"] not in included


def test_the_zorgteam_preview_cannot_see_directie_items_and_may_not_include_them(db, users, dossier):
    pid, made = dossier
    preview = inzage.prepare_inzage(db, users["zorg"], pid)
    assert preview.directie_hidden
    assert made["directie"] not in ids(preview.selection.included) | ids(preview.selection.left_out)
    with pytest.raises(AccessDenied):
        inzage.prepare_inzage(db, users["zorg"], pid, include_directie=True)


def test_a_confidential_item_stays_out_whatever_its_visibility(db, users, school):
    pid = school.pupils[PUPIL]
    rid = registrations.create_registration(
        db,
        users["directie"],
        pid,
        type="observatie",
        fact_date=DAY,
        facts="Van derden.",
        visibility="team",
        confidential_third_parties=True,
    )
    for include in (False, True):
        preview = inzage.prepare_inzage(db, users["directie"], pid, include_directie=include)
        assert rid not in ids(preview.selection.included)


# -- access ---------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["juf.l1a", "clb", "beheer"])
def test_roles_without_export_rights_can_do_nothing(db, users, dossier, username):
    pid, _ = dossier
    user = users[username]
    with pytest.raises(AccessDenied):
        inzage.prepare_inzage(db, user, pid)
    with pytest.raises(AccessDenied):
        inzage.record_explanation(db, user, pid, "Juf Sara", TODAY)
    with pytest.raises(AccessDenied):
        inzage.export_inzage(db, user, pid)
    assert count(db, "SELECT count(*) FROM inzage_record") == 0
    assert audit_rows(db, "export") == []


def test_the_zorgteam_prepares_and_the_directie_exports(db, users, dossier):
    pid, _ = dossier
    inzage.record_explanation(db, users["zorg"], pid, "Zorgcoördinator An", DAY)
    with pytest.raises(AccessDenied):
        inzage.export_inzage(db, users["zorg"], pid)
    made = inzage.export_inzage(db, users["directie"], pid)
    assert made.pdf.startswith(b"%PDF") and made.file_name == f"inzage-{PUPIL}-{TODAY:%Y%m%d}.pdf"


# -- explanation records --------------------------------------------------------------------
def test_an_explanation_is_recorded_with_who_when_and_by_whom(db, users, dossier):
    pid, _ = dossier
    record_id = inzage.record_explanation(db, users["zorg"], pid, "  Juf Şule Łukasik ", "03/02/2025")
    with db.cursor() as cur:
        row = cur.execute(
            "SELECT pupil_id, explained_by, explained_on, recorded_by_id, recorded_by_name FROM inzage_record"
            " WHERE id = ?",
            [record_id],
        ).fetchone()
    assert row == (pid, "Juf Şule Łukasik", date(2025, 2, 3), users["zorg"].id, users["zorg"].name)
    assert audit_rows(db, "create", pid)[-1][3] == f"inzage_record:{record_id}"
    listed = inzage.list_explanations(db, users["zorg"], pid)
    assert list(listed["id"]) == [record_id]


@pytest.mark.parametrize(
    ("who", "when", "message"),
    [
        ("", TODAY, "wie"),
        ("Juf Sara", TODAY + timedelta(days=1), "toekomst"),
        ("Juf Sara", "31/02/2025", "dd/mm/jjjj"),
        ("Juf Sara", "", "datum"),
        ("x" * 201, TODAY, "kort"),
    ],
)
def test_invalid_explanations_are_refused_in_dutch_and_write_nothing(db, users, dossier, who, when, message):
    pid, _ = dossier
    before = count(db, "SELECT count(*) FROM audit_log")
    with pytest.raises(inzage.DisclosureError, match=message):
        inzage.record_explanation(db, users["zorg"], pid, who, when)
    assert count(db, "SELECT count(*) FROM inzage_record") == 0
    assert count(db, "SELECT count(*) FROM audit_log") == before


def test_no_copy_before_an_explanation(db, users, dossier):
    pid, _ = dossier
    with pytest.raises(inzage.DisclosureError, match="toelichting"):
        inzage.export_inzage(db, users["directie"], pid)
    assert audit_rows(db, "export") == []


def test_the_copy_follows_the_latest_explanation_unless_one_is_named(db, users, dossier):
    pid, _ = dossier
    first = inzage.record_explanation(db, users["zorg"], pid, "Juf Sara", DAY - timedelta(days=30))
    latest = inzage.record_explanation(db, users["directie"], pid, "Meester Tom", DAY)
    assert inzage.export_inzage(db, users["directie"], pid).explanation["id"] == latest
    assert inzage.export_inzage(db, users["directie"], pid, explanation_id=first).explanation["explained_by"] == (
        "Juf Sara"
    )


# -- audit ----------------------------------------------------------------------------------
def test_preview_is_one_view_and_export_one_export_entry(db, users, dossier):
    pid, _ = dossier
    record_id = inzage.record_explanation(db, users["zorg"], pid, "Juf Sara", DAY)
    views_before = len(audit_rows(db, "view", pid))
    preview = inzage.prepare_inzage(db, users["zorg"], pid)
    views = audit_rows(db, "view", pid)[views_before:]
    assert [(v[0], v[3]) for v in views] == [("zorg", "inzage")]
    assert f"{len(preview.selection.included)} registraties" in views[0][4]

    made = inzage.export_inzage(db, users["directie"], pid)
    exports = audit_rows(db, "export", pid)
    assert len(exports) == 1
    user_name, role, pupil, obj, detail = exports[0]
    assert (user_name, role, pupil, obj) == ("directie", "directie", pid, f"inzage_record:{record_id}")
    assert f"{made.registrations} registraties" in detail and "Juf Sara" in detail


# -- pupil reference ------------------------------------------------------------------------
def test_a_pupil_is_found_by_number_or_internal_id(db, users, school):
    pid = school.pupils[PUPIL]
    assert inzage.resolve_pupil(db, users["directie"], PUPIL) == pid
    assert inzage.resolve_pupil(db, users["directie"], str(pid)) == pid
    for unknown in ("99999", "", "abc'; DROP TABLE pupil; --", "1" * 40):
        with pytest.raises(inzage.DisclosureError):
            inzage.resolve_pupil(db, users["directie"], unknown)
    # A teacher's scope is their own classes: another class's pupil does not exist for them.
    with pytest.raises(inzage.DisclosureError):
        inzage.resolve_pupil(db, users["juf.k3a"], PUPIL)


# -- command line ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


@pytest.fixture
def cli_db(tmp_path, school_template):
    """A closed database file with the school and one registration: the CLI opens it itself."""
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(school_template[0], path)
    database = Database(path)
    registrations.create_registration(
        database,
        school_template[2]["zorg"],
        school_template[1].pupils[PUPIL],
        type="observatie",
        fact_date=DAY,
        facts="<b>Leest</b> [vlot](http://x.example) =1+1",
        visibility="team",
    )
    database.close()
    return path


def rows(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_cli_inzage_needs_an_explanation_then_writes_the_pdf(cli_db, tmp_path):
    out = tmp_path / "uit" / "inzage.pdf"
    refused = run_cli("export", "inzage", "--pupil", PUPIL, "--out", out, "--db", cli_db)
    assert refused.returncode == 1, refused.stderr
    assert "toelichting" in refused.stderr and "Traceback" not in refused.stderr and not out.exists()

    done = run_cli(
        "export", "inzage", "--pupil", PUPIL, "--out", out, "--db", cli_db,
        "--explained-by", "Juf Ayşe", "--explained-on", "03/02/2025",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Inzage-PDF geschreven" in done.stdout and "Juf Ayşe op 03/02/2025" in done.stdout
    assert out.read_bytes().startswith(b"%PDF")
    assert rows(cli_db, "SELECT explained_by, explained_on FROM inzage_record") == [("Juf Ayşe", date(2025, 2, 3))]
    exports = rows(cli_db, "SELECT user_name, role, object FROM audit_log WHERE action = 'export'")
    assert exports == [("opdrachtregel", "directie", "inzage_record:1")]

    again = run_cli("export", "inzage", "--pupil", PUPIL, "--out", tmp_path / "tweede.pdf", "--db", cli_db)
    assert again.returncode == 0 and "Juf Ayşe" in again.stdout  # the recorded explanation is reused


def run_main(capsys, *args) -> tuple[int, str]:
    """pipelines.cli.main in this process (same contract, without a new interpreter per call)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse refuses a bad call by exiting
        code = exc.code
    return code, capsys.readouterr().err


def test_cli_inzage_bad_calls_exit_2_in_dutch(cli_db, tmp_path, capsys):
    out = tmp_path / "inzage.pdf"
    cases = [
        (["--pupil", "99999", "--out", out], "Geen leerling"),
        (["--pupil", PUPIL, "--out", out, "--explained-by", "Juf", "--explained-on", "31/02/2025"], "dd/mm/jjjj"),
        (["--pupil", PUPIL, "--out", out, "--explained-on", "03/02/2025"], "--explained-by"),
        (["--pupil", PUPIL, "--out", tmp_path], "is een map"),
        (["--pupil", PUPIL], "Ongeldige opdracht"),
    ]
    for args, message in cases:
        code, err = run_main(capsys, "export", "inzage", *args, "--db", cli_db)
        assert code == 2, (args, err)
        assert message in err and "Traceback" not in err
    assert not out.exists()
    assert rows(cli_db, "SELECT count(*) FROM audit_log WHERE action = 'export'") == [(0,)]
