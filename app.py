"""Leerlingendossier: sign-in gate and role-based navigation. Run with `make run`."""

import streamlit as st

from dossier.access import can
from dossier.db import get_setting
from ui import session
from ui.db import get_db
from ui.signin import render_sign_in

st.set_page_config(page_title="Leerlingendossier", page_icon=":material/folder_shared:", layout="wide")

db = get_db()
user = session.current_user(db)

start = st.Page("pages/start.py", title="Start", icon=":material/home:", default=True)
pupil_list = st.Page("pages/leerlingen.py", title="Leerlingen", icon=":material/groups:")
dossier_page = st.Page("pages/leerling.py", title="Leerlingendossier", icon=":material/folder_open:")
register = st.Page("pages/registreren.py", title="Registreren", icon=":material/edit_note:")
overview = [start, pupil_list]
if user and can(user, "dossier.read"):
    overview.append(dossier_page)
if user and can(user, "registrations.team.write"):
    overview.append(register)
sections: dict[str, list] = {"Overzicht": overview}
class_page = st.Page("pages/klas.py", title="Klasdashboard", icon=":material/school:")
school_page = st.Page("pages/school.py", title="School", icon=":material/monitoring:")
attention_page = st.Page("pages/aandacht.py", title="Aandachtslijst", icon=":material/flag:")
dashboards = []
if user and can(user, "dashboard.school"):
    dashboards.append(school_page)
if user and can(user, "dashboard.class"):
    dashboards += [class_page, attention_page]
if dashboards:
    sections["Dashboards"] = dashboards
data_pages = []
if user and (can(user, "roster.import") or can(user, "results.import")):
    data_pages.append(st.Page("pages/importeren.py", title="Importeren", icon=":material/upload_file:"))
if user and can(user, "admin.users"):
    data_pages.append(st.Page("pages/beheer.py", title="Beheer", icon=":material/manage_accounts:"))
if data_pages:
    sections["Gegevens en beheer"] = data_pages

if user is None:
    # Register every page (hidden) so a deep link survives sign-in; the page itself does not run.
    all_pages = [start, pupil_list, dossier_page, register, st.Page("pages/importeren.py"), st.Page("pages/beheer.py")]
    all_pages += [class_page, school_page, attention_page]
    st.navigation(all_pages, position="hidden")
    render_sign_in(db)
    st.stop()

current = st.navigation(sections)

with st.sidebar:
    school = get_setting(db, "school_name", "Leerlingendossier")
    st.markdown(f"**{school}**")
    if get_setting(db, "demo_mode") == "1":
        st.caption("Demoschool: alle namen en gegevens zijn fictief.")
    st.write(f"{user.name} · {user.role_label}")
    if st.button("Afmelden", icon=":material/logout:", key="sign_out"):
        session.sign_out(db)
        st.rerun()

current.run()
