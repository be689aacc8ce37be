"""Form validation: Dutch messages per field, warnings that do not block, hostile input never crashes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import forms, labels
from dossier.forms import FormError

TODAY = date.today()


def good(**overrides) -> dict:
    fields = {
        "type": "observatie",
        "fact_date": TODAY - timedelta(days=1),
        "facts": "Wiebelt tijdens de instructie voortdurend op zijn stoel.",
    }
    fields.update(overrides)
    return fields


def test_a_minimal_observation_is_valid_and_takes_the_template_defaults():
    errors, warnings = forms.check_registration(good())
    assert errors == {} and warnings == {}
    values = forms.validate_registration(good())
    assert values["visibility"] == labels.TEMPLATES["observatie"].visibility
    assert values["transferable"] is labels.TEMPLATES["observatie"].transferable
    assert values["confidential_third_parties"] is False


def test_empty_form_names_each_required_field_in_dutch():
    errors, _ = forms.check_registration({})
    # Visibility comes from the chosen type's template, so without a type only the type is asked.
    assert set(errors) == {"type", "fact_date", "facts"}
    assert errors["facts"] == forms.M_FACTS
    assert errors["fact_date"] == forms.M_FACT_DATE


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_blank_facts_are_refused(blank):
    errors, _ = forms.check_registration(good(facts=blank))
    assert errors == {"facts": forms.M_FACTS}


def test_future_and_ancient_fact_dates():
    assert forms.check_registration(good(fact_date=TODAY + timedelta(days=1)))[0] == {"fact_date": forms.M_NOT_FUTURE}
    assert forms.check_registration(good(fact_date=date(1999, 12, 31)))[0] == {"fact_date": forms.M_TOO_OLD}
    assert forms.check_registration(good(fact_date=TODAY))[0] == {}


def test_evaluation_date_must_not_precede_the_fact():
    errors, _ = forms.check_registration(good(evaluation_date=TODAY - timedelta(days=5)))
    assert errors == {"evaluation_date": forms.M_EVAL_AFTER_FACT}
    assert forms.check_registration(good(evaluation_date=TODAY - timedelta(days=1)))[0] == {}


def test_dates_are_read_day_first_and_bad_dates_get_their_own_message():
    day = TODAY - timedelta(days=3)
    values = forms.validate_registration(good(fact_date=day.strftime("%d/%m/%Y")))
    assert values["fact_date"] == day
    values = forms.validate_registration(good(fact_date=day.isoformat()))
    assert values["fact_date"] == day
    errors, _ = forms.check_registration(good(fact_date="31/02/2024"))
    assert errors == {"fact_date": forms.M_DATE}
    errors, _ = forms.check_registration(good(evaluation_date="volgende week"))
    assert errors == {"evaluation_date": forms.M_DATE}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("type", "roddel", forms.M_TYPE),
        ("visibility", "iedereen", forms.M_VISIBILITY),
        ("domain", "sport", forms.M_DOMAIN),
        ("transferable", "misschien", forms.M_BOOL),
    ],
)
def test_values_outside_the_vocabulary(field, value, message):
    errors, _ = forms.check_registration(good(**{field: value}))
    assert errors == {field: message}


def test_codes_may_be_written_as_their_dutch_labels():
    values = forms.validate_registration(
        good(type="MDO-bespreking", visibility="Directie (vertrouwelijk)", domain="Psychisch en sociaal functioneren")
    )
    assert (values["type"], values["visibility"], values["domain"]) == (
        "mdo",
        "directie",
        "psychisch_en_sociaal_functioneren",
    )


@pytest.mark.parametrize(
    "number",
    ["85073003361", "85.07.30-033.61", "850730 033 61", "85 07 30 033 61"],
)
@pytest.mark.parametrize("field", ["facts", "interpretation", "agreements", "owner"])
def test_national_numbers_are_refused_in_every_free_text(field, number):
    errors, _ = forms.check_registration(good(**{field: f"Vader belde, nummer {number}, om 9u."}))
    assert errors == {field: forms.M_RRN}


@pytest.mark.parametrize(
    "harmless",
    ["Tel. 0470 12 34 56", "Op 12/03/2025 om 10u30", "Score 23/30 op 5 toetsen", "leerlingnummer 30001"],
)
def test_ordinary_numbers_are_not_mistaken_for_national_numbers(harmless):
    assert forms.check_registration(good(facts=harmless))[0] == {}


def test_long_text_is_a_warning_not_an_error():
    long_facts = "Zit niet stil. " * 50  # ~750 characters
    errors, warnings = forms.check_registration(good(facts=long_facts))
    assert errors == {}
    assert warnings == {"facts": forms.W_LONG}
    forms.validate_registration(good(facts=long_facts))  # saving is still allowed


def test_text_beyond_the_hard_limit_is_an_error():
    errors, _ = forms.check_registration(good(facts="x" * (forms.MAX_TEXT + 1)))
    assert errors == {"facts": forms.M_TOO_LONG}


def test_an_agreement_without_evaluation_date_is_a_warning():
    errors, warnings = forms.check_registration(good(agreements="Wiebelkussen proberen"))
    assert errors == {}
    assert warnings == {"evaluation_date": forms.W_NO_EVALUATION}
    _, warnings = forms.check_registration(good(agreements="Wiebelkussen proberen", evaluation_date=TODAY))
    assert warnings == {}


def test_leefregel_is_never_transferable_and_verslag_always():
    assert forms.validate_registration(good(type="leefregel", transferable=True))["transferable"] is False
    verslag = forms.validate_registration(good(type="verslag", report_kind="OV4", transferable=False))
    assert verslag["transferable"] is True


def test_verslag_needs_its_kind_and_other_types_drop_it():
    assert forms.check_registration(good(type="verslag"))[0] == {"report_kind": forms.M_REPORT_KIND}
    assert forms.check_registration(good(type="verslag", report_kind="GC-attest"))[0] == {
        "report_kind": forms.M_REPORT_KIND
    }
    assert forms.validate_registration(good(report_kind="IAC"))["report_kind"] is None


def test_validate_raises_form_error_with_all_field_messages():
    with pytest.raises(FormError) as caught:
        forms.validate_registration(good(facts="", fact_date=TODAY + timedelta(days=2)))
    assert caught.value.errors == {"facts": forms.M_FACTS, "fact_date": forms.M_NOT_FUTURE}
    assert "Feiten" in str(caught.value)


def test_withdrawal_reason():
    with pytest.raises(FormError) as caught:
        forms.validate_withdrawal("  ")
    assert caught.value.errors == {"reason": forms.M_REASON}
    assert forms.validate_withdrawal(" Verkeerde leerling ") == "Verkeerde leerling"


def test_measure_rules():
    values, errors = forms.check_measure(
        {"category": "Remediëren", "description": "Extra leesinstructie", "start_date": TODAY, "evaluation_date": TODAY}
    )
    assert errors == {} and values["category"] == "remedieren"
    _, errors = forms.check_measure(
        {
            "category": "bijles",
            "description": "",
            "start_date": TODAY,
            "evaluation_date": TODAY - timedelta(days=1),
            "end_date": TODAY - timedelta(days=2),
        }
    )
    assert errors == {
        "category": forms.M_CATEGORY,
        "description": forms.M_DESCRIPTION,
        "evaluation_date": forms.M_EVAL_AFTER_START,
        "end_date": forms.M_END_AFTER_START,
    }
    _, errors = forms.check_measure({"category": "compenseren", "description": "Rekenkaart"})
    assert errors == {"start_date": forms.M_START_DATE, "evaluation_date": forms.M_MEASURE_EVAL}


def test_measure_evaluation_rules():
    base = {"evaluated_on": TODAY, "text": "Werkt", "decision": "bijsturen"}
    assert forms.check_measure_evaluation(base)[1] == {}
    assert forms.check_measure_evaluation({**base, "decision": "vergeten"})[1] == {"decision": forms.M_DECISION}
    assert forms.check_measure_evaluation({**base, "next_evaluation_date": TODAY})[1] == {
        "next_evaluation_date": forms.M_NEXT_AFTER
    }
    stopped = {**base, "decision": "stopzetten", "next_evaluation_date": TODAY + timedelta(days=30)}
    assert forms.check_measure_evaluation(stopped)[1] == {"next_evaluation_date": forms.M_NEXT_WHEN_STOPPED}
    assert forms.check_measure_evaluation({**base, "evaluated_on": TODAY + timedelta(days=1)})[1] == {
        "evaluated_on": forms.M_NOT_FUTURE
    }


def test_care_phase_rules():
    assert forms.check_care_phase({"phase": 2, "start_date": TODAY, "note": "CLB start traject"})[1] == {}
    _, errors = forms.check_care_phase({"phase": "4", "start_date": TODAY, "note": " "})
    assert errors == {"phase": forms.M_PHASE, "note": forms.M_NOTE}
    _, errors = forms.check_care_phase({"phase": "twee", "start_date": None, "note": "x"})
    assert errors == {"phase": forms.M_NUMBER, "start_date": forms.M_PHASE_START}
    for huge in (2**64, 9.223372036854776e18, float("inf"), 1.5):
        assert forms.check_care_phase({"phase": huge, "start_date": TODAY, "note": "x"})[1] == {"phase": forms.M_NUMBER}


def test_many_records_are_checked_at_once_row_by_row():
    results = forms.check_registrations([good(), good(facts=""), good(type="bla")])
    assert [errors for _, errors, _ in results] == [{}, {"facts": forms.M_FACTS}, {"type": forms.M_TYPE}]


_any_value = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from([*forms.REGISTRATION_FIELDS, "junk"]), _any_value))
def test_hostile_registration_input_gives_dutch_messages_never_an_exception(fields):
    errors, warnings = forms.check_registration(fields)
    known = {value for name, value in vars(forms).items() if name.startswith(("M_", "W_"))}
    assert set(errors.values()) <= known
    assert set(warnings.values()) <= known
    assert set(errors) <= {*forms.REGISTRATION_FIELDS, forms.FORM}


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["phase", "start_date", "note", "category", "description", "evaluation_date", "decision"]),
        _any_value,
    )
)
def test_hostile_care_input_never_raises_anything_but_form_error(fields):
    for check in (forms.check_care_phase, forms.check_measure, forms.check_measure_evaluation):
        _, errors = check(fields)
        assert all(isinstance(message, str) and message for message in errors.values())
