"""The pupil timeline: one plotly figure across school years (a pure function of frames).

Lanes (only those with data): LVS-VCLB percentiles against shaded zone bands A-E, AVI level
against the expected level for the grade, DMT words per card, Leuven scales, and a lane of
registrations as markers by type. Care phases shade the whole figure; measures are bars in
their own lane. The top axis carries a range selector (6 months, 1 or 3 years, all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dossier.palette import DOMAIN_COLOURS, PHASE_COLOURS, REGISTRATION_COLOURS, ZONE_COLOURS

DOMAIN_LABELS = {
    "wiskunde": "Wiskunde",
    "spelling": "Spelling",
    "technisch_lezen": "Technisch lezen",
    "begrijpend_lezen": "Begrijpend lezen",
}
PHASE_LABELS = {0: "Fase 0", 1: "Fase 1 – verhoogde zorg", 2: "Fase 2 – uitbreiding van zorg", 3: "Fase 3 – IAC"}


# Between two lanes: the dates under the upper lane and the title of the lower one.
LANE_GAP_PX = 64


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass
class TimelineData:
    """Everything the timeline shows; every frame may be empty.

    lvs: test_date, domain, moment, percentile, zone, raw_score, max_score
    avi: test_date, moment, level_achieved, level_rank, expected_rank, card, card_result
    dmt: test_date, moment, card1_correct, card2_correct, card3_correct, percentile, zone
    wellbeing: observed_on, scale, score, score_text, context
    registrations: fact_date, type_label, facts, author_name
    phases: phase, start_date, end_date (NaT = open)
    measures: category, description, start_date, end_date, evaluation_date
    """

    lvs: pd.DataFrame = field(default_factory=_empty)
    avi: pd.DataFrame = field(default_factory=_empty)
    dmt: pd.DataFrame = field(default_factory=_empty)
    wellbeing: pd.DataFrame = field(default_factory=_empty)
    registrations: pd.DataFrame = field(default_factory=_empty)
    phases: pd.DataFrame = field(default_factory=_empty)
    measures: pd.DataFrame = field(default_factory=_empty)
    avi_levels: Sequence[str] = ()
    zone_bands: Mapping[str, float] = field(default_factory=lambda: {"A": 75, "B": 50, "C": 25, "D": 11})


def _short(text: object, limit: int = 120) -> str:
    value = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    # Plotly renders hover text as HTML-ish: neutralise markup typed by users.
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _date_span(data: TimelineData) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    dates = []
    for frame, col in (
        (data.lvs, "test_date"),
        (data.avi, "test_date"),
        (data.dmt, "test_date"),
        (data.wellbeing, "observed_on"),
        (data.registrations, "fact_date"),
        (data.phases, "start_date"),
        (data.measures, "start_date"),
    ):
        if not frame.empty and col in frame:
            dates.append(pd.to_datetime(frame[col]))
    if not dates:
        return None
    everything = pd.concat(dates)
    return everything.min(), everything.max()


def pupil_timeline(data: TimelineData, title: str = "Tijdlijn") -> go.Figure:
    lanes: list[tuple[str, str, float]] = []  # (key, title, relative height)
    if not data.lvs.empty:
        lanes.append(("lvs", "LVS-VCLB: percentiel", 0.34))
    if not data.avi.empty:
        lanes.append(("avi", "AVI-niveau", 0.2))
    if not data.dmt.empty:
        lanes.append(("dmt", "DMT: woorden juist per kaart", 0.16))
    if not data.wellbeing.empty:
        lanes.append(("wellbeing", "Welbevinden en betrokkenheid (1–5)", 0.14))
    if not data.measures.empty:
        lanes.append(("measures", "Maatregelen", 0.08))
    if not data.registrations.empty:
        # One row per registration type: the lane grows with them so every label stays readable.
        kinds = data.registrations["type_label"].nunique()
        lanes.append(("registrations", "Registraties", max(0.1, 0.035 * kinds)))
    if not lanes:
        fig = go.Figure()
        fig.add_annotation(
            text="Nog geen resultaten of registraties.", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
        fig.update_layout(title=title, height=200, xaxis_visible=False, yaxis_visible=False)
        return fig

    heights = [h for _, _, h in lanes]
    height = 240 + 170 * len(lanes)
    fig = make_subplots(
        rows=len(lanes),
        cols=1,
        shared_xaxes=True,
        # A fixed gap in pixels: the dates under a lane and the title of the next one must both fit
        # (a fraction of the figure overlapped them once there were five lanes).
        vertical_spacing=min(0.2, LANE_GAP_PX / (height - 130)) if len(lanes) > 1 else 0.0,
        row_heights=[h / sum(heights) for h in heights],
        subplot_titles=[t for _, t, _ in lanes],
    )
    row_of = {key: i + 1 for i, (key, _, _) in enumerate(lanes)}

    if "lvs" in row_of:
        _lvs_lane(fig, data, row_of["lvs"])
    if "avi" in row_of:
        _avi_lane(fig, data, row_of["avi"])
    if "dmt" in row_of:
        _dmt_lane(fig, data, row_of["dmt"])
    if "wellbeing" in row_of:
        _wellbeing_lane(fig, data, row_of["wellbeing"])
    if "measures" in row_of:
        _measures_lane(fig, data, row_of["measures"])
    if "registrations" in row_of:
        _registrations_lane(fig, data, row_of["registrations"])
    _phase_shading(fig, data, len(lanes))

    # Dates under every lane: a lane read on its own still shows when things happened.
    fig.update_xaxes(type="date", tickformat="%d/%m/%Y", hoverformat="%d/%m/%Y", showticklabels=True)
    fig.update_xaxes(
        rangeselector={
            "buttons": [
                {"count": 6, "label": "6 maanden", "step": "month", "stepmode": "backward"},
                {"count": 1, "label": "1 jaar", "step": "year", "stepmode": "backward"},
                {"count": 3, "label": "3 jaar", "step": "year", "stepmode": "backward"},
                {"step": "all", "label": "alles"},
            ],
            "y": 1.02,
            "x": 0,
        },
        row=1,
        col=1,
    )
    span = _date_span(data)
    if span is not None:
        pad = pd.Timedelta(days=20)
        fig.update_xaxes(range=[span[0] - pad, span[1] + pad])
    fig.update_layout(
        title=title,
        height=height,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.08},
        margin={"t": 90, "l": 60, "r": 20, "b": 40},
        separators=", ",
    )
    return fig


def _lvs_lane(fig: go.Figure, data: TimelineData, row: int) -> None:
    bands = data.zone_bands
    edges = [("A", bands["A"], 100), ("B", bands["B"], bands["A"]), ("C", bands["C"], bands["B"])]
    edges += [("D", bands["D"], bands["C"]), ("E", 0, bands["D"])]
    for zone, low, high in edges:
        fig.add_hrect(
            y0=low,
            y1=high,
            fillcolor=ZONE_COLOURS[zone],
            opacity=0.16,
            line_width=0,
            layer="below",
            row=row,
            col=1,
            exclude_empty_subplots=False,
            annotation_text=zone,
            annotation_position="right",
            annotation_font_size=10,
        )
    frame = data.lvs.sort_values("test_date")
    for domain, group in frame.groupby("domain", sort=False):
        hover = [
            f"{DOMAIN_LABELS.get(domain, domain)} · {m}<br>percentiel {p:g} · zone {z}"
            + (f"<br>score {r:g}/{mx:g}" if pd.notna(r) and pd.notna(mx) else "")
            for m, p, z, r, mx in zip(
                group["moment"],
                group["percentile"].fillna(-1),
                group["zone"],
                group["raw_score"],
                group["max_score"],
                strict=True,
            )
        ]
        fig.add_scatter(
            x=group["test_date"],
            y=group["percentile"],
            mode="lines+markers",
            name=DOMAIN_LABELS.get(domain, domain),
            legendgroup="lvs",
            line={"color": DOMAIN_COLOURS.get(domain)},
            marker={
                "size": 9,
                "color": [ZONE_COLOURS.get(z, "#999") for z in group["zone"]],
                "line": {"width": 1.5, "color": DOMAIN_COLOURS.get(domain)},
            },
            text=hover,
            hovertemplate="%{x|%d/%m/%Y}<br>%{text}<extra></extra>",
            row=row,
            col=1,
        )
    fig.update_yaxes(range=[0, 100], title_text="percentiel", row=row, col=1)


def _avi_lane(fig: go.Figure, data: TimelineData, row: int) -> None:
    frame = data.avi.sort_values("test_date")
    levels = list(data.avi_levels)
    # One point per test date: the highest level achieved that day.
    best = frame.sort_values("level_rank").groupby("test_date", as_index=False).last()
    fig.add_scatter(
        x=best["test_date"],
        y=best["level_rank"],
        mode="lines+markers",
        name="AVI behaald",
        legendgroup="avi",
        line={"color": "#0072B2"},
        text=[
            f"{lvl} ({res or '–'})"
            for lvl, res in zip(best["level_achieved"], best.get("card_result", ""), strict=False)
        ],
        hovertemplate="%{x|%d/%m/%Y}<br>behaald: %{text}<extra></extra>",
        row=row,
        col=1,
    )
    if "expected_rank" in best and best["expected_rank"].notna().any():
        expected_labels = [
            levels[int(r)] if pd.notna(r) and 0 <= int(r) < len(levels) else "" for r in best["expected_rank"]
        ]
        fig.add_scatter(
            x=best["test_date"],
            y=best["expected_rank"],
            mode="lines",
            name="AVI verwacht",
            legendgroup="avi",
            line={"color": "#555555", "dash": "dash"},
            text=expected_labels,
            hovertemplate="%{x|%d/%m/%Y}<br>verwacht: %{text}<extra></extra>",
            row=row,
            col=1,
        )
    if levels:
        # Only the levels around what was read and expected, one either side: all twelve labels
        # did not fit the lane's height and printed over each other.
        seen = [int(r) for r in (*best["level_rank"], *best.get("expected_rank", [])) if pd.notna(r)]
        low = max(0, min(seen, default=0) - 1)
        high = min(len(levels) - 1, max(seen, default=len(levels) - 1) + 1)
        fig.update_yaxes(
            tickmode="array",
            tickvals=list(range(low, high + 1)),
            ticktext=levels[low : high + 1],
            range=[low - 0.5, high + 0.5],
            row=row,
            col=1,
        )


def _dmt_lane(fig: go.Figure, data: TimelineData, row: int) -> None:
    frame = data.dmt.sort_values("test_date")
    for card, colour in (("card1_correct", "#0072B2"), ("card2_correct", "#009E73"), ("card3_correct", "#CC79A7")):
        if card not in frame or frame[card].isna().all():
            continue
        fig.add_scatter(
            x=frame["test_date"],
            y=frame[card],
            mode="lines+markers",
            name=f"DMT kaart {card[4]}",
            legendgroup="dmt",
            line={"color": colour},
            hovertemplate=f"%{{x|%d/%m/%Y}}<br>kaart {card[4]}: %{{y}} woorden juist<extra></extra>",
            row=row,
            col=1,
        )
    fig.update_yaxes(title_text="woorden", rangemode="tozero", row=row, col=1)


def _wellbeing_lane(fig: go.Figure, data: TimelineData, row: int) -> None:
    frame = data.wellbeing.sort_values("observed_on")
    for scale, colour in (("welbevinden", "#E69F00"), ("betrokkenheid", "#56B4E9")):
        group = frame[frame["scale"] == scale]
        if group.empty:
            continue
        fig.add_scatter(
            x=group["observed_on"],
            y=group["score"],
            mode="lines+markers",
            name=scale.capitalize(),
            legendgroup="leuven",
            line={"color": colour},
            text=[
                f"{s}{' · ' + _short(c, 40) if isinstance(c, str) and c else ''}"
                for s, c in zip(group["score_text"], group.get("context", pd.Series([None] * len(group))), strict=False)
            ],
            hovertemplate=f"%{{x|%d/%m/%Y}}<br>{scale}: %{{text}}<extra></extra>",
            row=row,
            col=1,
        )
    fig.update_yaxes(range=[0.5, 5.5], tickvals=[1, 2, 3, 4, 5], row=row, col=1)


def _measures_lane(fig: go.Figure, data: TimelineData, row: int) -> None:
    frame = data.measures.sort_values("start_date").reset_index(drop=True)
    span = _date_span(data)
    today = pd.Timestamp.today().normalize()
    for i, measure in frame.iterrows():
        start = pd.Timestamp(measure["start_date"])
        end = pd.Timestamp(measure["end_date"]) if pd.notna(measure.get("end_date")) else max(today, span[1])
        label = f"{measure['category']}: {_short(measure['description'], 80)}"
        fig.add_scatter(
            x=[start, end],
            y=[i, i],
            mode="lines",
            line={"width": 10, "color": "#009E73"},
            opacity=0.7,
            name="Maatregel",
            legendgroup="measures",
            showlegend=bool(i == 0),
            hovertemplate=f"{label}<br>van %{{x|%d/%m/%Y}}<extra></extra>",
            row=row,
            col=1,
        )
    fig.update_yaxes(visible=False, range=[-1, len(frame)], row=row, col=1)


def _registrations_lane(fig: go.Figure, data: TimelineData, row: int) -> None:
    frame = data.registrations
    types = list(dict.fromkeys(frame.sort_values("fact_date")["type_label"]))
    for type_label in types:
        group = frame[frame["type_label"] == type_label]
        fig.add_scatter(
            x=group["fact_date"],
            y=[type_label] * len(group),
            mode="markers",
            name=type_label,
            legendgroup="registrations",
            marker={"size": 12, "symbol": "diamond", "color": REGISTRATION_COLOURS.get(type_label, "#666666")},
            text=[
                f"{_short(f)}<br><i>{_short(a, 40)}</i>"
                for f, a in zip(group["facts"], group["author_name"], strict=True)
            ],
            hovertemplate="%{x|%d/%m/%Y} · " + type_label + "<br>%{text}<extra></extra>",
            row=row,
            col=1,
        )
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=types, tickmode="array", tickvals=types, row=row, col=1
    )


def _phase_shading(fig: go.Figure, data: TimelineData, rows: int) -> None:
    if data.phases.empty:
        return
    today = pd.Timestamp.today().normalize()
    for phase in data.phases.itertuples():
        if int(phase.phase) == 0:
            continue
        end = pd.Timestamp(phase.end_date) if pd.notna(phase.end_date) else today
        for row in range(1, rows + 1):
            # The label once, on the top lane; the shading on every lane.
            label = (
                {
                    "annotation_text": PHASE_LABELS.get(int(phase.phase), f"Fase {phase.phase}"),
                    "annotation_position": "top left",
                    "annotation_font_size": 10,
                }
                if row == 1
                else {}
            )
            fig.add_vrect(
                x0=pd.Timestamp(phase.start_date),
                x1=end,
                fillcolor=PHASE_COLOURS.get(int(phase.phase), "#cccccc"),
                opacity=0.12,
                line_width=0,
                layer="below",
                row=row,
                col=1,
                exclude_empty_subplots=False,
                **label,
            )
