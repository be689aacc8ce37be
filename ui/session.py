"""Who is signed in: local sign-in, idle expiry and sign-out, kept in session state.

Only the immutable `User` lives in session state, never a connection or cursor.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from dossier.access import User
from dossier.db import Database
from dossier.users import authenticate, record_sign_out

_USER_KEY = "signed_in_user"
_SEEN_KEY = "last_activity"
_NOTICE_KEY = "sign_in_notice"


def idle_minutes() -> float:
    return float(os.environ.get("DOSSIER_IDLE_MINUTES", "30"))


def current_user(db: Database) -> User | None:
    """The signed-in user, or None; expires the session after the configured idle time."""
    user = st.session_state.get(_USER_KEY)
    if user is None:
        return None
    now = time.monotonic()
    last = st.session_state.get(_SEEN_KEY, now)
    if now - last > idle_minutes() * 60:
        sign_out(db, reason="sessie verlopen (inactief)")
        st.session_state[_NOTICE_KEY] = (
            f"Je sessie is verlopen na {idle_minutes():g} minuten zonder activiteit. Meld je opnieuw aan."
        )
        return None
    st.session_state[_SEEN_KEY] = now
    return user


def sign_in(db: Database, username: str, password: str) -> User | None:
    user = authenticate(db, username, password)
    if user is not None:
        st.session_state[_USER_KEY] = user
        st.session_state[_SEEN_KEY] = time.monotonic()
    return user


def sign_out(db: Database, reason: str = "afgemeld") -> None:
    user = st.session_state.pop(_USER_KEY, None)
    st.session_state.pop(_SEEN_KEY, None)
    if user is not None:
        record_sign_out(db, user, reason)


def pop_notice() -> str | None:
    return st.session_state.pop(_NOTICE_KEY, None)
