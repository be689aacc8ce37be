"""The one place that writes the audit log.

Every write goes through `record`, called inside the caller's transaction, so an audited
change and its audit row commit or roll back together. The app never updates or deletes
audit rows; only the retention job removes old ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from dossier.access import User

ACTIONS = (
    "view",
    "create",
    "correct",
    "withdraw",
    "import",
    "undo",
    "export",
    "delete",
    "sign-in",
    "sign-in-failed",
    "sign-out",
    "account",
    "dismiss",
)


def record(
    cur: duckdb.DuckDBPyConnection,
    user: User | None,
    action: str,
    *,
    pupil_id: int | None = None,
    object: str | None = None,
    detail: str | None = None,
    user_name: str | None = None,
) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    cur.execute(
        "INSERT INTO audit_log (user_id, user_name, role, action, pupil_id, object, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            user.id if user else None,
            user.username if user else user_name,
            user.role if user else None,
            action,
            pupil_id,
            object,
            detail,
        ],
    )
