"""Every `python -m pipelines` command while `streamlit run app.py` holds the database.

DuckDB lets one process open a file read-write, so with the app running each command that uses
the database must stop within seconds with a Dutch message naming the cause (the app holds the
database) and the remedy (stop the app, or use the app's page); a command that never touches the
database must simply work. The commands come from pipelines.cli.build_parser(), so a new
subcommand is covered without touching this file (with arguments derived from its parser, unless
EXAMPLES gives better ones). Only bench is not run: it has no --db and builds its own school in a
temporary folder, and tests/test_bench.py runs it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dossier.db import Database, DatabaseBusyError
from pipelines.cli import build_parser
from tests.browser.conftest import CHROMIUM
from tests.streamlit_server import streamlit_app

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20  # seconds a command may take to give up on a locked database
PARALLEL = 3
# Commands that never open the dossier database, with the reason; any other command without --db is run.
NO_DATABASE = {("bench",): "eigen synthetische scholengroep in een tijdelijke map; getest in test_bench.py"}
CAUSE = re.compile(r"in gebruik door een ander programma|de (draaiende )?app", re.IGNORECASE)
REMEDY = re.compile(r"stop (eerst )?de app", re.IGNORECASE)


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """(command words, parser) for every runnable subcommand, e.g. ("export", "inzage")."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += leaf_commands(sub, (*path, name))
    return found or [(path, parser)]


COMMANDS = {words: sub for words, sub in leaf_commands(build_parser())}


@dataclass
class Context:
    work: Path
    db_path: Path
    pupil_number: str
    backup: Path | None


# Realistic arguments for the known commands (without --db, which is added for every command that has it).
EXAMPLES = {
    ("import",): lambda c: [str(ROOT / "data" / "voorbeelden" / "lvs-vclb.csv")],
    ("demo",): lambda c: ["--pupils", "20", "--years", "1"],
    ("user", "add"): lambda c: ["--name", "Tijdens App", "--role", "zorgteam", "--password", "tijdelijk-12345"],
    ("export", "analyse"): lambda c: ["--out", str(c.work / "analyse")],
    ("export", "inzage"): lambda c: ["--pupil", c.pupil_number, "--out", str(c.work / "inzage.pdf")],
    ("export", "overdracht"): lambda c: ["--pupil", c.pupil_number, "--out", str(c.work / "overdracht")],
    ("retention",): lambda c: [],
    ("backup",): lambda c: ["--out", str(c.work / "backup-tijdens-app")],
    ("restore",): lambda c: [str(c.backup or c.work / "geen-backup"), "--force"],
}


def _has_db_option(sub) -> bool:
    return any(action.dest == "db" for action in sub._actions)


def _derived_args(sub, ctx: Context) -> list[str]:
    """Arguments for a command without an example: every required one, a path where it names a file."""
    args = []
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction) or action.dest == "db":
            continue
        positional = not action.option_strings
        if not (positional or action.required):
            continue
        if action.choices:
            value = str(next(iter(action.choices)))
        elif action.dest in ("out", "file", "source", "path", "folder"):
            value = str(ctx.work / f"{action.dest}-afgeleid")
        else:
            value = ctx.pupil_number
        args += [value] if positional else [action.option_strings[-1], value]
    return args


def command_line(words: tuple[str, ...], ctx: Context) -> list[str]:
    sub = COMMANDS[words]
    args = EXAMPLES[words](ctx) if words in EXAMPLES else _derived_args(sub, ctx)
    if _has_db_option(sub):
        args += ["--db", str(ctx.db_path)]
    return [sys.executable, "-m", "pipelines", *words, *args]


def _table_counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def _app_holds(path: Path) -> bool:
    try:
        Database(path, read_only=True).close()
    except DatabaseBusyError:
        return True
    return False


@pytest.fixture(scope="module")
def app(tmp_path_factory, browser):
    """A demo database, a backup of it, and `streamlit run app.py` with a browser session on it."""
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("CI is gezet maar chromium ontbreekt: installeer Debian's chromium (make test doet dat).")
        pytest.skip("chromium niet gevonden: zonder browsersessie opent de app de databank niet")
    work = tmp_path_factory.mktemp("cli-app")
    db_path = work / "app.duckdb"
    env = {**os.environ, "DOSSIER_DB": str(db_path)}
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    made = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(db_path), "--pupils", "30", "--years", "1"], **run
    )
    assert made.returncode == 0, made.stderr
    backup = None
    if ("backup",) in COMMANDS:
        backups = work / "backups"
        made = subprocess.run(
            [sys.executable, "-m", "pipelines", "backup", "--db", str(db_path), "--out", str(backups)], **run
        )
        assert made.returncode == 0, made.stderr
        backup = next(backups.iterdir())
    con = duckdb.connect(str(db_path), read_only=True)
    pupil_number = con.execute("SELECT pupil_number FROM pupil ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    before = _table_counts(db_path)

    # One Playwright per process: the browser is the session's (tests/browser/conftest.py).
    with streamlit_app(db_path, work) as (url, server):
        context = browser.new_context(locale="nl-BE")
        try:
            # The app opens the database on a session's first run: a browser page makes one.
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(url)
            page.get_by_label("Aanmeldnaam").wait_for()
            assert _app_holds(db_path), "de app houdt de databank niet open"
            yield Context(work, db_path, str(pupil_number), backup), page, url, server, before
        finally:
            context.close()


@pytest.fixture(scope="module")
def outcomes(app):
    """Every command (but NO_DATABASE) against the held database: words -> (code, stdout, stderr, seconds)."""
    ctx = app[0]
    env = {**os.environ, "DOSSIER_DB": str(ctx.db_path)}

    def run(words):
        started = time.monotonic()
        try:
            done = subprocess.run(
                command_line(words, ctx),
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            return None, exc.stdout or "", exc.stderr or "", time.monotonic() - started
        return done.returncode, done.stdout, done.stderr, time.monotonic() - started

    # A few at a time: each command's own start-up (pandas, DuckDB) takes a CPU for a second or
    # two, and a dozen at once on a small machine would measure the machine, not the command.
    order = [words for words in COMMANDS if words not in NO_DATABASE]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = dict(zip(order, pool.map(run, order), strict=True))
    print("\n" + "\n".join(f"{' '.join(w):20} code {r[0]}  {r[3]:.1f} s" for w, r in results.items()))
    return results


def test_examples_name_existing_commands():
    assert set(EXAMPLES) | set(NO_DATABASE) <= set(COMMANDS), "een opdracht die de parser niet (meer) kent"
    # A command left out must really be unable to reach the database.
    assert not any(_has_db_option(COMMANDS[words]) for words in NO_DATABASE)


@pytest.mark.parametrize("words", [w for w in COMMANDS if w not in NO_DATABASE], ids=" ".join)
def test_command_works_or_names_cause_and_remedy(words, outcomes):
    code, out, err, _ = outcomes[words]
    shown = out + err
    assert code is not None, f"{' '.join(words)} stopte niet binnen de tijd: {shown[-2000:]}"
    assert "Traceback" not in shown, shown[-3000:]
    if not _has_db_option(COMMANDS[words]):
        assert code == 0, shown[-2000:]
        return
    # The app holds the file: no command can open it, so each must stop and say why and what to do.
    assert code != 0, f"{' '.join(words)} meldde succes terwijl de app de databank openhield: {shown[-2000:]}"
    message = err if err.strip() else out
    assert CAUSE.search(message), message
    assert REMEDY.search(message), message


def test_app_keeps_serving_and_the_database_is_unchanged(app, outcomes):
    ctx, page, url, server, before = app
    page.goto(url)
    page.get_by_label("Aanmeldnaam").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert server.poll() is None
    server.terminate()
    server.wait(10)
    assert _table_counts(ctx.db_path) == before
