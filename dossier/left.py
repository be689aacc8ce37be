"""Which pupils have left the school: the `pupil_left` table behind the archive rule.

A pupil has left when their latest enrolment has a leave date, or when it lies in an earlier
school year than the newest roster (the new roster is in and the pupil is not on it; they left
on 31 August of their last school year). Before a new year's roster is imported, nobody counts as
left by absence, so early September does not archive the whole school.

DuckDB has no triggers, so `Database.write` calls `refresh` at the end of every write
transaction: a hash of the enrolments (one scan, ~1-2 ms at 120,000 rows) tells whether anything
changed, and only then is the table recomputed, in the same transaction as the change itself.
The retention job keeps its own date-parameterised definition (`left_pupils(as_of)`, migration
006) for "which pupils had left on day X"; both agree for any day after the newest roster's import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

SIGNATURE_SQL = (
    "SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(pupil_id, school_year, leave_date)), 0)::VARCHAR"
    " FROM enrolment"
)

LEFT_SQL = """
    SELECT pupil_id, coalesce(leave, make_date(CAST(substr(last_year, 6, 4) AS INTEGER), 8, 31)) AS left_on
    FROM (
        SELECT pupil_id, max(school_year) AS last_year, arg_max_null(leave_date, school_year) AS leave
        FROM enrolment GROUP BY pupil_id
    ) latest
    WHERE leave IS NOT NULL OR last_year < (SELECT max(school_year) FROM enrolment)
"""

# The archive condition for pupil_scope_sql: `{col}` is the pupil id column of the query.
ARCHIVED_SQL = "{col} NOT IN (SELECT pupil_id FROM pupil_left WHERE left_on <= current_date)"


def refresh(cur: duckdb.DuckDBPyConnection) -> bool:
    """Recompute `pupil_left` when the enrolments changed since the last time; True if it did."""
    signature = cur.execute(SIGNATURE_SQL).fetchone()[0]
    row = cur.execute("SELECT signature FROM pupil_left_state WHERE id = 1").fetchone()
    if row is not None and row[0] == signature:
        return False
    cur.execute("DELETE FROM pupil_left")
    cur.execute(f"INSERT INTO pupil_left {LEFT_SQL}")
    cur.execute("INSERT OR REPLACE INTO pupil_left_state VALUES (1, ?)", [signature])
    return True
