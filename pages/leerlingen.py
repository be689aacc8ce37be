"""Leerlingen: search by name or number, filter by school year and class, within scope."""

import streamlit as st

from dossier import pupils
from dossier.access import can
from ui.context import page_context
from ui.widgets import GENDER_LABELS, class_select, dutch_dates, school_year_select

db, user = page_context("pupils.read")

st.title("Leerlingen")
left, middle, right = st.columns([1, 1, 2])
with left:
    year = school_year_select(db, key="pupils_year")
with middle:
    class_id = class_select(db, user, year, key="pupils_class")
with right:
    search = st.text_input("Zoeken op naam of leerlingnummer", key="pupils_search", placeholder="bv. Maes of 24001")

found = pupils.list_pupils(db, user, year, class_id=class_id, search=search)
st.caption(f"{len(found)} leerlingen gevonden")

if found.empty:
    st.info("Geen leerlingen gevonden voor deze selectie.")
else:
    table = dutch_dates(found, ["birth_date", "entry_date", "leave_date"])
    if "gender" in table:
        table["gender"] = table["gender"].map(GENDER_LABELS).fillna("")
    labels = {
        "pupil_number": "Leerlingnummer",
        "first_name": "Voornaam",
        "last_name": "Naam",
        "class_name": "Klas",
        "birth_date": "Geboortedatum",
        "gender": "Geslacht",
        "entry_date": "Ingestroomd",
        "leave_date": "Vertrokken",
    }
    shown = table[[c for c in labels if c in table]].rename(columns=labels)
    if can(user, "dossier.read"):
        st.caption("Klik op een leerling om het dossier te openen.")
        event = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="pupil_table")
        picked = event.selection.rows if event is not None else []
        if picked:
            st.switch_page("pages/leerling.py", query_params={"leerling": int(found.iloc[picked[0]]["id"])})
    else:
        st.dataframe(shown, hide_index=True)
