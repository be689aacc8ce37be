"""Reading results stays within scope."""

from datetime import date

import pytest

from dossier.results import latest_zones, pupil_results
from dossier.users import authenticate
from tests.factories import PASSWORD, make_school


@pytest.fixture
def school(db):
    school = make_school(db)

    def write(cur):
        for number, when, moment, pct, zone in (
            ("30004", date(2025, 10, 8), "begin", 45, "C"),
            ("30004", date(2026, 2, 4), "midden", 5, "E"),
            ("30007", date(2025, 10, 8), "begin", 80, "A"),
        ):
            cur.execute(
                "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, percentile, zone)"
                " VALUES (?, '2025-2026', ?, 1, 'wiskunde', ?, ?, ?)",
                [school.pupils[number], when, moment, pct, zone],
            )
        cur.execute(
            "INSERT INTO wellbeing_result (pupil_id, school_year, observed_on, scale, score_text, score)"
            " VALUES (?, '2025-2026', ?, 'welbevinden', '3+', 3.5)",
            [school.pupils["30001"], date(2025, 10, 15)],
        )

    db.write(write)
    return school


def test_teacher_gets_results_of_own_pupils_only(db, school):
    teacher = authenticate(db, "juf.l1a", PASSWORD)
    own = pupil_results(db, teacher, school.pupils["30004"])
    assert list(own["lvs"]["zone"]) == ["C", "E"]
    other = pupil_results(db, teacher, school.pupils["30007"])
    assert all(frame.empty for frame in other.values())


def test_clb_reads_all_results_and_beheerder_none(db, school):
    clb = authenticate(db, "clb", PASSWORD)
    assert list(pupil_results(db, clb, school.pupils["30007"])["lvs"]["percentile"]) == [80]
    assert pupil_results(db, clb, school.pupils["30001"])["wellbeing"]["score"].tolist() == [3.5]
    from dossier.access import AccessDenied

    with pytest.raises(AccessDenied):
        pupil_results(db, authenticate(db, "beheer", PASSWORD), school.pupils["30007"])


def test_latest_zone_per_domain(db, school):
    zorg = authenticate(db, "zorg", PASSWORD)
    latest = latest_zones(pupil_results(db, zorg, school.pupils["30004"])["lvs"])
    assert latest[["domain", "zone"]].values.tolist() == [["wiskunde", "E"]]
