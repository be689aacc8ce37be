"""What every page needs first: the database and the signed-in user."""

from __future__ import annotations

import streamlit as st

from dossier.access import AccessDenied, User, can
from dossier.db import Database
from ui.db import get_db
from ui.session import _USER_KEY


def page_context(permission: str | None = None) -> tuple[Database, User]:
    """(db, user) for a page; stops the page for a visitor without the permission.

    This only decides what to show: the core checks access again on every call.
    """
    db = get_db()
    user = st.session_state.get(_USER_KEY)
    if user is None:
        st.warning("Meld je eerst aan.")
        st.stop()
    if permission is not None and not can(user, permission):
        st.error(str(AccessDenied(f"Je rol ({user.role_label}) heeft geen toegang tot deze pagina.")))
        st.stop()
    return db, user
