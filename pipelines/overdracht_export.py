"""`python -m pipelines export overdracht --pupil ID --out DIR`: the transfer package for a new school.

Writes DIR/overdracht-<leerlingnummer>-<jjjjmmdd>.pdf and .json, and the PDFs of the included
verslagen under DIR/bijlagen/. --inspected-on records the parents' inspection (it opens the
objection window), --objection records their objection (today). Without --mandatory-only the
export is refused (exit 1) while the parents have not inspected the package, while the window
is open, or after an objection; --mandatory-only sends the verslagen GC, IAC and OV4 only.
Exit 2 for an unknown pupil, an invalid date or a folder that cannot be written. The command
line acts as the directie (SYSTEM_USER).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dossier.inzage import DisclosureError, resolve_pupil
from dossier.overdracht import export_overdracht, record_inspection, record_objection
from dossier.users import SYSTEM_USER
from pipelines.inzage_export import OutputError, write_atomically


def check_output_dir(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} bestaat al en is geen map. Kies een map voor --out.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"De map {path} kan niet aangemaakt worden: {exc.strerror or exc}.") from exc
    if not os.access(path, os.W_OK):
        raise OutputError(f"In de map {path} kan niet geschreven worden.")
    return path


def write_package(package, out_dir: Path) -> list[Path]:
    """The PDF, the JSON bundle and the attachments, each written atomically; returns the paths."""
    written = []
    for suffix, data in ((".pdf", package.pdf), (".json", package.json_bytes)):
        target = out_dir / f"{package.stem}{suffix}"
        write_atomically(target, data)
        written.append(target)
    if package.attachments:
        folder = out_dir / "bijlagen"
        folder.mkdir(exist_ok=True)
        for attachment in package.attachments:
            target = folder / attachment.file_name
            write_atomically(target, attachment.content)
            written.append(target)
    return written


def cli_export_overdracht(args) -> int:
    from pipelines.cli import _open

    try:
        out_dir = check_output_dir(Path(args.out))
    except OutputError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 2
    db = _open(args.db)
    try:
        try:
            pupil_id = resolve_pupil(db, SYSTEM_USER, args.pupil)
            if getattr(args, "inspected_on", None):
                record_inspection(db, SYSTEM_USER, pupil_id, args.inspected_on)
        except DisclosureError as exc:
            print(f"Fout: {exc}", file=sys.stderr)
            return 2
        try:
            if getattr(args, "objection", None):
                record_objection(db, SYSTEM_USER, pupil_id, args.objection)
                print("Bezwaar van de ouders geregistreerd: enkel de verplichte verslagen mogen mee.")
            package = export_overdracht(
                db,
                SYSTEM_USER,
                pupil_id,
                mandatory_only=bool(args.mandatory_only),
                include_directie=bool(getattr(args, "include_directie", False)),
            )
        except DisclosureError as exc:
            print(f"Geweigerd: {exc}", file=sys.stderr)
            return 1
        try:
            written = write_package(package, out_dir)
        except OSError as exc:
            print(f"Fout: het pakket kan niet geschreven worden in {out_dir}: {exc.strerror or exc}.", file=sys.stderr)
            return 2
        kind = "enkel verplichte verslagen" if package.mandatory_only else "volledig pakket"
        print(f"Overdrachtspakket ({kind}, {package.registrations} registraties) geschreven naar {out_dir}:")
        for path in written:
            print(f"  {path.relative_to(out_dir)}")
        return 0
    finally:
        db.close()
