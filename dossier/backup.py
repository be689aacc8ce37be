"""Consistent backups of the dossier file and their restore, usable while the app runs.

A backup is one folder `dossier-JJJJMMDD-UUMMSS/` holding a DuckDB file of the same name and a
`manifest.json` (schema version, rows per table, sha256 and size of the file, when and by whom).

The copy is `COPY FROM DATABASE` into a freshly attached file, inside ONE transaction on the
source: DuckDB's MVCC gives that transaction one snapshot, so every table is copied as of the
same moment while the app keeps writing through other cursors. Tables, views, macros, indexes
and sequences are copied; a sequence is not transactional, so in the copy it can stand a little
past the highest id (never below it), which is harmless. Because it runs on the app's own
connection, the app (Beheer page) can back up while it holds the file; the command line cannot
open a file that the app holds, and says so.

Restore checks the manifest and the checksum, copies to a temporary file next to the target,
checks that copy's tables against the manifest, and only then renames it over the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from dossier import audit
from dossier.access import User, require
from dossier.db import Database, DatabaseBusyError, _migrations
from dossier.users import SYSTEM_USER

FORMAT = "leerlingendossier-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """A Dutch message: the backup could not be made or is not fit to restore."""


class BackupExists(BackupError):
    """The restore target exists and --force was not given."""


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    file: Path
    manifest: dict


def default_backup_dir(db: Database) -> Path:
    """Where the app puts backups: DOSSIER_BACKUP_DIR, else `backups/` beside the database file."""
    return Path(os.environ.get("DOSSIER_BACKUP_DIR") or db.path.parent / "backups")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _tables(cur: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    return cur.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT internal"
        " ORDER BY schema_name, table_name",
        [database],
    ).fetchall()


def _table_key(schema: str, table: str) -> str:
    return table if schema == "main" else f"{schema}.{table}"


def _counts(cur: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    counts = {}
    for schema, table in _tables(cur, database):
        name = f"{_ident(database)}.{_ident(schema)}.{_ident(table)}"
        counts[_table_key(schema, table)] = cur.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return counts


def _schema_version(cur: duckdb.DuckDBPyConnection, database: str) -> int:
    return cur.execute(f"SELECT coalesce(max(version), 0) FROM {_ident(database)}.main.schema_version").fetchone()[0]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_folder(out_dir: Path, stamp: str) -> Path:
    for k in range(1, 100):
        folder = out_dir / (f"dossier-{stamp}" if k == 1 else f"dossier-{stamp}-{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise BackupError(f"Kon geen nieuwe map maken in {out_dir}.")


def _copy(db: Database, target: Path) -> tuple[int, dict[str, int]]:
    """Copy the whole database into the new file `target` from one snapshot; returns (schema, counts)."""
    alias = f"backup_{secrets.token_hex(6)}"
    with db.cursor() as cur:
        source = cur.execute("SELECT current_database()").fetchone()[0]
        cur.execute(f"ATTACH {_sql_text(str(target))} AS {alias}")
        try:
            cur.execute("BEGIN TRANSACTION")
            try:
                # Counting first fixes the snapshot: COPY then sees exactly these rows.
                counts = _counts(cur, source)
                version = _schema_version(cur, source)
                cur.execute(f"COPY FROM DATABASE {_ident(source)} TO {alias}")
                copied = _counts(cur, alias)
                cur.execute("COMMIT")
            except BaseException:
                with suppress(duckdb.Error):  # DuckDB may have aborted the transaction already
                    cur.execute("ROLLBACK")
                raise
            cur.execute(f"CHECKPOINT {alias}")
        finally:
            cur.execute(f"DETACH {alias}")
    if copied != counts:
        raise BackupError("De kopie bevat niet dezelfde rijen als de databank; de back-up is niet bewaard.")
    return version, counts


def inspect_file(path: Path) -> tuple[int, dict[str, int]]:
    """(schema version, rows per table) of a dossier file, opened read-only in a separate instance."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise BackupError(f"Het bestand {path.name} is geen leesbare databank ({type(exc).__name__}).") from exc
    try:
        database = con.execute("SELECT current_database()").fetchone()[0]
        try:
            return _schema_version(con, database), _counts(con, database)
        except duckdb.Error as exc:
            raise BackupError(f"Het bestand {path.name} is geen databank van het leerlingendossier.") from exc
    finally:
        con.close()


def make_backup(db: Database, user: User, out_dir: str | os.PathLike, *, now: datetime | None = None) -> BackupResult:
    """Back up the open database into a new timestamped folder under `out_dir`; verified, audited.

    Only the beheerder (or the command line) may: a backup holds every pupil's data.
    """
    if user is not SYSTEM_USER:
        require(user, "admin.settings")
    now = now or datetime.now()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        folder = _new_folder(out, now.strftime("%Y%m%d-%H%M%S"))
    except OSError as exc:
        raise BackupError(f"Kan de map {out} niet aanmaken of er niet in schrijven: {exc.strerror}.") from exc
    target = folder / f"{folder.name}.duckdb"
    try:
        version, counts = _copy(db, target)
        # Verify what is on disk, not what the copying connection believed it wrote.
        check_version, check_counts = inspect_file(target)
        if (check_version, check_counts) != (version, counts):
            raise BackupError("Het geschreven back-upbestand komt niet overeen met de databank; niet bewaard.")
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "file": target.name,
            "sha256": sha256_file(target),
            "size": target.stat().st_size,
            "schema_version": version,
            "tables": counts,
            "created_at": now.isoformat(timespec="seconds"),
            "created_by": user.username,
            "duckdb_version": duckdb.__version__,
        }
        partial = folder / (MANIFEST + ".tmp")
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        os.replace(partial, folder / MANIFEST)
        _fsync_dir(folder)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BackupError(f"De back-up kon niet geschreven worden in {out}: {exc.strerror}.") from exc
        if isinstance(exc, duckdb.Error):
            raise BackupError(f"De back-up is mislukt ({type(exc).__name__}); er is niets bewaard.") from exc
        raise
    total = sum(counts.values())
    db.write(
        lambda cur: audit.record(
            cur,
            user,
            "backup",
            object=target.name,
            detail=f"{len(counts)} tabellen, {total} rijen, sha256 {manifest['sha256'][:16]}…",
        )
    )
    return BackupResult(folder, target, manifest)


def read_manifest(source: str | os.PathLike) -> tuple[dict, Path]:
    """The manifest and the database file of a backup given as its folder, its file or its manifest."""
    path = Path(source)
    if path.is_dir():
        manifest_path = path / MANIFEST
    elif path.name == MANIFEST:
        manifest_path = path
    elif path.exists():
        manifest_path = path.parent / MANIFEST
    else:
        raise BackupError(f"Geen back-up gevonden op {path}.")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(
            f"{manifest_path} ontbreekt: zonder manifest kan de back-up niet gecontroleerd worden."
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{manifest_path} is onleesbaar of beschadigd.") from exc
    required = {"format", "file", "sha256", "schema_version", "tables"}
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not required <= set(manifest):
        raise BackupError(f"{manifest_path} is geen manifest van een back-up van het leerlingendossier.")
    file_name = str(manifest["file"])
    if Path(file_name).name != file_name:  # a manifest must not point outside its own folder
        raise BackupError(f"{manifest_path} verwijst naar een bestand buiten de back-upmap.")
    file = manifest_path.parent / file_name
    if not file.is_file():
        raise BackupError(f"Het back-upbestand {file_name} ontbreekt naast {MANIFEST}.")
    return manifest, file


def verify_backup(source: str | os.PathLike) -> tuple[dict, Path]:
    """Check a backup without restoring it: checksum, then the tables against the manifest."""
    manifest, file = read_manifest(source)
    if sha256_file(file) != manifest["sha256"]:
        raise BackupError(
            f"De controlesom van {file.name} klopt niet met het manifest: het bestand is beschadigd of gewijzigd. "
            "Gebruik een andere back-up."
        )
    _check_contents(file, manifest)
    return manifest, file


def _check_contents(file: Path, manifest: dict) -> None:
    version, counts = inspect_file(file)
    if version != manifest["schema_version"] or counts != manifest["tables"]:
        raise BackupError(f"De inhoud van {file.name} komt niet overeen met het manifest; niet teruggezet.")
    known = max((v for v, _, _ in _migrations()), default=0)
    if version > known:
        raise BackupError(
            f"Deze back-up komt van een nieuwere versie van de app (schema {version}, deze versie kent {known}). "
            "Werk de app eerst bij."
        )


def _ensure_not_in_use(target: Path) -> None:
    """Refuse when another process holds the target; otherwise fold its WAL in so none is left behind."""
    try:
        con = duckdb.connect(str(target))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseBusyError(
                f"De databank {target} is in gebruik door een ander programma (meestal de draaiende app). "
                "Stop eerst de app en zet dan de back-up terug."
            ) from exc
        return  # unreadable or damaged: exactly what a restore replaces
    except duckdb.Error:
        return
    con.close()


def restore_backup(
    source: str | os.PathLike, target: str | os.PathLike, *, force: bool = False, user: User = SYSTEM_USER
) -> dict:
    """Put a verified backup in place of `target` (atomically); returns its manifest.

    Refuses an existing target unless `force`. The restored file is opened (and migrated when
    the backup is older than the app) and the restore is written in its audit log.
    """
    if user is not SYSTEM_USER:
        require(user, "admin.settings")
    target = Path(target)
    manifest, file = read_manifest(source)
    if target.exists() and not force:
        raise BackupExists(
            f"De databank {target} bestaat al. Gebruik --force om ze te overschrijven "
            "(maak eerst een back-up van de huidige toestand)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.herstel-{secrets.token_hex(4)}.tmp"
    try:
        shutil.copyfile(file, partial)
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        # The checksum of the copy, not of the source: what lands in place is what was checked.
        if sha256_file(partial) != manifest["sha256"]:
            raise BackupError(
                f"De controlesom van {file.name} klopt niet met het manifest: het bestand is beschadigd of "
                "gewijzigd. Gebruik een andere back-up."
            )
        _check_contents(partial, manifest)
        if target.exists():
            _ensure_not_in_use(target)
        wal = target.with_name(target.name + ".wal")
        # A log left by the old file would be replayed onto the restored one.
        wal.unlink(missing_ok=True)
        os.replace(partial, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise BackupError(f"Terugzetten naar {target} is mislukt: {exc.strerror}.") from exc
    finally:
        partial.unlink(missing_ok=True)
    restored = Database(target)
    try:
        restored.write(
            lambda cur: audit.record(
                cur,
                user,
                "restore",
                object=manifest["file"],
                detail=f"back-up van {manifest.get('created_at', '?')}, sha256 {manifest['sha256'][:16]}…",
            )
        )
    finally:
        restored.close()
    return manifest


def list_backups(out_dir: str | os.PathLike) -> list[dict]:
    """The manifests of the backups in `out_dir`, newest first (unreadable ones skipped)."""
    found = []
    for manifest_path in Path(out_dir).glob(f"*/{MANIFEST}"):
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("format") == FORMAT:
            found.append({**manifest, "folder": str(manifest_path.parent)})
    return sorted(found, key=lambda m: str(m.get("created_at", "")), reverse=True)
