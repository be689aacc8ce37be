"""Retention (domain brief §5): what is due for deletion, and deleting it for real.

A pupil who left is archived at once (directie-only, see `access.pupil_scope_sql`). Each data
class of that pupil is deleted on 31 August of the school year `term` school years after the
one in which the pupil left; the pupil row itself, the enrolments and their import history go
when the last of those classes goes. The access log (the whole audit log) is kept `term` school
years after the school year of each entry. An open legal hold stops all of it for that pupil.

When a pupil left is decided in one place, the `left_pupils(as_of)` macro of migration 006.

`run` deletes everything that is due in one transaction, logs the run (counts only) and
checkpoints; `compact` then rewrites the file, because DuckDB leaves the bytes of deleted rows
in freed blocks until they are reused (measured: a deleted name is still readable in the file
after CHECKPOINT, and gone after `compact`).
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dossier import audit
from dossier.access import User, can, require
from dossier.db import Database
from dossier.schoolyear import format_date, school_year_of

MAX_TERM_YEARS = 10
MAX_REASON_LENGTH = 500


class RetentionError(ValueError):
    """Unusable input for a rule or a legal hold; the message is Dutch."""


@dataclass(frozen=True)
class DataClass:
    key: str
    label: str
    description: str
    default_years: int
    per_pupil: bool  # counted from the day the pupil left; otherwise from each row's own date


DATA_CLASSES: dict[str, DataClass] = {
    c.key: c
    for c in (
        DataClass(
            "dossier",
            "Dossierinhoud",
            "registraties (alle versies) met bijlagen, zorgfasen, maatregelen en evaluaties, afgewezen "
            "signalen, inzage- en overdrachtsgegevens",
            1,
            True,
        ),
        DataClass(
            "results",
            "LVS-resultaten",
            "LVS-VCLB, AVI, DMT, IDP, welbevinden en betrokkenheid, met hun importgeschiedenis",
            1,
            True,
        ),
        DataClass("pupil_log", "Logboek van de leerling", "de regels van de auditlog over deze leerling", 1, True),
        DataClass(
            "access_log",
            "Toegangslog",
            "alle regels van de auditlog (aanmeldingen, raadplegingen, wijzigingen), per regel geteld vanaf "
            "het schooljaar waarin ze geschreven werd",
            2,
            False,
        ),
    )
}
PUPIL_CLASSES = tuple(k for k, c in DATA_CLASSES.items() if c.per_pupil)
# Not editable: the pupil row goes with the last of the pupil's data classes.
IDENTITY = "identity"
IDENTITY_LABEL = "Leerling en inschrijvingen"
IDENTITY_DESCRIPTION = "naam, leerlingnummer, inschrijvingen en hun importgeschiedenis, blokkeringen"
REPORT_CLASSES = (*PUPIL_CLASSES, IDENTITY, "access_log")


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def class_label(key: str) -> str:
    return IDENTITY_LABEL if key == IDENTITY else DATA_CLASSES[key].label


# -- what belongs to which class ----------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """Rows of `table` that belong to a pupil: `pupil` is the pupil id of row `t`."""

    table: str
    pupil: str = "t.pupil_id"
    condition: str = "TRUE"


RESULT_TABLES = ("lvs_result", "avi_result", "dmt_result", "idp_result", "wellbeing_result")
_PUPIL_ID_IN_KEY = "TRY_CAST(json_extract_string(t.entity_key, '$.pupil_id') AS INTEGER)"

# Order matters: a row whose pupil is found through another table goes before that table's rows.
_FIXED_TARGETS: dict[str, tuple[_Target, ...]] = {
    "dossier": (
        _Target(
            "registration_attachment",
            "(SELECT any_value(r.pupil_id) FROM registration r WHERE r.registration_id = t.registration_id)",
        ),
        _Target("registration"),
        _Target("measure_evaluation", "(SELECT any_value(m.pupil_id) FROM measure m WHERE m.id = t.measure_id)"),
        _Target("measure"),
        _Target("care_phase"),
        _Target("signal_dismissal"),
    ),
    "results": (
        # Import history keeps a hash of each inserted row and the old values of updated ones.
        *(
            _Target(
                "import_insert", f"(SELECT x.pupil_id FROM {table} x WHERE x.id = t.row_id)", f"t.entity = '{table}'"
            )
            for table in RESULT_TABLES
        ),
        _Target("import_change", _PUPIL_ID_IN_KEY, "t.entity IN (" + ", ".join(f"'{t}'" for t in RESULT_TABLES) + ")"),
        *(_Target(table) for table in RESULT_TABLES),
    ),
    "pupil_log": (_Target("audit_log"),),
    IDENTITY: (
        _Target("import_insert", "t.row_id", "t.entity = 'pupil'"),
        _Target(
            "import_change",
            "(SELECT any_value(p.id) FROM pupil p"
            " WHERE p.pupil_number = json_extract_string(t.entity_key, '$.pupil_number'))",
            "t.entity = 'pupil'",
        ),
        _Target("import_change", _PUPIL_ID_IN_KEY, "t.entity = 'enrolment'"),
        _Target("enrolment"),
        _Target("legal_hold"),
        _Target("pupil", "t.id"),
    ),
}


def _targets(cur) -> dict[str, tuple[_Target, ...]]:
    """The fixed targets plus every other table with a `pupil_id` column (as dossier content),
    so a table added by a later migration is never left behind."""
    # pupil_left is derived from enrolment and follows it at the end of the same transaction.
    known = {t.table for targets in _FIXED_TARGETS.values() for t in targets} | {"pupil_left"}
    rows = cur.execute(
        "SELECT DISTINCT c.table_name FROM duckdb_columns() c JOIN duckdb_tables() t"
        " ON t.table_name = c.table_name AND t.schema_name = c.schema_name AND t.database_name = c.database_name"
        " WHERE c.column_name = 'pupil_id' AND c.schema_name = 'main' AND NOT t.temporary"
        " AND c.database_name = current_database() ORDER BY 1"
    ).fetchall()
    extra = tuple(_Target(name) for (name,) in rows if name not in known)
    targets = dict(_FIXED_TARGETS)
    targets["dossier"] = targets["dossier"] + extra
    return targets


def pupil_tables(db: Database) -> list[str]:
    """Every table the retention job deletes a pupil's rows from (for tests and the README)."""
    with db.cursor() as cur:
        return sorted({t.table for targets in _targets(cur).values() for t in targets})


# -- dates --------------------------------------------------------------------------------------


def due_date(reference: date, term_years: int) -> date:
    """31 August of the school year `term_years` after the one `reference` falls in."""
    start = int(school_year_of(reference)[:4])
    return date(start + term_years + 1, 8, 31)


def _due_date_sql(column: str, term_years: int) -> str:
    """SQL twin of `due_date` (tests check that they agree)."""
    start = f"(year({column}) - CASE WHEN month({column}) >= 9 THEN 0 ELSE 1 END)"
    return f"make_date(CAST({start} + {int(term_years)} + 1 AS INTEGER), 8, 31)"


# -- rules --------------------------------------------------------------------------------------


def rules(db: Database) -> pd.DataFrame:
    """One row per data class: data_class, label, description, default_years, term_years,
    changed_by, changed_at. Configuration only, no personal data: readable by every caller."""
    with db.cursor() as cur:
        stored = {
            r[0]: r[1:]
            for r in cur.execute(
                "SELECT data_class, term_years, changed_by_name, changed_at FROM retention_rule"
            ).fetchall()
        }
    rows = []
    for key, cls in DATA_CLASSES.items():
        term, by, at = stored.get(key, (cls.default_years, None, None))
        rows.append(
            {
                "data_class": key,
                "label": cls.label,
                "description": cls.description,
                "default_years": cls.default_years,
                "term_years": int(term),
                "changed_by": by,
                "changed_at": at,
            }
        )
    return pd.DataFrame(rows)


def _terms(cur) -> dict[str, int]:
    terms = {k: c.default_years for k, c in DATA_CLASSES.items()}
    terms.update(dict(cur.execute("SELECT data_class, term_years FROM retention_rule").fetchall()))
    return terms


def set_rule(db: Database, user: User, data_class: str, term_years: object) -> int:
    """Set one data class's term (school years after leaving / after the entry). Beheerder only."""
    require(user, "admin.settings")
    if data_class not in DATA_CLASSES:
        raise RetentionError(f"Onbekende gegevenssoort '{data_class}'. Kies uit: {', '.join(DATA_CLASSES)}.")
    try:
        years = int(str(term_years).strip())
        if str(years) != str(term_years).strip().lstrip("+"):
            raise ValueError
    except (TypeError, ValueError):
        raise RetentionError("De termijn is een geheel aantal schooljaren, bv. 1.") from None
    if not 0 <= years <= MAX_TERM_YEARS:
        raise RetentionError(f"De termijn ligt tussen 0 en {MAX_TERM_YEARS} schooljaren.")
    label = DATA_CLASSES[data_class].label

    def write(cur):
        before = _terms(cur)[data_class]
        cur.execute(
            "INSERT INTO retention_rule (data_class, term_years, changed_by_id, changed_by_name, changed_at)"
            " VALUES (?, ?, ?, ?, current_timestamp) ON CONFLICT (data_class) DO UPDATE SET"
            " term_years = excluded.term_years, changed_by_id = excluded.changed_by_id,"
            " changed_by_name = excluded.changed_by_name, changed_at = excluded.changed_at",
            [data_class, years, user.id, user.name],
        )
        audit.record(
            cur,
            user,
            "retention",
            object=f"retention_rule:{data_class}",
            detail=f"bewaartermijn {label}: {before} -> {years} schooljaren",
        )
        return years

    return db.write(write)


# -- legal holds --------------------------------------------------------------------------------


def _reason(text: object, what: str) -> str:
    cleaned = " ".join(str(text or "").split())
    if not cleaned:
        raise RetentionError(f"Geef een reden voor het {what} van de blokkering.")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise RetentionError(f"De reden is te lang (hoogstens {MAX_REASON_LENGTH} tekens).")
    return cleaned


def _pupil_id(value: object) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RetentionError("Onbekende leerling.") from None


def set_legal_hold(db: Database, user: User, pupil_id: int, reason: str) -> int:
    """Stop every deletion for this pupil (e.g. a contested decision). Directie only."""
    require(user, "retention.hold")
    pid = _pupil_id(pupil_id)
    text = _reason(reason, "zetten")

    def write(cur):
        if cur.execute("SELECT 1 FROM pupil WHERE id = ?", [pid]).fetchone() is None:
            raise RetentionError("Onbekende leerling.")
        if cur.execute("SELECT 1 FROM legal_hold WHERE pupil_id = ? AND released_at IS NULL", [pid]).fetchone():
            raise RetentionError("Voor deze leerling loopt al een blokkering.")
        hold_id = cur.execute(
            "INSERT INTO legal_hold (pupil_id, reason, set_by_id, set_by_name) VALUES (?, ?, ?, ?) RETURNING id",
            [pid, text, user.id, user.name],
        ).fetchone()[0]
        # The reason stays in legal_hold; the log says what happened, not why.
        audit.record(cur, user, "legal-hold", pupil_id=pid, object=f"legal_hold:{hold_id}", detail="blokkering gezet")
        return hold_id

    return db.write(write)


def release_legal_hold(db: Database, user: User, pupil_id: int, reason: str) -> None:
    """End the open hold: the pupil's data follow the normal terms again. Directie only."""
    require(user, "retention.hold")
    pid = _pupil_id(pupil_id)
    text = _reason(reason, "opheffen")

    def write(cur):
        row = cur.execute("SELECT id FROM legal_hold WHERE pupil_id = ? AND released_at IS NULL", [pid]).fetchone()
        if row is None:
            raise RetentionError("Voor deze leerling loopt geen blokkering.")
        cur.execute(
            "UPDATE legal_hold SET released_at = current_timestamp, released_by_id = ?, released_by_name = ?,"
            " release_reason = ? WHERE id = ?",
            [user.id, user.name, text, row[0]],
        )
        audit.record(
            cur, user, "legal-hold", pupil_id=pid, object=f"legal_hold:{row[0]}", detail="blokkering opgeheven"
        )

    db.write(write)


def legal_holds(db: Database, user: User) -> pd.DataFrame:
    """Open holds: pupil_id, pupil_number, first_name, last_name, reason, set_by_name, set_at."""
    require(user, "retention.hold")
    with db.cursor() as cur:
        return cur.execute(
            "SELECT h.pupil_id, p.pupil_number, p.first_name, p.last_name, h.reason, h.set_by_name, h.set_at"
            " FROM legal_hold h JOIN pupil p ON p.id = h.pupil_id WHERE h.released_at IS NULL"
            " ORDER BY p.last_name, p.first_name"
        ).df()


# -- what is due --------------------------------------------------------------------------------


@dataclass
class ClassCount:
    pupils: int = 0
    rows: int = 0
    tables: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, rows: int) -> None:
        if rows:
            self.tables[table] = self.tables.get(table, 0) + rows
            self.rows += rows


@dataclass
class Report:
    """Counts per data class of what is (or was) due: never a name, never a pupil id."""

    as_of: date
    dry_run: bool
    terms: dict[str, int]
    counts: dict[str, ClassCount]
    held_pupils: int  # left pupils with something due, skipped because of a legal hold
    run_id: int | None = None

    @property
    def total_rows(self) -> int:
        return sum(c.rows for c in self.counts.values())

    def counts_json(self) -> dict:
        return {
            k: {"pupils": c.pupils, "rows": c.rows, "tables": dict(sorted(c.tables.items()))}
            for k, c in self.counts.items()
        }

    def summary(self) -> str:
        """One Dutch line with the counts (the audit entry's detail)."""
        parts = []
        for key, count in self.counts.items():
            who = f"{plural(count.pupils, 'leerling', 'leerlingen')}, " if key != "access_log" else ""
            parts.append(f"{class_label(key)}: {who}{plural(count.rows, 'rij', 'rijen')}")
        held = self.held_pupils
        held = f"; overgeslagen door blokkering: {plural(held, 'leerling', 'leerlingen')}" if held else ""
        return f"peildatum {format_date(self.as_of)}; " + "; ".join(parts) + held


_counter = itertools.count()


def _archive_frame(cur, as_of: date, terms: dict[str, int]) -> pd.DataFrame:
    """Left pupils: pupil_id, left_on, held, and per pupil class `<class>_due_on` and `<class>_due`."""
    frame = cur.execute(
        "SELECT l.pupil_id, l.left_on,"
        " EXISTS (SELECT 1 FROM legal_hold h WHERE h.pupil_id = l.pupil_id AND h.released_at IS NULL) AS held"
        " FROM left_pupils(?::DATE) l ORDER BY l.left_on, l.pupil_id",
        [as_of],
    ).df()
    left_on = [d.date() if hasattr(d, "date") else d for d in frame["left_on"]]
    frame["left_on"] = left_on
    frame["held"] = frame["held"].astype(bool)
    for key in (*PUPIL_CLASSES, IDENTITY):
        term = max(terms[k] for k in PUPIL_CLASSES) if key == IDENTITY else terms[key]
        frame[f"{key}_due_on"] = [due_date(d, term) for d in left_on]
        frame[f"{key}_due"] = [d <= as_of for d in frame[f"{key}_due_on"]]
    return frame


def _pupil_set(cur, name: str, ids) -> str:
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} (pupil_id INTEGER)")
    ids = [int(i) for i in ids]
    if ids:
        # One statement: row-by-row inserts took 2.5 s for the 15,000 left pupils of a school group.
        cur.execute(f"INSERT INTO {name} SELECT unnest(?::INTEGER[])", [ids])
    return name


def _access_log_condition(term: int, held: str, pupil_log: str) -> str:
    # Rows of a pupil whose own log goes now are counted there, so dry run and run count alike.
    return (
        f"{_due_date_sql('t.logged_at', term)} <= ?::DATE AND (t.pupil_id IS NULL OR"
        f" (t.pupil_id NOT IN (SELECT pupil_id FROM {held}) AND t.pupil_id NOT IN (SELECT pupil_id FROM {pupil_log})))"
    )


def _apply(cur, as_of: date, *, delete: bool) -> Report:
    """Count (delete=False) or delete what is due on `as_of`, inside the caller's cursor."""
    terms = _terms(cur)
    archive = _archive_frame(cur, as_of, terms)
    suffix = next(_counter)
    held_set = _pupil_set(
        cur,
        f"_ret_held_{suffix}",
        [r[0] for r in cur.execute("SELECT DISTINCT pupil_id FROM legal_hold WHERE released_at IS NULL").fetchall()],
    )
    free = archive[~archive["held"]]
    sets = {
        key: _pupil_set(cur, f"_ret_{key}_{suffix}", free.loc[free[f"{key}_due"], "pupil_id"])
        for key in (*PUPIL_CLASSES, IDENTITY)
    }
    counts = {key: ClassCount(pupils=int(free[f"{key}_due"].sum())) for key in (*PUPIL_CLASSES, IDENTITY)}
    counts["access_log"] = ClassCount()
    try:
        for key, targets in _targets(cur).items():
            for target in targets:
                where = f"{target.condition} AND {target.pupil} IN (SELECT pupil_id FROM {sets[key]})"
                verb = "DELETE FROM" if delete else "SELECT count(*) FROM"
                counts[key].add(target.table, cur.execute(f"{verb} {target.table} t WHERE {where}").fetchone()[0])
        condition = _access_log_condition(terms["access_log"], held_set, sets["pupil_log"])
        verb = "DELETE FROM" if delete else "SELECT count(*) FROM"
        counts["access_log"].add(
            "audit_log", cur.execute(f"{verb} audit_log t WHERE {condition}", [as_of]).fetchone()[0]
        )
    finally:
        for name in (held_set, *sets.values()):
            cur.execute(f"DROP TABLE IF EXISTS {name}")
    held_due = archive[archive["held"]]
    held_pupils = int(held_due[[f"{k}_due" for k in PUPIL_CLASSES]].any(axis=1).sum())
    ordered = {key: counts[key] for key in REPORT_CLASSES}
    return Report(as_of=as_of, dry_run=not delete, terms=terms, counts=ordered, held_pupils=held_pupils)


def archive(db: Database, user: User, today: date | None = None) -> pd.DataFrame:
    """Every pupil who has left, with per data class the due date and the rows it holds now.

    Columns: pupil_id, left_on, held, and per class (dossier, results, pupil_log, identity)
    `<class>_due_on`, `<class>_due` and `<class>_rows`; pupil_number, first_name and last_name
    only for a role that may open archived pupils (directie).
    """
    require(user, "retention.run")
    as_of = today or date.today()
    with db.cursor() as cur:
        frame = _archive_frame(cur, as_of, _terms(cur))
        suffix = next(_counter)
        every = _pupil_set(cur, f"_ret_all_{suffix}", frame["pupil_id"])
        try:
            for key, targets in _targets(cur).items():
                per_pupil: dict[int, int] = {}
                for target in targets:
                    rows = cur.execute(
                        f"SELECT {target.pupil} AS pupil_id, count(*) FROM {target.table} t"
                        f" WHERE {target.condition} AND {target.pupil} IN (SELECT pupil_id FROM {every}) GROUP BY 1"
                    ).fetchall()
                    for pid, n in rows:
                        per_pupil[pid] = per_pupil.get(pid, 0) + n
                frame[f"{key}_rows"] = [per_pupil.get(int(pid), 0) for pid in frame["pupil_id"]]
            if can(user, "archive.read") and not frame.empty:
                names = cur.execute(
                    "SELECT id AS pupil_id, pupil_number, first_name, last_name FROM pupil"
                    f" WHERE id IN (SELECT pupil_id FROM {every})"
                ).df()
                frame = names.merge(frame, on="pupil_id", how="right")
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {every}")
    return frame


def due(db: Database, user: User, today: date | None = None) -> Report:
    """Counts per data class of what a run on `today` would delete (nothing is written)."""
    require(user, "retention.run")
    with db.cursor() as cur:
        return _apply(cur, today or date.today(), delete=False)


# -- the run --------------------------------------------------------------------------------------


def run(db: Database, user: User, today: date | None = None, *, dry_run: bool = False) -> Report:
    """Delete what is due on `today` in one transaction, log the run, then CHECKPOINT.

    A dry run deletes nothing and only adds its line to the run log. Call `compact` after a
    real run so the bytes of the deleted rows leave the file too.
    """
    require(user, "retention.run")
    as_of = today or date.today()

    def write(cur):
        report = _apply(cur, as_of, delete=not dry_run)
        report.run_id = cur.execute(
            "INSERT INTO retention_run (reference_date, dry_run, user_name, counts, held_pupils, total_rows)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [as_of, dry_run, user.username, json.dumps(report.counts_json()), report.held_pupils, report.total_rows],
        ).fetchone()[0]
        if not dry_run:
            audit.record(cur, user, "retention", object=f"retention_run:{report.run_id}", detail=report.summary())
        return report

    report = db.write(write)
    if not dry_run:
        db.checkpoint()
    return report


def runs(db: Database, user: User, limit: int = 20) -> pd.DataFrame:
    """The latest runs: id, run_at, reference_date, dry_run, user_name, total_rows, held_pupils."""
    require(user, "retention.run")
    with db.cursor() as cur:
        return cur.execute(
            "SELECT id, run_at, reference_date, dry_run, user_name, total_rows, held_pupils, counts"
            " FROM retention_run ORDER BY id DESC LIMIT ?",
            [int(limit)],
        ).df()


def compact(db: Database) -> tuple[int, int]:
    """Rewrite the database file with only its live data; closes `db`. Returns (bytes before, after).

    Needs the file for this process alone (the command line, with the app stopped): the copy
    replaces the file, so a second process holding it open would keep writing to the old one.
    """
    path = db.path
    fresh = path.with_name(path.name + ".compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    before = path.stat().st_size
    try:
        with db.cursor() as cur:
            cur.execute("CHECKPOINT")
            name = cur.execute("SELECT current_database()").fetchone()[0]
            cur.execute(f"ATTACH '{str(fresh).replace(chr(39), chr(39) * 2)}' AS retention_compact")
            try:
                cur.execute(f'COPY FROM DATABASE "{name.replace(chr(34), chr(34) * 2)}" TO retention_compact')
            finally:
                cur.execute("DETACH retention_compact")
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        db.close()
    if path.with_name(path.name + ".wal").exists() or fresh.with_name(fresh.name + ".wal").exists():
        fresh.unlink(missing_ok=True)
        raise RetentionError("Het compacteren werd niet afgerond: de databank heeft nog een open logbestand (.wal).")
    with open(fresh, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(fresh, path)
    return before, path.stat().st_size
