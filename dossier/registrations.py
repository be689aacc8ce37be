"""Registrations: append-only versions, read and written under the access policy.

A registration is never updated or deleted here: a correction or a withdrawal inserts the
next version. Reads select the latest version per registration and filter on its
visibility in SQL (team / zorgteam / directie, a teacher only for pupils of their own
classes), so a row the user may not read never leaves the database. Every read of a pupil's
registrations and every write is audited in the same transaction.
"""

from __future__ import annotations

import hashlib
import numbers
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date

import duckdb
import pandas as pd

from dossier import audit, labels
from dossier.access import AccessDenied, User, can, pupil_scope_sql, require
from dossier.db import Database, DatabaseConflictError
from dossier.forms import (
    FORM,
    MAX_SHORT,
    REGISTRATION_FIELDS,
    FormError,
    validate_registration,
    validate_withdrawal,
)
from dossier.pupils import OUT_OF_SCOPE
from dossier.schoolyear import school_year_of

NOT_FOUND = "Deze registratie bestaat niet of je mag ze niet lezen."
CONCURRENT = "Iemand anders wijzigde deze registratie tegelijk met jou. Open ze opnieuw en probeer nog eens."
MAX_PDF_BYTES = 20 * 1024 * 1024

VISIBILITIES = tuple(labels.VISIBILITIES)
EDITABLE_FIELDS = (*labels.BASE_FIELDS, "type", "report_kind", "follows_up")

# Content columns copied from one version to the next: what a form holds, plus the link it follows up.
_CONTENT = (*REGISTRATION_FIELDS, "follows_up")

# Columns of list_registrations (current versions), in order.
LIST_COLUMNS = (
    "registration_id",
    "version",
    "row_id",
    "pupil_id",
    "type",
    "fact_date",
    "facts",
    "interpretation",
    "agreements",
    "owner",
    "evaluation_date",
    "domain",
    "visibility",
    "transferable",
    "confidential_third_parties",
    "report_kind",
    "follows_up",
    "group_id",
    "school_year",
    "class_id",
    "class_name",
    "author_id",
    "author_name",
    "author_role",
    "created_at",
    "changed_by_name",
    "changed_at",
    "withdrawn",
    "withdrawal_reason",
    "attachment_name",
)


def _permission(visibility: str, mode: str) -> str:
    return f"registrations.{visibility}.{mode}"


def readable_visibilities(user: User) -> tuple[str, ...]:
    return tuple(v for v in VISIBILITIES if can(user, _permission(v, "read")))


def writable_visibilities(user: User) -> tuple[str, ...]:
    """Visibilities this user may write (for a pupil in scope): what the form may offer."""
    return tuple(v for v in VISIBILITIES if can(user, _permission(v, "write")))


def visibility_sql(user: User, mode: str, alias: str = "r") -> tuple[str, list]:
    """SQL condition limiting rows of `alias` (registration columns) to what `user` may `mode`.

    Raises AccessDenied when the role may not read (or write) registrations at all.
    """
    parts, params = [], []
    for visibility in VISIBILITIES:
        permission = _permission(visibility, mode)
        if not can(user, permission):
            continue
        condition, values = pupil_scope_sql(user, permission, f"{alias}.pupil_id")
        parts.append(f"({alias}.visibility = '{visibility}' AND {condition})")
        params += values
    if not parts:
        require(user, _permission("team", mode))  # raises with the policy's Dutch message
    return "(" + " OR ".join(parts) + ")", params


def as_id(value) -> int | None:
    """An id as int (numpy integers from a data frame included), or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def require_pupil(cur, user: User, pupil_id, permission: str) -> None:
    """AccessDenied unless the pupil exists and is in the user's scope for `permission`."""
    condition, params = pupil_scope_sql(user, permission, "p.id")
    pupil_id = as_id(pupil_id)
    if pupil_id is None:
        raise AccessDenied(OUT_OF_SCOPE)
    if cur.execute(f"SELECT 1 FROM pupil p WHERE p.id = ? AND {condition}", [pupil_id, *params]).fetchone() is None:
        raise AccessDenied(OUT_OF_SCOPE)


def _require_write(cur, user: User, pupil_id: int, visibility: str) -> None:
    require(user, _permission(visibility, "write"))
    require_pupil(cur, user, pupil_id, _permission(visibility, "write"))


def _class_at(cur, pupil_id: int, fact_date: date) -> tuple[str, int | None]:
    year = school_year_of(fact_date)
    row = cur.execute(
        "SELECT class_id FROM enrolment WHERE pupil_id = ? AND school_year = ?", [pupil_id, year]
    ).fetchone()
    return year, (row[0] if row else None)


def _check_follows_up(cur, user: User, pupil_id: int, follows_up) -> int | None:
    if follows_up is None or follows_up == "":
        return None
    try:
        target = int(follows_up)
    except (TypeError, ValueError):
        raise FormError({"follows_up": "Kies een bestaande afspraak van deze leerling."}) from None
    condition, params = visibility_sql(user, "read", "r")
    row = cur.execute(
        f"""
        SELECT r.pupil_id FROM (
            SELECT * FROM registration WHERE registration_id = ?
            QUALIFY row_number() OVER (PARTITION BY registration_id ORDER BY version DESC) = 1
        ) r WHERE {condition}
        """,
        [target, *params],
    ).fetchone()
    if row is None or row[0] != pupil_id:
        raise FormError({"follows_up": "Kies een bestaande afspraak van deze leerling."})
    return target


def _split_fields(fields: Mapping) -> tuple[dict, object]:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        # Author, role and timestamps come from the login and the clock, never from input.
        raise TypeError(f"unknown registration field(s): {', '.join(sorted(unknown))}")
    values = {k: v for k, v in fields.items() if k != "follows_up"}
    return values, fields.get("follows_up")


def _with_default_visibility(user: User, fields: dict) -> dict:
    if not writable_visibilities(user):
        require(user, _permission("team", "write"))  # CLB, beheerder: refused before any form message
    if fields.get("visibility") in (None, "") and fields.get("type") in labels.TEMPLATES:
        fields = {**fields, "visibility": labels.default_visibility(fields["type"], writable_visibilities(user))}
    return fields


def insert_registration(
    cur,
    user: User,
    pupil_id: int,
    values: Mapping,
    *,
    group_id: int | None = None,
) -> int:
    """Write version 1 of a validated registration inside the caller's transaction.

    `values` come from `forms.validate_registration` (plus `follows_up`). Used by
    `create_registration`, `create_bulk` and care.set_phase. Returns the registration id.
    """
    _require_write(cur, user, pupil_id, values["visibility"])
    pupil_id = as_id(pupil_id)
    follows_up = _check_follows_up(cur, user, pupil_id, values.get("follows_up"))
    school_year, class_id = _class_at(cur, pupil_id, values["fact_date"])
    registration_id = cur.execute("SELECT nextval('registration_id_seq')").fetchone()[0]
    _insert_row(
        cur,
        user,
        registration_id=registration_id,
        version=1,
        supersedes=None,
        pupil_id=pupil_id,
        content={**{k: values.get(k) for k in _CONTENT}, "follows_up": follows_up},
        school_year=school_year,
        class_id=class_id,
        group_id=group_id,
    )
    audit.record(
        cur,
        user,
        "create",
        pupil_id=pupil_id,
        object=f"registration:{registration_id}",
        detail=f"registratie {values['type']}, zichtbaarheid {values['visibility']}",
    )
    return registration_id


def _insert_row(
    cur,
    user: User,
    *,
    registration_id: int,
    version: int,
    supersedes: int | None,
    pupil_id: int,
    content: Mapping,
    school_year: str,
    class_id: int | None,
    group_id: int | None,
    withdrawn: bool = False,
    withdrawal_reason: str | None = None,
) -> None:
    columns = [
        "registration_id",
        "version",
        "supersedes",
        "pupil_id",
        *_CONTENT,
        "group_id",
        "author_id",
        "author_name",
        "author_role",
        "withdrawn",
        "withdrawal_reason",
        "school_year",
        "class_id",
    ]
    values = [
        registration_id,
        version,
        supersedes,
        pupil_id,
        *(content.get(k) for k in _CONTENT),
        group_id,
        user.id,
        user.name[:MAX_SHORT],
        user.role,
        withdrawn,
        withdrawal_reason,
        school_year,
        class_id,
    ]
    marks = ", ".join("?" for _ in columns)
    cur.execute(f"INSERT INTO registration ({', '.join(columns)}) VALUES ({marks})", values)


def create_registration(db: Database, user: User, pupil_id: int, **fields) -> int:
    """Write a new registration for one pupil; returns its (logical) registration id.

    Fields: type, fact_date, facts, interpretation, agreements, owner, evaluation_date,
    domain, visibility, transferable, confidential_third_parties, report_kind, follows_up.
    Unset visibility takes the type's default that the user may write. FormError on invalid
    input, AccessDenied when the user may not write it.
    """
    values, follows_up = _split_fields(fields)
    clean = validate_registration(_with_default_visibility(user, values))
    clean["follows_up"] = follows_up
    return db.write(lambda cur: insert_registration(cur, user, pupil_id, clean))


def create_bulk(db: Database, user: User, pupil_ids: list[int], **fields) -> list[int]:
    """The same registration for a group of pupils, in one transaction: all or nothing."""
    values, follows_up = _split_fields(fields)
    if follows_up is not None:
        raise FormError({"follows_up": "Een evaluatie van een afspraak schrijf je per leerling."})
    unique_ids = list(dict.fromkeys(pupil_ids or []))
    if not unique_ids:
        raise FormError({FORM: "Kies minstens één leerling."})
    clean = validate_registration(_with_default_visibility(user, values))

    def write(cur):
        group_id = cur.execute("SELECT nextval('registration_group_id_seq')").fetchone()[0]
        return [insert_registration(cur, user, pid, clean, group_id=group_id) for pid in unique_ids]

    return db.write(write)


def _latest_row(cur, registration_id) -> dict | None:
    registration_id = as_id(registration_id)
    if registration_id is None:
        return None
    cur.execute("SELECT * FROM registration WHERE registration_id = ? ORDER BY version DESC LIMIT 1", [registration_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _readable(cur, user: User, row: Mapping) -> bool:
    condition, params = visibility_sql(user, "read", "r")
    found = cur.execute(
        f"SELECT 1 FROM registration r WHERE r.row_id = ? AND {condition}", [row["row_id"], *params]
    ).fetchone()
    return found is not None


def _first_author(cur, registration_id: int) -> int:
    return cur.execute(
        "SELECT author_id FROM registration WHERE registration_id = ? AND version = 1", [registration_id]
    ).fetchone()[0]


def _require_change(cur, user: User, current: Mapping) -> None:
    """The author (who wrote version 1), or zorgteam/directie, within the visibility they may write."""
    if not _readable(cur, user, current):
        raise AccessDenied(NOT_FOUND)
    _require_write(cur, user, current["pupil_id"], current["visibility"])
    if user.role not in ("zorgteam", "directie") and _first_author(cur, current["registration_id"]) != user.id:
        raise AccessDenied("Enkel de auteur, het zorgteam of de directie kan deze registratie wijzigen.")


def _write_version(db: Database, fn):
    """db.write for a new version: losing a race for the same version number gets a Dutch message.

    UNIQUE (registration_id, version) makes the second of two simultaneous corrections fail,
    at its insert or at commit; retrying blindly would write over a text the user never saw.
    """
    try:
        return db.write(fn)
    except (duckdb.ConstraintException, duckdb.TransactionException) as exc:
        if "constraint" not in str(exc).lower():
            raise
        raise DatabaseConflictError(CONCURRENT) from exc


def correct_registration(db: Database, user: User, registration_id: int, **fields) -> int:
    """Write a corrected version; fields not given keep their current value. Returns the new version number."""
    values, follows_up = _split_fields(fields)

    def write(cur):
        current = _latest_row(cur, registration_id)
        if current is None or not _readable(cur, user, current):
            raise AccessDenied(NOT_FOUND)
        _require_change(cur, user, current)
        if current["withdrawn"]:
            raise FormError({FORM: "Deze registratie is ingetrokken en kan niet meer gecorrigeerd worden."})
        merged = {k: current[k] for k in _CONTENT if k != "follows_up"}
        merged.update(values)
        clean = validate_registration(merged)
        clean["follows_up"] = current["follows_up"] if "follows_up" not in fields else follows_up
        if clean["visibility"] != current["visibility"]:
            _require_write(cur, user, current["pupil_id"], clean["visibility"])
        if clean["follows_up"] != current["follows_up"]:
            clean["follows_up"] = _check_follows_up(cur, user, current["pupil_id"], clean["follows_up"])
        if all(clean[k] == current[k] for k in _CONTENT):
            raise FormError({FORM: "Er is niets gewijzigd."})
        school_year, class_id = _class_at(cur, current["pupil_id"], clean["fact_date"])
        version = current["version"] + 1
        _insert_row(
            cur,
            user,
            registration_id=registration_id,
            version=version,
            supersedes=current["row_id"],
            pupil_id=current["pupil_id"],
            content=clean,
            school_year=school_year,
            class_id=class_id,
            group_id=current["group_id"],
        )
        changed = [k for k in _CONTENT if clean[k] != current[k]]
        audit.record(
            cur,
            user,
            "correct",
            pupil_id=current["pupil_id"],
            object=f"registration:{registration_id}",
            detail=f"versie {version}; gewijzigd: {', '.join(changed)}",
        )
        return version

    return _write_version(db, write)


def withdraw_registration(db: Database, user: User, registration_id: int, reason: str) -> None:
    """Withdraw: a new version marked withdrawn, with the reason. The earlier versions stay."""
    clean_reason = validate_withdrawal(reason)

    def write(cur):
        current = _latest_row(cur, registration_id)
        if current is None or not _readable(cur, user, current):
            raise AccessDenied(NOT_FOUND)
        _require_change(cur, user, current)
        if current["withdrawn"]:
            raise FormError({FORM: "Deze registratie is al ingetrokken."})
        version = current["version"] + 1
        _insert_row(
            cur,
            user,
            registration_id=registration_id,
            version=version,
            supersedes=current["row_id"],
            pupil_id=current["pupil_id"],
            content={k: current[k] for k in _CONTENT},
            school_year=current["school_year"],
            class_id=current["class_id"],
            group_id=current["group_id"],
            withdrawn=True,
            withdrawal_reason=clean_reason,
        )
        audit.record(
            cur,
            user,
            "withdraw",
            pupil_id=current["pupil_id"],
            object=f"registration:{registration_id}",
            detail=f"versie {version}, ingetrokken",
        )

    _write_version(db, write)


def _as_list(values: Iterable[str] | str | None) -> list[str] | None:
    """A filter list; None or an empty selection means no filter."""
    if values is None:
        return None
    found = [values] if isinstance(values, str) else [str(v) for v in values]
    return found or None


def list_registrations(
    db: Database,
    user: User,
    pupil_id: int,
    *,
    types=None,
    domains=None,
    school_year: str | None = None,
    author: int | None = None,
    search: str | None = None,
    include_withdrawn: bool = False,
) -> pd.DataFrame:
    """Current versions of one pupil's registrations that the user may read, newest fact first.

    `author` is a staff user id (who wrote version 1). `search` is case- and
    accent-insensitive over facts, interpretation and agreements. Columns: LIST_COLUMNS.
    """

    def read(cur):
        frame = query_registrations(
            cur,
            user,
            pupil_id,
            types=types,
            domains=domains,
            school_year=school_year,
            author=author,
            search=search,
            include_withdrawn=include_withdrawn,
        )
        audit.record(
            cur,
            user,
            "view",
            pupil_id=pupil_id,
            object="registrations",
            detail=f"{len(frame)} registraties" + (" (met zoekterm)" if search and search.strip() else ""),
        )
        return frame

    return db.write(read)


def query_registrations(
    cur,
    user: User,
    pupil_id: int,
    *,
    types=None,
    domains=None,
    school_year: str | None = None,
    author: int | None = None,
    search: str | None = None,
    include_withdrawn: bool = False,
) -> pd.DataFrame:
    """`list_registrations` inside the caller's transaction, without its audit row.

    For callers that audit the whole read once themselves (the pupil file)."""
    # Access is decided in SQL; the content filters are one pure function shared with the pupil
    # page, which filters a dossier it already read without reading (and auditing) it again.
    visibility_sql(user, "read", "r")  # a role that reads no registration at all is refused first
    require_pupil(cur, user, pupil_id, "dossier.read")
    frame = execute_current_versions(cur, user, pupil_id).df()
    return filter_registrations(
        frame,
        types=types,
        domains=domains,
        school_year=school_year,
        author=author,
        search=search,
        include_withdrawn=include_withdrawn,
    )


def execute_current_versions(cur, user: User, pupil_id: int, visibilities: Iterable[str] | None = None):
    """Run the query of a pupil's current versions the user may read (LIST_COLUMNS); the caller fetches.

    Unchecked for the pupil: only for callers that verified the pupil is in the user's
    dossier.read scope. Visibility is decided here, in SQL. `visibilities`: the ones the
    caller already verified (in SQL) that the user may read for this very pupil, so the
    scope conditions are not evaluated again for every row.
    """
    if visibilities is None:
        condition, params = visibility_sql(user, "read", "r")
    else:
        chosen = [v for v in VISIBILITIES if v in set(visibilities)]  # only known names reach the SQL text
        condition = "r.visibility IN (" + ", ".join(f"'{v}'" for v in chosen) + ")" if chosen else "FALSE"
        params = []
    # Per registration the latest version and the first version's author (who wrote it), from the
    # pupil's version rows in (registration_id, version) order: neighbours mark a registration's
    # first and latest rows and the first row's author is carried forward. Windows over an order
    # only, not PARTITION BY or GROUP BY: for a few dozen rows DuckDB's hash partitioning cost
    # several milliseconds, a sort a fraction of one. The pupil filter stays the scan's only one,
    # so the rows come through the pupil index.
    return cur.execute(
        f"""
        SELECT r.registration_id, r.version, r.row_id, r.pupil_id, r.type, r.fact_date, r.facts,
               r.interpretation, r.agreements, r.owner, r.evaluation_date, r.domain, r.visibility,
               r.transferable, r.confidential_third_parties, r.report_kind, r.follows_up, r.group_id,
               r.school_year, r.class_id, c.name AS class_name,
               r.first_author_id AS author_id, r.first_author_name AS author_name,
               r.first_author_role AS author_role, r.first_created_at AS created_at,
               r.author_name AS changed_by_name, r.created_at AS changed_at,
               r.withdrawn, r.withdrawal_reason, a.file_name AS attachment_name
        FROM (
            SELECT *,
                   last_value(CASE WHEN is_first THEN author_id END IGNORE NULLS) OVER w AS first_author_id,
                   last_value(CASE WHEN is_first THEN author_name END IGNORE NULLS) OVER w AS first_author_name,
                   last_value(CASE WHEN is_first THEN author_role END IGNORE NULLS) OVER w AS first_author_role,
                   last_value(CASE WHEN is_first THEN created_at END IGNORE NULLS) OVER w AS first_created_at
            FROM (
                SELECT *, lag(registration_id) OVER v IS DISTINCT FROM registration_id AS is_first,
                       lead(registration_id) OVER v IS DISTINCT FROM registration_id AS is_latest
                FROM registration WHERE pupil_id = ?
                WINDOW v AS (ORDER BY registration_id, version)
            )
            WINDOW w AS (ORDER BY registration_id, version ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ) r
        LEFT JOIN class c ON c.id = r.class_id
        LEFT JOIN (
            SELECT registration_id, arg_max(file_name, id) AS file_name FROM registration_attachment
            WHERE registration_id IN (SELECT registration_id FROM registration WHERE pupil_id = ?)
            GROUP BY registration_id
        ) a ON a.registration_id = r.registration_id
        WHERE r.is_latest AND {condition}
        ORDER BY r.fact_date DESC, r.first_created_at DESC, r.registration_id DESC
        """,
        [pupil_id, pupil_id, *params],
    )


def filter_registrations(
    frame: pd.DataFrame,
    *,
    types=None,
    domains=None,
    school_year: str | None = None,
    author: int | None = None,
    search: str | None = None,
    include_withdrawn: bool = False,
) -> pd.DataFrame:
    """Content filters on a frame of current versions (LIST_COLUMNS).

    `author` is the staff id of who wrote version 1; `search` is case- and accent-insensitive
    over facts, interpretation and agreements; an empty `types`/`domains` means no filter.
    """
    if frame.empty:
        return frame
    keep = pd.Series(True, index=frame.index)
    if not include_withdrawn:
        keep &= ~frame["withdrawn"].astype(bool)
    type_list, domain_list = _as_list(types), _as_list(domains)
    if type_list is not None:
        keep &= frame["type"].isin(type_list)
    if domain_list is not None:
        keep &= frame["domain"].isin(domain_list)
    if school_year:
        keep &= frame["school_year"] == school_year
    if author is not None:
        keep &= frame["author_id"] == int(author)
    if search and search.strip():
        text = frame[["facts", "interpretation", "agreements"]].fillna("").agg(" ".join, axis=1).map(_fold)
        keep &= text.str.contains(_fold(search.strip()), regex=False)
    return frame[keep].reset_index(drop=True)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def registration_history(db: Database, user: User, registration_id: int) -> pd.DataFrame:
    """All versions the user may read, oldest first; AccessDenied when the current one is not readable.

    A version is shown only if its own visibility is readable too, so narrowing a
    registration to directie also hides what it said before from the team.
    """
    condition, params = visibility_sql(user, "read", "r")

    def read(cur):
        current = _latest_row(cur, registration_id)
        if current is None or not _readable(cur, user, current):
            raise AccessDenied(NOT_FOUND)
        frame = cur.execute(
            f"""
            SELECT r.row_id, r.registration_id, r.version, r.supersedes, r.pupil_id, r.type, r.fact_date,
                   r.facts, r.interpretation, r.agreements, r.owner, r.evaluation_date, r.domain, r.visibility,
                   r.transferable, r.confidential_third_parties, r.report_kind, r.follows_up, r.group_id,
                   r.author_id, r.author_name, r.author_role, r.created_at, r.withdrawn, r.withdrawal_reason,
                   r.school_year, r.class_id
            FROM registration r
            WHERE r.registration_id = ? AND {condition}
            ORDER BY r.version
            """,
            [registration_id, *params],
        ).df()
        audit.record(
            cur,
            user,
            "view",
            pupil_id=current["pupil_id"],
            object=f"registration:{registration_id}",
            detail=f"geschiedenis, {len(frame)} versies",
        )
        return frame

    return db.write(read)


def attach_pdf(db: Database, user: User, registration_id: int, file_name: str, content: bytes) -> None:
    """Attach the PDF of a verslag. Whoever may correct the registration may attach."""
    name = (file_name or "").strip().replace("\\", "/").rsplit("/", 1)[-1][:MAX_SHORT] or "verslag.pdf"
    if not isinstance(content, bytes | bytearray) or not bytes(content).startswith(b"%PDF"):
        raise FormError({"attachment": "Dit bestand is geen PDF."})
    if len(content) > MAX_PDF_BYTES:
        raise FormError({"attachment": f"Het bestand is groter dan {MAX_PDF_BYTES // (1024 * 1024)} MB."})
    data = bytes(content)
    digest = hashlib.sha256(data).hexdigest()

    def write(cur):
        current = _latest_row(cur, registration_id)
        if current is None or not _readable(cur, user, current):
            raise AccessDenied(NOT_FOUND)
        if current["type"] != "verslag":
            raise FormError({"attachment": "Een PDF-bijlage kan enkel bij een registratie van het type Verslag."})
        _require_change(cur, user, current)
        if current["withdrawn"]:
            raise FormError({FORM: "Deze registratie is ingetrokken."})
        attachment_id = cur.execute(
            "INSERT INTO registration_attachment"
            " (registration_id, file_name, sha256, size_bytes, content, uploaded_by_id, uploaded_by_name)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [registration_id, name, digest, len(data), data, user.id, user.name[:MAX_SHORT]],
        ).fetchone()[0]
        audit.record(
            cur,
            user,
            "create",
            pupil_id=current["pupil_id"],
            object=f"registration_attachment:{attachment_id}",
            detail=f"PDF bij registratie {registration_id}, {len(data)} bytes",
        )

    db.write(write)


def get_attachment(db: Database, user: User, registration_id: int) -> dict | None:
    """The newest PDF of a readable registration: {file_name, sha256, size_bytes, content, uploaded_*}."""

    def read(cur):
        current = _latest_row(cur, registration_id)
        if current is None or not _readable(cur, user, current):
            raise AccessDenied(NOT_FOUND)
        cur.execute(
            "SELECT id, file_name, sha256, size_bytes, content, uploaded_by_name, uploaded_at"
            " FROM registration_attachment WHERE registration_id = ? ORDER BY id DESC LIMIT 1",
            [registration_id],
        )
        row = cur.fetchone()
        if row is None:
            return None
        found = dict(zip([d[0] for d in cur.description], row, strict=True))
        found["content"] = bytes(found["content"])
        audit.record(
            cur,
            user,
            "view",
            pupil_id=current["pupil_id"],
            object=f"registration_attachment:{found['id']}",
            detail="PDF geopend",
        )
        return found

    return db.write(read)
