"""Leerlingendossier of one pupil: in een oogopslag, the timeline, and the registrations.

`?leerling=ID` opens a pupil directly (shareable; access is checked in the core). One opening
is read once and audited once; filtering the list does not read the dossier again.
"""

import pandas as pd
import streamlit as st

from dossier import care, labels, registrations
from dossier.access import AccessDenied
from dossier.forms import FormError
from dossier.palette import ZONE_COLOURS
from dossier.pupil_file import filter_registrations, open_pupil_file, timeline_data
from dossier.schoolyear import format_date
from dossier.timeline import DOMAIN_LABELS, pupil_timeline
from ui.context import page_context
from ui.widgets import plain, pupil_search

db, user = page_context("dossier.read")

# -- which pupil ---------------------------------------------------------------------------
chosen = pupil_search(db, user, "dossier")
if chosen is None:
    st.title("Leerlingendossier")
    st.info("Zoek een leerling om het dossier te openen.")
    st.stop()

cached = st.session_state.get("pupil_file")
if st.button("Vernieuwen", icon=":material/refresh:", key="refresh_file"):
    cached = None
if cached is None or cached[0] != chosen:
    try:
        file = open_pupil_file(db, user, chosen)
    except AccessDenied as exc:
        st.session_state.pop("pupil_file", None)
        st.error(str(exc))
        st.stop()
    st.session_state["pupil_file"] = (chosen, file)
else:
    file = cached[1]

# -- header --------------------------------------------------------------------------------
current = file.current_class
st.title(file.name)
facts = [f"leerlingnummer {file.pupil.get('pupil_number', '')}"]
if file.pupil.get("birth_date") is not None:
    facts.append(f"geboren {format_date(file.pupil['birth_date'])}")
if current:
    facts.insert(0, f"klas {current['class_name']} ({current['school_year']})")
st.caption(" · ".join(facts))
if file.writable:
    st.page_link(
        "pages/registreren.py",
        label="Nieuwe registratie",
        icon=":material/edit_note:",
        query_params={"leerling": chosen},
    )

# -- in een oogopslag ----------------------------------------------------------------------
st.subheader("In een oogopslag")
left, middle, right = st.columns(3)
with left, st.container(border=True):
    phase = file.phase
    st.markdown(f"**Zorgfase:** {labels.phase_label(phase['phase']) if phase else labels.phase_label(0)}")
    if phase:
        st.caption(f"sinds {format_date(phase['start_date'])}")
    history = file.class_history
    if not history.empty:
        st.markdown("**Klassen:** " + " → ".join(f"{r.class_name} ({r.school_year})" for r in history.itertuples()))
with middle, st.container(border=True):
    st.markdown("**Actieve maatregelen**")
    active = file.active_measures
    if active.empty:
        st.caption("Geen.")
    for m in active.itertuples():
        evaluation = f" · evaluatie {format_date(m.evaluation_date)}" if pd.notna(m.evaluation_date) else ""
        st.markdown(f"- {labels.STICORDI.get(m.category, m.category)}: {plain(m.description)}{evaluation}")
    st.markdown("**Laatste afspraken**")
    agreements = file.latest_agreements()
    if agreements.empty:
        st.caption("Geen.")
    for r in agreements.itertuples():
        st.markdown(
            f"- {format_date(r.fact_date)}: {plain(r.agreements)}" + (f" ({plain(r.owner)})" if r.owner else "")
        )
with right, st.container(border=True):
    st.markdown("**Laatste zone per domein (LVS-VCLB)**")
    zones = file.latest_zones()
    if zones.empty:
        st.caption("Nog geen LVS-resultaten.")
    else:
        grid = st.columns(2)
        for i, z in enumerate(zones.itertuples()):
            grid[i % 2].metric(
                DOMAIN_LABELS.get(z.domain, z.domain),
                f"zone {z.zone}",
                help=f"percentiel {z.percentile:g}, {z.moment} {z.school_year} ({format_date(z.test_date)})"
                if pd.notna(z.percentile)
                else None,
            )
    st.markdown("**Open evaluaties**")
    if file.due.empty:
        st.caption("Geen.")
    for d in file.due.itertuples():
        late = "te laat" if d.days_overdue > 0 else "binnenkort"
        kind = labels.DUE_KINDS.get(d.kind, d.kind)
        st.markdown(f"- {kind}: {plain(d.description)} — {format_date(d.evaluation_date)} ({late})")

# -- timeline ------------------------------------------------------------------------------
st.subheader("Tijdlijn")
st.caption(
    "Zones: "
    + " · ".join(f"{z}" for z in ZONE_COLOURS)
    + " (A sterk … E gevarenzone). Beweeg over een punt voor details."
)
st.plotly_chart(pupil_timeline(timeline_data(file), title=f"Tijdlijn {file.name}"), key="timeline")


# -- care: phase and measures (zorgteam, directie) -----------------------------------------
def _error_text(exc: Exception) -> str:
    return " ".join(exc.errors.values()) if isinstance(exc, FormError) else str(exc)


def _changed() -> None:
    st.session_state.pop("pupil_file", None)
    st.rerun()


if file.may_write_care:
    with st.expander("Zorgfase en maatregelen aanpassen", icon=":material/medical_information:"):
        phase_tab, measure_tab, evaluate_tab = st.tabs(["Zorgfase", "Nieuwe maatregel", "Maatregel evalueren"])
        with phase_tab, st.form("phase_form"):
            now = file.phase["phase"] if file.phase else 0
            new_phase = st.selectbox(
                "Nieuwe zorgfase",
                list(labels.CARE_PHASES),
                index=int(now),
                format_func=labels.CARE_PHASES.get,
                key="phase_new",
            )
            phase_start = st.date_input("Vanaf", value="today", format="DD/MM/YYYY", key="phase_start")
            phase_note = st.text_area(
                "Motivering", key="phase_note", help="Waarom verandert de fase? Wat is afgesproken?"
            )
            if st.form_submit_button("Zorgfase bewaren"):
                try:
                    care.set_phase(db, user, chosen, new_phase, phase_start, phase_note)
                except (FormError, AccessDenied) as exc:
                    st.error(_error_text(exc))
                else:
                    _changed()
        with measure_tab, st.form("measure_form"):
            category = st.selectbox(
                "STICORDI-categorie",
                list(labels.STICORDI),
                format_func=labels.STICORDI.get,
                key="measure_cat",
                help=" · ".join(labels.STICORDI_HELP.values()),
            )
            description = st.text_area("Omschrijving", key="measure_desc", placeholder="Wat doen we concreet anders?")
            m1, m2 = st.columns(2)
            measure_start = m1.date_input("Start", value="today", format="DD/MM/YYYY", key="measure_start")
            measure_eval = m2.date_input("Evaluatie op", value=None, format="DD/MM/YYYY", key="measure_eval")
            if st.form_submit_button("Maatregel bewaren"):
                try:
                    care.add_measure(db, user, chosen, category, description, measure_start, measure_eval)
                except (FormError, AccessDenied) as exc:
                    st.error(_error_text(exc))
                else:
                    _changed()
        with evaluate_tab:
            running = file.active_measures
            if running.empty:
                st.caption("Geen lopende maatregelen.")
            else:
                with st.form("evaluate_form"):
                    names = {
                        int(m.measure_id): f"{labels.STICORDI.get(m.category, m.category)}: {m.description}"
                        for m in running.itertuples()
                    }
                    target = st.selectbox("Maatregel", list(names), format_func=names.get, key="eval_target")
                    e1, e2 = st.columns(2)
                    evaluated_on = e1.date_input("Geëvalueerd op", value="today", format="DD/MM/YYYY", key="eval_on")
                    decision = e2.radio(
                        "Beslissing",
                        list(labels.DECISIONS),
                        format_func=labels.DECISIONS.get,
                        key="eval_decision",
                        horizontal=True,
                    )
                    evaluation_text = st.text_area("Evaluatie", key="eval_text", placeholder="Wat werkte, wat niet?")
                    next_date = st.date_input("Volgende evaluatie", value=None, format="DD/MM/YYYY", key="eval_next")
                    if st.form_submit_button("Evaluatie bewaren"):
                        try:
                            care.evaluate_measure(db, user, target, evaluated_on, evaluation_text, decision, next_date)
                        except (FormError, AccessDenied) as exc:
                            st.error(_error_text(exc))
                        else:
                            _changed()

# -- registrations -------------------------------------------------------------------------
st.subheader("Registraties")
frame = file.registrations
if frame.empty:
    st.info("Nog geen registraties die je mag lezen.")
    st.stop()

f1, f2, f3, f4 = st.columns(4)
types = f1.multiselect(
    "Soort",
    list(labels.REGISTRATION_TYPES),
    format_func=labels.REGISTRATION_TYPES.get,
    key="f_types",
    placeholder="Kies…",
)
domains = f2.multiselect(
    "Domein", list(labels.DOMAINS), format_func=labels.DOMAINS.get, key="f_domains", placeholder="Kies…"
)
years = sorted(frame["school_year"].dropna().unique(), reverse=True)
school_year = f3.selectbox("Schooljaar", [None, *years], format_func=lambda y: y or "Alle", key="f_year")
authors = dict(zip(frame["author_id"], frame["author_name"], strict=True))
author = f4.selectbox(
    "Auteur",
    [None, *sorted(authors, key=authors.get)],
    format_func=lambda a: "Iedereen" if a is None else authors[a],
    key="f_author",
)
s1, s2 = st.columns([3, 1])
search = s1.text_input("Zoeken in de tekst", key="f_search", placeholder="bv. splitsen, leesbril, mama")
include_withdrawn = s2.checkbox("Ingetrokken tonen", key="f_withdrawn")
shown = filter_registrations(
    frame,
    types=types,
    domains=domains,
    school_year=school_year,
    author=author,
    search=search,
    include_withdrawn=include_withdrawn,
)
st.caption(f"{len(shown)} van {len(frame)} registraties")

for r in shown.itertuples():
    title = f"{format_date(r.fact_date)} · {labels.REGISTRATION_TYPES.get(r.type, r.type)} · {plain(r.author_name)}"
    if r.withdrawn:
        title = "~~" + title + "~~ (ingetrokken)"
    with st.expander(title):
        # User text is shown as plain text, never as markdown or HTML.
        st.text(r.facts)
        if r.interpretation:
            st.caption("Interpretatie")
            st.text(r.interpretation)
        if r.agreements:
            st.caption("Afspraken" + (f" · opvolging: {plain(r.owner)}" if r.owner else ""))
            st.text(r.agreements)
        meta = [labels.VISIBILITIES.get(r.visibility, r.visibility)]
        if r.domain:
            meta.append(labels.DOMAINS.get(r.domain, r.domain))
        if pd.notna(r.evaluation_date):
            meta.append(f"evaluatie {format_date(r.evaluation_date)}")
        if r.version > 1:
            meta.append(f"versie {r.version}, gewijzigd door {plain(r.changed_by_name)}")
        if r.withdrawn:
            meta.append(f"ingetrokken: {plain(r.withdrawal_reason)}")
        st.caption(" · ".join(meta))
        if r.version > 1 and st.toggle("Geschiedenis tonen", key=f"hist_{r.registration_id}"):
            versions = registrations.registration_history(db, user, r.registration_id)
            st.dataframe(
                versions[["version", "created_at", "author_name", "facts", "agreements", "withdrawn"]].rename(
                    columns={
                        "version": "Versie",
                        "created_at": "Geschreven op",
                        "author_name": "Door",
                        "facts": "Feiten",
                        "agreements": "Afspraken",
                        "withdrawn": "Ingetrokken",
                    }
                ),
                hide_index=True,
            )
        if r.withdrawn or r.visibility not in file.writable:
            continue
        correct_tab, withdraw_tab = st.tabs(["Corrigeren", "Intrekken"])
        with correct_tab, st.form(f"correct_{r.registration_id}"):
            new_facts = st.text_area("Feiten", value=r.facts, key=f"cf_{r.registration_id}")
            new_agreements = st.text_area("Afspraken", value=r.agreements or "", key=f"ca_{r.registration_id}")
            if st.form_submit_button("Correctie bewaren (nieuwe versie)"):
                try:
                    registrations.correct_registration(
                        db, user, r.registration_id, facts=new_facts, agreements=new_agreements or None
                    )
                except (FormError, AccessDenied) as exc:
                    st.error(" ".join(exc.errors.values()) if isinstance(exc, FormError) else str(exc))
                else:
                    st.session_state.pop("pupil_file", None)
                    st.rerun()
        with withdraw_tab, st.form(f"withdraw_{r.registration_id}"):
            reason = st.text_input("Reden van intrekking", key=f"wr_{r.registration_id}")
            if st.form_submit_button("Intrekken"):
                try:
                    registrations.withdraw_registration(db, user, r.registration_id, reason)
                except (FormError, AccessDenied) as exc:
                    st.error(" ".join(exc.errors.values()) if isinstance(exc, FormError) else str(exc))
                else:
                    st.session_state.pop("pupil_file", None)
                    st.rerun()
