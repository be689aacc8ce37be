"""Real headless Chromium (Debian's package) driven by pip's playwright, against `streamlit run`.

Never `playwright install`: the browser comes from the system (`make test` installs it).
Outside CI a missing chromium skips these tests with the reason; with CI set they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class DemoServer:
    url: str
    accounts: list[dict]
    db_path: Path

    def account(self, role: str) -> dict:
        return next(a for a in self.accounts if a["role"] == role)


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if os.environ.get("CI"):
        # In CI a skipped browser test would be a green lie: fail loudly instead.
        raise pytest.UsageError(
            "CI is gezet maar chromium ontbreekt: installeer Debian's chromium (make test doet dat)."
        )
    skip = pytest.mark.skip(reason="chromium niet gevonden (Debian-pakket 'chromium'); browsertests overgeslagen")
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """`streamlit run app.py` on loopback against a fresh demo database, shared by the read-mostly flows."""
    with running_demo_server(tmp_path_factory.mktemp("browser")) as server:
        yield server


@contextmanager
def running_demo_server(folder: Path, pupils: int = 80):
    """A fresh demo database in `folder` and `streamlit run app.py` on loopback against it."""
    db_path = folder / "demo.duckdb"
    env = {**os.environ, "DOSSIER_DB": str(db_path)}
    subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(db_path), "--pupils", str(pupils)],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    # Read the demo accounts now: once the app runs, it holds the file's lock.
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    accounts = json.loads(con.execute("SELECT value FROM setting WHERE key = 'demo_accounts'").fetchone()[0])
    con.close()
    from tests.streamlit_server import streamlit_app

    with streamlit_app(db_path, folder) as (url, _server):
        yield DemoServer(url=url, accounts=accounts, db_path=db_path)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-BE")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
