"""Inzage for parents: which registrations they see, who may prepare and export, explanation records, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dossier import inzage, registrations
from dossier.access import AccessDenied
from tests.test_registrations import (  # noqa: F401  (fixtures: a fresh copy of one prepared school per test)
    db_fixture,
    school_fixture,
    school_template_fixture,
    users_fixture,
)

TODAY = date.today()
DAY = TODAY - timedelta(days=5)
PUPIL = "30004"


def count(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def audit_rows(db, action, pupil_id=None):
    with db.cursor() as cur:
        return cur.execute(
            "SELECT user_name, role, pupil_id, object, detail FROM audit_log WHERE action = ?"
            " AND (? IS NULL OR pupil_id = ?) ORDER BY id",
            [action, pupil_id, pupil_id],
        ).fetchall()


@pytest.fixture
def dossier(db, school, users):
    """One pupil with one registration per rule the selection knows; name -> registration id."""
    zorg, directie = users["zorg"], users["directie"]
    pid = school.pupils[PUPIL]

    def add(user, **fields):
        return registrations.create_registration(db, user, pid, fact_date=DAY, **fields)

    made = {
        "team": add(zorg, type="observatie", facts="Leest hakkelend voor in de klas.", visibility="team"),
        "zorgteam": add(zorg, type="mdo", facts="MDO: extra leesinstructie.", visibility="zorgteam"),
        "confidential": add(
            zorg,
            type="clb_terugkoppeling",
            facts="Info van de huisarts over de broer.",
            visibility="zorgteam",
            confidential_third_parties=True,
        ),
        "directie": add(directie, type="oudergesprek", facts="Gesprek over de scheiding.", visibility="directie"),
        "withdrawn": add(zorg, type="observatie", facts="Verkeerde leerling genoteerd.", visibility="team"),
        "corrected": add(zorg, type="observatie", facts="Eerste versie: fout.", visibility="team"),
        "verslag": add(zorg, type="verslag", report_kind="GC", facts="Verslag GC uitgereikt.", visibility="zorgteam"),
    }
    registrations.withdraw_registration(db, zorg, made["withdrawn"], "Bij de verkeerde leerling geschreven.")
    registrations.correct_registration(db, zorg, made["corrected"], facts="Tweede versie: juist.")
    return pid, made


def ids(frame):
    return set() if frame.empty else {int(i) for i in frame["registration_id"]}


# -- selection ------------------------------------------------------------------------------
def test_parents_see_current_team_and_zorgteam_items_without_confidential_or_withdrawn(db, users, dossier):
    pid, made = dossier
    preview = inzage.prepare_inzage(db, users["directie"], pid)
    included = ids(preview.selection.included)
    assert {made["team"], made["zorgteam"], made["corrected"], made["verslag"]} <= included
    assert not included & {made["confidential"], made["withdrawn"], made["directie"]}
    reasons = dict(
        zip(preview.selection.left_out["registration_id"], preview.selection.left_out["reason"], strict=True)
    )
    assert reasons[made["confidential"]] == inzage.REASON_CONFIDENTIAL
    assert reasons[made["withdrawn"]] == inzage.REASON_WITHDRAWN
    assert reasons[made["directie"]] == inzage.REASON_DIRECTIE
    corrected = preview.selection.included.set_index("registration_id").loc[made["corrected"]]
    assert corrected["facts"] == "Tweede versie: juist." and corrected["version"] == 2


def test_the_directie_may_include_directie_items_but_confidential_ones_stay_out(db, users, dossier):
    pid, made = dossier
    preview = inzage.prepare_inzage(db, users["directie"], pid, include_directie=True)
    included = ids(preview.selection.included)
    assert made["directie"] in included
    assert made["confidential"] not in included and made["withdrawn"] not in included


def test_the_zorgteam_preview_cannot_see_directie_items_and_may_not_include_them(db, users, dossier):
    pid, made = dossier
    preview = inzage.prepare_inzage(db, users["zorg"], pid)
    assert preview.directie_hidden
    assert made["directie"] not in ids(preview.selection.included) | ids(preview.selection.left_out)
    with pytest.raises(AccessDenied):
        inzage.prepare_inzage(db, users["zorg"], pid, include_directie=True)


def test_a_confidential_item_stays_out_whatever_its_visibility(db, users, school):
    pid = school.pupils[PUPIL]
    rid = registrations.create_registration(
        db,
        users["directie"],
        pid,
        type="observatie",
        fact_date=DAY,
        facts="Van derden.",
        visibility="team",
        confidential_third_parties=True,
    )
    for include in (False, True):
        preview = inzage.prepare_inzage(db, users["directie"], pid, include_directie=include)
        assert rid not in ids(preview.selection.included)


# -- access ---------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["juf.l1a", "clb", "beheer"])
def test_roles_without_export_rights_can_do_nothing(db, users, dossier, username):
    pid, _ = dossier
    user = users[username]
    with pytest.raises(AccessDenied):
        inzage.prepare_inzage(db, user, pid)
    with pytest.raises(AccessDenied):
        inzage.record_explanation(db, user, pid, "Juf Sara", TODAY)
    with pytest.raises(AccessDenied):
        inzage.export_inzage(db, user, pid)
    assert count(db, "SELECT count(*) FROM inzage_record") == 0
    assert audit_rows(db, "export") == []


def test_the_zorgteam_prepares_and_the_directie_exports(db, users, dossier):
    pid, _ = dossier
    inzage.record_explanation(db, users["zorg"], pid, "Zorgcoördinator An", DAY)
    with pytest.raises(AccessDenied):
        inzage.export_inzage(db, users["zorg"], pid)
    made = inzage.export_inzage(db, users["directie"], pid)
    assert made.pdf.startswith(b"%PDF") and made.file_name == f"inzage-{PUPIL}-{TODAY:%Y%m%d}.pdf"


# -- explanation records --------------------------------------------------------------------
def test_an_explanation_is_recorded_with_who_when_and_by_whom(db, users, dossier):
    pid, _ = dossier
    record_id = inzage.record_explanation(db, users["zorg"], pid, "  Juf Şule Łukasik ", "03/02/2025")
    with db.cursor() as cur:
        row = cur.execute(
            "SELECT pupil_id, explained_by, explained_on, recorded_by_id, recorded_by_name FROM inzage_record"
            " WHERE id = ?",
            [record_id],
        ).fetchone()
    assert row == (pid, "Juf Şule Łukasik", date(2025, 2, 3), users["zorg"].id, users["zorg"].name)
    assert audit_rows(db, "create", pid)[-1][3] == f"inzage_record:{record_id}"
    listed = inzage.list_explanations(db, users["zorg"], pid)
    assert list(listed["id"]) == [record_id]


@pytest.mark.parametrize(
    ("who", "when", "message"),
    [
        ("", TODAY, "wie"),
        ("Juf Sara", TODAY + timedelta(days=1), "toekomst"),
        ("Juf Sara", "31/02/2025", "dd/mm/jjjj"),
        ("Juf Sara", "", "datum"),
        ("x" * 201, TODAY, "kort"),
    ],
)
def test_invalid_explanations_are_refused_in_dutch_and_write_nothing(db, users, dossier, who, when, message):
    pid, _ = dossier
    before = count(db, "SELECT count(*) FROM audit_log")
    with pytest.raises(inzage.DisclosureError, match=message):
        inzage.record_explanation(db, users["zorg"], pid, who, when)
    assert count(db, "SELECT count(*) FROM inzage_record") == 0
    assert count(db, "SELECT count(*) FROM audit_log") == before


def test_no_copy_before_an_explanation(db, users, dossier):
    pid, _ = dossier
    with pytest.raises(inzage.DisclosureError, match="toelichting"):
        inzage.export_inzage(db, users["directie"], pid)
    assert audit_rows(db, "export") == []


def test_the_copy_follows_the_latest_explanation_unless_one_is_named(db, users, dossier):
    pid, _ = dossier
    first = inzage.record_explanation(db, users["zorg"], pid, "Juf Sara", DAY - timedelta(days=30))
    latest = inzage.record_explanation(db, users["directie"], pid, "Meester Tom", DAY)
    assert inzage.export_inzage(db, users["directie"], pid).explanation["id"] == latest
    assert inzage.export_inzage(db, users["directie"], pid, explanation_id=first).explanation["explained_by"] == (
        "Juf Sara"
    )


# -- audit ----------------------------------------------------------------------------------
def test_preview_is_one_view_and_export_one_export_entry(db, users, dossier):
    pid, _ = dossier
    record_id = inzage.record_explanation(db, users["zorg"], pid, "Juf Sara", DAY)
    views_before = len(audit_rows(db, "view", pid))
    preview = inzage.prepare_inzage(db, users["zorg"], pid)
    views = audit_rows(db, "view", pid)[views_before:]
    assert [(v[0], v[3]) for v in views] == [("zorg", "inzage")]
    assert f"{len(preview.selection.included)} registraties" in views[0][4]

    made = inzage.export_inzage(db, users["directie"], pid)
    exports = audit_rows(db, "export", pid)
    assert len(exports) == 1
    user_name, role, pupil, obj, detail = exports[0]
    assert (user_name, role, pupil, obj) == ("directie", "directie", pid, f"inzage_record:{record_id}")
    assert f"{made.registrations} registraties" in detail and "Juf Sara" in detail


# -- pupil reference ------------------------------------------------------------------------
def test_a_pupil_is_found_by_number_or_internal_id(db, users, school):
    pid = school.pupils[PUPIL]
    assert inzage.resolve_pupil(db, users["directie"], PUPIL) == pid
    assert inzage.resolve_pupil(db, users["directie"], str(pid)) == pid
    for unknown in ("99999", "", "abc'; DROP TABLE pupil; --", "1" * 40):
        with pytest.raises(inzage.DisclosureError):
            inzage.resolve_pupil(db, users["directie"], unknown)
    # A teacher's scope is their own classes: another class's pupil does not exist for them.
    with pytest.raises(inzage.DisclosureError):
        inzage.resolve_pupil(db, users["juf.k3a"], PUPIL)
