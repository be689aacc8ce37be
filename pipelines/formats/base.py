"""The import-format framework: columns, typed parsing, pandera validation, Dutch messages.

A format is one module under pipelines/formats/ that defines an `ImportFormat` subclass:
its columns, a pandera DataFrameModel with Dutch `error=` texts, the natural key, and
`prepare` (database checks + mapping to canonical rows for its `load.Target` tables). Everything
shared lives here: header matching, text -> typed columns, running the model lazily and
turning pandera's failure cases into {row, column, value, message}.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipelines import load
from pipelines.formats import parsing
from pipelines.report import ERROR, Findings

if TYPE_CHECKING:
    import duckdb

    from pipelines.readers import RawTable

TEXT, CODE, UPPER, INT, NUMBER, DATE = "text", "code", "upper", "int", "number", "date"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT  # text | code (lower-case) | upper | int | number | date
    required: bool = False  # the column must be in the header (and its cells filled)


@dataclass(frozen=True)
class FrameRule:
    """How to report a pandera dataframe-level check: on which column, and which columns it
    reads (a row whose input cell already has an error is not reported twice)."""

    column: str
    reads: tuple[str, ...]
    describe: Callable[[pd.DataFrame], Sequence[str]] | None = None  # per failing row, else `error=`


class Prepared:
    """Canonical rows ready for loading, plus whatever the format needs to load them."""

    def __init__(self, rows: pd.DataFrame, **extra):
        self.rows = rows
        self.extra = extra


class ImportFormat:
    name: ClassVar[str]
    label: ClassVar[str]  # Dutch, for the UI
    permission: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    key: ClassVar[tuple[str, ...]]  # natural key, as file columns
    model: ClassVar[type[pa.DataFrameModel]]
    frame_rules: ClassVar[dict[str, FrameRule]] = {}
    targets: ClassVar[tuple[load.Target, ...]]  # tables written, in dependency order (undo: reverse)

    # -- header -----------------------------------------------------------------------
    @classmethod
    def column_names(cls) -> list[str]:
        return [c.name for c in cls.columns]

    @classmethod
    def required_names(cls) -> list[str]:
        return [c.name for c in cls.columns if c.required]

    @classmethod
    def check_header(cls, table: RawTable, findings: Findings) -> None:
        known = set(cls.column_names())
        for problem in table.header_problems:
            findings.error(None, None, None, problem)
        for name in cls.required_names():
            if name not in table.columns:
                findings.error(None, name, None, f"verplichte kolom '{name}' ontbreekt in de kopregel")
        for name, original in zip(table.columns, table.original_columns, strict=True):
            if name not in known and not name.startswith("(kolom "):
                findings.warning(None, original, None, f"onbekende kolom '{original}' wordt genegeerd")
            elif name.startswith("(kolom ") and table.frame[name].notna().any():
                findings.warning(None, None, None, f"een kolom zonder naam in de kopregel {name} wordt genegeerd")
        for row, value in table.overflow.items():
            findings.error(row, None, value, "deze rij heeft meer cellen dan de kopregel kolommen heeft")

    # -- cells -> typed frame -----------------------------------------------------------
    @classmethod
    def parse(cls, raw: pd.DataFrame, findings: Findings) -> pd.DataFrame:
        """Typed columns for every format column (absent optional columns are empty)."""
        typed = {}
        empty = pd.Series(np.nan, index=raw.index, dtype=parsing.TEXT_DTYPE)
        for col in cls.columns:
            cells = raw[col.name] if col.name in raw.columns else empty
            bad = None
            if col.kind == TEXT:
                values = parsing.text(cells)
            elif col.kind in (CODE, UPPER):
                values = parsing.code(cells, "upper" if col.kind == UPPER else "lower")
            elif col.kind == INT:
                values, bad = parsing.integer(cells)
            elif col.kind == NUMBER:
                values, bad = parsing.number(cells)
            elif col.kind == DATE:
                values, bad = parsing.date(cells)
            else:
                raise ValueError(f"unknown column kind {col.kind!r}")
            if bad is not None and bad.any():
                findings.add_rows(ERROR, raw.index[bad], col.name, _parse_message(col))
            typed[col.name] = values
        return pd.DataFrame(typed, index=raw.index)

    # -- pandera ------------------------------------------------------------------------
    @classmethod
    def validate(cls, typed: pd.DataFrame, findings: Findings) -> None:
        """Run the model lazily; every failure becomes a Dutch message on its cell."""
        schema = cls.model.to_schema()
        try:
            schema.validate(typed, lazy=True)
        except pa.errors.SchemaErrors as exc:
            _report_failures(cls, schema, typed, exc.failure_cases, findings)

    # -- the format's own rules and loading -------------------------------------------------
    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        """Cross-row and database rules, and the canonical rows (`present`: columns in the file)."""
        raise NotImplementedError

    @classmethod
    def plan(cls, cur: duckdb.DuckDBPyConnection, prepared: Prepared) -> dict[str, int]:
        """Row counts (inserted / updated / unchanged) without writing: the dry run."""
        staged, counts = load.stage(cur, cls.targets[0], prepared.rows)
        load.drop(cur, staged)
        return counts

    @classmethod
    def write(cls, cur: duckdb.DuckDBPyConnection, prepared: Prepared, batch_id: int) -> dict[str, int]:
        """Upsert into the format's table with history, inside the caller's transaction."""
        target = cls.targets[0]
        staged, counts = load.stage(cur, target, prepared.rows)
        load.apply(cur, target, staged, batch_id, counts)
        load.drop(cur, staged)
        return counts


# -- messages ------------------------------------------------------------------------------
def _parse_message(col: Column) -> str:
    if col.kind == DATE:
        return f"ongeldige datum '{{value}}': {parsing.DATE_HINT}"
    if col.kind == INT:
        return f"{col.name} moet een geheel getal zijn, niet '{{value}}'"
    return f"{col.name} moet een getal zijn (bv. 12 of 12,5), niet '{{value}}'"


UNKNOWN_PHRASE = {
    "zone": "onbekende zone",
    "domein": "onbekend domein",
    "afnamemoment": "onbekend afnamemoment",
    "niveau": "onbekend niveau",
    "geslacht": "onbekend geslacht",
}


def one_of(values: Sequence[object]) -> str:
    """'A, B, C, D of E'."""
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " of " + items[-1]


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def dutch_check_message(check: pa.Check | None, column: str, fallback: str) -> str:
    """Dutch text for a pandera check; `{value}` stands for the cell as written.

    Custom checks carry their Dutch text in `error=`; pandera's built-in checks are
    translated from their name and statistics.
    """
    if fallback in ("not_nullable",):
        return f"{column} is verplicht: de cel is leeg"
    if check is None:
        if fallback.startswith("dtype("):
            return f"{column} heeft een onverwacht gegevenstype"
        if fallback.startswith("column_in_"):
            return f"kolom {column} ontbreekt"
        return f"ongeldige waarde in {column}"
    stats = check.statistics or {}
    name = check.name
    if name == "isin":
        allowed = list(stats.get("allowed_values", []))
        phrase = UNKNOWN_PHRASE.get(column, f"onbekende waarde in {column}")
        return f"{phrase} '{{value}}': verwacht {one_of(allowed)}"
    if name == "notin":
        return f"'{{value}}' is niet toegelaten in {column}"
    if name == "in_range":
        return f"{column} moet tussen {_num(stats['min_value'])} en {_num(stats['max_value'])} liggen"
    if name == "greater_than_or_equal_to":
        return f"{column} moet minstens {_num(stats['min_value'])} zijn"
    if name == "greater_than":
        return f"{column} moet groter zijn dan {_num(stats['min_value'])}"
    if name == "less_than_or_equal_to":
        return f"{column} mag hoogstens {_num(stats['max_value'])} zijn"
    if name == "less_than":
        return f"{column} moet kleiner zijn dan {_num(stats['max_value'])}"
    if name == "equal_to":
        return f"{column} moet {stats.get('value')} zijn"
    if name == "not_equal_to":
        return f"{column} mag niet {stats.get('value')} zijn"
    if name == "str_length":
        low, high = stats.get("min_value"), stats.get("max_value")
        if high is not None and low is not None:
            return f"{column} moet tussen {low} en {high} tekens lang zijn"
        if high is not None:
            return f"{column} mag hoogstens {high} tekens lang zijn"
        return f"{column} moet minstens {low} tekens lang zijn"
    if name in ("str_matches", "str_contains", "str_startswith", "str_endswith"):
        return f"{column} '{{value}}' heeft niet de verwachte vorm"
    if check.error and not re.match(r"^\w+\(.*\)$", check.error):
        return check.error  # a custom check: its Dutch text
    return f"ongeldige waarde in {column}"


def _report_failures(
    fmt: type[ImportFormat], schema: pa.DataFrameSchema, typed: pd.DataFrame, cases: pd.DataFrame, findings: Findings
) -> None:
    if "index" not in cases:
        cases = cases.assign(index=np.nan)
    # Failures without a row (a whole column of the wrong type) are file-level errors.
    for (column, check_label), _ in cases[cases["index"].isna()].groupby(["column", "check"], dropna=False):
        text = dutch_check_message(None, str(column), str(check_label))
        findings.error(None, None if pd.isna(column) else str(column), None, text)
    cases = cases[cases["index"].notna()]
    frame_cases = cases[cases["schema_context"] == "DataFrameSchema"]
    column_cases = cases[cases["schema_context"] == "Column"]
    # Column checks: one message per (check, cell).
    for (column, check_label, number), group in column_cases.groupby(
        ["column", "check", "check_number"], dropna=False, sort=False
    ):
        check = None
        if pd.notna(number) and column in schema.columns:
            checks = schema.columns[column].checks
            check = checks[int(number)] if int(number) < len(checks) else None
        template = dutch_check_message(check, str(column), str(check_label))
        rows = [int(r) for r in pd.unique(group["index"]) if not findings.has_error(int(r), str(column))]
        findings.add_rows(ERROR, rows, str(column), template)
    # Dataframe checks: one message per failing row, on the rule's column.
    for (check_label, number), group in frame_cases.groupby(["check", "check_number"], dropna=False, sort=False):
        check = schema.checks[int(number)] if pd.notna(number) and int(number) < len(schema.checks) else None
        rule = fmt.frame_rules.get(check.name if check is not None else "", None)
        column = rule.column if rule else None
        rows = sorted({int(r) for r in pd.unique(group["index"])})
        if rule:
            rows = [r for r in rows if not any(findings.has_error(r, c) for c in rule.reads)]
        if not rows:
            continue
        if rule and rule.describe is not None:
            messages = list(rule.describe(typed.loc[rows]))
        else:
            messages = [check.error if check is not None and check.error else str(check_label)] * len(rows)
        findings.add_rows(ERROR, rows, column, messages)


# -- shared cross-row rules -------------------------------------------------------------------
def report_duplicates(
    frame: pd.DataFrame, key: Sequence[str], findings: Findings, column: str, describe: str
) -> np.ndarray:
    """Rows whose key repeats an earlier row: one error per repeat, naming both rows.

    Only rows with a complete key take part. Returns the mask of repeated rows.
    """
    codes = parsing.group_codes(frame, list(key))
    keyed = pd.Series(codes, index=frame.index)[codes >= 0]
    repeated = keyed.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return np.zeros(len(frame), dtype=bool)
    first_of = pd.Series(keyed.index[~repeated], index=keyed.to_numpy()[~repeated])
    rows = keyed.index[repeated]
    firsts = first_of.loc[keyed.to_numpy()[repeated]].to_numpy()
    messages = [
        f"rij {int(f)} en rij {int(r)} hebben {describe}: een sleutel mag maar één keer voorkomen"
        for r, f in zip(rows, firsts, strict=True)
    ]
    findings.add_rows(ERROR, rows, column, messages)
    return frame.index.isin(rows)


def no_formula(series: pd.Series) -> pd.Series:
    """False for text a spreadsheet would run as a formula, or with control characters."""
    risky = parsing.matches(series, r"^[=+@]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    return pd.Series(~risky, index=series.index)


def no_spaces(series: pd.Series) -> pd.Series:
    return pd.Series(~parsing.matches(series, r"\s"), index=series.index)


FORMULA_ERROR = "'{value}' lijkt een formule of bevat stuurtekens: begin een tekst niet met =, + of @"
