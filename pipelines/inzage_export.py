"""`python -m pipelines export inzage --pupil ID --out FILE.pdf`: the parents' copy of a dossier.

With --explained-by (and --explained-on, default today) the explanation is recorded first;
without it the latest recorded explanation is used, and with none the export is refused
(exit 1): parents get the copy after the explanation. Exit 2 for an unknown pupil, an invalid
date or a file that cannot be written. The command line acts as the directie (SYSTEM_USER).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from dossier.inzage import DisclosureError, export_inzage, record_explanation, resolve_pupil
from dossier.schoolyear import format_date
from dossier.users import SYSTEM_USER


class OutputError(ValueError):
    """The output path cannot be written; the message is Dutch."""


def check_output_file(path: Path) -> Path:
    """The target file's folder must exist (it is made when missing) and be writable."""
    if path.exists() and path.is_dir():
        raise OutputError(f"{path} is een map. Geef een bestandsnaam, bv. {path / 'inzage.pdf'}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"De map {path.parent} kan niet aangemaakt worden: {exc.strerror or exc}.") from exc
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"In de map {path.parent} kan niet geschreven worden.")
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, so a failed write never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cli_export_inzage(args) -> int:
    from pipelines.cli import _open

    try:
        out = check_output_file(Path(args.out))
    except OutputError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 2
    if args.explained_on and not args.explained_by:
        print("Fout: geef met --explained-by ook aan wie de ouders toelichting gaf.", file=sys.stderr)
        return 2
    db = _open(args.db)
    try:
        try:
            pupil_id = resolve_pupil(db, SYSTEM_USER, args.pupil)
            explanation_id = None
            if args.explained_by:
                explanation_id = record_explanation(
                    db, SYSTEM_USER, pupil_id, args.explained_by, args.explained_on or date.today()
                )
        except DisclosureError as exc:
            print(f"Fout: {exc}", file=sys.stderr)
            return 2
        try:
            export = export_inzage(
                db,
                SYSTEM_USER,
                pupil_id,
                explanation_id=explanation_id,
                include_directie=bool(getattr(args, "include_directie", False)),
            )
        except DisclosureError as exc:
            print(f"Geweigerd: {exc} Gebruik --explained-by en --explained-on.", file=sys.stderr)
            return 1
        try:
            write_atomically(out, export.pdf)
        except OSError as exc:
            print(f"Fout: {out} kan niet geschreven worden: {exc.strerror or exc}.", file=sys.stderr)
            return 2
        explanation = export.explanation
        print(
            f"Inzage-PDF geschreven naar {out}: {export.registrations} registraties; toelichting door "
            f"{explanation['explained_by']} op {format_date(explanation['explained_on'])}."
        )
        return 0
    finally:
        db.close()
