"""AVI scale, expected AVI level and Leuven scores in dossier.instruments."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier import dashboards, instruments
from dossier.instruments import (
    AVI_LEVELS,
    AVI_RANK,
    LEUVEN_SCORES,
    MOMENTS,
    expected_avi_rank,
    normalise_avi_level,
    parse_leuven_score,
)


def test_avi_levels_in_order_with_ranks():
    assert AVI_LEVELS[0] == "AVI-Start" and AVI_LEVELS[-1] == "AVI-Plus"
    middle = AVI_LEVELS[1:-1]
    # M and E alternate per level number 3..7.
    assert list(middle) == [f"{half}{n}" for n in range(3, 8) for half in ("M", "E")]
    assert [AVI_RANK[level] for level in AVI_LEVELS] == list(range(12))


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("AVI-M3", "M3"),
        ("m3", "M3"),
        ("M3", "M3"),
        (" avi-e7 ", "E7"),
        ("AVI E4", "E4"),
        ("avi_m5", "M5"),
        ("E 6", "E6"),
        ("avi start", "AVI-Start"),
        ("AVI-Start", "AVI-Start"),
        ("START", "AVI-Start"),
        ("AVI-Plus", "AVI-Plus"),
        ("plus", "AVI-Plus"),
        ("Avi Plus", "AVI-Plus"),
    ],
)
def test_normalise_avi_level_accepts_common_spellings(text, level):
    assert normalise_avi_level(text) == level


@pytest.mark.parametrize("text", ["", "AVI", "M2", "E8", "M", "3", "AVI-X", "start plus", "M3E3", None, 3])
def test_normalise_avi_level_rejects_what_is_no_level(text):
    assert normalise_avi_level(text) is None


@given(st.text(max_size=20))
@settings(max_examples=300, deadline=None)
def test_normalise_avi_level_is_total_and_idempotent(text):
    level = normalise_avi_level(text)
    assert level is None or level in AVI_LEVELS
    if level is not None:
        assert normalise_avi_level(level) == level


@pytest.mark.parametrize(
    ("grade", "moment", "level"),
    [
        (1, "begin", "AVI-Start"),
        (1, "midden", "M3"),
        (1, "eind", "E3"),
        (2, "begin", "E3"),
        (2, "midden", "M4"),
        (3, "eind", "E5"),
        (5, "midden", "M7"),
        (5, "eind", "E7"),
        (6, "begin", "E7"),
        (6, "midden", "AVI-Plus"),
        (6, "eind", "AVI-Plus"),
    ],
)
def test_expected_avi_level_per_grade_and_moment(grade, moment, level):
    assert AVI_LEVELS[expected_avi_rank(grade, moment)] == level


def test_expected_avi_rank_agrees_with_the_dashboard_sql():
    con = duckdb.connect()
    try:
        for grade in range(1, 8):
            for moment in MOMENTS:
                sql = "SELECT " + dashboards.EXPECTED_AVI_SQL.format(moment="?", grade="?")
                # The snippet names each placeholder once per use: moment once, grade three times.
                found = con.execute(sql, [moment, grade, grade, grade]).fetchone()[0]
                assert expected_avi_rank(grade, moment) == found, (grade, moment)
    finally:
        con.close()


def test_expected_avi_rank_rejects_an_unknown_moment():
    with pytest.raises(ValueError, match="afnamemoment"):
        expected_avi_rank(3, "later")


def test_dashboard_scale_is_the_instruments_scale():
    assert dashboards.AVI_LEVELS == instruments.AVI_LEVELS


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), ("1+", 1.5), ("2", 2.0), ("2+", 2.5), ("3", 3.0), ("3+", 3.5), ("4", 4.0), ("4+", 4.5), ("5", 5.0)],
)
def test_parse_leuven_score(text, value):
    assert parse_leuven_score(text) == value


def test_leuven_scores_are_ordered_half_steps():
    values = [parse_leuven_score(s) for s in LEUVEN_SCORES]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert all(b - a == 0.5 for a, b in zip(values, values[1:], strict=False))
    assert parse_leuven_score(" 3 + ") == 3.5


@pytest.mark.parametrize("text", ["", "0", "5+", "6", "3.5", "3,5", "+3", "3++", "drie", None, 3])
def test_parse_leuven_score_rejects_values_off_the_scale(text):
    assert parse_leuven_score(text) is None
