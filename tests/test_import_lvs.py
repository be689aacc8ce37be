"""LVS-VCLB import through run_import against a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dossier.access import AccessDenied, User
from dossier.db import set_setting
from pipelines.importer import run_import

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "voorbeelden"
ZORG = User(id=11, username="zorg", name="Zorg Coördinator", role="zorgteam")
HEADER = (
    "schooljaar,afnamedatum,leerling_id,klas,leerjaar,domein,afnamemoment,"
    "ruwe_score,max_score,percentiel,zone,opmerking"
)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def lvs_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def snapshot(
    db,
    tables=(
        "school_year",
        "class",
        "pupil",
        "enrolment",
        "lvs_result",
        "import_batch",
        "import_change",
        "import_insert",
    ),
):
    with db.cursor() as cur:
        return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


@pytest.fixture
def school(db):
    report = run_import(db, ZORG, sample("leerlingen.csv"), "leerlingen.csv")
    assert report.status == "imported", report.errors
    return db


def count(db, table: str) -> int:
    with db.cursor() as cur:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_sample_imports_and_reimport_changes_nothing(school):
    data = sample("lvs-vclb.csv")
    data_rows = len(data.decode().strip().splitlines()) - 1
    report = run_import(school, ZORG, data, "lvs-vclb.csv")
    assert report.status == "imported", report.errors
    assert report.format == "lvs-vclb"
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (data_rows, data_rows, 0, 0)
    assert report.errors == [] and report.batch_id is not None
    assert count(school, "lvs_result") == data_rows
    before = snapshot(school, ("lvs_result",))

    again = run_import(school, ZORG, data, "lvs-vclb.csv")
    assert (again.status, again.inserted, again.updated, again.unchanged) == ("imported", 0, 0, data_rows)
    assert snapshot(school, ("lvs_result",)) == before
    with school.cursor() as cur:
        batches = cur.execute("SELECT format, rows, inserted, unchanged FROM import_batch ORDER BY id").fetchall()
        changes = cur.execute("SELECT count(*) FROM import_change WHERE batch_id = ?", [again.batch_id]).fetchone()
        audit = cur.execute(
            "SELECT action, object, detail FROM audit_log WHERE action = 'import' ORDER BY id"
        ).fetchall()
    assert batches[-2:] == [("lvs-vclb", data_rows, data_rows, 0), ("lvs-vclb", data_rows, 0, data_rows)]
    assert changes == (0,)
    assert audit[-1][1] == f"import_batch:{again.batch_id}"
    assert "Maes" not in audit[-1][2] and str(data_rows) in audit[-1][2]


def test_stored_values_and_class_of_the_test_date(school):
    run_import(school, ZORG, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    with school.cursor() as cur:
        row = cur.execute(
            "SELECT r.test_date, r.grade, r.raw_score, r.max_score, r.percentile, r.zone, r.zone_derived, c.name"
            " FROM lvs_result r JOIN pupil p ON p.id = r.pupil_id JOIN class c ON c.id = r.class_id"
            " WHERE p.pupil_number = '24007' AND r.domain = 'wiskunde' AND r.moment = 'midden'"
        ).fetchone()
    assert str(row[0]) == "2025-02-04"
    assert row[1:] == (1, 2.0, 50.0, 5.0, "E", False, "L1A")


def test_changed_value_updates_and_keeps_history(school):
    run_import(school, ZORG, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    changed = lvs_file("2024-2025,2025-02-04,24007,L1A,1,wiskunde,midden,30,50,60,B,herkansing")
    report = run_import(school, ZORG, changed, "correctie.csv")
    assert (report.status, report.inserted, report.updated, report.unchanged) == ("imported", 0, 1, 0)
    with school.cursor() as cur:
        stored = cur.execute(
            "SELECT raw_score, percentile, zone, remark, import_batch_id FROM lvs_result r JOIN pupil p"
            " ON p.id = r.pupil_id WHERE p.pupil_number = '24007' AND domain = 'wiskunde' AND moment = 'midden'"
        ).fetchone()
        history = cur.execute(
            "SELECT action, before_values, after_values FROM import_change WHERE batch_id = ?", [report.batch_id]
        ).fetchall()
    assert stored == (30.0, 60.0, "B", "herkansing", report.batch_id)
    assert len(history) == 1 and history[0][0] == "updated"
    before, after = json.loads(history[0][1]), json.loads(history[0][2])
    assert (before["raw_score"], before["percentile"], before["zone"], before["remark"]) == (2.0, 5.0, "E", None)
    assert (after["raw_score"], after["percentile"], after["zone"]) == (30.0, 60.0, "B")


def test_error_file_reports_one_error_per_row_and_writes_nothing(school):
    before = snapshot(school)
    report = run_import(school, ZORG, sample("fouten-lvs-vclb.csv"), "fouten-lvs-vclb.csv")
    assert report.status == "rejected" and not report.unreadable
    assert report.batch_id is None and (report.inserted, report.updated, report.unchanged) == (0, 0, 0)
    got = [(m.row, m.column, m.value) for m in report.errors]
    assert got == [
        (2, "percentiel", "105"),
        (3, "zone", "F"),
        (4, "leerling_id", "99999"),
        (5, "afnamedatum", "31/02/2025"),
        (6, "domein", "rekenen"),
    ]
    messages = [m.message for m in report.errors]
    assert messages[0] == "percentiel moet tussen 0 en 100 liggen"
    assert messages[1] == "onbekende zone 'F': verwacht A, B, C, D of E"
    assert messages[2] == "leerling 99999 staat niet in de leerlingenlijst"
    assert messages[3] == "ongeldige datum '31/02/2025': verwacht dd/mm/jjjj of jjjj-mm-dd"
    assert "rekenen" in messages[4] and "begrijpend_lezen" in messages[4]
    assert snapshot(school) == before

    frame = report.messages_frame()
    assert list(frame.columns) == ["soort", "rij", "kolom", "waarde", "melding"]
    assert list(frame["soort"][: len(report.errors)]) == ["fout"] * len(report.errors)
    problems = report.problem_rows()
    assert list(problems.index) == [2, 3, 4, 5, 6]
    assert problems.loc[5, "afnamedatum"] == "31/02/2025"
    assert "ongeldige datum" in problems.loc[5, "fout"]


def test_zone_derived_from_percentile_with_default_bands(school):
    rows = [
        f"2024-2025,2024-10-08,24007,L1A,1,{domain},begin,,,{p},,"
        for domain, p in (("wiskunde", 75), ("spelling", 74.5), ("technisch_lezen", 11), ("begrijpend_lezen", 10))
    ]
    report = run_import(school, ZORG, lvs_file(*rows), "zones.csv")
    assert report.status == "imported", report.errors
    with school.cursor() as cur:
        got = dict(cur.execute("SELECT domain, zone FROM lvs_result WHERE zone_derived").fetchall())
    assert got == {"wiskunde": "A", "spelling": "B", "technisch_lezen": "D", "begrijpend_lezen": "E"}


def test_school_band_table_overrides_default(school):
    school.write(lambda cur: set_setting(cur, "zone_bands", json.dumps({"A": 80, "B": 60, "C": 30, "D": 15})))
    report = run_import(school, ZORG, lvs_file("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,,,76,,"), "z.csv")
    assert report.status == "imported", report.errors
    with school.cursor() as cur:
        assert cur.execute("SELECT zone, zone_derived FROM lvs_result").fetchone() == ("B", True)


def test_zone_contradicting_percentile_is_a_warning_and_kept(school):
    report = run_import(school, ZORG, lvs_file("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,30,A,"), "z.csv")
    assert report.status == "imported"
    assert [(w.row, w.column, w.value) for w in report.warnings] == [(2, "zone", "A")]
    assert "zone C" in report.warnings[0].message
    with school.cursor() as cur:
        assert cur.execute("SELECT zone, zone_derived FROM lvs_result").fetchone() == ("A", False)


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("2023-2024,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,", "schooljaar", "2024-2025"),
        ("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,,,,,", "percentiel", "percentiel of een zone"),
        ("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,60,50,45,C,", "ruwe_score", "max_score"),
        ("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,-1,50,45,C,", "ruwe_score", "minstens 0"),
        ("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,abc,C,", "percentiel", "getal"),
        ("2024-2025,2024-10-08,24007,L1A,1,wiskunde,later,22,50,45,C,", "afnamemoment", "begin, midden of eind"),
        ("2024-2025,2024-10-08,24007,L1A,drie,wiskunde,begin,22,50,45,C,", "leerjaar", "geheel getal"),
        ("2024-2025,,24007,L1A,1,wiskunde,begin,22,50,45,C,", "afnamedatum", "verplicht"),
        ("2024/2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,", "schooljaar", "ongeldig schooljaar"),
        ("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,=cmd|' /C calc'!A0", "opmerking", "formule"),
    ],
)
def test_row_rules(school, row, column, fragment):
    report = run_import(school, ZORG, lvs_file(row), "r.csv")
    assert report.status == "rejected"
    assert len(report.errors) == 1, report.errors
    error = report.errors[0]
    assert (error.row, error.column) == (2, column)
    assert fragment in error.message
    assert count(school, "lvs_result") == 0


def test_duplicate_keys_name_both_rows(school):
    row = "2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,"
    other = "2024-2025,2024-10-08,24008,L1A,1,wiskunde,begin,22,50,45,C,"
    # Same key even though one row leaves schooljaar empty: it is taken from the date.
    report = run_import(school, ZORG, lvs_file(row, other, row.replace("2024-2025,", ",", 1)), "d.csv")
    assert report.status == "rejected"
    assert [(e.row, e.column) for e in report.errors] == [(4, "leerling_id")]
    assert "rij 2" in report.errors[0].message and "rij 4" in report.errors[0].message


def test_enrolment_and_moment_warnings(school):
    school.write(
        lambda cur: cur.execute(
            "UPDATE enrolment SET leave_date = DATE '2024-12-20'"
            " WHERE pupil_id = (SELECT id FROM pupil WHERE pupil_number = '24008')"
        )
    )
    rows = (
        "2024-2025,2025-02-04,24008,L1A,1,wiskunde,midden,22,50,45,C,",  # left before the test
        "2025-2026,2025-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,",  # no enrolment that year
        "2024-2025,2025-02-04,24009,L1A,1,wiskunde,begin,22,50,45,C,",  # 'begin' in February
    )
    report = run_import(school, ZORG, lvs_file(*rows), "w.csv")
    assert report.status == "imported", report.errors
    got = {(w.row, w.column) for w in report.warnings}
    assert got == {(2, "afnamedatum"), (3, "afnamedatum"), (4, "afnamemoment")}
    texts = {w.row: w.message for w in report.warnings}
    assert "vertrokken" in texts[2] and "20/12/2024" in texts[2]
    assert "2025-2026" in texts[3]
    assert "september-oktober" in texts[4]
    with school.cursor() as cur:
        classes = dict(
            cur.execute(
                "SELECT p.pupil_number, r.class_id IS NOT NULL FROM lvs_result r JOIN pupil p ON p.id = r.pupil_id"
            ).fetchall()
        )
    assert classes == {"24008": True, "24007": False, "24009": True}


def test_dry_run_reports_the_same_counts_and_writes_nothing(school):
    before = snapshot(school)
    with school.cursor() as cur:
        sequences = cur.execute("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1").fetchall()
    dry = run_import(school, ZORG, sample("lvs-vclb.csv"), "lvs-vclb.csv", dry_run=True)
    assert dry.status == "dry-run" and dry.batch_id is None
    assert snapshot(school) == before
    with school.cursor() as cur:
        assert (
            cur.execute("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1").fetchall() == sequences
        )
    real = run_import(school, ZORG, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    assert (dry.rows, dry.inserted, dry.updated, dry.unchanged) == (
        real.rows,
        real.inserted,
        real.updated,
        real.unchanged,
    )


def test_progress_is_reported(school):
    seen = []
    run_import(school, ZORG, sample("lvs-vclb.csv"), "lvs-vclb.csv", progress=lambda f, label: seen.append((f, label)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(isinstance(label, str) and label for _, label in seen)


@pytest.mark.parametrize("role", ["beheerder", "leerkracht", "clb"])
def test_only_zorgteam_and_directie_import_results(school, role):
    user = User(id=5, username="x", name="X", role=role)
    with pytest.raises(AccessDenied):
        run_import(school, user, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    assert count(school, "lvs_result") == 0


def test_directie_may_import_results(school):
    user = User(id=6, username="dir", name="Directie", role="directie")
    assert run_import(school, user, sample("lvs-vclb.csv"), "lvs-vclb.csv").status == "imported"
