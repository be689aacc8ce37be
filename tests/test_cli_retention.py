"""`python -m pipelines retention` as a real subprocess: JSON keys, exit codes, Dutch output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dossier.db import Database
from dossier.schoolyear import format_date
from pipelines.retention import CLASS_KEYS, JSON_KEYS
from tests.retention_school import CANARIES, LEFT_NUMBER, make_retention_school

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_retention") / "template.duckdb"
    database = Database(path)
    built = make_retention_school(database)
    database.close()
    return path, built


@pytest.fixture
def school(template, tmp_path):
    target = tmp_path / "dossier.duckdb"
    shutil.copyfile(template[0], target)
    return target, template[1]


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "retention", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


def cli_json(*args: str | Path) -> tuple[int, dict]:
    done = cli(*args, "--json")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (done.stdout, done.stderr)
    payload = json.loads(lines[0])
    assert tuple(payload) == JSON_KEYS
    assert "Traceback" not in done.stderr
    return done.returncode, payload


def count(path: Path, sql: str, params=()) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


def test_dry_run_json_lists_what_is_due_and_deletes_nothing(school):
    path, rs = school
    code, payload = cli_json("--dry-run", "--today", format_date(rs.due_on), "--db", path)
    assert code == 0
    assert payload["status"] == "dry-run" and payload["dry_run"] is True and payload["error"] is None
    assert payload["today"] == rs.due_on.isoformat()
    assert list(payload["classes"]) == ["dossier", "results", "pupil_log", "identity", "access_log"]
    for entry in payload["classes"].values():
        assert tuple(entry) == CLASS_KEYS
    assert payload["classes"]["identity"]["pupils"] == 1
    assert payload["total_rows"] == sum(c["rows"] for c in payload["classes"].values()) > 0
    assert payload["terms"] == {"dossier": 1, "results": 1, "pupil_log": 1, "access_log": 2}
    assert payload["compacted"] is False and payload["file_bytes"] is None
    assert count(path, "SELECT count(*) FROM pupil WHERE pupil_number = ?", [LEFT_NUMBER]) == 1
    assert count(path, "SELECT count(*) FROM retention_run WHERE dry_run") == 1


def test_run_deletes_compacts_and_reports_counts(school):
    path, rs = school
    _, dry = cli_json("--dry-run", "--today", format_date(rs.due_on), "--db", path)
    code, payload = cli_json("--today", format_date(rs.due_on), "--db", path)
    assert code == 0
    assert payload["status"] == "deleted" and payload["compacted"] is True
    assert payload["classes"] == dry["classes"] and payload["total_rows"] == dry["total_rows"]
    assert payload["file_bytes"]["after"] == path.stat().st_size
    assert count(path, "SELECT count(*) FROM pupil WHERE pupil_number = ?", [LEFT_NUMBER]) == 0
    raw = path.read_bytes()
    assert [c for c in CANARIES if c in raw] == []
    # The report is counts: no name, no pupil number anywhere in it.
    text = json.dumps(payload)
    for word in ("Quackenbosch", "Zebul", LEFT_NUMBER):
        assert word not in text
    # A second run on the same day finds nothing.
    code, again = cli_json("--today", format_date(rs.due_on), "--db", path)
    assert code == 0 and again["total_rows"] == 0 and again["compacted"] is False


def test_human_output_is_dutch(school):
    path, rs = school
    day = format_date(rs.due_on)
    done = cli("--dry-run", "--today", day, "--db", path)
    assert done.returncode == 0, done.stderr
    assert f"Bewaartermijnen op {day} (proefdraai: er wordt niets verwijderd)." in done.stdout
    assert "Dossierinhoud (1 schooljaar na vertrek): 1 leerling," in done.stdout
    assert "Toegangslog (2 schooljaren)" in done.stdout
    assert "Zou verwijderd worden:" in done.stdout
    done = cli("--today", day, "--db", path)
    assert done.returncode == 0, done.stderr
    assert "Verwijderd:" in done.stdout and "Databank gecompacteerd:" in done.stdout
    assert "Quackenbosch" not in done.stdout


def test_nothing_due_the_day_before(school):
    path, rs = school
    day = rs.due_on.replace(day=30)
    done = cli("--today", format_date(day), "--db", path)
    assert done.returncode == 0, done.stderr
    assert "Niets vervallen." in done.stdout
    assert count(path, "SELECT count(*) FROM pupil WHERE pupil_number = ?", [LEFT_NUMBER]) == 1


@pytest.mark.parametrize("bad", ["2027-08-31", "31/02/2027", "morgen", "31/08/27"])
def test_bad_date_exit_2_with_dutch_message(school, bad):
    path, _ = school
    done = cli("--today", bad, "--db", path)
    assert done.returncode == 2
    assert "Ongeldige peildatum" in done.stderr and "dd/mm/jjjj" in done.stderr
    assert "Traceback" not in done.stderr
    code, payload = cli_json("--today", bad, "--db", path)
    assert code == 2 and payload["status"] == "error" and "Ongeldige peildatum" in payload["error"]


def test_busy_database_exit_2(school):
    path, rs = school
    holder = duckdb.connect(str(path))  # as the running app would
    try:
        done = cli("--today", format_date(rs.due_on), "--db", path)
    finally:
        holder.close()
    assert done.returncode == 2
    assert "in gebruik" in done.stderr and "Traceback" not in done.stderr
    assert count(path, "SELECT count(*) FROM pupil WHERE pupil_number = ?", [LEFT_NUMBER]) == 1


def test_bad_call_exit_2():
    done = cli("--onbekend")
    assert done.returncode == 2 and "Ongeldige opdracht" in done.stderr
