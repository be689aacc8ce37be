"""The DuckDB file: one root connection per process, a fresh cursor per operation.

A DuckDB connection (or cursor) must never be shared between threads, and a file can be
opened read-write by one process only. `Database` owns the root connection; every read
takes its own cursor (`with db.cursor() as cur`) and every write runs as one explicit
transaction through `db.write(fn)`, which retries on DuckDB's write-write conflicts.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

T = TypeVar("T")

DEFAULT_PATH = Path("data") / "dossier.duckdb"
WRITE_RETRIES = 5


class DatabaseBusyError(RuntimeError):
    """The file is locked by another process (usually the running app)."""


class DatabaseConflictError(RuntimeError):
    """A write kept conflicting with concurrent writes and was given up."""


def default_path() -> Path:
    return Path(os.environ.get("DOSSIER_DB") or DEFAULT_PATH)


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("dossier.migrations").iterdir():
        match = re.fullmatch(r"(\d{3})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    return sorted(found)


def _split_sql(script: str) -> list[str]:
    # Migration files hold plain DDL: no semicolons inside strings, so a split is enough.
    body = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [stmt.strip() for stmt in body.split(";") if stmt.strip()]


class Database:
    """The root connection to one dossier file, migrated on open."""

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else default_path()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise DatabaseBusyError(
                    f"De databank {self.path} is in gebruik door een ander programma "
                    "(meestal de draaiende app). Stop eerst de app (Ctrl+C in het venster "
                    "van 'make run') of voer dit uit via de pagina in de app, en probeer "
                    "opnieuw."
                ) from exc
            raise
        # Derived tables that must follow every write (dossier/left.py); on once the schema has them.
        self._refresh_derived = False
        if not read_only:
            self.migrate()
            self._refresh_derived = True
            self.write(lambda cur: None)

    # -- connection discipline ---------------------------------------------------------
    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T], *, audit_only: bool = False) -> T:
        """Run `fn(cur)` in one transaction; retry the whole of it on a write conflict.

        `audit_only`: the transaction writes nothing but audit rows (an audited read), so the
        derived tables cannot have changed and their check is skipped (~2 ms at school-group scale).
        """
        for attempt in range(WRITE_RETRIES):
            with self.cursor() as cur:
                cur.execute("BEGIN TRANSACTION")
                try:
                    result = fn(cur)
                    if self._refresh_derived and not audit_only:
                        from dossier import left

                        left.refresh(cur)
                    cur.execute("COMMIT")
                    return result
                except duckdb.TransactionException as exc:
                    _rollback(cur)
                    if "conflict" not in str(exc).lower() or attempt == WRITE_RETRIES - 1:
                        if "conflict" in str(exc).lower():
                            raise DatabaseConflictError(
                                "Iemand anders wijzigde tegelijk dezelfde gegevens. "
                                "Probeer het over enkele ogenblikken opnieuw."
                            ) from exc
                        raise
                except BaseException:
                    _rollback(cur)
                    raise
            time.sleep(0.05 * (2**attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._con.close()

    def checkpoint(self) -> None:
        with self.cursor() as cur:
            cur.execute("CHECKPOINT")

    # -- schema ------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the numbered migrations that this file has not seen yet."""
        with self.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
            )
            done = {row[0] for row in cur.execute("SELECT version FROM schema_version").fetchall()}
        applied = []
        for version, name, script in _migrations():
            if version in done:
                continue

            def apply(cur, version=version, name=name, script=script):
                for stmt in _split_sql(script):
                    cur.execute(stmt)
                cur.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])

            self.write(apply)
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        with self.cursor() as cur:
            return cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):  # the transaction may already be aborted by DuckDB
        cur.execute("ROLLBACK")


def get_setting(db: Database, key: str, default: str | None = None) -> str | None:
    with db.cursor() as cur:
        row = cur.execute("SELECT value FROM setting WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_setting(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cur.execute(
        "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
