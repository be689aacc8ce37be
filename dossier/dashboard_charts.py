"""Dashboard charts: pure functions from the frames of dossier.dashboards to plotly figures.

Dutch labels, the one zone palette (dossier.palette), hover details per pupil or group, and
every aggregate shows its group size n. Groups suppressed for being small (fewer than five,
see dashboards.MIN_GROUP_SIZE) are shown as "verborgen", never with their figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dossier.dashboards import AVI_LEVELS, MIN_GROUP_SIZE
from dossier.instruments import ZONES
from dossier.palette import DOMAIN_COLOURS, PHASE_COLOURS, ZONE_COLOURS
from dossier.timeline import DOMAIN_LABELS

MISSING_COLOUR = "#DDDDDD"
HIDDEN = f"verborgen (n<{MIN_GROUP_SIZE})"
PHASE_NAMES = {0: "Fase 0 / geen", 1: "Fase 1", 2: "Fase 2", 3: "Fase 3"}
CARD_COLOURS = {1: "#0072B2", 2: "#009E73", 3: "#CC79A7"}  # Okabe-Ito, apart from the zone colours
SCALE_LABELS = {"welbevinden": "Welbevinden", "betrokkenheid": "Betrokkenheid"}
DEFAULT_NORM = {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.15, "E": 0.10}


# -- helpers ---------------------------------------------------------------------------


def _escape(value: object) -> str:
    # Plotly renders hover and tick text as HTML-ish: names typed by people must stay text.
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, height=220)
    return fig


def _domain(code: str) -> str:
    return DOMAIN_LABELS.get(code, str(code))


def _pct(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.0f}"


def _share(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * float(value):.0f}%"


def _n(row: Mapping) -> str:
    return HIDDEN if bool(row.get("suppressed", False)) else f"n={int(row['n'])}"


def _n_range(rows: pd.DataFrame) -> str:
    """'n=23-29' over the points of one line; hidden points count as hidden."""
    shown = rows.loc[~rows.get("suppressed", pd.Series(False, index=rows.index)).astype(bool), "n"].dropna()
    hidden = len(rows) - len(shown)
    if shown.empty:
        return HIDDEN
    low, high = int(shown.min()), int(shown.max())
    text = f"n={low}" if low == high else f"n={low}-{high}"
    return text + (f", {hidden}× verborgen" if hidden else "")


def pupil_labels(frame: pd.DataFrame) -> pd.Series:
    """'Voornaam Naam' per row; pupils with the same name get their number, leavers a note."""
    names = (frame["first_name"].astype(str) + " " + frame["last_name"].astype(str)).map(_escape)
    per_pupil = pd.DataFrame({"pupil_id": frame["pupil_id"], "name": names}).drop_duplicates("pupil_id")
    twins = per_pupil["name"].duplicated(keep=False)
    twin_ids = set(per_pupil.loc[twins, "pupil_id"])
    if twin_ids and "pupil_number" in frame:
        names = names.where(
            ~frame["pupil_id"].isin(twin_ids), names + " (" + frame["pupil_number"].astype(str).map(_escape) + ")"
        )
    elif twin_ids:
        names = names.where(~frame["pupil_id"].isin(twin_ids), names + " (#" + frame["pupil_id"].astype(str) + ")")
    if "left_school" in frame:
        names = names.where(~frame["left_school"].fillna(False).astype(bool), names + " (vertrokken)")
    return names


def pupil_from_selection(event: Mapping | None) -> int | None:
    """The pupil id of the first clicked point of zone_heatmap, from a plotly selection event.

    Only the heatmap's clickable points carry a pupil id in customdata (a bare integer); anything
    else (no selection, hover strings, a list, a forged value) gives None.
    """
    selection = event.get("selection") if isinstance(event, Mapping) else None
    points = selection.get("points") if isinstance(selection, Mapping) else None
    if not isinstance(points, Sequence) or isinstance(points, str):
        return None
    for point in points:
        value = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
            return int(value)
        if isinstance(value, float) and value.is_integer() and value > 0:
            return int(value)  # JSON numbers may come back as floats
    return None


def _moment_label(school_year: object, moment: object) -> str:
    return f"{moment} {school_year}"


def _zone_colourscale() -> list:
    """A discrete colour scale for zone indexes 0 (A) … 4 (E) on zmin=-0.5, zmax=4.5."""
    scale = []
    for i, zone in enumerate(ZONES):
        scale += [[i / len(ZONES), ZONE_COLOURS[zone]], [(i + 1) / len(ZONES), ZONE_COLOURS[zone]]]
    return scale


# -- class dashboard -------------------------------------------------------------------


# Pixels per character of a tick-sized name and the width plotly.js is assumed to get (wide layout),
# to size the names column so most names fit; longer names overflow into the left margin.
NAME_CHAR_PX = 7
ASSUMED_WIDTH_PX = 1200


def _click_marker() -> dict:
    # Small on purpose: plotly.js treats every point whose marker covers the cursor as equally near
    # (the last one wins), so big markers would pick the wrong row. With small markers and an unlimited
    # hoverdistance a click goes to the nearest point: the pupil's row in the names column, the cell
    # in a panel.
    return {"size": 6, "color": "rgba(0,0,0,0)", "line": {"width": 0}}


def zone_heatmap(frame: pd.DataFrame, domain: str | None = None) -> go.Figure:
    """Pupils × test moments coloured by zone, one panel per domain (frame of dashboards.class_overview).

    The pupil names are a text column left of the panels, under it one clickable point per pupil with
    the pupil id as customdata; an invisible point over every cell carries the same id, so a click on a
    name or on any cell of a pupil's row selects that pupil (read it back with pupil_from_selection).
    Heatmap traces themselves return no selection in Streamlit, hence the scatter points.
    """
    title = "Groepsoverzicht: zones per leerling en toetsmoment"
    if domain is not None:
        frame = frame[frame["domain"] == domain]
    if frame.empty:
        return _empty(title, "Nog geen LVS-resultaten voor deze klas.")
    frame = frame.assign(
        pupil=pupil_labels(frame),
        column=[_moment_label(y, m) for y, m in zip(frame["school_year"], frame["moment"], strict=True)],
    )
    pupils = list(dict.fromkeys(frame["pupil"]))
    ids = dict(zip(frame["pupil"], frame["pupil_id"].astype(int), strict=True))
    domains = list(dict.fromkeys(frame["domain"]))
    names_share = min(0.3, max(0.1, (NAME_CHAR_PX * max(len(p) for p in pupils) + 16) / ASSUMED_WIDTH_PX))
    fig = make_subplots(
        rows=1,
        cols=len(domains) + 1,
        shared_yaxes=True,
        horizontal_spacing=0.01,
        column_widths=[names_share] + [(1 - names_share) / len(domains)] * len(domains),
        subplot_titles=["", *(_domain(d) for d in domains)],
    )
    # The names and their click points are two traces: plotly moves text aside by the marker's radius.
    fig.add_trace(
        go.Scatter(
            x=[1.0] * len(pupils),
            y=pupils,
            mode="text",
            text=pupils,
            textposition="middle left",
            cliponaxis=False,
            hoverinfo="skip",
            name="Namen",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=[0.5] * len(pupils),
            y=pupils,
            mode="markers",
            marker=_click_marker(),
            customdata=[int(ids[p]) for p in pupils],
            hovertext=[f"Open het dossier van {p}" for p in pupils],
            hovertemplate="%{hovertext}<extra></extra>",
            name="Leerlingen",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    zone_index = {zone: i for i, zone in enumerate(ZONES)}
    rows = {p: i for i, p in enumerate(pupils)}
    for col, code in enumerate(domains, start=2):
        part = frame[frame["domain"] == code].sort_values(["school_year", "moment_order"], kind="stable")
        columns = list(dict.fromkeys(part["column"]))
        z = np.full((len(pupils), len(columns)), np.nan)
        text = np.full((len(pupils), len(columns)), "", dtype=object)
        hover = np.full((len(pupils), len(columns)), "geen resultaat", dtype=object)
        cols = {c: j for j, c in enumerate(columns)}
        for rec in part.itertuples(index=False):
            i, j = rows[rec.pupil], cols[rec.column]
            if isinstance(rec.zone, str) and rec.zone in zone_index:
                z[i, j] = zone_index[rec.zone]
                text[i, j] = rec.zone
                hover[i, j] = f"Zone {rec.zone} · percentiel {_pct(rec.percentile)}"
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=columns,
                y=pupils,
                text=text,
                texttemplate="%{text}",
                customdata=hover,
                zmin=-0.5,
                zmax=len(ZONES) - 0.5,
                colorscale=_zone_colourscale(),
                showscale=col == 2,
                colorbar={
                    "title": {"text": "Zone"},
                    "tickvals": list(range(len(ZONES))),
                    "ticktext": list(ZONES),
                },
                xgap=2,
                ygap=2,
                name=_domain(code),
                # The click points over the cells show this text instead (a heatmap would hide them).
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        # Grey behind the cells shows missing results; the names column keeps the theme's background.
        fig.add_shape(
            type="rect",
            xref="x domain",
            yref="y domain",
            x0=0,
            x1=1,
            y0=0,
            y1=1,
            fillcolor=MISSING_COLOUR,
            line={"width": 0},
            layer="below",
            row=1,
            col=col,
        )
        cells = [(p, c) for p in pupils for c in columns]
        fig.add_trace(
            go.Scatter(
                x=[c for _, c in cells],
                y=[p for p, _ in cells],
                mode="markers",
                marker=_click_marker(),
                customdata=[int(ids[p]) for p, _ in cells],
                hovertext=[
                    f"{p}<br>{_domain(code)}, {c}<br>{hover[rows[p], cols[c]]}<br>Klik om het dossier te openen"
                    for p, c in cells
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                name=f"{_domain(code)} (klik)",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    # No zooming: the pupil rows and moments always fit, and a drag would swallow the click.
    fig.update_xaxes(fixedrange=True, showgrid=False)
    fig.update_xaxes(visible=False, range=[0, 1], row=1, col=1)
    fig.update_yaxes(
        autorange="reversed",
        categoryorder="array",
        categoryarray=pupils,
        fixedrange=True,
        showgrid=False,
        showticklabels=False,  # the names column draws the names
    )
    fig.update_layout(
        title=f"{title} ({len(pupils)} leerlingen)",
        plot_bgcolor="rgba(0,0,0,0)",  # the theme's background behind the names
        hovermode="closest",
        hoverdistance=-1,
        height=max(300, 26 * len(pupils) + 140),
        margin={"t": 80, "b": 40, "l": 10, "r": 10},
    )
    return fig


def zone_distribution_chart(frame: pd.DataFrame, norm: Mapping[str, float] | None = None) -> go.Figure:
    """Per domain and moment the share of pupils per zone, against the norm (frame of zone_distribution).

    `norm` defaults to the frame's norm_share column, else 25/25/25/15/10.
    """
    title = "Zoneverdeling per toetsmoment tegenover de norm"
    if frame.empty:
        return _empty(title, "Nog geen LVS-resultaten voor deze klas.")
    if norm is None:
        norm = (
            frame.drop_duplicates("zone").set_index("zone")["norm_share"].to_dict()
            if "norm_share" in frame
            else DEFAULT_NORM
        )
    groups = frame.drop_duplicates(["domain", "school_year", "moment"]).sort_values(
        ["domain", "school_year", "moment_order"],
        key=lambda c: c.map({d: i for i, d in enumerate(DOMAIN_LABELS)}) if c.name == "domain" else c,
    )
    labels, keys = [], []
    for row in groups.to_dict("records"):
        labels.append(f"{_domain(row['domain'])} · {_moment_label(row['school_year'], row['moment'])} ({_n(row)})")
        keys.append((row["domain"], row["school_year"], row["moment"]))
    labels.append("Norm")
    fig = go.Figure()
    indexed = frame.set_index(["domain", "school_year", "moment", "zone"])
    for zone in ZONES:
        shares, hovers, texts = [], [], []
        for key, label in zip(keys, labels, strict=False):
            row = indexed.loc[(*key, zone)]
            if bool(row.get("suppressed", False)):
                shares.append(0.0)
                texts.append("")
                hovers.append(f"{label}<br>Zone {zone}: {HIDDEN}")
                continue
            shares.append(float(row["share"]))
            texts.append(str(int(row["count"])) if row["count"] else "")
            hovers.append(
                f"{label}<br>Zone {zone}: {int(row['count'])} van {int(row['n'])} leerlingen"
                f" ({_share(row['share'])}) · norm {_share(norm.get(zone))}"
            )
        shares.append(float(norm.get(zone, 0.0)))
        texts.append(_share(norm.get(zone)))
        hovers.append(f"Norm: zone {zone} {_share(norm.get(zone))}")
        fig.add_bar(
            y=labels,
            x=shares,
            orientation="h",
            name=f"Zone {zone}",
            marker_color=ZONE_COLOURS[zone],
            text=texts,
            textposition="inside",
            customdata=hovers,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis={"title": "Aandeel leerlingen", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": labels},
        legend={"title": "Zone", "traceorder": "normal"},
        height=max(260, 34 * len(labels) + 120),
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def growth_chart(frame: pd.DataFrame, domain: str | None = None) -> go.Figure:
    """Percentile change per pupil between two moments, coloured by the zone reached (frame of growth)."""
    title = "Groei per leerling tussen twee toetsmomenten"
    if domain is not None:
        frame = frame[frame["domain"] == domain]
    if frame.empty:
        return _empty(title, "Geen leerlingen met een resultaat op beide toetsmomenten.")
    frame = frame.assign(pupil=pupil_labels(frame))
    domains = list(dict.fromkeys(frame["domain"]))
    counts = frame.groupby("domain", sort=False).size()
    fig = make_subplots(
        rows=1,
        cols=len(domains),
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=[f"{_domain(d)} (n={counts[d]})" for d in domains],
    )
    shown = set()
    for col, code in enumerate(domains, start=1):
        part = frame[frame["domain"] == code]
        for zone in ZONES:
            rows = part[part["zone_to"] == zone]
            if rows.empty:
                continue
            hover = [
                f"{r.pupil}<br>{_domain(code)}: zone {r.zone_from} → {r.zone_to}"
                f" ({'+' if r.zone_change > 0 else ''}{r.zone_change} zones)<br>"
                f"percentiel {_pct(r.percentile_from)} → {_pct(r.percentile_to)}"
                f" ({'+' if (r.percentile_change or 0) > 0 else ''}{_pct(r.percentile_change)})"
                for r in rows.itertuples(index=False)
            ]
            fig.add_bar(
                x=rows["percentile_change"],
                y=rows["pupil"],
                orientation="h",
                name=f"Nu zone {zone}",
                legendgroup=zone,
                showlegend=zone not in shown,
                marker_color=ZONE_COLOURS[zone],
                text=[f"{a}→{b}" for a, b in zip(rows["zone_from"], rows["zone_to"], strict=True)],
                textposition="auto",
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
                row=1,
                col=col,
            )
            shown.add(zone)
    pupils = list(dict.fromkeys(frame["pupil"]))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=pupils)
    fig.update_xaxes(title_text="Verschil in percentiel", zeroline=True)
    fig.update_layout(
        title=title,
        barmode="overlay",
        height=max(300, 24 * len(pupils) + 140),
        legend={"title": "Zone op het tweede moment"},
        margin={"t": 80, "b": 40, "l": 10, "r": 10},
    )
    return fig


def _change_label(change: int) -> str:
    if change == 0:
        return "gelijk"
    word = "zone" if abs(change) == 1 else "zones"
    return f"{abs(change)} {word} {'hoger' if change > 0 else 'lager'}"


def growth_distribution_chart(frame: pd.DataFrame) -> go.Figure:
    """The class's distribution of zone movement per domain (frame of growth_distribution)."""
    title = "Verdeling van de zoneverschuiving in de klas"
    if frame.empty:
        return _empty(title, "Geen leerlingen met een resultaat op beide toetsmomenten.")
    changes = sorted({int(c) for c in frame["zone_change"]}, reverse=True)
    labels = [_change_label(c) for c in changes]
    fig = go.Figure()
    for code, part in frame.groupby("domain", sort=False):
        first = part.iloc[0]
        hidden = bool(first.get("suppressed", False))
        by_change = {int(r.zone_change): r for r in part.itertuples(index=False)}
        values, hovers = [], []
        for change, label in zip(changes, labels, strict=True):
            r = by_change.get(change)
            if hidden or r is None:
                values.append(0 if not hidden else None)
                hovers.append(f"{_domain(code)}: {label}: {HIDDEN if hidden else '0 leerlingen'}")
                continue
            values.append(int(r.count))
            hovers.append(f"{_domain(code)}: {label}: {int(r.count)} van {int(r.n)} leerlingen ({_share(r.share)})")
        median = "" if hidden else f", mediaan {_pct(first['median_percentile_change'])} percentielpunten"
        fig.add_bar(
            x=labels,
            y=values,
            name=f"{_domain(code)} ({_n(first)}{median})",
            marker_color=DOMAIN_COLOURS.get(code, "#999999"),
            customdata=hovers,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis={"title": "Zoneverschuiving", "categoryorder": "array", "categoryarray": labels},
        yaxis={"title": "Aantal leerlingen"},
        legend={"title": "Domein"},
        height=380,
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def _latest_moment(frame: pd.DataFrame, moment: Sequence[str] | None) -> tuple[pd.DataFrame, str]:
    if moment is not None:
        year, name = moment
    else:
        last = frame.sort_values(["school_year", "moment_order"]).iloc[-1]
        year, name = last["school_year"], last["moment"]
    return frame[(frame["school_year"] == year) & (frame["moment"] == name)], _moment_label(year, name)


def avi_chart(frame: pd.DataFrame, moment: Sequence[str] | None = None) -> go.Figure:
    """AVI level per pupil against the expected level at one moment (latest by default; frame of avi_vs_expected)."""
    title = "AVI-niveau tegenover het verwachte niveau"
    if frame.empty:
        return _empty(title, "Nog geen AVI-resultaten voor deze klas.")
    part, label = _latest_moment(frame, moment)
    part = part.assign(pupil=pupil_labels(part))
    behind = int((part["steps"] <= -2).sum())
    fig = go.Figure()
    fig.add_scatter(
        x=part["expected_rank"],
        y=part["pupil"],
        mode="markers",
        name="Verwacht niveau",
        marker={"symbol": "line-ns-open", "size": 18, "color": "#000000", "line": {"width": 2}},
        customdata=part["expected_level"],
        hovertemplate="%{y}<br>Verwacht: %{customdata}<extra></extra>",
    )
    groups = (
        ("op of boven het verwachte niveau", part["steps"] >= 0, ZONE_COLOURS["A"]),
        ("1 stap eronder", part["steps"] == -1, ZONE_COLOURS["C"]),
        ("2 of meer stappen eronder", part["steps"] <= -2, ZONE_COLOURS["E"]),
    )
    for name, mask, colour in groups:
        rows = part[mask]
        fig.add_scatter(
            x=rows["level_rank"],
            y=rows["pupil"],
            mode="markers",
            name=f"{name} ({len(rows)})",
            marker={"size": 12, "color": colour, "line": {"width": 1, "color": "#333333"}},
            customdata=np.stack(
                [rows["level"].astype(str), rows["expected_level"].astype(str), rows["steps"].astype(str)], axis=-1
            )
            if not rows.empty
            else None,
            hovertemplate="%{y}<br>Behaald: %{customdata[0]}<br>Verwacht: %{customdata[1]}"
            " (verschil %{customdata[2]} stappen)<extra></extra>",
        )
    fig.update_layout(
        title=f"{title}, {label} (n={len(part)}, {behind} met 2 of meer stappen achterstand)",
        xaxis={
            "title": "AVI-niveau",
            "tickvals": list(range(len(AVI_LEVELS))),
            "ticktext": list(AVI_LEVELS),
            "range": [-0.5, len(AVI_LEVELS) - 0.5],
        },
        yaxis={"autorange": "reversed"},
        height=max(280, 24 * len(part) + 140),
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def dmt_chart(frame: pd.DataFrame, moment: Sequence[str] | None = None) -> go.Figure:
    """Words read correctly per DMT card per pupil at one moment (latest by default; frame of dmt_cards)."""
    title = "DMT: correct gelezen woorden per kaart"
    if frame.empty:
        return _empty(title, "Nog geen DMT-resultaten voor deze klas.")
    part, label = _latest_moment(frame, moment)
    part = part.assign(pupil=pupil_labels(part))
    fig = go.Figure()
    for card in (1, 2, 3):
        correct, errors = part[f"card{card}_correct"], part[f"card{card}_errors"]
        hover = [
            f"{p}<br>Kaart {card}: {_pct(c)} correct, {_pct(e)} fouten<br>"
            f"Totaal {int(t)} · zone {z if isinstance(z, str) else '–'}"
            for p, c, e, t, z in zip(part["pupil"], correct, errors, part["total_correct"], part["zone"], strict=True)
        ]
        fig.add_bar(
            x=correct,
            y=part["pupil"],
            orientation="h",
            name=f"Kaart {card} (mediaan {_pct(correct.median())})",
            marker_color=CARD_COLOURS[card],
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.update_layout(
        title=f"{title}, {label} (n={len(part)})",
        barmode="group",
        xaxis={"title": "Woorden correct per minuut"},
        yaxis={"autorange": "reversed"},
        height=max(300, 40 * len(part) + 140),
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def wellbeing_chart(frame: pd.DataFrame) -> go.Figure:
    """Latest Leuven score per pupil per scale (frame of wellbeing); 1 = zeer laag … 5 = zeer hoog."""
    title = "Welbevinden en betrokkenheid (Leuvense schalen), laatste observatie"
    if frame.empty:
        return _empty(title, "Nog geen observaties van welbevinden of betrokkenheid.")
    latest = frame.sort_values("observed_on").groupby(["pupil_id", "scale"], as_index=False).last()
    latest = latest.assign(pupil=pupil_labels(latest))
    fig = go.Figure()
    for scale, colour in (("welbevinden", ZONE_COLOURS["A"]), ("betrokkenheid", ZONE_COLOURS["D"])):
        rows = latest[latest["scale"] == scale]
        if rows.empty:
            continue
        hover = [
            f"{p}<br>{SCALE_LABELS[scale]}: {t} op {pd.Timestamp(d).strftime('%d/%m/%Y')}"
            for p, t, d in zip(rows["pupil"], rows["score_text"], rows["observed_on"], strict=True)
        ]
        fig.add_scatter(
            x=rows["score"],
            y=rows["pupil"],
            mode="markers",
            name=f"{SCALE_LABELS[scale]} (n={len(rows)}, mediaan {rows['score'].median():g})",
            marker={"size": 12, "color": colour, "symbol": "circle" if scale == "welbevinden" else "diamond"},
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.update_layout(
        title=title,
        xaxis={"title": "Score", "range": [0.5, 5.5], "dtick": 0.5},
        yaxis={"autorange": "reversed"},
        height=max(280, 24 * latest["pupil_id"].nunique() + 140),
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


# -- school view -----------------------------------------------------------------------


MEASURES = {
    # measure: (axis title, phrase in a title, tick format, norm level)
    "share_d_e": ("Aandeel in zone D en E", "aandeel in zone D en E", ".0%", 0.25),
    "median_percentile": ("Mediaan percentiel", "mediaan percentiel", "", 50.0),
}


def _measure_axis(measure: str) -> tuple[str, str, str, float]:
    if measure not in MEASURES:
        raise ValueError(f"Onbekende maat {measure!r}: kies share_d_e of median_percentile.")
    return MEASURES[measure]


def _cohort_step(grade: int, moment: str) -> str:
    # A cohort still at school after six years has repeaters only: no "L7" exists.
    return f"L{grade} {moment}" if grade <= 6 else f"jaar {grade} {moment}"


def school_trend_chart(frame: pd.DataFrame, domain: str, measure: str = "share_d_e") -> go.Figure:
    """One line per grade across school years and moments (frame of school_trends), with the norm level."""
    axis_title, phrase, tickformat, norm = _measure_axis(measure)
    title = f"{_domain(domain)}: {phrase} per leerjaar"
    part = frame[frame["domain"] == domain].sort_values(["school_year", "moment_order"]) if not frame.empty else frame
    if part.empty:
        return _empty(title, "Geen resultaten voor dit domein.")
    columns = list(dict.fromkeys(_moment_label(y, m) for y, m in zip(part["school_year"], part["moment"], strict=True)))
    fig = go.Figure()
    for grade, rows in part.groupby("grade"):
        x = [_moment_label(y, m) for y, m in zip(rows["school_year"], rows["moment"], strict=True)]
        values = rows[measure].astype("Float64").astype(float)
        hover = [
            f"Leerjaar {grade}, {xx}<br>{HIDDEN}"
            if bool(r.get("suppressed", False))
            else f"Leerjaar {grade}, {xx}<br>n={int(r['n'])} · D+E {_share(r['share_d_e'])}"
            f" · mediaan P{_pct(r['median_percentile'])}"
            for xx, r in zip(x, rows.to_dict("records"), strict=True)
        ]
        fig.add_scatter(
            x=x,
            y=values,
            mode="lines+markers",
            name=f"Leerjaar {grade} ({_n_range(rows)})",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            connectgaps=False,
        )
    fig.add_hline(y=norm, line_dash="dot", line_color="#666666", annotation_text="norm")
    fig.update_layout(
        title=title,
        xaxis={"title": "Toetsmoment", "categoryorder": "array", "categoryarray": columns},
        yaxis={"title": axis_title, "tickformat": tickformat},
        legend={"title": "Leerjaar"},
        height=420,
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def cohort_chart(frame: pd.DataFrame, measure: str = "share_d_e", domain: str | None = None) -> go.Figure:
    """One line per cohort (year of entry into L1) through the grades (frame of cohorts)."""
    axis_title, phrase, tickformat, norm = _measure_axis(measure)
    title = f"Cohortes door de leerjaren: {phrase}" + (f" ({_domain(domain)})" if domain else "")
    if frame.empty:
        return _empty(title, "Geen resultaten voor dit domein.")
    frame = frame.sort_values(["cohort_grade", "moment_order"])
    columns = list(
        dict.fromkeys(_cohort_step(g, m) for g, m in zip(frame["cohort_grade"], frame["moment"], strict=True))
    )
    fig = go.Figure()
    for cohort, rows in frame.groupby("cohort", sort=True):
        x = [_cohort_step(g, m) for g, m in zip(rows["cohort_grade"], rows["moment"], strict=True)]
        hover = [
            f"Instroom L1 {cohort}, {xx} ({r['school_year']})<br>"
            + (
                HIDDEN
                if bool(r.get("suppressed", False))
                else f"n={int(r['n'])} · D+E {_share(r['share_d_e'])} · mediaan P{_pct(r['median_percentile'])}"
            )
            for xx, r in zip(x, rows.to_dict("records"), strict=True)
        ]
        fig.add_scatter(
            x=x,
            y=rows[measure].astype("Float64").astype(float),
            mode="lines+markers",
            name=f"Instroom L1 {cohort} ({_n_range(rows)})",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.add_hline(y=norm, line_dash="dot", line_color="#666666", annotation_text="norm")
    fig.update_layout(
        title=title,
        xaxis={"title": "Leerjaar van de cohorte en toetsmoment", "categoryorder": "array", "categoryarray": columns},
        yaxis={"title": axis_title, "tickformat": tickformat},
        legend={"title": "Cohorte"},
        height=420,
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def compare_classes_chart(frame: pd.DataFrame, title_suffix: str = "") -> go.Figure:
    """Zone shares per class at one moment, stacked to 100 % (frame of compare_classes)."""
    title = "Klassen vergeleken" + (f": {title_suffix}" if title_suffix else "")
    if frame.empty:
        return _empty(title, "Geen resultaten op dit toetsmoment.")
    labels = [
        f"{_escape(r['class_name'])} ({_n(r)})"
        + ("" if r["suppressed"] else f", mediaan P{_pct(r['median_percentile'])}")
        for r in frame.to_dict("records")
    ]
    fig = go.Figure()
    for zone in ZONES:
        counts = frame[f"count_{zone}"].astype("Float64")
        shares = (counts / frame["n"].astype("Float64")).astype(float)
        hover = [
            f"{label}<br>Zone {zone}: {HIDDEN}"
            if r["suppressed"]
            else f"{label}<br>Zone {zone}: {int(c)} van {int(r['n'])}"
            for label, c, r in zip(labels, counts.fillna(0), frame.to_dict("records"), strict=True)
        ]
        fig.add_bar(
            y=labels,
            x=shares.fillna(0),
            orientation="h",
            name=f"Zone {zone}",
            marker_color=ZONE_COLOURS[zone],
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis={"title": "Aandeel leerlingen", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": labels},
        legend={"title": "Zone", "traceorder": "normal"},
        height=max(260, 30 * len(labels) + 120),
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig


def care_phase_chart(frame: pd.DataFrame) -> go.Figure:
    """Pupils per care phase per grade (frame of care_phase_counts)."""
    title = "Leerlingen per zorgfase"
    if frame.empty:
        return _empty(title, "Geen leerlingen ingeschreven in dit schooljaar.")
    groups = frame.drop_duplicates(["level", "grade"])
    prefix = {"kleuter": "K", "lager": "L", "secundair": "S"}
    labels = {
        (r["level"], r["grade"]): f"{prefix.get(r['level'], '')}{r['grade']} ({_n(r)})"
        for r in groups.to_dict("records")
    }
    fig = go.Figure()
    for phase in (0, 1, 2, 3):
        rows = frame[frame["phase"] == phase]
        x = [labels[(lv, g)] for lv, g in zip(rows["level"], rows["grade"], strict=True)]
        hover = [
            f"{xx}<br>{PHASE_NAMES[phase]}: {HIDDEN}"
            if r["suppressed"]
            else f"{xx}<br>{PHASE_NAMES[phase]}: {int(r['count'])} van {int(r['n'])} ({_share(r['share'])})"
            for xx, r in zip(x, rows.to_dict("records"), strict=True)
        ]
        fig.add_bar(
            x=x,
            y=rows["count"].astype("Float64").astype(float),
            name=PHASE_NAMES[phase],
            marker_color=PHASE_COLOURS.get(phase, "#BBBBBB"),
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis={"title": "Leerjaar", "categoryorder": "array", "categoryarray": list(labels.values())},
        yaxis={"title": "Aantal leerlingen"},
        legend={"title": "Zorgfase"},
        height=380,
        margin={"t": 50, "b": 40, "l": 10, "r": 10},
    )
    return fig
