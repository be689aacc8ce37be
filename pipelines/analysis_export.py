"""Pseudonymised Parquet files for analysts: `python -m pipelines export analyse --out DIR`.

What leaves the school: results, enrolments, care phases and measure categories, keyed by a
pseudonym instead of the pupil. No names, no pupil numbers, no free text (remarks, contexts,
descriptions, observers), no staff; of the birth date only the year.

The pseudonym is a keyed HMAC-SHA256 of the internal pupil id, truncated to 16 hex characters.
The key is a random secret of this database (setting `analysis_pseudonym_key`, made on the
first export), so pseudonyms are stable from one export to the next, differ between schools,
and cannot be traced back to a pupil without the database itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from dossier import audit
from dossier.access import User, require
from dossier.db import Database, get_setting, set_setting
from dossier.users import SYSTEM_USER

SECRET_SETTING = "analysis_pseudonym_key"
PSEUDONYM_LENGTH = 16  # hex characters: 64 bits, no collisions in any school's lifetime

# One file per table: (file stem, SQL over the `pseudonyms` view, description for the manifest).
# Columns are listed one by one so that a new free-text column in the schema never leaks by default.
TABLES: tuple[tuple[str, str, str], ...] = (
    (
        "pupils",
        """SELECT ps.pupil, year(p.birth_date) AS birth_year, p.gender
           FROM pupil p JOIN pseudonyms ps ON ps.pupil_id = p.id ORDER BY ps.pupil""",
        "Eén rij per leerling: pseudoniem, geboortejaar, geslacht (M, V, X of leeg).",
    ),
    (
        "enrolments",
        """SELECT ps.pupil, e.school_year, c.name AS class_name, c.level, c.grade,
                  e.entry_date IS NOT NULL AS arrived_during_year, e.leave_date IS NOT NULL AS left_during_year
           FROM enrolment e JOIN pseudonyms ps ON ps.pupil_id = e.pupil_id JOIN class c ON c.id = e.class_id
           ORDER BY e.school_year, c.level, c.grade, c.name, ps.pupil""",
        "Inschrijvingen per schooljaar: klas, niveau, leerjaar, of de leerling tijdens het jaar instroomde of vertrok.",
    ),
    (
        "lvs_results",
        """SELECT ps.pupil, r.school_year, r.test_date, r.grade, c.name AS class_name, r.domain, r.moment,
                  r.raw_score, r.max_score, r.percentile, r.zone, r.zone_derived
           FROM lvs_result r JOIN pseudonyms ps ON ps.pupil_id = r.pupil_id LEFT JOIN class c ON c.id = r.class_id
           ORDER BY r.school_year, r.domain, r.moment, ps.pupil""",
        "LVS-VCLB: percentiel en zone per domein en toetsmoment (zone_derived: zone afgeleid uit het percentiel).",
    ),
    (
        "avi_results",
        """SELECT ps.pupil, r.school_year, r.test_date, r.grade, c.name AS class_name, r.moment, r.card,
                  r.reading_time_sec, r.errors, r.card_result, r.level_achieved, r.level_rank
           FROM avi_result r JOIN pseudonyms ps ON ps.pupil_id = r.pupil_id LEFT JOIN class c ON c.id = r.class_id
           ORDER BY r.school_year, r.test_date, ps.pupil, r.level_rank""",
        "AVI: gelezen kaarten en behaald niveau (level_rank 0 = AVI-Start ... 11 = AVI-Plus).",
    ),
    (
        "dmt_results",
        """SELECT ps.pupil, r.school_year, r.test_date, r.grade, c.name AS class_name, r.moment, r.version,
                  r.card1_correct, r.card1_errors, r.card2_correct, r.card2_errors, r.card3_correct, r.card3_errors,
                  r.norm_set, r.percentile, r.zone
           FROM dmt_result r JOIN pseudonyms ps ON ps.pupil_id = r.pupil_id LEFT JOIN class c ON c.id = r.class_id
           ORDER BY r.school_year, r.moment, ps.pupil""",
        "DMT: correct gelezen woorden en fouten per kaart.",
    ),
    (
        "idp_results",
        """SELECT ps.pupil, r.school_year, r.test_date, c.name AS class_name, r.test, r.area, r.part,
                  r.score, r.max_score, r.percentage, r.reference_percentage
           FROM idp_result r JOIN pseudonyms ps ON ps.pupil_id = r.pupil_id LEFT JOIN class c ON c.id = r.class_id
           ORDER BY r.school_year, r.test, r.area, r.part, ps.pupil""",
        "IDP: score per leergebied en onderdeel, met het percentage van de referentiegroep.",
    ),
    (
        "wellbeing_results",
        """SELECT ps.pupil, r.school_year, r.observed_on, c.name AS class_name, r.scale, r.score_text, r.score
           FROM wellbeing_result r JOIN pseudonyms ps ON ps.pupil_id = r.pupil_id LEFT JOIN class c ON c.id = r.class_id
           ORDER BY r.school_year, r.observed_on, ps.pupil, r.scale""",
        "Welbevinden en betrokkenheid (Leuvense schalen): score zoals genoteerd en als getal (n+ = n + 0,5).",
    ),
    (
        "care_phases",
        """SELECT ps.pupil, f.phase, f.start_date, f.end_date
           FROM care_phase f JOIN pseudonyms ps ON ps.pupil_id = f.pupil_id
           ORDER BY ps.pupil, f.start_date""",
        "Zorgfasen 1-3 met begin- en einddatum (zonder toelichting).",
    ),
    (
        "measures",
        """SELECT ps.pupil, m.category, m.start_date, m.end_date, m.evaluation_date
           FROM measure m JOIN pseudonyms ps ON ps.pupil_id = m.pupil_id
           ORDER BY ps.pupil, m.start_date""",
        "Maatregelen: enkel de STICORDI-categorie en de data (geen omschrijving).",
    ),
)


class ExportError(ValueError):
    """The export cannot be written; the message is Dutch."""


@dataclass
class ExportSummary:
    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [self.out_dir / f"{name}.parquet" for name in self.rows]


def pseudonym(secret: bytes, pupil_id: int) -> str:
    """The analysis pseudonym of a pupil: HMAC-SHA256 of the internal id under the database's secret."""
    return hmac.new(secret, str(int(pupil_id)).encode("ascii"), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


def _secret(db: Database) -> bytes:
    """The database's pseudonym key, made (once, in its own transaction) on the first export."""
    existing = get_setting(db, SECRET_SETTING)
    if existing:
        return bytes.fromhex(existing)

    def create(cur):
        row = cur.execute("SELECT value FROM setting WHERE key = ?", [SECRET_SETTING]).fetchone()
        if row:  # another process made it first
            return row[0]
        value = secrets.token_hex(32)
        set_setting(cur, SECRET_SETTING, value)
        return value

    return bytes.fromhex(db.write(create))


def _prepare_out_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} bestaat al en is geen map. Kies een map voor --out.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"De map {out_dir} kan niet aangemaakt worden: {exc.strerror or exc}.") from exc
    if not os.access(out_dir, os.W_OK):
        raise ExportError(f"In de map {out_dir} kan niet geschreven worden.")
    return out_dir


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_analysis(db: Database, out_dir: str | os.PathLike, *, user: User = SYSTEM_USER) -> ExportSummary:
    """Write the pseudonymised Parquet files and manifest.json into `out_dir`; audited.

    Whole-school data leave the app: a directie decision (permission export.approve).
    Files are written to a temporary folder first and then moved in, so a failed export never
    leaves a half-written set behind.
    """
    require(user, "export.approve")
    out_dir = _prepare_out_dir(Path(out_dir))
    secret = _secret(db)
    summary = ExportSummary(out_dir=out_dir)
    manifest_tables = {}
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".analyse-") as staging:
        staging_dir = Path(staging)
        with db.cursor() as cur:
            ids = [row[0] for row in cur.execute("SELECT id FROM pupil ORDER BY id").fetchall()]
            mapping = pd.DataFrame(
                {"pupil_id": pd.array(ids, dtype="int64"), "pupil": [pseudonym(secret, i) for i in ids]}
            )
            cur.register("pseudonyms", mapping)
            for name, sql, description in TABLES:
                target = staging_dir / f"{name}.parquet"
                cur.execute(f"COPY ({sql}) TO {_sql_path(target)} (FORMAT parquet, COMPRESSION zstd)").fetchall()
                described = cur.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_path(target)})").fetchall()
                count = cur.execute(f"SELECT count(*) FROM read_parquet({_sql_path(target)})").fetchall()[0][0]
                summary.rows[name] = int(count)
                manifest_tables[name] = {
                    "file": target.name,
                    "rows": int(count),
                    "description": description,
                    "columns": {col[0]: col[1] for col in described},
                }
            cur.unregister("pseudonyms")
        manifest = {
            "created_on": date.today().isoformat(),
            "pseudonym": (
                f"HMAC-SHA256 van de interne leerling-id met een geheime sleutel van deze databank,"
                f" ingekort tot {PSEUDONYM_LENGTH} tekens; stabiel tussen exports, niet terug te rekenen"
                " zonder de databank."
            ),
            "left_out": "namen, leerlingnummers, geboortedatum (enkel het jaar), vrije tekst, personeel",
            "tables": manifest_tables,
        }
        (staging_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        for entry in staging_dir.iterdir():
            os.replace(entry, out_dir / entry.name)
    total = sum(summary.rows.values())
    db.write(
        lambda cur: audit.record(
            cur,
            user,
            "export",
            object="analyse",
            detail=f"gepseudonimiseerde analyse-export: {len(TABLES)} bestanden, {total} rijen, naar {out_dir}",
        )
    )
    return summary


def cli_export_analyse(args) -> int:
    from pipelines.cli import _open

    db = _open(args.db)
    try:
        try:
            summary = export_analysis(db, Path(args.out))
        except ExportError as exc:
            print(f"Fout: {exc}", file=sys.stderr)
            return 2
        print(f"Analyse-export geschreven naar {summary.out_dir}:")
        for name, count in summary.rows.items():
            print(f"  {name}.parquet: {count} rijen")
        print("  manifest.json: beschrijving van de bestanden")
        return 0
    finally:
        db.close()
