"""Backup and restore: round trip, consistency under concurrent writes, refusals, exit codes, the Beheer button."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dossier import audit, backup
from dossier.access import POLICY, ROLES, AccessDenied, User
from dossier.db import Database
from dossier.users import SYSTEM_USER
from pipelines.cli import main
from pipelines.demo import build_demo
from tests.apptest import signed_in
from tests.factories import make_school

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo_db(db):
    build_demo(db, pupils=30, seed=7, years=2)
    return db


def table_rows(path_or_db) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, from a Database or a file path (opened read-only)."""
    own = not isinstance(path_or_db, Database)
    db = Database(path_or_db, read_only=True) if own else path_or_db
    try:
        with db.cursor() as cur:
            tables = [
                r[0]
                for r in cur.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal"
                ).fetchall()
            ]
            return {t: sorted(cur.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        if own:
            db.close()


def without_action(rows: dict[str, list[tuple]], action: str) -> dict[str, list[tuple]]:
    """The audit log minus the row(s) that the backup or the restore itself added."""
    out = dict(rows)
    columns = ["id", "logged_at", "user_id", "user_name", "role", "action", "pupil_id", "object", "detail"]
    at = columns.index("action")
    out["audit_log"] = [r for r in rows["audit_log"] if r[at] != action]
    return out


def test_round_trip_restores_every_table_row_for_row(demo_db, tmp_path):
    before = table_rows(demo_db)
    assert sum(len(rows) for rows in before.values()) > 500  # a real dossier, not an empty file
    made = backup.make_backup(demo_db, SYSTEM_USER, tmp_path / "out")
    assert made.folder.parent == tmp_path / "out" and made.file.name == made.folder.name + ".duckdb"
    manifest = json.loads((made.folder / "manifest.json").read_text("utf-8"))
    assert manifest == made.manifest
    assert manifest["tables"] == {t: len(rows) for t, rows in before.items()}
    assert manifest["schema_version"] == demo_db.schema_version()
    assert manifest["sha256"] == backup.sha256_file(made.file)
    after_backup = table_rows(demo_db)
    assert without_action(after_backup, "backup") == before  # the backup changed nothing but its audit row

    target = tmp_path / "restored" / "dossier.duckdb"
    backup.restore_backup(made.folder, target)
    restored = table_rows(target)
    assert without_action(restored, "restore") == before
    # Sequences came along: a new row in the restored file gets a fresh id.
    copy = Database(target)
    try:
        with copy.cursor() as cur:
            top = cur.execute("SELECT max(id) FROM pupil").fetchone()[0]
            fresh = cur.execute(
                "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date)"
                " VALUES ('nieuw-1', 'A', 'B', DATE '2019-01-01') RETURNING id"
            ).fetchone()[0]
        assert fresh > top
    finally:
        copy.close()


def test_backup_and_restore_are_audited(db, tmp_path):
    made = backup.make_backup(db, SYSTEM_USER, tmp_path / "out")
    with db.cursor() as cur:
        row = cur.execute("SELECT user_name, action, object FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("opdrachtregel", "backup", made.file.name)
    target = tmp_path / "r.duckdb"
    backup.restore_backup(made.file, target)  # the file itself works as source too
    restored = Database(target)
    try:
        with restored.cursor() as cur:
            rows = cur.execute("SELECT action, object, detail FROM audit_log ORDER BY id").fetchall()
    finally:
        restored.close()
    assert [r[0] for r in rows] == ["restore"]  # the backup's own row came after the copy
    assert rows[0][1] == made.file.name and made.manifest["created_at"] in rows[0][2]


def test_backup_is_one_snapshot_while_the_app_keeps_writing(db, tmp_path):
    """A writer adds a setting and an audit row in one transaction, over and over; every backup taken
    meanwhile holds both or neither of each pair, and its manifest matches its file."""
    stop = threading.Event()
    written = []

    def writer():
        i = 0
        while not stop.is_set() and i < 5000:

            def pair(cur, i=i):
                cur.execute("INSERT INTO setting VALUES (?, 'x')", [f"pair-{i}"])
                audit.record(cur, None, "view", object=f"pair-{i}", user_name="writer")

            db.write(pair)
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        made = [backup.make_backup(db, SYSTEM_USER, tmp_path / "out") for _ in range(4)]
    finally:
        stop.set()
        thread.join()
    assert written, "the writer never ran"
    counts: list[int] = []
    for result in made:
        copy = Database(result.file, read_only=True)
        try:
            with copy.cursor() as cur:
                settings = cur.execute("SELECT count(*) FROM setting WHERE key LIKE 'pair-%'").fetchone()[0]
                audits = cur.execute("SELECT count(*) FROM audit_log WHERE object LIKE 'pair-%'").fetchone()[0]
        finally:
            copy.close()
        assert settings == audits
        counts.append(settings)
        assert result.manifest["tables"]["setting"] >= settings
    assert counts == sorted(counts)  # each later backup saw at least what an earlier one saw
    backup.verify_backup(made[-1].folder)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_beheerder_makes_a_backup(db, tmp_path, role):
    actor = User(99, "x", "X", role)
    if role in POLICY["admin.settings"]:
        assert backup.make_backup(db, actor, tmp_path / "out").file.is_file()
    else:
        with pytest.raises(AccessDenied):
            backup.make_backup(db, actor, tmp_path / "out")
        assert not (tmp_path / "out").exists()


# -- the command line -------------------------------------------------------------------------


def run_cli(*args: str) -> int:
    return main(list(args))


def only_backup(out: Path) -> Path:
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(folders) == 1
    return folders[0]


def test_cli_round_trip_and_force(demo_db, tmp_path, capsys):
    source = demo_db.path
    demo_db.close()  # the command line opens the file itself, as it would with the app stopped
    assert run_cli("backup", "--db", str(source), "--out", str(tmp_path / "out")) == 0
    assert "Back-up gemaakt" in capsys.readouterr().out
    folder = only_backup(tmp_path / "out")

    target = tmp_path / "new.duckdb"
    assert run_cli("restore", str(folder), "--db", str(target)) == 0
    assert without_action(table_rows(target), "restore") == without_action(table_rows(source), "backup")

    # An existing database is never overwritten without --force.
    other = tmp_path / "other.duckdb"
    Database(other).close()
    untouched = other.read_bytes()
    assert run_cli("restore", str(folder), "--db", str(other)) == 1
    err = capsys.readouterr().err
    assert "bestaat al" in err and "--force" in err and "Traceback" not in err
    assert other.read_bytes() == untouched
    assert run_cli("restore", str(folder), "--db", str(other), "--force") == 0
    assert table_rows(other)["pupil"] == table_rows(source)["pupil"]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_cli_backup_of_missing_database(tmp_path, capsys):
    assert run_cli("backup", "--db", str(tmp_path / "geen.duckdb"), "--out", str(tmp_path / "out")) == 2
    assert "bestaat niet" in capsys.readouterr().err
    assert not (tmp_path / "geen.duckdb").exists()


@pytest.fixture
def made(db, tmp_path):
    make_school(db)
    return backup.make_backup(db, SYSTEM_USER, tmp_path / "out")


def test_tampered_file_is_refused(made, tmp_path, capsys):
    data = bytearray(made.file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    made.file.write_bytes(bytes(data))
    target = tmp_path / "t.duckdb"
    assert run_cli("restore", str(made.folder), "--db", str(target)) == 1
    err = capsys.readouterr().err
    assert "controlesom" in err and "beschadigd of gewijzigd" in err
    assert not target.exists()
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(backup.BackupError, match="controlesom"):
        backup.verify_backup(made.folder)


def test_manifest_that_lies_about_the_contents_is_refused(made, tmp_path, capsys):
    manifest_path = made.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["tables"]["pupil"] += 1  # checksum still right: the file itself was not touched
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    target = tmp_path / "t.duckdb"
    assert run_cli("restore", str(made.folder), "--db", str(target)) == 1
    assert "komt niet overeen met het manifest" in capsys.readouterr().err
    assert not target.exists()


def test_force_does_not_replace_with_a_damaged_backup(made, tmp_path):
    target = tmp_path / "keep.duckdb"
    Database(target).close()
    kept = target.read_bytes()
    made.file.write_bytes(made.file.read_bytes()[:-4096])
    assert run_cli("restore", str(made.folder), "--db", str(target), "--force") == 1
    assert target.read_bytes() == kept


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda m: m.unlink(), "ontbreekt"),
        (lambda m: m.write_text("{niet json", "utf-8"), "onleesbaar"),
        (lambda m: m.write_text('{"format": "iets anders"}', "utf-8"), "geen manifest"),
        (
            lambda m: m.write_text(
                json.dumps({**json.loads(m.read_text("utf-8")), "file": "../../etc/passwd"}), "utf-8"
            ),
            "buiten de back-upmap",
        ),
    ],
)
def test_unusable_manifest_exits_2_with_dutch_message(made, tmp_path, capsys, damage, message):
    damage(made.folder / "manifest.json")
    assert run_cli("restore", str(made.folder), "--db", str(tmp_path / "t.duckdb")) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "t.duckdb").exists()


def test_restore_of_missing_source_exits_2(tmp_path, capsys):
    assert run_cli("restore", str(tmp_path / "nergens"), "--db", str(tmp_path / "t.duckdb")) == 2
    assert "Geen back-up gevonden" in capsys.readouterr().err


def test_backup_from_a_newer_app_is_refused(db, tmp_path):
    db.write(lambda cur: cur.execute("INSERT INTO schema_version (version, name) VALUES (999, 'toekomst')"))
    made = backup.make_backup(db, SYSTEM_USER, tmp_path / "out")
    with pytest.raises(backup.BackupError, match="nieuwere versie"):
        backup.restore_backup(made.folder, tmp_path / "t.duckdb")
    assert not (tmp_path / "t.duckdb").exists()


def test_cli_stops_with_busy_message_while_another_process_holds_the_file(db, tmp_path):
    path = db.path
    db.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from dossier.db import Database; d = Database({str(path)!r}); print('ok', flush=True); input()",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    other = Database(tmp_path / "other.duckdb")
    try:
        source = backup.make_backup(other, SYSTEM_USER, tmp_path / "src").folder
    finally:
        other.close()
    try:
        assert holder.stdout.readline().strip() == "ok"
        for args in (["backup", "--out", str(tmp_path / "out")], ["restore", str(source), "--force"]):
            done = subprocess.run(
                [sys.executable, "-m", "pipelines", *args, "--db", str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 2, done.stderr
            assert "in gebruik door een ander programma" in done.stderr and "Stop eerst de app" in done.stderr
            assert "Traceback" not in done.stderr
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    finally:
        holder.communicate("\n")


# -- the Beheer page ----------------------------------------------------------------------------


def test_beheer_button_makes_a_backup_while_the_app_holds_the_file(app_db, tmp_path, monkeypatch):
    out = tmp_path / "backups"
    monkeypatch.setenv("DOSSIER_BACKUP_DIR", str(out))
    at = signed_in("beheer")
    at.switch_page("pages/beheer.py").run()
    next(b for b in at.button if b.label == "Back-up maken").click()
    at.run()
    assert not at.exception
    assert any("Back-up gemaakt" in s.value for s in at.success)
    folder = only_backup(out)
    manifest, file = backup.verify_backup(folder)
    assert manifest["created_by"] == "beheer" and manifest["tables"]["staff_user"] == 7
    assert at.dataframe[-1].value["Door"].tolist() == ["beheer"]
