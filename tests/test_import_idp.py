"""IDP import through run_import against a real DuckDB file with the sample roster."""

from __future__ import annotations

import pytest
from hypothesis import given

from pipelines.formats.idp import Idp
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

NAME, TABLE = "idp.csv", "idp_result"
HEADER = header_of(NAME)
COLUMNS = HEADER.split(",")
GOOD = "2024-2025,2025-05-20,24031,L4A,IDP4,wiskunde,getallenkennis,12,20,60,69"
OTHER = cells(COLUMNS, "2024-2025,2025-05-20,24032,L4A,IDP4,wiskunde,meetkunde,6,15,40,75")

VALID = {
    **COMMON_VALID,
    "afnamedatum": ["2025-05-20", "20/05/2025"],
    "proef": ["IDP4", "idp 6"],
    "leergebied": ["wiskunde", "Mens & maatschappij", "frans"],
    "onderdeel": ["meetkunde", "lezen"],
    "score": ["0", "12", "12,5", "20"],
    "max_score": ["20", "15"],
    "percentage": ["60", "62,5", "100"],
    "referentiegroep_percentage": ["69", "0"],
}


def row(**changes: str) -> str:
    values = {**OTHER, **changes}
    return ",".join(values[c] for c in COLUMNS)


def stored(db, pupil_number: str) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(
            "SELECT r.test, r.school_year, r.area, r.part, r.test_date::VARCHAR, r.score, r.max_score, r.percentage,"
            " r.reference_percentage, c.name FROM idp_result r JOIN pupil p ON p.id = r.pupil_id"
            " LEFT JOIN class c ON c.id = r.class_id WHERE p.pupil_number = ? ORDER BY r.area, r.part",
            [pupil_number],
        ).fetchall()


def test_sample_imports_and_reimport_changes_nothing(school):
    check_sample_import_and_reimport(school, NAME, "idp", TABLE)


def test_stored_values_and_class_of_the_test_date(school):
    imported(school, sample(NAME), NAME)
    got = stored(school, "24037")
    assert len(got) == 4
    assert got[0] == ("IDP6", "2024-2025", "nederlands", "lezen", "2025-06-10", 17.0, 20.0, 85.0, 71.0, "L6A")


def test_changed_value_updates_and_keeps_history(school):
    first = imported(school, sample(NAME), NAME)
    report = imported(school, lines(HEADER, GOOD.replace(",12,20,60,", ",14,20,70,")), "correctie.csv")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    [(action, before, after)] = history(school, report.batch_id)
    assert action == "updated"
    assert (before["score"], before["percentage"], before["import_batch_id"]) == (12.0, 60.0, first.batch_id)
    assert (after["score"], after["percentage"], after["import_batch_id"]) == (14.0, 70.0, report.batch_id)


def test_codes_are_recognised_in_common_spellings(school):
    rows = (
        row(proef="idp 4", leergebied="Wiskunde"),
        row(proef="IDP-4", leergebied="Wetenschappen en techniek", onderdeel="natuur"),
        row(proef="Idp4", leergebied="mens & maatschappij", onderdeel="tijd"),
    )
    report = imported(school, lines(HEADER, *rows), "s.csv")
    assert report.errors == [] and report.inserted == 3
    assert [(r[0], r[2]) for r in stored(school, "24032")] == [
        ("IDP4", "mens_maatschappij"),
        ("IDP4", "wetenschappen_techniek"),
        ("IDP4", "wiskunde"),
    ]


@pytest.mark.parametrize(
    ("changes", "column", "value", "fragment"),
    [
        ({"proef": "IDP5"}, "proef", "IDP5", "verwacht IDP4 of IDP6"),
        ({"leergebied": "rekenen"}, "leergebied", "rekenen", "verwacht wiskunde, nederlands, frans"),
        ({"onderdeel": ""}, "onderdeel", None, "onderdeel is verplicht"),
        ({"score": ""}, "score", None, "score is verplicht"),
        ({"score": "16"}, "score", "16", "score '16' is groter dan max_score"),
        ({"score": "-1"}, "score", "-1", "score moet minstens 0 zijn"),
        ({"score": "zes"}, "score", "zes", "score moet een getal zijn"),
        ({"max_score": "0"}, "max_score", "0", "max_score moet groter zijn dan 0"),
        ({"max_score": ""}, "max_score", None, "max_score is verplicht"),
        ({"percentage": "101"}, "percentage", "101", "percentage moet tussen 0 en 100 liggen"),
        ({"referentiegroep_percentage": "-5"}, "referentiegroep_percentage", "-5", "moet tussen 0 en 100 liggen"),
        ({"schooljaar": "2023-2024"}, "schooljaar", "2023-2024", "dat is schooljaar 2024-2025"),
        ({"leerling_id": "99999"}, "leerling_id", "99999", "leerling 99999 staat niet in de leerlingenlijst"),
        ({"leerling_id": "240 32"}, "leerling_id", "240 32", "mag geen spaties bevatten"),
        ({"afnamedatum": "20-05"}, "afnamedatum", "20-05", "ongeldige datum '20-05'"),
        ({"onderdeel": "+meetkunde"}, "onderdeel", "+meetkunde", "lijkt een formule"),
    ],
)
def test_row_rules(school, changes, column, value, fragment):
    report = rejected(school, lines(HEADER, GOOD, row(**changes)))
    assert where(report.errors) == [(3, column, value)]
    assert fragment in report.errors[0].message
    assert count(school, TABLE) == 0


def test_score_equal_to_max_and_zero_are_allowed(school):
    report = imported(
        school, lines(HEADER, row(score="15", percentage="100"), GOOD.replace(",12,20,60,", ",0,20,0,")), "b.csv"
    )
    assert report.inserted == 2 and report.warnings == []


def test_percentage_off_by_more_than_a_point_is_a_warning_and_kept(school):
    rows = (
        GOOD,
        row(score="10", max_score="15", percentage="66"),  # 66.7: within a point
        row(onderdeel="getallenkennis", score="8", max_score="20", percentage="45"),  # 40
        row(onderdeel="lezen", leergebied="nederlands", score="12.5", max_score="15", percentage="82"),  # 83.3
    )
    report = imported(school, lines(HEADER, *rows), "p.csv")
    assert where(report.warnings) == [(4, "percentage", "45"), (5, "percentage", "82")]
    assert report.warnings[0].message == "percentage 45 past niet bij score 8 op 20: dat is 40 %"
    assert report.warnings[1].message == "percentage 82 past niet bij score 12,5 op 15: dat is 83,3 %"
    assert sorted(r[7] for r in stored(school, "24032")) == [45.0, 66.0, 82.0]


def test_missing_percentage_is_computed(school):
    report = imported(school, lines(HEADER, row(score="10", max_score="15", percentage="")), "p.csv")
    assert report.warnings == []
    assert stored(school, "24032")[0][5:8] == (10.0, 15.0, round(100 * 10 / 15, 1))


def test_enrolment_warning_keeps_the_result(school):
    school.write(
        lambda cur: cur.execute(
            "UPDATE enrolment SET entry_date = DATE '2025-06-01'"
            " WHERE pupil_id = (SELECT id FROM pupil WHERE pupil_number = '24032')"
        )
    )
    report = imported(school, lines(HEADER, GOOD, row()), "w.csv")
    assert where(report.warnings) == [(3, "afnamedatum", "2025-05-20")]
    assert report.warnings[0].message == "leerling 24032 was op 20/05/2025 nog niet ingeschreven (instroom 01/06/2025)"
    assert count(school, TABLE) == 2


def test_duplicate_keys_name_both_rows(school):
    # 'IDP 4' is IDP4 and an empty schooljaar is the date's: the same key as row 2.
    dup = row(proef="IDP 4", schooljaar="", score="7")
    report = rejected(school, lines(HEADER, row(), GOOD, dup, row(onderdeel="ruimte")))
    assert where(report.errors) == [(4, "leerling_id", "24032")]
    assert "rij 2 en rij 4 hebben dezelfde leerling_id, proef, schooljaar, leergebied en onderdeel" in (
        report.errors[0].message
    )


@pytest.mark.parametrize("column", Idp.required_names())
def test_missing_required_column_is_named(school, column):
    check_missing_required_column(school, NAME, "idp", column)


def test_xlsx_with_real_date_cells_stores_what_the_csv_stores(school):
    numbers = ("leerling_id", "score", "max_score", "percentage", "referentiegroep_percentage")
    book = xlsx(sample_rows(NAME), dates=("afnamedatum",), numbers=numbers)
    check_same_as(school, book, "idp.xlsx", sample(NAME), TABLE)


def test_belgian_excel_csv_stores_what_the_csv_stores(school):
    rows = sample_rows(NAME)
    rows[0].update(score="12.5", percentage="62.5", onderdeel="getallenkennis en bewerkingen (één)")
    data = belgian_excel(rows, dates=("afnamedatum",), decimals=("score", "percentage"))
    assert b";20/05/2025;" in data and b";12,5;20;62,5;" in data
    check_same_as(school, data, "idp-excel.csv", as_csv(rows), TABLE)
    first = [r for r in stored(school, rows[0]["leerling_id"]) if r[3].startswith("getallenkennis")]
    assert [(r[3], r[5], r[7]) for r in first] == [("getallenkennis en bewerkingen (één)", 12.5, 62.5)]


def test_dry_run_writes_nothing(school):
    check_dry_run(school, NAME, TABLE)


def test_undo_restores_the_table_exactly(school):
    correction = lines(
        HEADER,
        GOOD.replace(",12,20,60,", ",13,20,65,"),  # update
        GOOD.replace("getallenkennis", "bewerkingen"),  # new
    )
    check_undo(school, NAME, TABLE, correction)


@HOSTILE
@given(table=hostile_tables(COLUMNS, VALID))
def test_hostile_cells_give_a_report_never_an_exception(hostile_school, table):
    check_hostile(hostile_school, table, "idp", TABLE)
