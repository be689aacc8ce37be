"""Who is signed in: local or school-account sign-in, idle expiry and sign-out, kept in session state.

Only the immutable `User` lives in session state, never a connection or cursor. A school account
(OIDC through `st.login`) gives access only once its e-mail is matched to an active staff account;
`st.user` alone never does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from dossier.access import User
from dossier.db import Database
from dossier.users import authenticate, identity_is_fresh, identity_sign_in, record_sign_out

_USER_KEY = "signed_in_user"
_SEEN_KEY = "last_activity"
_NOTICE_KEY = "sign_in_notice"
_VIA_KEY = "signed_in_via"
# Set once this session has looked at the provider's identity: a sign-out, an expiry or a refusal
# must not be undone by the same identity on the next rerun; only a new st.login gives a new one.
_IDENTITY_USED_KEY = "identity_used"
_REFUSAL_KEY = "identity_refusal"

_PROVIDER_LABELS = {"microsoft": "Microsoft 365", "google": "Google Workspace"}


@dataclass(frozen=True)
class Provider:
    """One way to sign in with a school account: `name` is what st.login takes (None: the [auth] section)."""

    name: str | None
    label: str


def idle_minutes() -> float:
    return float(os.environ.get("DOSSIER_IDLE_MINUTES", "30"))


def _secrets_section(name: str) -> Mapping:
    try:
        section = st.secrets.get(name)
    except FileNotFoundError:
        # No secrets.toml at all: a school with local accounts only.
        return {}
    return section if isinstance(section, Mapping) else {}


def identity_providers() -> list[Provider]:
    """The providers configured under [auth] in .streamlit/secrets.toml, in file order."""
    auth = _secrets_section("auth")
    if not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return []
    providers = [Provider(None, "")] if auth.get("client_id") else []
    providers += [
        Provider(key, "")
        for key, value in auth.items()
        if isinstance(value, Mapping) and value.get("client_id") and "_" not in key
    ]
    if len(providers) == 1:
        return [Provider(providers[0].name, "Aanmelden met je schoolaccount")]
    return [
        Provider(p.name, f"Aanmelden met {_PROVIDER_LABELS.get(p.name or '', p.name or 'je schoolaccount')}")
        for p in providers
    ]


def local_sign_in_allowed(demo: bool) -> bool:
    """Local passwords when there is no provider, in demo mode, or when [dossier] local_sign_in = true."""
    if demo or not identity_providers():
        return True
    return _secrets_section("dossier").get("local_sign_in") is True


def current_user(db: Database) -> User | None:
    """The signed-in user, or None; expires the session after the configured idle time."""
    user = st.session_state.get(_USER_KEY)
    if user is None:
        return _sign_in_with_identity(db)
    now = time.monotonic()
    last = st.session_state.get(_SEEN_KEY, now)
    if now - last > idle_minutes() * 60:
        # No provider sign-out here: it would leave the app at once and the notice would never show.
        sign_out(db, reason="sessie verlopen (inactief)", end_identity=False)
        st.session_state[_NOTICE_KEY] = (
            f"Je sessie is verlopen na {idle_minutes():g} minuten zonder activiteit. Meld je opnieuw aan."
        )
        return None
    st.session_state[_SEEN_KEY] = now
    return user


def _sign_in_with_identity(db: Database) -> User | None:
    if st.session_state.get(_IDENTITY_USED_KEY) or not identity_providers():
        return None
    if not st.user.get("is_logged_in"):
        return None
    st.session_state[_IDENTITY_USED_KEY] = True
    claims = st.user.to_dict()
    if not identity_is_fresh(claims, time.time(), idle_minutes() * 60):
        # An old identity cookie from an earlier visit: ask for a click instead of signing in silently.
        return None
    provider = claims.get("provider")
    result = identity_sign_in(db, claims, provider=provider if isinstance(provider, str) else None)
    if result.user is None:
        st.session_state[_REFUSAL_KEY] = result.message
        return None
    _start(result.user, via="oidc")
    return result.user


def _start(user: User, via: str) -> None:
    st.session_state[_USER_KEY] = user
    st.session_state[_SEEN_KEY] = time.monotonic()
    st.session_state[_VIA_KEY] = via
    st.session_state.pop(_REFUSAL_KEY, None)


def sign_in(db: Database, username: str, password: str) -> User | None:
    user = authenticate(db, username, password)
    if user is not None:
        _start(user, via="local")
    return user


def sign_out(db: Database, reason: str = "afgemeld", *, end_identity: bool = True) -> bool:
    """Sign out; after a school-account sign-in also clear the provider cookie (st.logout) unless told not to.

    Returns True when the browser is being sent away for that: the caller must then stop, not rerun,
    because a rerun can drop the queued redirect before it reaches the browser."""
    user = st.session_state.pop(_USER_KEY, None)
    st.session_state.pop(_SEEN_KEY, None)
    via = st.session_state.pop(_VIA_KEY, None)
    st.session_state[_IDENTITY_USED_KEY] = True
    if user is not None:
        record_sign_out(db, user, reason)
    if end_identity and via == "oidc":
        st.logout()
        return True
    return False


def end_identity() -> None:
    """Leave the provider's identity behind (after a refusal): clears the cookie and, where the provider
    supports it, signs out there too; Streamlit then starts a new session on the sign-in page."""
    st.session_state.pop(_REFUSAL_KEY, None)
    st.logout()


def identity_refusal() -> str | None:
    return st.session_state.get(_REFUSAL_KEY)


def pop_notice() -> str | None:
    return st.session_state.pop(_NOTICE_KEY, None)
