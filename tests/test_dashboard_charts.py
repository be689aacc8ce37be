"""Dashboard chart builders: zone colours, Dutch labels, n on every aggregate, hidden small groups."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier import dashboard_charts as charts
from dossier import dashboards as dash
from dossier.dashboards import AVI_LEVELS
from dossier.palette import PHASE_COLOURS, ZONE_COLOURS
from tests.factories import make_school
from tests.test_dashboards import add_avi, add_lvs, add_pupils, sign_in


def overview_frame() -> pd.DataFrame:
    rows = []
    for pid, first, last, number in (
        (1, "Nora", "Maes", "30001"),
        (2, "Nora", "Maes", "30002"),
        (3, "<b>Jo", "X", "3"),
    ):
        for order, moment, pct, zone in ((1, "begin", 80.0, "A"), (2, "midden", 5.0, "E")):
            missing = pid == 3 and moment == "midden"
            rows.append(
                {
                    "pupil_id": pid,
                    "pupil_number": number,
                    "first_name": first,
                    "last_name": last,
                    "left_school": pid == 2,
                    "domain": "wiskunde",
                    "school_year": "2025-2026",
                    "moment": moment,
                    "moment_order": order,
                    "zone": None if missing else zone,
                    "percentile": None if missing else pct,
                }
            )
    return pd.DataFrame(rows)


def traces(fig, kind: str, *, clickable: bool | None = None) -> list:
    found = [t for t in fig.data if t.type == kind]
    if clickable is not None:
        found = [t for t in found if (t.customdata is not None) == clickable]
    return found


def test_heatmap_colours_cells_by_zone_and_shows_gaps():
    fig = charts.zone_heatmap(overview_frame())
    (trace,) = traces(fig, "heatmap")
    assert list(trace.x) == ["begin 2025-2026", "midden 2025-2026"]
    assert list(trace.y) == ["Nora Maes (30001)", "Nora Maes (30002) (vertrokken)", "&lt;b&gt;Jo X"]
    z = np.array(trace.z, dtype=float)
    assert z[0].tolist() == [0, 4] and z[2, 0] == 0 and np.isnan(z[2, 1])
    assert trace.text[0].tolist() == ["A", "E"] and trace.customdata[2][1] == "geen resultaat"
    assert "percentiel 80" in trace.customdata[0][0]
    # Zone index i maps to the palette colour of zone i, whatever the plotly version does with the scale.
    scale = trace.colorscale
    for i, zone in enumerate("ABCDE"):
        position = (i - trace.zmin) / (trace.zmax - trace.zmin)
        colour = [c for p, c in scale if p <= position][-1]
        assert colour.lower() == ZONE_COLOURS[zone].lower()
    assert list(trace.colorbar.ticktext) == list("ABCDE")
    assert "3 leerlingen" in fig.layout.title.text


def test_heatmap_names_are_one_clickable_point_per_pupil_with_its_id_and_no_links():
    frame = overview_frame()
    fig = charts.zone_heatmap(frame)
    (heatmap,) = traces(fig, "heatmap")
    labels = list(heatmap.y)
    (names,) = [t for t in traces(fig, "scatter", clickable=False) if t.mode == "text"]
    assert list(names.text) == labels and list(names.y) == labels and names.xaxis == "x"
    # The clickable column: one point per pupil, on the pupil's row, with the pupil id as customdata.
    (column,) = [t for t in traces(fig, "scatter", clickable=True) if t.xaxis == "x"]
    expected_ids = frame.drop_duplicates("pupil_id")["pupil_id"].tolist()
    assert list(column.y) == labels and list(column.customdata) == expected_ids
    assert list(column.hovertext) == [f"Open het dossier van {label}" for label in labels]
    # Names come from import files: plotly text renders some HTML, so they stay escaped.
    assert names.text[2] == "&lt;b&gt;Jo X" and "<b>" not in column.hovertext[2]
    assert "<a " not in fig.to_json() and "href" not in fig.to_json()
    assert fig.layout.yaxis.showticklabels is False
    assert fig.layout.hoverdistance == -1 and column.marker.size <= 10  # nearest point wins, see _click_marker


def test_every_heatmap_cell_has_a_click_point_for_its_pupil_with_the_cell_details():
    fig = charts.zone_heatmap(overview_frame())
    (cells,) = [t for t in traces(fig, "scatter", clickable=True) if t.xaxis == "x2"]
    (heatmap,) = traces(fig, "heatmap")
    assert heatmap.xaxis == "x2" and heatmap.hoverinfo == "skip"
    by_cell = {
        (x, y): (pid, hover)
        for x, y, pid, hover in zip(cells.x, cells.y, cells.customdata, cells.hovertext, strict=True)
    }
    assert len(by_cell) == len(heatmap.x) * len(heatmap.y) == len(cells.x)
    pid, hover = by_cell[("midden 2025-2026", "&lt;b&gt;Jo X")]
    assert pid == 3 and "geen resultaat" in hover  # a gap in the row still opens the pupil
    pid, hover = by_cell[("begin 2025-2026", "Nora Maes (30002) (vertrokken)")]
    assert pid == 2 and "Zone A · percentiel 80" in hover and "Wiskunde" in hover


def test_heatmap_has_one_panel_per_domain():
    frame = overview_frame()
    both = pd.concat([frame, frame.assign(domain="spelling")])
    fig = charts.zone_heatmap(both)
    assert [a.text for a in fig.layout.annotations] == ["Wiskunde", "Spelling"]
    heatmaps = traces(fig, "heatmap")
    assert len(heatmaps) == 2 and heatmaps[0].showscale and not heatmaps[1].showscale
    assert len(traces(fig, "scatter", clickable=True)) == 3  # the names column and one per panel
    assert len(traces(charts.zone_heatmap(both, domain="spelling"), "heatmap")) == 1


def selection(*customdata) -> dict:
    """What st.plotly_chart(on_select="rerun") returns after a click, with these points selected."""
    points = [{"curve_number": 1, "point_number": i, "customdata": c} for i, c in enumerate(customdata)]
    return {"selection": {"points": points, "point_indices": list(range(len(points))), "box": [], "lasso": []}}


def test_pupil_from_selection_reads_the_clicked_pupil_id():
    assert charts.pupil_from_selection(selection(42)) == 42
    assert charts.pupil_from_selection(selection(7, 42)) == 7
    assert charts.pupil_from_selection(selection(42.0)) == 42
    assert charts.pupil_from_selection(selection("geen resultaat", 9)) == 9


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"selection": {"points": [], "point_indices": [], "box": [], "lasso": []}},
        selection(None),
        selection("42"),
        selection(True),
        selection(-1),
        selection(0),
        selection(4.5),
        selection([42]),
        {"selection": {"points": "42"}},
        {"selection": None},
    ],
)
def test_pupil_from_selection_ignores_what_is_not_a_clicked_pupil(event):
    assert charts.pupil_from_selection(event) is None


@given(
    event=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_pupil_from_selection_never_raises_on_hostile_input(event):
    result = charts.pupil_from_selection({"selection": {"points": [event]}} if not isinstance(event, dict) else event)
    assert result is None or (isinstance(result, int) and result > 0)


def distribution_frame(counts: dict[str, int], *, suppressed: bool = False) -> pd.DataFrame:
    n = sum(counts.values())
    return pd.DataFrame(
        [
            {
                "domain": "spelling",
                "school_year": "2025-2026",
                "moment": "begin",
                "moment_order": 1,
                "zone": zone,
                "count": None if suppressed else count,
                "n": None if suppressed else n,
                "share": None if suppressed else count / n,
                "median_percentile": None if suppressed else 40.0,
                "norm_share": dash.norm_shares({"A": 75, "B": 50, "C": 25, "D": 11})[zone],
                "suppressed": suppressed,
            }
            for zone, count in counts.items()
        ]
    )


def test_distribution_stacks_zone_shares_against_the_norm_with_n():
    counts = {"A": 2, "B": 1, "C": 3, "D": 0, "E": 2}
    fig = charts.zone_distribution_chart(distribution_frame(counts))
    assert [t.name for t in fig.data] == [f"Zone {z}" for z in "ABCDE"]
    assert [t.marker.color for t in fig.data] == [ZONE_COLOURS[z] for z in "ABCDE"]
    assert list(fig.data[0].y) == ["Spelling · begin 2025-2026 (n=8)", "Norm"]
    for trace, zone in zip(fig.data, "ABCDE", strict=True):
        assert trace.x[0] == pytest.approx(counts[zone] / 8)
        assert trace.x[1] == pytest.approx({"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.15, "E": 0.10}[zone])
    assert "3 van 8 leerlingen" in fig.data[2].customdata[0]
    custom = charts.zone_distribution_chart(distribution_frame(counts), norm={z: 0.2 for z in "ABCDE"})
    assert [t.x[1] for t in custom.data] == [0.2] * 5


def test_distribution_shows_a_hidden_group_without_its_figures():
    fig = charts.zone_distribution_chart(distribution_frame({z: 1 for z in "ABCDE"}, suppressed=True))
    assert fig.data[0].y[0] == f"Spelling · begin 2025-2026 ({charts.HIDDEN})"
    assert all(t.x[0] == 0 for t in fig.data)
    assert all("verborgen" in t.customdata[0] for t in fig.data)


def growth_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pupil_id": [1, 2],
            "pupil_number": ["1", "2"],
            "first_name": ["An", "Bo"],
            "last_name": ["A", "B"],
            "left_school": [False, False],
            "domain": ["wiskunde", "wiskunde"],
            "zone_from": ["A", "D"],
            "zone_to": ["C", "B"],
            "zone_change": [-2, 2],
            "percentile_from": [80.0, 20.0],
            "percentile_to": [40.0, 60.0],
            "percentile_change": [-40.0, 40.0],
        }
    )


def test_growth_bars_per_pupil_coloured_by_zone_reached():
    fig = charts.growth_chart(growth_frame())
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"Nu zone B", "Nu zone C"}
    assert by_name["Nu zone C"].marker.color == ZONE_COLOURS["C"]
    assert list(by_name["Nu zone C"].x) == [-40.0] and list(by_name["Nu zone C"].text) == ["A→C"]
    hover = by_name["Nu zone C"].customdata[0]
    assert "zone A → C (-2 zones)" in hover and "percentiel 80 → 40 (-40)" in hover
    assert fig.layout.annotations[0].text == "Wiskunde (n=2)"


def test_growth_distribution_orders_movement_and_shows_n():
    frame = pd.DataFrame(
        {
            "domain": ["wiskunde"] * 3 + ["spelling"],
            "zone_change": [1, 0, -2, 0],
            "count": [2, 5, 1, 3],
            "n": [8, 8, 8, 3],
            "share": [0.25, 0.625, 0.125, 1.0],
            "median_percentile_change": [3.0, 3.0, 3.0, 0.0],
            "suppressed": [False, False, False, False],
        }
    )
    fig = charts.growth_distribution_chart(frame)
    assert list(fig.layout.xaxis.categoryarray) == ["1 zone hoger", "gelijk", "2 zones lager"]
    wiskunde, spelling = fig.data
    assert list(wiskunde.y) == [2, 5, 1] and list(spelling.y) == [0, 3, 0]
    assert wiskunde.name.startswith("Wiskunde (n=8") and "mediaan 3 percentielpunten" in wiskunde.name
    hidden = frame.assign(suppressed=frame["domain"] == "spelling")
    spelling = charts.growth_distribution_chart(hidden).data[1]
    assert all(v is None for v in spelling.y) and charts.HIDDEN in spelling.name


def test_avi_chart_marks_pupils_behind_the_expected_level():
    frame = pd.DataFrame(
        {
            "pupil_id": [1, 2, 3],
            "pupil_number": ["1", "2", "3"],
            "first_name": ["An", "Bo", "Cas"],
            "last_name": ["A", "B", "C"],
            "school_year": ["2025-2026"] * 3,
            "moment": ["eind"] * 3,
            "moment_order": [3] * 3,
            "level_rank": [2, 1, 0],
            "level": ["E3", "M3", "AVI-Start"],
            "expected_rank": [2, 2, 2],
            "expected_level": ["E3", "E3", "E3"],
            "steps": [0, -1, -2],
        }
    )
    fig = charts.avi_chart(frame)
    assert list(fig.layout.xaxis.ticktext) == list(AVI_LEVELS)
    names = [t.name for t in fig.data]
    assert names == [
        "Verwacht niveau",
        "op of boven het verwachte niveau (1)",
        "1 stap eronder (1)",
        "2 of meer stappen eronder (1)",
    ]
    assert fig.data[3].marker.color == ZONE_COLOURS["E"] and list(fig.data[3].y) == ["Cas C"]
    assert "n=3, 1 met 2 of meer stappen achterstand" in fig.layout.title.text


def test_dmt_and_wellbeing_charts_show_n():
    dmt = pd.DataFrame(
        {
            "pupil_id": [1, 2],
            "pupil_number": ["1", "2"],
            "first_name": ["An", "Bo"],
            "last_name": ["A", "B"],
            "school_year": ["2025-2026"] * 2,
            "moment": ["eind"] * 2,
            "moment_order": [3, 3],
            "card1_correct": [30, 50],
            "card2_correct": [20, 40],
            "card3_correct": [10, 30],
            "card1_errors": [1, 0],
            "card2_errors": [2, 0],
            "card3_errors": [3, 1],
            "total_correct": [60, 120],
            "zone": ["D", "A"],
        }
    )
    fig = charts.dmt_chart(dmt)
    assert [t.name for t in fig.data] == ["Kaart 1 (mediaan 40)", "Kaart 2 (mediaan 30)", "Kaart 3 (mediaan 20)"]
    assert "(n=2)" in fig.layout.title.text and "Totaal 60 · zone D" in fig.data[0].customdata[0]
    leuven = pd.DataFrame(
        {
            "pupil_id": [1, 1, 2],
            "first_name": ["An", "An", "Bo"],
            "last_name": ["A", "A", "B"],
            "observed_on": pd.to_datetime(["2025-10-01", "2026-01-10", "2025-10-01"]),
            "scale": ["welbevinden"] * 3,
            "score_text": ["2", "3+", "4"],
            "score": [2.0, 3.5, 4.0],
        }
    )
    fig = charts.wellbeing_chart(leuven)
    (trace,) = fig.data
    assert list(trace.x) == [3.5, 4.0]  # the latest observation per pupil
    assert trace.name == "Welbevinden (n=2, mediaan 3.75)" and "10/01/2026" in trace.customdata[0]


def trend_frame(suppress_grade2: bool = False) -> pd.DataFrame:
    rows = []
    for grade, n in ((1, 24), (2, 4)):
        for year in ("2024-2025", "2025-2026"):
            hidden = suppress_grade2 and grade == 2
            rows.append(
                {
                    "grade": grade,
                    "domain": "wiskunde",
                    "school_year": year,
                    "moment": "begin",
                    "moment_order": 1,
                    "n": None if hidden else n + (year == "2025-2026"),
                    "n_d_e": None if hidden else 3,
                    "share_d_e": None if hidden else 3 / n,
                    "median_percentile": None if hidden else 50.0,
                    "suppressed": hidden,
                }
            )
    return pd.DataFrame(rows)


def test_school_trend_has_a_line_per_grade_with_n_and_the_norm():
    fig = charts.school_trend_chart(trend_frame(), "wiskunde")
    assert [t.name for t in fig.data] == ["Leerjaar 1 (n=24-25)", "Leerjaar 2 (n=4-5)"]
    assert list(fig.data[0].y) == pytest.approx([3 / 24, 3 / 24])
    assert "n=24 · D+E 12%" in fig.data[0].customdata[0]
    assert fig.layout.shapes[0].y0 == 0.25
    hidden = charts.school_trend_chart(trend_frame(suppress_grade2=True), "wiskunde")
    assert hidden.data[1].name == f"Leerjaar 2 ({charts.HIDDEN})"
    assert all(np.isnan(v) for v in hidden.data[1].y) and "verborgen" in hidden.data[1].customdata[0]
    median = charts.school_trend_chart(trend_frame(), "wiskunde", measure="median_percentile")
    assert list(median.data[0].y) == [50.0, 50.0] and median.layout.shapes[0].y0 == 50
    with pytest.raises(ValueError, match="Onbekende maat"):
        charts.school_trend_chart(trend_frame(), "wiskunde", measure="gemiddelde")


def test_cohort_chart_follows_each_cohort():
    frame = pd.DataFrame(
        {
            "cohort": ["2024-2025", "2024-2025", "2019-2020"],
            "school_year": ["2024-2025", "2025-2026", "2025-2026"],
            "cohort_grade": [1, 2, 7],
            "moment": ["eind", "begin", "begin"],
            "moment_order": [3, 1, 1],
            "n": [20, 21, 1],
            "n_d_e": [4, 5, 1],
            "share_d_e": [0.2, 5 / 21, 1.0],
            "median_percentile": [50.0, 48.0, 9.0],
            "suppressed": [False, False, False],
        }
    )
    fig = charts.cohort_chart(frame, domain="wiskunde")
    assert [t.name for t in fig.data] == ["Instroom L1 2019-2020 (n=1)", "Instroom L1 2024-2025 (n=20-21)"]
    assert list(fig.data[1].x) == ["L1 eind", "L2 begin"] and list(fig.data[0].x) == ["jaar 7 begin"]
    assert "(Wiskunde)" in fig.layout.title.text


def test_compare_classes_and_care_phases_show_n_and_hide_small_groups():
    classes = pd.DataFrame(
        {
            "class_id": [1, 2],
            "class_name": ["L1A", "L1B"],
            "level": ["lager"] * 2,
            "grade": [1, 1],
            "n": [10, None],
            **{f"count_{z}": [2, None] for z in "ABCDE"},
            "share_d_e": [0.4, None],
            "median_percentile": [47.0, None],
            "suppressed": [False, True],
        }
    )
    fig = charts.compare_classes_chart(classes, "wiskunde begin")
    assert list(fig.data[0].y) == ["L1A (n=10), mediaan P47", f"L1B ({charts.HIDDEN})"]
    assert [t.x[0] for t in fig.data] == pytest.approx([0.2] * 5) and all(t.x[1] == 0 for t in fig.data)
    phases = pd.DataFrame(
        {
            "level": ["lager"] * 4,
            "grade": [1] * 4,
            "phase": [0, 1, 2, 3],
            "count": [7, 2, 1, 0],
            "n": [10] * 4,
            "share": [0.7, 0.2, 0.1, 0.0],
            "suppressed": [False] * 4,
        }
    )
    fig = charts.care_phase_chart(phases)
    assert [t.name for t in fig.data] == ["Fase 0 / geen", "Fase 1", "Fase 2", "Fase 3"]
    assert [t.marker.color for t in fig.data[1:]] == [PHASE_COLOURS[p] for p in (1, 2, 3)]
    assert list(fig.data[1].x) == ["L1 (n=10)"] and "2 van 10 (20%)" in fig.data[1].customdata[0]


@pytest.mark.parametrize(
    "builder",
    [
        charts.zone_heatmap,
        charts.zone_distribution_chart,
        charts.growth_chart,
        charts.growth_distribution_chart,
        charts.avi_chart,
        charts.dmt_chart,
        charts.wellbeing_chart,
        lambda f: charts.school_trend_chart(f, "wiskunde"),
        charts.cohort_chart,
        charts.compare_classes_chart,
        charts.care_phase_chart,
    ],
)
def test_empty_frames_give_a_figure_with_a_dutch_message(builder):
    fig = builder(pd.DataFrame())
    assert fig.layout.annotations and fig.layout.annotations[0].text.startswith(("Nog geen", "Geen"))


def test_every_builder_accepts_what_the_queries_return(db):
    school = make_school(db)
    year = school.year
    extra = add_pupils(db, school.classes["L1A"], year, 3)
    pupils = [school.pupils[n] for n in ("30004", "30005", "30006")] + extra
    add_lvs(db, [(p, year, "begin", "wiskunde", 10 + 15 * i) for i, p in enumerate(pupils)])
    add_lvs(db, [(p, year, "midden", "wiskunde", 90 - 15 * i) for i, p in enumerate(pupils)])
    add_avi(db, pupils[0], year, "midden", 1, [("M3", 1)])
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO dmt_result (pupil_id, school_year, test_date, grade, moment, card1_correct, card2_correct,"
            " card3_correct, card1_errors) VALUES (?, ?, ?, 1, 'midden', 20, 15, 9, 1)",
            [pupils[1], year, date(int(year[:4]) + 1, 2, 1)],
        )
    )
    zorg, klas = sign_in(db, "zorg"), school.classes["L1A"]
    figures = [
        charts.zone_heatmap(dash.class_overview(db, zorg, klas)),
        charts.zone_distribution_chart(dash.zone_distribution(db, zorg, klas, export=True)),
        charts.growth_chart(dash.growth(db, zorg, klas, "begin", "midden")),
        charts.growth_distribution_chart(dash.growth_distribution(db, zorg, klas, "begin", "midden")),
        charts.avi_chart(dash.avi_vs_expected(db, zorg, klas)),
        charts.dmt_chart(dash.dmt_cards(db, zorg, klas)),
        charts.wellbeing_chart(dash.wellbeing(db, zorg, school.classes["K3A"])),
        charts.school_trend_chart(dash.school_trends(db, zorg, export=True), "wiskunde"),
        charts.cohort_chart(dash.cohorts(db, zorg, "wiskunde")),
        charts.compare_classes_chart(dash.compare_classes(db, zorg, year, "wiskunde", "begin", export=True)),
        charts.care_phase_chart(dash.care_phase_counts(db, zorg, year, export=True)),
    ]
    for fig in figures:
        assert fig.to_json()
    assert len(figures[0].data[0].y) == len(pupils)
    assert figures[1].data[0].y[0] == "Wiskunde · begin " + year + " (n=6)"
    compared = figures[9].data[0].y
    assert compared[0].startswith("L1A (n=6)")
