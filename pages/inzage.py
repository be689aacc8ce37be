"""Inzage en overdracht: the parents' copy of a dossier and the transfer package for a new school.

The zorgteam prepares (explanation, inspection, objection, preview); the directie makes the
copy and exports the package. Rules and audit live in dossier/inzage.py and dossier/overdracht.py;
this page only collects input and shows what the core decided. A preview is read (and audited)
once per pupil and choice, not on every rerun.
"""

from datetime import date

import pandas as pd
import streamlit as st

from dossier import inzage, labels, overdracht, pupils
from dossier.access import AccessDenied, can
from dossier.schoolyear import format_date
from ui.context import page_context
from ui.widgets import plain, pupil_search

db, user = page_context("export.prepare")
may_export = can(user, "export.approve")
reads_directie = can(user, "registrations.directie.read")

st.title("Inzage en overdracht")

# -- which pupil ---------------------------------------------------------------------------
wanted = pupil_search(db, user, "disclosure")
if wanted is None:
    st.info("Zoek een leerling om de inzage of de overdracht voor te bereiden.")
    st.stop()
pupil_id = wanted


def changed() -> None:
    """A write happened: previews read again on the next run."""
    st.session_state["disclosure_version"] = st.session_state.get("disclosure_version", 0) + 1
    st.session_state.pop("inzage_pdf", None)
    st.session_state.pop("overdracht_package", None)


def cached(name: str, key: tuple, build):
    """One read (and one audit entry) per pupil, choice and write, not one per rerun."""
    full_key = (*key, st.session_state.get("disclosure_version", 0))
    hit = st.session_state.get(name)
    if hit is None or hit[0] != full_key:
        hit = (full_key, build())
        st.session_state[name] = hit
    return hit[1]


def registration_table(frame: pd.DataFrame, with_reason: bool = False) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "Datum": [format_date(pd.Timestamp(d).date()) for d in frame["fact_date"]],
            "Soort": [labels.REGISTRATION_TYPES.get(t, t) for t in frame["type"]],
            "Feiten": [str(f)[:90] for f in frame["facts"].fillna("")],
        }
    )
    if with_reason:
        table["Waarom niet"] = frame["reason"].tolist()
    return table


def show_selection(selection, directie_hidden: bool) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Gaat mee: {len(selection.included)} registraties**")
        if not selection.included.empty:
            st.dataframe(registration_table(selection.included), hide_index=True, width="stretch")
    with right:
        st.markdown(f"**Blijft achter: {len(selection.left_out)} registraties**")
        if not selection.left_out.empty:
            st.dataframe(registration_table(selection.left_out, with_reason=True), hide_index=True, width="stretch")
    if directie_hidden:
        st.caption("Registraties met zichtbaarheid directie zie je hier niet; de directie ziet ze bij de export.")


try:
    pupil = pupils.get_pupil(db, user, pupil_id)
except AccessDenied as exc:
    st.error(str(exc))
    st.stop()
st.subheader(f"{plain(pupil['first_name'])} {plain(pupil['last_name'])}")
st.caption(f"leerlingnummer {pupil.get('pupil_number', '')}")

inzage_tab, overdracht_tab = st.tabs(["Inzage door de ouders", "Overdracht naar een andere school"])

# -- inzage --------------------------------------------------------------------------------
with inzage_tab:
    st.caption(
        "Ouders vragen eerst inzage, krijgen uitleg en kunnen dan een kopie krijgen. De kopie bevat de huidige, "
        "niet-ingetrokken registraties, zonder wat vertrouwelijk is ten aanzien van derden."
    )
    with st.form("explanation_form"):
        who_col, when_col = st.columns([2, 1])
        explained_by = who_col.text_input("Wie gaf de ouders toelichting?", value=user.name, key="explained_by")
        explained_on = when_col.date_input(
            "Op", value="today", max_value=date.today(), format="DD/MM/YYYY", key="explained_on"
        )
        if st.form_submit_button("Toelichting registreren"):
            try:
                inzage.record_explanation(db, user, pupil_id, explained_by, explained_on)
            except (inzage.DisclosureError, AccessDenied) as exc:
                st.error(str(exc))
            else:
                changed()
                st.success("Toelichting geregistreerd.")
    include_directie_inzage = reads_directie and st.checkbox(
        "Ook registraties met zichtbaarheid directie opnemen (beslissing van de directie)", key="inzage_directie"
    )
    try:
        preview = cached(
            "inzage_preview",
            (pupil_id, include_directie_inzage),
            lambda: inzage.prepare_inzage(db, user, pupil_id, include_directie=include_directie_inzage),
        )
    except AccessDenied as exc:
        st.error(str(exc))
        st.stop()
    if preview.explanation:
        st.markdown(
            f"**Laatste toelichting:** {plain(preview.explanation['explained_by'])} "
            f"op {format_date(preview.explanation['explained_on'])}"
        )
    else:
        st.warning(inzage.NO_EXPLANATION)
    show_selection(preview.selection, preview.directie_hidden)
    if not may_export:
        st.info("De directie maakt de kopie voor de ouders (export).")
    elif preview.explanation:
        if st.button("Inzage-PDF maken", key="make_inzage", type="primary"):
            try:
                made = inzage.export_inzage(db, user, pupil_id, include_directie=include_directie_inzage)
            except (inzage.DisclosureError, AccessDenied) as exc:
                st.error(str(exc))
            else:
                st.session_state["inzage_pdf"] = (pupil_id, made)
        made = st.session_state.get("inzage_pdf")
        if made and made[0] == pupil_id:
            st.success(f"Inzage-PDF gemaakt met {made[1].registrations} registraties.")
            st.download_button(
                "Download inzage-PDF",
                data=made[1].pdf,
                file_name=made[1].file_name,
                mime="application/pdf",
                key="download_inzage",
            )

# -- overdracht ----------------------------------------------------------------------------
with overdracht_tab:
    window_days = overdracht.objection_window_days(db)
    st.caption(
        "Bij een schoolverandering gaan enkel overdraagbare gegevens over de schoolloopbaan mee. De verslagen GC, "
        f"IAC en OV4 gaan altijd mee, leefregels nooit. Ouders kunnen binnen {window_days} kalenderdagen na hun "
        "inzage bezwaar maken; dan gaan enkel de verplichte verslagen mee."
    )
    if may_export:
        with st.expander("Bezwaartermijn instellen"):
            new_days = st.number_input(
                "Kalenderdagen", min_value=0, max_value=overdracht.MAX_WINDOW_DAYS, value=window_days, key="window_days"
            )
            if st.button("Termijn bewaren", key="save_window"):
                try:
                    overdracht.set_objection_window_days(db, user, new_days)
                except (inzage.DisclosureError, AccessDenied) as exc:
                    st.error(str(exc))
                else:
                    changed()
                    st.success(f"Bezwaartermijn: {int(new_days)} kalenderdagen (geldt voor nieuwe inzages).")
    inspect_col, object_col = st.columns(2)
    with inspect_col, st.form("inspection_form"):
        inspected_on = st.date_input(
            "Ouders zagen het pakket op", value="today", max_value=date.today(), format="DD/MM/YYYY", key="inspected_on"
        )
        if st.form_submit_button("Inzage door de ouders registreren"):
            try:
                overdracht.record_inspection(db, user, pupil_id, inspected_on)
            except (inzage.DisclosureError, AccessDenied) as exc:
                st.error(str(exc))
            else:
                changed()
                st.success("Inzage geregistreerd; de bezwaartermijn loopt.")
    with object_col, st.form("objection_form"):
        objection = st.text_area("Bezwaar van de ouders", key="objection_text", height=80)
        objection_on = st.date_input(
            "Bezwaar op", value="today", max_value=date.today(), format="DD/MM/YYYY", key="objection_on"
        )
        if st.form_submit_button("Bezwaar registreren"):
            try:
                overdracht.record_objection(db, user, pupil_id, objection, objection_on)
            except (inzage.DisclosureError, AccessDenied) as exc:
                st.error(str(exc))
            else:
                changed()
                st.success("Bezwaar geregistreerd: enkel de verplichte verslagen mogen nog mee.")

    record = overdracht.current_record(db, user, pupil_id)
    window = overdracht.window_state(record, date.today())
    (st.success if window.full_allowed else st.warning)(window.message)
    mandatory_only = st.checkbox(
        "Enkel de verplichte verslagen (GC, IAC, OV4)", value=not window.full_allowed, key="mandatory_only"
    )
    include_directie_transfer = reads_directie and st.checkbox(
        "Ook overdraagbare registraties met zichtbaarheid directie (beslissing van de directie)",
        key="overdracht_directie",
    )
    try:
        plan = cached(
            "overdracht_preview",
            (pupil_id, mandatory_only, include_directie_transfer),
            lambda: overdracht.prepare_overdracht(
                db, user, pupil_id, mandatory_only=mandatory_only, include_directie=include_directie_transfer
            ),
        )
    except AccessDenied as exc:
        st.error(str(exc))
        st.stop()
    show_selection(plan.selection, plan.directie_hidden)
    if mandatory_only:
        st.caption(
            "Klasgeschiedenis, zorgfasen, maatregelen en resultaten blijven achter: enkel de verplichte verslagen."
        )
    else:
        content = plan.content
        results = sum(len(f) for f in content.results.values())
        st.caption(
            f"Ook mee: klasgeschiedenis, {len(content.phases)} zorgfasen, {len(content.measures)} maatregelen, "
            f"{results} resultaten (LVS-VCLB, AVI, DMT, IDP). Welbevinden en betrokkenheid blijven achter."
        )
    if plan.blocked:
        st.warning(plan.blocked)
    if not may_export:
        st.info("De directie keurt het pakket goed en exporteert het.")
    else:
        if st.button("Goedkeuren en exporteren", key="export_overdracht", type="primary", disabled=bool(plan.blocked)):
            try:
                package = overdracht.export_overdracht(
                    db, user, pupil_id, mandatory_only=mandatory_only, include_directie=include_directie_transfer
                )
            except (inzage.DisclosureError, AccessDenied) as exc:
                st.error(str(exc))
            else:
                st.session_state["overdracht_package"] = (pupil_id, package)
        package = st.session_state.get("overdracht_package")
        if package and package[0] == pupil_id:
            package = package[1]
            st.success(f"Overdrachtspakket goedgekeurd: {package.registrations} registraties.")
            pdf_col, json_col = st.columns(2)
            pdf_col.download_button(
                "Download PDF", data=package.pdf, file_name=f"{package.stem}.pdf", mime="application/pdf", key="dl_pdf"
            )
            json_col.download_button(
                "Download JSON",
                data=package.json_bytes,
                file_name=f"{package.stem}.json",
                mime="application/json",
                key="dl_json",
            )
            for attachment in package.attachments:
                st.download_button(
                    f"Bijlage {attachment.file_name}",
                    data=attachment.content,
                    file_name=attachment.file_name,
                    mime="application/pdf",
                    key=f"dl_att_{attachment.registration_id}",
                )
    history = overdracht.list_records(db, user, pupil_id)
    if not history.empty:
        with st.expander("Eerdere inzages, bezwaren en exports"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "Ouders zagen het op": [format_date(d) if pd.notna(d) else "" for d in history["inspected_on"]],
                        "Bezwaar op": [format_date(d) if pd.notna(d) else "" for d in history["objection_on"]],
                        "Geëxporteerd": [
                            pd.Timestamp(d).strftime("%d/%m/%Y %H:%M") if pd.notna(d) else ""
                            for d in history["exported_at"]
                        ],
                        "Door": history["approved_by_name"].fillna(""),
                        "Enkel verplicht": history["mandatory_only"].map({True: "ja", False: "nee"}).fillna(""),
                    }
                ),
                hide_index=True,
                width="stretch",
            )
