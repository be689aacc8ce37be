"""Registreren: a short, template-driven form for one pupil or for a group of a class.

Open with `?leerling=ID` (one pupil) or `?klas=ID` (bulk entry for a group). Errors appear
next to their field and nothing typed is lost: the widgets keep their values.
"""

import streamlit as st

from dossier import labels, pupils, registrations
from dossier.access import AccessDenied
from dossier.forms import FORM, GUIDE_LENGTH, FormError
from dossier.schoolyear import current_school_year
from ui.context import page_context
from ui.widgets import query_int

db, user = page_context("registrations.team.write")
year = current_school_year()
writable = registrations.writable_visibilities(user)

pupil_id = query_int("leerling")
class_id = query_int("klas")
bulk = pupil_id is None and class_id is not None

st.title("Nieuwe registratie" + (" voor een groep" if bulk else ""))

# -- who -----------------------------------------------------------------------------------
if bulk:
    members = pupils.list_pupils(db, user, year, class_id=class_id, include_left=False)
    if members.empty:
        st.error("Deze klas bestaat niet of valt buiten jouw klassen.")
        st.stop()
    names = dict(zip(members["id"], members["first_name"] + " " + members["last_name"], strict=True))
    st.caption(f"Klas {members['class_name'].iloc[0]}: dezelfde registratie voor elke gekozen leerling.")
    chosen = st.multiselect("Leerlingen", list(names), format_func=names.get, key="bulk_pupils", placeholder="Kies…")
    if st.button("Hele klas kiezen", key="bulk_all"):
        st.session_state["bulk_pupils"] = list(names)
        st.rerun()
    targets = chosen
else:
    if pupil_id is None:
        everyone = pupils.list_pupils(db, user, year, include_left=False)
        options = dict(
            zip(
                everyone["id"],
                everyone["first_name"] + " " + everyone["last_name"] + " (" + everyone["class_name"] + ")",
                strict=True,
            )
        )
        pupil_id = st.selectbox(
            "Leerling",
            list(options),
            format_func=options.get,
            index=None,
            key="reg_pupil",
            placeholder="Kies een leerling…",
        )
        if pupil_id is None:
            st.info("Kies een leerling.")
            st.stop()
    try:
        pupil = pupils.get_pupil(db, user, pupil_id)
    except AccessDenied as exc:
        st.error(str(exc))
        st.stop()
    st.subheader(f"{pupil['first_name']} {pupil['last_name']}")
    targets = [int(pupil["id"])]

# -- what ----------------------------------------------------------------------------------
kind = st.selectbox(
    "Soort registratie",
    list(labels.TEMPLATES),
    format_func=lambda t: labels.TEMPLATES[t].label,
    key="reg_type",
)
template = labels.TEMPLATES[kind]
errors: dict[str, str] = st.session_state.get("reg_errors", {})


def field_message(name: str) -> None:
    if name in errors:
        st.error(errors[name], icon=":material/error:")


# A saved form comes back with fresh widget keys: the browser would otherwise keep showing (and
# resubmit) the text just saved, and a second click on Bewaren would store it twice.
form_round = st.session_state.setdefault("reg_round", 0)
with st.form(f"registration_form_{form_round}", border=True):
    values: dict = {"type": kind}
    for name in template.fields:
        label = labels.FIELD_LABELS.get(name, name)
        help_text = labels.FIELD_HELP.get(name)
        key = f"reg_{kind}_{name}_{form_round}"
        if name == "fact_date":
            values[name] = st.date_input(label, value="today", max_value="today", format="DD/MM/YYYY", key=key)
        elif name == "facts":
            st.markdown("\n".join(f"- {q}" for q in template.questions))
            values[name] = st.text_area(label, help=help_text, key=key, height=120)
            typed = len(st.session_state.get(key) or "")
            guide = f"{typed} tekens" + (f" — kort is beter (richtlijn {GUIDE_LENGTH})" if typed > GUIDE_LENGTH else "")
            st.caption(guide)
        elif name in ("interpretation", "agreements"):
            values[name] = st.text_area(label, help=help_text, key=key, height=80)
        elif name == "owner":
            values[name] = st.text_input(label, help=help_text, key=key)
        elif name in ("evaluation_date", "end_date"):
            values[name] = st.date_input(label, value=None, format="DD/MM/YYYY", help=help_text, key=key)
        elif name == "domain":
            domains = list(labels.DOMAINS)
            default = domains.index(template.domain) if template.domain in domains else None
            values[name] = st.selectbox(
                label, domains, index=default, format_func=labels.DOMAINS.get, key=key, placeholder="Kies…"
            )
        elif name == "visibility":
            default = labels.default_visibility(kind, writable)
            values[name] = st.radio(
                label,
                list(writable),
                index=list(writable).index(default) if default in writable else 0,
                format_func=lambda v: f"{labels.VISIBILITIES[v]} — {labels.VISIBILITY_HELP[v]}",
                key=key,
            )
        elif name == "transferable":
            values[name] = st.checkbox(
                label,
                value=template.transferable,
                disabled=template.transferable_fixed,
                help=help_text,
                key=key,
            )
        elif name == "confidential_third_parties":
            values[name] = st.checkbox(label, value=False, help=help_text, key=key)
        elif name == "report_kind":
            values[name] = st.selectbox(
                label,
                list(labels.REPORT_KINDS),
                format_func=labels.REPORT_KINDS.get,
                index=None,
                key=key,
                placeholder="Kies…",
            )
        elif name == "attachment":
            values[name] = st.file_uploader(label, type=["pdf"], key=key)
        else:
            continue
        field_message(name)
    field_message(FORM)
    submitted = st.form_submit_button("Bewaren", type="primary")

if submitted:
    attachment = values.pop("attachment", None)
    if template.transferable_fixed:
        values.pop("transferable", None)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    values = {k: v for k, v in values.items() if v not in ("", None)}
    if not targets:
        st.session_state["reg_errors"] = {FORM: "Kies minstens één leerling."}
        st.rerun()
    try:
        if bulk:
            created = registrations.create_bulk(db, user, targets, **values)
        else:
            created = [registrations.create_registration(db, user, targets[0], **values)]
        if attachment is not None:
            for registration_id in created:
                registrations.attach_pdf(db, user, registration_id, attachment.name, attachment.getvalue())
    except FormError as exc:
        st.session_state["reg_errors"] = exc.errors
        st.rerun()
    except AccessDenied as exc:
        st.session_state["reg_errors"] = {FORM: str(exc)}
        st.rerun()
    else:
        st.session_state.pop("reg_errors", None)
        # Clear the typed text only now that it is safely stored.
        for name in template.fields:
            st.session_state.pop(f"reg_{kind}_{name}_{form_round}", None)
        st.session_state["reg_round"] = form_round + 1
        st.session_state["reg_saved"] = (
            f"Registratie bewaard voor {len(created)} leerlingen." if bulk else "Registratie bewaard."
        )
        st.session_state.pop("pupil_file", None)
        st.rerun()

saved = st.session_state.pop("reg_saved", None)
if saved:
    st.success(saved, icon=":material/check_circle:")
    if not bulk:
        st.page_link(
            "pages/leerling.py",
            label="Naar het dossier",
            icon=":material/folder_open:",
            query_params={"leerling": targets[0]},
        )
