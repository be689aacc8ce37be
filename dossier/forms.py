"""Validation of dossier input: one pandera model per kind of entry, shared by forms and imports.

Input arrives as loose values (strings from a form or a CSV, `date` objects from a date
picker). `_normalise` turns them into typed columns first (strip, codes from codes or labels,
dates from dd/mm/jjjj or ISO, ja/nee); the pandera models then hold every rule, each with its
Dutch message in `error=`, so a rule lives in one place. Messages come back per field name
(`{"facts": "Beschrijf ..."}`) so a page can show each next to its field.

Guidance that should not block saving (length) lives in separate `*Guide` models whose
failures are warnings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dossier import labels

FORM = "_form"  # key of a message that belongs to no single field
MIN_DATE = date(2000, 1, 1)
GUIDE_LENGTH = 600  # a registration is brief: above this the form advises to shorten
MAX_TEXT = 5000  # hard limit; a long text belongs in an attached verslag
MAX_SHORT = 200  # owner, file names
MAX_PLANNING_DAYS = 3 * 366  # evaluation dates further out are almost always typos

# Belgian national numbers: 11 digits, often written 85.07.30-033.61 or 850730 033 61.
RRN_PATTERN = r"(?<!\d)(?:\d{11}|\d{2}[.\s]?\d{2}[.\s]?\d{2}[-.\s]?\d{3}[.\s]?\d{2})(?!\d)"

# -- messages -------------------------------------------------------------------------------
M_TYPE = "Kies een soort registratie uit de lijst."
M_FACT_DATE = "Geef de datum waarop het gebeurde."
M_NOT_FUTURE = "Deze datum ligt in de toekomst."
M_TOO_OLD = "Deze datum ligt voor 01/01/2000."
M_TOO_FAR = "Deze datum ligt meer dan drie jaar in de toekomst."
M_FACTS = "Beschrijf kort de feiten: wat gebeurde er, wat zag of hoorde je?"
M_TOO_LONG = f"Deze tekst is te lang (meer dan {MAX_TEXT} tekens). Een lang verslag kan als PDF-bijlage."
M_SHORT_TOO_LONG = f"Houd dit kort (maximaal {MAX_SHORT} tekens)."
M_RRN = "Dit lijkt een rijksregisternummer. Dat hoort niet in het dossier: laat het weg."
M_EVAL_AFTER_FACT = "De evaluatiedatum ligt voor de datum van het feit."
M_DOMAIN = "Kies een domein uit de lijst."
M_VISIBILITY = "Kies de zichtbaarheid: team, zorgteam of directie."
M_REPORT_KIND = "Kies de soort verslag (GC, IAC, OV4 of extern attest)."
M_DATE = "Geen geldige datum: schrijf dd/mm/jjjj."
M_BOOL = "Kies ja of nee."
M_NUMBER = "Geef een geheel getal."
M_INVALID = "Ongeldige waarde."
M_REASON = "Geef de reden van de intrekking."
M_CATEGORY = "Kies een STICORDI-categorie uit de lijst."
M_DESCRIPTION = "Beschrijf de maatregel: wat doen we concreet anders?"
M_START_DATE = "Geef de startdatum."
M_MEASURE_EVAL = "Geef de datum waarop de maatregel geëvalueerd wordt."
M_EVAL_AFTER_START = "De evaluatiedatum ligt voor de startdatum."
M_END_AFTER_START = "De einddatum ligt voor de startdatum."
M_EVALUATED_ON = "Geef de datum van de evaluatie."
M_EVAL_TEXT = "Beschrijf wat de evaluatie opleverde: werkt de maatregel?"
M_DECISION = "Kies verderzetten, bijsturen of stopzetten."
M_NEXT_AFTER = "De volgende evaluatie moet na de evaluatiedatum liggen."
M_NEXT_WHEN_STOPPED = "Een stopgezette maatregel krijgt geen volgende evaluatie."
M_PHASE = "Kies een zorgfase van 0 tot 3."
M_PHASE_START = "Geef de datum vanaf wanneer de zorgfase geldt."
M_NOTE = "Motiveer kort waarom de zorgfase verandert."
W_LONG = (
    f"Meer dan {GUIDE_LENGTH} tekens. Een registratie is kort en feitelijk: "
    "houd enkel wat nodig is om de leerling te begeleiden."
)
W_NO_EVALUATION = "Een afspraak zonder evaluatiedatum wordt niet opgevolgd: kies een evaluatiedatum."


class FormError(ValueError):
    """Input that cannot be saved; `errors` maps field names to Dutch messages."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        parts = [
            message if field == FORM else f"{labels.FIELD_LABELS.get(field, field)}: {message}"
            for field, message in self.errors.items()
        ]
        super().__init__(" ".join(parts) or "Ongeldige invoer.")


# -- checks shared by the models ------------------------------------------------------------
def _today() -> pd.Timestamp:
    return pd.Timestamp(date.today())


def _filled(s: pd.Series) -> pd.Series:
    return (s.notna() & (s.astype("str").str.strip().str.len() > 0)).fillna(False).astype(bool)


def _no_rrn(s: pd.Series) -> pd.Series:
    return ~s.str.contains(RRN_PATTERN, regex=True).fillna(False).astype(bool)


def _max_len(limit: int):
    def check(s: pd.Series) -> pd.Series:
        return (s.str.len() <= limit).fillna(True).astype(bool)

    return check


def _not_future(s: pd.Series) -> pd.Series:
    return s <= _today()


def _not_too_old(s: pd.Series) -> pd.Series:
    return s >= pd.Timestamp(MIN_DATE)


def _not_too_far(s: pd.Series) -> pd.Series:
    return s <= _today() + pd.Timedelta(days=MAX_PLANNING_DAYS)


def _on_or_after(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later.isna() | earlier.isna() | (later >= earlier)).astype(bool)


class RegistrationModel(pa.DataFrameModel):
    type: Series[str] = pa.Field(nullable=True)
    fact_date: Series[pa.DateTime] = pa.Field(nullable=True)
    facts: Series[str] = pa.Field(nullable=True)
    interpretation: Series[str] = pa.Field(nullable=True)
    agreements: Series[str] = pa.Field(nullable=True)
    owner: Series[str] = pa.Field(nullable=True)
    evaluation_date: Series[pa.DateTime] = pa.Field(nullable=True)
    domain: Series[str] = pa.Field(nullable=True)
    visibility: Series[str] = pa.Field(nullable=True)
    transferable: Series[bool]
    confidential_third_parties: Series[bool]
    report_kind: Series[str] = pa.Field(nullable=True)

    @pa.check("type", error=M_TYPE, ignore_na=False)
    def _type_known(cls, s):
        return s.isin(list(labels.REGISTRATION_TYPES)).fillna(False).astype(bool)

    @pa.check("fact_date", error=M_FACT_DATE, ignore_na=False)
    def _fact_date_given(cls, s):
        return s.notna()

    @pa.check("fact_date", error=M_NOT_FUTURE)
    def _fact_date_not_future(cls, s):
        return _not_future(s)

    @pa.check("fact_date", "evaluation_date", error=M_TOO_OLD)
    def _dates_not_too_old(cls, s):
        return _not_too_old(s)

    @pa.check("evaluation_date", error=M_TOO_FAR)
    def _evaluation_not_too_far(cls, s):
        return _not_too_far(s)

    @pa.check("facts", error=M_FACTS, ignore_na=False)
    def _facts_given(cls, s):
        return _filled(s)

    @pa.check("facts", "interpretation", "agreements", error=M_TOO_LONG)
    def _text_length(cls, s):
        return _max_len(MAX_TEXT)(s)

    @pa.check("owner", error=M_SHORT_TOO_LONG)
    def _owner_length(cls, s):
        return _max_len(MAX_SHORT)(s)

    @pa.check("facts", "interpretation", "agreements", "owner", error=M_RRN)
    def _no_national_number(cls, s):
        return _no_rrn(s)

    @pa.check("domain", error=M_DOMAIN)
    def _domain_known(cls, s):
        return s.isin(list(labels.DOMAINS))

    @pa.check("visibility", error=M_VISIBILITY, ignore_na=False)
    def _visibility_known(cls, s):
        return s.isin(list(labels.VISIBILITIES)).fillna(False).astype(bool)

    @pa.check("report_kind", error=M_REPORT_KIND)
    def _report_kind_known(cls, s):
        return s.isin(list(labels.REPORT_KINDS))

    @pa.dataframe_check(error=M_EVAL_AFTER_FACT)
    def _evaluation_after_fact(cls, df):
        return _on_or_after(df["evaluation_date"], df["fact_date"])

    @pa.dataframe_check(error=M_REPORT_KIND)
    def _verslag_has_kind(cls, df):
        return ((df["type"] != "verslag") | df["report_kind"].notna()).fillna(True).astype(bool)

    class Config:
        strict = True


class RegistrationGuide(pa.DataFrameModel):
    """Advice, not rules: failures are shown as warnings and do not block saving."""

    facts: Series[str] = pa.Field(nullable=True)
    interpretation: Series[str] = pa.Field(nullable=True)
    agreements: Series[str] = pa.Field(nullable=True)
    evaluation_date: Series[pa.DateTime] = pa.Field(nullable=True)

    @pa.check("facts", "interpretation", "agreements", error=W_LONG)
    def _brief(cls, s):
        return _max_len(GUIDE_LENGTH)(s)

    @pa.dataframe_check(error=W_NO_EVALUATION)
    def _agreement_has_evaluation(cls, df):
        return (~_filled(df["agreements"]) | df["evaluation_date"].notna()).astype(bool)

    class Config:
        strict = "filter"


class WithdrawalModel(pa.DataFrameModel):
    reason: Series[str] = pa.Field(nullable=True)

    @pa.check("reason", error=M_REASON, ignore_na=False)
    def _reason_given(cls, s):
        return _filled(s)

    @pa.check("reason", error=M_TOO_LONG)
    def _reason_length(cls, s):
        return _max_len(MAX_TEXT)(s)

    @pa.check("reason", error=M_RRN)
    def _reason_no_rrn(cls, s):
        return _no_rrn(s)


class MeasureModel(pa.DataFrameModel):
    category: Series[str] = pa.Field(nullable=True)
    description: Series[str] = pa.Field(nullable=True)
    start_date: Series[pa.DateTime] = pa.Field(nullable=True)
    evaluation_date: Series[pa.DateTime] = pa.Field(nullable=True)
    end_date: Series[pa.DateTime] = pa.Field(nullable=True)

    @pa.check("category", error=M_CATEGORY, ignore_na=False)
    def _category_known(cls, s):
        return s.isin(list(labels.STICORDI)).fillna(False).astype(bool)

    @pa.check("description", error=M_DESCRIPTION, ignore_na=False)
    def _description_given(cls, s):
        return _filled(s)

    @pa.check("description", error=M_TOO_LONG)
    def _description_length(cls, s):
        return _max_len(MAX_TEXT)(s)

    @pa.check("description", error=M_RRN)
    def _description_no_rrn(cls, s):
        return _no_rrn(s)

    @pa.check("start_date", error=M_START_DATE, ignore_na=False)
    def _start_given(cls, s):
        return s.notna()

    @pa.check("evaluation_date", error=M_MEASURE_EVAL, ignore_na=False)
    def _evaluation_given(cls, s):
        return s.notna()

    @pa.check("start_date", "evaluation_date", "end_date", error=M_TOO_OLD)
    def _dates_not_too_old(cls, s):
        return _not_too_old(s)

    @pa.check("start_date", "evaluation_date", "end_date", error=M_TOO_FAR)
    def _dates_not_too_far(cls, s):
        return _not_too_far(s)

    @pa.dataframe_check(error=M_EVAL_AFTER_START)
    def _evaluation_after_start(cls, df):
        return _on_or_after(df["evaluation_date"], df["start_date"])

    @pa.dataframe_check(error=M_END_AFTER_START)
    def _end_after_start(cls, df):
        return _on_or_after(df["end_date"], df["start_date"])

    class Config:
        strict = True


class MeasureEvaluationModel(pa.DataFrameModel):
    evaluated_on: Series[pa.DateTime] = pa.Field(nullable=True)
    text: Series[str] = pa.Field(nullable=True)
    decision: Series[str] = pa.Field(nullable=True)
    next_evaluation_date: Series[pa.DateTime] = pa.Field(nullable=True)

    @pa.check("evaluated_on", error=M_EVALUATED_ON, ignore_na=False)
    def _evaluated_on_given(cls, s):
        return s.notna()

    @pa.check("evaluated_on", error=M_NOT_FUTURE)
    def _evaluated_on_not_future(cls, s):
        return _not_future(s)

    @pa.check("evaluated_on", "next_evaluation_date", error=M_TOO_OLD)
    def _dates_not_too_old(cls, s):
        return _not_too_old(s)

    @pa.check("next_evaluation_date", error=M_TOO_FAR)
    def _next_not_too_far(cls, s):
        return _not_too_far(s)

    @pa.check("text", error=M_EVAL_TEXT, ignore_na=False)
    def _text_given(cls, s):
        return _filled(s)

    @pa.check("text", error=M_TOO_LONG)
    def _text_length(cls, s):
        return _max_len(MAX_TEXT)(s)

    @pa.check("text", error=M_RRN)
    def _text_no_rrn(cls, s):
        return _no_rrn(s)

    @pa.check("decision", error=M_DECISION, ignore_na=False)
    def _decision_known(cls, s):
        return s.isin(list(labels.DECISIONS)).fillna(False).astype(bool)

    @pa.dataframe_check(error=M_NEXT_AFTER)
    def _next_after_evaluation(cls, df):
        nxt, done = df["next_evaluation_date"], df["evaluated_on"]
        return (nxt.isna() | done.isna() | (nxt > done)).astype(bool)

    @pa.dataframe_check(error=M_NEXT_WHEN_STOPPED)
    def _stopped_has_no_next(cls, df):
        return ((df["decision"] != "stopzetten") | df["next_evaluation_date"].isna()).fillna(True).astype(bool)

    class Config:
        strict = True


class CarePhaseModel(pa.DataFrameModel):
    phase: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    start_date: Series[pa.DateTime] = pa.Field(nullable=True)
    note: Series[str] = pa.Field(nullable=True)

    @pa.check("phase", error=M_PHASE, ignore_na=False)
    def _phase_known(cls, s):
        return s.isin(list(labels.CARE_PHASES)).fillna(False).astype(bool)

    @pa.check("start_date", error=M_PHASE_START, ignore_na=False)
    def _start_given(cls, s):
        return s.notna()

    @pa.check("start_date", error=M_NOT_FUTURE)
    def _start_not_future(cls, s):
        return _not_future(s)

    @pa.check("start_date", error=M_TOO_OLD)
    def _start_not_too_old(cls, s):
        return _not_too_old(s)

    @pa.check("note", error=M_NOTE, ignore_na=False)
    def _note_given(cls, s):
        return _filled(s)

    @pa.check("note", error=M_TOO_LONG)
    def _note_length(cls, s):
        return _max_len(MAX_TEXT)(s)

    @pa.check("note", error=M_RRN)
    def _note_no_rrn(cls, s):
        return _no_rrn(s)

    class Config:
        strict = True


# Dataframe-level checks report every column of a failing row; this says which field owns them.
_ROW_CHECK_FIELDS = {
    RegistrationModel: {M_EVAL_AFTER_FACT: "evaluation_date", M_REPORT_KIND: "report_kind"},
    RegistrationGuide: {W_NO_EVALUATION: "evaluation_date"},
    MeasureModel: {M_EVAL_AFTER_START: "evaluation_date", M_END_AFTER_START: "end_date"},
    MeasureEvaluationModel: {M_NEXT_AFTER: "next_evaluation_date", M_NEXT_WHEN_STOPPED: "next_evaluation_date"},
}
_OWN_MESSAGES = {value for name, value in globals().items() if name.startswith(("M_", "W_"))}


# -- normalisation: loose input -> typed values --------------------------------------------
class _Unreadable(ValueError):
    """A value that cannot even be typed (not a date, not ja/nee); its message is Dutch."""


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str | bytes | list | tuple | dict | set):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError, ArithmeticError):  # ArithmeticError: Decimal('sNaN')
        return False


def _text(value) -> str | None:
    if _missing(value):
        return None
    text = str(value)
    # Lone surrogates cannot be stored as UTF-8; control characters are never intended.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = text.replace("\r\n", "\n").strip()
    return text or None


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s-]+", "_", plain.strip().lower())


def _code(value, vocabulary: Mapping) -> str | None:
    """The code for `value` written as a code or as its label, in any case, with or without accents."""
    text = _text(value)
    if text is None:
        return None
    folded = _fold(text)
    for code, label in vocabulary.items():
        if folded in (_fold(str(code)), _fold(label)):
            return code
    return text  # unknown: the model reports it with its own message


def parse_date(value) -> date | None:
    """A date from a date picker, a timestamp, 'dd/mm/jjjj' or 'jjjj-mm-dd'; None when empty."""
    if _missing(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(
        r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text
    )
    if match is None:
        raise _Unreadable(M_DATE)
    a, b, c = (int(g) for g in match.groups())
    year, month, day = (a, b, c) if len(match.group(1)) == 4 else (c, b, a)
    try:
        return date(year, month, day)
    except ValueError:
        raise _Unreadable(M_DATE) from None


_TRUE = {"ja", "j", "true", "waar", "1", "yes", "y", "x"}
_FALSE = {"nee", "n", "false", "onwaar", "0", "no", ""}


def _bool(value, default: bool) -> bool:
    if _missing(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Unreadable(M_BOOL)


def _int(value) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise _Unreadable(M_NUMBER)
    if isinstance(value, int | float):
        # Bounded, so a huge number is reported instead of overflowing the typed column.
        if isinstance(value, float) and not value.is_integer():
            raise _Unreadable(M_NUMBER)
        if abs(value) >= 10**9:
            raise _Unreadable(M_NUMBER)
        return int(value)
    text = _text(value)
    if text is None:
        return None
    if re.fullmatch(r"[+-]?\d{1,9}", text):
        return int(text)
    raise _Unreadable(M_NUMBER)


def _typed_frame(rows: list[dict], kinds: Mapping[str, str]) -> pd.DataFrame:
    columns = {}
    for name, kind in kinds.items():
        values = [row.get(name) for row in rows]
        if kind == "date":
            columns[name] = pd.Series(values, dtype="datetime64[s]")
        elif kind == "bool":
            columns[name] = pd.Series(values, dtype=bool)
        elif kind == "int":
            columns[name] = pd.Series(values, dtype="Int64")
        else:
            columns[name] = pd.Series(values, dtype="str")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))


def _messages(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> list[dict[str, str]]:
    """Per row, {field: first Dutch message} of the model's failures."""
    found: list[dict[str, str]] = [{} for _ in range(len(frame))]
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        row_fields = _ROW_CHECK_FIELDS.get(model, {})
        # Column checks come first in the index, so a field shows its most basic problem.
        for _, case in exc.failure_cases.sort_index().iterrows():
            message = str(case["check"])
            column = case["column"] if isinstance(case["column"], str) else FORM
            field = row_fields.get(message, column)
            if message not in _OWN_MESSAGES:
                message = M_INVALID
            index = case["index"]
            targets = range(len(frame)) if index is None or pd.isna(index) else [int(index)]
            for i in targets:
                found[i].setdefault(field, message)
    return found


def _normalise(rows: Iterable[Mapping], readers: Mapping[str, callable]) -> tuple[list[dict], list[dict[str, str]]]:
    """Typed values per row, and per row the fields that could not be typed at all."""
    values, errors = [], []
    for row in rows:
        typed, bad = {}, {}
        for name, read in readers.items():
            try:
                typed[name] = read(row.get(name))
            except _Unreadable as exc:
                typed[name] = None
                bad[name] = str(exc)
        values.append(typed)
        errors.append(bad)
    return values, errors


def _check(
    model: type[pa.DataFrameModel],
    rows: list[dict],
    kinds: Mapping[str, str],
    bad: list[dict[str, str]],
    guide: type[pa.DataFrameModel] | None = None,
) -> list[tuple[dict[str, str], dict[str, str]]]:
    frame = _typed_frame(rows, kinds)
    errors = _messages(model, frame)
    warnings = _messages(guide, frame) if guide is not None else [{} for _ in rows]
    out = []
    for parse_errors, rule_errors, advice in zip(bad, errors, warnings, strict=True):
        # A value that could not be read is reported as such, not as 'missing'.
        merged = {**rule_errors, **parse_errors}
        out.append((merged, {k: v for k, v in advice.items() if k not in merged}))
    return out


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise FormError(errors)


# -- registrations --------------------------------------------------------------------------
REGISTRATION_FIELDS = (
    "type",
    "fact_date",
    "facts",
    "interpretation",
    "agreements",
    "owner",
    "evaluation_date",
    "domain",
    "visibility",
    "transferable",
    "confidential_third_parties",
    "report_kind",
)
_REGISTRATION_KINDS = {
    "type": "text",
    "fact_date": "date",
    "facts": "text",
    "interpretation": "text",
    "agreements": "text",
    "owner": "text",
    "evaluation_date": "date",
    "domain": "text",
    "visibility": "text",
    "transferable": "bool",
    "confidential_third_parties": "bool",
    "report_kind": "text",
}


def _normalise_registrations(records: Iterable[Mapping]) -> tuple[list[dict], list[dict[str, str]]]:
    records = list(records)
    values, bad = _normalise(
        records,
        {
            "type": lambda v: _code(v, labels.REGISTRATION_TYPES),
            "fact_date": parse_date,
            "facts": _text,
            "interpretation": _text,
            "agreements": _text,
            "owner": _text,
            "evaluation_date": parse_date,
            "domain": lambda v: _code(v, labels.DOMAINS),
            "visibility": lambda v: _code(v, labels.VISIBILITIES),
            "transferable": lambda v: v,  # resolved below, its default depends on the type
            "confidential_third_parties": lambda v: _bool(v, False),
            "report_kind": lambda v: _code(v, labels.REPORT_KINDS),
        },
    )
    for raw, typed, errors in zip(records, values, bad, strict=True):
        kind = typed["type"]
        template = labels.TEMPLATES.get(kind)
        if template is not None and typed["visibility"] is None:
            typed["visibility"] = template.visibility
        try:
            typed["transferable"] = _bool(raw.get("transferable"), template.transferable if template else False)
        except _Unreadable as exc:
            typed["transferable"] = False
            errors["transferable"] = str(exc)
        if kind in labels.FORCED_TRANSFERABLE:
            typed["transferable"] = labels.FORCED_TRANSFERABLE[kind]
        if kind != "verslag":
            # The form hides this field for other types; a stale value must not be stored.
            typed["report_kind"] = None
    return values, bad


def check_registrations(records: Iterable[Mapping]) -> list[tuple[dict, dict[str, str], dict[str, str]]]:
    """For each record: (typed values, errors per field, warnings per field). Never raises."""
    records = list(records)
    values, bad = _normalise_registrations(records)
    results = _check(RegistrationModel, values, _REGISTRATION_KINDS, bad, RegistrationGuide)
    for raw, (errors, _) in zip(records, results, strict=True):
        if "type" in errors and _text(raw.get("visibility")) is None:
            errors.pop("visibility", None)  # it would have come from the type's template: one message is enough
    return [(v, e, w) for v, (e, w) in zip(values, results, strict=True)]


def check_registration(fields: Mapping) -> tuple[dict[str, str], dict[str, str]]:
    """(errors, warnings) for one registration form, each {field: Dutch message}."""
    _, errors, warnings = check_registrations([fields])[0]
    return errors, warnings


def validate_registration(fields: Mapping) -> dict:
    """The typed, rule-abiding values of one registration, or FormError.

    Unset visibility and transferable take the type's template defaults; the rules force
    transferable for verslag (always) and leefregel (never).
    """
    values, errors, _ = check_registrations([fields])[0]
    _raise_if(errors)
    return values


def validate_withdrawal(reason) -> str:
    values, bad = _normalise([{"reason": reason}], {"reason": _text})
    errors, _ = _check(WithdrawalModel, values, {"reason": "text"}, bad)[0]
    _raise_if(errors)
    return values[0]["reason"]


# -- care -----------------------------------------------------------------------------------
_MEASURE_KINDS = {
    "category": "text",
    "description": "text",
    "start_date": "date",
    "evaluation_date": "date",
    "end_date": "date",
}


def check_measure(fields: Mapping) -> tuple[dict, dict[str, str]]:
    """(typed values, errors per field) of a new measure."""
    values, bad = _normalise(
        [fields],
        {
            "category": lambda v: _code(v, labels.STICORDI),
            "description": _text,
            "start_date": parse_date,
            "evaluation_date": parse_date,
            "end_date": parse_date,
        },
    )
    errors, _ = _check(MeasureModel, values, _MEASURE_KINDS, bad)[0]
    return values[0], errors


def validate_measure(fields: Mapping) -> dict:
    values, errors = check_measure(fields)
    _raise_if(errors)
    return values


_EVALUATION_KINDS = {"evaluated_on": "date", "text": "text", "decision": "text", "next_evaluation_date": "date"}


def check_measure_evaluation(fields: Mapping) -> tuple[dict, dict[str, str]]:
    values, bad = _normalise(
        [fields],
        {
            "evaluated_on": parse_date,
            "text": _text,
            "decision": lambda v: _code(v, labels.DECISIONS),
            "next_evaluation_date": parse_date,
        },
    )
    errors, _ = _check(MeasureEvaluationModel, values, _EVALUATION_KINDS, bad)[0]
    return values[0], errors


def validate_measure_evaluation(fields: Mapping) -> dict:
    values, errors = check_measure_evaluation(fields)
    _raise_if(errors)
    return values


def check_care_phase(fields: Mapping) -> tuple[dict, dict[str, str]]:
    values, bad = _normalise([fields], {"phase": _int, "start_date": parse_date, "note": _text})
    errors, _ = _check(CarePhaseModel, values, {"phase": "int", "start_date": "date", "note": "text"}, bad)[0]
    return values[0], errors


def validate_care_phase(fields: Mapping) -> dict:
    values, errors = check_care_phase(fields)
    _raise_if(errors)
    return values
