"""Leerlingendossier: sign-in gate and role-based navigation. Run with `make run`."""

import streamlit as st

from dossier.db import get_setting
from ui import session
from ui.db import get_db
from ui.navigation import PAGES, pages_for
from ui.signin import render_sign_in

st.set_page_config(page_title="Leerlingendossier", page_icon=":material/folder_shared:", layout="wide")

db = get_db()
user = session.current_user(db)


def page(spec) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec.default)


if user is None:
    # Register every page (hidden) so a deep link survives sign-in; no page runs before it.
    st.navigation([page(spec) for spec in PAGES], position="hidden")
    render_sign_in(db)
    st.stop()

sections: dict[str, list] = {}
for spec in pages_for(user):
    sections.setdefault(spec.section, []).append(page(spec))
current = st.navigation(sections)

with st.sidebar:
    st.markdown(f"**{get_setting(db, 'school_name', 'Leerlingendossier')}**")
    if get_setting(db, "demo_mode") == "1":
        st.caption("Demoschool: alle namen en gegevens zijn fictief.")
    st.write(f"{user.name} · {user.role_label}")
    if st.button("Afmelden", icon=":material/logout:", key="sign_out"):
        if session.sign_out(db):
            st.stop()
        st.rerun()

current.run()
