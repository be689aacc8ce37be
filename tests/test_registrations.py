"""Registrations against a real DuckDB file: versions, withdrawal, the role x visibility policy, bulk, audit, search."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import registrations
from dossier.access import AccessDenied
from dossier.db import Database, DatabaseConflictError
from dossier.forms import FORM, M_FACTS, M_REASON, FormError, validate_registration
from dossier.schoolyear import bounds
from dossier.users import authenticate
from tests.factories import PASSWORD, make_school

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
ROLE_USER = {
    "leerkracht": "juf.k3a",
    "zorgteam": "zorg",
    "directie": "directie",
    "clb": "clb",
    "beheerder": "beheer",
}
# domain.md §4, written out independently of dossier/access.py.
MAY_READ = {
    "leerkracht": {"team"},
    "zorgteam": {"team", "zorgteam"},
    "directie": {"team", "zorgteam", "directie"},
    "clb": {"team", "zorgteam"},
    "beheerder": set(),
}
MAY_WRITE = {
    "leerkracht": {"team"},
    "zorgteam": {"team", "zorgteam"},
    "directie": {"team", "zorgteam", "directie"},
    "clb": set(),
    "beheerder": set(),
}
VISIBILITIES = ("team", "zorgteam", "directie")


@pytest.fixture(scope="session", name="school_template")
def school_template_fixture(tmp_path_factory):
    """One school with signed-in users, built once: argon2 hashing makes make_school slow."""
    path = tmp_path_factory.mktemp("school") / "template.duckdb"
    database = Database(path)
    built = make_school(database)
    users = {name: authenticate(database, name, PASSWORD) for name in built.users}
    assert all(users.values())
    database.checkpoint()
    database.close()
    return path, built, users


@pytest.fixture(name="db")
def db_fixture(tmp_path, school_template):
    """A fresh copy of the template file per test (overrides conftest's empty database)."""
    target = tmp_path / "dossier.duckdb"
    shutil.copyfile(school_template[0], target)
    database = Database(target)
    yield database
    database.close()


@pytest.fixture(name="school")
def school_fixture(school_template):
    return school_template[1]


@pytest.fixture(name="users")
def users_fixture(school_template):
    """username -> the User that dossier.users.authenticate gave in the template."""
    return school_template[2]


def observation(**overrides):
    fields = {"type": "observatie", "fact_date": YESTERDAY, "facts": "Wiebelt voortdurend op zijn stoel."}
    fields.update(overrides)
    return fields


def count(db, sql, params=()):
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def audit_rows(db, action):
    with db.cursor() as cur:
        return cur.execute(
            "SELECT user_name, role, pupil_id, object, detail FROM audit_log WHERE action = ? ORDER BY id", [action]
        ).fetchall()


# -- versions -------------------------------------------------------------------------------
def test_correction_writes_a_new_version_and_keeps_the_old(db, school, users):
    juf = users["juf.k3a"]
    pupil = school.pupils["30001"]
    rid = registrations.create_registration(db, juf, pupil, **observation(agreements="Wiebelkussen"))

    version = registrations.correct_registration(db, juf, rid, facts="Wiebelt tijdens de instructie op zijn stoel.")

    assert version == 2
    current = registrations.list_registrations(db, juf, pupil)
    assert len(current) == 1
    row = current.iloc[0]
    assert (row["registration_id"], row["version"]) == (rid, 2)
    assert row["facts"] == "Wiebelt tijdens de instructie op zijn stoel."
    assert row["agreements"] == "Wiebelkussen"  # fields not given keep their value
    history = registrations.registration_history(db, juf, rid)
    assert list(history["version"]) == [1, 2]
    assert list(history["facts"]) == [
        "Wiebelt voortdurend op zijn stoel.",
        "Wiebelt tijdens de instructie op zijn stoel.",
    ]
    assert history["supersedes"].iloc[1] == history["row_id"].iloc[0]
    assert count(db, "SELECT count(*) FROM registration WHERE registration_id = ?", [rid]) == 2


def test_a_correction_that_changes_nothing_is_refused(db, school, users):
    juf = users["juf.k3a"]
    rid = registrations.create_registration(db, juf, school.pupils["30001"], **observation())
    with pytest.raises(FormError) as caught:
        registrations.correct_registration(db, juf, rid, facts="  Wiebelt voortdurend op zijn stoel. ")
    assert FORM in caught.value.errors
    assert count(db, "SELECT count(*) FROM registration") == 1


def test_invalid_correction_reports_per_field_and_writes_nothing(db, school, users):
    juf = users["juf.k3a"]
    rid = registrations.create_registration(db, juf, school.pupils["30001"], **observation())
    with pytest.raises(FormError) as caught:
        registrations.correct_registration(db, juf, rid, facts="")
    assert caught.value.errors == {"facts": M_FACTS}
    assert count(db, "SELECT count(*) FROM registration") == 1
    assert audit_rows(db, "correct") == []


def test_withdrawal_needs_a_reason_and_leaves_a_trace(db, school, users):
    juf = users["juf.k3a"]
    pupil = school.pupils["30001"]
    rid = registrations.create_registration(db, juf, pupil, **observation())

    with pytest.raises(FormError) as caught:
        registrations.withdraw_registration(db, juf, rid, "   ")
    assert caught.value.errors == {"reason": M_REASON}
    assert count(db, "SELECT count(*) FROM registration") == 1

    registrations.withdraw_registration(db, juf, rid, "Verkeerde leerling gekozen")

    assert registrations.list_registrations(db, juf, pupil).empty
    shown = registrations.list_registrations(db, juf, pupil, include_withdrawn=True)
    assert list(shown["withdrawn"]) == [True]
    assert shown["withdrawal_reason"].iloc[0] == "Verkeerde leerling gekozen"
    history = registrations.registration_history(db, juf, rid)
    assert list(history["withdrawn"]) == [False, True]
    assert history["facts"].iloc[0] == "Wiebelt voortdurend op zijn stoel."  # the text is not erased
    with pytest.raises(FormError):
        registrations.withdraw_registration(db, juf, rid, "nog eens")
    with pytest.raises(FormError):
        registrations.correct_registration(db, juf, rid, facts="Toch iets anders")


def test_there_is_no_way_to_delete_or_update_a_registration():
    public = [name for name in dir(registrations) if not name.startswith("_")]
    assert not [name for name in public if any(word in name for word in ("delete", "remove", "update", "purge"))]


def test_author_and_role_come_from_the_login_never_from_input(db, school, users):
    juf = users["juf.k3a"]
    with pytest.raises(TypeError):
        registrations.create_registration(db, juf, school.pupils["30001"], **observation(author_name="Directeur"))
    rid = registrations.create_registration(db, juf, school.pupils["30001"], **observation())
    row = registrations.list_registrations(db, juf, school.pupils["30001"]).iloc[0]
    assert (row["registration_id"], row["author_id"], row["author_name"], row["author_role"]) == (
        rid,
        juf.id,
        juf.name,
        "leerkracht",
    )


def test_fact_date_sets_school_year_and_class_at_that_date(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30004"]  # L1A now, K3A last year
    last_year_day = bounds(school.previous_year)[0] + timedelta(days=30)
    registrations.create_registration(db, zorg, pupil, **observation(fact_date=last_year_day))
    registrations.create_registration(db, zorg, pupil, **observation(fact_date=YESTERDAY))
    frame = registrations.list_registrations(db, zorg, pupil).sort_values("fact_date")
    assert list(frame["school_year"]) == [school.previous_year, school.year]
    assert list(frame["class_id"]) == [school.previous_classes["K3A"], school.classes["L1A"]]
    assert list(frame["class_name"]) == ["K3A", "L1A"]


# -- the policy: role x visibility ---------------------------------------------------------
@pytest.fixture
def one_per_visibility(db, school, users):
    directie = users["directie"]
    pupil = school.pupils["30001"]
    ids = {
        vis: registrations.create_registration(db, directie, pupil, **observation(visibility=vis, facts=f"Feit {vis}"))
        for vis in VISIBILITIES
    }
    return pupil, ids


@pytest.mark.parametrize("role", list(ROLE_USER))
def test_reading_follows_the_role_matrix(db, school, users, one_per_visibility, role):
    pupil, ids = one_per_visibility
    user = users[ROLE_USER[role]]
    if not MAY_READ[role]:
        with pytest.raises(AccessDenied):
            registrations.list_registrations(db, user, pupil)
    else:
        frame = registrations.list_registrations(db, user, pupil)
        assert set(frame["visibility"]) == MAY_READ[role]
    for vis, rid in ids.items():
        if vis in MAY_READ[role]:
            assert list(registrations.registration_history(db, user, rid)["visibility"]) == [vis]
        else:
            with pytest.raises(AccessDenied):
                registrations.registration_history(db, user, rid)


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("role", list(ROLE_USER))
def test_writing_follows_the_role_matrix(db, school, users, role, visibility):
    user = users[ROLE_USER[role]]
    pupil = school.pupils["30002"]  # K3A, the teacher's own class
    if visibility in MAY_WRITE[role]:
        rid = registrations.create_registration(db, user, pupil, **observation(visibility=visibility))
        assert count(db, "SELECT visibility FROM registration WHERE registration_id = ?", [rid]) == visibility
    else:
        with pytest.raises(AccessDenied):
            registrations.create_registration(db, user, pupil, **observation(visibility=visibility))
        assert count(db, "SELECT count(*) FROM registration") == 0


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("role", list(ROLE_USER))
def test_correcting_and_withdrawing_follow_the_role_matrix(db, school, users, role, visibility):
    directie = users["directie"]
    pupil = school.pupils["30003"]
    rid = registrations.create_registration(db, directie, pupil, **observation(visibility=visibility))
    user = users[ROLE_USER[role]]
    # Only zorgteam and directie correct what someone else wrote; the author case is tested below.
    allowed = role in ("zorgteam", "directie") and visibility in MAY_WRITE[role]
    if allowed:
        assert registrations.correct_registration(db, user, rid, facts="Gecorrigeerd feit.") == 2
        registrations.withdraw_registration(db, user, rid, "Dubbel ingevoerd")
        assert count(db, "SELECT max(version) FROM registration WHERE registration_id = ?", [rid]) == 3
    else:
        with pytest.raises(AccessDenied):
            registrations.correct_registration(db, user, rid, facts="Gecorrigeerd feit.")
        with pytest.raises(AccessDenied):
            registrations.withdraw_registration(db, user, rid, "Dubbel ingevoerd")
        assert count(db, "SELECT max(version) FROM registration WHERE registration_id = ?", [rid]) == 1


def test_a_teacher_corrects_own_registrations_only_and_cannot_narrow_them(db, school, users):
    juf = users["juf.k3a"]
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    own = registrations.create_registration(db, juf, pupil, **observation())
    by_zorg = registrations.create_registration(db, zorg, pupil, **observation(facts="Door het zorgteam."))

    assert registrations.correct_registration(db, juf, own, facts="Eigen correctie.") == 2
    with pytest.raises(AccessDenied):
        registrations.correct_registration(db, juf, by_zorg, facts="Andermans tekst.")
    with pytest.raises(AccessDenied):
        registrations.correct_registration(db, juf, own, visibility="zorgteam")
    # The zorgteam may correct the teacher's registration, and narrow it.
    assert registrations.correct_registration(db, zorg, own, visibility="zorgteam") == 3
    # Now the teacher cannot read it at all, and so not correct it either.
    assert registrations.list_registrations(db, juf, pupil)["registration_id"].tolist() == [by_zorg]
    with pytest.raises(AccessDenied):
        registrations.correct_registration(db, juf, own, facts="Nog eens.")


def test_narrowed_versions_stay_hidden_after_widening(db, school, users):
    directie = users["directie"]
    juf = users["juf.k3a"]
    pupil = school.pupils["30001"]
    rid = registrations.create_registration(db, directie, pupil, **observation(visibility="directie", facts="Gezin."))
    registrations.correct_registration(db, directie, rid, visibility="team", facts="Afspraak voor de klas.")
    history = registrations.registration_history(db, juf, rid)
    assert list(history["facts"]) == ["Afspraak voor de klas."]
    assert len(registrations.registration_history(db, directie, rid)) == 2


def test_a_teacher_with_a_crafted_pupil_id_of_another_class_gets_nothing(db, school, users):
    zorg = users["zorg"]
    juf = users["juf.k3a"]
    other = school.pupils["30007"]  # L1B
    rid = registrations.create_registration(db, zorg, other, **observation())

    with pytest.raises(AccessDenied):
        registrations.list_registrations(db, juf, other)
    with pytest.raises(AccessDenied):
        registrations.registration_history(db, juf, rid)
    with pytest.raises(AccessDenied):
        registrations.create_registration(db, juf, other, **observation())
    with pytest.raises(AccessDenied):
        registrations.correct_registration(db, juf, rid, facts="Toch iets.")
    with pytest.raises(AccessDenied):
        registrations.withdraw_registration(db, juf, rid, "Weg ermee")
    for crafted in (999_999, -1, "30007", None):
        with pytest.raises(AccessDenied):
            registrations.list_registrations(db, juf, crafted)
    assert count(db, "SELECT count(*) FROM registration") == 1
    assert [r for r in audit_rows(db, "view") if r[0] == "juf.k3a"] == []


def test_default_visibility_is_the_templates_or_the_closest_the_user_may_write(db, school, users):
    juf = users["juf.k3a"]
    directie = users["directie"]
    pupil = school.pupils["30001"]
    fields = observation(type="leefregel", facts="Sloeg een klasgenoot tijdens de speeltijd.")
    by_teacher = registrations.create_registration(db, juf, pupil, **fields)
    by_directie = registrations.create_registration(db, directie, pupil, **fields)
    frame = registrations.list_registrations(db, directie, pupil).set_index("registration_id")
    assert frame.loc[by_teacher, "visibility"] == "team"
    assert frame.loc[by_directie, "visibility"] == "directie"
    assert not frame["transferable"].any()  # leefregel never goes along


# -- bulk entry ----------------------------------------------------------------------------
def test_bulk_entry_writes_one_registration_per_pupil(db, school, users):
    juf = users["juf.k3a"]
    group = [school.pupils[n] for n in ("30001", "30002", "30003")]
    ids = registrations.create_bulk(db, juf, group, **observation(facts="Uitstap: iedereen kwam te laat terug."))
    assert len(set(ids)) == 3
    for pupil, rid in zip(group, ids, strict=True):
        frame = registrations.list_registrations(db, juf, pupil)
        assert frame["registration_id"].tolist() == [rid]
    assert count(db, "SELECT count(DISTINCT group_id) FROM registration WHERE group_id IS NOT NULL") == 1
    assert len(audit_rows(db, "create")) == 3


def test_bulk_entry_with_one_pupil_out_of_scope_writes_nothing(db, school, users):
    juf = users["juf.k3a"]
    group = [school.pupils["30001"], school.pupils["30002"], school.pupils["30008"]]  # the last is in L1B
    with pytest.raises(AccessDenied):
        registrations.create_bulk(db, juf, group, **observation())
    assert count(db, "SELECT count(*) FROM registration") == 0
    assert audit_rows(db, "create") == []


def test_bulk_entry_validates_before_writing(db, school, users):
    juf = users["juf.k3a"]
    with pytest.raises(FormError) as caught:
        registrations.create_bulk(db, juf, [school.pupils["30001"]], **observation(facts=""))
    assert caught.value.errors == {"facts": M_FACTS}
    with pytest.raises(FormError):
        registrations.create_bulk(db, juf, [], **observation())
    assert count(db, "SELECT count(*) FROM registration") == 0


# -- audit ---------------------------------------------------------------------------------
def test_every_read_and_write_is_audited_without_pupil_content(db, school, users):
    juf = users["juf.k3a"]
    pupil = school.pupils["30001"]
    secret = "Moeder vertelde over de scheiding."
    rid = registrations.create_registration(db, juf, pupil, **observation(facts=secret))
    registrations.correct_registration(db, juf, rid, interpretation="Mogelijk onrustig door thuissituatie.")
    registrations.list_registrations(db, juf, pupil, search="scheiding")
    registrations.registration_history(db, juf, rid)
    registrations.withdraw_registration(db, juf, rid, "Hoort niet in het dossier")

    for action in ("create", "correct", "withdraw"):
        rows = audit_rows(db, action)
        assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("juf.k3a", "leerkracht", pupil, f"registration:{rid}")]
    views = audit_rows(db, "view")
    assert [(r[2], r[3]) for r in views] == [(pupil, "registrations"), (pupil, f"registration:{rid}")]
    with db.cursor() as cur:
        details = " ".join(r[0] or "" for r in cur.execute("SELECT detail FROM audit_log").fetchall())
    for content in ("scheiding", "thuissituatie", "Hoort niet"):
        assert content not in details


def test_a_refused_write_leaves_no_audit_row(db, school, users):
    clb = users["clb"]
    with pytest.raises(AccessDenied):
        registrations.create_registration(db, clb, school.pupils["30001"], **observation())
    with pytest.raises(AccessDenied):  # also with bad input: the refusal comes first
        registrations.create_bulk(db, users["beheer"], [school.pupils["30001"]], **observation(facts=""))
    assert audit_rows(db, "create") == []


# -- filters and search ---------------------------------------------------------------------
def test_search_is_case_and_accent_insensitive_over_the_text_fields(db, school, users):
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    in_facts = registrations.create_registration(
        db, zorg, pupil, **observation(facts="Zoë was overstuur na de speeltijd.")
    )
    in_interpretation = registrations.create_registration(
        db, zorg, pupil, **observation(facts="Huilde.", interpretation="Heimwee naar België.")
    )
    in_agreements = registrations.create_registration(
        db, zorg, pupil, **observation(facts="Vergat zijn boek.", agreements="Één keer per week een briefje mee.")
    )

    def found(term):
        return set(registrations.list_registrations(db, zorg, pupil, search=term)["registration_id"])

    assert found("zoe") == {in_facts}
    assert found("OVERSTÜUR") == {in_facts}
    assert found("belgie") == {in_interpretation}
    assert found("een keer") == {in_agreements}
    assert found("%") == set()
    assert found("   ") == {in_facts, in_interpretation, in_agreements}


def test_filters_by_type_domain_school_year_and_author(db, school, users):
    juf = users["juf.k3a"]
    zorg = users["zorg"]
    pupil = school.pupils["30001"]
    talk = registrations.create_registration(
        db, juf, pupil, **observation(type="oudergesprek", domain="leren_en_studeren", facts="Gesprek met papa.")
    )
    obs = registrations.create_registration(db, zorg, pupil, **observation(domain="psychisch_en_sociaal_functioneren"))

    def ids(**filters):
        return set(registrations.list_registrations(db, zorg, pupil, **filters)["registration_id"])

    assert ids(types=["oudergesprek"]) == {talk}
    assert ids(types="observatie") == {obs}
    assert ids(types=[]) == {talk, obs}
    assert ids(domains=["psychisch_en_sociaal_functioneren"]) == {obs}
    assert ids(author=juf.id) == {talk}
    assert ids(school_year=school.year) == {talk, obs}
    assert ids(school_year=school.previous_year) == set()


def test_evaluation_follows_up_an_agreement_of_the_same_pupil_only(db, school, users):
    zorg = users["zorg"]
    agreement = registrations.create_registration(
        db, zorg, school.pupils["30001"], **observation(agreements="Wiebelkussen", evaluation_date=TODAY)
    )
    with pytest.raises(FormError) as caught:
        registrations.create_registration(
            db, zorg, school.pupils["30002"], **observation(type="evaluatie", follows_up=agreement)
        )
    assert set(caught.value.errors) == {"follows_up"}
    rid = registrations.create_registration(
        db, zorg, school.pupils["30001"], **observation(type="evaluatie", fact_date=TODAY, follows_up=agreement)
    )
    assert registrations.list_registrations(db, zorg, school.pupils["30001"], types=["evaluatie"])[
        "follows_up"
    ].tolist() == [agreement]
    assert rid != agreement


# -- verslag PDF ---------------------------------------------------------------------------
def test_pdf_attachment_for_a_verslag(db, school, users):
    zorg = users["zorg"]
    juf = users["juf.k3a"]
    pupil = school.pupils["30001"]
    verslag = registrations.create_registration(
        db, zorg, pupil, **observation(type="verslag", report_kind="OV4", facts="OV4-verslag van het CLB.")
    )
    note = registrations.create_registration(db, zorg, pupil, **observation())
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 10

    with pytest.raises(FormError) as caught:
        registrations.attach_pdf(db, zorg, verslag, "verslag.docx", b"PK\x03\x04 not a pdf")
    assert set(caught.value.errors) == {"attachment"}
    with pytest.raises(FormError):
        registrations.attach_pdf(db, zorg, note, "verslag.pdf", pdf)
    with pytest.raises(AccessDenied):  # a zorgteam verslag: the teacher may not even see it
        registrations.attach_pdf(db, juf, verslag, "verslag.pdf", pdf)

    registrations.attach_pdf(db, zorg, verslag, r"C:\Users\zorg\OV4 verslag.pdf", pdf)

    stored = registrations.get_attachment(db, zorg, verslag)
    assert stored["content"] == pdf
    assert stored["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert stored["file_name"] == "OV4 verslag.pdf"
    frame = registrations.list_registrations(db, zorg, pupil).set_index("registration_id")
    assert frame.loc[verslag, "attachment_name"] == "OV4 verslag.pdf"
    assert bool(frame.loc[verslag, "transferable"]) is True
    with pytest.raises(AccessDenied):
        registrations.get_attachment(db, juf, verslag)
    assert registrations.get_attachment(db, zorg, note) is None


def test_losing_a_race_for_the_next_version_gives_a_dutch_conflict_message(db, school, users, monkeypatch):
    zorg = users["zorg"]
    rid = registrations.create_registration(db, zorg, school.pupils["30001"], **observation())
    with db.cursor() as cur:
        stale = registrations._latest_row(cur, rid)
    registrations.correct_registration(db, zorg, rid, facts="Eerste correctie.")
    # The second writer read version 1 before the first one committed version 2.
    monkeypatch.setattr(registrations, "_latest_row", lambda cur, registration_id: dict(stale))
    with pytest.raises(DatabaseConflictError) as caught:
        registrations.correct_registration(db, zorg, rid, facts="Tweede correctie.")
    assert str(caught.value) == registrations.CONCURRENT
    with pytest.raises(DatabaseConflictError):
        registrations.withdraw_registration(db, zorg, rid, "Tegelijk ingetrokken")
    assert count(db, "SELECT count(*) FROM registration WHERE registration_id = ?", [rid]) == 2


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=300))
def test_any_text_is_stored_as_validated_or_refused_in_dutch(db, school, users, text):
    zorg = users["zorg"]
    pupil = school.pupils["30009"]
    fields = observation(facts=text, interpretation=text)
    try:
        clean = validate_registration(fields)
    except FormError as exc:
        assert set(exc.errors) <= {"facts", "interpretation"}
        with pytest.raises(FormError):
            registrations.create_registration(db, zorg, pupil, **fields)
        return
    rid = registrations.create_registration(db, zorg, pupil, **fields)
    row = registrations.list_registrations(db, zorg, pupil).set_index("registration_id").loc[rid]
    assert (row["facts"], row["interpretation"]) == (clean["facts"], clean["interpretation"])
