"""Importing a file: read, detect the format, check everything, write all or nothing, undo.

The one entry point for the Streamlit page and the command line. `run_import` never raises
for bad file content: every problem becomes a Dutch message in the returned `ImportReport`.
It raises `AccessDenied` for a user who may not import that kind of file.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from dossier import audit
from dossier.access import AccessDenied, User, can, require
from dossier.db import Database, DatabaseBusyError, DatabaseConflictError, default_path
from dossier.schoolyear import format_date
from pipelines import load
from pipelines.formats import ALL_NAMES, FORMATS, PLANNED, closest, detect
from pipelines.load import UndoRefused
from pipelines.readers import UnreadableFile, read_table
from pipelines.report import Findings, ImportReport, Message

__all__ = [
    "FORMATS",
    "ImportReport",
    "Message",
    "UndoRefused",
    "cli_import",
    "detect_format",
    "list_batches",
    "preview",
    "run_import",
    "undo_batch",
]

Progress = Callable[[float, str], None]


def detect_format(data: bytes, file_name: str) -> str | None:
    """The format the file's header fits ('leerlingen', 'lvs-vclb', ...), or None."""
    try:
        return detect(read_table(data, file_name).columns)
    except UnreadableFile:
        return None
    except Exception:  # detection is a hint for the UI; a broken file is reported by run_import
        return None


def preview(data: bytes, file_name: str, n: int = 20) -> pd.DataFrame:
    """The first `n` data rows as text, header as written; an empty frame when unreadable."""
    try:
        table = read_table(data, file_name)
        frame = table.frame.head(n).astype(object)
        frame = frame.where(frame.notna(), "")
        frame.columns = table.original_columns
        return frame
    except Exception:
        return pd.DataFrame()


def _can_import_something(user: User | None) -> None:
    if user is None:
        raise AccessDenied("Je bent niet aangemeld.")
    if not any(can(user, fmt.permission) for fmt in FORMATS.values()):
        raise AccessDenied(f"Je rol ({user.role_label}) mag geen bestanden importeren.")


def run_import(
    db: Database,
    user: User,
    data: bytes,
    file_name: str,
    format: str = "auto",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a file and, when it has no errors (and not `dry_run`), write it in one transaction."""
    _can_import_something(user)
    step = progress or (lambda fraction, label: None)
    report = ImportReport(
        file=file_name,
        format=None if format == "auto" else format,
        status="rejected",
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        errors=[],
        warnings=[],
    )
    try:
        return _run(db, user, data, file_name, format, dry_run, step, report)
    except AccessDenied:
        raise
    except DatabaseConflictError as exc:
        report.errors = [Message(None, None, None, str(exc))]
        report.status = "rejected"
        return report
    except Exception as exc:  # a safety net: the user gets a report, never a traceback
        report.errors = [
            Message(None, None, None, f"Onverwachte fout bij het verwerken van het bestand ({type(exc).__name__}).")
        ]
        report.status = "rejected"
        report.unreadable = True
        return report


def _reject(report: ImportReport, findings: Findings | None = None, *, unreadable: bool = False) -> ImportReport:
    if findings is not None:
        findings.sort()
        report.errors, report.warnings = findings.errors, findings.warnings
    report.status = "rejected"
    report.unreadable = unreadable
    report.inserted = report.updated = report.unchanged = 0
    return report


def _file_message(text: str) -> Message:
    return Message(None, None, None, text)


def _run(db, user, data, file_name, format, dry_run, step: Progress, report: ImportReport) -> ImportReport:
    step(0.05, "Bestand lezen")
    try:
        table = read_table(data, file_name)
    except UnreadableFile as exc:
        report.errors = [_file_message(str(exc))]
        return _reject(report, unreadable=True)
    report.raw = table.frame.set_axis(table.original_columns, axis=1)

    name = format
    if format == "auto":
        name = detect(table.columns) or closest(table.columns)
        if name is None:
            report.errors = [
                _file_message(
                    "De kopregel past bij geen enkel importformaat. Verwachte formaten: "
                    + ", ".join(ALL_NAMES)
                    + ". Controleer de kolomnamen in de eerste rij."
                )
            ]
            return _reject(report)
    report.format = name
    if name not in FORMATS:
        if name in PLANNED or name in ALL_NAMES:
            text = f"Het importformaat '{name}' wordt nog niet ondersteund in deze versie."
        else:
            text = f"Onbekend importformaat '{name}'. Kies uit: {', '.join(ALL_NAMES)}."
        report.errors = [_file_message(text)]
        return _reject(report, unreadable=True)
    fmt = FORMATS[name]
    require(user, fmt.permission)

    findings = Findings(table.frame)
    fmt.check_header(table, findings)
    report.rows = len(table.frame)
    if findings.errors:
        return _reject(report, findings)
    if report.rows == 0:
        findings.error(None, None, None, "Het bestand bevat geen gegevens: enkel een kopregel.")
        return _reject(report, findings)

    step(0.2, "Waarden controleren")
    typed = fmt.parse(table.frame, findings)
    fmt.validate(typed, findings)
    step(0.4, "Leerlingen, klassen en dubbels controleren")
    with db.cursor() as cur:
        prepared = fmt.prepare(cur, typed, findings, frozenset(table.columns))
    findings.raw = None  # messages are built; keep the report light
    if findings.errors:
        return _reject(report, findings)

    findings.sort()
    report.errors, report.warnings = findings.errors, findings.warnings
    # No errors, so no problem rows to show: let the file's cells go before the database work,
    # and hand their memory back so DuckDB's share comes on top of less.
    report.raw = None
    del table, typed
    _return_free_memory()
    if dry_run:
        step(0.7, "Proefrun: tellen wat er zou veranderen")
        with db.cursor() as cur:
            counts = fmt.plan(cur, prepared)
        report.status = "dry-run"
    else:
        step(0.6, "Wegschrijven")
        digest = hashlib.sha256(data).hexdigest()
        batch_id, counts = db.write(lambda cur: _write(cur, user, fmt, prepared, file_name, digest, report.rows))
        report.batch_id = batch_id
        report.status = "imported"
    report.inserted, report.updated, report.unchanged = counts["inserted"], counts["updated"], counts["unchanged"]
    step(1.0, "Klaar")
    return report


def _write(cur, user: User, fmt, prepared, file_name: str, digest: str, rows: int) -> tuple[int, dict[str, int]]:
    batch_id = cur.execute("SELECT nextval('import_batch_id_seq')").fetchone()[0]
    counts = fmt.write(cur, prepared, batch_id)
    cur.execute(
        "INSERT INTO import_batch (id, file_name, sha256, format, user_id, user_name, rows, inserted, updated,"
        " unchanged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            file_name[:255],
            digest,
            fmt.name,
            user.id,
            user.name,
            rows,
            counts["inserted"],
            counts["updated"],
            counts["unchanged"],
        ],
    )
    audit.record(
        cur,
        user,
        "import",
        object=f"import_batch:{batch_id}",
        detail=f"{fmt.name}: {rows} rijen, {counts['inserted']} nieuw, {counts['updated']} gewijzigd,"
        f" {counts['unchanged']} ongewijzigd",
    )
    return batch_id, counts


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; elsewhere there is nothing to call
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


def _return_free_memory() -> None:
    """Give the pages freed by the file's frames back to the system before the database work.

    glibc keeps freed heap pages for reuse, and most of what DuckDB allocates next comes
    from fresh mappings instead, so without this the two add up in the process's peak (37 MB
    at 100,000 LVS rows). It takes a few milliseconds.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


# -- batches and undo -------------------------------------------------------------------------
def _allowed_formats(user: User) -> list[str]:
    _can_import_something(user)
    return [name for name, fmt in FORMATS.items() if can(user, fmt.permission)]


def import_state(db: Database) -> tuple:
    """Changes with every import and undo: a page can keep a dry run's report until it changes."""
    with db.cursor() as cur:
        return cur.execute("SELECT coalesce(max(id), 0), count(undone_at) FROM import_batch").fetchone()


def list_batches(db: Database, user: User) -> pd.DataFrame:
    """Import runs of the formats this user may import, newest first."""
    allowed = _allowed_formats(user)
    with db.cursor() as cur:
        return cur.execute(
            "SELECT id, file_name, format, imported_at, user_name, rows, inserted, updated, unchanged, undone_at"
            " FROM import_batch WHERE list_contains(?, format) ORDER BY id DESC",
            [allowed],
        ).df()


def undo_batch(db: Database, user: User, batch_id: int) -> None:
    """Restore exactly the state before the batch; raises UndoRefused (Dutch) when it cannot."""
    _can_import_something(user)
    with db.cursor() as cur:
        row = cur.execute("SELECT format FROM import_batch WHERE id = ?", [batch_id]).fetchone()
    if row is None:
        raise UndoRefused(f"Importrun {batch_id} bestaat niet.")
    fmt = FORMATS.get(row[0])
    if fmt is None:
        raise UndoRefused(f"Importrun {batch_id} (formaat {row[0]}) kan in deze versie niet ongedaan gemaakt worden.")
    require(user, fmt.permission)

    def undo(cur):
        undone = cur.execute("SELECT undone_at, undone_by FROM import_batch WHERE id = ?", [batch_id]).fetchone()
        if undone[0] is not None:
            raise UndoRefused(
                f"Importrun {batch_id} werd al ongedaan gemaakt op {format_date(undone[0])} door {undone[1]}."
            )
        later = load.later_batches(cur, batch_id, fmt.targets)
        if later:
            runs = ", ".join(str(b) for b in later)
            raise UndoRefused(
                f"Importrun {batch_id} kan niet ongedaan gemaakt worden: latere importrun(s) {runs} wijzigden"
                " dezelfde rijen. Maak die eerst ongedaan."
            )
        for target in fmt.targets:
            changed = load.drifted(cur, target, batch_id)
            if changed:
                raise UndoRefused(
                    f"Importrun {batch_id} kan niet ongedaan gemaakt worden: {changed} {target.label} werden na"
                    " deze import nog buiten een import om gewijzigd of verwijderd."
                )
        deleted = restored = 0
        for target in reversed(fmt.targets):
            done = load.revert(cur, target, batch_id)
            deleted += done["deleted"]
            restored += done["restored"]
        blocking = sorted({t for target in fmt.targets for t in load.dangling_references(cur, target)})
        if blocking:
            labels = ", ".join(load.TABLE_LABELS.get(t, t) for t in blocking)
            raise UndoRefused(
                f"Importrun {batch_id} kan niet ongedaan gemaakt worden: wat ze aanmaakte, wordt intussen gebruikt"
                f" door andere gegevens ({labels}). Verwijder of maak die eerst ongedaan."
            )
        cur.execute(
            "UPDATE import_batch SET undone_at = current_timestamp, undone_by = ? WHERE id = ?", [user.name, batch_id]
        )
        audit.record(
            cur,
            user,
            "undo",
            object=f"import_batch:{batch_id}",
            detail=f"{fmt.name}: {deleted} rijen verwijderd, {restored} rijen hersteld",
        )

    db.write(undo)


# -- command line ----------------------------------------------------------------------------
def _emit(report: ImportReport, as_json: bool) -> None:
    if as_json:
        # ASCII escapes keep the JSON intact on any console encoding (Windows cp1252 too).
        sys.stdout.write(json.dumps(report.to_json_dict(), ensure_ascii=True) + "\n")
    else:
        stream = sys.stdout if report.status != "rejected" else sys.stderr
        text = report.summary() + "\n"
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, errors="replace").decode(encoding))


def _failure(args, text: str) -> ImportReport:
    return ImportReport(
        file=args.file,
        format=None if args.format == "auto" else args.format,
        status="rejected",
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        errors=[_file_message(text)],
        warnings=[],
        unreadable=True,
    )


def _one_shot_process() -> None:
    """Settings for a process that imports one file and exits (the command line).

    pandera loads hypothesis, when it is installed (it is, for the tests), for data synthesis
    an import never uses: 0.15 s and 6 MB per command. And Arrow's default allocator keeps
    freed memory for later reuse, which a one-shot process never gets to; the system
    allocator returns it, so the file's copies do not add up to the peak (43 MB less at
    100,000 LVS rows).
    """
    if "hypothesis" not in sys.modules and "pandera.strategies.base_strategies" not in sys.modules:
        sys.modules["hypothesis"] = None  # makes `import hypothesis` fail, as if not installed
        try:
            import pandera.strategies.pandas_strategies  # noqa: F401
        except ImportError:  # a pandera without that module: nothing to skip
            pass
        finally:
            del sys.modules["hypothesis"]
    pa.set_memory_pool(pa.system_memory_pool())


def _one_shot_database(db: Database) -> None:
    """One DuckDB thread for a one-shot import: each thread keeps its own buffers while
    writing (12 MB at 100,000 rows on two cores, more on bigger machines), and a single file
    is written no slower by one thread. The app's shared connection keeps DuckDB's default."""
    with db.cursor() as cur:
        cur.execute("SET threads = 1")


def cli_import(args) -> int:
    """`python -m pipelines import FILE ...`: 0 imported (or dry run), 1 rejected, 2 unusable."""
    from dossier.users import SYSTEM_USER

    _one_shot_process()

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        report = _failure(args, f"'{args.file}' is een map, geen bestand.")
    except FileNotFoundError:
        report = _failure(args, f"Het bestand '{args.file}' bestaat niet.")
    except OSError as exc:
        report = _failure(args, f"Het bestand '{args.file}' kan niet gelezen worden ({exc.strerror or exc}).")
    else:
        report = None
    if report is None:
        try:
            db = Database(Path(args.db) if args.db else default_path())
        except DatabaseBusyError as exc:
            report = _failure(args, str(exc))
        except (duckdb.Error, OSError) as exc:
            report = _failure(args, f"De databank kan niet geopend worden: {exc}")
        else:
            try:
                _one_shot_database(db)
                report = run_import(db, SYSTEM_USER, data, path.name, args.format, args.dry_run)
            finally:
                db.close()
            report.file = args.file
    _emit(report, args.json)
    if report.status in ("imported", "dry-run"):
        return 0
    return 2 if report.unreadable else 1
