"""No pupil data in log output: a realistic day with every logger at DEBUG, then search the records.

Demo school, import of every sample file, dossiers opened and registrations written through the core
and through the real pages (AppTest). Every log record of every logger (Streamlit's own loggers do
not propagate, so records are taken where they are handled) and the process's stdout/stderr are
searched for pupil first and last names and registration texts read back from the database.

The command line's own answers to the operator are the contract, not a log: a rejected import names
row, column and value. That output is left out; the demo and the accepted imports must still not
print a pupil's full name.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st
import streamlit.logger as st_logger

from dossier import registrations
from dossier.access import AccessDenied
from dossier.db import Database
from dossier.pupil_file import open_pupil_file
from dossier.users import authenticate
from pipelines.cli import main as cli
from tests.apptest import signed_in, texts

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "voorbeelden"
DEMO_PASSWORD = "demo1234"
VALID_SAMPLES = ["leerlingen", "lvs-vclb", "avi", "dmt", "idp", "welbevinden"]


class EveryRecord:
    """Collects each record as it is handled, whichever logger and whether or not it propagates."""

    def __init__(self):
        self.lines: list[str] = []
        self._format = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def add(self, record: logging.LogRecord) -> None:
        text = self._format.format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        self.lines.append(f"{text} {extras!r}" if extras else text)


_STANDARD_ATTRS = set(vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))) | {"message", "asctime"}


@pytest.fixture
def every_record(monkeypatch):
    collected = EveryRecord()
    original_handle = logging.Logger.handle

    def handle(self, record):
        collected.add(record)
        return original_handle(self, record)

    monkeypatch.setattr(logging.Logger, "handle", handle)
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    streamlit_level = st_logger._global_log_level
    st_logger.set_log_level("debug")  # also for Streamlit loggers made later on
    logging.captureWarnings(True)
    yield collected
    logging.captureWarnings(False)
    st_logger.set_log_level(logging.getLevelName(streamlit_level).lower())
    for lg, level in levels:
        lg.setLevel(level)


def pupil_data(path: Path) -> tuple[list[str], list[str], list[str]]:
    """Single names, full names, registration and care texts, as stored after the flow."""
    con = duckdb.connect(str(path))  # same process as the app: shares its database instance
    try:
        people = con.execute("SELECT first_name, last_name FROM pupil").fetchall()
        texts_ = con.execute(
            "SELECT facts FROM registration UNION SELECT interpretation FROM registration"
            " UNION SELECT agreements FROM registration UNION SELECT note FROM care_phase"
            " UNION SELECT description FROM measure"
        ).fetchall()
    finally:
        con.close()
    names = sorted({part for first, last in people for part in (first, last) if len(part) >= 3})
    full = sorted({f"{first} {last}" for first, last in people})
    long_texts = sorted({t for (t,) in texts_ if t and len(t.strip()) >= 12})
    return names, full, long_texts


def leaks(output: str, words: list[str], phrases: list[str]) -> list[str]:
    found = [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", output)]
    return found + [p for p in phrases if p in output]


def test_a_realistic_day_logs_no_pupil_names_or_texts(tmp_path, monkeypatch, capfd, every_record):
    path = tmp_path / "dossier.duckdb"
    monkeypatch.setenv("DOSSIER_DB", str(path))
    operator_output = []  # CLI answers that must not name pupils either

    # 1. The command line: demo school and every sample file (the rejected one last).
    assert cli(["demo", "--db", str(path), "--pupils", "60", "--years", "2"]) == 0
    for name in VALID_SAMPLES:
        assert cli(["import", str(SAMPLES / f"{name}.csv"), "--db", str(path)]) == 0, name
    operator_output.append(capfd.readouterr())
    assert cli(["import", str(SAMPLES / "fouten-lvs-vclb.csv"), "--db", str(path)]) != 0
    capfd.readouterr()  # the contract: a rejected import names row, column and value

    # 2. The core: every dossier opened, registrations written, corrected and withdrawn.
    database = Database(path)
    zorg = authenticate(database, "zorg", DEMO_PASSWORD)
    with database.cursor() as cur:
        pupils = cur.execute("SELECT id, first_name FROM pupil ORDER BY id").fetchall()
    opened = []
    for pupil_id, first_name in pupils:
        try:
            open_pupil_file(database, zorg, pupil_id)
        except AccessDenied:  # pupils only in an older roster year are outside today's scope
            continue
        opened.append((pupil_id, first_name))
    assert len(opened) >= 40
    pupils = opened
    pupil_id, first_name = pupils[3]
    written = registrations.create_registration(
        database,
        zorg,
        pupil_id,
        type="oudergesprek",
        fact_date=date.today() - timedelta(days=1),
        facts=f"Gesprek met de mama van {first_name}: slaapt slecht sinds de verhuis.",
        agreements="Mama meldt aan de juf als het niet beter gaat.",
        visibility="zorgteam",
    )
    registrations.correct_registration(
        database,
        zorg,
        written,
        facts=f"Gesprek met de mama van {first_name}: slaapt slecht sinds de verhuis in januari.",
    )
    registrations.withdraw_registration(database, zorg, written, "dubbel ingegeven")
    registrations.list_registrations(database, zorg, pupil_id)
    database.close()
    operator_output.append(capfd.readouterr())

    # 3. The app: sign in, open dossiers, write a registration through the form.
    st.cache_data.clear()
    st.cache_resource.clear()
    at = signed_in("zorg", DEMO_PASSWORD)
    for pupil_id, _ in pupils[:4]:
        at.query_params.update({"leerling": str(pupil_id)})
        at.switch_page("pages/leerling.py").run()
        assert not at.exception, at.exception
    at.query_params.update({"leerling": str(pupils[5][0])})
    at.switch_page("pages/registreren.py").run()
    at.text_area(key="reg_observatie_facts_0").input(
        f"{pupils[5][1]} huilde bij het afscheid aan de schoolpoort en wilde niet naar binnen."
    )
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert not at.exception, at.exception
    assert "bewaard" in texts(at).lower()
    app_output = capfd.readouterr()
    st.cache_data.clear()
    st.cache_resource.clear()

    names, full_names, stored_texts = pupil_data(path)
    assert len(names) > 50 and len(stored_texts) > 20  # the search below must have something to find
    assert any(f"{pupils[5][1]} huilde" in t for t in stored_texts)
    # The capture reached DEBUG records of Streamlit's own (non-propagating) loggers.
    assert any(line.startswith("streamlit.") and " DEBUG " in line for line in every_record.lines)

    logged = "\n".join(every_record.lines)
    assert leaks(logged, names, stored_texts) == [], "pupil data in log records"
    app_streams = app_output.out + app_output.err
    assert leaks(app_streams, names, stored_texts) == [], "pupil data on stdout/stderr of the app"
    cli_streams = "\n".join(o.out + o.err for o in operator_output)
    # Staff names in the demo's account list may share a surname with a pupil: full names only here.
    assert leaks(cli_streams, [], full_names + stored_texts) == [], "pupil data in command line output"
