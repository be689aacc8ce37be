"""Reading import files: encodings, separators, row numbers, spreadsheets, typed parsing."""

from __future__ import annotations

import io
from datetime import date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines.formats import parsing
from pipelines.importer import detect_format, preview
from pipelines.readers import UnreadableFile, decode, detect_separator, read_table

ROSTER = "leerling_id;voornaam;naam\n24003;Jules;Çelik\n24008;Amélie;De Clercq\n"


def cells(table) -> dict[int, dict[str, str | None]]:
    frame = table.frame.astype(object)
    return {int(r): {c: (None if pd.isna(v) else v) for c, v in row.items()} for r, row in frame.iterrows()}


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (ROSTER.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + ROSTER.encode("utf-8"), "utf-8-sig"),
        (ROSTER.encode("cp1252"), "windows-1252"),
        (ROSTER.encode("utf-16"), "utf-16"),
    ],
)
def test_encodings_give_the_same_table(data, encoding):
    table = read_table(data, "x.csv")
    assert table.encoding == encoding
    assert table.columns == ["leerling_id", "voornaam", "naam"]
    assert cells(table) == {
        2: {"leerling_id": "24003", "voornaam": "Jules", "naam": "Çelik"},
        3: {"leerling_id": "24008", "voornaam": "Amélie", "naam": "De Clercq"},
    }


def test_undefined_cp1252_bytes_still_decode():
    text, encoding = decode(b"a,b\n\x81\x8d,x\n")
    assert encoding == "latin-1" and text.startswith("a,b")


@pytest.mark.parametrize(
    ("line", "sep"),
    [("a;b;c", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"), ('"x;y",b,c', ","), ("alleen", ",")],
)
def test_separator_detection(line, sep):
    assert detect_separator(line) == sep


def test_rows_are_spreadsheet_rows_and_cells_are_trimmed():
    data = b"\n Naam ; LEERJAAR ;;\n  Nora ;3;;\n;;;\n\nLina; 4 ;;\n"
    table = read_table(data, "x.csv")
    assert table.header_row == 2
    assert table.columns == ["naam", "leerjaar"] and table.original_columns == ["Naam", "LEERJAAR"]
    assert cells(table) == {3: {"naam": "Nora", "leerjaar": "3"}, 6: {"naam": "Lina", "leerjaar": "4"}}


def test_quoted_cells_with_separators_and_newlines():
    data = b'naam,opmerking\nNora,"leest goed, ""vlot"""\nLina,"twee\nregels"\nJules,x\n'
    table = read_table(data, "x.csv")
    assert cells(table) == {
        2: {"naam": "Nora", "opmerking": 'leest goed, "vlot"'},
        3: {"naam": "Lina", "opmerking": "twee\nregels"},
        4: {"naam": "Jules", "opmerking": "x"},
    }


def test_extra_cells_and_duplicate_headers_are_noted():
    table = read_table(b"a,b,a\n1,2,3\n4,5,6,7\n8\n", "x.csv")
    assert table.columns == ["a", "b", "a (3)"]
    assert table.header_problems and "'a'" in table.header_problems[0]
    assert table.overflow == {3: "7"}
    assert cells(table)[4] == {"a": "8", "b": None, "a (3)": None}


def test_xlsx_first_sheet_with_date_and_number_cells():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([])
    sheet.append(["Leerling_ID", "Geboortedatum", "Percentiel", "Leerjaar", "Naam"])
    sheet.append([24001, date(2020, 10, 8), 12.5, 3.0, "  Nora  "])
    sheet.append([24002, datetime(2019, 1, 2, 14, 30), 7, 4, None])
    book.create_sheet("tweede").append(["niet", "lezen"])
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(buffer.getvalue(), "lijst.xlsx")
    assert table.kind == "xlsx" and table.header_row == 2
    assert cells(table) == {
        3: {
            "leerling_id": "24001",
            "geboortedatum": "2020-10-08",
            "percentiel": "12.5",
            "leerjaar": "3",
            "naam": "Nora",
        },
        4: {"leerling_id": "24002", "geboortedatum": "2019-01-02", "percentiel": "7", "leerjaar": "4", "naam": None},
    }


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "x.csv"),
        (b"  \n\n ", "x.csv"),
        (b"\x00\x01\x02binary", "x.csv"),
        (b"PK\x03\x04garbage", "x.xlsx"),
        (b"a,b\n1,2\n", "x.xlsx"),
    ],
)
def test_unreadable_files_raise_a_dutch_message(data, name):
    with pytest.raises(UnreadableFile) as exc:
        read_table(data, name)
    assert str(exc.value)[0].isupper() and str(exc.value).endswith(".")


def test_dates():
    text = pd.Series(
        [
            "2025-02-04",
            "04/02/2025",
            "4/2/2025",
            "4.2.2025",
            "29/02/2024",
            "31/02/2025",
            "2025-13-01",
            "0001-01-01",
            "12/2025",
            "morgen",
            None,
        ],
        dtype=parsing.TEXT_DTYPE,
        index=range(2, 13),
    )
    values, bad = parsing.date(text)
    feb4 = pd.Timestamp("2025-02-04")
    assert list(values[:4]) == [feb4] * 4
    assert values.iloc[4] == pd.Timestamp("2024-02-29")
    assert values.iloc[5:].isna().all()
    assert list(bad) == [False] * 5 + [True] * 5 + [False]
    years = parsing.school_year_of_dates(pd.Series(pd.to_datetime(["2024-09-01", "2025-08-31", None])))
    assert list(years[:2]) == ["2024-2025", "2024-2025"] and pd.isna(years.iloc[2])


def test_numbers_and_whole_numbers():
    text = pd.Series(["12", "12,5", "12.5", "-3", "1e999", "abc", "nan", "inf", None, "3.0"], dtype=parsing.TEXT_DTYPE)
    values, bad = parsing.number(text)
    assert list(values[:4]) == [12.0, 12.5, 12.5, -3.0]
    assert list(bad) == [False] * 4 + [True] * 4 + [False, False]
    ints, bad_int = parsing.integer(text)
    assert ints.iloc[0] == 12 and ints.iloc[9] == 3 and pd.isna(ints.iloc[1])
    assert bool(bad_int[1]) and not bad_int[9]


def test_codes_fold_case_and_spaces():
    out = parsing.code(pd.Series(["Technisch  Lezen", "WISKUNDE", None], dtype=parsing.TEXT_DTYPE))
    assert out.iloc[0] == "technisch_lezen" and out.iloc[1] == "wiskunde" and pd.isna(out.iloc[2])
    assert parsing.is_school_year(
        pd.Series(["2024-2025", "2024-2026", "x", None], dtype=parsing.TEXT_DTYPE)
    ).tolist() == [
        True,
        False,
        False,
        False,
    ]


def test_detect_format_and_preview():
    roster = (
        b"leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar\n"
        b"1,a,b,2020-01-01,2024-2025,K1,kleuter,1\n"
    )
    results = b"afnamedatum;leerling_id;leerjaar;domein;afnamemoment;percentiel\n"
    avi = b"afnamedatum,leerling_id,leerjaar,afnamemoment,avi_kaart,avi_niveau_behaald\n"
    assert detect_format(roster, "a.csv") == "leerlingen"
    assert detect_format(results, "b.csv") == "lvs-vclb"
    assert detect_format(avi, "c.csv") == "avi"
    assert detect_format(b"foo,bar\n1,2\n", "d.csv") is None
    assert detect_format(b"\x00\x00", "e.csv") is None
    shown = preview(roster, "a.csv")
    assert list(shown.columns)[:2] == ["leerling_id", "voornaam"] and shown.iloc[0]["naam"] == "b"
    assert preview(b"\x00garbage", "x.csv").empty
    assert preview(b"a,b\n" + b"1,2\n" * 50, "x.csv", n=5).shape == (5, 2)
    assert isinstance(preview(b"PK\x03\x04", "x.xlsx"), pd.DataFrame)
    assert np.all(preview(b"a,b\n1,\n", "x.csv").iloc[0].to_numpy() == np.array(["1", ""], dtype=object))


def test_unquoted_decimal_comma_shifting_cells_is_an_error_even_into_an_empty_cell():
    # "12,5" unquoted in a comma file pushes every later cell one column right; the last cell
    # was empty, so nothing non-empty overflows, yet the row is wrong and must be reported.
    table = read_table(b"a,b,c\n1,2,\n1,12,5,\n3,4,5\n", "x.csv")
    assert table.overflow == {3: "(een cel te veel)"}


def test_a_trailing_separator_on_every_data_row_is_not_an_error():
    table = read_table(b"a;b;c\n1;2;3;\n4;5;6;\n", "x.csv")
    assert table.overflow == {}
    assert table.columns == ["a", "b", "c"]
