"""The pupil page and the registration form through AppTest, per role."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from dossier import registrations
from dossier.db import Database
from dossier.users import authenticate
from tests.apptest import signed_in, texts
from tests.factories import PASSWORD


def open_page(at, page, **params):
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def registrations_in(path):
    con = duckdb.connect(str(path))  # same process as the app: share its database instance
    try:
        return con.execute(
            "SELECT pupil_id, type, facts, agreements, visibility, author_role FROM registration"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def with_history(app_db):
    path, school = app_db
    database = Database(path)
    zorg = authenticate(database, "zorg", PASSWORD)
    registrations.create_registration(
        database,
        zorg,
        school.pupils["30004"],
        type="mdo",
        fact_date=date.today() - timedelta(days=2),
        facts="MDO: leesachterstand besproken",
        agreements="Leesouder 2x per week",
        visibility="team",
    )
    registrations.create_registration(
        database,
        zorg,
        school.pupils["30004"],
        type="clb_terugkoppeling",
        fact_date=date.today() - timedelta(days=1),
        facts="<b>CLB</b> [klik](http://example.com) start onderzoek",
        visibility="zorgteam",
    )
    database.close()
    return path, school


def test_zorg_opens_dossier_with_quick_scan_timeline_and_list(with_history):
    path, school = with_history
    at = open_page(signed_in("zorg"), "pages/leerling.py", leerling=school.pupils["30004"])
    content = texts(at)
    assert "Wout Peeters" in [t.value for t in at.title]
    assert "In een oogopslag" in content and "Tijdlijn" in content
    assert at.get("plotly_chart")
    assert "2 van 2 registraties" in content
    # Hostile text is shown as plain text, not as a link or HTML.
    assert any("<b>CLB</b> [klik](http://example.com)" in t.value for t in at.get("text"))
    # Empty fields stay empty in the correction form (not pandas' "nan").
    assert [t.value for t in at.text_area if t.key.startswith("ca_")] == ["", "Leesouder 2x per week"]


def test_teacher_sees_only_team_items_and_not_other_classes(with_history):
    path, school = with_history
    at = open_page(signed_in("juf.l1a"), "pages/leerling.py", leerling=school.pupils["30004"])
    assert "1 van 1 registraties" in texts(at)
    other = open_page(signed_in("juf.l1a"), "pages/leerling.py", leerling=school.pupils["30007"])
    assert any("buiten jouw klassen" in e.value for e in other.error)
    assert "Ella Desmet" not in [t.value for t in other.title]


def test_opening_is_audited_once_across_reruns(with_history):
    path, school = with_history
    at = open_page(signed_in("zorg"), "pages/leerling.py", leerling=school.pupils["30004"])
    at.text_input(key="f_search").input("lees").run()
    at.run()
    con = duckdb.connect(str(path))  # same process as the app: share its database instance
    views = con.execute("SELECT count(*) FROM audit_log WHERE action = 'view' AND object = 'dossier'").fetchone()[0]
    con.close()
    assert views == 1
    assert "1 van 2 registraties" in texts(at)


def test_teacher_records_an_observation(app_db):
    path, school = app_db
    at = open_page(signed_in("juf.l1a"), "pages/registreren.py", leerling=school.pupils["30005"])
    assert at.selectbox(key="reg_type").value == "observatie"
    at.text_area(key="reg_observatie_facts_0").input("Wiebelt tijdens instructie voortdurend op de stoel (3x vandaag).")
    at.text_area(key="reg_observatie_agreements_0").input("Wiebelkussen proberen")
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert not at.exception
    assert any("bewaard" in s.value for s in at.success)
    rows = registrations_in(path)
    assert rows == [
        (
            school.pupils["30005"],
            "observatie",
            "Wiebelt tijdens instructie voortdurend op de stoel (3x vandaag).",
            "Wiebelkussen proberen",
            "team",
            "leerkracht",
        )
    ]


def test_a_second_click_after_saving_does_not_store_the_registration_twice(app_db):
    path, school = app_db
    at = open_page(signed_in("juf.l1a"), "pages/registreren.py", leerling=school.pupils["30005"])
    at.text_area(key="reg_observatie_facts_0").input("Zegt spontaan goeiemorgen tegen de klasgenoten.")
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert any("bewaard" in s.value for s in at.success)
    # The form comes back empty under new keys; saving it again is a Dutch error, not a duplicate.
    assert at.text_area(key="reg_observatie_facts_1").value in ("", None)
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert any("Beschrijf kort de feiten" in e.value for e in at.error)
    assert len(registrations_in(path)) == 1


def test_form_errors_appear_next_to_the_field_and_keep_the_text(app_db):
    path, school = app_db
    at = open_page(signed_in("juf.l1a"), "pages/registreren.py", leerling=school.pupils["30005"])
    at.text_area(key="reg_observatie_agreements_0").input("Afspraak die niet verloren mag gaan")
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert any("Beschrijf kort de feiten" in e.value for e in at.error)
    assert at.text_area(key="reg_observatie_agreements_0").value == "Afspraak die niet verloren mag gaan"
    assert registrations_in(path) == []


def test_teacher_cannot_write_for_another_class(app_db):
    path, school = app_db
    at = open_page(signed_in("juf.l1a"), "pages/registreren.py", leerling=school.pupils["30007"])
    assert any("buiten jouw klassen" in e.value for e in at.error)
    assert not [b for b in at.button if b.label == "Bewaren"]


def test_bulk_entry_for_a_group(app_db):
    path, school = app_db
    at = open_page(signed_in("meester.l1b"), "pages/registreren.py", klas=school.classes["L1B"])
    at.multiselect(key="bulk_pupils").select(school.pupils["30007"]).select(school.pupils["30009"])
    at.selectbox(key="reg_type").select("maatregel").run()
    at.text_area(key="reg_maatregel_facts_0").input("Werkt met rekenkaart bij hoofdrekenen")
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert not at.exception
    assert any("2 leerlingen" in s.value for s in at.success)
    assert sorted(r[0] for r in registrations_in(path)) == sorted([school.pupils["30007"], school.pupils["30009"]])


def test_clb_may_not_open_the_form(app_db):
    at = signed_in("clb")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/registreren.py")


def test_zorg_sets_a_care_phase_and_a_measure(app_db):
    path, school = app_db
    pupil = school.pupils["30006"]
    at = open_page(signed_in("zorg"), "pages/leerling.py", leerling=pupil)
    at.selectbox(key="phase_new").select(1)
    at.text_area(key="phase_note").input("Rekenen blijft in zone E; handelingsplan met ouders besproken.")
    next(b for b in at.button if b.label == "Zorgfase bewaren").click()
    at.run()
    assert not at.exception
    assert "Fase 1 – verhoogde zorg" in texts(at)
    at.text_area(key="measure_desc").input("Rekenkaart bij hoofdrekenen")
    at.date_input(key="measure_eval").set_value(date.today() + timedelta(days=5))
    next(b for b in at.button if b.label == "Maatregel bewaren").click()
    at.run()
    assert not at.exception
    assert "Rekenkaart bij hoofdrekenen" in texts(at)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT phase FROM care_phase WHERE pupil_id = ? AND end_date IS NULL", [pupil]).fetchall() == [
        (1,)
    ]
    assert con.execute("SELECT type FROM registration WHERE pupil_id = ?", [pupil]).fetchall() == [("zorgfase",)]
    con.close()
    # The director's start page lists the new evaluation in "Te evalueren".
    start = signed_in("directie")
    assert "Te evalueren (1)" in texts(start)


def test_teacher_gets_no_care_forms(with_history):
    path, school = with_history
    at = open_page(signed_in("juf.l1a"), "pages/leerling.py", leerling=school.pupils["30004"])
    assert not [b for b in at.button if b.label == "Zorgfase bewaren"]


def test_zorg_records_a_verslag_with_its_pdf(app_db):
    path, school = app_db
    pupil = school.pupils["30006"]
    at = open_page(signed_in("zorg"), "pages/registreren.py", leerling=pupil)
    at.selectbox(key="reg_type").select("verslag").run()
    at.selectbox(key="reg_verslag_report_kind_0").select("GC")
    at.text_area(key="reg_verslag_facts_0").input("Verslag GC opgemaakt door het CLB, besproken met de ouders.")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    at.file_uploader(key="reg_verslag_attachment_0").upload("verslag-gc.pdf", pdf, "application/pdf")
    next(b for b in at.button if b.label == "Bewaren").click()
    at.run()
    assert not at.exception
    assert any("bewaard" in s.value for s in at.success)
    con = duckdb.connect(str(path))
    rows = con.execute(
        "SELECT r.type, r.report_kind, r.transferable, a.file_name FROM registration r"
        " JOIN registration_attachment a ON a.registration_id = r.registration_id WHERE r.pupil_id = ?",
        [pupil],
    ).fetchall()
    con.close()
    assert rows == [("verslag", "GC", True, "verslag-gc.pdf")]
