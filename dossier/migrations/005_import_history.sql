-- Lighter import history (pipelines/load.py). Measured on a 100,000-row LVS file, the JSON
-- history of inserted rows made an import write twice the data, took a third of its time and
-- 40 MB of its peak memory. Undo needs far less of an inserted row: which row it is, and proof
-- that nobody changed it since, which a hash of its key and tracked columns gives.
--
-- import_insert: one row per row an import inserted into a table that has an `id`.
-- import_change keeps updated rows (before/after JSON: what undo restores, and the history of
-- previous values) and inserted rows of tables without `id` (enrolment, school_year), now
-- with the same hash and without after_values for inserted rows. Rows from before this
-- migration have no hash and are checked against their after_values as before.
--
-- The (entity, entity_key) index cost more on every import (an ART over every key written)
-- than it saved: DuckDB answers undo's "did a later batch touch the same rows" with a hash
-- join, not with the index. The batch_id index goes too: batch ids grow with insertion order,
-- so DuckDB's zone maps already skip other batches' rows. DuckDB cannot alter a table that
-- has indexes, so both go before the ALTERs.

DROP INDEX import_change_key_idx;
DROP INDEX import_change_batch_idx;
ALTER TABLE import_change ALTER COLUMN after_values DROP NOT NULL;
ALTER TABLE import_change ADD COLUMN fingerprint UBIGINT;

CREATE TABLE import_insert (
    batch_id INTEGER NOT NULL,
    entity VARCHAR NOT NULL,               -- table name
    row_id BIGINT NOT NULL,                -- the row's id
    fingerprint UBIGINT NOT NULL           -- hash() of its key and tracked columns as inserted
);
