"""The pupil roster (leerlingen) import against a real DuckDB file."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from dossier.access import AccessDenied, User
from dossier.db import Database
from pipelines.importer import run_import

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "voorbeelden"
BEHEERDER = User(id=21, username="ict", name="ICT Beheer", role="beheerder")
HEADER = "leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar,geslacht,instroomdatum,vertrekdatum"
ROSTER_TABLES = ("school_year", "class", "pupil", "enrolment")


def roster_csv() -> bytes:
    return (SAMPLES / "leerlingen.csv").read_bytes()


def roster_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(roster_csv().decode("utf-8-sig"))))


def roster_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def contents(db, tables=ROSTER_TABLES) -> dict[str, list[tuple]]:
    """Table contents without the creation timestamp, which differs between runs."""
    with db.cursor() as cur:
        out = {}
        for t in tables:
            cols = [
                c
                for (c,) in cur.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND column_name <> 'created_at'"
                    " ORDER BY column_index",
                    [t],
                ).fetchall()
            ]
            out[t] = cur.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        return out


def dmy(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso else ""


def belgian_excel(rows: list[dict[str, str]]) -> bytes:
    """What Belgian Excel writes: ';', Windows-1252, dd/mm/yyyy, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0].keys())
    for row in rows:
        writer.writerow(
            [dmy(v) if k in ("geboortedatum", "instroomdatum", "vertrekdatum") else v for k, v in row.items()]
        )
    return out.getvalue().encode("cp1252")


def xlsx(rows: list[dict[str, str]], leading_blank_rows: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(leading_blank_rows):
        sheet.append([])
    sheet.append([k.upper() if k == "naam" else k for k in rows[0]])  # header case does not matter
    for row in rows:
        cells = []
        for key, value in row.items():
            if key in ("geboortedatum", "instroomdatum", "vertrekdatum") and value:
                cells.append(date.fromisoformat(value))
            elif key in ("leerling_id", "leerjaar"):
                cells.append(int(value))
            else:
                cells.append(value or None)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_sample_roster_creates_years_classes_pupils_enrolments(db):
    rows = roster_rows()
    report = run_import(db, BEHEERDER, roster_csv(), "leerlingen.csv")
    assert report.status == "imported", report.errors
    assert report.format == "leerlingen"
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (len(rows), len(rows), 0, 0)
    assert report.warnings == []
    with db.cursor() as cur:
        years = cur.execute("SELECT name, start_date, end_date FROM school_year").fetchall()
        classes = cur.execute("SELECT name, level, grade, parallel FROM class ORDER BY name").fetchall()
        pupil = cur.execute(
            "SELECT first_name, last_name, birth_date, gender FROM pupil WHERE pupil_number = '24003'"
        ).fetchone()
        enrolled = cur.execute(
            "SELECT c.name FROM enrolment e JOIN pupil p ON p.id = e.pupil_id JOIN class c ON c.id = e.class_id"
            " WHERE p.pupil_number = '24021' AND e.school_year = '2024-2025'"
        ).fetchone()
        n_pupils = cur.execute("SELECT count(*) FROM pupil").fetchone()[0]
    assert years == [("2024-2025", date(2024, 9, 1), date(2025, 8, 31))]
    expected_classes = sorted({(r["klas"], r["niveau"], int(r["leerjaar"]), None) for r in rows})
    assert classes == expected_classes
    assert pupil == ("Jules", "Çelik", date(2020, 4, 16), "M")
    assert enrolled == ("L3A",)
    assert n_pupils == len(rows)


def test_reimport_is_unchanged_and_a_change_is_an_update_with_history(db):
    run_import(db, BEHEERDER, roster_csv(), "leerlingen.csv")
    before = contents(db)
    again = run_import(db, BEHEERDER, roster_csv(), "leerlingen.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(roster_rows()))
    assert contents(db) == before

    rows = roster_rows()
    rows[2]["naam"] = "Celik-Peeters"
    rows[5]["vertrekdatum"] = "2025-01-31"
    text = "\n".join([",".join(rows[0].keys())] + [",".join(r.values()) for r in rows]) + "\n"
    changed = run_import(db, BEHEERDER, text.encode(), "leerlingen-v2.csv")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 2, len(rows) - 2)
    with db.cursor() as cur:
        history = cur.execute(
            "SELECT entity, entity_key, before_values, after_values FROM import_change WHERE batch_id = ? ORDER BY 1",
            [changed.batch_id],
        ).fetchall()
        leave = cur.execute(
            "SELECT e.leave_date FROM enrolment e JOIN pupil p ON p.id = e.pupil_id WHERE p.pupil_number = ?",
            [rows[5]["leerling_id"]],
        ).fetchone()
    assert [h[0] for h in history] == ["enrolment", "pupil"]
    pupil_change = history[1]
    assert json.loads(pupil_change[1]) == {"pupil_number": rows[2]["leerling_id"]}
    assert json.loads(pupil_change[2])["last_name"] == "Çelik"
    assert json.loads(pupil_change[3])["last_name"] == "Celik-Peeters"
    assert leave == (date(2025, 1, 31),)


def test_belgian_excel_csv_imports_identically(tmp_path):
    reference = Database(tmp_path / "a.duckdb")
    belgian = Database(tmp_path / "b.duckdb")
    try:
        a = run_import(reference, BEHEERDER, roster_csv(), "leerlingen.csv")
        data = belgian_excel(roster_rows())
        assert b"\xc7elik" in data  # Windows-1252 'Ç'
        b = run_import(belgian, BEHEERDER, data, "leerlingen.csv")
        assert b.status == "imported", b.errors
        assert (a.inserted, a.warnings) == (b.inserted, b.warnings)
        assert contents(reference) == contents(belgian)
    finally:
        reference.close()
        belgian.close()


def test_xlsx_with_date_cells_imports_identically(tmp_path):
    reference = Database(tmp_path / "a.duckdb")
    workbook = Database(tmp_path / "b.duckdb")
    try:
        run_import(reference, BEHEERDER, roster_csv(), "leerlingen.csv")
        report = run_import(workbook, BEHEERDER, xlsx(roster_rows(), leading_blank_rows=2), "leerlingen.xlsx")
        assert report.status == "imported", report.errors
        assert report.rows == len(roster_rows())
        assert contents(reference) == contents(workbook)
    finally:
        reference.close()
        workbook.close()


def test_xlsx_errors_name_spreadsheet_rows(db):
    rows = roster_rows()[:3]
    rows[1]["niveau"] = "hoger"
    report = run_import(db, BEHEERDER, xlsx(rows, leading_blank_rows=1), "l.xlsx")
    assert report.status == "rejected"
    # blank row 1, header row 2, data rows 3-5: the second data row is row 4
    assert [(e.row, e.column, e.value) for e in report.errors] == [(4, "niveau", "hoger")]


def test_missing_required_column_rejects_the_file(db):
    header = HEADER.replace("geboortedatum,", "")
    report = run_import(
        db, BEHEERDER, roster_file("24001,Nora,Maes,2024-2025,K2B,kleuter,2,V,,", header=header), "x.csv"
    )
    assert report.status == "rejected" and report.format == "leerlingen"
    assert [(e.row, e.column, e.value) for e in report.errors] == [(None, "geboortedatum", None)]
    assert "ontbreekt" in report.errors[0].message
    assert contents(db)["pupil"] == []


def test_unknown_column_is_a_warning_and_ignored(db):
    header = HEADER + ",  Opmerking ZORG "
    report = run_import(
        db,
        BEHEERDER,
        roster_file("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,,let op", header=header),
        "x.csv",
    )
    assert report.status == "imported"
    assert [(w.row, w.column) for w in report.warnings] == [(None, "Opmerking ZORG")]
    assert "genegeerd" in report.warnings[0].message


def test_header_names_are_case_insensitive_and_columns_may_be_shuffled(db):
    header = " Klas ,NIVEAU,Leerjaar,leerling_id,Voornaam,naam,Geboortedatum,schooljaar"
    report = run_import(
        db,
        BEHEERDER,
        roster_file("  L1A , Lager ,1,24007,  Lina ,Wouters,15/04/2018,2024-2025", "", header=header),
        "x.csv",
    )
    assert report.status == "imported", report.errors
    with db.cursor() as cur:
        assert cur.execute("SELECT first_name, birth_date FROM pupil").fetchone() == ("Lina", date(2018, 4, 15))
        assert cur.execute("SELECT name, level FROM class").fetchone() == ("L1A", "lager")


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,4,V,,", "leerjaar", "verwacht 1 tot 3"),
        ("24001,Nora,Maes,2020-10-08,2024-2025,L7A,lager,7,V,,", "leerjaar", "verwacht 1 tot 6"),
        ("24001,Nora,Maes,2020-10-08,2024-2025,K2B,basis,2,V,,", "niveau", "kleuter, lager of secundair"),
        ("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,Q,,", "geslacht", "M, V of X"),
        ("24001,Nora,Maes,2020-10-08,2024-25,K2B,kleuter,2,V,,", "schooljaar", "2024-2025"),
        ("24001,Nora,Maes,2020-10-32,2024-2025,K2B,kleuter,2,V,,", "geboortedatum", "ongeldige datum"),
        ("24001,Nora,Maes,2099-01-01,2024-2025,K2B,kleuter,2,V,,", "geboortedatum", "toekomst"),
        ("24001,,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,", "voornaam", "verplicht"),
        ("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,2024-09-01,2024-08-31", "vertrekdatum", "instroomdatum"),
        ('24001,=HYPERLINK("x"),Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,', "voornaam", "formule"),
    ],
)
def test_row_rules(db, row, column, fragment):
    report = run_import(db, BEHEERDER, roster_file(row), "x.csv")
    assert report.status == "rejected"
    assert [(e.row, e.column) for e in report.errors] == [(2, column)], report.errors
    assert fragment in report.errors[0].message
    assert contents(db)["pupil"] == []


def test_duplicate_pupil_and_year_names_both_rows(db):
    row = "24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,"
    other = "24002,Nora,Aerts,2020-08-04,2024-2025,K2B,kleuter,2,M,,"
    report = run_import(db, BEHEERDER, roster_file(row, other, row), "x.csv")
    assert report.status == "rejected"
    assert [(e.row, e.column) for e in report.errors] == [(4, "leerling_id")]
    assert "rij 2" in report.errors[0].message and "rij 4" in report.errors[0].message


def test_one_class_with_two_grades_is_an_error(db):
    report = run_import(
        db,
        BEHEERDER,
        roster_file(
            "24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,",
            "24002,Nora,Aerts,2020-08-04,2024-2025,K2B,kleuter,3,M,,",
        ),
        "x.csv",
    )
    assert [(e.row, e.column) for e in report.errors] == [(3, "klas")]
    assert "rij 2" in report.errors[0].message


def test_pupil_over_two_years_and_class_names_without_regard_to_case(db):
    report = run_import(
        db,
        BEHEERDER,
        roster_file(
            "24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,",
            "24001,Nora,Maes,2020-10-08,2025-2026,k3b,kleuter,3,V,,",
            "24002,Lotte,Aerts,2020-08-04,2025-2026,K3B,kleuter,3,V,,",
        ),
        "x.csv",
    )
    assert report.status == "imported", report.errors
    with db.cursor() as cur:
        assert cur.execute("SELECT school_year, name FROM class ORDER BY 1").fetchall() == [
            ("2024-2025", "K2B"),
            ("2025-2026", "k3b"),
        ]
        assert cur.execute("SELECT count(*) FROM enrolment").fetchone()[0] == 3
    conflicting = run_import(
        db,
        BEHEERDER,
        roster_file(
            "24003,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,",
            "24003,Nora,Peeters,2020-10-08,2025-2026,K3B,kleuter,3,V,,",
        ),
        "y.csv",
    )
    assert [(e.row, e.column) for e in conflicting.errors] == [(3, "leerling_id")]


def test_absent_optional_columns_keep_stored_values(db):
    run_import(db, BEHEERDER, roster_file("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,2024-09-02,"), "a.csv")
    short = "leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar"
    report = run_import(
        db, BEHEERDER, roster_file("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2", header=short), "b.csv"
    )
    assert (report.status, report.unchanged) == ("imported", 1)
    with db.cursor() as cur:
        assert cur.execute("SELECT gender FROM pupil").fetchone() == ("V",)
        assert cur.execute("SELECT entry_date FROM enrolment").fetchone() == (date(2024, 9, 2),)
    cleared = run_import(db, BEHEERDER, roster_file("24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,,,"), "c.csv")
    assert cleared.updated == 1
    with db.cursor() as cur:
        assert cur.execute("SELECT gender FROM pupil").fetchone() == (None,)


def test_header_only_and_blank_lines(db):
    assert run_import(db, BEHEERDER, roster_file(), "x.csv").status == "rejected"
    report = run_import(
        db,
        BEHEERDER,
        roster_file(
            "",
            "24001,Nora,Maes,2020-10-08,2024-2025,K2B,kleuter,2,V,,",
            ",,, ",
            "24002,Lotte,Aerts,2020-13-04,2024-2025,K2B,kleuter,2,V,,",
        ),
        "x.csv",
    )
    # blank lines count as spreadsheet rows: the faulty pupil is on row 5
    assert [(e.row, e.column) for e in report.errors] == [(5, "geboortedatum")]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("beheerder", True), ("zorgteam", True), ("directie", True), ("leerkracht", False), ("clb", False)],
)
def test_roster_permission(db, role, allowed):
    user = User(id=3, username="u", name="U", role=role)
    if allowed:
        assert run_import(db, user, roster_csv(), "leerlingen.csv").status == "imported"
    else:
        with pytest.raises(AccessDenied):
            run_import(db, user, roster_csv(), "leerlingen.csv")
        assert contents(db)["pupil"] == []
