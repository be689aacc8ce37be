"""The "Inzage en overdracht" page through AppTest, per role."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dossier import registrations
from dossier.db import Database
from dossier.users import authenticate
from tests.apptest import APP, TIMEOUT, signed_in, texts
from tests.factories import PASSWORD

PAGE = "pages/inzage.py"
DAY = date.today() - timedelta(days=3)


@pytest.fixture
def with_dossier(app_db):
    path, school = app_db
    database = Database(path)
    zorg = authenticate(database, "zorg", PASSWORD)
    pid = school.pupils["30004"]
    registrations.create_registration(
        database, zorg, pid, type="mdo", fact_date=DAY, facts="<b>MDO</b> [klik](http://x.example)", visibility="team"
    )
    registrations.create_registration(
        database,
        zorg,
        pid,
        type="clb_terugkoppeling",
        fact_date=DAY,
        facts="Van derden",
        visibility="zorgteam",
        confidential_third_parties=True,
    )
    registrations.create_registration(
        database, zorg, pid, type="verslag", report_kind="GC", fact_date=DAY, facts="Verslag GC.", visibility="zorgteam"
    )
    database.close()
    return path, pid


def open_page(at: AppTest, pid: int) -> AppTest:
    at.query_params["leerling"] = str(pid)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def query(path, sql):
    con = duckdb.connect(str(path))  # same process as the app: share its database instance
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def buttons(at: AppTest) -> dict:
    return {b.label: b for b in at.button}


def downloads(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


@pytest.mark.parametrize("username", ["juf.l1a", "clb", "beheer"])
def test_roles_without_export_rights_do_not_get_the_page(app_db, username):
    at = signed_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    direct = AppTest.from_file(str(Path(APP).parent / PAGE), default_timeout=TIMEOUT)
    direct.session_state["signed_in_user"] = at.session_state["signed_in_user"]
    direct.run()
    assert not direct.exception
    assert any("geen toegang" in e.value for e in direct.error)


def test_the_zorgteam_records_the_explanation_and_previews_but_does_not_export(with_dossier):
    path, pid = with_dossier
    at = open_page(signed_in("zorg"), pid)
    content = texts(at)
    assert "Wout Peeters" in content
    assert "Er is nog geen toelichting" in content
    assert "De directie maakt de kopie voor de ouders" in content
    assert "Inzage-PDF maken" not in buttons(at) and "Goedkeuren en exporteren" not in buttons(at)
    left_out = [df.value for df in at.dataframe if "Waarom niet" in df.value.columns]
    assert any("vertrouwelijk ten aanzien van derden" in set(df["Waarom niet"]) for df in left_out)

    at.text_input(key="explained_by").input("Juf Şule")
    at.button(key="FormSubmitter:explanation_form-Toelichting registreren").click().run()
    assert not at.exception, at.exception
    assert query(path, "SELECT explained_by FROM inzage_record") == [("Juf Şule",)]
    assert "Laatste toelichting:" in texts(at)

    at.button(key="FormSubmitter:inspection_form-Inzage door de ouders registreren").click().run()
    assert query(path, "SELECT inspected_on, window_end FROM overdracht_record") == [
        (date.today(), date.today() + timedelta(days=10))
    ]
    assert "kunnen bezwaar maken tot en met" in texts(at)
    assert query(path, "SELECT count(*) FROM audit_log WHERE action = 'export'") == [(0,)]


def test_the_directie_makes_the_inzage_pdf_and_exports_the_mandatory_package(with_dossier):
    path, pid = with_dossier
    at = open_page(signed_in("directie"), pid)
    at.button(key="FormSubmitter:explanation_form-Toelichting registreren").click().run()
    buttons(at)["Inzage-PDF maken"].click().run()
    assert not at.exception, at.exception
    assert "Download inzage-PDF" in downloads(at)
    assert query(path, "SELECT object FROM audit_log WHERE action = 'export'") == [("inzage_record:1",)]

    # Not inspected yet: only the mandatory verslagen, which is the default choice.
    assert at.checkbox(key="mandatory_only").value is True
    assert "nog niet ingezien" in texts(at)
    export = buttons(at)["Goedkeuren en exporteren"]
    assert not export.disabled
    export.click().run()
    assert not at.exception, at.exception
    assert {"Download PDF", "Download JSON"} <= set(downloads(at))
    assert query(path, "SELECT mandatory_only, approved_by_name FROM overdracht_record") == [(True, "Directie")]


def test_the_full_package_waits_for_the_window(with_dossier):
    path, pid = with_dossier
    at = open_page(signed_in("directie"), pid)
    at.button(key="FormSubmitter:inspection_form-Inzage door de ouders registreren").click().run()
    at.checkbox(key="mandatory_only").uncheck().run()
    assert not at.exception, at.exception
    assert buttons(at)["Goedkeuren en exporteren"].disabled
    assert any("Exporteer enkel de verplichte verslagen" in w.value for w in at.warning)
    assert query(path, "SELECT count(*) FROM overdracht_record WHERE exported_at IS NOT NULL") == [(0,)]
