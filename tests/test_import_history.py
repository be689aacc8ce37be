"""The import history layout of migration 005: what each kind of row leaves, and undo on it.

Inserted rows of tables with an `id` are logged in import_insert (id + fingerprint), updated
rows and inserted rows of tables without `id` in import_change. Undo must still restore
exactly, refuse after a change outside imports (values, key or a deleted row) and name a
later batch that touched the same rows, also for history written before migration 005.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dossier.access import User
from dossier.db import Database, _migrations, _split_sql
from pipelines.importer import UndoRefused, run_import, undo_batch

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "voorbeelden"
ZORG = User(id=11, username="zorg", name="Zorg Coördinator", role="zorgteam")
BEHEERDER = User(id=21, username="ict", name="ICT Beheer", role="beheerder")
LVS_HEADER = (
    "schooljaar,afnamedatum,leerling_id,klas,leerjaar,domein,afnamemoment,"
    "ruwe_score,max_score,percentiel,zone,opmerking"
)
ROSTER_HEADER = "leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar,geslacht"
DATA_TABLES = ("school_year", "class", "pupil", "enrolment", "lvs_result")


def lvs(*rows: str) -> bytes:
    return ("\n".join([LVS_HEADER, *rows]) + "\n").encode()


def imported(db, data: bytes, name: str, user: User = ZORG) -> int:
    report = run_import(db, user, data, name)
    assert report.status == "imported", report.errors
    return report.batch_id


def state(db) -> dict[str, list[tuple]]:
    with db.cursor() as cur:
        return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in DATA_TABLES}


def fetch(db, sql: str, params=()) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchall()


@pytest.fixture
def school(db):
    imported(db, (SAMPLES / "leerlingen.csv").read_bytes(), "leerlingen.csv", BEHEERDER)
    return db


def test_inserted_results_are_logged_by_id_without_json(school):
    batch = imported(school, (SAMPLES / "lvs-vclb.csv").read_bytes(), "lvs-vclb.csv")
    logged = fetch(school, "SELECT entity, row_id FROM import_insert WHERE batch_id = ? ORDER BY row_id", [batch])
    ids = fetch(school, "SELECT 'lvs_result', id FROM lvs_result WHERE import_batch_id = ? ORDER BY id", [batch])
    assert logged == ids and len(logged) == 264
    assert fetch(school, "SELECT count(*) FROM import_change WHERE batch_id = ?", [batch]) == [(0,)]
    distinct = fetch(school, "SELECT count(DISTINCT fingerprint) FROM import_insert WHERE batch_id = ?", [batch])
    assert distinct == [(264,)]  # one per row: the key is part of what is hashed


def test_rejected_files_and_dry_runs_log_nothing(school):
    logged = "SELECT (SELECT count(*) FROM import_insert), (SELECT count(*) FROM import_change)"
    before = fetch(school, logged)
    rejected = run_import(school, ZORG, (SAMPLES / "fouten-lvs-vclb.csv").read_bytes(), "fouten.csv")
    dry = run_import(school, ZORG, (SAMPLES / "lvs-vclb.csv").read_bytes(), "lvs-vclb.csv", dry_run=True)
    assert (rejected.status, dry.status, dry.inserted) == ("rejected", "dry-run", 264)
    assert fetch(school, logged) == before


def test_roster_logs_pupils_and_classes_by_id_and_enrolments_by_key(db):
    batch = imported(db, (SAMPLES / "leerlingen.csv").read_bytes(), "leerlingen.csv", BEHEERDER)
    by_id = dict(fetch(db, "SELECT entity, count(*) FROM import_insert WHERE batch_id = ? GROUP BY ALL", [batch]))
    counts = dict(fetch(db, "SELECT 'pupil', count(*) FROM pupil UNION ALL SELECT 'class', count(*) FROM class"))
    assert by_id == counts
    by_key = fetch(
        db,
        "SELECT entity, action, count(*), count(after_values), count(fingerprint) FROM import_change"
        " WHERE batch_id = ? GROUP BY ALL ORDER BY 1",
        [batch],
    )
    enrolments = fetch(db, "SELECT count(*) FROM enrolment")[0][0]
    assert by_key == [("enrolment", "inserted", enrolments, 0, enrolments), ("school_year", "inserted", 1, 0, 1)]


def test_an_update_keeps_before_and_after_and_is_not_logged_as_insert(school):
    imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,"), "a.csv")
    batch = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,30,50,60,B,herkansing"), "b.csv")
    assert fetch(school, "SELECT count(*) FROM import_insert WHERE batch_id = ?", [batch]) == [(0,)]
    [(action, key, before, after, fingerprint)] = fetch(
        school,
        "SELECT action, entity_key, before_values, after_values, fingerprint FROM import_change WHERE batch_id = ?",
        [batch],
    )
    assert action == "updated" and fingerprint is not None
    assert json.loads(key)["domain"] == "wiskunde" and json.loads(key)["moment"] == "begin"
    assert (json.loads(before)["zone"], json.loads(after)["zone"]) == ("C", "B")
    assert json.loads(after)["remark"] == "herkansing" and json.loads(after)["import_batch_id"] == batch


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE lvs_result SET remark = 'nagekeken' WHERE domain = 'spelling'",
        "UPDATE lvs_result SET moment = 'eind' WHERE domain = 'spelling'",  # the key itself
        "DELETE FROM lvs_result WHERE domain = 'spelling'",
    ],
)
def test_undo_refused_after_an_inserted_row_changed_outside_imports(school, change):
    batch = imported(
        school,
        lvs(
            "2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,",
            "2024-2025,2024-10-08,24007,L1A,1,spelling,begin,15,50,30,C,",
        ),
        "a.csv",
    )
    school.write(lambda cur: cur.execute(change))
    before = state(school)
    with pytest.raises(UndoRefused, match="1 LVS-resultaten werden na deze import nog buiten een import om"):
        undo_batch(school, ZORG, batch)
    assert state(school) == before


def test_roster_undo_refused_when_a_later_roster_changed_a_pupil_it_created(db):
    first = imported(
        db,
        ("\n".join([ROSTER_HEADER, "24099,Ada,Peeters,2018-03-01,2024-2025,L1A,lager,1,V"]) + "\n").encode(),
        "a.csv",
        BEHEERDER,
    )
    second = imported(
        db,
        ("\n".join([ROSTER_HEADER, "24099,Ada,Peeters-Maes,2018-03-01,2024-2025,L1A,lager,1,V"]) + "\n").encode(),
        "b.csv",
        BEHEERDER,
    )
    with pytest.raises(UndoRefused, match=f"latere importrun\\(s\\) {second}"):
        undo_batch(db, BEHEERDER, first)
    undo_batch(db, BEHEERDER, second)
    assert fetch(db, "SELECT last_name FROM pupil") == [("Peeters",)]
    undo_batch(db, BEHEERDER, first)
    assert all(rows == [] for rows in state(db).values())


def test_undo_of_an_undone_later_batch_frees_the_earlier_one(school):
    first = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,"), "a.csv")
    after_first = state(school)
    second = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,25,50,55,B,"), "b.csv")
    undo_batch(school, ZORG, second)
    assert state(school) == after_first
    undo_batch(school, ZORG, first)  # the undone later batch no longer blocks, and the hash matches again
    assert state(school)["lvs_result"] == []


# -- history written before migration 005 -----------------------------------------------------------
def _database_before_005(path: Path) -> None:
    """Migrations 001-004 only, with one LVS import logged the way the importer did then:
    every inserted row in import_change with its values as JSON."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
    )
    for version, name, script in _migrations():
        if version < 5:
            for statement in _split_sql(script):
                con.execute(statement)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])
    con.execute("INSERT INTO school_year VALUES ('2024-2025', '2024-09-01', '2025-08-31')")
    con.execute("INSERT INTO class (id, school_year, name, level, grade) VALUES (1, '2024-2025', 'L1A', 'lager', 1)")
    con.execute(
        "INSERT INTO pupil (id, pupil_number, first_name, last_name, birth_date) VALUES"
        " (1, '24007', 'Ada', 'Maes', '2018-03-01'), (2, '24008', 'Bo', 'Peeters', '2018-05-02')"
    )
    con.execute(
        "INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (1, '2024-2025', 1), (2, '2024-2025', 1)"
    )
    con.execute(
        "INSERT INTO import_batch (id, file_name, sha256, format, rows, inserted, updated, unchanged)"
        " VALUES (nextval('import_batch_id_seq'), 'oud.csv', 'x', 'lvs-vclb', 2, 2, 0, 0)"
    )
    con.execute(
        "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, raw_score, max_score,"
        " percentile, zone, zone_derived, remark, class_id, import_batch_id) VALUES"
        " (1, '2024-2025', '2024-10-08', 1, 'wiskunde', 'begin', 22, 50, 45, 'C', false, NULL, 1, 1),"
        " (2, '2024-2025', '2024-10-08', 1, 'wiskunde', 'begin', 30, 50, 60, 'B', false, 'ziek', 1, 1)"
    )
    con.execute(
        "INSERT INTO import_change (id, batch_id, entity, entity_key, action, before_values, after_values)"
        " SELECT nextval('import_change_id_seq'), 1, 'lvs_result',"
        " to_json(struct_pack(pupil_id := pupil_id, domain := domain, school_year := school_year,"
        "  moment := moment))::VARCHAR, 'inserted', NULL,"
        " to_json(struct_pack(test_date := test_date, grade := grade, raw_score := raw_score, max_score := max_score,"
        "  percentile := percentile, zone := zone, zone_derived := zone_derived, remark := remark,"
        "  class_id := class_id, import_batch_id := import_batch_id))"
        " FROM lvs_result"
    )
    con.close()


def test_history_from_before_migration_005_can_still_be_undone(tmp_path):
    path = tmp_path / "oud.duckdb"
    _database_before_005(path)
    db = Database(path)  # applies 005 and later
    try:
        assert db.schema_version() >= 5
        assert fetch(db, "SELECT count(*), count(fingerprint) FROM import_change") == [(2, 0)]
        undo_batch(db, ZORG, 1)
        assert fetch(db, "SELECT count(*) FROM lvs_result") == [(0,)]
        assert fetch(db, "SELECT undone_by FROM import_batch WHERE id = 1") == [(ZORG.name,)]
    finally:
        db.close()


def test_history_from_before_migration_005_still_detects_changes(tmp_path):
    path = tmp_path / "oud.duckdb"
    _database_before_005(path)
    db = Database(path)
    try:
        db.write(lambda cur: cur.execute("UPDATE lvs_result SET zone = 'A' WHERE pupil_id = 2"))
        with pytest.raises(UndoRefused, match="1 LVS-resultaten werden na deze import nog buiten een import om"):
            undo_batch(db, ZORG, 1)
        assert fetch(db, "SELECT count(*) FROM lvs_result") == [(2,)]
    finally:
        db.close()


def test_history_from_before_migration_005_blocks_undo_under_a_newer_update(tmp_path):
    path = tmp_path / "oud.duckdb"
    _database_before_005(path)
    db = Database(path)
    try:
        newer = imported(db, lvs("2024-2025,2024-10-08,24008,L1A,1,wiskunde,begin,31,50,62,B,ziek"), "nieuw.csv")
        with pytest.raises(UndoRefused, match=f"latere importrun\\(s\\) {newer}"):
            undo_batch(db, ZORG, 1)
        undo_batch(db, ZORG, newer)
        undo_batch(db, ZORG, 1)
        assert fetch(db, "SELECT count(*) FROM lvs_result") == [(0,)]
    finally:
        db.close()
