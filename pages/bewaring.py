"""Bewaartermijnen: the terms per data class (beheerder edits), what is due, and legal holds
(directie). Deleting is the scheduled command's job (`python -m pipelines retention`), because
it also compacts the database file, which cannot happen while the app has it open."""

from datetime import date

import pandas as pd
import streamlit as st

from dossier import retention
from dossier.access import can
from dossier.schoolyear import format_date
from ui.context import page_context
from ui.widgets import dutch_dates

db, user = page_context("retention.run")
today = date.today()
may_edit = can(user, "admin.settings")
may_hold = can(user, "retention.hold")

st.title("Bewaartermijnen")
if flash := st.session_state.pop("bewaring_flash", None):
    st.success(flash)
st.caption(
    "Een leerling die vertrok, wordt meteen gearchiveerd: enkel de directie ziet zijn dossier nog. "
    "Op 31 augustus na de termijn worden zijn gegevens echt verwijderd, tenzij de directie een "
    "juridische blokkering zet. De geplande opdracht `python -m pipelines retention` verwijdert en "
    "compacteert het databankbestand; deze pagina toont wat vervalt."
)

# -- terms ---------------------------------------------------------------------------------------
st.subheader("Termijnen")
terms = retention.rules(db)
shown = dutch_dates(
    terms.assign(changed_at=terms["changed_at"].map(lambda t: t.date() if pd.notna(t) else None)), ["changed_at"]
)
st.dataframe(
    shown[["label", "description", "term_years", "default_years", "changed_by", "changed_at"]].rename(
        columns={
            "label": "Gegevens",
            "description": "Wat",
            "term_years": "Termijn (schooljaren)",
            "default_years": "Standaard",
            "changed_by": "Gewijzigd door",
            "changed_at": "Gewijzigd op",
        }
    ),
    hide_index=True,
)
st.caption(
    f"{retention.IDENTITY_LABEL} ({retention.IDENTITY_DESCRIPTION}) verdwijnen samen met het laatste "
    "gegeven van de leerling. De termijn telt in schooljaren na het schooljaar van vertrek (voor de "
    "toegangslog: na het schooljaar van elke regel); 1 betekent 31 augustus van het volgende schooljaar."
)

if may_edit:
    with st.form("retention_terms"):
        chosen = {
            row.data_class: st.number_input(
                f"{row.label} (schooljaren)",
                min_value=0,
                max_value=retention.MAX_TERM_YEARS,
                value=int(row.term_years),
                step=1,
                key=f"term_{row.data_class}",
            )
            for row in terms.itertuples()
        }
        if st.form_submit_button("Termijnen bewaren", type="primary"):
            current = dict(zip(terms["data_class"], terms["term_years"], strict=True))
            changed = [key for key, years in chosen.items() if int(years) != int(current[key])]
            try:
                for key in changed:
                    retention.set_rule(db, user, key, int(chosen[key]))
            except retention.RetentionError as exc:
                st.error(str(exc))
            else:
                if not changed:
                    st.info("Niets gewijzigd.")
                else:
                    st.session_state["bewaring_flash"] = (
                        f"{retention.plural(len(changed), 'termijn', 'termijnen')} aangepast."
                    )
                    st.rerun()

# -- what is due ---------------------------------------------------------------------------------
st.subheader(f"Vervallen op {format_date(today)}")
report = retention.due(db, user, today)
counts = pd.DataFrame(
    [
        {
            "Gegevens": retention.class_label(key),
            "Leerlingen": None if key == "access_log" else count.pupils,
            "Rijen": count.rows,
        }
        for key, count in report.counts.items()
    ]
)
st.dataframe(counts.astype({"Leerlingen": "Int64"}), hide_index=True)
if report.held_pupils:
    held_text = retention.plural(report.held_pupils, "leerling", "leerlingen")
    st.info(f"Overgeslagen door een juridische blokkering: {held_text}.")
if report.total_rows == 0:
    st.caption("Vandaag vervalt niets.")

archived = retention.archive(db, user, today)
st.subheader("Gearchiveerde leerlingen")
if archived.empty:
    st.info("Er zijn geen vertrokken leerlingen.")
else:
    table = archived.assign(
        next_due=archived[[f"{k}_due_on" for k in retention.PUPIL_CLASSES]].min(axis=1),
        rows=archived[[f"{k}_rows" for k in (*retention.PUPIL_CLASSES, retention.IDENTITY)]].sum(axis=1),
        held=archived["held"].map({True: "ja", False: "nee"}),
    )
    columns = {
        "left_on": "Vertrokken op",
        "next_due": "Vervalt op",
        "identity_due_on": "Volledig weg op",
        "rows": "Rijen",
        "held": "Blokkering",
    }
    if "last_name" in table:
        table["name"] = table["first_name"] + " " + table["last_name"]
        columns = {"pupil_number": "Leerlingnummer", "name": "Naam", **columns}
    else:
        st.caption(
            "Gearchiveerde leerlingen zijn enkel voor de directie zichtbaar: hier staan alleen aantallen en data."
        )
    st.dataframe(
        dutch_dates(table, ["left_on", "next_due", "identity_due_on"])[list(columns)].rename(columns=columns),
        hide_index=True,
    )

# -- legal holds (directie) ---------------------------------------------------------------------
if may_hold:
    st.subheader("Juridische blokkering")
    st.caption(
        "Zolang een blokkering loopt (bv. een betwiste beslissing), wordt niets van de leerling verwijderd. "
        "De reden blijft bij de blokkering; de auditlog vermeldt enkel dat ze gezet of opgeheven werd."
    )
    holds = retention.legal_holds(db, user)
    if not holds.empty:
        st.dataframe(
            holds.assign(
                name=holds["first_name"] + " " + holds["last_name"], set_at=holds["set_at"].map(lambda t: t.date())
            )
            .pipe(dutch_dates, ["set_at"])[["pupil_number", "name", "reason", "set_by_name", "set_at"]]
            .rename(
                columns={
                    "pupil_number": "Leerlingnummer",
                    "name": "Naam",
                    "reason": "Reden",
                    "set_by_name": "Gezet door",
                    "set_at": "Gezet op",
                }
            ),
            hide_index=True,
        )
    open_ids = set(holds["pupil_id"])
    candidates = archived[~archived["pupil_id"].isin(open_ids)] if not archived.empty else archived
    labels = (
        {int(r.pupil_id): f"{r.first_name} {r.last_name} ({r.pupil_number})" for r in candidates.itertuples()}
        if "last_name" in candidates
        else {}
    )
    set_tab, release_tab = st.tabs(["Blokkering zetten", "Blokkering opheffen"])
    with set_tab:
        if not labels:
            st.caption("Geen gearchiveerde leerlingen zonder blokkering.")
        else:
            with st.form("hold_set"):
                target = st.selectbox("Leerling", list(labels), format_func=labels.get, key="hold_pupil")
                reason = st.text_input("Reden", key="hold_reason", max_chars=retention.MAX_REASON_LENGTH)
                if st.form_submit_button("Blokkering zetten", type="primary"):
                    try:
                        retention.set_legal_hold(db, user, target, reason)
                    except retention.RetentionError as exc:
                        st.error(str(exc))
                    else:
                        st.session_state["bewaring_flash"] = f"Blokkering gezet voor {labels[target]}."
                        st.rerun()
    with release_tab:
        if holds.empty:
            st.caption("Er loopt geen blokkering.")
        else:
            held = {int(r.pupil_id): f"{r.first_name} {r.last_name} ({r.pupil_number})" for r in holds.itertuples()}
            with st.form("hold_release"):
                target = st.selectbox("Leerling", list(held), format_func=held.get, key="release_pupil")
                reason = st.text_input("Reden", key="release_reason", max_chars=retention.MAX_REASON_LENGTH)
                if st.form_submit_button("Blokkering opheffen"):
                    try:
                        retention.release_legal_hold(db, user, target, reason)
                    except retention.RetentionError as exc:
                        st.error(str(exc))
                    else:
                        st.session_state["bewaring_flash"] = f"Blokkering opgeheven voor {held[target]}."
                        st.rerun()

# -- run log -------------------------------------------------------------------------------------
st.subheader("Uitgevoerde verwijderingen")
log = retention.runs(db, user)
if log.empty:
    st.caption("Nog geen run van `python -m pipelines retention`.")
else:
    st.dataframe(
        log.assign(
            run_at=log["run_at"].map(lambda t: t.strftime("%d/%m/%Y %H:%M")),
            dry_run=log["dry_run"].map({True: "proefdraai", False: "verwijderd"}),
        )
        .pipe(dutch_dates, ["reference_date"])[["run_at", "reference_date", "dry_run", "total_rows", "held_pupils"]]
        .rename(
            columns={
                "run_at": "Uitgevoerd",
                "reference_date": "Peildatum",
                "dry_run": "Soort",
                "total_rows": "Rijen",
                "held_pupils": "Geblokkeerd",
            }
        ),
        hide_index=True,
    )
