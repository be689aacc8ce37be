"""Undo of an import batch: exactly the state before, or a clear Dutch refusal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dossier.access import AccessDenied, User
from pipelines.importer import UndoRefused, list_batches, run_import, undo_batch

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "voorbeelden"
ZORG = User(id=11, username="zorg", name="Zorg Coördinator", role="zorgteam")
BEHEERDER = User(id=21, username="ict", name="ICT Beheer", role="beheerder")
DATA_TABLES = ("school_year", "class", "pupil", "enrolment", "lvs_result")
LVS_HEADER = (
    "schooljaar,afnamedatum,leerling_id,klas,leerjaar,domein,afnamemoment,"
    "ruwe_score,max_score,percentiel,zone,opmerking"
)
ROSTER_HEADER = "leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar,geslacht"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def lvs(*rows: str) -> bytes:
    return ("\n".join([LVS_HEADER, *rows]) + "\n").encode()


def roster(*rows: str) -> bytes:
    return ("\n".join([ROSTER_HEADER, *rows]) + "\n").encode()


def state(db) -> dict[str, list[tuple]]:
    with db.cursor() as cur:
        return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in DATA_TABLES}


def imported(db, data: bytes, name: str, user: User = ZORG) -> int:
    report = run_import(db, user, data, name)
    assert report.status == "imported", report.errors
    return report.batch_id


@pytest.fixture
def school(db):
    imported(db, sample("leerlingen.csv"), "leerlingen.csv")
    return db


def test_undo_of_inserted_results_restores_exactly(school):
    before = state(school)
    batch = imported(school, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    assert state(school) != before
    undo_batch(school, ZORG, batch)
    assert state(school) == before
    with school.cursor() as cur:
        undone = cur.execute(
            "SELECT undone_at IS NOT NULL, undone_by FROM import_batch WHERE id = ?", [batch]
        ).fetchone()
        audit = cur.execute("SELECT object, detail FROM audit_log WHERE action = 'undo'").fetchall()
    assert undone == (True, ZORG.name)
    assert audit[0][0] == f"import_batch:{batch}" and "verwijderd" in audit[0][1]


def test_undo_of_updates_restores_previous_values_exactly(school):
    imported(school, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    before = state(school)
    batch = imported(
        school,
        lvs(
            "2024-2025,2025-02-04,24007,L1A,1,wiskunde,midden,30,50,60,B,herkansing",  # update
            "2024-2025,2024-10-08,24007,L1A,1,spelling,begin,15,50,30,C,",  # unchanged
            "2024-2025,2025-05-20,24007,L1A,1,wiskunde,eind,40,50,80,,",  # new
        ),
        "correctie.csv",
    )
    assert state(school) != before
    undo_batch(school, ZORG, batch)
    assert state(school) == before


def test_undo_allowed_when_a_later_batch_touched_other_rows(school):
    first = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,"), "a.csv")
    after_first = state(school)
    second = imported(school, lvs("2024-2025,2024-10-08,24008,L1A,1,wiskunde,begin,20,50,40,C,"), "b.csv")
    with_both = state(school)
    undo_batch(school, ZORG, first)
    remaining = state(school)["lvs_result"]
    assert len(remaining) == 1 and remaining[0] in with_both["lvs_result"]
    assert remaining[0] not in after_first["lvs_result"]
    undo_batch(school, ZORG, second)
    assert state(school)["lvs_result"] == []


def test_undo_refused_when_a_later_batch_changed_the_same_rows(school):
    first = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,"), "a.csv")
    after_first = state(school)
    second = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,25,50,55,B,"), "b.csv")
    with pytest.raises(UndoRefused) as refused:
        undo_batch(school, ZORG, first)
    assert f"latere importrun(s) {second}" in str(refused.value)
    # nothing changed by the refused undo
    with school.cursor() as cur:
        assert cur.execute("SELECT undone_at FROM import_batch WHERE id = ?", [first]).fetchone() == (None,)
        assert cur.execute("SELECT zone FROM lvs_result").fetchall() == [("B",)]
    undo_batch(school, ZORG, second)
    assert state(school) == after_first
    undo_batch(school, ZORG, first)
    assert state(school)["lvs_result"] == []


def test_undo_twice_is_refused(school):
    batch = imported(school, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    undo_batch(school, ZORG, batch)
    with pytest.raises(UndoRefused, match="al ongedaan gemaakt"):
        undo_batch(school, ZORG, batch)


def test_undo_refused_after_a_change_outside_imports(school):
    batch = imported(school, lvs("2024-2025,2024-10-08,24007,L1A,1,wiskunde,begin,22,50,45,C,"), "a.csv")
    school.write(lambda cur: cur.execute("UPDATE lvs_result SET remark = 'nagekeken'"))
    with pytest.raises(UndoRefused, match="buiten een import om"):
        undo_batch(school, ZORG, batch)


def test_unknown_batch_is_refused(school):
    with pytest.raises(UndoRefused, match="bestaat niet"):
        undo_batch(school, ZORG, 999)


def test_roster_undo_restores_the_empty_school(db):
    empty = state(db)
    batch = imported(db, sample("leerlingen.csv"), "leerlingen.csv", BEHEERDER)
    undo_batch(db, BEHEERDER, batch)
    assert state(db) == empty


def test_roster_undo_restores_updated_pupils_and_classes(school):
    before = state(school)
    batch = imported(
        school,
        roster(
            "24001,Nora,Maes-Peeters,2020-10-08,2024-2025,K2B,kleuter,2,V",  # name changed
            "24002,Nora,Aerts,2020-08-04,2024-2025,K3A,kleuter,3,M",  # moved to a new class
            "24099,Nieuw,Kind,2020-01-01,2025-2026,K3A,kleuter,3,X",  # new pupil, new year
        ),
        "wijziging.csv",
        BEHEERDER,
    )
    assert state(school) != before
    undo_batch(school, BEHEERDER, batch)
    assert state(school) == before


def test_roster_undo_refused_while_results_use_its_pupils(db):
    roster_batch = imported(db, sample("leerlingen.csv"), "leerlingen.csv")
    results_batch = imported(db, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    before = state(db)
    with pytest.raises(UndoRefused, match="LVS-resultaten"):
        undo_batch(db, ZORG, roster_batch)
    assert state(db) == before
    undo_batch(db, ZORG, results_batch)
    undo_batch(db, ZORG, roster_batch)
    assert all(rows == [] for rows in state(db).values())


def test_list_batches_and_who_may_undo(school):
    results = imported(school, sample("lvs-vclb.csv"), "lvs-vclb.csv")
    frame = list_batches(school, ZORG)
    assert list(frame.columns) == [
        "id",
        "file_name",
        "format",
        "imported_at",
        "user_name",
        "rows",
        "inserted",
        "updated",
        "unchanged",
        "undone_at",
    ]
    assert list(frame["format"]) == ["lvs-vclb", "leerlingen"]  # newest first
    assert frame.iloc[0]["file_name"] == "lvs-vclb.csv" and frame.iloc[0]["user_name"] == ZORG.name
    assert list(list_batches(school, BEHEERDER)["format"]) == ["leerlingen"]
    with pytest.raises(AccessDenied):
        undo_batch(school, BEHEERDER, results)
    with pytest.raises(AccessDenied):
        list_batches(school, User(id=4, username="lk", name="Leerkracht", role="leerkracht"))
    assert pd.isna(frame.iloc[0]["undone_at"])
    undo_batch(school, ZORG, results)
    assert pd.notna(list_batches(school, ZORG).iloc[0]["undone_at"])
