"""Several teachers save registrations at the same moment in real Chromium against one `streamlit run`.

Each browser context is its own Streamlit session; the saves of a round are clicked on every page
before any answer is awaited, so the server runs them side by side. Afterwards every registration
is in the database exactly once and no page showed an exception. The server is this test's own
(on its own demo database): it writes, and the shared demo server stays as the other flows expect.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import duckdb
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, ROOT
from tests.browser.test_sign_in import sign_in
from tests.streamlit_server import streamlit_app

SESSIONS = 5
ROUNDS = 2


def test_five_teachers_save_at_once_and_every_registration_lands_once(browser, tmp_path):
    db_path = tmp_path / "demo.duckdb"
    made = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(db_path), "--pupils", "30", "--years", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    con = duckdb.connect(str(db_path), read_only=True)
    accounts = json.loads(con.execute("SELECT value FROM setting WHERE key = 'demo_accounts'").fetchone()[0])
    before = con.execute("SELECT count(*) FROM registration").fetchone()[0]
    con.close()
    teachers = [a for a in accounts if a["role"] == "leerkracht"][:SESSIONS]
    assert len(teachers) == SESSIONS

    contexts, pages = [], []
    with streamlit_app(db_path, tmp_path) as (url, server):
        try:
            for teacher in teachers:
                context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="nl-BE")
                page = context.new_page()
                page.set_default_timeout(30_000)
                contexts.append(context)
                pages.append(page)
                sign_in(page, url, teacher["username"])
            for round_ in range(ROUNDS):
                for page in pages:  # a fresh form each round, the way a teacher comes back to it
                    if round_:
                        page.get_by_test_id("stSidebar").get_by_role("link", name="Start").click()
                    page.get_by_text("Mijn klassen").wait_for()
                    page.get_by_test_id("stMain").get_by_role("link", name="Registreren").first.click()
                for teacher, page in zip(teachers, pages, strict=True):
                    facts = page.get_by_role("textbox", name="Feiten", exact=True)
                    expect(facts).to_have_value("", timeout=30_000)
                    facts.fill(f"Gelijktijdig bewaard door {teacher['username']}, ronde {round_ + 1}.")
                for page in pages:  # all saves in flight before any is awaited
                    page.get_by_role("button", name="Bewaren").click()
                for page in pages:
                    page.get_by_text("Registratie bewaard").wait_for()
                    assert page.locator('[data-testid="stException"]').count() == 0
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            for i, page in enumerate(pages):
                page.screenshot(path=str(ARTIFACTS / f"gelijktijdig-{i}.png"), full_page=True)
            raise
        finally:
            for context in contexts:
                context.close()
        assert server.poll() is None

    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute(
        "SELECT r.facts, u.username FROM registration r JOIN staff_user u ON u.id = r.author_id"
        " WHERE r.facts LIKE 'Gelijktijdig bewaard door %'"
    ).fetchall()
    total = con.execute("SELECT count(*) FROM registration").fetchone()[0]
    con.close()
    expected = {
        (f"Gelijktijdig bewaard door {t['username']}, ronde {r + 1}.", t["username"])
        for t in teachers
        for r in range(ROUNDS)
    }
    assert [row for row, n in Counter(rows).items() if n > 1] == []
    assert set(rows) == expected
    assert total == before + SESSIONS * ROUNDS
