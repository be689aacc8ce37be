"""A demo teacher signs in through a real browser and sees their own class."""

from tests.browser.conftest import ARTIFACTS

DEMO_PASSWORD = "demo1234"


def sign_in(page, url, username, password=DEMO_PASSWORD):
    page.goto(url)
    page.get_by_label("Aanmeldnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Aanmelden").click()


def test_demo_sign_in_page_lists_accounts(page, demo_server):
    page.goto(demo_server.url)
    page.get_by_text("Dit is een demo").wait_for()
    assert page.get_by_text(DEMO_PASSWORD).count() >= 1


def test_wrong_password_is_refused(page, demo_server):
    sign_in(page, demo_server.url, "directie", "verkeerd-wachtwoord")
    page.get_by_text("Aanmelden mislukt").wait_for()


def test_teacher_signs_in_and_sees_own_class(page, demo_server):
    teacher = demo_server.account("leerkracht")
    own_class = teacher["classes"][0] if isinstance(teacher["classes"], list) else teacher["classes"].split(",")[0]
    sign_in(page, demo_server.url, teacher["username"])
    page.get_by_text("Mijn klassen").wait_for()
    page.get_by_text(f"{own_class} ·").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leerkracht-start.png"), full_page=True)
    # Only the own class: no other class heading on the start page.
    headings = page.locator("h3").all_inner_texts()
    class_headings = [h for h in headings if "leerlingen" in h]
    assert class_headings and all(h.startswith(own_class) for h in class_headings), headings
    page.get_by_role("button", name="Afmelden").click()
    page.get_by_label("Aanmeldnaam").wait_for()
