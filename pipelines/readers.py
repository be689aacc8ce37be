"""Bytes of an uploaded file -> a table of trimmed strings, indexed by spreadsheet row.

Handles what schools actually send: CSV with `,`, `;` (Belgian Excel) or tab, UTF-8 with or
without BOM, UTF-16 ("Unicode text" from Excel) or Windows-1252, and XLSX/XLS/ODS (first sheet)
with real date and number cells. Cell values stay text here; the formats parse them, so every
message can quote the value exactly as the user sees it in the file.

Row numbers are spreadsheet rows: the header is row 1 (or the first non-blank row), and blank
lines keep counting, because that is where the user will look.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

MAX_BYTES = 200 * 1024 * 1024
_SEPARATORS = (";", ",", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
# Reading a file makes short-lived copies of every cell; the system allocator hands that
# memory back, where Arrow's default pool keeps it and inflates the process's peak.
_POOL = pa.system_memory_pool()


class UnreadableFile(ValueError):
    """The bytes are not a table we can read. The message is Dutch and safe to show."""


@dataclass
class RawTable:
    """A file as text cells: `frame` has one column per header cell (normalised names)."""

    frame: pd.DataFrame  # index = spreadsheet row number; cells trimmed, empty -> NA
    columns: list[str]  # normalised header names, file order (matching frame.columns)
    original_columns: list[str]  # header cells as written (trimmed)
    kind: str  # "csv" or "xlsx"
    encoding: str | None = None
    separator: str | None = None
    header_row: int = 1
    # Rows with non-empty cells beyond the header's last column: row -> first such value.
    overflow: dict[int, str] = field(default_factory=dict)
    # Header problems found while reading (duplicate names): Dutch messages.
    header_problems: list[str] = field(default_factory=list)


def normalise_name(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower()


# -- decoding ------------------------------------------------------------------------------
def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding name it was read with."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise UnreadableFile("Het bestand begint als UTF-8 maar bevat ongeldige tekens.") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableFile("Het bestand begint als UTF-16 maar bevat ongeldige tekens.") from exc
    if b"\x00" in data:
        raise UnreadableFile(
            "Dit is geen tekstbestand (CSV) en geen Excel-bestand. Bewaar het in Excel als "
            "'CSV (gescheiden door lijstscheidingsteken)' of als Excel-werkmap (.xlsx)."
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so nothing is lost.
        return data.decode("latin-1"), "latin-1"


def detect_separator(header_line: str) -> str:
    """The separator that splits the header line most, outside quotes; ',' for one column."""
    counts = dict.fromkeys(_SEPARATORS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


# -- CSV -----------------------------------------------------------------------------------
def _header_width(text: str, sep: str) -> int:
    first = next(csv.reader(io.StringIO(text[:65536], newline=""), delimiter=sep, quotechar='"'), [])
    return len(first)


def _arrow_records(utf8: bytes, sep: str, width: int) -> pa.Table | None:
    """The fast path: pyarrow's CSV reader, every column text; None when the file is irregular."""
    if width == 0:
        return None
    names = [f"f{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 20, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"', ignore_empty_lines=False, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
            memory_pool=_POOL,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError, ValueError):
        return None


def _python_records(text: str, sep: str) -> pa.Table:
    """Ragged rows (more cells than the header) or odd quoting: slower, only for unusual files."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=False))
    table = _rows_to_arrow(rows)
    # A row longer than the header is an error even when its extra cell is empty: an unquoted
    # decimal comma ("12,5" in a comma file) shifts every later cell one column to the right.
    filled = [(i, r) for i, r in enumerate(rows) if any(cell.strip() for cell in r)]
    header = filled[0][1] if filled else []
    ragged = [i + 1 for i, r in filled[1:] if len(r) > len(header)]
    # Every data row ending in one empty cell more than the header is a trailing separator, not a shift.
    if len(ragged) == len(filled) - 1 and all(len(r) == len(header) + 1 and not r[-1].strip() for _, r in filled[1:]):
        ragged = []
    if ragged:
        table = table.replace_schema_metadata({RAGGED_KEY: json.dumps(ragged)})
    return table


def _rows_to_arrow(rows: list[list[str]]) -> pa.Table:
    width = max((len(r) for r in rows), default=0)
    columns = [[] for _ in range(width)]
    for row in rows:
        for i in range(width):
            columns[i].append(row[i] if i < len(row) else "")
    # Empty cells are nulls, as the fast path's reader gives them.
    return pa.table({f"f{i}": pa.array([v or None for v in col], pa.string()) for i, col in enumerate(columns)})


def _read_csv(data: bytes) -> tuple[pa.Table, str, str]:
    text, encoding = decode(data)
    text = text.lstrip("\ufeff")
    first = next((line for line in text[:65536].splitlines() if line.strip().strip(";,\t").strip()), "")
    sep = detect_separator(first)
    if encoding == "utf-8":
        utf8 = data
    elif encoding == "utf-8-sig":
        utf8 = data[3:]
    else:
        utf8 = text.encode("utf-8")
    table = _arrow_records(utf8, sep, _header_width(text, sep))
    if table is None:
        table = _python_records(text, sep)
    return table, encoding, sep


# -- spreadsheets --------------------------------------------------------------------------
def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "WAAR" if value else "ONWAAR"
    if isinstance(value, dt.datetime):
        # A date cell: the time of day is noise from the spreadsheet, the date is the fact.
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _read_spreadsheet(data: bytes) -> pa.Table:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not workbook.sheet_names:
            return pa.table({})
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own and plain errors for broken archives
        raise UnreadableFile(
            "Het Excel-bestand kon niet gelezen worden (beschadigd, beveiligd met een wachtwoord of geen werkmap)."
        ) from exc
    return _rows_to_arrow([[_cell_text(v) for v in r] for r in rows])


def is_spreadsheet(data: bytes) -> bool:
    return data.startswith((_ZIP_MAGIC, _OLE_MAGIC))


# -- the table -----------------------------------------------------------------------------
def read_table(data: bytes, file_name: str = "") -> RawTable:
    """Read CSV or spreadsheet bytes. Raises UnreadableFile with a Dutch message."""
    if not data or not data[:4096].strip() and not data.strip():
        raise UnreadableFile("Het bestand is leeg.")
    if len(data) > MAX_BYTES:
        raise UnreadableFile(f"Het bestand is te groot (meer dan {MAX_BYTES // (1024 * 1024)} MB).")
    encoding = separator = None
    if is_spreadsheet(data):
        records, kind = _read_spreadsheet(data), "xlsx"
    elif file_name.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise UnreadableFile("Het bestand heeft een Excel-naam, maar is geen Excel-werkmap.")
    else:
        records, encoding, separator = _read_csv(data)
        kind = "csv"
    return _to_table(records, kind, encoding, separator)


def _clean(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Trim cells and make blank ones null; untouched (no copy) when nothing needs trimming."""
    if isinstance(col, pa.ChunkedArray) and col.num_chunks != 1:
        col = col.combine_chunks()
    trimmed = pc.utf8_trim_whitespace(col, memory_pool=_POOL)
    if pc.sum(pc.binary_length(trimmed)).as_py() == pc.sum(pc.binary_length(col)).as_py():
        return col
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed, memory_pool=_POOL)


RAGGED_KEY = "ragged_rows"


def _to_table(records: pa.Table, kind: str, encoding: str | None, separator: str | None) -> RawTable:
    if records.num_columns == 0 or records.num_rows == 0:
        raise UnreadableFile("Het bestand bevat geen kopregel en geen gegevens.")
    ragged = json.loads((records.schema.metadata or {}).get(RAGGED_KEY.encode(), b"[]"))
    cells = [_clean(records.column(i)) for i in range(records.num_columns)]
    del records
    nonblank = pc.is_valid(cells[0])
    for col in cells[1:]:
        nonblank = pc.or_(nonblank, pc.is_valid(col))
    nonblank_np = np.asarray(nonblank.to_numpy(zero_copy_only=False), dtype=bool)
    if not nonblank_np.any():
        raise UnreadableFile("Het bestand bevat geen kopregel en geen gegevens.")
    header_pos = int(nonblank_np.argmax())
    header_cells = [c[header_pos].as_py() or "" for c in cells]
    # Trailing empty header cells (a trailing separator) only count when their column has data.
    used = len(header_cells)
    while used > 0 and header_cells[used - 1] == "":
        used -= 1
    positions = np.flatnonzero(nonblank_np[header_pos + 1 :]) + header_pos + 1
    contiguous = len(positions) == len(nonblank_np) - header_pos - 1

    def body_rows(col):
        return col.slice(header_pos + 1) if contiguous else pc.take(col, pa.array(positions), memory_pool=_POOL)

    rows = positions + 1  # spreadsheet rows are 1-based
    overflow: dict[int, str] = {}
    for col in cells[used:]:
        values = body_rows(col).to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(pd.notna(values)):
            overflow.setdefault(int(rows[i]), str(values[i]))
    for row in ragged:  # rows whose extra cells are empty: the shift itself is the error
        overflow.setdefault(int(row), "(een cel te veel)")
    original = [str(c) for c in header_cells[:used]]
    names = [normalise_name(c) for c in original]
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            names[position - 1] = f"(kolom {position})"
        elif name in seen:
            problems.append(f"kolom '{original[position - 1]}' komt meer dan één keer voor in de kopregel")
            names[position - 1] = f"{name} ({position})"
        seen.add(name)
    body = pa.table({name: body_rows(col) for name, col in zip(names, cells[:used], strict=True)})
    del cells
    frame = body.to_pandas(types_mapper=_string_dtype)
    frame.index = pd.Index(rows, name="rij")
    return RawTable(
        frame=frame,
        columns=names,
        original_columns=original,
        kind=kind,
        encoding=encoding,
        separator=separator,
        header_row=header_pos + 1,
        overflow=overflow,
        header_problems=problems,
    )


def _string_dtype(arrow_type: pa.DataType):
    return pd.StringDtype("pyarrow", na_value=np.nan) if pa.types.is_string(arrow_type) else None
