"""XLSX exports: formula neutralisation, Dutch headers, real data from the dashboards, small groups hidden."""

from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dossier import dashboards as dash
from dossier import exports, signals
from dossier.instruments import zone_for_percentile
from tests.factories import make_school
from tests.test_dashboards import add_lvs, add_pupils, sign_in

DANGEROUS = ["=1+1", "+31 2", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", '=HYPERLINK("http://x.be","klik")']


def sheets(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}


def formula_cells(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def records(rows: list[list]) -> list[dict]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


# -- neutralise ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Maes", " =1", "Jan-Pieter", "a=b", "", 12, -3, 2.5, None, date(2025, 1, 2)])
def test_everything_else_is_left_alone(value):
    assert exports.neutralise(value) == value


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(max_size=40), min_size=1, max_size=8))
def test_any_text_is_written_as_inert_text(texts):
    frame = pd.DataFrame({"Naam": texts, "Klas": ["=1+1"] * len(texts)})
    data = exports.write_workbook([("Blad", frame)])
    assert formula_cells(data) == []
    written = [row[0] for row in sheets(data)["Blad"][1:]]
    for original, cell in zip(texts, written, strict=True):
        expected = exports.neutralise(ILLEGAL_CHARACTERS_RE.sub("", original))
        # openpyxl writes an empty string as an empty cell; XML reads every line ending back as \n.
        assert (cell or "") == expected.replace("\r\n", "\n").replace("\r", "\n")
        assert not str(cell or "").startswith(exports.FORMULA_STARTS)


def test_numbers_dates_and_missing_values_keep_their_type():
    frame = pd.DataFrame(
        {
            "Getal": [-5, 2.5],
            "Datum": [date(2025, 10, 1), None],
            "Tijd": [pd.Timestamp("2025-10-01 14:30"), pd.NaT],
            "Ja/nee": [True, False],
            "Ontbreekt": [float("nan"), pd.NA],
        }
    )
    data = exports.write_workbook([("Blad", frame)])
    book = load_workbook(io.BytesIO(data))
    ws = book["Blad"]
    assert ws["A2"].value == -5 and ws["A2"].data_type == "n"
    assert ws["B2"].value == datetime(2025, 10, 1) and ws["B2"].number_format == "DD/MM/YYYY"
    assert ws["C2"].value == datetime(2025, 10, 1, 14, 30) and ws["C2"].number_format == "DD/MM/YYYY HH:MM"
    assert (ws["D2"].value, ws["D3"].value) == ("ja", "nee")
    assert ws["E2"].value is None and ws["E3"].value is None and ws["B3"].value is None


def test_sheet_titles_are_made_valid_and_unique():
    frame = pd.DataFrame({"a": [1]})
    data = exports.write_workbook([("Wat/is[dit]?" * 5, frame), ("Wat/is[dit]?" * 5, frame)])
    titles = list(sheets(data))
    assert len(titles) == 2 and len(set(titles)) == 2
    assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titles)


# -- class overview ------------------------------------------------------------------------


@pytest.fixture
def school(db):
    return make_school(db)


@pytest.fixture
def hostile_class(db, school):
    """L1A with 3 + 3 pupils; one named like a formula; wiskunde at begin and midden, spelling at begin."""
    year = school.year
    extra = add_pupils(db, school.classes["L1A"], year, 3)
    hostile = extra[0]
    db.write(
        lambda cur: cur.execute(
            "UPDATE pupil SET first_name = ?, last_name = ? WHERE id = ?",
            ['=HYPERLINK("http://x.be")', "@Maes", hostile],
        )
    )
    pupils = [school.pupils["30004"], school.pupils["30005"], school.pupils["30006"], *extra]
    begin = [80, 60, 55, 30, 20, 8]
    add_lvs(db, [(p, year, "begin", "wiskunde", pct) for p, pct in zip(pupils, begin, strict=True)])
    add_lvs(db, [(p, year, "midden", "wiskunde", pct + 1) for p, pct in zip(pupils, begin, strict=True)])
    add_lvs(db, [(p, year, "begin", "spelling", 50) for p in pupils[:3]])
    return {"pupils": pupils, "begin": begin, "hostile": hostile, "class_id": school.classes["L1A"]}


def test_overview_wide_has_one_row_per_pupil_and_a_zone_per_moment(db, school, hostile_class):
    overview = dash.class_overview(db, sign_in(db, "juf.l1a"), hostile_class["class_id"])
    wide = exports.overview_wide(overview, percentiles=True)
    assert sorted(wide["pupil_id"]) == sorted(hostile_class["pupils"])
    year = school.year
    assert exports.zone_columns(wide) == [
        f"Wiskunde begin {year}",
        f"Wiskunde midden {year}",
        f"Spelling begin {year}",
    ]
    by_pupil = wide.set_index("pupil_id")
    for pupil, pct in zip(hostile_class["pupils"], hostile_class["begin"], strict=True):
        assert by_pupil.loc[pupil, f"Wiskunde begin {year}"] == zone_for_percentile(pct)
        assert by_pupil.loc[pupil, f"Wiskunde midden {year} percentiel"] == pct + 1
    # Pupils without spelling have an empty cell, not a made-up zone.
    assert by_pupil.loc[hostile_class["hostile"], f"Spelling begin {year}"] == ""
    only_spelling = exports.overview_wide(overview, domain="spelling")
    assert exports.zone_columns(only_spelling) == [f"Spelling begin {year}"]


def test_class_overview_xlsx_dutch_headers_neutralised_names_hidden_small_groups(db, school, hostile_class):
    teacher = sign_in(db, "juf.l1a")
    class_id = hostile_class["class_id"]
    data = exports.class_overview_xlsx(
        dash.class_info(db, teacher, class_id),
        dash.class_overview(db, teacher, class_id),
        dash.zone_distribution(db, teacher, class_id, export=True),
        made_by=teacher.name,
        made_on=date(2026, 3, 2),
    )
    assert formula_cells(data) == []
    book = sheets(data)
    assert list(book) == ["Groepsoverzicht", "Zoneverdeling", "Info"]
    overview = records(book["Groepsoverzicht"])
    assert list(overview[0])[:4] == ["Leerlingnummer", "Voornaam", "Naam", "Vertrokken"]
    hostile = next(r for r in overview if r["Naam"] == "'@Maes")
    assert hostile["Voornaam"] == '\'=HYPERLINK("http://x.be")'
    distribution = records(book["Zoneverdeling"])
    assert list(distribution[0]) == [
        "Domein",
        "Schooljaar",
        "Toetsmoment",
        "Zone",
        "Aantal",
        "n",
        "Aandeel",
        "Norm",
        "Mediaan percentiel",
    ]
    # Spelling: three pupils, hidden; wiskunde: six, shown with the hand-computed counts.
    spelling = [r for r in distribution if r["Domein"] == "Spelling"]
    assert spelling and all(r["n"] == exports.HIDDEN_TEXT and r["Aantal"] == exports.HIDDEN_TEXT for r in spelling)
    begin = {r["Zone"]: r for r in distribution if r["Domein"] == "Wiskunde" and r["Toetsmoment"] == "begin"}
    for zone in "ABCDE":
        assert begin[zone]["Aantal"] == sum(zone_for_percentile(p) == zone for p in hostile_class["begin"])
        assert begin[zone]["n"] == 6
    info = {r["Gegeven"]: r["Waarde"] for r in records(book["Info"])}
    assert info["Klas"] == "L1A" and info["Gemaakt op"] == "02/03/2026" and info["Leerlingen"] == 6


def test_care_sheet_when_given(db, school, hostile_class):
    zorg = sign_in(db, "zorg")
    class_id = hostile_class["class_id"]
    data = exports.class_overview_xlsx(
        dash.class_info(db, zorg, class_id),
        dash.class_overview(db, zorg, class_id),
        dash.zone_distribution(db, zorg, class_id, export=True),
        dash.care_overview(db, zorg, class_id),
        made_by=zorg.name,
        made_on=date.today(),
    )
    care = records(sheets(data)["Zorg"])
    assert len(care) == 6
    assert {r["Zorgfase"] for r in care} == {"Fase 0 – brede basiszorg"}


# -- attention list ------------------------------------------------------------------------


def test_attention_list_xlsx_carries_reasons_and_data(db, school, hostile_class):
    zorg = sign_in(db, "zorg")
    year = school.year
    hostile = hostile_class["hostile"]
    # The hostile pupil is in E twice in a row: the first rule fires for them.
    add_lvs(db, [(hostile, year, "eind", "wiskunde", 4)])
    add_lvs(db, [(hostile, year, "eind", "spelling", 3), (hostile, year, "midden", "spelling", 2)])
    listed = signals.attention_list(db, zorg, hostile_class["class_id"])
    assert not listed.empty
    data = exports.attention_list_xlsx(
        listed, signals.list_rules(db, zorg), scope_label="L1A", made_by=zorg.name, made_on=date(2026, 3, 2)
    )
    assert formula_cells(data) == []
    book = sheets(data)
    rows = records(book["Aandachtslijst"])
    assert list(rows[0]) == ["Leerlingnummer", "Voornaam", "Naam", "Klas", "Regel", "Waarom", "Gegevens"]
    assert len(rows) == len(listed)
    mine = [r for r in rows if r["Naam"] == "'@Maes" and r["Regel"] == "Herhaaldelijk in de gevarenzone"]
    assert mine, rows
    assert any("Zone E voor spelling" in r["Waarom"] for r in mine)
    assert any("Domein: Spelling" in r["Gegevens"] and "Zone: E" in r["Gegevens"] for r in mine)
    rules = records(book["Regels"])
    assert [r["Regel"] for r in rules] == [rule.title for rule in signals.RULES]
    assert {r["Aan"] for r in rules} == {"ja"}


def test_dismissed_signals_show_who_and_why(db, school, hostile_class):
    zorg = sign_in(db, "zorg")
    hostile = hostile_class["hostile"]
    add_lvs(db, [(hostile, school.year, "eind", "wiskunde", 4)])
    listed = signals.attention_list(db, zorg, hostile_class["class_id"])
    first = listed.iloc[0]
    reason = "-besproken op MDO"
    signals.dismiss_signal(
        db,
        zorg,
        int(first["pupil_id"]),
        first["rule_id"],
        first["fingerprint"],
        reason,
        class_id=hostile_class["class_id"],
    )
    listed = signals.attention_list(db, zorg, hostile_class["class_id"], include_dismissed=True)
    rows = records(
        sheets(
            exports.attention_list_xlsx(
                listed, signals.list_rules(db, zorg), scope_label="L1A", made_by="x", made_on=date.today()
            )
        )["Aandachtslijst"]
    )
    dismissed = [r for r in rows if r["Afgewezen"] == "ja"]
    assert len(dismissed) == 1
    assert dismissed[0]["Reden afwijzing"] == "'" + reason and dismissed[0]["Afgewezen door"] == zorg.name


def test_signal_records_have_dutch_headers_and_dates():
    table = exports.signal_records(
        [{"domein": "technisch_lezen", "schooljaar": "2025-2026", "afnamedatum": "2026-02-03", "percentiel": 4.0}]
    )
    assert list(table.columns) == ["Domein", "Schooljaar", "Afnamedatum", "Percentiel"]
    assert table.iloc[0].tolist() == ["Technisch lezen", "2025-2026", "03/02/2026", 4.0]
    assert exports.signal_records("geen lijst").empty


# -- school view and audit -----------------------------------------------------------------


def test_school_export_hides_small_groups_even_for_the_directie(db, school, hostile_class):
    directie = sign_in(db, "directie")
    trends = dash.school_trends(db, directie, export=True)
    data = exports.school_xlsx(
        {"Per leerjaar": exports.trends_table(trends)}, school_year=school.year, made_by="x", made_on=date.today()
    )
    rows = records(sheets(data)["Per leerjaar"])
    by_domain = {(r["Domein"], r["Toetsmoment"]): r for r in rows}
    assert by_domain[("Spelling", "begin")]["n"] == exports.HIDDEN_TEXT
    assert by_domain[("Spelling", "begin")]["Aandeel D+E"] == exports.HIDDEN_TEXT
    shown = by_domain[("Wiskunde", "begin")]
    assert shown["n"] == 6 and shown["Aantal D+E"] == sum(p < 25 for p in hostile_class["begin"])
    # On screen the directie sees the small group: it may open those pupils anyway.
    on_screen = dash.school_trends(db, directie)
    assert not on_screen["suppressed"].any()


def test_record_export_writes_an_audit_row(db, school):
    zorg = sign_in(db, "zorg")
    exports.record_export(db, zorg, "klasoverzicht", "klas L1A (2026-2027)")
    with db.cursor() as cur:
        row = cur.execute(
            "SELECT user_name, role, action, object, detail FROM audit_log WHERE action = 'export'"
        ).fetchall()
    assert row == [("zorg", "zorgteam", "export", "xlsx:klasoverzicht", "klas L1A (2026-2027)")]


def test_record_export_only_for_who_may_see_the_export(db, school):
    from dossier.access import AccessDenied

    teacher, beheer = sign_in(db, "juf.l1a"), sign_in(db, "beheer")
    exports.record_export(db, teacher, "aandachtslijst", "eigen klas")
    with pytest.raises(AccessDenied):
        exports.record_export(db, teacher, "schoolbeeld", "schooljaar")
    with pytest.raises(AccessDenied):
        exports.record_export(db, beheer, "klasoverzicht", "klas L1A")
    with pytest.raises(ValueError):
        exports.record_export(db, teacher, "iets anders", "?")
    with db.cursor() as cur:
        logged = cur.execute("SELECT object FROM audit_log WHERE action = 'export'").fetchall()
    assert logged == [("xlsx:aandachtslijst",)]
