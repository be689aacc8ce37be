"""The whole journey in real Chromium against one `streamlit run`: every role signs in and opens every
page it may open, the zorgteam imports the sample files, a teacher writes and corrects a registration,
the zorgcoördinator finds the correction on the pupil's timeline, and the director exports an inzage
PDF. Every page is saved as a screenshot in test-artifacts/journey/; no Streamlit exception anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dossier.access import ROLES, User
from tests.browser.conftest import ARTIFACTS, running_demo_server
from tests.browser.test_sign_in import DEMO_PASSWORD, sign_in
from ui.navigation import PAGES

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "voorbeelden"
SAMPLE_FILES = ("leerlingen.csv", "lvs-vclb.csv", "avi.csv", "dmt.csv", "idp.csv", "welbevinden.csv")
SHOTS = ARTIFACTS / "journey"


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory):
    """Its own demo school: this journey writes, the other flows read the shared one."""
    with running_demo_server(tmp_path_factory.mktemp("journey"), pupils=60) as server:
        yield server


def settle(page):
    """Wait until the script run triggered by the last action has finished."""
    page.wait_for_timeout(150)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


def assert_no_exception(page, where: str):
    errors = page.get_by_test_id("stException")
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()[:500]}"


def shot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="nl-BE")
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_every_page_it_may_open_without_an_exception(browser, journey_server, role):
    account = journey_server.account(role)
    probe = User(id=0, username=account["username"], name="", role=role, class_ids=frozenset({1}))
    context, page = new_page(browser)
    sign_in(page, journey_server.url, account["username"])
    page.get_by_role("button", name="Afmelden").wait_for()
    settle(page)
    opened = []
    for spec in PAGES:
        if not spec.allowed(probe):
            continue
        link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=spec.title, exact=True)
        link.click()
        settle(page)
        page.get_by_test_id("stMain").wait_for()
        assert_no_exception(page, f"{role} op {spec.title}")
        shot(page, f"{role}-{Path(spec.path).stem}")
        opened.append(spec.title)
    # The menu shows exactly the pages of the role, nothing more.
    menu = page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()
    assert sorted(t.strip().splitlines()[-1] for t in menu) == sorted(opened)
    context.close()


def test_import_write_correct_timeline_dashboards_and_inzage(browser, journey_server):
    pages = []
    try:
        journey(browser, journey_server, pages)
    except Exception:
        if pages and not pages[-1].is_closed():
            shot(pages[-1], "mislukt")
        raise


def journey(browser, journey_server, pages):
    # 1. The zorgcoördinator imports the six sample files through the import page.
    context, page = new_page(browser)
    pages.append(page)
    sign_in(page, journey_server.url, journey_server.account("zorgteam")["username"])
    page.get_by_role("button", name="Afmelden").wait_for()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Importeren").click()
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').set_input_files(
        [str(SAMPLES / name) for name in SAMPLE_FILES]
    )
    settle(page)
    main = page.get_by_test_id("stMain")
    for name in SAMPLE_FILES:
        main.get_by_role("heading", name=name).wait_for()
    done = main.get_by_text(re.compile(r"^Ingelezen: "))
    # Roster first: each import re-checks the files still waiting. Each file has its own button
    # under its own heading; a click that lands during a rerun is repeated once.
    for count, name in enumerate(SAMPLE_FILES, start=1):
        # The first Importeren button after this file's heading, if no other file's heading lies between.
        button = main.get_by_role("heading", name=name).locator(
            f"xpath=following::button[normalize-space()='Importeren'][1][preceding::h4[1][contains(., '{name}')]]"
        )
        for attempt in range(2):
            button.click()
            settle(page)
            try:
                expect(done).to_have_count(count, timeout=30_000)
                break
            except AssertionError:
                if attempt == 1:
                    raise
        assert_no_exception(page, f"import van {name}")
    page.get_by_text("Eerdere imports").scroll_into_view_if_needed()
    shot(page, "zorgteam-importeren-klaar")
    context.close()

    # 2. A teacher writes an observation for a pupil of their own class, then corrects it.
    teacher = journey_server.account("leerkracht")
    fact = "Leest de opdracht hardop mee en vraagt drie keer om herhaling."
    corrected = fact + " Na de herhaling start ze zelfstandig."
    context, page = new_page(browser)
    pages.append(page)
    sign_in(page, journey_server.url, teacher["username"])
    page.get_by_text("Mijn klassen").wait_for()
    page.get_by_test_id("stMain").get_by_role("link", name="Registreren").first.click()
    page.get_by_text("Nieuwe registratie").first.wait_for()
    pupil_id = re.search(r"leerling=(\d+)", page.url).group(1)
    pupil_name = page.locator("h3").first.inner_text()
    page.get_by_role("textbox", name="Feiten", exact=True).fill(fact)
    page.get_by_role("button", name="Bewaren").click()
    page.get_by_text("Registratie bewaard").wait_for()
    page.get_by_role("link", name="Naar het dossier").click()
    settle(page)
    page.get_by_text("In een oogopslag").wait_for()
    settle(page)
    page.get_by_text(f"Observatie · {teacher['name']}").first.click()
    page.get_by_role("tab", name="Corrigeren").first.click()
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Correctie bewaren"))
    form.get_by_role("textbox", name="Feiten").first.fill(corrected)
    form.get_by_role("button", name="Correctie bewaren (nieuwe versie)").first.click()
    settle(page)
    assert_no_exception(page, "correctie door de leerkracht")
    # The expander stays open after the rerun: the new version is shown in place.
    page.get_by_text("versie 2, gewijzigd door").first.wait_for()
    page.get_by_text(corrected).first.wait_for()
    shot(page, "leerkracht-correctie")
    context.close()

    # 3. The zorgcoördinator sees the corrected text and its history on the pupil's timeline page.
    context, page = new_page(browser)
    pages.append(page)
    # A shared link to the dossier: it survives the sign-in.
    sign_in_via_link(page, f"{journey_server.url}/leerling?leerling={pupil_id}", "zorgteam", journey_server)
    page.get_by_text("In een oogopslag").wait_for()
    settle(page)
    page.locator(".js-plotly-plot .legendtext", has_text="Observatie").first.wait_for()
    page.get_by_text(f"Observatie · {teacher['name']}").first.click()
    page.get_by_text(corrected).first.wait_for()
    page.get_by_text("Geschiedenis tonen").first.click()
    settle(page)
    assert_no_exception(page, "tijdlijn voor het zorgteam")
    shot(page, "zorgteam-tijdlijn-na-correctie")

    # 4. The class and school dashboards, reached through the menu.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Klasdashboard").click()
    settle(page)
    page.locator(".js-plotly-plot").first.wait_for()
    assert_no_exception(page, "klasdashboard")
    shot(page, "zorgteam-klasdashboard")
    # The workbooks are built on the click (a callable behind the button), not on every rerun.
    sheets = download_workbook(page, "Klasoverzicht downloaden (XLSX)", "klasoverzicht.xlsx")
    assert sheets[:2] == ["Groepsoverzicht", "Zoneverdeling"] and "Zorg" in sheets and sheets[-1] == "Info"
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="School", exact=True).click()
    settle(page)
    page.locator(".js-plotly-plot").first.wait_for()
    assert_no_exception(page, "schooldashboard")
    shot(page, "zorgteam-school")
    sheets = download_workbook(page, "Schoolbeeld downloaden (XLSX)", "schoolbeeld.xlsx")
    assert sheets == [
        "Sinds vorig jaar per leerjaar",
        "Sinds vorig jaar per klas",
        "Per leerjaar",
        "Cohortes",
        "Zorgfasen",
        "Info",
    ]
    context.close()

    # 5. The director exports the inzage PDF of that pupil.
    context, page = new_page(browser)
    pages.append(page)
    sign_in_via_link(page, f"{journey_server.url}/inzage?leerling={pupil_id}", "directie", journey_server)
    export_inzage_pdf(page, pupil_name)
    # The zorgteam's two downloads (step 4) each wrote their export row through the button's on_click.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Auditlog").click()
    settle(page)
    page.get_by_role("combobox", name="Actie").click()
    page.get_by_role("option", name="export", exact=True).click()
    settle(page)
    found = page.get_by_text(re.compile(r"^\d+ regels$")).first.inner_text()
    assert int(found.split()[0]) == 3, found  # klasoverzicht, schoolbeeld and the inzage PDF
    context.close()


def download_workbook(page, button: str, name: str) -> list[str]:
    """Click a download button, save the file and return the workbook's sheet names."""
    from openpyxl import load_workbook

    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / name
    download.value.save_as(str(target))
    settle(page)
    assert_no_exception(page, name)
    return load_workbook(target, read_only=True).sheetnames


def sign_in_via_link(page, link: str, role: str, server):
    page.goto(link)
    page.get_by_label("Aanmeldnaam").fill(server.account(role)["username"])
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("button", name="Afmelden").wait_for()
    settle(page)


def export_inzage_pdf(page, pupil_name: str):
    """Record who explained the dossier to the parents, then make and download the PDF."""
    settle(page)
    assert_no_exception(page, "inzage")
    page.get_by_role("button", name="Toelichting registreren").click()
    page.get_by_text("Toelichting geregistreerd").wait_for()
    page.get_by_role("button", name="Inzage-PDF maken").click()
    settle(page)
    assert_no_exception(page, "inzage-PDF maken")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download inzage-PDF").click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / "inzage.pdf"
    download.value.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(str(target)).pages)
    assert pupil_name.split()[-1] in text
    shot(page, "directie-inzage")
