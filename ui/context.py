"""What every page needs first: the database and the signed-in user."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from dossier.access import AccessDenied, User, can
from dossier.db import Database
from ui.db import get_db
from ui.session import _USER_KEY


def page_context(permission: str | None = None) -> tuple[Database, User]:
    """(db, user) for a page; stops the page for a visitor without the permission.

    This only decides what to show: the core checks access again on every call.
    """
    if PagesManager.uses_pages_directory:
        # The first visit of a freshly started server came in through a page link (a bookmark, a
        # shared dossier link): Streamlit then runs the page file itself, in its old pages/-folder
        # mode, before app.py ever set up the navigation, and stays in that mode until someone opens
        # the start page. Leave that mode and run again: app.py runs first and keeps the link's page
        # and query parameters (sign-in first, then the linked page).
        PagesManager.uses_pages_directory = False
        st.rerun()
    db = get_db()
    user = st.session_state.get(_USER_KEY)
    if user is None:
        st.warning("Meld je eerst aan.")
        st.stop()
    if permission is not None and not can(user, permission):
        st.error(str(AccessDenied(f"Je rol ({user.role_label}) heeft geen toegang tot deze pagina.")))
        st.stop()
    return db, user
