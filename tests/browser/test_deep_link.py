"""A shared link is the first thing a freshly started server sees (a bookmark after a restart).

Streamlit runs a page file of a pages/ folder by itself on a server's very first visit, before
app.py ever set up the navigation: without ui/context.py's guard the visitor got a list of file
names and "Meld je eerst aan." without a sign-in form, and every later link did the same until
someone opened the start page.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, running_demo_server
from tests.browser.test_full_journey import assert_no_exception, new_page, settle
from tests.browser.test_sign_in import DEMO_PASSWORD


@pytest.fixture
def fresh_server(tmp_path):
    with running_demo_server(tmp_path, pupils=20) as server:
        yield server


def test_a_dossier_link_as_first_visit_signs_in_and_opens_that_dossier(browser, fresh_server):
    context, page = new_page(browser)
    page.goto(f"{fresh_server.url}/leerling?leerling=1")
    page.get_by_label("Aanmeldnaam").fill(fresh_server.account("directie")["username"])
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_text("In een oogopslag").wait_for()
    settle(page)
    assert_no_exception(page, "dossier via link")
    assert "leerling=1" in page.url
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.get_by_text("Leerlingendossier").count() == 1
    assert nav.get_by_text("auditlog", exact=True).count() == 0  # no raw file names
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "link-als-eerste-bezoek.png"), full_page=True)
    context.close()

    # A second visitor through a link on the same server gets the same.
    context, page = new_page(browser)
    page.goto(f"{fresh_server.url}/klas")
    page.get_by_label("Aanmeldnaam").wait_for()
    context.close()
