"""The Bewaartermijnen page through AppTest on a real temp database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dossier.db import Database
from dossier.schoolyear import bounds, shift
from tests.apptest import APP, TIMEOUT, signed_in, texts
from tests.retention_school import make_retention_school

PAGE = "pages/bewaring.py"


@pytest.fixture
def retention_app(tmp_path, monkeypatch):
    """The retention school plus a pupil who left three school years ago (due today)."""
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("DOSSIER_DB", str(path))
    database = Database(path)
    rs = make_retention_school(database)
    old_year = shift(rs.school.year, -3)
    left_on = bounds(old_year)[0] + timedelta(days=100)

    def add(cur):
        pid = cur.execute(
            "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date)"
            " VALUES ('88001', 'Oudje', 'Vertrokkenaar', '2015-01-01') RETURNING id"
        ).fetchone()[0]
        cur.execute(
            "INSERT INTO enrolment (pupil_id, school_year, class_id, leave_date) VALUES (?, ?, ?, ?)",
            [pid, old_year, rs.school.previous_classes["L1A"], left_on],
        )
        return pid

    old_pupil = database.write(add)
    database.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield path, rs, old_pupil
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(username: str) -> AppTest:
    at = signed_in(username)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert "Bewaartermijnen" in [t.value for t in at.title]
    return at


def frames_text(at: AppTest) -> str:
    return "\n".join(frame.value.to_csv() for frame in at.dataframe)


def test_beheerder_sees_counts_without_names_and_edits_a_term(retention_app):
    at = open_page("beheer")
    due = at.dataframe[1].value.set_index("Gegevens")
    assert due.loc["Leerling en inschrijvingen", "Leerlingen"] == 1  # the pupil who left three years ago
    # Quackenbosch left last school year: his dossier is not due yet; the other pupil has none.
    assert due.loc["Dossierinhoud", "Rijen"] == 0 and due.loc["LVS-resultaten", "Rijen"] == 0
    assert due.loc["Leerling en inschrijvingen", "Rijen"] == 2  # pupil row and enrolment
    shown = texts(at) + frames_text(at)
    for name in ("Vertrokkenaar", "Quackenbosch", "88001", "99001"):
        assert name not in shown
    assert "Vervalt op" in frames_text(at)

    at.number_input(key="term_results").set_value(3)
    next(b for b in at.button if b.label == "Termijnen bewaren").click()
    at.run()
    assert not at.exception
    assert any("1 termijn aangepast" in s.value for s in at.success)
    rules = at.dataframe[0].value.set_index("Gegevens")
    assert rules.loc["LVS-resultaten", "Termijn (schooljaren)"] == 3
    assert rules.loc["LVS-resultaten", "Gewijzigd door"] == "Beheer"
    assert not [b for b in at.button if b.label == "Blokkering zetten"]


def test_directie_sees_names_and_sets_and_releases_a_legal_hold(retention_app):
    _path, rs, old_pupil = retention_app
    at = open_page("directie")
    assert "Vertrokkenaar" in frames_text(at) and "Quackenbosch" in frames_text(at)
    assert not at.number_input  # terms are the beheerder's

    at.selectbox(key="hold_pupil").select(old_pupil)
    at.text_input(key="hold_reason").input("Beroep bij de Raad van State")
    next(b for b in at.button if b.label == "Blokkering zetten").click()
    at.run()
    assert not at.exception
    assert any("Blokkering gezet voor Oudje Vertrokkenaar" in s.value for s in at.success)
    assert "Beroep bij de Raad van State" in frames_text(at)
    assert any("Overgeslagen door een juridische blokkering: 1 leerling" in i.value for i in at.info)

    at.selectbox(key="release_pupil").select(old_pupil)
    at.text_input(key="release_reason").input("Uitspraak ontvangen")
    next(b for b in at.button if b.label == "Blokkering opheffen").click()
    at.run()
    assert not at.exception
    assert any("Blokkering opgeheven" in s.value for s in at.success)
    assert "Beroep bij de Raad van State" not in frames_text(at)


def test_hold_without_reason_gives_a_dutch_error(retention_app):
    _path, _rs, old_pupil = retention_app
    at = open_page("directie")
    at.selectbox(key="hold_pupil").select(old_pupil)
    next(b for b in at.button if b.label == "Blokkering zetten").click()
    at.run()
    assert not at.exception
    assert any("Geef een reden" in e.value for e in at.error)


@pytest.mark.parametrize("username", ["juf.l1a", "zorg", "clb"])
def test_other_roles_have_no_page(retention_app, username):
    at = signed_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    direct = AppTest.from_file(str(Path(APP).parent / PAGE), default_timeout=TIMEOUT)
    direct.session_state["signed_in_user"] = at.session_state["signed_in_user"]
    direct.run()
    assert not direct.exception
    assert any("geen toegang" in e.value for e in direct.error)
    assert "Bewaartermijnen" not in [t.value for t in direct.title]
