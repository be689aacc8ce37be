"""Welbevinden/betrokkenheid (Leuven scales) import through run_import against a real DuckDB file."""

from __future__ import annotations

import pytest
from hypothesis import given

from dossier.instruments import LEUVEN_SCORES, parse_leuven_score
from pipelines.formats.welbevinden import Welbevinden
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

NAME, TABLE = "welbevinden.csv", "wellbeing_result"
HEADER = header_of(NAME)
COLUMNS = HEADER.split(",")
GOOD = "2024-2025,2024-10-15,24001,K2B,welbevinden,5,hoekenwerk,juf,"
OTHER = cells(COLUMNS, "2024-2025,2024-10-15,24002,K2B,betrokkenheid,3+,kring,juf Ann,")

VALID = {
    **COMMON_VALID,
    "observatiedatum": ["2024-10-15", "15/10/2024"],
    "schaal": ["welbevinden", "Betrokkenheid"],
    "score": list(LEUVEN_SCORES) + ["3 +"],
}


def row(**changes: str) -> str:
    values = {**OTHER, **changes}
    return ",".join(values[c] for c in COLUMNS)


def stored(db, pupil_number: str) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(
            "SELECT r.observed_on::VARCHAR, r.scale, r.school_year, r.score_text, r.score, r.context, r.observer,"
            " r.remark, c.name FROM wellbeing_result r JOIN pupil p ON p.id = r.pupil_id"
            " LEFT JOIN class c ON c.id = r.class_id WHERE p.pupil_number = ? ORDER BY r.observed_on, r.scale",
            [pupil_number],
        ).fetchall()


def test_sample_imports_and_reimport_changes_nothing(school):
    check_sample_import_and_reimport(school, NAME, "welbevinden", TABLE)


def test_stored_values_and_class_of_the_observation_date(school):
    imported(school, sample(NAME), NAME)
    assert stored(school, "24002") == [
        ("2024-10-15", "betrokkenheid", "2024-2025", "3+", 3.5, "hoekenwerk", "juf", None, "K2B"),
        ("2024-10-15", "welbevinden", "2024-2025", "3+", 3.5, "hoekenwerk", "juf", None, "K2B"),
    ]


def test_every_score_on_the_scale_is_stored_as_text_and_number(school):
    days = [f"2024-10-{day:02d}" for day in range(1, len(LEUVEN_SCORES) + 1)]
    rows = [row(observatiedatum=d, score=s) for d, s in zip(days, LEUVEN_SCORES, strict=True)]
    rows.append(row(observatiedatum="2024-11-04", score="4 +"))  # a space is no different score
    imported(school, lines(HEADER, *rows), "schaal.csv")
    got = [(r[3], r[4]) for r in stored(school, "24002")]
    assert got == [(s, parse_leuven_score(s)) for s in LEUVEN_SCORES] + [("4+", 4.5)]
    assert [n for _, n in got[:-1]] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]


def test_changed_value_updates_and_keeps_history(school):
    first = imported(school, sample(NAME), NAME)
    report = imported(school, lines(HEADER, GOOD.replace(",5,", ",4+,") + "na ruzie"), "correctie.csv")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    [(action, before, after)] = history(school, report.batch_id)
    assert action == "updated"
    assert (before["score_text"], before["score"], before["remark"], before["import_batch_id"]) == (
        "5",
        5.0,
        None,
        first.batch_id,
    )
    assert (after["score_text"], after["score"], after["remark"]) == ("4+", 4.5, "na ruzie")


@pytest.mark.parametrize(
    ("changes", "column", "value", "fragment"),
    [
        ({"score": "5+"}, "score", "5+", "ongeldige score '5+': verwacht 1, 1+, 2, 2+, 3, 3+, 4, 4+ of 5"),
        ({"score": "0"}, "score", "0", "ongeldige score '0'"),
        ({"score": "3.5"}, "score", "3.5", "ongeldige score '3.5'"),
        ({"score": ""}, "score", None, "score is verplicht"),
        ({"schaal": "zelfvertrouwen"}, "schaal", "zelfvertrouwen", "verwacht welbevinden of betrokkenheid"),
        ({"schaal": ""}, "schaal", None, "schaal is verplicht"),
        ({"observatiedatum": ""}, "observatiedatum", None, "observatiedatum is verplicht"),
        ({"observatiedatum": "15/15/2024"}, "observatiedatum", "15/15/2024", "ongeldige datum '15/15/2024'"),
        ({"schooljaar": "2023-2024"}, "schooljaar", "2023-2024", "past niet bij observatiedatum 15/10/2024"),
        ({"leerling_id": "99999"}, "leerling_id", "99999", "leerling 99999 staat niet in de leerlingenlijst"),
        ({"opmerking": "=1+1"}, "opmerking", "=1+1", "lijkt een formule"),
    ],
)
def test_row_rules(school, changes, column, value, fragment):
    report = rejected(school, lines(HEADER, GOOD, row(**changes)))
    assert where(report.errors) == [(3, column, value)]
    assert fragment in report.errors[0].message
    assert count(school, TABLE) == 0


def test_enrolment_warning_keeps_the_observation(school):
    report = imported(school, lines(HEADER, GOOD, row(observatiedatum="2025-10-01", schooljaar="")), "w.csv")
    assert where(report.warnings) == [(3, "observatiedatum", "2025-10-01")]
    assert report.warnings[0].message == "leerling 24002 heeft geen inschrijving in schooljaar 2025-2026"
    assert stored(school, "24002")[0][2] == "2025-2026" and stored(school, "24002")[0][-1] is None


def test_duplicate_keys_name_both_rows(school):
    # 'Betrokkenheid' is the scale betrokkenheid: the same key as row 2.
    dup = row(schaal="Betrokkenheid", score="4")
    report = rejected(school, lines(HEADER, row(), GOOD, dup, row(schaal="welbevinden")))
    assert where(report.errors) == [(4, "leerling_id", "24002")]
    assert "rij 2 en rij 4 hebben dezelfde leerling_id, observatiedatum en schaal" in report.errors[0].message


@pytest.mark.parametrize("column", Welbevinden.required_names())
def test_missing_required_column_is_named(school, column):
    check_missing_required_column(school, NAME, "welbevinden", column)


def test_xlsx_with_real_date_cells_and_number_scores_stores_what_the_csv_stores(school):
    # Whole scores typed in Excel are number cells; 3+ stays a text cell.
    rows = sample_rows(NAME)
    assert {"3+", "4", "5"} <= {r["score"] for r in rows}
    book = xlsx(rows, dates=("observatiedatum",), numbers=("leerling_id", "score"))
    check_same_as(school, book, "welbevinden.xlsx", sample(NAME), TABLE)


def test_belgian_excel_csv_stores_what_the_csv_stores(school):
    rows = sample_rows(NAME)
    rows[0].update(observator="meester Çelik", opmerking="speelt graag met één vriendje")
    data = belgian_excel(rows, dates=("observatiedatum",))
    assert b";15/10/2024;" in data and "één".encode("cp1252") in data
    check_same_as(school, data, "welbevinden-excel.csv", as_csv(rows), TABLE)
    first = stored(school, rows[0]["leerling_id"])
    assert ("meester Çelik", "speelt graag met één vriendje") in [(r[6], r[7]) for r in first]


def test_dry_run_writes_nothing(school):
    check_dry_run(school, NAME, TABLE)


def test_undo_restores_the_table_exactly(school):
    correction = lines(
        HEADER,
        GOOD.replace(",5,", ",4,"),  # update
        GOOD.replace("2024-10-15", "2025-01-27"),  # new
    )
    check_undo(school, NAME, TABLE, correction)


@HOSTILE
@given(table=hostile_tables(COLUMNS, VALID))
def test_hostile_cells_give_a_report_never_an_exception(hostile_school, table):
    check_hostile(hostile_school, table, "welbevinden", TABLE)
