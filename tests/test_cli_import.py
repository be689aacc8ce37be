"""`python -m pipelines import` as a real subprocess: JSON contract and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.report import JSON_KEYS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "voorbeelden"
MESSAGE_KEYS = {"row", "column", "value", "message"}


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "import", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def cli_json(*args: str | Path) -> tuple[int, dict]:
    done = cli(*args, "--json")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (done.stdout, done.stderr)
    payload = json.loads(lines[0])
    assert tuple(payload) == JSON_KEYS
    for message in payload["errors"] + payload["warnings"]:
        assert set(message) == MESSAGE_KEYS
    assert "Traceback" not in done.stderr
    return done.returncode, payload


def rows_in(db_path: Path, table: str) -> int:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def data_rows(name: str) -> int:
    return len((SAMPLES / name).read_text("utf-8-sig").strip().splitlines()) - 1


def test_samples_import_then_reimport_unchanged(tmp_path):
    db = tmp_path / "dossier.duckdb"
    code, roster = cli_json(SAMPLES / "leerlingen.csv", "--db", db)
    assert code == 0
    n = data_rows("leerlingen.csv")
    assert (roster["format"], roster["status"], roster["rows"], roster["inserted"]) == ("leerlingen", "imported", n, n)
    assert roster["file"] == str(SAMPLES / "leerlingen.csv")

    code, results = cli_json(SAMPLES / "lvs-vclb.csv", "--db", db, "--format", "lvs-vclb")
    m = data_rows("lvs-vclb.csv")
    assert code == 0
    assert (results["status"], results["rows"], results["inserted"], results["updated"]) == ("imported", m, m, 0)
    assert results["errors"] == []

    code, again = cli_json(SAMPLES / "lvs-vclb.csv", "--db", db)
    assert (code, again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 0, m)
    assert rows_in(db, "lvs_result") == m


def test_error_file_is_rejected_with_exit_1_and_nothing_written(tmp_path):
    db = tmp_path / "dossier.duckdb"
    cli_json(SAMPLES / "leerlingen.csv", "--db", db)
    code, report = cli_json(SAMPLES / "fouten-lvs-vclb.csv", "--db", db)
    assert code == 1
    assert report["status"] == "rejected"
    assert [(e["row"], e["column"], e["value"]) for e in report["errors"]] == [
        (2, "percentiel", "105"),
        (3, "zone", "F"),
        (4, "leerling_id", "99999"),
        (5, "afnamedatum", "31/02/2025"),
        (6, "domein", "rekenen"),
    ]
    assert all(e["message"] for e in report["errors"])
    assert rows_in(db, "lvs_result") == 0
    assert rows_in(db, "import_batch") == 1  # only the roster


def test_dry_run_writes_nothing(tmp_path):
    db = tmp_path / "dossier.duckdb"
    code, report = cli_json(SAMPLES / "leerlingen.csv", "--db", db, "--dry-run")
    assert (code, report["status"], report["inserted"]) == (0, "dry-run", data_rows("leerlingen.csv"))
    assert rows_in(db, "pupil") == 0 and rows_in(db, "import_batch") == 0


@pytest.fixture(scope="module")
def roster_db(tmp_path_factory) -> Path:
    """A database file with the sample roster, imported once for this module's copies."""
    path = tmp_path_factory.mktemp("roster") / "dossier.duckdb"
    code, report = cli_json(SAMPLES / "leerlingen.csv", "--db", path)
    assert (code, report["status"]) == (0, "imported")
    return path


@pytest.mark.parametrize(
    ("name", "fmt", "table"),
    [
        ("avi.csv", "avi", "avi_result"),
        ("dmt.csv", "dmt", "dmt_result"),
        ("idp.csv", "idp", "idp_result"),
        ("welbevinden.csv", "welbevinden", "wellbeing_result"),
    ],
)
def test_result_samples_import_with_exit_0(tmp_path, roster_db, name, fmt, table):
    db = tmp_path / "dossier.duckdb"
    shutil.copyfile(roster_db, db)
    n = data_rows(name)
    code, report = cli_json(SAMPLES / name, "--db", db)
    assert code == 0, report
    assert (report["format"], report["status"], report["rows"], report["inserted"]) == (fmt, "imported", n, n)
    assert report["errors"] == [] and report["warnings"] == []
    assert rows_in(db, table) == n


def test_explicit_format_that_does_not_fit_names_the_missing_columns(tmp_path):
    code, report = cli_json(SAMPLES / "welbevinden.csv", "--db", tmp_path / "d.duckdb", "--format", "avi")
    assert code == 1 and report["status"] == "rejected" and report["format"] == "avi"
    missing = [e["column"] for e in report["errors"]]
    assert missing == ["afnamedatum", "leerjaar", "afnamemoment", "avi_kaart", "avi_niveau_behaald"]
    assert all(e["row"] is None and "ontbreekt" in e["message"] for e in report["errors"])


def test_unreadable_and_missing_files_exit_2(tmp_path):
    garbage = tmp_path / "rommel.xlsx"
    garbage.write_bytes(b"PK\x03\x04 this is no workbook \x00\x01\x02")
    code, report = cli_json(garbage, "--db", tmp_path / "d.duckdb")
    assert code == 2 and report["errors"][0]["column"] is None

    code, report = cli_json(tmp_path / "bestaat-niet.csv", "--db", tmp_path / "d.duckdb")
    assert code == 2 and "bestaat niet" in report["errors"][0]["message"]


def test_bad_call_exits_2(tmp_path):
    done = cli(SAMPLES / "leerlingen.csv", "--format", "excel", "--db", tmp_path / "d.duckdb")
    assert done.returncode == 2
    assert "Ongeldige opdracht" in done.stderr


def test_readable_dutch_summary_without_json(tmp_path):
    db = tmp_path / "dossier.duckdb"
    done = cli(SAMPLES / "leerlingen.csv", "--db", db)
    assert done.returncode == 0
    assert "geïmporteerd" in done.stdout and "nieuw" in done.stdout
    done = cli(SAMPLES / "fouten-lvs-vclb.csv", "--db", db)
    assert done.returncode == 1
    assert "rij 2" in done.stderr and "percentiel moet tussen 0 en 100 liggen" in done.stderr


def test_database_in_use_gives_dutch_remedy_and_exit_2(tmp_path):
    db = tmp_path / "dossier.duckdb"
    holder = duckdb.connect(str(db))  # another process (the running app) holds the file
    try:
        code, report = cli_json(SAMPLES / "leerlingen.csv", "--db", db)
        assert code == 2
        assert "in gebruik" in report["errors"][0]["message"]
        assert "Stop eerst de app" in report["errors"][0]["message"]
    finally:
        holder.close()
