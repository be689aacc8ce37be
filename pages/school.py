"""Schoolbeeld (directie, zorgteam): what slipped since last year, classes, trends, cohorts, care phases.

Every aggregate shows its n. The selections (schooljaar, domein, moment, cohorte) live in the URL.
A click on a class opens its dashboard.
"""

from datetime import date

import pandas as pd
import streamlit as st

from dossier import dashboard_charts as charts
from dossier import dashboards as dash
from dossier import exports, pupils
from dossier.instruments import LVS_DOMAINS, MOMENTS
from dossier.schoolyear import current_school_year, shift
from dossier.timeline import DOMAIN_LABELS
from ui.context import page_context
from ui.url_state import url_select

db, user = page_context("dashboard.school")
today = date.today()

if not st.session_state.get("school_viewed"):
    dash.record_view(db, user, "school")
    st.session_state["school_viewed"] = True

st.title("Schoolbeeld")
trends = dash.school_trends(db, user)
years = pupils.school_years(db) or [current_school_year()]
with_results = [y for y in years if y in set(trends["school_year"])]
left, middle, right = st.columns(3)
with left:
    year = url_select(
        "Schooljaar",
        years,
        param="schooljaar",
        key="school_year",
        default=with_results[0] if with_results else years[0],
    )
latest = dash.latest_moment(trends, year)
with middle:
    moment = url_select("Toetsmoment", list(MOMENTS), param="moment", key="school_moment", default=latest)
with right:
    domain = url_select("Domein", list(LVS_DOMAINS), param="domein", key="school_domain", format_func=DOMAIN_LABELS.get)

SLIP_HELP = (
    "Rood: achteruitgang, d.w.z. het aandeel in zone D en E steeg met minstens"
    f" {100 * dash.SLIP_SHARE:.0f} procentpunten of de mediaan daalde met minstens {dash.SLIP_MEDIAN:g}"
    " percentielpunten. Groen: omgekeerd."
)


def pct(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{100 * float(value):.0f}%"


def number(value: object, signed: bool = False) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):+.0f}" if signed else f"{float(value):.0f}"


def pp(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{100 * float(value):+.0f} pp"


def change_rows(frame: pd.DataFrame, first: dict[str, str]) -> pd.DataFrame:
    """A change frame as display text; hidden groups say so."""
    rows = []
    for r in frame.to_dict("records"):
        row = {label: r[col] for col, label in first.items()}
        row["Domein"] = DOMAIN_LABELS.get(r["domain"], r["domain"])
        if r["suppressed"]:
            row.update({"n": charts.HIDDEN, "D+E": "", "D+E vorig jaar": "", "Verschil D+E": "", "Mediaan": ""})
            row.update({"Mediaan vorig jaar": "", "Verschil mediaan": ""})
        else:
            row.update(
                {
                    "n": f"{int(r['n'])}"
                    + (f" (vorig jaar {int(r['n_before'])})" if pd.notna(r.get("n_before")) else ""),
                    "D+E": pct(r["share_d_e"]),
                    "D+E vorig jaar": pct(r["share_d_e_before"]),
                    "Verschil D+E": pp(r["change_share_d_e"]),
                    "Mediaan": number(r["median_percentile"]),
                    "Mediaan vorig jaar": number(r["median_percentile_before"]),
                    "Verschil mediaan": number(r["change_median"], signed=True),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def highlight(frame: pd.DataFrame, source: pd.DataFrame):
    """Red rows for what slipped, green for what clearly improved."""
    improved = (source["change_share_d_e"].astype("Float64").round(9) <= -dash.SLIP_SHARE) | (
        source["change_median"].astype("Float64").round(9) >= dash.SLIP_MEDIAN
    )
    improved = improved.fillna(False).astype(bool) & ~source["slipped"].astype(bool)
    colours = [
        "background-color: #F8D0C0" if s else ("background-color: #D3ECDF" if i else "")
        for s, i in zip(source["slipped"], improved, strict=True)
    ]
    return frame.style.apply(lambda _row: [colours[_row.name]] * len(_row), axis=1)


# -- what changed since last year ----------------------------------------------------------
st.subheader(f"Sinds vorig schooljaar: {moment} {year} tegenover {moment} {shift(year, -1)}")
if latest is None:
    st.info(f"Nog geen LVS-resultaten in {year}. Kies een ander schooljaar.")
grades = dash.year_over_year(trends, year, moment)
if grades.empty:
    st.caption(f"Geen resultaten op {moment} {year}.")
else:
    slipped = grades[grades["slipped"]]
    st.caption(
        f"Per leerjaar en domein (andere leerlingen: dit jaar L3 tegenover vorig jaar L3). {SLIP_HELP}"
        + (f" Achteruit: {len(slipped)} van {len(grades)} combinaties." if not slipped.empty else "")
    )
    shown = change_rows(grades, {"grade": "Leerjaar"})
    st.dataframe(highlight(shown, grades), hide_index=True, key="school_grades")

st.markdown(f"**Per klas, dezelfde leerlingen een jaar eerder** ({moment} {year} tegenover {moment} {shift(year, -1)})")
classes = dash.class_changes(db, user, year, moment)
if classes.empty:
    st.caption("Geen leerlingen met een resultaat op beide momenten.")
else:
    st.caption(f"{SLIP_HELP} Klik op een klas om het klasdashboard te openen.")
    shown = change_rows(classes, {"class_name": "Klas"})
    event = st.dataframe(
        highlight(shown, classes), hide_index=True, on_select="rerun", selection_mode="single-row", key="school_classes"
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        row = classes.iloc[picked[0]]
        st.switch_page("pages/klas.py", query_params={"klas": int(row["class_id"]), "domein": row["domain"]})
    slipped_classes = classes[classes["slipped"]].sort_values("change_median")
    if slipped_classes.empty:
        st.caption("Geen klas ging achteruit in een domein.")
    else:
        st.markdown("**Achteruit sinds vorig jaar** (klik om de klas te openen)")
        cols = st.columns(2)
        for i, r in enumerate(slipped_classes.to_dict("records")):
            cols[i % 2].page_link(
                "pages/klas.py",
                label=(
                    f"{r['class_name']}: {DOMAIN_LABELS[r['domain']]} · D+E {pct(r['share_d_e_before'])} →"
                    f" {pct(r['share_d_e'])}, mediaan {number(r['median_percentile_before'])} →"
                    f" {number(r['median_percentile'])} (n={int(r['n'])})"
                ),
                icon=":material/trending_down:",
                query_params={"klas": int(r["class_id"]), "domein": r["domain"]},
            )

# -- classes compared ----------------------------------------------------------------------
st.subheader(f"Klassen vergeleken: {DOMAIN_LABELS[domain]}, {moment} {year}")
compared = dash.compare_classes(db, user, year, domain, moment)
st.plotly_chart(
    charts.compare_classes_chart(compared, f"{DOMAIN_LABELS[domain]}, {moment} {year}"), key="school_compare"
)
if not compared.empty:
    with st.container(key="school_compare_classes"):
        st.caption("Open een klas:")
        cols = st.columns(min(6, len(compared)))
        for i, r in enumerate(compared.itertuples()):
            cols[i % len(cols)].page_link(
                "pages/klas.py",
                label=str(r.class_name),
                icon=":material/school:",
                query_params={"klas": int(r.class_id), "domein": domain},
            )

# -- trends --------------------------------------------------------------------------------
st.subheader("Per leerjaar over de schooljaren")
measure = st.radio(
    "Maat",
    list(charts.MEASURES),
    format_func=lambda m: charts.MEASURES[m][0],
    horizontal=True,
    key="school_measure",
)
st.plotly_chart(charts.school_trend_chart(trends, domain, measure), key="school_trend")

# -- cohorts -------------------------------------------------------------------------------
st.subheader("Cohortes door de leerjaren")
cohorts = dash.cohorts(db, user, domain)
st.plotly_chart(charts.cohort_chart(cohorts, measure, domain), key="school_cohorts")
names = sorted(set(cohorts["cohort"]), reverse=True)
if names:
    # By default the cohort with the longest path through the grades (the newest of those).
    longest = max(names, key=lambda c: (cohorts["cohort"] == c).sum())
    cohort = url_select(
        "Volg een cohorte",
        names,
        param="cohorte",
        key="school_cohort",
        format_func=lambda c: f"instroom L1 in {c}",
        default=longest,
    )
    path = cohorts[cohorts["cohort"] == cohort]
    steps = pd.DataFrame(
        {
            "Schooljaar": path["school_year"],
            "Leerjaar": path["cohort_grade"].map(lambda g: f"L{g}"),
            "Toetsmoment": path["moment"],
            "n": [charts.HIDDEN if s else f"{int(n)}" for n, s in zip(path["n"], path["suppressed"], strict=True)],
            "D+E": path["share_d_e"].map(pct),
            "Mediaan percentiel": path["median_percentile"].map(number),
        }
    )
    st.dataframe(steps, hide_index=True, key="school_cohort_table")
    with st.container(key="school_cohort_classes"):
        st.markdown(f"**Klassen van cohorte {cohort}**")
        start = int(cohort[:4])
        for school_year in sorted(set(path["school_year"]) | {year}, reverse=True):
            grade = int(school_year[:4]) - start + 1
            if not 1 <= grade <= 6 or school_year not in years:
                continue
            found = pupils.list_classes(db, user, school_year)
            found = found[(found["level"] == "lager") & (found["grade"] == grade)]
            if found.empty:
                continue
            cols = st.columns([1, *([1] * len(found)), max(1, 6 - len(found))])
            cols[0].markdown(f"{school_year} · L{grade}")
            for col, r in zip(cols[1:], found.itertuples(), strict=False):
                col.page_link(
                    "pages/klas.py",
                    label=str(r.name),
                    icon=":material/school:",
                    query_params={"klas": int(r.id), "domein": domain},
                )


# -- care phases ---------------------------------------------------------------------------
st.subheader(f"Zorgfasen · {year}")
phases = dash.care_phase_counts(db, user, year, today=today)
st.plotly_chart(charts.care_phase_chart(phases), key="school_phases")

# -- export --------------------------------------------------------------------------------
st.subheader("Exporteren")
st.caption("In de export zijn groepen kleiner dan 5 leerlingen altijd verborgen.")


def school_workbook() -> bytes:
    # Built when the button is clicked (Streamlit calls it on its own thread): its five
    # suppressed aggregates used to run again on every rerun of this page.
    exported_trends = dash.school_trends(db, user, export=True)
    return exports.school_xlsx(
        {
            "Sinds vorig jaar per leerjaar": exports.changes_table(
                dash.year_over_year(exported_trends, year, moment), by_class=False
            ),
            "Sinds vorig jaar per klas": exports.changes_table(
                dash.class_changes(db, user, year, moment, export=True), by_class=True
            ),
            "Per leerjaar": exports.trends_table(exported_trends),
            "Cohortes": exports.cohorts_table(dash.cohorts(db, user, domain, export=True)),
            "Zorgfasen": exports.phases_table(dash.care_phase_counts(db, user, year, today=today, export=True)),
        },
        school_year=year,
        made_by=user.name,
        made_on=today,
    )


st.download_button(
    "Schoolbeeld downloaden (XLSX)",
    school_workbook,
    file_name=f"schoolbeeld-{year}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    on_click=exports.record_export,
    args=(db, user, "schoolbeeld", f"schooljaar {year}, {moment}, {DOMAIN_LABELS[domain]}"),
    key="school_export",
)
