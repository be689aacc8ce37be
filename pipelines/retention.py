"""`python -m pipelines retention [--dry-run] [--json] [--today dd/mm/jjjj] [--db PATH]`.

Applies the retention terms (dossier/retention.py): deletes what is due in one transaction,
checkpoints, then compacts the file so the deleted bytes leave it. The report holds counts
only. Exit codes: 0 done (or dry run), 1 deleted but the file could not be compacted, 2 an
unusable call (bad date) or a database that cannot be opened (e.g. the app is running).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path

import duckdb

from dossier import retention
from dossier.db import Database, DatabaseBusyError, default_path
from dossier.schoolyear import format_date
from dossier.users import SYSTEM_USER

JSON_KEYS = (
    "status",
    "today",
    "dry_run",
    "run_id",
    "terms",
    "classes",
    "held_pupils",
    "total_rows",
    "compacted",
    "file_bytes",
    "error",
)
CLASS_KEYS = ("label", "pupils", "rows", "tables")


def parse_today(text: str | None) -> date:
    if not text:
        return date.today()
    match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", text)
    try:
        if match is None:
            raise ValueError
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"Ongeldige peildatum '{text}': gebruik dd/mm/jjjj, bv. 31/08/2026.") from None


def _payload(status: str, today: date | None, dry_run: bool, **extra) -> dict:
    payload = dict.fromkeys(JSON_KEYS)
    payload.update(status=status, today=today.isoformat() if today else None, dry_run=dry_run, compacted=False)
    payload.update(extra)
    return payload


def _report_payload(report: retention.Report, file_bytes: tuple[int, int] | None, error: str | None) -> dict:
    classes = {key: {"label": retention.class_label(key), **counts} for key, counts in report.counts_json().items()}
    return _payload(
        "dry-run" if report.dry_run else "deleted",
        report.as_of,
        report.dry_run,
        run_id=report.run_id,
        terms=report.terms,
        classes=classes,
        held_pupils=report.held_pupils,
        total_rows=report.total_rows,
        compacted=file_bytes is not None,
        file_bytes={"before": file_bytes[0], "after": file_bytes[1]} if file_bytes else None,
        error=error,
    )


def _term_text(key: str, terms: dict[str, int]) -> str:
    if key == retention.IDENTITY:
        return "samen met het laatste gegeven"
    years = retention.plural(terms[key], "schooljaar", "schooljaren")
    return f"{years} na vertrek" if retention.DATA_CLASSES[key].per_pupil else years


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".replace(".", ",") + " MB"


def _print_human(report: retention.Report, file_bytes: tuple[int, int] | None) -> None:
    mode = "proefdraai: er wordt niets verwijderd" if report.dry_run else "vervallen gegevens worden verwijderd"
    print(f"Bewaartermijnen op {format_date(report.as_of)} ({mode}).")
    for key, count in report.counts.items():
        who = "" if key == "access_log" else retention.plural(count.pupils, "leerling", "leerlingen") + ", "
        rows = retention.plural(count.rows, "rij", "rijen")
        print(f"  {retention.class_label(key)} ({_term_text(key, report.terms)}): {who}{rows}")
    if report.held_pupils:
        held = retention.plural(report.held_pupils, "leerling", "leerlingen")
        print(f"Overgeslagen door een juridische blokkering: {held}.")
    total = retention.plural(report.total_rows, "rij", "rijen")
    if report.total_rows == 0:
        print("Niets vervallen.")
    elif report.dry_run:
        print(f"Zou verwijderd worden: {total}. Voer de opdracht uit zonder --dry-run om te verwijderen.")
    else:
        print(f"Verwijderd: {total} (run {report.run_id} in het logboek).")
    if file_bytes:
        print(f"Databank gecompacteerd: {_megabytes(file_bytes[0])} -> {_megabytes(file_bytes[1])}.")


def _fail(args, message: str, today: date | None = None) -> int:
    if args.json:
        print(json.dumps(_payload("error", today, bool(args.dry_run), error=message), ensure_ascii=False))
    print(f"Fout: {message}", file=sys.stderr)
    return 2


def cli_retention(args) -> int:
    try:
        today = parse_today(args.today)
    except ValueError as exc:
        return _fail(args, str(exc))
    try:
        db = Database(Path(args.db) if args.db else default_path())
    except DatabaseBusyError as exc:
        return _fail(args, str(exc), today)
    except (duckdb.Error, OSError) as exc:
        return _fail(args, f"De databank kan niet geopend worden: {exc}", today)
    closed = False
    try:
        report = retention.run(db, SYSTEM_USER, today, dry_run=args.dry_run)
        file_bytes, error = None, None
        if not report.dry_run and report.total_rows:
            closed = True  # compact closes the database, also when it fails
            try:
                file_bytes = retention.compact(db)
            except (retention.RetentionError, duckdb.Error, OSError) as exc:
                error = f"De gegevens zijn verwijderd, maar het bestand kon niet gecompacteerd worden: {exc}"
    finally:
        if not closed:
            db.close()
    if args.json:
        print(json.dumps(_report_payload(report, file_bytes, error), ensure_ascii=False))
    else:
        _print_human(report, file_bytes)
    if error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    return 0
