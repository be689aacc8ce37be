"""`python -m pipelines backup` and `restore`: the command-line side of dossier.backup.

Exit codes as in pipelines.cli: 0 done, 1 refused (a damaged or tampered backup, an existing
database without --force), 2 unusable call, unreadable backup or a database that cannot be
opened (for instance because the app holds it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from dossier.backup import BackupError, BackupExists, make_backup, read_manifest, restore_backup
from dossier.db import Database, DatabaseBusyError, default_path
from dossier.users import SYSTEM_USER

APP_RUNNING_HINT = (
    "Terwijl de app draait, maak je een back-up in de app zelf: Gegevens en beheer → Beheer → Back-up maken."
)


def _fail(message: str, code: int) -> int:
    print(f"Fout: {message}", file=sys.stderr)
    return code


def cli_backup(args) -> int:
    path = Path(args.db) if args.db else default_path()
    if not path.is_file():
        return _fail(f"De databank {path} bestaat niet; er is niets om te back-uppen.", 2)
    try:
        db = Database(path)
    except DatabaseBusyError as exc:
        return _fail(f"{exc}\n{APP_RUNNING_HINT}", 2)
    try:
        result = make_backup(db, SYSTEM_USER, args.out)
    except BackupError as exc:
        return _fail(str(exc), 2)
    finally:
        db.close()
    manifest = result.manifest
    print(f"Back-up gemaakt: {result.file}")
    print(
        f"{len(manifest['tables'])} tabellen, {sum(manifest['tables'].values())} rijen, "
        f"schema {manifest['schema_version']}, sha256 {manifest['sha256']}"
    )
    return 0


def cli_restore(args) -> int:
    target = Path(args.db) if args.db else default_path()
    try:
        read_manifest(args.source)  # an unusable source is a code 2, a damaged one (below) a code 1
    except BackupError as exc:
        return _fail(str(exc), 2)
    try:
        manifest = restore_backup(args.source, target, force=args.force)
    except BackupExists as exc:
        return _fail(str(exc), 1)
    except DatabaseBusyError as exc:
        return _fail(str(exc), 2)
    except BackupError as exc:
        return _fail(str(exc), 1)
    print(f"Back-up van {manifest.get('created_at', '?')} teruggezet in {target}.")
    return 0
