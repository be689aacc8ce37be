"""Start: a teacher sees their classes; others see the school at a glance."""

import streamlit as st

from dossier import care, charts, pupils
from dossier.access import can
from dossier.schoolyear import current_school_year
from ui.context import page_context
from ui.widgets import due_table, plain

db, user = page_context()
year = current_school_year()

st.title(f"Goeiedag, {user.name.split()[0]}")

if user.role == "leerkracht":
    st.subheader(f"Mijn klassen · {year}")
    classes = pupils.list_classes(db, user, year)
    if classes.empty:
        st.info("Je hebt dit schooljaar nog geen klassen. Vraag de beheerder om je klassen toe te wijzen.")
    for row in classes.itertuples():
        with st.container(border=True):
            head, group = st.columns([3, 1])
            head.markdown(f"### {row.name} · {row.pupils} leerlingen")
            group.page_link(
                "pages/registreren.py",
                label="Registratie voor een groep",
                icon=":material/group_add:",
                query_params={"klas": int(row.id)},
            )
            members = pupils.list_pupils(db, user, year, class_id=row.id, include_left=False)
            for pupil in members.itertuples():
                name, open_file, write = st.columns([3, 1, 1])
                name.markdown(f"{plain(pupil.first_name)} {plain(pupil.last_name)} · {pupil.pupil_number}")
                open_file.page_link(
                    "pages/leerling.py",
                    label="Dossier",
                    icon=":material/folder_open:",
                    query_params={"leerling": int(pupil.id)},
                )
                write.page_link(
                    "pages/registreren.py",
                    label="Registreren",
                    icon=":material/edit_note:",
                    query_params={"leerling": int(pupil.id)},
                )
    due = care.due_evaluations(db, user)
    if not due.empty:
        st.subheader("Te evalueren")
        st.dataframe(due_table(due), hide_index=True)
else:
    st.subheader(f"De school in een oogopslag · {year}")
    if can(user, "dashboard.school"):
        school_link, attention_link, _ = st.columns([1, 1, 2])
        school_link.page_link(
            "pages/school.py", label="Schoolbeeld: wat veranderde sinds vorig jaar", icon=":material/monitoring:"
        )
        attention_link.page_link("pages/aandacht.py", label="Aandachtslijst", icon=":material/flag:")
    classes = pupils.list_classes(db, user, year)
    counts = pupils.school_counts(db, user, year)
    cols = st.columns(4)
    cols[0].metric("Leerlingen", counts["pupils"])
    cols[1].metric("Klassen", counts["classes"])
    cols[2].metric("Kleuter", int(counts["levels"].get("kleuter", 0)))
    cols[3].metric("Lager", int(counts["levels"].get("lager", 0)))
    if classes.empty:
        st.info(
            "Nog geen leerlingen voor dit schooljaar. Importeer de leerlingenlijst via **Importeren**, "
            "of start met `make run` op een lege databank voor de demoschool."
        )
    else:
        st.plotly_chart(charts.pupils_per_class(classes, year), key="pupils_per_class")
    if can(user, "care.read"):
        due = care.due_evaluations(db, user)
        st.subheader(f"Te evalueren ({len(due)})")
        if due.empty:
            st.caption("Geen maatregelen of afspraken die binnen twee weken geëvalueerd moeten worden.")
        else:
            st.dataframe(due_table(due), hide_index=True)
