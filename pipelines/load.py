"""Validated canonical rows -> tables: upsert by natural key, history, and undo.

All set-based SQL: the incoming rows are registered with DuckDB and joined against the
table, so classification (inserted / updated / unchanged), the writes and the history rows
are a handful of statements whatever the file size. History (migration 005):

- a row inserted into a table with an `id` leaves an `import_insert` row: its id and a hash
  of its key and tracked columns as written (`fingerprint`). That is all undo needs: delete
  it, after checking with the hash that nothing changed it since.
- an updated row, or an inserted row of a table without `id`, leaves an `import_change` row
  with its natural key (`entity_key`) and the same hash; an updated row also keeps its
  tracked columns before and after, as JSON, which undo restores. Rows written before
  migration 005 have no hash and keep their after-values as JSON instead.

Run `stage` + `apply` inside one `db.write` transaction; `stage` alone is a dry run (it only
creates a temporary table).
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
# pupil_left is derived from enrolment (dossier/left.py) and follows it at the end of the transaction.
_NOT_REFERENCES = {"audit_log", "import_change", "import_insert", "import_batch", "schema_version", "pupil_left"}

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
        """The columns history keeps (hashed; before/after JSON for updates) besides the key."""
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


def _fingerprint(target: Target, alias: str, batch: str | None = None) -> str:
    """hash() of a row's key and tracked columns, the proof that undo finds a row as the
    import left it. `batch` stands in for the batch column when the row is not written yet.

    The staged row has the table's types, so it hashes as the stored row will. Should a DuckDB
    upgrade change hash(), undo of earlier batches refuses as if their rows had changed: an
    undo that cannot be done, never a wrong one.
    """
    fields = [f"{q(c)} := {alias}.{q(c)}" for c in target.key + target.values]
    if target.batch_column:
        value = batch if batch is not None else f"{alias}.{q(target.batch_column)}"
        fields.append(f"{q(target.batch_column)} := {value}")
    return f"hash(struct_pack({', '.join(fields)}))"


def has_row_id(types: dict[str, str]) -> bool:
    """Tables with an `id` column record inserted rows by id, in import_insert."""
    return "id" in types


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
    types = column_types(cur, target.table)
    batch = f"{batch_id}::{types[target.batch_column]}" if target.batch_column else None
    by_id = has_row_id(types)
    if counts["inserted"] and by_id:
        # Read back from the table: the ids are only known now, and the hash is computed
        # exactly as `drifted` will compute it.
        logged = cur.execute(
            "INSERT INTO import_insert (batch_id, entity, row_id, fingerprint)"
            f" SELECT {batch_id}, '{target.table}', t.id, {_fingerprint(target, 't')}"
            f" FROM {table} t JOIN {staged} s ON {_key_match(target, 't', 's')} WHERE s._status = 'inserted'"
        ).fetchone()[0]
        if logged != counts["inserted"]:  # e.g. an empty key part: the row could never be undone
            raise RuntimeError(f"{target.table}: {logged} of {counts['inserted']} inserted rows found back by key")
    statuses = ("'updated'",) if by_id else ("'inserted'", "'updated'")
    if counts["updated"] or (counts["inserted"] and not by_id):
        fields = [f"{q(c)} := s.{q(c)}" for c in target.values]
        if batch:
            fields.append(f"{q(target.batch_column)} := {batch}")
        after = f"to_json(struct_pack({', '.join(fields)}))"
        cur.execute(
            "INSERT INTO import_change (batch_id, entity, entity_key, action, before_values, after_values, fingerprint)"
            f" SELECT {batch_id}, '{target.table}', to_json({_struct(target.key, 's')})::VARCHAR, s._status,"
            f" s._before, CASE WHEN s._status = 'updated' THEN {after} END, {_fingerprint(target, 's', batch)}"
            f" FROM {staged} s WHERE s._status IN ({', '.join(statuses)})"
        )


def drop(cur: duckdb.DuckDBPyConnection, staged: str) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {staged}")


# -- undo --------------------------------------------------------------------------------------
def _inserted_ids(target: Target) -> str:
    """The ids of the rows a batch (first parameter) inserted into the target's table."""
    return f"SELECT row_id FROM import_insert WHERE batch_id = ? AND entity = '{target.table}'"


def later_batches(cur: duckdb.DuckDBPyConnection, batch_id: int, targets: tuple[Target, ...] = ()) -> list[int]:
    """Later, not undone batches that changed a row this batch changed.

    A later batch can only update a row this batch inserted, and updates are logged by
    natural key: the keys of this batch's inserted rows come from the table, by id.
    """
    mine = ["SELECT entity, entity_key FROM import_change WHERE batch_id = ?"]
    params = [batch_id]
    for target in targets:
        if has_row_id(column_types(cur, target.table)):
            mine.append(
                f"SELECT '{target.table}', to_json({_struct(target.key, 't')})::VARCHAR FROM {q(target.table)} t"
                f" WHERE t.id IN ({_inserted_ids(target)})"
            )
            params.append(batch_id)
    rows = cur.execute(
        f"SELECT DISTINCT later.batch_id FROM ({' UNION ALL '.join(mine)}) mine"
        " JOIN import_change later ON later.entity = mine.entity AND later.entity_key = mine.entity_key"
        "  AND later.batch_id > ?"
        " JOIN import_batch b ON b.id = later.batch_id AND b.undone_at IS NULL ORDER BY 1",
        [*params, batch_id],
    ).fetchall()
    return [r[0] for r in rows]


def _undo_keys(cur: duckdb.DuckDBPyConnection, target: Target, batch_id: int, types: dict[str, str]) -> str:
    """The batch's import_change rows for the target, with the key unpacked into columns."""
    name = f"_undo_{target.table}_{next(_counter)}"
    key_type = _struct_type(types, target.key).replace("'", "''")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT c.action, c.after_values::VARCHAR AS after_values,"
        f" c.fingerprint, unnest(json_transform(c.entity_key, '{key_type}'))"
        " FROM import_change c WHERE c.batch_id = ? AND c.entity = ?",
        [batch_id, target.table],
    )
    return name


def drifted(cur: duckdb.DuckDBPyConnection, target: Target, batch_id: int) -> int:
    """How many rows this batch wrote are no longer as it left them (changed outside imports)."""
    types = column_types(cur, target.table)
    table = q(target.table)
    keys = _undo_keys(cur, target, batch_id, types)
    try:
        changed = cur.execute(
            f"SELECT count(*) FROM {keys} u LEFT JOIN {table} t ON {_key_match(target, 't', 'u')}"
            f" WHERE t.{q(target.key[0])} IS NULL"
            f" OR (u.fingerprint IS NOT NULL AND {_fingerprint(target, 't')} <> u.fingerprint)"
            # batches from before migration 005 kept the values themselves
            f" OR (u.fingerprint IS NULL AND to_json({_struct(target.tracked, 't')})::VARCHAR <> u.after_values)"
        ).fetchone()[0]
    finally:
        drop(cur, keys)
    if has_row_id(types):
        changed += cur.execute(
            f"SELECT count(*) FROM import_insert i LEFT JOIN {table} t ON t.id = i.row_id"
            f" WHERE i.batch_id = ? AND i.entity = ?"
            f" AND (t.id IS NULL OR {_fingerprint(target, 't')} <> i.fingerprint)",
            [batch_id, target.table],
        ).fetchone()[0]
    return changed


def revert(cur: duckdb.DuckDBPyConnection, target: Target, batch_id: int) -> dict[str, int]:
    """Delete the rows the batch inserted and restore the ones it updated."""
    types = column_types(cur, target.table)
    by_id = has_row_id(types)
    keys = _undo_keys(cur, target, batch_id, types)
    table = q(target.table)
    try:
        for _ref_col, own_col in target.references:
            by_id_sql = f" UNION ALL SELECT {q(own_col)} FROM {table} WHERE id IN ({_inserted_ids(target)})"
            cur.execute(
                f"CREATE OR REPLACE TEMP TABLE _undo_deleted_{target.table}_{own_col} AS"
                f" SELECT t.{q(own_col)} AS v FROM {table} t JOIN {keys} u ON {_key_match(target, 't', 'u')}"
                " WHERE u.action = 'inserted'" + (by_id_sql if by_id else ""),
                [batch_id] if by_id else [],
            )
        deleted = cur.execute(
            f"DELETE FROM {table} t USING {keys} u WHERE {_key_match(target, 't', 'u')} AND u.action = 'inserted'"
        ).fetchone()[0]
        if by_id:
            by_id_deleted = cur.execute(f"DELETE FROM {table} WHERE id IN ({_inserted_ids(target)})", [batch_id])
            deleted += by_id_deleted.fetchone()[0]
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
