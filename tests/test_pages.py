"""Every page for every role through Streamlit's AppTest, on a real temp database."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import APP, TIMEOUT, signed_in, texts


def test_sign_in_page_refuses_wrong_password(app_db):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert at.title[0].value == "Leerlingendossier"
    at.text_input(key="sign_in_username").input("zorg")
    at.text_input(key="sign_in_password").input("verkeerd")
    at.button[0].click()
    at.run()
    assert "Aanmelden mislukt" in at.error[0].value
    assert "signed_in_user" not in at.session_state


def test_teacher_start_shows_own_class_only(app_db):
    at = signed_in("juf.l1a")
    content = texts(at)
    assert "Mijn klassen" in content
    assert "L1A" in content and "L1B" not in content
    # One row per own pupil, each with links to the dossier and the form.
    for name in ("Wout Peeters", "Lina Wouters", "Lucas Nowak"):
        assert name in content
    for other in ("Desmet", "Maes", "Çelik"):
        assert other not in content
    links = at.get("page_link")
    assert sum(1 for link in links if link.proto.label == "Registreren") == 3


def test_director_start_shows_school_at_a_glance(app_db):
    at = signed_in("directie")
    assert "De school in een oogopslag" in texts(at)
    assert at.metric[0].value == "9"
    assert at.get("plotly_chart")


@pytest.mark.parametrize(
    "username,expected",
    [("juf.l1a", 3), ("zorg", 9), ("directie", 9), ("clb", 9), ("beheer", 9)],
)
def test_pupil_list_per_role(app_db, username, expected):
    at = signed_in(username)
    at.switch_page("pages/leerlingen.py").run()
    assert not at.exception
    assert f"{expected} leerlingen gevonden" in texts(at)
    table = at.dataframe[0].value
    if username == "beheer":
        assert "Geboortedatum" not in table.columns and "Leerlingnummer" not in table.columns
    else:
        assert "Geboortedatum" in table.columns


def test_pupil_search_on_page(app_db):
    at = signed_in("zorg")
    at.switch_page("pages/leerlingen.py").run()
    at.text_input(key="pupils_search").input("celik").run()
    assert list(at.dataframe[0].value["Naam"]) == ["Çelik"]


def test_beheer_creates_teacher_account(app_db):
    at = signed_in("beheer")
    at.switch_page("pages/beheer.py").run()
    at.text_input(key="new_name").input("Juf Sofie Claes")
    at.selectbox(key="new_role").select("leerkracht")
    at.multiselect(key="new_classes").select(app_db[1].classes["L1B"])
    at.text_input(key="new_password").input("sofie-wachtwoord")
    next(b for b in at.button if b.label == "Account aanmaken").click()
    at.run()
    assert not at.exception
    assert any("aangemaakt" in s.value for s in at.success)
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    fresh.run()
    fresh.text_input(key="sign_in_username").input("juf.sofie.claes")
    fresh.text_input(key="sign_in_password").input("sofie-wachtwoord")
    fresh.button[0].click()
    fresh.run()
    assert "L1B" in texts(fresh)


def test_sign_out(app_db):
    at = signed_in("clb")
    next(b for b in at.button if b.label == "Afmelden").click()
    at.run()
    assert "signed_in_user" not in at.session_state
    assert at.title[0].value == "Leerlingendossier"


def test_idle_session_expires(app_db, monkeypatch):
    at = signed_in("zorg")
    monkeypatch.setenv("DOSSIER_IDLE_MINUTES", "0")
    at.run()
    assert "signed_in_user" not in at.session_state
    assert any("verlopen" in i.value for i in at.info)


# Every role × every page (allowed pages render; the others are unreachable and refuse when run
# directly) is tests/test_matrix.py.
