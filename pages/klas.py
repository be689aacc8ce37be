"""Klasdashboard: one class in one school year, for its teachers, the zorgteam, directie and CLB.

The selections (klas, schooljaar, domein, van, tot) live in the URL, so a copied link opens the
same view; the core refuses a class outside the user's scope whatever the link says.
"""

from datetime import date

import streamlit as st

from dossier import dashboard_charts as charts
from dossier import dashboards as dash
from dossier import exports, pupils, signals
from dossier.access import AccessDenied, can
from dossier.instruments import LVS_DOMAINS
from dossier.palette import ZONE_COLOURS
from dossier.schoolyear import current_school_year
from dossier.timeline import DOMAIN_LABELS
from ui.context import page_context
from ui.url_state import changed_from_outside, url_select
from ui.widgets import dutch_dates, query_int

db, user = page_context("dashboard.class")
today = date.today()


def zone_cell(value: object) -> str:
    if value not in ZONE_COLOURS:
        return ""
    text = "#FFFFFF" if value in ("A", "E") else "#000000"
    return f"background-color: {ZONE_COLOURS[value]}; color: {text}; text-align: center"


def open_dossier_on_select(event, pupil_ids: list[int]) -> None:
    picked = event.selection.rows if event is not None else []
    if picked:
        st.switch_page("pages/leerling.py", query_params={"leerling": int(pupil_ids[picked[0]])})


# -- which class ---------------------------------------------------------------------------
# A link to a class (from the school view, a shared URL) brings its school year along.
linked = query_int("klas")
if linked is not None and changed_from_outside("klas", "klas_class"):
    try:
        st.query_params["schooljaar"] = dash.class_info(db, user, linked)["school_year"]
    except AccessDenied as exc:
        st.title("Klasdashboard")
        st.error(str(exc))
        st.stop()

years = pupils.school_years(db) or [current_school_year()]
left, middle, right = st.columns([1, 1, 2])
with left:
    year = url_select(
        "Schooljaar",
        years,
        param="schooljaar",
        key="klas_year",
        default=current_school_year() if current_school_year() in years else years[0],
    )
classes = pupils.list_classes(db, user, year)
names = dict(zip(classes["id"].astype(int), classes["name"], strict=True))
with middle:
    class_id = url_select("Klas", list(names), param="klas", key="klas_class", format_func=names.get)
with right:
    domain = url_select(
        "Domein",
        [None, *LVS_DOMAINS],
        param="domein",
        key="klas_domain",
        format_func=lambda d: "Alle domeinen" if d is None else DOMAIN_LABELS[d],
    )
if class_id is None:
    st.title("Klasdashboard")
    st.info(f"Geen klassen in {year} binnen jouw bereik. Kies een ander schooljaar.")
    st.stop()

try:
    # One read of the class's rows for every figure below; the scope is checked once, here.
    data = dash.read_class(db, user, class_id, today=today)
except AccessDenied as exc:
    st.title("Klasdashboard")
    st.error(str(exc))
    st.stop()
info = data.info
if st.session_state.get("klas_viewed") != class_id:
    dash.record_view(db, user, "klas", class_id)
    st.session_state["klas_viewed"] = class_id

overview = dash.overview_from(data)
members = pupils.list_pupils(db, user, year, class_id=class_id, include_left=False)
st.title(f"Klas {info['name']} · {info['school_year']}")
st.caption(f"{info['level']}, leerjaar {info['grade']} · {len(members)} leerlingen ingeschreven")

links = st.columns(3)
links[0].page_link(
    "pages/aandacht.py", label="Aandachtslijst van deze klas", icon=":material/flag:", query_params={"klas": class_id}
)
if can(user, "dashboard.school"):
    links[1].page_link("pages/school.py", label="Schoolbeeld", icon=":material/monitoring:")

# -- attention list ------------------------------------------------------------------------
attention = signals.attention_list(db, user, class_id, today)
flagged, count = attention["pupil_id"].nunique(), len(attention)
st.subheader(
    f"Aandacht nodig ({flagged} leerling{'' if flagged == 1 else 'en'}, {count} signa{'al' if count == 1 else 'len'})"
)
if attention.empty:
    st.caption("Geen signalen voor deze klas volgens de regels van de aandachtslijst.")
else:
    table = attention.assign(leerling=attention["first_name"] + " " + attention["last_name"])
    table = table[["leerling", "rule_title", "reason"]].rename(
        columns={"leerling": "Leerling", "rule_title": "Regel", "reason": "Waarom"}
    )
    st.caption(
        "Klik op een rij om het dossier van de leerling te openen; wijs met de muis een reden aan voor de hele tekst."
    )
    event = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="klas_attention",
        column_config={"Waarom": st.column_config.TextColumn(width="large")},
    )
    open_dossier_on_select(event, attention["pupil_id"].tolist())

# -- group overview ------------------------------------------------------------------------
st.subheader("Groepsoverzicht")
st.caption("Klik op de naam van een leerling, of op een vakje in de rij, om het dossier te openen.")
# A selection keeps the signed-in session (a link would load a new page and ask to sign in again);
# the dossier page and the core check access to the chosen pupil themselves.
heatmap = st.plotly_chart(
    charts.zone_heatmap(overview, domain), key="klas_heatmap", on_select="rerun", selection_mode="points"
)
clicked = charts.pupil_from_selection(heatmap)
if clicked is not None and clicked in set(overview["pupil_id"].astype(int)):
    st.switch_page("pages/leerling.py", query_params={"leerling": clicked})
wide = exports.overview_wide(overview, domain=domain)
if not wide.empty:
    shown = wide.drop(columns=["pupil_id"])
    zone_cols = exports.zone_columns(shown)
    st.caption("Zone per leerling en toetsmoment. Klik op een leerling om het dossier te openen.")
    event = st.dataframe(
        shown.style.map(zone_cell, subset=zone_cols),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="klas_overview_table",
    )
    open_dossier_on_select(event, wide["pupil_id"].tolist())

# -- zone distribution ---------------------------------------------------------------------
distribution = dash.zone_distribution_from(data)
if domain is not None:
    distribution = distribution[distribution["domain"] == domain]
st.plotly_chart(charts.zone_distribution_chart(distribution), key="klas_distribution")

# -- growth --------------------------------------------------------------------------------
st.subheader("Groei tussen toetsmomenten")
moments = (
    overview[["school_year", "moment", "moment_order"]]
    .dropna()
    .drop_duplicates()
    .sort_values(["school_year", "moment_order"])
)
pairs = [(str(y), str(m)) for y, m in zip(moments["school_year"], moments["moment"], strict=True)]
if len(pairs) < 2:
    st.caption("Groei verschijnt zodra de klas op twee toetsmomenten getest is.")
else:
    first, second = st.columns(2)
    label = lambda p: f"{p[1]} {p[0]}"  # noqa: E731
    to_url = lambda p: f"{p[1]}-{p[0]}"  # noqa: E731
    with first:
        start = url_select(
            "Van", pairs[:-1], param="van", key="klas_from", format_func=label, to_url=to_url, default=pairs[-2]
        )
    later = pairs[pairs.index(start) + 1 :]
    with second:
        end = url_select("Tot", later, param="tot", key="klas_to", format_func=label, to_url=to_url, default=later[-1])
    growth = dash.growth_from(data, start, end)
    st.plotly_chart(charts.growth_chart(growth, domain), key="klas_growth")
    spread = dash.growth_distribution_from(data, start, end)
    if domain is not None:
        spread = spread[spread["domain"] == domain]
    st.plotly_chart(charts.growth_distribution_chart(spread), key="klas_growth_spread")

# -- reading and wellbeing -----------------------------------------------------------------
avi = dash.avi_from(data)
dmt = dash.dmt_from(data)
wellbeing = dash.wellbeing_from(data)
if info["level"] != "kleuter" or not avi.empty or not dmt.empty:
    st.subheader("Lezen: AVI en DMT")
    st.plotly_chart(charts.avi_chart(avi), key="klas_avi")
    st.plotly_chart(charts.dmt_chart(dmt), key="klas_dmt")
if info["level"] == "kleuter" or not wellbeing.empty:
    st.subheader("Welbevinden en betrokkenheid")
    st.plotly_chart(charts.wellbeing_chart(wellbeing), key="klas_wellbeing")

# -- care ----------------------------------------------------------------------------------
care = None
if can(user, "care.read"):
    care = dash.care_from(data)
    st.subheader("Zorg in de klas")
    cols = st.columns(4)
    for phase in (1, 2, 3):
        cols[phase - 1].metric(f"Fase {phase}", int((care["phase"] == phase).sum()))
    cols[3].metric("Actieve maatregelen", int(care["active_measures"].sum()))
    listed = care[(care["phase"] > 0) | (care["active_measures"] > 0)]
    if listed.empty:
        st.caption("Geen leerlingen met een zorgfase of een lopende maatregel.")
    else:
        table = dutch_dates(exports.care_table(listed), ["Fase sinds", "Volgende evaluatie"])
        event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="klas_care")
        open_dossier_on_select(event, listed["pupil_id"].tolist())

# -- export --------------------------------------------------------------------------------
st.subheader("Exporteren")


def class_workbook() -> bytes:
    # Built when the button is clicked (Streamlit calls it on its own thread), not on every rerun:
    # the workbook takes ~0.1 s, longer than everything else on this page.
    return exports.class_overview_xlsx(
        info,
        overview,
        dash.zone_distribution_from(data, export=True),
        care,
        made_by=user.name,
        made_on=today,
    )


st.download_button(
    "Klasoverzicht downloaden (XLSX)",
    class_workbook,
    file_name=f"klasoverzicht-{info['name']}-{info['school_year']}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    on_click=exports.record_export,
    args=(db, user, "klasoverzicht", f"klas {info['name']} ({info['school_year']})"),
    key="klas_export",
)
st.caption("Grafieken bewaar je als afbeelding met het fototoestel-icoon boven elke grafiek.")
