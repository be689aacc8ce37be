"""The one place that writes the audit log.

Every write goes through `record`, called inside the caller's transaction, so an audited
change and its audit row commit or roll back together. The app never updates or deletes
audit rows; only the retention job removes old ones. Directie and beheerder read the log
through `query_audit` and `export_audit`, and that reading is logged in turn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from dossier.access import ROLE_LABELS, User, require

if TYPE_CHECKING:
    import duckdb

    from dossier.db import Database

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
    "backup",
    "restore",
    "retention",
    "legal-hold",
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


# -- reading the log (directie, beheerder) ---------------------------------------------------

ACTION_LABELS = {
    "view": "bekeken",
    "create": "aangemaakt",
    "correct": "gecorrigeerd",
    "withdraw": "ingetrokken",
    "import": "import",
    "undo": "import ongedaan gemaakt",
    "export": "export",
    "delete": "verwijderd",
    "sign-in": "aangemeld",
    "sign-in-failed": "aanmelden mislukt",
    "sign-out": "afgemeld",
    "account": "accountwijziging",
    "dismiss": "signaal weggezet",
    "backup": "back-up",
    "restore": "back-up teruggezet",
    "retention": "bewaartermijnen",
    "legal-hold": "juridische blokkering",
}

# Column -> Dutch header, in the order the page and the CSV show them.
AUDIT_HEADERS = {
    "id": "Nr.",
    "logged_at": "Tijdstip",
    "user_name": "Gebruiker",
    "role": "Rol",
    "action": "Actie",
    "pupil_id": "Leerling-id",
    "pupil": "Leerling",
    "object": "Object",
    "detail": "Detail",
}

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# A CSV is for an inspector or the DPO, not a data dump: one that would be bigger asks for a narrower filter.
MAX_EXPORT_ROWS = 200_000


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asks for; None means no restriction. Dates are inclusive days."""

    pupil_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self):
        if self.action is not None and self.action not in ACTIONS:
            raise AuditQueryError(f"Onbekende actie '{self.action}'.")
        if self.start and self.end and self.start > self.end:
            raise AuditQueryError("De begindatum ligt na de einddatum.")

    def where(self) -> tuple[str, list]:
        parts, params = ["TRUE"], []
        if self.pupil_id is not None:
            parts.append("a.pupil_id = ?")
            params.append(int(self.pupil_id))
        if self.user_id is not None:
            parts.append("a.user_id = ?")
            params.append(int(self.user_id))
        if self.action is not None:
            parts.append("a.action = ?")
            params.append(self.action)
        if self.start is not None:
            parts.append("a.logged_at >= ?")
            params.append(datetime.combine(self.start, time.min))
        if self.end is not None:
            parts.append("a.logged_at < ?")
            params.append(datetime.combine(self.end + timedelta(days=1), time.min))
        return " AND ".join(parts), params

    def describe(self) -> str:
        """The filter in words, for the audit row of the read itself."""
        parts = []
        if self.pupil_id is not None:
            parts.append(f"leerling {self.pupil_id}")
        if self.user_id is not None:
            parts.append(f"gebruiker {self.user_id}")
        if self.action is not None:
            parts.append(f"actie {self.action}")
        if self.start is not None:
            parts.append(f"vanaf {self.start:%d/%m/%Y}")
        if self.end is not None:
            parts.append(f"tot en met {self.end:%d/%m/%Y}")
        return ", ".join(parts) or "geen filter"


class AuditQueryError(ValueError):
    """A Dutch message about an invalid filter."""


@dataclass(frozen=True)
class AuditPage:
    rows: pd.DataFrame  # columns of AUDIT_HEADERS, newest first
    total: int  # rows matching the filter, over all pages
    offset: int
    limit: int
    activity: pd.DataFrame  # day, action (Dutch label), count: over the whole filter, not just this page


_SELECT = """
    SELECT a.id, a.logged_at, a.user_name, a.role, a.action, a.pupil_id,
           CASE WHEN p.id IS NULL THEN NULL ELSE p.first_name || ' ' || p.last_name END AS pupil,
           a.object, a.detail
    FROM audit_log a LEFT JOIN pupil p ON p.id = a.pupil_id
"""


def _dutch(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["role"] = out["role"].map(lambda r: ROLE_LABELS.get(r, r) if isinstance(r, str) else None)
    out["action"] = out["action"].map(lambda a: ACTION_LABELS.get(a, a))
    for column in ("id", "pupil_id"):  # NULLs would otherwise turn the ids into floats
        out[column] = out[column].astype("Int64")
    return out[list(AUDIT_HEADERS)]


def query_audit(
    db: Database,
    user: User,
    *,
    pupil_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> AuditPage:
    """One page of the log, newest first, with the total count and the activity per day and action.

    The read itself is logged (who looked, with which filter) in the same transaction.
    """
    require(user, "audit.read")
    if not 1 <= limit <= MAX_PAGE_SIZE or offset < 0:
        raise AuditQueryError(f"Een pagina telt 1 tot {MAX_PAGE_SIZE} rijen.")
    filters = AuditFilter(pupil_id, user_id, action, start, end)
    where, params = filters.where()

    def read(cur):
        total = cur.execute(f"SELECT count(*) FROM audit_log a WHERE {where}", params).fetchone()[0]
        rows = cur.execute(
            f"{_SELECT} WHERE {where} ORDER BY a.logged_at DESC, a.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).df()
        activity = cur.execute(
            f"SELECT CAST(a.logged_at AS DATE) AS day, a.action, count(*) AS count FROM audit_log a"
            f" WHERE {where} GROUP BY ALL ORDER BY day, a.action",
            params,
        ).df()
        record(cur, user, "view", pupil_id=pupil_id, object="auditlog", detail=f"{filters.describe()}; {total} rijen")
        return total, rows, activity

    total, rows, activity = db.write(read)
    activity["action"] = activity["action"].map(lambda a: ACTION_LABELS.get(a, a))
    return AuditPage(_dutch(rows), int(total), offset, limit, activity)


def export_audit(
    db: Database,
    user: User,
    *,
    pupil_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> bytes:
    """Every row matching the filter as CSV bytes (see `audit_csv`); logged as an export."""
    require(user, "audit.read")
    filters = AuditFilter(pupil_id, user_id, action, start, end)
    where, params = filters.where()

    def read(cur):
        total = cur.execute(f"SELECT count(*) FROM audit_log a WHERE {where}", params).fetchone()[0]
        if total > MAX_EXPORT_ROWS:
            raise AuditQueryError(
                f"Deze selectie telt {total:,} rijen; een export kan er hoogstens {MAX_EXPORT_ROWS:,}. "
                "Kies een kortere periode of een filter.".replace(",", ".")
            )
        rows = cur.execute(f"{_SELECT} WHERE {where} ORDER BY a.logged_at, a.id", params).df()
        record(
            cur,
            user,
            "export",
            pupil_id=pupil_id,
            object="auditlog",
            detail=f"CSV, {filters.describe()}; {total} rijen",
        )
        return rows

    return audit_csv(_dutch(db.write(read)))


def audit_csv(frame: pd.DataFrame) -> bytes:
    """The log as CSV for a spreadsheet: Dutch headers, `;` separator, dd/mm/jjjj HH:MM, UTF-8 with BOM.

    Names and details come from people and import files, so text cells that a spreadsheet would
    run as a formula are neutralised as in the XLSX exports.
    """
    from dossier.exports import neutralise  # here: dossier.exports imports this module

    out = frame.rename(columns=AUDIT_HEADERS)
    for column in out.columns:
        out[column] = out[column].map(lambda v: _csv_cell(v, neutralise))
    # The BOM makes Excel read UTF-8 (accents in names); `;` because Belgian Excel expects it.
    return out.to_csv(sep=";", index=False, lineterminator="\r\n").encode("utf-8-sig")


def _csv_cell(value: object, neutralise) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        return neutralise(value)
    return value


def audit_users(db: Database, user: User) -> pd.DataFrame:
    """Everyone who appears in the log (user_id, name), for the filter; accounts removed since included."""
    require(user, "audit.read")
    with db.cursor() as cur:
        return cur.execute(
            "SELECT a.user_id, coalesce(any_value(s.display_name), any_value(a.user_name)) AS name,"
            " any_value(a.user_name) AS username"
            " FROM audit_log a LEFT JOIN staff_user s ON s.id = a.user_id"
            " WHERE a.user_id IS NOT NULL GROUP BY a.user_id ORDER BY name"
        ).df()


def audit_pupils(db: Database, user: User) -> pd.DataFrame:
    """Every pupil that appears in the log (pupil_id, name or '#id' once removed), for the filter."""
    require(user, "audit.read")
    with db.cursor() as cur:
        return cur.execute(
            "SELECT a.pupil_id, coalesce(any_value(p.last_name || ', ' || p.first_name), '#' || a.pupil_id) AS name"
            " FROM audit_log a LEFT JOIN pupil p ON p.id = a.pupil_id"
            " WHERE a.pupil_id IS NOT NULL GROUP BY a.pupil_id ORDER BY name"
        ).df()
