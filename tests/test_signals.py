"""The attention list: each rule with a positive and a negative case, thresholds, dismissals, scope."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import signals
from dossier.access import AccessDenied
from dossier.signals import SignalError, attention_list, dismiss_signal, list_rules, set_rule
from tests.factories import make_school
from tests.test_dashboards import add_avi, add_evaluation, add_lvs, add_measure, add_pupils, sign_in


@pytest.fixture
def school(db):
    return make_school(db)


@pytest.fixture
def case(db, school):
    """L1A (3 + 4 pupils, one more arriving late) and K3A with data that trigger each rule once.

    `today` is near the end of the class's school year.
    """
    year = school.year
    start = int(year[:4])
    today = date(start + 1, 6, 20)
    a, b, c = (school.pupils[n] for n in ("30004", "30005", "30006"))
    e1, e2, e3 = add_pupils(db, school.classes["L1A"], year, 3)
    late = add_pupils(db, school.classes["L1A"], year, 1, entry_date=date(start + 1, 6, 10))[0]
    gone = add_pupils(db, school.classes["L1A"], year, 1)[0]
    db.write(
        lambda cur: cur.execute("UPDATE enrolment SET leave_date = ? WHERE pupil_id = ?", [date(start, 12, 1), gone])
    )
    add_lvs(
        db,
        [
            # a: C, then E twice in wiskunde (signal); the C→E drop is not between the last two moments.
            (a, year, "begin", "wiskunde", 30),
            (a, year, "midden", "wiskunde", 5),
            (a, year, "eind", "wiskunde", 8),
            # b: E, then D: not twice E.
            (b, year, "midden", "wiskunde", 5),
            (b, year, "eind", "wiskunde", 15),
            # c: E twice, then back to C: only the latest moments count.
            (c, year, "begin", "spelling", 3),
            (c, year, "midden", "spelling", 4),
            (c, year, "eind", "spelling", 40),
            # e1 drops three zones (A → D), e2 one zone (B → C).
            (e1, year, "midden", "begrijpend_lezen", 80),
            (e1, year, "eind", "begrijpend_lezen", 20),
            (e2, year, "midden", "begrijpend_lezen", 60),
            (e2, year, "eind", "begrijpend_lezen", 40),
            # technisch lezen at eind: 5 of the 7 current pupils tested (the result of `gone`, who left,
            # does not count); e3 missed it, `late` arrived after it.
            *[(p, year, "eind", "technisch_lezen", 50) for p in (a, b, c, e1, e2, gone)],
        ],
    )
    add_lvs(db, [(school.pupils["30007"], year, "eind", "technisch_lezen", 50)])  # L1B: no effect on L1A
    # AVI at eind of grade 1 (expected E3): a reached AVI-Start (2 behind), b M3 (1 behind).
    add_avi(db, a, year, "eind", 1, [("M3", 0), ("AVI-Start", 0)])
    add_avi(db, b, year, "eind", 1, [("M3", 1)])
    # Measures: a's evaluation is overdue; b evaluated and planned later; c stopped.

    def write(cur):
        add_measure(cur, a, date(start + 1, 3, 1), date(start + 1, 5, 1))
        later = add_measure(cur, b, date(start + 1, 3, 1), date(start + 1, 6, 1))
        add_evaluation(cur, later, date(start + 1, 6, 1), "verderzetten", date(start + 1, 9, 30))
        stopped = add_measure(cur, c, date(start + 1, 3, 1), date(start + 1, 5, 1))
        add_evaluation(cur, stopped, date(start + 1, 5, 1), "stopzetten")
        for number, scores in (("30001", ["3", "2"]), ("30002", ["1", "3"]), ("30003", ["4", "2+"])):
            for k, text in enumerate(scores):
                cur.execute(
                    "INSERT INTO wellbeing_result (pupil_id, school_year, observed_on, scale, score_text, score)"
                    " VALUES (?, ?, ?, 'welbevinden', ?, ?)",
                    [
                        school.pupils[number],
                        year,
                        date(start + 1, 3 + k, 15),
                        text,
                        float(text[0]) + (0.5 if text.endswith("+") else 0),
                    ],
                )

    db.write(write)
    return {"today": today, "a": a, "b": b, "c": c, "e1": e1, "e2": e2, "e3": e3, "late": late, "gone": gone}


def signalled(frame, rule_id):
    return sorted(frame.loc[frame["rule_id"] == rule_id, "pupil_id"])


def test_each_rule_fires_for_its_case_only(db, school, case):
    frame = attention_list(db, sign_in(db, "zorg"), today=case["today"])
    assert signalled(frame, "zone_e_repeated") == [case["a"]]
    assert signalled(frame, "zone_drop") == [case["e1"]]
    assert signalled(frame, "avi_behind") == [case["a"]]
    assert signalled(frame, "measure_overdue") == [case["a"]]
    assert signalled(frame, "missing_result") == [case["e3"]]
    assert signalled(frame, "wellbeing_low") == [school.pupils["30001"]]
    assert case["gone"] not in set(frame["pupil_id"])


def test_reasons_say_why_with_the_numbers_and_carry_the_data(db, school, case):
    frame = attention_list(db, sign_in(db, "zorg"), today=case["today"]).set_index("rule_id")
    e_twice = frame.loc["zone_e_repeated"]
    assert e_twice["reason"].startswith("Zone E voor wiskunde op 2 toetsmomenten na elkaar")
    assert "P5" in e_twice["reason"] and "P8" in e_twice["reason"]
    assert [(r["moment"], r["zone"], r["percentiel"]) for r in e_twice["data"]] == [
        ("midden", "E", 5),
        ("eind", "E", 8),
    ]
    drop = frame.loc["zone_drop"]
    assert drop["reason"].startswith("3 zones gedaald voor begrijpend lezen: van A (P80)")
    assert "naar D (P20)" in drop["reason"]
    avi = frame.loc["avi_behind"]
    assert "AVI-Start" in avi["reason"] and "2 stappen onder het verwachte niveau E3" in avi["reason"]
    overdue = frame.loc["measure_overdue"]
    days = (case["today"] - date(int(school.year[:4]) + 1, 5, 1)).days
    assert f"{days} dagen geleden" in overdue["reason"] and "01/05/" in overdue["reason"]
    missing = frame.loc["missing_result"]
    assert "technisch lezen bij eind" in missing["reason"] and "5 van de 7 leerlingen van L1A" in missing["reason"]
    assert missing["data"][0]["getest"] == 5 and missing["data"][0]["klasgrootte"] == 7
    low = frame.loc["wellbeing_low"]
    assert low["reason"].startswith("Welbevinden 2 bij de laatste observatie") and low["class_name"] == "K3A"
    assert frame["fingerprint"].str.fullmatch(r"[0-9a-f]{32}").all()


def test_thresholds_change_who_is_signalled(db, school, case):
    zorg = sign_in(db, "zorg")
    set_rule(db, zorg, "zone_e_repeated", True, {"zone": "D"})  # D or E twice: b (E, D) joins
    set_rule(db, zorg, "zone_drop", True, {"zones": 4})
    set_rule(db, zorg, "avi_behind", True, {"steps": 1})
    set_rule(db, zorg, "measure_overdue", True, {"grace_days": 60})
    set_rule(db, zorg, "missing_result", True, {"min_share_tested": 80})  # 5 of 7 is 71 %
    set_rule(db, zorg, "wellbeing_low", True, {"score": 2.5})
    frame = attention_list(db, zorg, today=case["today"])
    assert signalled(frame, "zone_e_repeated") == sorted([case["a"], case["b"]])
    assert signalled(frame, "zone_drop") == []
    assert signalled(frame, "avi_behind") == sorted([case["a"], case["b"]])
    assert signalled(frame, "measure_overdue") == []
    assert signalled(frame, "missing_result") == []
    assert signalled(frame, "wellbeing_low") == sorted([school.pupils["30001"], school.pupils["30003"]])
    set_rule(db, zorg, "zone_e_repeated", True, {"zone": "E", "moments": 3})
    assert signalled(attention_list(db, zorg, today=case["today"]), "zone_e_repeated") == []


def test_a_rule_switched_off_gives_no_signals_and_is_audited(db, school, case):
    directie = sign_in(db, "directie")
    stored = set_rule(db, directie, "avi_behind", False)
    assert stored == {"enabled": False, "thresholds": {"steps": 2}}
    assert signalled(attention_list(db, directie, today=case["today"]), "avi_behind") == []
    rules = list_rules(db, sign_in(db, "juf.l1a")).set_index("rule_id")
    assert not rules.loc["avi_behind", "enabled"] and rules.loc["avi_behind", "changed_by"] == directie.name
    assert rules.loc["zone_drop", "enabled"] and pd.isna(rules.loc["zone_drop", "changed_by"])
    with db.cursor() as cur:
        logged = cur.execute(
            "SELECT action, object, detail FROM audit_log WHERE object LIKE 'signaalregel:%'"
        ).fetchall()
    assert logged == [("correct", "signaalregel:avi_behind", logged[0][2])] and ": uit," in logged[0][2]


def test_explanations_show_the_current_thresholds(db, school):
    zorg = sign_in(db, "zorg")
    set_rule(db, zorg, "zone_drop", True, {"zones": 3})
    rules = list_rules(db, zorg).set_index("rule_id")
    assert "3 zones of meer" in rules.loc["zone_drop", "explanation"]
    assert "2 of lager" in rules.loc["wellbeing_low", "explanation"]
    assert rules.loc["zone_drop", "defaults"] == {"zones": 2}


@pytest.mark.parametrize("username", ["juf.l1a", "clb", "beheer"])
def test_only_zorgteam_and_directie_change_rules_or_dismiss(db, school, case, username):
    user = sign_in(db, username)
    with pytest.raises(AccessDenied, match="zorgteam en de directie"):
        set_rule(db, user, "zone_drop", False)
    with pytest.raises(AccessDenied, match="zorgteam en de directie"):
        dismiss_signal(db, user, case["a"], "zone_e_repeated", "0" * 32, "gesprek gehad")
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM signal_rule").fetchone()[0] == 0


@pytest.mark.parametrize(
    "rule_id,thresholds,message",
    [
        ("zone_drop", {"zones": 0}, "van 1 tot en met 4"),
        ("zone_drop", {"zones": 2.5}, "geheel getal"),
        ("zone_drop", {"zones": "2"}, "getal"),
        ("zone_drop", {"zonen": 2}, "Onbekende drempel"),
        ("zone_e_repeated", {"zone": "C"}, "kies uit E, D"),
        ("wellbeing_low", {"score": 2.25}, "veelvoud van 0.5"),
        ("geen_regel", {}, "Onbekende regel"),
    ],
)
def test_invalid_thresholds_give_a_dutch_message_and_store_nothing(db, school, rule_id, thresholds, message):
    zorg = sign_in(db, "zorg")
    with pytest.raises(SignalError, match=message):
        set_rule(db, zorg, rule_id, True, thresholds)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM signal_rule").fetchone()[0] == 0


@pytest.fixture
def zorg(db, school):
    return sign_in(db, "zorg")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rule_id=st.sampled_from([r.id for r in signals.RULES]),
    thresholds=st.dictionaries(
        st.sampled_from(["zone", "moments", "zones", "steps", "grace_days", "min_share_tested", "score", "x"]),
        st.one_of(st.integers(-5, 500), st.floats(allow_nan=True), st.text(max_size=3), st.none(), st.booleans()),
        max_size=3,
    ),
)
def test_any_thresholds_are_stored_clean_or_refused(db, zorg, rule_id, thresholds):
    try:
        stored = set_rule(db, zorg, rule_id, True, thresholds)
    except SignalError:
        return
    rule = signals.RULES_BY_ID[rule_id]
    assert set(stored["thresholds"]) == set(rule.defaults)
    assert rule.clean(stored["thresholds"]) == stored["thresholds"]


def test_stored_thresholds_the_code_no_longer_accepts_fall_back_to_defaults(db, school, case):
    db.write(
        lambda cur: cur.execute(
            "INSERT INTO signal_rule VALUES ('zone_drop', true, ?, 1, 'x', current_timestamp)",
            [json.dumps({"zones": "veel"})],
        )
    )
    frame = attention_list(db, sign_in(db, "zorg"), today=case["today"])
    assert signalled(frame, "zone_drop") == [case["e1"]]


def test_dismissal_hides_the_signal_until_its_data_change(db, school, case):
    zorg = sign_in(db, "zorg")
    today = case["today"]
    row = attention_list(db, zorg, today=today).query("rule_id == 'zone_e_repeated'").iloc[0]
    dismiss_signal(db, zorg, case["a"], "zone_e_repeated", row["fingerprint"], "  Besproken op het MDO; plan loopt.  ")
    after = attention_list(db, zorg, today=today)
    assert signalled(after, "zone_e_repeated") == []
    assert signalled(after, "avi_behind") == [case["a"]]  # other signals of the pupil stay
    shown = attention_list(db, zorg, today=today, include_dismissed=True).query("rule_id == 'zone_e_repeated'")
    assert shown["dismissed"].tolist() == [True]
    assert shown["dismissed_reason"].tolist() == ["Besproken op het MDO; plan loopt."]
    assert shown["dismissed_by"].tolist() == [zorg.name]
    with db.cursor() as cur:
        logged = cur.execute(
            "SELECT action, pupil_id, user_name, detail FROM audit_log WHERE action = 'dismiss'"
        ).fetchall()
    assert [(a, p, u) for a, p, u, _ in logged] == [("dismiss", case["a"], "zorg")]
    assert "Besproken op het MDO" in logged[0][3]
    # A corrected result changes the data behind the signal: it comes back with a new fingerprint.
    db.write(
        lambda cur: cur.execute(
            "UPDATE lvs_result SET percentile = 6 WHERE pupil_id = ? AND domain = 'wiskunde' AND moment = 'eind'",
            [case["a"]],
        )
    )
    back = attention_list(db, zorg, today=today).query("rule_id == 'zone_e_repeated'")
    assert back["pupil_id"].tolist() == [case["a"]] and back["fingerprint"].iloc[0] != row["fingerprint"]
    assert "P6" in back["reason"].iloc[0]


def test_a_later_day_does_not_bring_a_dismissed_overdue_measure_back(db, school, case):
    zorg = sign_in(db, "zorg")
    klas = school.classes["L1A"]
    row = attention_list(db, zorg, klas, today=case["today"]).query("rule_id == 'measure_overdue'").iloc[0]
    dismiss_signal(
        db,
        zorg,
        case["a"],
        "measure_overdue",
        row["fingerprint"],
        "evaluatie gepland",
        today=case["today"],
        class_id=klas,
    )
    later = case["today"].replace(day=28)
    assert signalled(attention_list(db, zorg, today=later), "measure_overdue") == []


def test_dismissing_needs_the_current_fingerprint_and_a_reason(db, school, case):
    zorg = sign_in(db, "zorg")
    row = attention_list(db, zorg, today=case["today"]).query("rule_id == 'zone_drop'").iloc[0]
    with pytest.raises(SignalError, match="niet \\(meer\\) op de aandachtslijst"):
        dismiss_signal(db, zorg, case["e1"], "zone_drop", "f" * 32, "reden", today=case["today"])
    with pytest.raises(SignalError, match="niet \\(meer\\) op de aandachtslijst"):
        dismiss_signal(db, zorg, case["e2"], "zone_drop", row["fingerprint"], "reden", today=case["today"])
    for reason in ("", "  ", None, "x" * 501):
        with pytest.raises(SignalError, match="reden"):
            dismiss_signal(db, zorg, case["e1"], "zone_drop", row["fingerprint"], reason, today=case["today"])
    with pytest.raises(SignalError, match="Onbekende regel"):
        dismiss_signal(db, zorg, case["e1"], "risico", row["fingerprint"], "reden", today=case["today"])
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM signal_dismissal").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'dismiss'").fetchone()[0] == 0


def test_teacher_sees_only_own_class_signals(db, school, case):
    teacher = sign_in(db, "juf.l1a")
    own = attention_list(db, teacher, today=case["today"])
    assert set(own["class_name"]) == {"L1A"} and len(own) == 5
    assert own.equals(attention_list(db, teacher, school.classes["L1A"], today=case["today"]))
    for crafted in (school.classes["L1B"], school.classes["K3A"], str(school.classes["K3A"]), -3, "x"):
        with pytest.raises(AccessDenied, match="valt buiten jouw klassen"):
            attention_list(db, teacher, crafted, today=case["today"])
    other = attention_list(db, sign_in(db, "meester.l1b"), today=case["today"])
    assert not set(other["pupil_id"]) & set(own["pupil_id"])
    with pytest.raises(AccessDenied):
        attention_list(db, sign_in(db, "beheer"), today=case["today"])


def test_old_results_do_not_keep_a_pupil_on_the_list(db, school, case):
    # Two E's two school years ago for a pupil who has had no result in that domain since.
    old = school.previous_year[:4]
    two_back = f"{int(old) - 1}-{old}"
    add_lvs(
        db,
        [
            (case["b"], two_back, "midden", "spelling", 2),
            (case["b"], two_back, "eind", "spelling", 3),
        ],
    )
    frame = attention_list(db, sign_in(db, "zorg"), today=case["today"])
    assert signalled(frame, "zone_e_repeated") == [case["a"]]
    # The same two E's last school year do count.
    add_lvs(
        db,
        [
            (case["c"], school.previous_year, "midden", "begrijpend_lezen", 2),
            (case["c"], school.previous_year, "eind", "begrijpend_lezen", 3),
        ],
    )
    frame = attention_list(db, sign_in(db, "zorg"), today=case["today"])
    assert signalled(frame, "zone_e_repeated") == sorted([case["a"], case["c"]])
