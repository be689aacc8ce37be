"""School-account sign-in without a browser: the e-mail mapping in the core and the sign-in page in AppTest.

The browser round trip against a real OIDC provider is in tests/browser/test_oidc.py.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dossier.db import Database
from dossier.users import identity_is_fresh, identity_sign_in
from tests.apptest import APP, TIMEOUT, texts
from tests.factories import make_school

EMAILS = {"juf.l1a": "juf.l1a@school.be", "zorg": "Zorg@School.be", "clb": "clb@clb.be"}
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "een-lang-en-willekeurig-geheim-voor-tests",
    "client_id": "leerlingendossier",
    "client_secret": "geheim",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}


def set_emails(database: Database, emails: dict[str, str]) -> None:
    # Raw SQL on purpose: older rows or other tools may have kept capitals and spaces.
    def write(cur):
        for username, email in emails.items():
            cur.execute("UPDATE staff_user SET email = ? WHERE username = ?", [email, username])

    database.write(write)


def audit(database: Database, action: str) -> list[tuple]:
    with database.cursor() as cur:
        return cur.execute(
            "SELECT user_name, role, detail, pupil_id, user_id FROM audit_log WHERE action = ? ORDER BY id", [action]
        ).fetchall()


@pytest.fixture
def school(db):
    made = make_school(db)
    set_emails(db, {**EMAILS, "clb": "  CLB@clb.BE "})
    return made


# --- the mapping in the core -------------------------------------------------------------------


def test_known_email_gives_the_staff_account_with_its_role_and_classes(db, school):
    result = identity_sign_in(db, {"email": "juf.l1a@school.be", "email_verified": True}, provider="google")
    assert result.refusal is None and result.message is None
    assert result.user.username == "juf.l1a"
    assert result.user.role == "leerkracht"
    assert result.user.class_ids == {school.classes["L1A"]}
    assert audit(db, "sign-in")[-1][:3] == ("juf.l1a", "leerkracht", "schoolaccount (google)")


@pytest.mark.parametrize(
    ("claim", "username"),
    [("ZORG@school.BE", "zorg"), ("zorg@school.be", "zorg"), (" clb@CLB.be", "clb"), ("Juf.L1A@School.Be", "juf.l1a")],
)
def test_match_ignores_case_and_spaces_on_both_sides(db, school, claim, username):
    assert identity_sign_in(db, {"email": claim}).user.username == username


def test_unknown_email_is_refused_in_dutch_and_audited_with_the_email(db, school):
    result = identity_sign_in(db, {"email": "Iemand@Gmail.com", "email_verified": True}, provider="google")
    assert result.user is None and result.refusal == "unknown"
    assert "iemand@gmail.com" in result.message and "niet gekend in het leerlingendossier" in result.message
    assert "beheerder" in result.message
    name, role, detail, pupil_id, user_id = audit(db, "sign-in-failed")[-1]
    assert (name, role, pupil_id, user_id) == ("iemand@gmail.com", None, None, None)
    assert detail == "schoolaccount (google): onbekend e-mailadres"
    assert audit(db, "sign-in") == []


def test_deactivated_account_is_refused(db, school):
    db.write(lambda cur: cur.execute("UPDATE staff_user SET active = false WHERE username = 'zorg'"))
    result = identity_sign_in(db, {"email": "zorg@school.be"})
    assert result.user is None and result.refusal == "inactive"
    assert "gedeactiveerd" in result.message
    assert audit(db, "sign-in-failed")[-1][2] == "schoolaccount: account gedeactiveerd"


def test_deactivated_twin_does_not_block_the_active_account(db, school):
    set_emails(db, {"directie": "zorg@school.be"})
    db.write(lambda cur: cur.execute("UPDATE staff_user SET active = false WHERE username = 'directie'"))
    assert identity_sign_in(db, {"email": "zorg@school.be"}).user.username == "zorg"


def test_two_active_accounts_with_one_email_are_refused(db, school):
    set_emails(db, {"directie": "ZORG@school.be"})
    result = identity_sign_in(db, {"email": "zorg@school.be"})
    assert result.user is None and result.refusal == "ambiguous"
    assert audit(db, "sign-in-failed")[-1][2] == "schoolaccount: e-mailadres bij meerdere accounts"


@pytest.mark.parametrize("verified", [False, "false", "False"])
def test_explicitly_unverified_email_is_refused(db, school, verified):
    result = identity_sign_in(db, {"email": "zorg@school.be", "email_verified": verified})
    assert result.user is None and result.refusal == "unverified"


@pytest.mark.parametrize("claims", [{}, {"email": ""}, {"email": "   "}, {"email": 42}, {"email": ["zorg@school.be"]}])
def test_no_usable_email_is_refused(db, school, claims):
    result = identity_sign_in(db, claims)
    assert result.user is None and result.refusal == "no-email"
    assert "geen e-mailadres" in result.message
    assert audit(db, "sign-in-failed")[-1][0] is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    claims=st.dictionaries(
        st.sampled_from(["email", "email_verified", "iat", "name", "provider", "sub"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=80), st.lists(st.text(max_size=5))),
    )
)
def test_hostile_claims_never_raise_and_only_a_known_email_signs_in(db, school, claims):
    result = identity_sign_in(db, claims)
    known = {e.strip().lower() for e in EMAILS.values()} | {"clb@clb.be"}
    if result.user is not None:
        assert result.email in known
    else:
        assert result.message


def test_freshness_of_the_identity():
    now = 1_900_000_000.0
    assert identity_is_fresh({"iat": now - 10}, now, 1800)
    assert identity_is_fresh({"iat": int(now) + 60}, now, 1800)
    assert not identity_is_fresh({"iat": now - 1801}, now, 1800)
    assert not identity_is_fresh({"iat": now + 3600}, now, 1800)
    assert not identity_is_fresh({}, now, 1800)
    assert not identity_is_fresh({"iat": True}, now, 1800)
    assert not identity_is_fresh({"iat": str(now)}, now, 1800)


# --- the sign-in page (AppTest) ------------------------------------------------------------------


@pytest.fixture
def oidc_app(app_db):
    path, made = app_db
    database = Database(path)
    set_emails(database, EMAILS)
    database.close()
    return path, made


def app(user: dict | None = None, **secrets) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets = {"auth": dict(AUTH), **secrets}
    at.user = user if user is not None else {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    return at


def identity(email: str, age_seconds: float = 5) -> dict:
    return {"is_logged_in": True, "email": email, "iat": int(time.time() - age_seconds), "provider": "default"}


def read_audit(path, action):
    database = Database(path)
    try:
        return audit(database, action)
    finally:
        database.close()


def test_configured_provider_shows_the_school_button_and_hides_local_accounts(oidc_app):
    at = app()
    assert [b.label for b in at.button] == ["Aanmelden met je schoolaccount"]
    assert not at.text_input


def test_local_accounts_stay_available_when_the_school_allows_it(oidc_app):
    at = app(dossier={"local_sign_in": True})
    labels = [b.label for b in at.button]
    assert labels[0] == "Aanmelden met je schoolaccount" and "Aanmelden" in labels
    assert [t.key for t in at.text_input] == ["sign_in_username", "sign_in_password"]


def test_named_providers_get_their_own_buttons(oidc_app):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    at.secrets = {
        "auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"]}
        | {"microsoft": provider, "google": provider}
    }
    at.run()
    assert [b.label for b in at.button] == ["Aanmelden met Microsoft 365", "Aanmelden met Google Workspace"]


def test_without_auth_section_the_local_form_is_the_only_way(oidc_app):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert [b.label for b in at.button] == ["Aanmelden"]


def test_known_school_account_signs_in_with_its_role(oidc_app):
    path, _ = oidc_app
    at = app(identity("ZORG@school.be"))
    assert at.session_state["signed_in_user"].username == "zorg"
    assert at.session_state["signed_in_user"].role == "zorgteam"
    assert any("Zorgteam" in m.value for m in at.sidebar.markdown)
    assert read_audit(path, "sign-in")[-1][:3] == ("zorg", "zorgteam", "schoolaccount")


def test_unknown_school_account_gets_the_dutch_refusal_and_no_access(oidc_app):
    path, _ = oidc_app
    at = app(identity("vreemde@gmail.com"))
    assert "signed_in_user" not in at.session_state
    assert any("vreemde@gmail.com is niet gekend in het leerlingendossier" in e.value for e in at.error)
    assert "Afmelden bij je schoolaccount" in [b.label for b in at.button]
    assert read_audit(path, "sign-in-failed")[-1][:3] == (
        "vreemde@gmail.com",
        None,
        "schoolaccount: onbekend e-mailadres",
    )
    at.run()  # a rerun neither signs in nor audits the same identity again
    assert "signed_in_user" not in at.session_state
    assert len(read_audit(path, "sign-in-failed")) == 1
    next(b for b in at.button if b.label == "Afmelden bij je schoolaccount").click()
    at.run()
    assert at.user == {"is_logged_in": False}


def test_deactivated_school_account_gets_no_access(oidc_app):
    path, _ = oidc_app
    database = Database(path)
    database.write(lambda cur: cur.execute("UPDATE staff_user SET active = false WHERE username = 'juf.l1a'"))
    database.close()
    at = app(identity("juf.l1a@school.be"))
    assert "signed_in_user" not in at.session_state
    assert any("gedeactiveerd" in e.value for e in at.error)


def test_an_old_identity_cookie_does_not_sign_in_silently(oidc_app):
    path, _ = oidc_app
    at = app(identity("zorg@school.be", age_seconds=2 * 3600))
    assert "signed_in_user" not in at.session_state
    assert [b.label for b in at.button] == ["Aanmelden met je schoolaccount"]
    assert read_audit(path, "sign-in") == [] and read_audit(path, "sign-in-failed") == []


def test_sign_out_also_ends_the_school_identity(oidc_app):
    path, _ = oidc_app
    at = app(identity("zorg@school.be"))
    next(b for b in at.button if b.label == "Afmelden").click()
    at.run()
    assert "signed_in_user" not in at.session_state
    assert at.user == {"is_logged_in": False}
    assert read_audit(path, "sign-out")[-1][:3] == ("zorg", "zorgteam", "afgemeld")


def test_idle_expiry_is_not_undone_by_the_school_identity(oidc_app, monkeypatch):
    at = app(identity("zorg@school.be"))
    assert at.session_state["signed_in_user"].username == "zorg"
    monkeypatch.setenv("DOSSIER_IDLE_MINUTES", "0")
    at.run()
    assert "verlopen" in texts(at)
    monkeypatch.setenv("DOSSIER_IDLE_MINUTES", "30")
    at.run()  # the identity is still fresh and still in st.user: it must not sign in again by itself
    assert "signed_in_user" not in at.session_state
    assert [b.label for b in at.button] == ["Aanmelden met je schoolaccount"]
