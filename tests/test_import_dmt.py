"""DMT import through run_import against a real DuckDB file with the sample roster."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from dossier.db import set_setting
from pipelines.formats.dmt import Dmt
from tests.result_imports import (  # noqa: F401  (fixtures: a copy of one prepared school per test)
    COMMON_VALID,
    HOSTILE,
    as_csv,
    belgian_excel,
    cells,
    check_dry_run,
    check_hostile,
    check_missing_required_column,
    check_same_as,
    check_sample_import_and_reimport,
    check_undo,
    count,
    header_of,
    history,
    hostile_school_fixture,
    hostile_tables,
    imported,
    lines,
    rejected,
    roster_template_fixture,
    sample,
    sample_rows,
    school_fixture,
    where,
    xlsx,
)

NAME, TABLE = "dmt.csv", "dmt_result"
HEADER = header_of(NAME)
COLUMNS = HEADER.split(",")
GOOD = "2024-2025,2025-01-21,24013,L2A,2,midden,A,40,3,46,0,39,4,LVS-taal,70,B"
OTHER = cells(COLUMNS, "2024-2025,2025-01-21,24014,L2A,2,midden,A,53,3,45,2,39,3,LVS-taal,30,C")
COUNTS = ("kaart1_correct", "kaart1_fouten", "kaart2_correct", "kaart2_fouten", "kaart3_correct", "kaart3_fouten")

VALID = {
    **COMMON_VALID,
    "afnamedatum": ["2025-01-21", "21/01/2025"],
    **{c: ["0", "40", "150", "3"] for c in COUNTS},
    "percentiel": ["0", "72,5", "100"],
    "zone": ["A", "c", "E"],
}


def row(**changes: str) -> str:
    values = {**OTHER, **changes}
    return ",".join(values[c] for c in COLUMNS)


def stored(db, pupil_number: str) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(
            "SELECT r.school_year, r.moment, r.test_date::VARCHAR, r.grade, r.version, r.card1_correct, r.card1_errors,"
            " r.card2_correct, r.card2_errors, r.card3_correct, r.card3_errors, r.norm_set, r.percentile, r.zone,"
            " c.name FROM dmt_result r JOIN pupil p ON p.id = r.pupil_id LEFT JOIN class c ON c.id = r.class_id"
            " WHERE p.pupil_number = ? ORDER BY r.school_year, r.moment",
            [pupil_number],
        ).fetchall()


def test_sample_imports_and_reimport_changes_nothing(school):
    check_sample_import_and_reimport(school, NAME, "dmt", TABLE)


def test_stored_values_and_class_of_the_test_date(school):
    imported(school, sample(NAME), NAME)
    assert stored(school, "24013") == [
        ("2024-2025", "midden", "2025-01-21", 2, "A", 40, 3, 46, 0, 39, 4, "LVS-taal", 70.0, "B", "L2A")
    ]


def test_changed_value_updates_and_keeps_history(school):
    first = imported(school, sample(NAME), NAME)
    report = imported(school, lines(HEADER, GOOD.replace(",40,3,", ",44,1,").replace(",70,B", ",80,A")), "c.csv")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    assert stored(school, "24013")[0][5:7] == (44, 1) and stored(school, "24013")[0][12:14] == (80.0, "A")
    [(action, before, after)] = history(school, report.batch_id)
    assert action == "updated"
    assert (before["card1_correct"], before["card1_errors"], before["percentile"], before["zone"]) == (40, 3, 70.0, "B")
    assert before["import_batch_id"] == first.batch_id
    assert (after["card1_correct"], after["zone"], after["import_batch_id"]) == (44, "A", report.batch_id)


@pytest.mark.parametrize("column", COUNTS)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("151", "moet tussen 0 en 150 liggen"),
        ("-1", "moet tussen 0 en 150 liggen"),
        ("4.5", "moet een geheel getal zijn, niet '4.5'"),
        ("veel", "moet een geheel getal zijn, niet 'veel'"),
    ],
)
def test_counts_are_whole_numbers_from_0_to_150(school, column, value, fragment):
    report = rejected(school, lines(HEADER, GOOD, row(**{column: value})))
    assert where(report.errors) == [(3, column, value)]
    assert report.errors[0].message == f"{column} {fragment}"


def test_count_bounds_are_allowed(school):
    report = imported(school, lines(HEADER, row(kaart1_correct="0", kaart2_correct="150", kaart3_correct="")), "b.csv")
    assert report.inserted == 1
    assert stored(school, "24014")[0][5:11] == (0, 3, 150, 2, None, 3)


@pytest.mark.parametrize(
    ("changes", "column", "value", "fragment"),
    [
        (
            {"kaart1_correct": "", "kaart2_correct": "", "kaart3_correct": ""},
            "kaart1_correct",
            None,
            "vul minstens kaart1_correct, kaart2_correct of kaart3_correct in",
        ),
        ({"percentiel": "101"}, "percentiel", "101", "percentiel moet tussen 0 en 100 liggen"),
        ({"zone": "F"}, "zone", "F", "onbekende zone 'F': verwacht A, B, C, D of E"),
        ({"afnamemoment": "later"}, "afnamemoment", "later", "verwacht begin, midden of eind"),
        ({"leerjaar": "0"}, "leerjaar", "0", "leerjaar moet tussen 1 en 7 liggen"),
        ({"leerjaar": ""}, "leerjaar", None, "leerjaar is verplicht"),
        ({"schooljaar": "2025-2026"}, "schooljaar", "2025-2026", "dat is schooljaar 2024-2025"),
        ({"leerling_id": "99999"}, "leerling_id", "99999", "leerling 99999 staat niet in de leerlingenlijst"),
        ({"afnamedatum": "2025-13-01"}, "afnamedatum", "2025-13-01", "ongeldige datum '2025-13-01'"),
        ({"normset": "@norm"}, "normset", "@norm", "lijkt een formule"),
    ],
)
def test_row_rules(school, changes, column, value, fragment):
    report = rejected(school, lines(HEADER, GOOD, row(**changes)))
    assert where(report.errors) == [(3, column, value)]
    assert fragment in report.errors[0].message
    assert count(school, TABLE) == 0


def test_one_card_is_enough(school):
    report = imported(school, lines(HEADER, row(kaart1_correct="", kaart2_correct="", kaart3_correct="41")), "k.csv")
    assert report.inserted == 1 and report.errors == []


def test_zone_derived_from_percentile_when_missing(school):
    rows = [
        row(leerling_id=n, percentiel=p, zone="")
        for n, p in (("24013", "75"), ("24014", "74.5"), ("24015", "11"), ("24016", "10"))
    ]
    rows.append(row(leerling_id="24017", percentiel="", zone=""))  # neither: stored without zone
    report = imported(school, lines(HEADER, *rows), "z.csv")
    assert report.warnings == []
    zones = {n: stored(school, n)[0][13] for n in ("24013", "24014", "24015", "24016", "24017")}
    assert zones == {"24013": "A", "24014": "B", "24015": "D", "24016": "E", "24017": None}


def test_school_band_table_is_used(school):
    school.write(lambda cur: set_setting(cur, "zone_bands", json.dumps({"A": 80, "B": 60, "C": 30, "D": 15})))
    imported(school, lines(HEADER, row(percentiel="76", zone="")), "z.csv")
    assert stored(school, "24014")[0][13] == "B"


def test_zone_contradicting_percentile_is_a_warning_and_kept(school):
    report = imported(school, lines(HEADER, GOOD, row(percentiel="30", zone="A")), "z.csv")
    assert where(report.warnings) == [(3, "zone", "A")]
    assert report.warnings[0].message == "zone A past niet bij percentiel 30: volgens de zonegrenzen is dat zone C"
    assert stored(school, "24014")[0][12:14] == (30.0, "A")


def test_enrolment_and_moment_warnings_keep_the_result(school):
    rows = (
        GOOD,
        row(afnamemoment="begin"),  # 'begin' in January
        row(leerling_id="24015", schooljaar="2025-2026", afnamedatum="2025-10-08", afnamemoment="begin"),
    )
    report = imported(school, lines(HEADER, *rows), "w.csv")
    assert where(report.warnings) == [(3, "afnamemoment", "begin"), (4, "afnamedatum", "2025-10-08")]
    assert "begin valt normaal in september-oktober" in report.warnings[0].message
    assert report.warnings[1].message == "leerling 24015 heeft geen inschrijving in schooljaar 2025-2026"
    assert stored(school, "24015")[0][-1] is None


def test_duplicate_keys_name_both_rows(school):
    # schooljaar left empty is taken from the date: still the same key as row 2.
    dup = row(schooljaar="", afnamedatum="2025-02-03", kaart1_correct="50")
    report = rejected(school, lines(HEADER, row(), GOOD, dup, row(afnamemoment="eind", afnamedatum="2025-06-02")))
    assert where(report.errors) == [(4, "leerling_id", "24014")]
    assert "rij 2 en rij 4 hebben dezelfde leerling_id, schooljaar en afnamemoment" in report.errors[0].message


@pytest.mark.parametrize("column", Dmt.required_names())
def test_missing_required_column_is_named(school, column):
    check_missing_required_column(school, NAME, "dmt", column)


def test_file_without_schooljaar_column_derives_it(school):
    rows = [{k: v for k, v in r.items() if k != "schooljaar"} for r in sample_rows(NAME)]
    report = imported(school, as_csv(rows), "zonder-schooljaar.csv")
    assert report.inserted == len(rows) and report.warnings == []
    again = imported(school, sample(NAME), NAME)
    assert again.unchanged == len(rows)


def test_xlsx_with_real_date_cells_stores_what_the_csv_stores(school):
    numbers = ("leerling_id", "leerjaar", "percentiel", *COUNTS)
    book = xlsx(sample_rows(NAME), dates=("afnamedatum",), numbers=numbers)
    check_same_as(school, book, "dmt.xlsx", sample(NAME), TABLE)


def test_belgian_excel_csv_stores_what_the_csv_stores(school):
    rows = sample_rows(NAME)
    rows[0]["percentiel"] = "72.5"
    rows[0]["normset"] = "LVS-taal (geüpdatet)"
    data = belgian_excel(rows, dates=("afnamedatum",), decimals=("percentiel",))
    assert b";21/01/2025;" in data and b";72,5;" in data
    check_same_as(school, data, "dmt-excel.csv", as_csv(rows), TABLE)
    first = stored(school, rows[0]["leerling_id"])[0]
    assert (first[11], first[12]) == ("LVS-taal (geüpdatet)", 72.5)


def test_dry_run_writes_nothing(school):
    check_dry_run(school, NAME, TABLE)


def test_undo_restores_the_table_exactly(school):
    correction = lines(
        HEADER,
        GOOD.replace(",70,B", ",75,A"),  # update
        GOOD.replace("2025-01-21", "2025-06-05").replace("midden", "eind"),  # new
    )
    check_undo(school, NAME, TABLE, correction)


@HOSTILE
@given(table=hostile_tables(COLUMNS, VALID))
def test_hostile_cells_give_a_report_never_an_exception(hostile_school, table):
    check_hostile(hostile_school, table, "dmt", TABLE)
