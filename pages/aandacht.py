"""Aandachtslijst: which pupils need attention and why, by transparent rules.

Every signal says which rule put the pupil here, with the numbers, and shows the data behind
it. The zorgteam and directie dismiss a signal with a reason (audited; it returns when the data
change) and switch rules on or off or change their thresholds. `?klas=ID`, `?regel=ID` and
`?leerling=ID` narrow the list and make it shareable.
"""

from datetime import date

import streamlit as st

from dossier import dashboards as dash
from dossier import exports, pupils, signals
from dossier.access import AccessDenied, can
from dossier.schoolyear import current_school_year, format_date
from ui.context import page_context
from ui.url_state import url_select
from ui.widgets import plain, query_int

db, user = page_context("dashboard.class")
today = date.today()
year = current_school_year()
# The same roles the core allows to manage the list: the ones that write care data.
manage = can(user, "care.write")

st.title("Aandachtslijst")
notice = st.session_state.pop("att_notice", None)
if notice:
    st.success(notice)

# -- selection -----------------------------------------------------------------------------
classes = pupils.list_classes(db, user, year)
names: dict[int | None, str] = {None: "Alle klassen"} | dict(
    zip(classes["id"].astype(int), classes["name"], strict=True)
)
linked = query_int("klas")
if linked is not None and linked not in names:
    # A class of another school year, opened from its dashboard: allowed when in scope.
    try:
        info = dash.class_info(db, user, linked)
        names[linked] = f"{info['name']} ({info['school_year']})"
    except AccessDenied as exc:
        st.error(str(exc))
        st.stop()
rule_titles: dict[str | None, str] = {None: "Alle regels"} | {r.id: r.title for r in signals.RULES}
left, middle, right = st.columns([1, 1, 1])
with left:
    class_id = url_select("Klas", list(names), param="klas", key="att_class", format_func=names.get)
with middle:
    rule_id = url_select("Regel", list(rule_titles), param="regel", key="att_rule", format_func=rule_titles.get)
with right:
    show_dismissed = st.checkbox("Ook afgewezen signalen tonen", key="att_dismissed")

listed = signals.attention_list(db, user, class_id, today, include_dismissed=show_dismissed)
if rule_id is not None:
    listed = listed[listed["rule_id"] == rule_id]
pupil_id = query_int("leerling")
if pupil_id is not None:
    listed = listed[listed["pupil_id"] == pupil_id]
    if st.button("Alle leerlingen tonen", key="att_all_pupils", icon=":material/filter_alt_off:"):
        st.query_params.pop("leerling", None)
        st.rerun()
listed = listed.reset_index(drop=True)

scope_label = names[class_id] if class_id is not None else f"alle klassen binnen jouw bereik ({year})"
st.caption(
    f"{len(listed)} signa{'al' if len(listed) == 1 else 'len'} voor {listed['pupil_id'].nunique()}"
    f" leerling{'' if listed['pupil_id'].nunique() == 1 else 'en'} · {scope_label}"
    + ("" if manage else " · enkel het zorgteam en de directie kunnen signalen afwijzen en regels aanpassen")
)

# -- the list ------------------------------------------------------------------------------
table_key = f"att_table_{st.session_state.get('att_generation', 0)}"
selected = None
if listed.empty:
    st.info("Geen signalen voor deze selectie.")
else:
    table = listed.assign(Leerling=listed["first_name"] + " " + listed["last_name"])
    table = table.rename(columns={"class_name": "Klas", "rule_title": "Regel", "reason": "Waarom"})
    columns = ["Leerling", "Klas", "Regel", "Waarom"]
    if show_dismissed:
        table["Afgewezen"] = listed["dismissed"].map({True: "ja", False: ""})
        columns.append("Afgewezen")
    st.caption("Klik op een signaal voor de gegevens erachter.")
    event = st.dataframe(
        table[columns],
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
        column_config={"Waarom": st.column_config.TextColumn(width="large")},
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        selected = listed.iloc[rows[0]]

if selected is not None:
    with st.container(border=True):
        st.subheader(f"{selected['first_name']} {selected['last_name']} · {selected['rule_title']}")
        st.markdown(plain(selected["reason"]))
        st.markdown("**Gegevens achter dit signaal**")
        st.dataframe(exports.signal_records(selected["data"]), hide_index=True)
        st.page_link(
            "pages/leerling.py",
            label="Dossier openen",
            icon=":material/folder_open:",
            query_params={"leerling": int(selected["pupil_id"])},
        )
        if bool(selected["dismissed"]):
            when = format_date(selected["dismissed_at"]) if selected["dismissed_at"] is not None else ""
            st.info(f"Afgewezen door {selected['dismissed_by']} op {when}: {selected['dismissed_reason']}")
        elif manage:
            with st.form(key=f"dismiss_{selected['fingerprint']}"):
                reason = st.text_area(
                    "Reden om dit signaal af te wijzen",
                    placeholder="bv. besproken op het MDO van 12/03, opvolging via de zorgleerkracht",
                    max_chars=signals.MAX_REASON_LENGTH,
                )
                st.caption("Het signaal komt terug zodra de gegevens erachter veranderen.")
                if st.form_submit_button("Signaal afwijzen", icon=":material/do_not_disturb_on:"):
                    try:
                        signals.dismiss_signal(
                            db,
                            user,
                            int(selected["pupil_id"]),
                            selected["rule_id"],
                            selected["fingerprint"],
                            reason,
                            today=today,
                            class_id=class_id,
                        )
                    except (signals.SignalError, AccessDenied) as exc:
                        st.error(str(exc))
                    else:
                        st.session_state["att_notice"] = "Signaal afgewezen. De reden staat in het auditlog."
                        st.session_state["att_generation"] = st.session_state.get("att_generation", 0) + 1
                        st.rerun()

# -- export --------------------------------------------------------------------------------
rules = signals.list_rules(db, user)
if not listed.empty:
    st.download_button(
        "Aandachtslijst downloaden (XLSX)",
        # Built on the click (on Streamlit's own thread), not on every rerun of the page.
        lambda: exports.attention_list_xlsx(listed, rules, scope_label=scope_label, made_by=user.name, made_on=today),
        file_name=f"aandachtslijst-{today.isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click=exports.record_export,
        args=(db, user, "aandachtslijst", f"{scope_label}, {len(listed)} signalen"),
        key="att_export",
    )

# -- rules ---------------------------------------------------------------------------------
st.subheader("Regels")
shown_rules = exports.rules_table(rules)
shown_rules["Aan"] = shown_rules["Aan"].map({True: "aan", False: "uit"})
shown_rules["Gewijzigd op"] = rules["changed_at"].map(lambda d: format_date(d) if d is not None and d == d else "")
st.dataframe(shown_rules.fillna(""), hide_index=True)
if manage:
    for rule in rules.itertuples():
        with st.expander(f"Instellen: {rule.title}"), st.form(key=f"rule_{rule.rule_id}"):
            enabled = st.toggle("Regel staat aan", value=bool(rule.enabled))
            values = {}
            for spec in rule.threshold_specs:
                current = rule.thresholds[spec.name]
                if spec.kind == "choice":
                    values[spec.name] = st.selectbox(spec.label, spec.choices, index=spec.choices.index(current))
                elif spec.kind == "int":
                    values[spec.name] = st.number_input(
                        spec.label, min_value=int(spec.minimum), max_value=int(spec.maximum), value=int(current), step=1
                    )
                else:
                    values[spec.name] = st.number_input(
                        spec.label,
                        min_value=float(spec.minimum),
                        max_value=float(spec.maximum),
                        value=float(current),
                        step=float(spec.step or 0.5),
                    )
            if st.form_submit_button("Bewaren"):
                try:
                    signals.set_rule(db, user, rule.rule_id, enabled, values)
                except (signals.SignalError, AccessDenied) as exc:
                    st.error(str(exc))
                else:
                    st.session_state["att_notice"] = f"Regel '{rule.title}' bewaard."
                    st.rerun()
