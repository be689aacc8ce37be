"""AVI import through run_import against a real DuckDB file with the sample roster."""

from __future__ import annotations

import pytest
from hypothesis import given

from dossier.instruments import AVI_LEVELS, AVI_RANK
from pipelines.formats.avi import Avi
from tests.result_imports import (  # noqa: F401  (fixtures: a copy of one prepared school per test)
    COMMON_VALID,
    HOSTILE,
    as_csv,
    belgian_excel,
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

NAME, TABLE = "avi.csv", "avi_result"
HEADER = header_of(NAME)
COLUMNS = HEADER.split(",")
GOOD = "2024-2025,2025-02-11,24007,L1A,1,midden,AVI-Start,67,4,instructie,AVI-Start,zorgco"
OTHER = {
    "schooljaar": "2024-2025",
    "afnamedatum": "2025-02-11",
    "leerling_id": "24008",
    "klas": "L1A",
    "leerjaar": "1",
    "afnamemoment": "midden",
    "avi_kaart": "M3",
    "leestijd_sec": "61",
    "fouten": "2",
    "kaart_resultaat": "beheersing",
    "avi_niveau_behaald": "M3",
    "afgenomen_door": "zorgco",
}

VALID = {
    **COMMON_VALID,
    "afnamedatum": ["2025-02-11", "11/02/2025", "2025-06-12"],
    "avi_kaart": ["M3", "avi-e4", "AVI Start", "plus"],
    "avi_niveau_behaald": ["E3", "m5", "AVI-Plus"],
    "leestijd_sec": ["67", "67,5", "0"],
    "fouten": ["0", "4", "3.0"],
    "kaart_resultaat": ["beheersing", "Instructie", "frustratie"],
}


def row(**changes: str) -> str:
    values = {**OTHER, **changes}
    return ",".join(values[c] for c in COLUMNS)


def stored(db, pupil_number: str) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(
            "SELECT r.card, r.level_achieved, r.level_rank, r.school_year, r.grade, r.moment, r.reading_time_sec,"
            " r.errors, r.card_result, r.administered_by, c.name FROM avi_result r JOIN pupil p ON p.id = r.pupil_id"
            " LEFT JOIN class c ON c.id = r.class_id WHERE p.pupil_number = ? ORDER BY r.test_date, r.card",
            [pupil_number],
        ).fetchall()


def test_sample_imports_and_reimport_changes_nothing(school):
    check_sample_import_and_reimport(school, NAME, "avi", TABLE)


def test_stored_values_level_rank_and_class_of_the_test_date(school):
    imported(school, sample(NAME), NAME)
    assert stored(school, "24009") == [
        ("M3", "AVI-Start", 0, "2024-2025", 1, "midden", 130.0, 6, "instructie", "zorgco", "L1A")
    ]
    assert stored(school, "24036")[0][:3] == ("E6", "E6", AVI_LEVELS.index("E6"))
    with school.cursor() as cur:
        pairs = cur.execute("SELECT level_achieved, level_rank FROM avi_result").fetchall()
    assert pairs and all(AVI_LEVELS[rank] == level for level, rank in pairs)


def test_level_spellings_are_normalised_and_share_the_key(school):
    spellings = [
        row(leerling_id="24007", avi_kaart="AVI-M3", avi_niveau_behaald="avi start"),
        row(leerling_id="24008", avi_kaart="e3", avi_niveau_behaald="AVI-E3"),
        row(leerling_id="24009", avi_kaart="avi plus", avi_niveau_behaald="Plus"),
    ]
    report = imported(school, lines(HEADER, *spellings), "spellingen.csv")
    assert report.inserted == 3 and report.errors == []
    got = {n: stored(school, n)[0][:3] for n in ("24007", "24008", "24009")}
    assert got == {
        "24007": ("M3", "AVI-Start", AVI_RANK["AVI-Start"]),
        "24008": ("E3", "E3", AVI_RANK["E3"]),
        "24009": ("AVI-Plus", "AVI-Plus", AVI_RANK["AVI-Plus"]),
    }
    # The same card in the canonical spelling is the same row, not a new one.
    canonical = [
        row(leerling_id="24007", avi_kaart="M3", avi_niveau_behaald="AVI-Start"),
        row(leerling_id="24008", avi_kaart="E3", avi_niveau_behaald="E3"),
        row(leerling_id="24009", avi_kaart="AVI-Plus", avi_niveau_behaald="AVI-Plus"),
    ]
    again = imported(school, lines(HEADER, *canonical), "canoniek.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_changed_value_updates_and_keeps_history(school):
    first = imported(school, sample(NAME), NAME)
    changed = lines(HEADER, "2024-2025,2025-02-11,24009,L1A,1,midden,M3,98,2,beheersing,M3,juf Els")
    report = imported(school, changed, "correctie.csv")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    assert stored(school, "24009") == [
        ("M3", "M3", 1, "2024-2025", 1, "midden", 98.0, 2, "beheersing", "juf Els", "L1A")
    ]
    [(action, before, after)] = history(school, report.batch_id)
    assert action == "updated"
    assert (before["level_achieved"], before["level_rank"], before["reading_time_sec"], before["errors"]) == (
        "AVI-Start",
        0,
        130.0,
        6,
    )
    assert (before["card_result"], before["administered_by"], before["import_batch_id"]) == (
        "instructie",
        "zorgco",
        first.batch_id,
    )
    assert (after["level_achieved"], after["level_rank"], after["import_batch_id"]) == ("M3", 1, report.batch_id)


@pytest.mark.parametrize(
    ("changes", "column", "fragment"),
    [
        ({"avi_kaart": "AVI-M8"}, "avi_kaart", "onbekend AVI-niveau 'AVI-M8': verwacht AVI-Start, M3"),
        ({"avi_niveau_behaald": "M2"}, "avi_niveau_behaald", "onbekend AVI-niveau 'M2'"),
        ({"avi_niveau_behaald": ""}, "avi_niveau_behaald", "avi_niveau_behaald is verplicht"),
        ({"avi_kaart": ""}, "avi_kaart", "avi_kaart is verplicht"),
        ({"kaart_resultaat": "beheerst"}, "kaart_resultaat", "verwacht beheersing, instructie of frustratie"),
        ({"leestijd_sec": "-1"}, "leestijd_sec", "leestijd_sec moet minstens 0 zijn"),
        ({"leestijd_sec": "snel"}, "leestijd_sec", "leestijd_sec moet een getal zijn"),
        ({"fouten": "1.5"}, "fouten", "fouten moet een geheel getal zijn, niet '1.5'"),
        ({"fouten": "-2"}, "fouten", "fouten moet minstens 0 zijn"),
        ({"leerjaar": "9"}, "leerjaar", "leerjaar moet tussen 1 en 7 liggen"),
        ({"afnamemoment": "later"}, "afnamemoment", "verwacht begin, midden of eind"),
        (
            {"schooljaar": "2023-2024"},
            "schooljaar",
            "past niet bij afnamedatum 11/02/2025: dat is schooljaar 2024-2025",
        ),
        ({"leerling_id": "99999"}, "leerling_id", "leerling 99999 staat niet in de leerlingenlijst"),
        ({"afnamedatum": "31/02/2025"}, "afnamedatum", "ongeldige datum '31/02/2025'"),
        ({"afgenomen_door": "=HYPERLINK(1)"}, "afgenomen_door", "lijkt een formule"),
    ],
)
def test_row_rules(school, changes, column, fragment):
    report = rejected(school, lines(HEADER, GOOD, row(**changes)))
    [value] = changes.values()
    assert where(report.errors) == [(3, column, value or None)]
    assert fragment in report.errors[0].message
    assert count(school, TABLE) == 0 and count(school, "import_batch") == 1  # only the roster


def test_errors_on_several_rows_are_all_reported(school):
    report = rejected(
        school,
        lines(HEADER, row(fouten="x"), GOOD, row(leerling_id="24009", avi_kaart="Z9"), row(leerling_id="24010")),
    )
    assert where(report.errors) == [(2, "fouten", "x"), (4, "avi_kaart", "Z9")]


def test_enrolment_and_moment_warnings_keep_the_result(school):
    school.write(
        lambda cur: cur.execute(
            "UPDATE enrolment SET leave_date = DATE '2024-12-20'"
            " WHERE pupil_id = (SELECT id FROM pupil WHERE pupil_number = '24008')"
        )
    )
    rows = (
        GOOD,
        row(),  # 24008 left before the test
        row(leerling_id="24009", schooljaar="2025-2026", afnamedatum="2025-10-08", afnamemoment="begin"),
        row(leerling_id="24010", afnamemoment="eind"),  # 'eind' in February
    )
    report = imported(school, lines(HEADER, *rows), "w.csv")
    assert where(report.warnings) == [
        (3, "afnamedatum", "2025-02-11"),
        (4, "afnamedatum", "2025-10-08"),
        (5, "afnamemoment", "eind"),
    ]
    texts = [w.message for w in report.warnings]
    assert texts[0] == "leerling 24008 was op 11/02/2025 al vertrokken (vertrek 20/12/2024)"
    assert "heeft geen inschrijving in schooljaar 2025-2026" in texts[1]
    assert "eind valt normaal in mei-juni" in texts[2]
    assert report.inserted == 4
    assert stored(school, "24009")[0][-1] is None  # no class that year
    assert stored(school, "24008")[0][-1] == "L1A"


def test_duplicate_keys_name_both_rows(school):
    # The same card written twice in different spellings is one key.
    report = rejected(
        school,
        lines(HEADER, row(avi_kaart="AVI-M3"), GOOD, row(avi_kaart="m3", leestijd_sec="70"), row(avi_kaart="E3")),
    )
    assert where(report.errors) == [(4, "leerling_id", "24008")]
    assert "rij 2 en rij 4 hebben dezelfde leerling_id, afnamedatum en avi_kaart" in report.errors[0].message


@pytest.mark.parametrize("column", Avi.required_names())
def test_missing_required_column_is_named(school, column):
    check_missing_required_column(school, NAME, "avi", column)


def test_unknown_column_is_a_warning(school):
    report = imported(school, lines(HEADER + ",Leesbegeleider", GOOD + ",juf An"), "extra.csv")
    assert where(report.warnings) == [(None, "Leesbegeleider", None)]
    assert "onbekende kolom 'Leesbegeleider' wordt genegeerd" in report.warnings[0].message


def test_xlsx_with_real_date_cells_stores_what_the_csv_stores(school):
    rows = sample_rows(NAME)
    book = xlsx(rows, dates=("afnamedatum",), numbers=("leerling_id", "leerjaar", "leestijd_sec", "fouten"))
    check_same_as(school, book, "avi.xlsx", sample(NAME), TABLE)


def test_belgian_excel_csv_stores_what_the_csv_stores(school):
    rows = sample_rows(NAME)
    rows[0]["leestijd_sec"] = "67.5"
    rows[0]["afgenomen_door"] = "meester Çelik"
    data = belgian_excel(rows, dates=("afnamedatum",), decimals=("leestijd_sec",))
    assert b";11/02/2025;" in data and b";67,5;" in data and "Ç".encode("cp1252") in data
    check_same_as(school, data, "avi-excel.csv", as_csv(rows), TABLE)
    first = stored(school, rows[0]["leerling_id"])[0]
    assert (first[6], first[9]) == (67.5, "meester Çelik")


def test_dry_run_writes_nothing(school):
    check_dry_run(school, NAME, TABLE)


def test_undo_restores_the_table_exactly(school):
    correction = lines(
        HEADER,
        "2024-2025,2025-02-11,24009,L1A,1,midden,M3,98,2,beheersing,M3,zorgco",  # update
        "2024-2025,2025-06-12,24009,L1A,1,eind,E3,90,1,beheersing,E3,zorgco",  # new
    )
    check_undo(school, NAME, TABLE, correction)


@HOSTILE
@given(table=hostile_tables(COLUMNS, VALID))
def test_hostile_cells_give_a_report_never_an_exception(hostile_school, table):
    check_hostile(hostile_school, table, "avi", TABLE)
