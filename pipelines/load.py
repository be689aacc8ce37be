"""Validated canonical rows -> tables: upsert by natural key, history, and undo.

All set-based SQL: the incoming rows are registered with DuckDB and joined against the
table, so classification (inserted / updated / unchanged), the writes and the history rows
are a handful of statements whatever the file size. Each inserted or updated row leaves an
`import_change` row: its natural key (`entity_key`) and the columns the import manages, before
and after, as JSON; undo replays those in reverse. Run `stage` + `apply` inside one
`db.write` transaction; `stage` alone is a dry run (it only creates a temporary table).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import duckdb

_counter = itertools.count()
STATUSES = ("inserted", "updated", "unchanged")
# Tables whose rows point at pupils or classes but must never block an undo.
_NOT_REFERENCES = {"audit_log", "import_change", "import_batch", "schema_version"}

TABLE_LABELS = {
    "school_year": "schooljaren",
    "class": "klassen",
    "pupil": "leerlingen",
    "enrolment": "inschrijvingen",
    "class_assignment": "klastoewijzingen van leerkrachten",
    "lvs_result": "LVS-resultaten",
    "avi_result": "AVI-resultaten",
    "dmt_result": "DMT-resultaten",
    "idp_result": "IDP-resultaten",
    "wellbeing_result": "welbevinden en betrokkenheid",
    "registration": "registraties in het dossier",
    "care_phase": "zorgfasen",
    "measure": "maatregelen",
    "signal_dismissal": "afgehandelde signalen",
}


class UndoRefused(RuntimeError):
    """An undo that cannot restore the earlier state exactly. The message is Dutch."""


@dataclass(frozen=True)
class Target:
    """One table an import writes, matched on its natural key."""

    table: str
    key: tuple[str, ...]
    values: tuple[str, ...]  # compared and written; other columns are left alone
    batch_column: str | None = "import_batch_id"
    insert_only: bool = False  # existing rows are never changed (e.g. school years)
    # (column name in other tables, own column): rows elsewhere that point at a row this
    # batch inserted block its undo (e.g. results of a pupil the roster created).
    references: tuple[tuple[str, str], ...] = ()

    @property
    def tracked(self) -> tuple[str, ...]:
        """The columns history keeps (before/after JSON); the key is in `entity_key`."""
        return self.values + ((self.batch_column,) if self.batch_column else ())

    @property
    def label(self) -> str:
        return TABLE_LABELS.get(self.table, self.table)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_types(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = cur.execute(
        "SELECT column_name, data_type FROM duckdb_columns()"
        " WHERE table_name = ? AND schema_name = 'main' AND NOT internal AND database_name = current_database()",
        [table],
    ).fetchall()
    return dict(rows)


def _struct(columns: tuple[str, ...], alias: str) -> str:
    return "struct_pack(" + ", ".join(f"{q(c)} := {alias}.{q(c)}" for c in columns) + ")"


def _struct_type(types: dict[str, str], columns: tuple[str, ...]) -> str:
    return json.dumps({c: types[c] for c in columns})


def _key_match(target: Target, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in target.key)


# -- upsert -----------------------------------------------------------------------------------
def stage(cur: duckdb.DuckDBPyConnection, target: Target, frame: pd.DataFrame) -> tuple[str, dict[str, int]]:
    """Classify incoming rows against the table; returns the staging table and counts.

    `frame` has the target's key and value columns (and may carry `_row`, the file row). The
    staging table holds the rows cast to the table's types, `_status` and, for rows that will
    be updated, `_before` (their tracked columns as JSON).
    """
    types = column_types(cur, target.table)
    name = f"_stage_{target.table}_{next(_counter)}"
    view = f"{name}_in"
    casts = ", ".join(f"CAST(i.{q(c)} AS {types[c]}) AS {q(c)}" for c in target.key + target.values)
    extra = ", i._row AS _row" if "_row" in frame.columns else ""
    changed = " OR ".join(f"t.{q(c)} IS DISTINCT FROM s.{q(c)}" for c in target.values) or "FALSE"
    if target.insert_only:
        changed = "FALSE"
    cur.register(view, frame)
    try:
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS"
            f" WITH s AS (SELECT {casts}{extra} FROM {view} i),"
            f" c AS (SELECT s.*, CASE WHEN t.{q(target.key[0])} IS NULL THEN 'inserted'"
            f"  WHEN {changed} THEN 'updated' ELSE 'unchanged' END AS _status,"
            f"  {_struct(target.tracked, 't')} AS _old"
            f"  FROM s LEFT JOIN {q(target.table)} t ON {_key_match(target, 't', 's')})"
            f" SELECT * EXCLUDE (_old), CASE WHEN _status = 'updated' THEN to_json(_old) END AS _before FROM c"
        )
    finally:
        cur.unregister(view)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(dict(cur.execute(f"SELECT _status, count(*) FROM {name} GROUP BY ALL").fetchall()))
    return name, counts


def apply(cur: duckdb.DuckDBPyConnection, target: Target, staged: str, batch_id: int, counts: dict[str, int]) -> None:
    """Write the staged rows and their history (inside the caller's transaction)."""
    table = q(target.table)
    batch_id = int(batch_id)
    if counts["updated"] and not target.insert_only:
        sets = ", ".join(f"{q(c)} = s.{q(c)}" for c in target.values)
        if target.batch_column:
            sets += f", {q(target.batch_column)} = {batch_id}"
        cur.execute(
            f"UPDATE {table} AS t SET {sets} FROM {staged} s"
            f" WHERE {_key_match(target, 't', 's')} AND s._status = 'updated'"
        )
    cols = target.key + target.values
    insert_cols = ", ".join(q(c) for c in cols)
    select_cols = insert_cols
    if target.batch_column:
        insert_cols += f", {q(target.batch_column)}"
        select_cols += f", {batch_id}"
    if counts["inserted"]:
        cur.execute(
            f"INSERT INTO {table} ({insert_cols}) SELECT {select_cols} FROM {staged} WHERE _status = 'inserted'"
        )
    if counts["inserted"] or counts["updated"]:
        # The history is built from the staged rows: they hold exactly what was written,
        # with the table's types, so the JSON matches what `drifted` computes from the table.
        after = ", ".join(
            [f"{q(c)} := s.{q(c)}" for c in target.values]
            + ([f"{q(target.batch_column)} := {batch_id}::INTEGER"] if target.batch_column else [])
        )
        cur.execute(
            "INSERT INTO import_change (batch_id, entity, entity_key, action, before_values, after_values)"
            f" SELECT {batch_id}, '{target.table}', to_json({_struct(target.key, 's')})::VARCHAR, s._status,"
            f" s._before, to_json(struct_pack({after}))"
            f" FROM {staged} s WHERE s._status IN ('inserted', 'updated')"
        )


def drop(cur: duckdb.DuckDBPyConnection, staged: str) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {staged}")


# -- undo --------------------------------------------------------------------------------------
def later_batches(cur: duckdb.DuckDBPyConnection, batch_id: int) -> list[int]:
    """Later, not undone batches that changed a row this batch changed."""
    rows = cur.execute(
        "SELECT DISTINCT later.batch_id FROM import_change mine"
        " JOIN import_change later ON later.entity = mine.entity AND later.entity_key = mine.entity_key"
        "  AND later.batch_id > mine.batch_id"
        " JOIN import_batch b ON b.id = later.batch_id AND b.undone_at IS NULL"
        " WHERE mine.batch_id = ? ORDER BY 1",
        [batch_id],
    ).fetchall()
    return [r[0] for r in rows]


def _undo_keys(cur: duckdb.DuckDBPyConnection, target: Target, batch_id: int, types: dict[str, str]) -> str:
    name = f"_undo_{target.table}_{next(_counter)}"
    key_type = _struct_type(types, target.key).replace("'", "''")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT c.action, c.after_values::VARCHAR AS after_values,"
        f" unnest(json_transform(c.entity_key, '{key_type}'))"
        " FROM import_change c WHERE c.batch_id = ? AND c.entity = ?",
        [batch_id, target.table],
    )
    return name


def drifted(cur: duckdb.DuckDBPyConnection, target: Target, batch_id: int) -> int:
    """How many rows this batch wrote are no longer as it left them (changed outside imports)."""
    types = column_types(cur, target.table)
    keys = _undo_keys(cur, target, batch_id, types)
    try:
        return cur.execute(
            f"SELECT count(*) FROM {keys} u LEFT JOIN {q(target.table)} t ON {_key_match(target, 't', 'u')}"
            f" WHERE t.{q(target.key[0])} IS NULL"
            f" OR to_json({_struct(target.tracked, 't')})::VARCHAR <> u.after_values"
        ).fetchone()[0]
    finally:
        drop(cur, keys)


def revert(cur: duckdb.DuckDBPyConnection, target: Target, batch_id: int) -> dict[str, int]:
    """Delete the rows the batch inserted and restore the ones it updated."""
    types = column_types(cur, target.table)
    keys = _undo_keys(cur, target, batch_id, types)
    table = q(target.table)
    try:
        for _ref_col, own_col in target.references:
            cur.execute(
                f"CREATE OR REPLACE TEMP TABLE _undo_deleted_{target.table}_{own_col} AS"
                f" SELECT t.{q(own_col)} AS v FROM {table} t JOIN {keys} u ON {_key_match(target, 't', 'u')}"
                " WHERE u.action = 'inserted'"
            )
        deleted = cur.execute(
            f"DELETE FROM {table} t USING {keys} u WHERE {_key_match(target, 't', 'u')} AND u.action = 'inserted'"
        ).fetchone()[0]
        tracked_type = _struct_type(types, target.key + target.tracked).replace("'", "''")
        restored = 0
        if not target.insert_only:
            sets = ", ".join(f"{q(c)} = b.{q(c)}" for c in target.tracked)
            restored = cur.execute(
                f"UPDATE {table} AS t SET {sets} FROM (SELECT unnest(json_transform("
                "json_merge_patch(c.entity_key::JSON, c.before_values), "
                f"'{tracked_type}')) FROM import_change c WHERE c.batch_id = ? AND c.entity = ?"
                " AND c.action = 'updated') b"
                f" WHERE {_key_match(target, 't', 'b')}",
                [batch_id, target.table],
            ).fetchone()[0]
    finally:
        drop(cur, keys)
    return {"deleted": deleted, "restored": restored}


def dangling_references(cur: duckdb.DuckDBPyConnection, target: Target) -> list[str]:
    """Tables that still point at rows `revert` deleted; call after every target is reverted."""
    found = []
    for ref_col, own_col in target.references:
        deleted = f"_undo_deleted_{target.table}_{own_col}"
        tables = cur.execute(
            "SELECT DISTINCT c.table_name FROM duckdb_columns() c JOIN duckdb_tables() t"
            " ON t.table_name = c.table_name AND t.schema_name = c.schema_name AND t.database_name = c.database_name"
            " WHERE c.column_name = ? AND c.schema_name = 'main' AND NOT t.temporary"
            " AND c.database_name = current_database() ORDER BY 1",
            [ref_col],
        ).fetchall()
        for (table,) in tables:
            if table == target.table or table in _NOT_REFERENCES:
                continue
            hit = cur.execute(
                f"SELECT 1 FROM {q(table)} WHERE {q(ref_col)} IN (SELECT v FROM {deleted}) LIMIT 1"
            ).fetchone()
            if hit:
                found.append(table)
        drop(cur, deleted)
    return found
