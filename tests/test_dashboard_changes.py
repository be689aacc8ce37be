"""What slipped since last year: per grade × domain (year_over_year) and per class with the same pupils
(class_changes), against hand-computed values; small groups hidden."""

from __future__ import annotations

import statistics

import pandas as pd
import pytest

from dossier import dashboards as dash
from dossier.access import ALL, POLICY, AccessDenied
from dossier.instruments import zone_for_percentile
from tests.factories import make_school
from tests.test_dashboards import add_lvs, add_pupils, sign_in


def share_d_e(values):
    return sum(zone_for_percentile(p) in ("D", "E") for p in values) / len(values)


@pytest.fixture
def school(db):
    return make_school(db)


@pytest.fixture
def two_years(db, school):
    """Grade 1 both years. This year L1A has 3 + 3 pupils, who were in K3A last year but (for the test)
    took a grade-1 wiskunde test at begin last year too. Last year's L1A had 6 other pupils."""
    year, prev = school.year, school.previous_year
    extra = add_pupils(db, school.classes["L1A"], year, 3)
    now_pupils = [school.pupils["30004"], school.pupils["30005"], school.pupils["30006"], *extra]
    last_year_l1 = add_pupils(db, school.previous_classes["L1A"], prev, 6)
    now = [60, 40, 20, 8, 70, 30]  # D/E: 20, 8 -> 2/6
    before_same = [70, 55, 30, 30, 80, 45]  # the same pupils a year earlier: 0/6
    before_grade = [10, 5, 60, 70, 80, 90]  # last year's grade 1 (other pupils): 2/6
    add_lvs(db, [(p, year, "begin", "wiskunde", v) for p, v in zip(now_pupils, now, strict=True)])
    add_lvs(db, [(p, prev, "begin", "wiskunde", v) for p, v in zip(now_pupils, before_same, strict=True)], grade=0)
    add_lvs(db, [(p, prev, "begin", "wiskunde", v) for p, v in zip(last_year_l1, before_grade, strict=True)])
    return {"now": now, "before_same": before_same, "before_grade": before_grade, "pupils": now_pupils}


def test_year_over_year_per_grade_and_domain(db, school, two_years):
    trends = dash.school_trends(db, sign_in(db, "directie"))
    frame = dash.year_over_year(trends, school.year, "begin")
    row = frame[(frame["grade"] == 1) & (frame["domain"] == "wiskunde")].iloc[0]
    now, before = two_years["now"], two_years["before_grade"]
    assert (row["n"], row["n_before"]) == (6, 6)
    assert row["share_d_e"] == pytest.approx(share_d_e(now))
    assert row["share_d_e_before"] == pytest.approx(share_d_e(before))
    assert row["change_share_d_e"] == pytest.approx(share_d_e(now) - share_d_e(before))
    assert row["change_median"] == pytest.approx(statistics.median(now) - statistics.median(before))
    # Share D+E equal (2/6 both years), median 35 against 65: slipped.
    assert bool(row["slipped"])


def test_year_over_year_without_last_year_has_no_change(db, school, two_years):
    add_lvs(db, [(p, school.year, "begin", "spelling", 50) for p in two_years["pupils"]])
    frame = dash.year_over_year(dash.school_trends(db, sign_in(db, "zorg")), school.year, "begin")
    spelling = frame[frame["domain"] == "spelling"].iloc[0]
    assert pd.isna(spelling["n_before"]) and pd.isna(spelling["change_share_d_e"])
    assert not spelling["slipped"]
    assert list(frame["domain"]) == ["wiskunde", "spelling"]


def test_slipped_means_a_rise_in_d_and_e_or_a_lower_median_by_the_threshold():
    base = {
        "grade": 3,
        "domain": "wiskunde",
        "school_year": "2025-2026",
        "moment": "begin",
        "moment_order": 1,
        "n": 20,
        "n_d_e": 5,
        "suppressed": False,
    }
    up, down = dash.SLIP_SHARE, dash.SLIP_MEDIAN
    cases = [
        # (share now, share before, median now, median before, slipped)
        (0.20 + up, 0.20, 50, 50, True),
        (0.20 + up - 0.01, 0.20, 50, 50, False),
        (0.25, 0.25, 50 - down, 50, True),
        (0.25, 0.25, 50 - down + 1, 50, False),
        (0.10, 0.30, 30, 60, True),
        (0.30, 0.30, 70, 60, False),
    ]
    for share_now, share_before, median_now, median_before, slipped in cases:
        trends = pd.DataFrame(
            [
                {**base, "share_d_e": share_now, "median_percentile": median_now},
                {**base, "school_year": "2024-2025", "share_d_e": share_before, "median_percentile": median_before},
            ]
        )
        row = dash.year_over_year(trends, "2025-2026", "begin").iloc[0]
        assert bool(row["slipped"]) is slipped, (share_now, share_before, median_now, median_before)


def test_year_over_year_refuses_bad_input_in_dutch(db, school, two_years):
    trends = dash.school_trends(db, sign_in(db, "zorg"))
    with pytest.raises(dash.DashboardError, match="toetsmoment"):
        dash.year_over_year(trends, school.year, "later")
    with pytest.raises(dash.DashboardError, match="schooljaar"):
        dash.year_over_year(trends, "2025", "begin")


def test_latest_moment(db, school, two_years):
    trends = dash.school_trends(db, sign_in(db, "zorg"))
    assert dash.latest_moment(trends, school.year) == "begin"
    add_lvs(db, [(two_years["pupils"][0], school.year, "midden", "wiskunde", 50)])
    assert dash.latest_moment(dash.school_trends(db, sign_in(db, "zorg")), school.year) == "midden"
    assert dash.latest_moment(trends, "1999-2000") is None


def test_class_changes_follow_the_same_pupils(db, school, two_years):
    frame = dash.class_changes(db, sign_in(db, "directie"), school.year, "begin")
    assert list(frame["class_name"]) == ["L1A"]
    row = frame.iloc[0]
    now, before = two_years["now"], two_years["before_same"]
    assert row["n"] == 6 and row["class_id"] == school.classes["L1A"]
    assert row["share_d_e"] == pytest.approx(share_d_e(now))
    assert row["share_d_e_before"] == pytest.approx(share_d_e(before))
    assert row["median_percentile"] == pytest.approx(statistics.median(now))
    assert row["median_percentile_before"] == pytest.approx(statistics.median(before))
    assert row["change_share_d_e"] == pytest.approx(2 / 6)
    assert bool(row["slipped"]) and not row["suppressed"]


def test_class_changes_count_only_pupils_tested_both_times(db, school, two_years):
    # A newcomer tested only this year does not count in the comparison.
    newcomer = add_pupils(db, school.classes["L1A"], school.year, 1)[0]
    add_lvs(db, [(newcomer, school.year, "begin", "wiskunde", 2)])
    row = dash.class_changes(db, sign_in(db, "zorg"), school.year, "begin").iloc[0]
    assert row["n"] == 6


def test_class_changes_hide_small_groups_in_exports_and_for_roles_without_access(db, school, two_years, monkeypatch):
    # L1B: three pupils compared: shown to the directie on screen, hidden in an export.
    year, prev = school.year, school.previous_year
    l1b = [school.pupils[n] for n in ("30007", "30008", "30009")]
    add_lvs(db, [(p, year, "begin", "wiskunde", 50) for p in l1b])
    add_lvs(db, [(p, prev, "begin", "wiskunde", 50) for p in l1b], grade=0)
    directie = sign_in(db, "directie")
    shown = dash.class_changes(db, directie, year, "begin").set_index("class_name")
    assert shown.loc["L1B", "n"] == 3 and not shown.loc["L1B", "suppressed"]
    exported = dash.class_changes(db, directie, year, "begin", export=True).set_index("class_name")
    assert exported.loc["L1B", "suppressed"] and pd.isna(exported.loc["L1B", "share_d_e"])
    assert pd.isna(exported.loc["L1B", "change_median"]) and not exported.loc["L1B", "slipped"]
    assert not exported.loc["L1A", "suppressed"] and exported.loc["L1A", "n"] == 6
    # A role given the school view without access to every pupil: small groups hidden on screen.
    monkeypatch.setitem(POLICY["dashboard.school"], "leerkracht", ALL)
    teacher = dash.class_changes(db, sign_in(db, "juf.l1a"), year, "begin").set_index("class_name")
    assert teacher.loc["L1B", "suppressed"] and not teacher.loc["L1A", "suppressed"]


def test_class_changes_refused_without_the_school_view(db, school, two_years):
    for username in ("juf.l1a", "clb", "beheer"):
        with pytest.raises(AccessDenied, match="schooldashboard"):
            dash.class_changes(db, sign_in(db, username), school.year, "begin")
    with pytest.raises(dash.DashboardError, match="toetsmoment"):
        dash.class_changes(db, sign_in(db, "zorg"), school.year, "'; DROP TABLE pupil; --")
