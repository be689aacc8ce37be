"""Helpers for AppTest page tests; the fixtures (app_db, the navigation patch) are in conftest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.factories import PASSWORD

# Generous: CI machines are slower and the first run imports pandas, plotly and pandera.
TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def signed_in(username: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.subheader] + [e.value for e in at.markdown]
    parts += [e.value for e in at.error] + [e.value for e in at.info] + [e.value for e in at.caption]
    parts += [e.value for e in at.success] + [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)
