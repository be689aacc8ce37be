"""The import report: what was (or would be) written, and every error and warning in Dutch.

Messages point at a spreadsheet cell (row, column, value as written in the file); file-level
messages leave those empty. `Findings` collects messages while a file is checked, mostly in
bulk: a rule finds its failing rows with a vectorised mask and hands them over at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

ERROR = "fout"
WARNING = "waarschuwing"

# Contract keys of one JSON object (`--json`), in this order.
JSON_KEYS = ("file", "format", "status", "rows", "inserted", "updated", "unchanged", "errors", "warnings")


@dataclass
class Message:
    row: int | None
    column: str | None
    value: str | None
    message: str

    def to_json_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"rij {self.row}")
        if self.column:
            where.append(f"kolom {self.column}" + (f" ('{self.value}')" if self.value is not None else ""))
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass
class ImportReport:
    file: str
    format: str | None
    status: str  # "imported" | "rejected" | "dry-run"
    rows: int
    inserted: int
    updated: int
    unchanged: int
    errors: list[Message]
    warnings: list[Message]
    batch_id: int | None = None
    unreadable: bool = False  # the CLI exits with 2 instead of 1
    raw: pd.DataFrame | None = field(default=None, repr=False)  # the file as read, for problem_rows

    def to_json_dict(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "status": self.status,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [m.to_json_dict() for m in self.errors],
            "warnings": [m.to_json_dict() for m in self.warnings],
        }

    def messages_frame(self) -> pd.DataFrame:
        """Errors first, then warnings: columns soort, rij, kolom, waarde, melding."""
        records = [(ERROR, m) for m in self.errors] + [(WARNING, m) for m in self.warnings]
        frame = pd.DataFrame(
            {
                "soort": [kind for kind, _ in records],
                "rij": pd.array([m.row for _, m in records], dtype="Int64"),
                "kolom": [m.column for _, m in records],
                "waarde": [m.value for _, m in records],
                "melding": [m.message for _, m in records],
            },
            columns=["soort", "rij", "kolom", "waarde", "melding"],
        )
        return frame

    def problem_rows(self) -> pd.DataFrame:
        """The file's rows that have errors, as read (text), plus `fout` with their messages.

        The index is the spreadsheet row ('rij'). Columns carry the header as written.
        """
        by_row: dict[int, list[str]] = {}
        for m in self.errors:
            if m.row is not None:
                text = f"{m.column}: {m.message}" if m.column else m.message
                by_row.setdefault(m.row, []).append(text)
        if self.raw is None:
            frame = pd.DataFrame(index=pd.Index([], name="rij"))
        else:
            frame = self.raw.loc[self.raw.index.isin(list(by_row))].astype(object)
            frame = frame.where(frame.notna(), "")
        frame = frame.copy()
        frame["fout"] = ["; ".join(by_row[int(r)]) for r in frame.index]
        return frame

    def summary(self) -> str:
        """A readable Dutch summary for the command line."""
        title = {
            "imported": "geïmporteerd",
            "rejected": "geweigerd, er is niets weggeschreven",
            "dry-run": "proefrun, er is niets weggeschreven",
        }[self.status]
        lines = [f"{self.file}: {title}" + (f" (formaat {self.format})" if self.format else "")]
        if self.status != "rejected":
            verb = "zouden" if self.status == "dry-run" else ""
            lines.append(
                f"{self.rows} rijen: {self.inserted} nieuw, {self.updated} gewijzigd, {self.unchanged} ongewijzigd"
                + (f" ({verb} worden weggeschreven)" if verb else "")
            )
        if self.batch_id is not None:
            lines.append(f"Importrun nummer {self.batch_id} (ongedaan te maken in de app).")
        for label, messages in (("Fouten", self.errors), ("Waarschuwingen", self.warnings)):
            if messages:
                lines.append(f"{label} ({len(messages)}):")
                lines.extend(f"  - {m}" for m in messages)
        return "\n".join(lines)


class Findings:
    """Errors and warnings found while checking one file, with the file's cells at hand."""

    def __init__(self, raw: pd.DataFrame | None = None):
        self.raw = raw
        self.errors: list[Message] = []
        self.warnings: list[Message] = []
        self.bad_cells: set[tuple[int, str]] = set()  # cells already reported as errors

    def raw_value(self, row: int, column: str | None) -> str | None:
        if self.raw is None or column is None or column not in self.raw.columns or row not in self.raw.index:
            return None
        value = self.raw.at[row, column]
        return None if pd.isna(value) else str(value)

    def _raw_values(self, rows: list[int], column: str | None) -> list[str | None]:
        if self.raw is None or column is None or column not in self.raw.columns:
            return [None] * len(rows)
        cells = self.raw[column].reindex(rows)
        return [None if pd.isna(v) else str(v) for v in cells.tolist()]

    def error(self, row: int | None, column: str | None, value: str | None, message: str) -> None:
        self.errors.append(Message(row, column, value, message))
        if row is not None and column is not None:
            self.bad_cells.add((row, column))

    def warning(self, row: int | None, column: str | None, value: str | None, message: str) -> None:
        self.warnings.append(Message(row, column, value, message))

    def add_rows(
        self,
        kind: str,
        rows: Iterable[int],
        column: str | None,
        message: str | Iterable[str],
        values: Iterable[str | None] | None = None,
    ) -> None:
        """Report many rows at once; `{value}` in a message becomes the cell as written."""
        rows = [int(r) for r in rows]
        messages = [message] * len(rows) if isinstance(message, str) else list(message)
        if values is None:
            values = self._raw_values(rows, column)
        values = list(values)
        add = self.error if kind == ERROR else self.warning
        for row, value, text in zip(rows, values, messages, strict=True):
            add(row, column, value, text.replace("{value}", "" if value is None else value))

    def has_error(self, row: int, column: str) -> bool:
        return (row, column) in self.bad_cells

    def error_rows(self) -> set[int]:
        return {m.row for m in self.errors if m.row is not None}

    def sort(self) -> None:
        def key(m: Message):
            return (m.row is not None, m.row or 0)

        self.errors.sort(key=key)
        self.warnings.sort(key=key)
