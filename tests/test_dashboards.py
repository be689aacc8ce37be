"""Class and school dashboards: scope, hand-computed aggregates, small-group suppression."""

from __future__ import annotations

import itertools
import statistics
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import dashboards as dash
from dossier.access import ALL, POLICY, AccessDenied
from dossier.db import set_setting
from dossier.instruments import zone_for_percentile
from dossier.users import authenticate
from tests.factories import PASSWORD, make_school

_numbers = itertools.count(50001)


# -- helpers shared with test_signals ------------------------------------------------------


def sign_in(db, username):
    user = authenticate(db, username, PASSWORD)
    assert user is not None
    return user


def moment_date(year: str, moment: str) -> date:
    start = int(year[:4])
    return {"begin": date(start, 10, 1), "midden": date(start + 1, 2, 2), "eind": date(start + 1, 6, 1)}[moment]


def add_pupils(db, class_id: int, year: str, count: int, *, entry_date: date | None = None) -> list[int]:
    """`count` extra pupils enrolled in class `class_id` for `year`."""

    def write(cur):
        ids = []
        for _ in range(count):
            number = str(next(_numbers))
            pid = cur.execute(
                "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date) VALUES (?, ?, ?, ?) RETURNING id",
                [number, f"Extra{number}", "Test", date(2019, 1, 1)],
            ).fetchone()[0]
            cur.execute(
                "INSERT INTO enrolment (pupil_id, school_year, class_id, entry_date) VALUES (?, ?, ?, ?)",
                [pid, year, class_id, entry_date],
            )
            ids.append(pid)
        return ids

    return db.write(write)


def add_lvs(db, rows, *, grade: int = 1) -> None:
    """rows: (pupil_id, school_year, moment, domain, percentile[, zone]); the zone defaults to the band's."""

    def write(cur):
        for row in rows:
            pupil_id, year, moment, domain, percentile, *zone = row
            cur.execute(
                "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, percentile, zone)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    pupil_id,
                    year,
                    moment_date(year, moment),
                    grade,
                    domain,
                    moment,
                    percentile,
                    zone[0] if zone else zone_for_percentile(percentile),
                ],
            )

    db.write(write)


def add_avi(db, pupil_id, year, moment, grade, cards) -> None:
    """cards: [(card, level_rank)]; one row per card read on the same day."""

    def write(cur):
        for card, rank in cards:
            cur.execute(
                "INSERT INTO avi_result (pupil_id, school_year, test_date, grade, moment, card, card_result,"
                " level_achieved, level_rank) VALUES (?, ?, ?, ?, ?, ?, 'beheersing', ?, ?)",
                [pupil_id, year, moment_date(year, moment), grade, moment, card, dash.AVI_LEVELS[rank], rank],
            )

    db.write(write)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def school(db):
    return make_school(db)


@pytest.fixture
def l1a(db, school):
    """L1A with 3 + 4 = 7 pupils (enough for aggregates), wiskunde at begin and midden."""
    year = school.year
    extra = add_pupils(db, school.classes["L1A"], year, 4)
    pupils = [school.pupils["30004"], school.pupils["30005"], school.pupils["30006"], *extra]
    begin = [80, 60, 55, 30, 20, 8, 40]
    midden = [85, 40, 9, 30, 50, 5, None]  # the last pupil missed the midden test
    add_lvs(db, [(p, year, "begin", "wiskunde", pct) for p, pct in zip(pupils, begin, strict=True)])
    add_lvs(
        db, [(p, year, "midden", "wiskunde", pct) for p, pct in zip(pupils, midden, strict=True) if pct is not None]
    )
    return {"pupils": pupils, "begin": begin, "midden": midden, "class_id": school.classes["L1A"]}


CLASS_QUERIES = [
    ("class_overview", lambda db, u, c: dash.class_overview(db, u, c)),
    ("zone_distribution", lambda db, u, c: dash.zone_distribution(db, u, c)),
    ("growth", lambda db, u, c: dash.growth(db, u, c, "begin", "midden")),
    ("growth_distribution", lambda db, u, c: dash.growth_distribution(db, u, c, "begin", "midden")),
    ("avi_vs_expected", lambda db, u, c: dash.avi_vs_expected(db, u, c)),
    ("dmt_cards", lambda db, u, c: dash.dmt_cards(db, u, c)),
    ("wellbeing", lambda db, u, c: dash.wellbeing(db, u, c)),
    ("care_overview", lambda db, u, c: dash.care_overview(db, u, c)),
    ("class_info", lambda db, u, c: dash.class_info(db, u, c)),
]


# -- scope ---------------------------------------------------------------------------------


def test_teacher_cannot_open_another_class_even_with_a_crafted_id(db, school, l1a):
    teacher = sign_in(db, "juf.l1a")
    crafted = [
        school.classes["L1B"],
        str(school.classes["L1B"]),
        school.previous_classes["L1A"],  # own class name, but last year's class
        -1,
        2**40,
        True,
        None,
        "1 OR 1=1",
        f"{school.classes['L1A']}; DROP TABLE pupil",
        1.5,
    ]
    for name, query in CLASS_QUERIES:
        query(db, teacher, school.classes["L1A"])  # own class: fine
        for class_id in crafted:
            with pytest.raises(AccessDenied, match="valt buiten jouw klassen"):
                query(db, teacher, class_id)
                pytest.fail(f"{name} opened class {class_id!r}")


def test_beheerder_gets_no_class_dashboard(db, school):
    beheer = sign_in(db, "beheer")
    for name, query in CLASS_QUERIES:
        with pytest.raises(AccessDenied, match="Beheerder"):
            query(db, beheer, school.classes["L1A"])
            pytest.fail(f"{name} opened for the beheerder")


def test_teacher_overview_holds_only_own_pupils(db, school, l1a):
    add_lvs(db, [(school.pupils["30007"], school.year, "begin", "wiskunde", 50)])  # an L1B pupil
    frame = dash.class_overview(db, sign_in(db, "juf.l1a"), school.classes["L1A"])
    assert set(frame["pupil_id"]) == set(l1a["pupils"])
    assert school.pupils["30007"] not in set(frame["pupil_id"])


def test_school_view_refused_to_teachers_and_clb_and_allowed_to_staff(db, school, l1a):
    for username in ("juf.l1a", "meester.l1b", "clb", "beheer"):
        user = sign_in(db, username)
        for query in (
            lambda u: dash.school_trends(db, u),
            lambda u: dash.cohorts(db, u, "wiskunde"),
            lambda u: dash.compare_classes(db, u, school.year, "wiskunde", "begin"),
            lambda u: dash.care_phase_counts(db, u, school.year),
        ):
            with pytest.raises(AccessDenied, match="schooldashboard"):
                query(user)
    for username in ("zorg", "directie"):
        assert not dash.school_trends(db, sign_in(db, username)).empty


# -- class dashboard -----------------------------------------------------------------------


def test_overview_has_a_cell_per_pupil_and_moment_with_gaps_and_history(db, school, l1a):
    # Last year (in K3A) one of the pupils already had a result: history of one year is included.
    add_lvs(db, [(school.pupils["30004"], school.previous_year, "eind", "spelling", 70)])
    frame = dash.class_overview(db, sign_in(db, "zorg"), school.classes["L1A"])
    moments = set(zip(frame["domain"], frame["school_year"], frame["moment"], strict=True))
    assert moments == {
        ("wiskunde", school.year, "begin"),
        ("wiskunde", school.year, "midden"),
        ("spelling", school.previous_year, "eind"),
    }
    assert len(frame) == len(l1a["pupils"]) * 3
    missing = frame[(frame["moment"] == "midden") & frame["zone"].isna()]
    assert list(missing["pupil_id"]) == [l1a["pupils"][-1]]
    first = frame[(frame["pupil_id"] == l1a["pupils"][0]) & (frame["moment"] == "begin")].iloc[0]
    assert (first["zone"], first["percentile"]) == (zone_for_percentile(80), 80)
    without_history = dash.class_overview(db, sign_in(db, "zorg"), school.classes["L1A"], history=0)
    assert set(without_history["school_year"]) == {school.year}


def test_zone_distribution_matches_hand_counts_and_norm(db, school, l1a):
    frame = dash.zone_distribution(db, sign_in(db, "juf.l1a"), school.classes["L1A"])
    for moment in ("begin", "midden"):
        values = [p for p in l1a[moment] if p is not None]
        part = frame[frame["moment"] == moment].set_index("zone")
        assert list(part.index) == ["A", "B", "C", "D", "E"]
        for zone in "ABCDE":
            expected = sum(zone_for_percentile(p) == zone for p in values)
            assert part.loc[zone, "count"] == expected
            assert part.loc[zone, "share"] == pytest.approx(expected / len(values))
        assert set(part["n"]) == {len(values)}
        assert part["median_percentile"].iloc[0] == pytest.approx(statistics.median(values))
    norm = frame[frame["moment"] == "begin"].set_index("zone")["norm_share"]
    assert norm.to_dict() == pytest.approx({"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.15, "E": 0.10})
    assert not frame["suppressed"].any()


def test_norm_follows_the_schools_own_bands(db, school, l1a):
    db.write(lambda cur: set_setting(cur, "zone_bands", '{"A": 80, "B": 60, "C": 30, "D": 16}'))
    frame = dash.zone_distribution(db, sign_in(db, "zorg"), school.classes["L1A"])
    norm = frame[frame["moment"] == "begin"].set_index("zone")["norm_share"]
    assert norm.to_dict() == pytest.approx({"A": 0.20, "B": 0.20, "C": 0.30, "D": 0.15, "E": 0.15})
    assert sum(dash.norm_shares({"A": 80, "B": 60, "C": 30, "D": 16}).values()) == pytest.approx(1)


def test_export_hides_groups_smaller_than_five(db, school, l1a):
    # L1B has three pupils: fine on screen for its teacher, hidden in an export.
    add_lvs(db, [(school.pupils[n], school.year, "begin", "spelling", 50) for n in ("30007", "30008", "30009")])
    teacher = sign_in(db, "meester.l1b")
    shown = dash.zone_distribution(db, teacher, school.classes["L1B"])
    assert shown["n"].tolist() == [3] * 5 and not shown["suppressed"].any()
    exported = dash.zone_distribution(db, teacher, school.classes["L1B"], export=True)
    assert exported["suppressed"].all()
    assert exported[["n", "count", "share", "median_percentile"]].isna().all().all()
    # Seven pupils are not hidden, even in an export.
    big = dash.zone_distribution(db, sign_in(db, "juf.l1a"), school.classes["L1A"], export=True)
    assert not big["suppressed"].any() and big["n"].notna().all()


def test_growth_per_pupil_and_distribution(db, school, l1a):
    user = sign_in(db, "juf.l1a")
    frame = dash.growth(db, user, school.classes["L1A"], "begin", (school.year, "midden"))
    both = [(p, b, m) for p, b, m in zip(l1a["pupils"], l1a["begin"], l1a["midden"], strict=True) if m is not None]
    assert len(frame) == len(both)
    order = "ABCDE"
    by_pupil = frame.set_index("pupil_id")
    for pupil, before, after in both:
        row = by_pupil.loc[pupil]
        assert row["percentile_change"] == after - before
        assert row["zone_change"] == order.index(zone_for_percentile(before)) - order.index(zone_for_percentile(after))
    dist = dash.growth_distribution(db, user, school.classes["L1A"], "begin", "midden")
    changes = [order.index(zone_for_percentile(b)) - order.index(zone_for_percentile(m)) for _, b, m in both]
    assert dict(zip(dist["zone_change"], dist["count"], strict=True)) == {c: changes.count(c) for c in set(changes)}
    assert set(dist["n"]) == {len(both)}
    assert dist["median_percentile_change"].iloc[0] == pytest.approx(statistics.median(m - b for _, b, m in both))


@pytest.mark.parametrize("bad", ["herfst", ("2025", "begin"), ("2025-2026",), 3, None])
def test_growth_refuses_unknown_moments_in_dutch(db, school, l1a, bad):
    with pytest.raises(dash.DashboardError, match="toetsmoment|schooljaar"):
        dash.growth(db, sign_in(db, "zorg"), school.classes["L1A"], bad, "midden")


def test_avi_against_expected_level(db, school):
    year = school.year
    p1, p2 = school.pupils["30004"], school.pupils["30005"]
    # Two cards read at midden: the highest level reached counts. Grade 1 expects M3 mid-year, E3 at the end.
    add_avi(db, p1, year, "midden", 1, [("M3", 1), ("E3", 2)])
    add_avi(db, p1, year, "eind", 1, [("E3", 2)])
    add_avi(db, p2, year, "eind", 1, [("AVI-Start", 0)])
    frame = dash.avi_vs_expected(db, sign_in(db, "juf.l1a"), school.classes["L1A"])
    rows = {(r.pupil_id, r.moment): r for r in frame.itertuples()}
    assert (rows[p1, "midden"].level, rows[p1, "midden"].expected_level, rows[p1, "midden"].steps) == ("E3", "M3", 1)
    assert (rows[p1, "eind"].level, rows[p1, "eind"].expected_level, rows[p1, "eind"].steps) == ("E3", "E3", 0)
    assert (rows[p2, "eind"].level, rows[p2, "eind"].expected_rank, rows[p2, "eind"].steps) == ("AVI-Start", 2, -2)
    assert len(frame) == 3


def test_dmt_cards_and_wellbeing(db, school):
    year = school.year
    pupil = school.pupils["30004"]

    def write(cur):
        cur.execute(
            "INSERT INTO dmt_result (pupil_id, school_year, test_date, grade, moment, card1_correct, card2_correct,"
            " card3_correct, percentile, zone) VALUES (?, ?, ?, 1, 'eind', 31, 22, NULL, 40, 'C')",
            [pupil, year, moment_date(year, "eind")],
        )
        cur.execute(
            "INSERT INTO wellbeing_result (pupil_id, school_year, observed_on, scale, score_text, score)"
            " VALUES (?, ?, ?, 'welbevinden', '3+', 3.5)",
            [school.pupils["30001"], year, moment_date(year, "begin")],
        )

    db.write(write)
    dmt = dash.dmt_cards(db, sign_in(db, "juf.l1a"), school.classes["L1A"])
    assert dmt[["card1_correct", "card2_correct", "total_correct"]].values.tolist() == [[31, 22, 31 + 22]]
    assert dmt["card3_correct"].isna().all()
    leuven = dash.wellbeing(db, sign_in(db, "juf.k3a"), school.classes["K3A"])
    assert leuven[["scale", "score_text", "score"]].values.tolist() == [["welbevinden", "3+", 3.5]]
    assert dash.wellbeing(db, sign_in(db, "juf.l1a"), school.classes["L1A"]).empty


def add_phase(cur, pupil_id, phase, start, end=None):
    cur.execute(
        "INSERT INTO care_phase (pupil_id, phase, start_date, end_date, note, created_by_id, created_by_name)"
        " VALUES (?, ?, ?, ?, 'test', 1, 'Zorg')",
        [pupil_id, phase, start, end],
    )


def add_measure(cur, pupil_id, start, evaluation, *, category="remedieren", end=None) -> int:
    return cur.execute(
        "INSERT INTO measure (pupil_id, category, description, start_date, end_date, evaluation_date,"
        " created_by_id, created_by_name, created_by_role) VALUES (?, ?, 'Extra leesinstructie', ?, ?, ?, 1, 'Zorg',"
        " 'zorgteam') RETURNING id",
        [pupil_id, category, start, end, evaluation],
    ).fetchone()[0]


def add_evaluation(cur, measure_id, on, decision, next_date=None):
    cur.execute(
        "INSERT INTO measure_evaluation (measure_id, evaluated_on, text, decision, next_evaluation_date,"
        " created_by_id, created_by_name, created_by_role) VALUES (?, ?, 'evaluatie', ?, ?, 1, 'Zorg', 'zorgteam')",
        [measure_id, on, decision, next_date],
    )


def test_care_overview_shows_open_phase_and_active_measures(db, school):
    start = date(int(school.year[:4]), 9, 15)
    today = date(int(school.year[:4]), 12, 1)
    p1, p2, p3 = (school.pupils[n] for n in ("30004", "30005", "30006"))

    def write(cur):
        add_phase(cur, p1, 1, start - timedelta(days=300), start)  # closed
        add_phase(cur, p1, 2, start)
        add_measure(cur, p1, start, date(int(school.year[:4]), 11, 1))  # overdue on `today`
        stopped = add_measure(cur, p1, start, date(int(school.year[:4]), 10, 1), category="dispenseren")
        add_evaluation(cur, stopped, date(int(school.year[:4]), 10, 1), "stopzetten")
        later = add_measure(cur, p2, start, date(int(school.year[:4]), 10, 1), category="compenseren")
        add_evaluation(
            cur, later, date(int(school.year[:4]), 10, 1), "verderzetten", date(int(school.year[:4]), 12, 20)
        )

    db.write(write)
    frame = dash.care_overview(db, sign_in(db, "juf.l1a"), school.classes["L1A"], today=today).set_index("pupil_id")
    assert frame.loc[p1, "phase"] == 2
    assert frame.loc[p1, "active_measures"] == 1 and frame.loc[p1, "overdue_measures"] == 1
    assert list(frame.loc[p1, "measures"]) == ["Remediëren: Extra leesinstructie"]
    assert frame.loc[p2, "active_measures"] == 1 and frame.loc[p2, "overdue_measures"] == 0
    assert frame.loc[p2, "next_due_date"] == pd.Timestamp(int(school.year[:4]), 12, 20)
    assert (frame.loc[p3, "phase"], frame.loc[p3, "active_measures"]) == (0, 0)


# -- school view ---------------------------------------------------------------------------


@pytest.fixture
def grade1(db, school, l1a):
    """L1B gets 3 + 2 = 5 pupils tested at begin; both L1 classes together form grade 1."""
    extra = add_pupils(db, school.classes["L1B"], school.year, 2)
    pupils = [school.pupils[n] for n in ("30007", "30008", "30009")] + extra
    percentiles = [12, 70, 95, 3, 51]
    add_lvs(db, [(p, school.year, "begin", "wiskunde", pct) for p, pct in zip(pupils, percentiles, strict=True)])
    return {"l1b": percentiles, "all_begin": l1a["begin"] + percentiles}


def test_school_trends_share_in_d_and_e_and_median(db, school, grade1):
    frame = dash.school_trends(db, sign_in(db, "directie"))
    row = frame[(frame["grade"] == 1) & (frame["moment"] == "begin") & (frame["domain"] == "wiskunde")].iloc[0]
    values = grade1["all_begin"]
    low = sum(zone_for_percentile(p) in ("D", "E") for p in values)
    assert (row["n"], row["n_d_e"]) == (len(values), low)
    assert row["share_d_e"] == pytest.approx(low / len(values))
    assert row["median_percentile"] == pytest.approx(statistics.median(values))
    assert row["school_year"] == school.year and not row["suppressed"]


def test_compare_classes_at_one_moment(db, school, grade1, l1a):
    frame = dash.compare_classes(db, sign_in(db, "zorg"), school.year, "wiskunde", "begin").set_index("class_name")
    assert list(frame.index) == ["L1A", "L1B"]
    for name, values in (("L1A", l1a["begin"]), ("L1B", grade1["l1b"])):
        assert frame.loc[name, "n"] == len(values)
        for zone in "ABCDE":
            assert frame.loc[name, f"count_{zone}"] == sum(zone_for_percentile(p) == zone for p in values)
        assert frame.loc[name, "median_percentile"] == pytest.approx(statistics.median(values))
    with pytest.raises(dash.DashboardError, match="domein"):
        dash.compare_classes(db, sign_in(db, "zorg"), school.year, "rekenen", "begin")


def test_small_groups_hidden_for_a_role_without_access_to_the_pupils(db, school, grade1, monkeypatch):
    # Suppose a school opens the school view to teachers: they cannot open other classes' pupils,
    # so a group of fewer than five must not show its figures to them.
    monkeypatch.setitem(POLICY["dashboard.school"], "leerkracht", ALL)
    add_lvs(db, [(school.pupils[n], school.year, "begin", "spelling", 50) for n in ("30004", "30005", "30006")])
    teacher = sign_in(db, "juf.l1a")
    frame = dash.school_trends(db, teacher)
    small = frame[frame["domain"] == "spelling"]
    assert small["suppressed"].all() and small[["n", "share_d_e", "median_percentile"]].isna().all().all()
    big = frame[frame["domain"] == "wiskunde"]
    assert not big["suppressed"].any() and big["n"].notna().all()
    # The zorgteam opens every pupil: nothing hidden on screen, but hidden in an export.
    zorg = sign_in(db, "zorg")
    assert not dash.school_trends(db, zorg)["suppressed"].any()
    exported = dash.school_trends(db, zorg, export=True)
    assert exported.loc[exported["domain"] == "spelling", "suppressed"].all()
    per_class = dash.compare_classes(db, teacher, school.year, "wiskunde", "begin").set_index("class_name")
    assert not per_class.loc["L1A", "suppressed"] and not per_class.loc["L1B", "suppressed"]  # 7 and 5


def test_cohorts_follow_pupils_from_their_first_lager_year(db, school, l1a):
    year, prev = school.year, school.previous_year
    # A pupil who did L1 last year and repeats it now belongs to last year's cohort.
    repeater = add_pupils(db, school.previous_classes["L1A"], prev, 1)[0]
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, ?, ?)",
            [repeater, year, school.classes["L1A"]],
        )
    )
    add_lvs(db, [(repeater, prev, "eind", "wiskunde", 5), (repeater, year, "begin", "wiskunde", 15)])
    frame = dash.cohorts(db, sign_in(db, "zorg"), "wiskunde")
    assert set(frame["cohort"]) == {prev, year}
    old = frame[frame["cohort"] == prev]
    assert old[["school_year", "moment", "n"]].values.tolist() == [[prev, "eind", 1], [year, "begin", 1]]
    new = frame[(frame["cohort"] == year) & (frame["moment"] == "begin")].iloc[0]
    assert new["n"] == len(l1a["begin"]) and new["cohort_grade"] == 1
    assert old["cohort_grade"].tolist() == [1, 2]  # the repeater's cohort is in its second year
    low = sum(zone_for_percentile(p) in ("D", "E") for p in l1a["begin"])
    assert new["share_d_e"] == pytest.approx(low / len(l1a["begin"]))
    exported = dash.cohorts(db, sign_in(db, "zorg"), "wiskunde", export=True)
    assert exported.loc[exported["cohort"] == prev, "suppressed"].all()


def test_care_phase_counts_per_grade(db, school):
    today = date(int(school.year[:4]), 12, 1)
    add_pupils(db, school.classes["L1A"], school.year, 3)  # L1 now has 6 + 3 = 9 pupils

    def write(cur):
        add_phase(cur, school.pupils["30004"], 1, date(int(school.year[:4]), 9, 10))
        add_phase(cur, school.pupils["30007"], 2, date(int(school.year[:4]), 9, 10))
        add_phase(cur, school.pupils["30008"], 1, date(int(school.year[:4]), 9, 10), date(int(school.year[:4]), 11, 1))

    db.write(write)
    frame = dash.care_phase_counts(db, sign_in(db, "directie"), school.year, today=today)
    lager = frame[frame["level"] == "lager"].set_index("phase")
    assert lager["count"].to_dict() == {0: 7, 1: 1, 2: 1, 3: 0}
    assert set(lager["n"]) == {9}
    kleuter = frame[frame["level"] == "kleuter"]
    assert kleuter["n"].notna().all() and set(kleuter["n"]) == {3}  # shown on screen to the directie
    exported = dash.care_phase_counts(db, sign_in(db, "directie"), school.year, today=today, export=True)
    assert exported.loc[exported["level"] == "kleuter", "suppressed"].all()  # 3 kleuters
    assert not exported.loc[exported["level"] == "lager", "suppressed"].any()


# -- hostile input -------------------------------------------------------------------------


@pytest.fixture
def teacher(db, school):
    return sign_in(db, "juf.l1a")


@pytest.fixture
def zorg(db, school):
    return sign_in(db, "zorg")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    class_id=st.one_of(
        st.integers(),
        st.text(max_size=20),
        st.floats(allow_nan=True),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
    )
)
def test_any_class_id_gives_a_frame_or_a_dutch_refusal(db, school, teacher, class_id):
    try:
        frame = dash.zone_distribution(db, teacher, class_id)
    except AccessDenied as exc:
        assert "klas" in str(exc)
    else:
        assert class_id == school.classes["L1A"] or str(class_id).strip() == str(school.classes["L1A"])
        assert isinstance(frame, pd.DataFrame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    school_year=st.one_of(st.text(max_size=12), st.sampled_from(["2025-2026", "2025-2027", "abcd-efgh"])),
    domain=st.one_of(st.text(max_size=12), st.sampled_from(["wiskunde", "spelling"])),
    moment=st.one_of(st.text(max_size=8), st.sampled_from(["begin", "eind"])),
)
def test_compare_classes_any_input_gives_a_frame_or_a_dutch_message(db, zorg, school_year, domain, moment):
    try:
        frame = dash.compare_classes(db, zorg, school_year, domain, moment)
    except dash.DashboardError as exc:
        assert "Onbekend" in str(exc)
    else:
        assert list(frame.columns[:4]) == ["class_id", "class_name", "level", "grade"]


def test_opening_a_dashboard_is_audited_within_scope(db, school):
    teacher = sign_in(db, "juf.l1a")
    dash.record_view(db, teacher, "klas", school.classes["L1A"])
    with pytest.raises(AccessDenied):
        dash.record_view(db, teacher, "klas", school.classes["L1B"])
    with pytest.raises(AccessDenied):
        dash.record_view(db, teacher, "school")
    dash.record_view(db, sign_in(db, "directie"), "school")
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT user_name, action, object, detail FROM audit_log WHERE object LIKE 'dashboard:%' ORDER BY id"
        ).fetchall()
    assert rows == [
        ("juf.l1a", "view", "dashboard:klas", f"klas L1A ({school.year})"),
        ("directie", "view", "dashboard:school", "hele school"),
    ]
