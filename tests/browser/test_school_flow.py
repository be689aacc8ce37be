"""The director's questions in a real browser: what slipped since last year, a cohort followed through the
grades, and which pupils of a class need attention and why."""

from dossier.schoolyear import current_school_year, shift
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dossier_flow import Clicks
from tests.browser.test_sign_in import sign_in


def open_context(browser, height=2600):
    context = browser.new_context(viewport={"width": 1400, "height": height}, locale="nl-BE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def test_director_reaches_what_slipped_and_who_needs_attention_within_three_clicks(browser, demo_server):
    year = current_school_year()
    context, page = open_context(browser)
    sign_in(page, demo_server.url, "directie")
    page.get_by_text("De school in een oogopslag").wait_for()
    clicks = Clicks(page)
    main = page.get_by_test_id("stMain")
    clicks.click(main.get_by_role("link", name="Schoolbeeld: wat veranderde sinds vorig jaar"))
    page.get_by_text(f"tegenover begin {shift(year, -1)}").first.wait_for()
    # Per grade and domain, then per class, each with the change and the highlight explained.
    page.get_by_text("Per leerjaar en domein").wait_for()
    page.get_by_text("Per klas, dezelfde leerlingen een jaar eerder").wait_for()
    assert page.get_by_test_id("stDataFrame").count() >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "directie-schoolbeeld.png"))
    clicks.click(page.locator(".st-key-school_compare_classes").get_by_role("link", name="L3A"))
    page.get_by_role("heading", name=f"Klas L3A · {year}").wait_for()
    heading = page.get_by_role("heading", name="Aandacht nodig")
    heading.wait_for()
    page.screenshot(path=str(ARTIFACTS / "directie-klas-aandacht.png"), full_page=True)
    print(f"\nKliks van startpagina tot de aandachtslijst van een klas: {clicks.count}")
    assert clicks.count <= 3
    assert "klas=" in page.url
    context.close()


def test_director_follows_a_cohort_and_clicks_through_to_its_class(browser, demo_server):
    year = current_school_year()
    cohort = shift(year, -2)  # in L3 this school year
    context, page = open_context(browser)
    sign_in(page, demo_server.url, "directie")
    page.get_by_text("De school in een oogopslag").wait_for()
    page.get_by_test_id("stMain").get_by_role("link", name="Schoolbeeld: wat veranderde sinds vorig jaar").click()
    classes = page.locator(".st-key-school_cohort_classes")
    # The page has finished drawing once the default cohort's classes are there.
    classes.get_by_text("Klassen van cohorte").wait_for()
    box = page.get_by_role("combobox", name="Volg een cohorte")
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option").filter(has_text=f"instroom L1 in {cohort}").first.click()
    classes.get_by_text(f"Klassen van cohorte {cohort}").wait_for()
    # The cohort's line is in the chart, and its path through the grades: L1 two years ago ... L3 now.
    page.locator(".js-plotly-plot .legendtext", has_text=f"Instroom L1 {cohort}").first.wait_for()
    classes.get_by_text(f"{shift(year, -2)} · L1").wait_for()
    classes.get_by_text(f"{year} · L3").wait_for()
    assert f"cohorte={cohort}" in page.url
    page.screenshot(path=str(ARTIFACTS / "directie-cohorte.png"), full_page=True)
    # This year's class of the cohort opens the class dashboard, with its attention list one click further.
    classes.get_by_role("link", name="L3A").last.click()
    page.get_by_role("heading", name=f"Klas L3A · {year}").wait_for()
    page.get_by_role("heading", name="Groepsoverzicht").wait_for()
    page.get_by_role("link", name="Aandachtslijst van deze klas").click()
    page.get_by_role("heading", name="Aandachtslijst").wait_for()
    page.get_by_text("L3A").first.wait_for()
    context.close()


def test_a_pupil_name_in_the_class_heatmap_opens_that_pupils_dossier_in_the_same_session(browser, demo_server):
    year = current_school_year()
    context, page = open_context(browser)
    sign_in(page, demo_server.url, "zorg")
    page.get_by_role("link", name="Klasdashboard").first.click()
    page.get_by_role("heading", name="Groepsoverzicht").wait_for()
    box = page.get_by_role("combobox", name="Klas")
    box.click()
    page.get_by_role("option", name="L3A", exact=True).click()
    page.get_by_role("heading", name=f"Klas L3A · {year}").wait_for()
    # The script has run to the end (while it runs, Streamlit keeps stale elements from taking clicks).
    page.get_by_role("heading", name="Exporteren").wait_for()
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    # Count sign-in forms from here on: opening the dossier must not ask to sign in again.
    page.evaluate(
        """() => {
            window.__signInSeen = 0;
            new MutationObserver(() => {
                if (document.querySelector('input[aria-label="Aanmeldnaam"]')) window.__signInSeen += 1;
            }).observe(document.body, {childList: true, subtree: true});
        }"""
    )
    # Right after a rerun Streamlit can briefly hold the old chart next to the new one: wait for one.
    # Wait for the script run to end, then for one chart that stays one.
    one_chart = "document.querySelectorAll('.st-key-klas_heatmap .js-plotly-plot').length === 1"
    for _ in range(2):
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
        page.wait_for_function(one_chart)
        page.wait_for_timeout(500)
    page.wait_for_function(one_chart)
    heatmap = page.locator(".st-key-klas_heatmap .js-plotly-plot")
    # The names are text of a scatter column in the heatmap, no links any more.
    names = heatmap.locator(".scatterlayer .textpoint text")
    names.first.wait_for()
    assert names.count() >= 5
    assert heatmap.locator(".ytick a").count() == 0 and heatmap.locator("a[href*='leerling=']").count() == 0
    name = names.nth(2).text_content()
    heatmap.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    heatmap.screenshot(path=str(ARTIFACTS / "zorg-klas-heatmap.png"))
    # Plotly takes clicks on its drag layer, so a real mouse click on the middle of the name.
    box = names.nth(2).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # st.switch_page changes the address inside the page (no load), then draws the dossier.
    page.get_by_role("heading", name="In een oogopslag").wait_for()
    page.get_by_role("heading", name=name.replace(" (vertrokken)", "")).first.wait_for()
    assert "/leerling?leerling=" in page.url
    assert page.get_by_label("Aanmeldnaam").count() == 0
    assert page.evaluate("window.__signInSeen") == 0  # same document, same session: never a sign-in form
    page.screenshot(path=str(ARTIFACTS / "zorg-klas-naar-dossier.png"))
    context.close()
