"""Pure chart builders: data frames in, plotly figures out. Dutch labels, no Streamlit."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

# Okabe-Ito: colour-blind safe.
LEVEL_COLOURS = {"kleuter": "#E69F00", "lager": "#0072B2", "secundair": "#009E73"}
LEVEL_LABELS = {"kleuter": "Kleuter", "lager": "Lager", "secundair": "Secundair"}


def pupils_per_class(classes: pd.DataFrame, school_year: str) -> go.Figure:
    """Bar per class (columns name, level, pupils), coloured by level."""
    fig = go.Figure()
    for level, group in classes.groupby("level", sort=False):
        fig.add_bar(
            x=group["name"],
            y=group["pupils"],
            name=LEVEL_LABELS.get(level, level),
            marker_color=LEVEL_COLOURS.get(level, "#999999"),
            hovertemplate="Klas %{x}<br>%{y} leerlingen<extra></extra>",
        )
    fig.update_layout(
        title=f"Leerlingen per klas, schooljaar {school_year}",
        xaxis_title="Klas",
        yaxis_title="Aantal leerlingen",
        legend_title="Niveau",
        xaxis={"categoryorder": "array", "categoryarray": list(classes["name"])},
        margin={"t": 50, "b": 40, "l": 40, "r": 10},
        height=360,
    )
    return fig
