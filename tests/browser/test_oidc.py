"""Sign-in with a school account, the whole round trip in real Chromium.

A real OpenID provider (oidc-provider-mock, in this process) and `streamlit run` with a temporary
secrets.toml, both on 127.0.0.1 only. The browser clicks the school button, authorises at the
provider, and comes back signed in (or refused); the audit log is read after the app has stopped.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dossier.db import Database
from pipelines.app_server import free_port, running_app, stop
from tests.browser.conftest import ARTIFACTS, ROOT
from tests.factories import make_school

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
werkzeug_serving = pytest.importorskip("werkzeug.serving")

SCHOOL_BUTTON = "Aanmelden met je schoolaccount"


@dataclass
class OidcApp:
    url: str
    provider_url: str
    db_path: Path
    proc: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        stop(self.proc)

    def audit(self) -> list[tuple]:
        """The audit rows of sign-in events; only after stop(): the running app holds the file."""
        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            return con.execute(
                "SELECT action, user_name, role, detail, pupil_id FROM audit_log"
                " WHERE action IN ('sign-in', 'sign-in-failed', 'sign-out') ORDER BY id"
            ).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def provider():
    """The OpenID provider on 127.0.0.1; one predefined staff member, anyone else typed in its form."""
    users = [
        oidc_provider_mock.User(
            sub="sofie.claes",
            claims={"email": "Sofie.Claes@School.BE", "email_verified": True, "name": "Sofie Claes"},
        )
    ]
    server = werkzeug_serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(user_claims=users, require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def oidc_app(provider, tmp_path):
    db_path = tmp_path / "school.duckdb"
    database = Database(db_path)
    make_school(database)
    database.close()
    # The documented way to give a staff member a school account: an e-mail on their account.
    subprocess.run(
        [sys.executable, "-m", "pipelines", "user", "add", "--db", str(db_path), "--name", "Sofie Claes"]
        + ["--role", "leerkracht", "--classes", "L1A", "--email", "sofie.claes@school.be"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    port = free_port()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "test-cookie-secret-met-genoeg-lengte-0123456789"\n'
        'client_id = "leerlingendossier"\n'
        'client_secret = "test-client-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    log_path = tmp_path / "streamlit.log"
    # Only this secrets file: a developer's own .streamlit/secrets.toml must not leak into the test.
    with running_app(db_path, log_path, port=port, extra_args=["--secrets.files", str(secrets)], timeout=60) as (
        url,
        proc,
    ):
        yield OidcApp(url, provider, db_path, proc, log_path)


def _authorise_at_provider(page, app: OidcApp, *, predefined: str | None = None, typed: str | None = None):
    page.get_by_role("button", name=SCHOOL_BUTTON).click()
    page.wait_for_url(app.provider_url + "/oauth2/authorize*")
    if predefined:
        page.get_by_role("button", name=predefined).click()
    else:
        page.locator("input[name=sub]").fill(typed)
        page.get_by_role("button", name="Authorize").click()


def _end_session_at_provider(page, app: OidcApp):
    page.wait_for_url(app.provider_url + "/oauth2/end_session*")
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name=SCHOOL_BUTTON).wait_for()


def test_staff_member_signs_in_with_school_account_and_out_again(page, oidc_app):
    page.goto(oidc_app.url)
    page.get_by_role("button", name=SCHOOL_BUTTON).wait_for()
    assert page.get_by_label("Aanmeldnaam").count() == 0, "lokale accounts horen verborgen te zijn"

    _authorise_at_provider(page, oidc_app, predefined="sofie.claes")
    page.get_by_text("Sofie Claes · Leerkracht").wait_for()
    page.get_by_text("Mijn klassen").wait_for()
    page.get_by_text("L1A ·").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "oidc-signed-in.png"), full_page=True)

    page.get_by_role("button", name="Afmelden").click()
    _end_session_at_provider(page, oidc_app)
    # The identity cookie is gone: opening the app again does not sign anyone in.
    page.goto(oidc_app.url)
    page.get_by_role("button", name=SCHOOL_BUTTON).wait_for()
    assert page.get_by_text("Sofie Claes").count() == 0

    oidc_app.stop()
    rows = oidc_app.audit()
    assert rows == [
        ("sign-in", "sofie.claes", "leerkracht", "schoolaccount", None),
        ("sign-out", "sofie.claes", "leerkracht", "afgemeld", None),
    ], oidc_app.log_path.read_text()[-3000:]


def test_unknown_school_account_is_refused_in_dutch_and_audited(page, oidc_app):
    page.goto(oidc_app.url)
    _authorise_at_provider(page, oidc_app, typed="Vreemde@Gmail.com")
    page.get_by_text("vreemde@gmail.com is niet gekend in het leerlingendossier").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "oidc-refused.png"), full_page=True)
    assert page.get_by_role("button", name="Afmelden", exact=True).count() == 0
    assert page.get_by_text("Mijn klassen").count() == 0

    page.get_by_role("button", name="Afmelden bij je schoolaccount").click()
    _end_session_at_provider(page, oidc_app)
    assert page.get_by_text("niet gekend").count() == 0

    oidc_app.stop()
    assert oidc_app.audit() == [
        ("sign-in-failed", "vreemde@gmail.com", None, "schoolaccount: onbekend e-mailadres", None),
    ], oidc_app.log_path.read_text()[-3000:]
