"""Shared pieces for the result-format import tests (avi, dmt, idp, welbevinden).

The sample roster is imported once per test module into a template file; each test gets its
own copy, so every test starts from the same real school without paying for the roster import.
Files are built from the sample rows in the shapes schools send: comma CSV in UTF-8, what
Belgian Excel writes (';', Windows-1252, dd/mm/yyyy, decimal commas, CRLF) and XLSX with real
date and number cells.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from dossier.access import User
from dossier.db import Database
from pipelines.importer import run_import, undo_batch

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "voorbeelden"
ZORG = User(id=11, username="zorg", name="Zorg Coördinator", role="zorgteam")
BOOKKEEPING = ("import_batch", "import_change", "import_insert")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def sample_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((SAMPLES / name).read_text("utf-8-sig"))))


def header_of(name: str) -> str:
    return (SAMPLES / name).read_text("utf-8-sig").splitlines()[0]


def lines(header: str, *rows: str) -> bytes:
    """A comma CSV from a header line and row lines, as written."""
    return ("\n".join([header, *rows]) + "\n").encode()


def cells(columns: list[str], line: str) -> dict[str, str]:
    """A row line (no quoting) as column -> cell."""
    return dict(zip(columns, line.split(","), strict=True))


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def belgian_excel(rows: list[dict[str, str]], dates: Iterable[str], decimals: Iterable[str] = ()) -> bytes:
    dates, decimals = set(dates), set(decimals)

    def cell(column: str, value: str) -> str:
        if column in dates and value:
            return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
        if column in decimals:
            return value.replace(".", ",")
        return value

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0].keys())
    for row in rows:
        writer.writerow([cell(k, v) for k, v in row.items()])
    return out.getvalue().encode("cp1252")


def xlsx(rows: list[dict[str, str]], dates: Iterable[str], numbers: Iterable[str]) -> bytes:
    """A workbook with date cells for `dates` and number cells for the numbers in `numbers`
    (other text there stays text, like '3+'); header in capitals."""
    dates, numbers = set(dates), set(numbers)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([k.upper() for k in rows[0]])
    for row in rows:
        cells = []
        for key, value in row.items():
            if not value:
                cells.append(None)
            elif key in dates:
                cells.append(date.fromisoformat(value))
            elif key in numbers and _is_number(value):
                number = float(value)
                cells.append(int(number) if number.is_integer() else number)
            else:
                cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


# -- the school -----------------------------------------------------------------------------------
@pytest.fixture(scope="module", name="roster_template")
def roster_template_fixture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "template.duckdb"
    database = Database(path)
    report = run_import(database, ZORG, sample("leerlingen.csv"), "leerlingen.csv")
    assert report.status == "imported", report.errors
    database.checkpoint()
    database.close()
    return path


@pytest.fixture(name="school")
def school_fixture(tmp_path, roster_template) -> Database:
    """A fresh copy of the school with the sample roster."""
    target = tmp_path / "dossier.duckdb"
    shutil.copyfile(roster_template, target)
    database = Database(target)
    yield database
    database.close()


# -- looking at the database ----------------------------------------------------------------------
def count(db: Database, table: str) -> int:
    with db.cursor() as cur:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def snapshot(db: Database, *tables: str) -> dict[str, list[tuple]]:
    with db.cursor() as cur:
        return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def sequences(db: Database) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1").fetchall()


def history(db: Database, batch_id: int) -> list[tuple[str, dict | None, dict]]:
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT action, before_values, after_values FROM import_change WHERE batch_id = ? ORDER BY id",
            [batch_id],
        ).fetchall()
    return [(a, json.loads(b) if b else None, json.loads(c)) for a, b, c in rows]


def imported(db: Database, data: bytes, name: str):
    report = run_import(db, ZORG, data, name)
    assert report.status == "imported", report.errors
    return report


def rejected(db: Database, data: bytes, name: str = "fout.csv"):
    report = run_import(db, ZORG, data, name)
    assert report.status == "rejected", report
    return report


def where(messages) -> list[tuple[int | None, str | None, str | None]]:
    return [(m.row, m.column, m.value) for m in messages]


# -- contracts every result format keeps -------------------------------------------------------------
def check_sample_import_and_reimport(db: Database, name: str, fmt: str, table: str) -> int:
    """The sample imports with every data row inserted; importing it again changes nothing."""
    data = sample(name)
    n = len(sample_rows(name))
    report = run_import(db, ZORG, data, name)
    assert report.status == "imported", report.errors
    assert report.format == fmt
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (n, n, 0, 0)
    assert report.errors == [] and report.warnings == []
    assert count(db, table) == n
    before = snapshot(db, table)
    again = run_import(db, ZORG, data, name)
    assert (again.status, again.inserted, again.updated, again.unchanged) == ("imported", 0, 0, n)
    assert snapshot(db, table) == before
    assert history(db, again.batch_id) == []
    with db.cursor() as cur:
        batches = cur.execute("SELECT format, rows, inserted, unchanged FROM import_batch ORDER BY id").fetchall()
    assert batches[-2:] == [(fmt, n, n, 0), (fmt, n, 0, n)]
    return n


def check_same_as(db: Database, variant: bytes, file_name: str, reference: bytes, table: str) -> int:
    """A variant of a file (other encoding, separator, spreadsheet) stores exactly what the
    plain CSV stores: importing the CSV afterwards finds every row unchanged."""
    first = imported(db, variant, file_name)
    n = first.rows
    assert n > 0 and (first.inserted, first.errors, first.warnings) == (n, [], [])
    report = imported(db, reference, "referentie.csv")
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (n, 0, 0, n)
    assert count(db, table) == n
    return n


def check_dry_run(db: Database, name: str, table: str) -> None:
    tables = ("pupil", "enrolment", table, *BOOKKEEPING)
    before, numbers = snapshot(db, *tables), sequences(db)
    dry = run_import(db, ZORG, sample(name), name, dry_run=True)
    assert dry.status == "dry-run" and dry.batch_id is None
    assert snapshot(db, *tables) == before and sequences(db) == numbers
    real = imported(db, sample(name), name)
    assert (dry.rows, dry.inserted, dry.updated, dry.unchanged) == (
        real.rows,
        real.inserted,
        real.updated,
        real.unchanged,
    )
    assert real.inserted == len(sample_rows(name))


def check_undo(db: Database, name: str, table: str, correction: bytes) -> None:
    """Undo of the sample batch and of a correcting batch each restore the table exactly."""
    tables = ("pupil", "enrolment", table)
    empty = snapshot(db, *tables)
    first = imported(db, sample(name), name).batch_id
    after_sample = snapshot(db, *tables)
    second = imported(db, correction, "correctie.csv")
    assert second.updated >= 1 and second.inserted >= 1, "the correction must update and add rows"
    assert snapshot(db, *tables) != after_sample
    undo_batch(db, ZORG, second.batch_id)
    assert snapshot(db, *tables) == after_sample
    undo_batch(db, ZORG, first)
    assert snapshot(db, *tables) == empty


def check_missing_required_column(db: Database, name: str, fmt: str, column: str) -> None:
    """The sample without one required column is still recognised, and rejected for that column."""
    rows = [{k: v for k, v in r.items() if k != column} for r in sample_rows(name)]
    report = run_import(db, ZORG, as_csv(rows), "zonder-kolom.csv")
    assert (report.status, report.format) == ("rejected", fmt)
    assert where(report.errors) == [(None, column, None)]
    assert report.errors[0].message == f"verplichte kolom '{column}' ontbreekt in de kopregel"


# -- hostile input -------------------------------------------------------------------------------
HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
NASTY = [
    "",
    " ",
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    "@SUM(1)",
    "1e999",
    "99999999999999999999999999",
    "-0",
    "-1",
    "NaN",
    "inf",
    "31/02/2025",
    "0000-00-00",
    "9999-12-31",
    "99999",
    "2024-2026",
    "Çelik",
    "😀",
    "\u202e",
    'a"b',
    "x;y",
    "x,y",
    "'",
    "1,5",
    "105",
    "151",
    "0",
]

# Plausible cells of the columns every result format shares.
COMMON_VALID = {
    "schooljaar": ["2024-2025", "2025-2026"],
    "leerling_id": ["24007", "24013", "24031", "24001"],
    "klas": ["L1A", "L4A"],
    "leerjaar": ["1", "4", "7"],
    "afnamemoment": ["begin", "midden", "eind", "Midden"],
}


def hostile_tables(columns: list[str], valid: dict[str, list[str]]):
    """(header, rows): the format's columns shuffled (sometimes one short), cells mostly valid
    values of their column mixed with nasty text."""
    header = st.permutations(columns).flatmap(
        lambda cols: st.integers(len(cols) - 1, len(cols)).map(lambda k: list(cols[:k]))
    )

    def valid_cell(column: str):
        return st.sampled_from(valid.get(column, ["x"]))

    def cell(column: str):
        return st.one_of(valid_cell(column), st.sampled_from(NASTY), st.text(max_size=8))

    def row(cols: list[str]):
        # Half the rows use only plausible values, so imports that go through are exercised too.
        return st.one_of(st.tuples(*(valid_cell(c) for c in cols)), st.tuples(*(cell(c) for c in cols))).map(list)

    return header.flatmap(lambda cols: st.tuples(st.just(cols), st.lists(row(cols), min_size=1, max_size=6)))


@pytest.fixture(scope="module", name="hostile_school")
def hostile_school_fixture(tmp_path_factory, roster_template) -> Database:
    """One copy of the school for every hypothesis example of a module (each example undoes its import)."""
    target = tmp_path_factory.mktemp("hostile") / "dossier.duckdb"
    shutil.copyfile(roster_template, target)
    database = Database(target)
    yield database
    database.close()


def check_hostile(db: Database, table: tuple[list[str], list[list[str]]], fmt: str, result_table: str) -> None:
    """Whatever the cells: a report, never an exception; nothing written on rejection; an import
    that went through is undone so the next example starts from the same school."""
    header, rows = table
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    tables = (result_table, *BOOKKEEPING)
    before = snapshot(db, *tables)
    report = run_import(db, ZORG, out.getvalue().encode("utf-8"), "vijandig.csv", format=fmt)
    assert report.status in ("imported", "rejected")
    event(report.status)
    assert not any(m.message.startswith("Onverwachte fout") for m in report.errors), report.errors
    json.dumps(report.to_json_dict())
    report.messages_frame()
    report.problem_rows()
    for message in report.errors + report.warnings:
        assert isinstance(message.message, str) and message.message
        assert message.row is None or message.row >= 2
    if report.status == "rejected":
        assert report.errors
        assert snapshot(db, *tables) == before
        return
    assert report.errors == []
    assert report.inserted + report.updated + report.unchanged == report.rows
    undo_batch(db, ZORG, report.batch_id)
    assert snapshot(db, result_table) == {result_table: before[result_table]}
