"""A teacher records an observation in a few clicks; the zorgcoördinator sees it on the timeline."""

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_sign_in import sign_in


class Clicks:
    """Counts every click a person makes, so the planlast target is measured, not claimed."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def click(self, locator):
        locator.click()
        self.count += 1


def test_teacher_observation_in_at_most_four_clicks_then_on_zorg_timeline(browser, demo_server):
    teacher = demo_server.account("leerkracht")
    fact = "Wiebelt tijdens de instructie voortdurend op de stoel (4x in 20 minuten)."

    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="nl-BE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, demo_server.url, teacher["username"])
    page.get_by_text("Mijn klassen").wait_for()
    # From here on: the first page after sign-in. Every click counts.
    clicks = Clicks(page)
    main = page.get_by_test_id("stMain")
    first_row_link = main.get_by_role("link", name="Registreren").first
    clicks.click(first_row_link)
    page.get_by_text("Nieuwe registratie").first.wait_for()
    pupil_name = page.locator("h3").first.inner_text()
    facts = page.get_by_role("textbox", name="Feiten", exact=True)
    clicks.click(facts)
    facts.fill(fact)
    clicks.click(page.get_by_role("button", name="Bewaren"))
    page.get_by_text("Registratie bewaard").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leerkracht-registratie-bewaard.png"))
    print(f"\nKliks van startpagina tot bewaarde registratie: {clicks.count}")
    assert clicks.count <= 4
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 2400}, locale="nl-BE")
    zorg = context.new_page()
    zorg.set_default_timeout(30_000)
    sign_in(zorg, demo_server.url, demo_server.account("zorgteam")["username"])
    zorg.get_by_text("De school in een oogopslag").wait_for()
    zorg.get_by_role("link", name="Leerlingendossier").click()
    zorg.get_by_text("Zoek een leerling om het dossier te openen").wait_for()
    search = zorg.get_by_role("textbox", name="Zoek een leerling")
    search.fill(pupil_name)
    search.press("Enter")
    zorg.get_by_role("combobox").first.click()
    zorg.get_by_role("option").filter(has_text=pupil_name.split()[-1]).first.click()
    zorg.get_by_text("In een oogopslag").wait_for()
    # Newest first: the teacher's observation heads the registrations list; open it.
    zorg.get_by_text(f"Observatie · {teacher['name']}").first.click()
    zorg.get_by_text(fact).first.wait_for()
    # The timeline (plotly) carries the observation marker in its legend.
    zorg.locator(".js-plotly-plot .legendtext", has_text="Observatie").first.wait_for()
    zorg.screenshot(path=str(ARTIFACTS / "zorg-tijdlijn.png"))
    context.close()
