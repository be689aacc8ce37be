"""The pupil timeline builder as a pure function: traces, bands, markers, phases."""

from datetime import date

import pandas as pd
import pytest

from dossier.palette import ZONE_COLOURS
from dossier.timeline import TimelineData, pupil_timeline

AVI = ("AVI-Start", "M3", "E3", "M4", "E4", "M5", "E5", "M6", "E6", "M7", "E7", "AVI-Plus")


def lvs_frame():
    return pd.DataFrame(
        {
            "test_date": pd.to_datetime(["2024-10-08", "2025-02-04", "2024-10-08", "2025-02-04"]),
            "domain": ["wiskunde", "wiskunde", "spelling", "spelling"],
            "moment": ["begin", "midden", "begin", "midden"],
            "percentile": [45.0, 5.0, 30.0, 55.0],
            "zone": ["C", "E", "C", "B"],
            "raw_score": [22.0, 2.0, 15.0, 28.0],
            "max_score": [50.0, 50.0, 50.0, 50.0],
        }
    )


def full_data():
    return TimelineData(
        lvs=lvs_frame(),
        avi=pd.DataFrame(
            {
                "test_date": pd.to_datetime(["2025-02-11", "2025-06-10", "2025-06-10"]),
                "moment": ["midden", "eind", "eind"],
                "level_achieved": ["M3", "E3", "M3"],
                "level_rank": [1, 2, 1],
                "expected_rank": [1, 2, 2],
                "card": ["M3", "E3", "M3"],
                "card_result": ["beheersing", "instructie", "beheersing"],
            }
        ),
        dmt=pd.DataFrame(
            {
                "test_date": pd.to_datetime(["2025-01-21"]),
                "moment": ["midden"],
                "card1_correct": [40],
                "card2_correct": [46],
                "card3_correct": [39],
                "percentile": [70.0],
                "zone": ["B"],
            }
        ),
        registrations=pd.DataFrame(
            {
                "fact_date": pd.to_datetime(["2024-11-05", "2025-02-20"]),
                "type_label": ["Observatie", "MDO-bespreking"],
                "facts": ["<script>alert(1)</script> wiebelt voortdurend", "Besproken op MDO"],
                "author_name": ["Juf Sarah", "Zorgcoördinator"],
            }
        ),
        phases=pd.DataFrame({"phase": [1], "start_date": [date(2025, 2, 20)], "end_date": [pd.NaT]}),
        measures=pd.DataFrame(
            {
                "category": ["remediëren"],
                "description": ["Extra oefenen rekenen in kleine groep"],
                "start_date": [date(2025, 2, 24)],
                "end_date": [pd.NaT],
                "evaluation_date": [date(2025, 4, 1)],
            }
        ),
        avi_levels=AVI,
    )


def names(fig):
    return [t.name for t in fig.data]


def test_all_lanes_with_bands_markers_and_phase():
    fig = pupil_timeline(full_data(), title="Tijdlijn Lina")
    # Lanes: LVS, AVI, DMT, measures, registrations (no wellbeing data given).
    titles = [a.text for a in fig.layout.annotations]
    assert "LVS-VCLB: percentiel" in titles and "Registraties" in titles and "Maatregelen" in titles
    assert "Welbevinden en betrokkenheid (1–5)" not in [a.text for a in fig.layout.annotations]
    # One line per LVS domain, AVI achieved + expected, three DMT cards, one marker trace per registration type.
    assert {"Wiskunde", "Spelling", "AVI behaald", "AVI verwacht", "DMT kaart 1", "DMT kaart 3"} <= set(names(fig))
    assert {"Observatie", "MDO-bespreking"} <= set(names(fig))
    # Five zone bands in the zone colours, and one phase period.
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    bands = [s for s in rects if s.xref == "x domain" and s.yref == "y"]
    assert [s.fillcolor for s in bands] == [ZONE_COLOURS[z] for z in "ABCDE"]
    phase_rects = [s for s in rects if s.yref.endswith("domain")]
    assert len(phase_rects) == 5  # one period, shaded on each of the five lanes
    assert [a.text for a in fig.layout.annotations].count("Fase 1 – verhoogde zorg") == 1
    assert fig.layout.xaxis.rangeselector.buttons[-1].label == "alles"


def test_zone_colour_follows_each_result():
    fig = pupil_timeline(full_data())
    maths = next(t for t in fig.data if t.name == "Wiskunde")
    assert list(maths.marker.color) == [ZONE_COLOURS["C"], ZONE_COLOURS["E"]]
    assert list(maths.y) == [45.0, 5.0]


def test_avi_shows_best_card_per_day_against_expected():
    fig = pupil_timeline(full_data())
    achieved = next(t for t in fig.data if t.name == "AVI behaald")
    assert list(achieved.y) == [1, 2]
    expected = next(t for t in fig.data if t.name == "AVI verwacht")
    assert list(expected.text) == ["M3", "E3"]
    # The axis labels the levels read and expected, one level either side, not all twelve.
    axis = fig.layout[expected.yaxis.replace("y", "yaxis")]
    assert list(axis.ticktext) == list(AVI[0:4]) and list(axis.tickvals) == [0, 1, 2, 3]


def test_user_text_is_escaped_in_hover():
    fig = pupil_timeline(full_data())
    observation = next(t for t in fig.data if t.name == "Observatie")
    assert "<script>" not in observation.text[0]
    assert "&lt;script&gt;" in observation.text[0]


def test_only_registrations_lane_when_no_results():
    data = TimelineData(
        registrations=pd.DataFrame(
            {
                "fact_date": [pd.Timestamp("2025-03-01")],
                "type_label": ["Oudergesprek"],
                "facts": ["x"],
                "author_name": ["a"],
            }
        )
    )
    fig = pupil_timeline(data)
    assert names(fig) == ["Oudergesprek"]


@pytest.mark.parametrize("bands", [{"A": 80, "B": 60, "C": 30, "D": 15}])
def test_school_specific_bands_are_drawn(bands):
    data = full_data()
    data.zone_bands = bands
    fig = pupil_timeline(data)
    lows = {s.y0 for s in fig.layout.shapes if s.type == "rect" and s.xref == "x domain"}
    assert {0, 15, 30, 60, 80} <= set(lows)
