"""Class dashboard, school view and attention list through AppTest, per role, on a real temp database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dossier.db import Database
from dossier.instruments import zone_for_percentile
from tests.apptest import APP, TIMEOUT, signed_in, texts
from tests.test_dashboards import add_lvs, add_pupils

PAGES = {
    "pages/klas.py": {"juf.l1a", "zorg", "directie", "clb"},
    "pages/aandacht.py": {"juf.l1a", "zorg", "directie", "clb"},
    "pages/school.py": {"zorg", "directie"},
}
USERS = ("juf.l1a", "zorg", "directie", "clb", "beheer")


def open_page(at, page, **params):
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def select_row(at, key, row):
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception


def sql(path, query, params=()):
    con = duckdb.connect(str(path))  # same process as the app: share its database instance
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture
def results(app_db):
    """L1A: 6 pupils with wiskunde at begin, this year and (for the same pupils) last year; Wout Peeters in E
    twice in a row; one L1A pupil missed this year's test. Last year's grade 1: 5 other pupils. K3A: Nora Maes
    with a low wellbeing score."""
    path, school = app_db
    db = Database(path)
    year, prev = school.year, school.previous_year
    extra = add_pupils(db, school.classes["L1A"], year, 3)
    wout, lina, lucas = (school.pupils[n] for n in ("30004", "30005", "30006"))
    now = {wout: 5, lina: 80, lucas: 60, extra[0]: 20, extra[1]: 40}  # extra[2] was not tested
    before = {wout: 8, lina: 85, lucas: 75, extra[0]: 30, extra[1]: 70, extra[2]: 50}
    add_lvs(db, [(p, year, "begin", "wiskunde", v) for p, v in now.items()])
    add_lvs(db, [(p, prev, "eind", "wiskunde", v) for p, v in before.items()], grade=0)
    add_lvs(db, [(p, prev, "begin", "wiskunde", v) for p, v in before.items()], grade=0)
    last_grade1 = add_pupils(db, school.previous_classes["L1A"], prev, 5)
    add_lvs(db, [(p, prev, "begin", "wiskunde", v) for p, v in zip(last_grade1, [90, 70, 60, 50, 40], strict=True)])
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO wellbeing_result (pupil_id, school_year, observed_on, scale, score_text, score)"
            " VALUES (?, ?, ?, 'welbevinden', '2', 2.0)",
            [school.pupils["30001"], year, date(int(year[:4]), 10, 2)],
        )
    )
    db.close()
    return {"path": path, "school": school, "now": now, "missed": extra[2], "wout": wout}


# -- who sees which page -------------------------------------------------------------------


@pytest.mark.parametrize("username", USERS)
def test_dashboard_pages_per_role(app_db, username):
    at = signed_in(username)
    for page, allowed in PAGES.items():
        if username in allowed:
            open_page(at, page)
            assert at.title, page
            assert not any("geen toegang" in e.value for e in at.error)
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)
            # Run directly with this user: the page refuses by itself.
            direct = AppTest.from_file(str(Path(APP).parent / page), default_timeout=TIMEOUT)
            direct.session_state["signed_in_user"] = at.session_state["signed_in_user"]
            direct.run()
            assert not direct.exception
            assert any("geen toegang" in e.value for e in direct.error), (username, page)


def test_start_page_links_the_director_to_the_school_view_and_the_attention_list(app_db):
    links = {link.proto.label: link.proto.page for link in signed_in("directie").get("page_link")}
    assert links["Aandachtslijst"].endswith("aandacht")
    assert links["Schoolbeeld: wat veranderde sinds vorig jaar"].endswith("school")
    teacher_labels = {link.proto.label for link in signed_in("juf.l1a").get("page_link")}
    assert not any(label.startswith("Schoolbeeld") for label in teacher_labels)


# -- class dashboard -----------------------------------------------------------------------


def test_teacher_sees_own_class_with_overview_attention_and_export(results):
    school = results["school"]
    at = open_page(signed_in("juf.l1a"), "pages/klas.py")
    assert at.selectbox(key="klas_class").options == ["L1A"]
    assert [t.value for t in at.title] == [f"Klas L1A · {school.year}"]
    content = texts(at)
    # Attention: Wout in zone E twice, the pupil who missed the test, each with the reason.
    assert "Aandacht nodig (2 leerlingen, 2 signalen)" in content
    attention = at.dataframe(key="klas_attention").value
    reasons = dict(zip(attention["Leerling"], attention["Waarom"], strict=True))
    assert reasons["Wout Peeters"].startswith("Zone E voor wiskunde op 2 toetsmomenten na elkaar")
    assert any(r.startswith("Geen resultaat voor wiskunde") for r in reasons.values())
    table = at.dataframe(key="klas_overview_table").value.set_index("Naam")
    column = f"Wiskunde begin {school.year}"
    assert table.loc["Wouters", column] == zone_for_percentile(results["now"][school.pupils["30005"]])
    assert table.loc["Peeters", column] == "E"
    assert at.get("plotly_chart") and at.get("download_button")
    # Teachers read care data of their class: the care section is there.
    assert "Zorg in de klas" in content


def test_teacher_link_to_another_class_is_refused(results):
    school = results["school"]
    at = open_page(signed_in("juf.l1a"), "pages/klas.py", klas=school.classes["L1B"])
    assert any("valt buiten jouw klassen" in e.value for e in at.error)
    assert not at.get("plotly_chart")


def test_url_selection_opens_the_same_view_and_is_written_back(results):
    school = results["school"]
    at = open_page(signed_in("zorg"), "pages/klas.py", klas=school.classes["L1A"], domein="wiskunde")
    assert at.selectbox(key="klas_class").value == school.classes["L1A"]
    assert at.selectbox(key="klas_domain").value == "wiskunde"
    assert at.selectbox(key="klas_year").value == school.year
    assert [t.value for t in at.title] == [f"Klas L1A · {school.year}"]
    assert at.query_params["klas"] == str(school.classes["L1A"]) and at.query_params["schooljaar"] == school.year
    # A change is written to the URL ...
    at.selectbox(key="klas_domain").select("spelling").run()
    at.selectbox(key="klas_class").select(school.classes["L1B"]).run()
    assert at.query_params["domein"] == "spelling" and at.query_params["klas"] == str(school.classes["L1B"])
    shared = {k: at.query_params[k] for k in ("klas", "domein", "schooljaar")}
    # ... and that URL opens the same view for someone else.
    other = open_page(signed_in("directie"), "pages/klas.py", **shared)
    assert other.selectbox(key="klas_class").value == school.classes["L1B"]
    assert other.selectbox(key="klas_domain").value == "spelling"
    assert [t.value for t in other.title] == [f"Klas L1B · {school.year}"]


def test_a_link_to_last_years_class_brings_its_school_year(results):
    school = results["school"]
    at = open_page(signed_in("zorg"), "pages/klas.py", klas=school.previous_classes["K3A"])
    assert at.selectbox(key="klas_year").value == school.previous_year
    assert [t.value for t in at.title] == [f"Klas K3A · {school.previous_year}"]
    # Last year's K3A pupils are this year's L1 pupils, with the results of that year.
    assert f"Wiskunde begin {school.previous_year}" in at.dataframe(key="klas_overview_table").value.columns


def test_clicking_a_pupil_opens_the_dossier(results):
    at = open_page(signed_in("zorg"), "pages/klas.py", klas=results["school"].classes["L1A"])
    names = list(at.dataframe(key="klas_overview_table").value["Voornaam"])
    select_row(at, "klas_overview_table", names.index("Wout"))
    assert "Wout Peeters" in [t.value for t in at.title]


def click_heatmap(at, *customdata):
    """What a click on the group overview leaves in the chart's state (AppTest cannot click plotly points)."""
    points = [{"curve_number": 1, "point_number": 0, "customdata": c} for c in customdata]
    at.session_state["klas_heatmap"] = {
        "selection": {"points": points, "point_indices": [0] * len(points), "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception, at.exception


def test_clicking_a_pupil_in_the_group_overview_opens_the_dossier_in_the_same_session(results):
    school = results["school"]
    at = open_page(signed_in("zorg"), "pages/klas.py", klas=school.classes["L1A"])
    click_heatmap(at, school.pupils["30004"])
    assert "Wout Peeters" in [t.value for t in at.title]
    assert at.query_params["leerling"] == str(school.pupils["30004"])
    assert "sign_in_username" not in [w.key for w in at.text_input]  # the session kept its user


def test_a_heatmap_selection_outside_the_class_or_without_a_pupil_stays_on_the_class(results):
    school = results["school"]
    at = open_page(signed_in("zorg"), "pages/klas.py", klas=school.classes["L1A"])
    outside = next(pid for number, pid in school.pupils.items() if number not in ("30004", "30005", "30006"))
    l1a = sql(results["path"], "SELECT pupil_id FROM enrolment WHERE class_id = ?", [school.classes["L1A"]])
    assert outside not in {pid for (pid,) in l1a}
    for forged in (outside, "geen resultaat", None):
        click_heatmap(at, forged)
        assert [t.value for t in at.title] == [f"Klas L1A · {school.year}"]


def test_opening_a_class_is_audited_once(results):
    at = open_page(signed_in("directie"), "pages/klas.py", klas=results["school"].classes["L1A"])
    at.selectbox(key="klas_domain").select("spelling").run()
    rows = sql(results["path"], "SELECT detail FROM audit_log WHERE action = 'view' AND object = 'dashboard:klas'")
    assert rows == [(f"klas L1A ({results['school'].year})",)]


def test_kleuter_class_shows_wellbeing_not_reading(results):
    at = open_page(signed_in("zorg"), "pages/klas.py", klas=results["school"].classes["K3A"])
    content = texts(at)
    assert "Welbevinden en betrokkenheid" in content and "Lezen: AVI en DMT" not in content
    reasons = list(at.dataframe(key="klas_attention").value["Waarom"])
    assert len(reasons) == 1 and reasons[0].startswith("Welbevinden 2 bij de laatste observatie")
    assert "Aandacht nodig (1 leerling, 1 signaal)" in content


# -- school view ---------------------------------------------------------------------------


def test_school_view_shows_what_slipped_and_links_to_the_class(results):
    school = results["school"]
    at = open_page(signed_in("directie"), "pages/school.py")
    assert at.selectbox(key="school_year").value == school.year
    assert at.selectbox(key="school_moment").value == "begin"
    grades = at.dataframe[0].value
    row = grades[(grades["Leerjaar"] == 1) & (grades["Domein"] == "Wiskunde")].iloc[0]
    assert row["n"] == "5 (vorig jaar 5)"
    # This year's grade 1: 5, 80, 60, 20, 40 (median 40, D+E 2/5); last year's: 90 ... 40 (median 60, 0/5).
    assert (row["D+E"], row["D+E vorig jaar"], row["Mediaan"], row["Mediaan vorig jaar"]) == ("40%", "0%", "40", "60")
    per_class = at.dataframe(key="school_classes").value
    assert list(per_class["Klas"]) == ["L1A"]
    slipped = [link for link in at.get("page_link") if link.proto.label.startswith("L1A: Wiskunde")]
    assert len(slipped) == 1 and f"klas={school.classes['L1A']}" in slipped[0].proto.query_string
    # A click on the class row opens its dashboard, with the domain.
    select_row(at, "school_classes", 0)
    assert [t.value for t in at.title] == [f"Klas L1A · {school.year}"]
    assert at.selectbox(key="klas_domain").value == "wiskunde"


def test_school_view_url_selection(results):
    school = results["school"]
    at = open_page(
        signed_in("zorg"), "pages/school.py", schooljaar=school.previous_year, moment="eind", domein="spelling"
    )
    assert at.selectbox(key="school_year").value == school.previous_year
    assert at.selectbox(key="school_moment").value == "eind"
    assert at.selectbox(key="school_domain").value == "spelling"
    assert f"Sinds vorig schooljaar: eind {school.previous_year}" in texts(at)


def test_cohort_leads_to_its_classes(results):
    school = results["school"]
    at = open_page(signed_in("directie"), "pages/school.py")
    cohort = at.selectbox(key="school_cohort")
    assert cohort.value == school.year  # this year's L1 is the only lager cohort with results
    links = [link for link in at.get("page_link") if link.proto.label in ("L1A", "L1B")]
    assert {link.proto.label for link in links} >= {"L1A", "L1B"}
    assert f"klas={school.classes['L1A']}" in next(
        link.proto.query_string for link in links if link.proto.label == "L1A"
    )


# -- attention list ------------------------------------------------------------------------


def test_attention_list_reasons_data_and_dismissal_by_the_zorgteam(results):
    path, school = results["path"], results["school"]
    at = open_page(signed_in("zorg"), "pages/aandacht.py", klas=school.classes["L1A"])
    table = at.dataframe(key="att_table_0").value
    assert len(table) == 2 and set(table["Klas"]) == {"L1A"}
    row = list(table["Leerling"]).index("Wout Peeters")
    select_row(at, "att_table_0", row)
    assert "Wout Peeters · Herhaaldelijk in de gevarenzone" in texts(at)
    data = at.dataframe[1].value
    assert list(data["Zone"]) == ["E", "E"] and list(data["Percentiel"]) == [8.0, 5.0]
    # Too short a reason: a Dutch message, nothing dismissed.
    at.text_area[0].input("ok")
    next(b for b in at.button if b.label == "Signaal afwijzen").click()
    at.run()
    assert any("Geef een reden" in e.value for e in at.error)
    at.text_area[0].input("Besproken op het MDO, leesouder ingeschakeld")
    next(b for b in at.button if b.label == "Signaal afwijzen").click()
    at.run()
    assert not at.exception
    assert any("Signaal afgewezen" in s.value for s in at.success)
    assert list(at.dataframe(key="att_table_1").value["Leerling"]) != ["Wout Peeters"]
    assert "Wout Peeters" not in set(at.dataframe(key="att_table_1").value["Leerling"])
    audit = sql(path, "SELECT user_name, pupil_id, detail FROM audit_log WHERE action = 'dismiss'")
    assert audit == [
        (
            "zorg",
            results["wout"],
            "Herhaaldelijk in de gevarenzone afgewezen: " + "Besproken op het MDO, leesouder ingeschakeld",
        )
    ]
    # Shown again, with who and why, when asked for.
    at.checkbox(key="att_dismissed").check().run()
    shown = at.dataframe(key="att_table_1").value
    assert shown.loc[shown["Leerling"] == "Wout Peeters", "Afgewezen"].tolist() == ["ja"]
    # New data behind the signal: it comes back.
    sql(
        path,
        "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, percentile, zone)"
        " VALUES (?, ?, ?, 1, 'wiskunde', 'midden', 3, 'E')",
        [results["wout"], school.year, date(int(school.year[:4]) + 1, 2, 2)],
    )
    at.checkbox(key="att_dismissed").uncheck().run()
    back = at.dataframe(key="att_table_1").value
    assert "Wout Peeters" in set(back["Leerling"])


def test_teacher_and_clb_read_the_list_but_cannot_dismiss_or_edit_rules(results):
    for username, expected in (("juf.l1a", {"L1A"}), ("clb", {"L1A", "K3A"})):
        at = open_page(signed_in(username), "pages/aandacht.py")
        table = at.dataframe(key="att_table_0").value
        assert set(table["Klas"]) == expected
        select_row(at, "att_table_0", 0)
        assert not [b for b in at.button if b.label in ("Signaal afwijzen", "Bewaren")]
        assert "enkel het zorgteam en de directie" in texts(at)


def in_form(elements, form):
    return next(e for e in elements if e.proto.form_id == form)


def test_zorgteam_changes_a_threshold_and_switches_a_rule_off(results):
    path = results["path"]
    at = open_page(signed_in("zorg"), "pages/aandacht.py")
    rules = set(at.dataframe(key="att_table_0").value["Regel"])
    assert {"Geen resultaat", "Laag welbevinden of betrokkenheid"} <= rules
    # 5 of the 6 pupils of L1A were tested: with a threshold of 100 % the missing result no longer counts.
    threshold = in_form(at.number_input, "rule_missing_result")
    assert threshold.value == 50
    threshold.set_value(100)
    in_form(at.button, "rule_missing_result").click()
    at.run()
    assert not at.exception
    assert any("bewaard" in s.value for s in at.success)
    assert "Geen resultaat" not in set(at.dataframe(key="att_table_0").value["Regel"])
    toggle = in_form(at.toggle, "rule_wellbeing_low")
    assert toggle.value is True
    toggle.set_value(False)
    in_form(at.button, "rule_wellbeing_low").click()
    at.run()
    assert "Laag welbevinden of betrokkenheid" not in set(at.dataframe(key="att_table_0").value["Regel"])
    stored = sql(path, "SELECT rule_id, enabled, thresholds::VARCHAR FROM signal_rule ORDER BY rule_id")
    assert stored == [("missing_result", True, '{"min_share_tested": 100}'), ("wellbeing_low", False, '{"score": 2.0}')]
    table = at.dataframe[-1].value.set_index("Regel")
    assert table.loc["Laag welbevinden of betrokkenheid", "Aan"] == "uit"
    assert table.loc["Geen resultaat", "Gewijzigd door"] == "Zorg"
    assert "minstens 100% van de klas" in table.loc["Geen resultaat", "Wat"]
    audited = sql(path, "SELECT count(*) FROM audit_log WHERE object LIKE 'signaalregel:%'")
    assert audited == [(2,)]


def test_attention_list_url_filters(results):
    school = results["school"]
    at = open_page(signed_in("directie"), "pages/aandacht.py", regel="wellbeing_low", leerling=school.pupils["30001"])
    assert at.selectbox(key="att_rule").value == "wellbeing_low"
    table = at.dataframe(key="att_table_0").value
    assert list(table["Leerling"]) == ["Nora Maes"]
    assert table["Waarom"].iloc[0].startswith("Welbevinden 2 bij de laatste observatie")
