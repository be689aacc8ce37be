"""A process killed (SIGKILL) in the middle of a large import or of a bulk registration: the database
opens afterwards, nothing of the half-written transaction is visible, and the same work then succeeds.

The kill comes once the write is provably under way, never after a fixed sleep: for the import
when its rows are being written into the database file (the file grows and the WAL exists), for
the bulk registration when the helper reports that half of the group is inserted.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dossier.db import Database
from pipelines.bench import build_school
from tests.factories import _password_hash

ROOT = Path(__file__).resolve().parents[1]
ROWS = 50_000  # LVS-VCLB rows: 1,389 pupils in three school years, a 3.4 MB file
GROUP = 100
FACTS = "Crashtest: dezelfde waarneming voor een grote groep."
ATTEMPTS = 3


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """A school whose roster matches a ROWS-row LVS-VCLB file, plus a zorgteam account; checkpointed."""
    work = tmp_path_factory.mktemp("crash")
    db_path, lvs_path, _ = build_school(work, ROWS)
    db = Database(db_path)
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO staff_user (username, display_name, role, password_hash)"
            " VALUES ('zorg', 'Zorg Coördinator', 'zorgteam', ?)",
            [_password_hash()],
        )
    )
    db.checkpoint()
    db.close()
    return work, db_path, lvs_path


def _copy(school, name: str) -> Path:
    work, db_path, _ = school
    target = work / name
    Path(f"{target}.wal").unlink(missing_ok=True)
    shutil.copyfile(db_path, target)
    return target


def _state(path: Path) -> dict:
    """What a fresh process sees after the crash; opening (and migrating) must simply work."""
    db = Database(path)
    try:
        with db.cursor() as cur:
            one = lambda sql: cur.execute(sql).fetchone()[0]  # noqa: E731
            return {
                "lvs": one("SELECT count(*) FROM lvs_result"),
                "lvs_batches": one("SELECT count(*) FROM import_batch WHERE format = 'lvs-vclb'"),
                "batches": one("SELECT count(*) FROM import_batch"),
                "orphan_inserts": one(
                    "SELECT count(*) FROM import_insert WHERE batch_id NOT IN (SELECT id FROM import_batch)"
                ),
                "import_audits": one("SELECT count(*) FROM audit_log WHERE action = 'import'"),
                "group": one(f"SELECT count(*) FROM registration WHERE facts = '{FACTS}'"),
                "groups": one(f"SELECT count(DISTINCT group_id) FROM registration WHERE facts = '{FACTS}'"),
                "group_pupils": one(f"SELECT count(DISTINCT pupil_id) FROM registration WHERE facts = '{FACTS}'"),
                "create_audits": one("SELECT count(*) FROM audit_log WHERE action = 'create'"),
            }
    finally:
        db.close()


def _import(path: Path, lvs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "import", str(lvs), "--db", str(path), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_while_writing(path: Path, lvs: Path) -> None:
    """Start the import and SIGKILL it as soon as its rows are going into the file."""
    size = path.stat().st_size
    wal = Path(f"{path}.wal")
    proc = _import(path, lvs)
    deadline = time.monotonic() + 120
    while not (wal.exists() and path.stat().st_size > size):
        if proc.poll() is not None:
            pytest.fail(
                f"de import eindigde (code {proc.returncode}) voor hij onderbroken kon worden: {proc.stderr.read()}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("de import begon niet te schrijven binnen 120 s")
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def test_import_killed_while_writing_leaves_nothing_and_then_succeeds(school):
    before = _state(school[1])
    assert before["lvs"] == 0 and before["lvs_batches"] == 0
    # The kill races the commit (about 50 ms of writing at this size); a kill that came after the
    # commit is no crash in the middle, so that attempt is repeated on a fresh copy.
    for attempt in range(ATTEMPTS):
        path = _copy(school, f"import-{attempt}.duckdb")
        _kill_while_writing(path, school[2])
        after = _state(path)
        assert after["orphan_inserts"] == 0
        if after["lvs"] == 0:
            print(f"\nimport onderbroken tijdens het schrijven bij poging {attempt + 1}")
            break
        # Too late: then the whole batch must be there, with its batch row and audit row.
        assert after["lvs"] == ROWS and after["lvs_batches"] == 1
        assert after["import_audits"] == before["import_audits"] + 1
    else:
        pytest.fail(f"in {ATTEMPTS} pogingen viel de kill nooit voor de commit")

    # Nothing of the half batch: no rows, no batch, no import history, no audit trace.
    assert after == before

    rerun = _import(path, school[2])
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert json.loads(out)["inserted"] == ROWS
    final = _state(path)
    assert final["lvs"] == ROWS
    assert final["lvs_batches"] == 1 and final["batches"] == before["batches"] + 1
    assert final["import_audits"] == before["import_audits"] + 1
    assert final["orphan_inserts"] == 0


def _bulk(path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_bulk", str(path), "zorg", str(GROUP), FACTS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_bulk_registration_killed_halfway_leaves_none_and_then_succeeds(school):
    path = _copy(school, "bulk.duckdb")
    before = _state(path)
    assert before["group"] == 0

    proc = _bulk(path)
    inserted = 0
    while inserted < GROUP // 2:
        line = proc.stdout.readline()
        if not line:
            proc.wait()
            pytest.fail(f"de groepsregistratie stopte (code {proc.returncode}): {proc.stderr.read()}")
        if line.startswith("ingevoegd "):
            inserted = int(line.split()[1])
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    after = _state(path)
    # Half of the group was inserted in the open transaction: after the crash none of it is there.
    assert after["group"] == 0
    assert after["create_audits"] == before["create_audits"]

    again = _bulk(path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.strip().endswith(f"bewaard {GROUP}")
    final = _state(path)
    assert (final["group"], final["groups"], final["group_pupils"]) == (GROUP, 1, GROUP)
    assert final["create_audits"] == before["create_audits"] + GROUP
