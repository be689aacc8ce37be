"""Importeren: roster and LVS result files, validated, with a report and undo of batches."""

import hashlib

import streamlit as st

from dossier.access import AccessDenied, can
from dossier.schoolyear import format_date
from pipelines import importer
from ui.context import page_context

db, user = page_context()
if not (can(user, "roster.import") or can(user, "results.import")):
    st.error("Je rol heeft geen toegang tot importeren.")
    st.stop()

FORMAT_LABELS = {
    "leerlingen": "Leerlingenlijst",
    "lvs-vclb": "LVS-VCLB",
    "avi": "AVI",
    "dmt": "DMT",
    "idp": "IDP",
    "welbevinden": "Welbevinden / betrokkenheid",
}
allowed = [f for f in importer.FORMATS if can(user, "roster.import" if f == "leerlingen" else "results.import")]

st.title("Importeren")
st.caption(
    "Eerst de leerlingenlijst, daarna de resultaatbestanden. CSV (`,` of `;`) of Excel (XLSX). "
    "Een bestand wordt helemaal of helemaal niet ingelezen: bij één fout wordt niets bewaard."
)

uploads = st.file_uploader("Bestanden", type=["csv", "xlsx", "txt"], accept_multiple_files=True, key="import_files")

files = [(upload, upload.getvalue()) for upload in uploads or []]
digests = [hashlib.sha256(data).hexdigest()[:12] for _, data in files]
# The dry run reads the whole file: its report is kept across reruns (a click, a widget) until the
# file, the chosen format or the imported data change; reports of files no longer shown are dropped.
state = importer.import_state(db)
checks = {
    key: report
    for key, report in st.session_state.get("import_checks", {}).items()
    if key[0] in digests and key[2] == state
}
st.session_state["import_checks"] = checks

for (upload, data), digest in zip(files, digests, strict=True):
    with st.container(border=True):
        st.markdown(f"#### {upload.name}")
        detected = importer.detect_format(data, upload.name)
        options = ["auto", *allowed]
        chosen = st.selectbox(
            "Formaat",
            options,
            format_func=lambda f, detected=detected: (
                f"automatisch ({FORMAT_LABELS.get(detected, 'niet herkend')})" if f == "auto" else FORMAT_LABELS[f]
            ),
            key=f"format_{digest}",
        )
        with st.expander("Voorbeeld van de eerste rijen"):
            st.dataframe(importer.preview(data, upload.name), hide_index=True)

        check_key = (digest, chosen, state)
        try:
            if check_key not in checks:
                checks[check_key] = importer.run_import(db, user, data, upload.name, format=chosen, dry_run=True)
            check = checks[check_key]
        except AccessDenied as exc:
            st.error(str(exc))
            continue

        cols = st.columns(4)
        cols[0].metric("Rijen", check.rows)
        cols[1].metric("Nieuw", check.inserted)
        cols[2].metric("Gewijzigd", check.updated)
        cols[3].metric("Ongewijzigd", check.unchanged)
        if check.errors:
            st.error(
                f"{len(check.errors)} fout(en): er wordt niets ingelezen. Verbeter het bestand en laad het opnieuw op."
            )
        if check.warnings:
            st.warning(f"{len(check.warnings)} waarschuwing(en). Je kan toch importeren.")
        if check.errors or check.warnings:
            st.dataframe(check.messages_frame(), hide_index=True)
        if check.errors:
            problems = check.problem_rows()
            if not problems.empty:
                st.download_button(
                    "Rijen met fouten downloaden (CSV)",
                    problems.to_csv(index=False, sep=";").encode("utf-8-sig"),
                    file_name=f"fouten-{upload.name.rsplit('.', 1)[0]}.csv",
                    mime="text/csv",
                    key=f"problems_{digest}",
                )

        done_key = f"imported_{digest}"
        if st.session_state.get(done_key):
            st.success(st.session_state[done_key])
        elif st.button(
            "Importeren", type="primary", disabled=bool(check.errors) or check.rows == 0, key=f"import_{digest}"
        ):
            bar = st.progress(0.0, text="Bezig met importeren…")
            result = importer.run_import(
                db,
                user,
                data,
                upload.name,
                format=chosen,
                progress=lambda share, text, bar=bar: bar.progress(min(max(share, 0.0), 1.0), text=text),
            )
            bar.empty()
            if result.status == "imported":
                st.session_state[done_key] = (
                    f"Ingelezen: {result.inserted} nieuw, {result.updated} gewijzigd, "
                    f"{result.unchanged} ongewijzigd (import {result.batch_id})."
                )
                st.rerun()
            else:
                st.error("Het bestand werd geweigerd; er is niets bewaard.")
                st.dataframe(result.messages_frame(), hide_index=True)

st.divider()
st.subheader("Eerdere imports")
batches = importer.list_batches(db, user)
if batches.empty:
    st.info("Nog geen imports.")
else:
    shown = batches.copy()
    shown["imported_at"] = shown["imported_at"].map(lambda t: t.strftime("%d/%m/%Y %H:%M"))
    shown["undone_at"] = shown["undone_at"].map(lambda t: format_date(t.date()) if t == t and t is not None else "")
    st.dataframe(
        shown.rename(
            columns={
                "id": "Nr.",
                "file_name": "Bestand",
                "format": "Formaat",
                "imported_at": "Wanneer",
                "user_name": "Door",
                "rows": "Rijen",
                "inserted": "Nieuw",
                "updated": "Gewijzigd",
                "unchanged": "Ongewijzigd",
                "undone_at": "Ongedaan gemaakt",
            }
        ),
        hide_index=True,
    )
    open_batches = batches[batches["undone_at"].isna()]
    if not open_batches.empty:
        with st.expander("Een import ongedaan maken"):
            labels = {
                int(r.id): f"{r.id} · {r.file_name} · {r.imported_at:%d/%m/%Y %H:%M}" for r in open_batches.itertuples()
            }
            target = st.selectbox("Import", list(labels), format_func=labels.get, key="undo_target")
            sure = st.checkbox(
                "Ik begrijp dat alle rijen van deze import terug naar hun vorige toestand gaan.", key="undo_sure"
            )
            if st.button("Ongedaan maken", disabled=not sure, key="undo_button"):
                try:
                    importer.undo_batch(db, user, target)
                except (importer.UndoRefused, AccessDenied) as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Import {target} is ongedaan gemaakt.")
                    st.rerun()
