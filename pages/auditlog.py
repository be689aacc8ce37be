"""Auditlog (directie, beheerder): who did what, when, with which pupil; filter, page, export CSV.

The app offers no way to change or remove entries; only the retention job removes old ones.
Every read of this page and every export is itself logged.
"""

from datetime import date

import plotly.express as px
import streamlit as st

from dossier import audit
from ui.context import page_context

db, user = page_context("audit.read")

st.title("Auditlog")
st.caption(
    "Wie wat deed, wanneer en bij welke leerling. Regels kunnen in de app niet gewijzigd of verwijderd worden; "
    "enkel de bewaartermijn ruimt oude regels op. Ook het lezen van deze log wordt gelogd."
)

pupil_options = audit.audit_pupils(db, user)
user_options = audit.audit_users(db, user)
pupil_names: dict[int | None, str] = {None: "Alle leerlingen"} | dict(
    zip(pupil_options["pupil_id"].astype(int), pupil_options["name"], strict=True)
)
user_names: dict[int | None, str] = {None: "Alle gebruikers"} | dict(
    zip(
        user_options["user_id"].astype(int),
        user_options["name"] + " (" + user_options["username"].fillna("") + ")",
        strict=True,
    )
)
action_names: dict[str | None, str] = {None: "Alle acties"} | {a: audit.ACTION_LABELS[a] for a in audit.ACTIONS}

cols = st.columns([2, 2, 2, 1, 1])
pupil_id = cols[0].selectbox("Leerling", list(pupil_names), format_func=pupil_names.get, key="audit_pupil")
user_id = cols[1].selectbox("Gebruiker", list(user_names), format_func=user_names.get, key="audit_user")
action = cols[2].selectbox("Actie", list(action_names), format_func=action_names.get, key="audit_action")
start: date | None = cols[3].date_input("Van", value=None, format="DD/MM/YYYY", key="audit_start")
end: date | None = cols[4].date_input("Tot en met", value=None, format="DD/MM/YYYY", key="audit_end")
filters = {"pupil_id": pupil_id, "user_id": user_id, "action": action, "start": start, "end": end}

page_size = audit.DEFAULT_PAGE_SIZE
page_number = int(st.session_state.get("audit_page", 1))
try:
    result = audit.query_audit(db, user, **filters, limit=page_size, offset=(page_number - 1) * page_size)
    if result.total and result.rows.empty:  # the filter narrowed below the page we were on
        page_number = 1
        st.session_state.pop("audit_page", None)
        result = audit.query_audit(db, user, **filters, limit=page_size, offset=0)
except audit.AuditQueryError as exc:
    st.error(str(exc))
    st.stop()

pages = max(1, -(-result.total // page_size))
st.markdown(f"**{result.total} regels** gevonden.")

if not result.activity.empty:
    figure = px.bar(
        result.activity,
        x="day",
        y="count",
        color="action",
        labels={"day": "Dag", "count": "Aantal", "action": "Actie"},
        height=260,
    )
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend_title_text="Actie")
    figure.update_xaxes(tickformat="%d/%m/%Y")
    st.plotly_chart(figure, key="audit_activity")

st.dataframe(
    result.rows.rename(columns=audit.AUDIT_HEADERS),
    hide_index=True,
    column_config={"Tijdstip": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm")},
)

left, right = st.columns([1, 3])
with left:
    st.number_input(f"Pagina (van {pages})", min_value=1, max_value=pages, value=page_number, key="audit_page")
with right:
    if result.total > audit.MAX_EXPORT_ROWS:
        st.warning(f"Voor een CSV-export kies je een kleinere selectie (hoogstens {audit.MAX_EXPORT_ROWS} regels).")
    elif result.total:
        # A callable: the export (and its audit row) happens only when the button is clicked.
        st.download_button(
            "CSV downloaden",
            data=lambda: audit.export_audit(db, user, **filters),
            file_name=f"auditlog-{date.today():%Y%m%d}.csv",
            mime="text/csv",
            icon=":material/download:",
            key="audit_csv",
        )
