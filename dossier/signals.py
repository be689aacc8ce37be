"""The attention list (aandachtslijst): transparent rules instead of a risk score.

Each rule is data: an id, a Dutch title, an explanation template filled with its thresholds,
default thresholds and on/off state, a SQL query that finds the pupils it applies to, and a
reason template that says why, with the numbers. Every signal carries the data behind it.

The zorgteam (and directie) switch rules on or off and edit thresholds (`set_rule`); a signal
can be dismissed with a reason (`dismiss_signal`, audited). A dismissal holds for the
fingerprint of the facts the signal was based on (`basis`), so it comes back when those change:
a new result, a later evaluation date. Facts that only describe the context (how many
classmates were tested, days overdue) are shown but not fingerprinted.

All rules run as one DuckDB query over the pupils enrolled now in the user's classes.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dossier import audit
from dossier.access import AccessDenied, User, can, class_scope_sql, pupil_scope_sql, require, scope
from dossier.dashboards import AVI_LEVELS, AVI_LEVELS_SQL, EXPECTED_AVI_SQL, MEASURE_STATE_CTE, resolve_class
from dossier.db import Database
from dossier.labels import STICORDI
from dossier.schoolyear import format_date, school_year_of, shift

DOMAIN_NAMES = {
    "wiskunde": "wiskunde",
    "spelling": "spelling",
    "technisch_lezen": "technisch lezen",
    "begrijpend_lezen": "begrijpend lezen",
}
SCALE_NAMES = {"welbevinden": "welbevinden", "betrokkenheid": "betrokkenheid"}
MAX_REASON_LENGTH = 500
# LVS rules look at results of this many school years before the list's year at most: enough for
# the longest series a threshold allows (6 moments), and it keeps the list fast after many years.
LOOKBACK_YEARS = 3
NOT_IN_SCOPE = "Deze leerling valt buiten jouw klassen of zit dit schooljaar niet (meer) op school."
MANAGE_DENIED = "Enkel het zorgteam en de directie kunnen de regels van de aandachtslijst aanpassen."
DISMISS_DENIED = "Enkel het zorgteam en de directie kunnen een signaal afwijzen."


class SignalError(ValueError):
    """Unusable input for a rule or a dismissal; the message is Dutch."""


@dataclass(frozen=True)
class Threshold:
    name: str
    label: str  # Dutch, for the settings form
    kind: str  # "int", "number" or "choice"
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    step: float | None = None

    def clean(self, value: object) -> object:
        """The value in its proper type, or SignalError with a Dutch message."""
        if self.kind == "choice":
            if value not in self.choices:
                raise SignalError(f"{self.label}: kies uit {', '.join(self.choices)}.")
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise SignalError(f"{self.label}: geef een getal.")
        number = float(value)
        if self.kind == "int" and not number.is_integer():
            raise SignalError(f"{self.label}: geef een geheel getal.")
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise SignalError(f"{self.label}: kies een waarde van {self.minimum:g} tot en met {self.maximum:g}.")
        if self.step is not None and not (number / self.step).is_integer():
            raise SignalError(f"{self.label}: kies een veelvoud van {self.step:g}.")
        return int(number) if self.kind == "int" else number


# A rule's query: thresholds -> (SQL SELECT, parameters). It may use the CTEs `ctx` (today,
# school_year, previous_year), `targets` (pupil_id, class_id, grade, entry_date of the pupils in
# scope), `care_targets` (those whose care data the user may read), `lvs_ranked`, `avi_moments`
# and `measure_state`, and must return the columns pupil_id, class_id, data (JSON list of the
# records shown) and basis (JSON of the facts fingerprinted).
QueryBuilder = Callable[[Mapping[str, object]], tuple[str, list]]
# A rule's reason: (thresholds, data records, class name, today) -> fields for its reason template.
ReasonFields = Callable[[Mapping[str, object], list[dict], str, date], dict]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    explanation: str  # template over the thresholds (and their derived phrases)
    reason: str  # template over the fields `reason_fields` returns
    defaults: Mapping[str, object]
    thresholds: tuple[Threshold, ...]
    query: QueryBuilder
    reason_fields: ReasonFields
    enabled: bool = True
    needs: str | None = None  # an extra permission the data behind the rule requires
    phrases: Callable[[Mapping[str, object]], dict] = field(default=lambda _t: {})

    def explain(self, thresholds: Mapping[str, object]) -> str:
        return self.explanation.format(**thresholds, **self.phrases(thresholds))

    def clean(self, thresholds: object) -> dict:
        if not isinstance(thresholds, Mapping):
            raise SignalError("De drempels moeten als naam en waarde gegeven worden.")
        known = {t.name: t for t in self.thresholds}
        unknown = sorted(set(thresholds) - set(known))
        if unknown:
            raise SignalError(f"Onbekende drempel voor '{self.title}': {', '.join(map(str, unknown))}.")
        merged = {**self.defaults, **thresholds}
        return {name: known[name].clean(merged[name]) for name in known}


# -- formatting helpers ----------------------------------------------------------------


def _pct(value: object) -> str:
    return f"P{round(float(value))}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "P?"


def _date(text: object) -> str:
    return format_date(date.fromisoformat(str(text))) if text else "onbekende datum"


def _zone_phrase(thresholds: Mapping[str, object]) -> dict:
    return {"zone_phrase": "zone E" if thresholds["zone"] == "E" else "zone D of E"}


def _moment_text(record: Mapping) -> str:
    return f"{record['moment']} {record['schooljaar']}"


# -- the rules -------------------------------------------------------------------------

MOMENT_SQL = "list_position(['begin', 'midden', 'eind'], {col})"
ZONE_SQL = "list_position(['A', 'B', 'C', 'D', 'E'], {col})"

LVS_RECORD = (
    "struct_pack(domein := l.domain, schooljaar := l.school_year, moment := l.moment, zone := l.zone,"
    " percentiel := l.percentile, afnamedatum := l.test_date)"
)


def _zone_repeated_query(t: Mapping[str, object]) -> tuple[str, list]:
    # Decide first, then serialise only the groups that fire: JSON for every pupil is the slow part.
    sql = f"""
        WITH fired AS (
            SELECT pupil_id, domain
            FROM lvs_ranked
            WHERE k <= ?
            GROUP BY pupil_id, domain
            HAVING count(*) = ? AND bool_and(zone_pos >= {ZONE_SQL.format(col="?")})
               AND max(school_year) >= (SELECT previous_year FROM ctx)
        )
        SELECT pupil_id, class_id, data, data AS basis FROM (
            SELECT l.pupil_id, l.class_id, to_json(list({LVS_RECORD} ORDER BY l.k DESC))::VARCHAR AS data
            FROM lvs_ranked l JOIN fired f ON f.pupil_id = l.pupil_id AND f.domain = l.domain
            WHERE l.k <= ?
            GROUP BY l.pupil_id, l.class_id, l.domain
        )
    """
    return sql, [t["moments"], t["moments"], t["zone"], t["moments"]]


def _zone_repeated_fields(t, data, _class_name, _today) -> dict:
    return {
        "zone_phrase": _zone_phrase(t)["zone_phrase"],
        "domein": DOMAIN_NAMES.get(data[0]["domein"], data[0]["domein"]),
        "aantal": len(data),
        "momenten": ", ".join(f"{_moment_text(r)}: {r['zone']} ({_pct(r['percentiel'])})" for r in data),
    }


def _zone_drop_query(t: Mapping[str, object]) -> tuple[str, list]:
    sql = f"""
        WITH fired AS (
            SELECT pupil_id, domain
            FROM lvs_ranked
            WHERE k <= 2
            GROUP BY pupil_id, domain
            HAVING count(*) = 2
               AND max(zone_pos) FILTER (WHERE k = 1) - max(zone_pos) FILTER (WHERE k = 2) >= ?
               AND max(school_year) >= (SELECT previous_year FROM ctx)
        )
        SELECT pupil_id, class_id, data, data AS basis FROM (
            SELECT l.pupil_id, l.class_id, to_json(list({LVS_RECORD} ORDER BY l.k DESC))::VARCHAR AS data
            FROM lvs_ranked l JOIN fired f ON f.pupil_id = l.pupil_id AND f.domain = l.domain
            WHERE l.k <= 2
            GROUP BY l.pupil_id, l.class_id, l.domain
        )
    """
    return sql, [t["zones"]]


def _zone_drop_fields(_t, data, _class_name, _today) -> dict:
    before, after = data
    order = "ABCDE"
    return {
        "domein": DOMAIN_NAMES.get(before["domein"], before["domein"]),
        "aantal": order.index(after["zone"]) - order.index(before["zone"]),
        "van": f"{before['zone']} ({_pct(before['percentiel'])}) bij {_moment_text(before)}",
        "naar": f"{after['zone']} ({_pct(after['percentiel'])}) bij {_moment_text(after)}",
    }


def _avi_behind_query(t: Mapping[str, object]) -> tuple[str, list]:
    expected = EXPECTED_AVI_SQL.format(moment="moment", grade="grade")
    record = (
        f"struct_pack(schooljaar := school_year, moment := moment, leerjaar := grade, afnamedatum := test_date,"
        f" niveau := {AVI_LEVELS_SQL}[level_rank + 1], niveau_rang := level_rank,"
        f" verwacht := {AVI_LEVELS_SQL}[{expected} + 1], verwacht_rang := {expected})"
    )
    sql = f"""
        SELECT pupil_id, class_id, to_json([{record}])::VARCHAR AS data, to_json([{record}])::VARCHAR AS basis
        FROM avi_moments
        WHERE k = 1 AND {expected} - level_rank >= ? AND school_year >= (SELECT previous_year FROM ctx)
    """
    return sql, [t["steps"]]


def _avi_behind_fields(_t, data, _class_name, _today) -> dict:
    r = data[0]
    return {
        "niveau": r["niveau"],
        "moment": _moment_text(r),
        "stappen": r["verwacht_rang"] - r["niveau_rang"],
        "verwacht": r["verwacht"],
        "leerjaar": r["leerjaar"],
    }


def _measure_overdue_query(t: Mapping[str, object]) -> tuple[str, list]:
    record = (
        "struct_pack(maatregel_id := ms.id, categorie := ms.category, omschrijving := ms.description,"
        " startdatum := ms.start_date, evaluatiedatum := ms.next_evaluation,"
        " laatste_evaluatie := ms.last_evaluated_on, laatste_beslissing := ms.last_decision)"
    )
    sql = f"""
        SELECT ms.pupil_id, tg.class_id, to_json([{record}])::VARCHAR AS data,
               to_json(struct_pack(maatregel_id := ms.id, evaluatiedatum := ms.next_evaluation))::VARCHAR AS basis
        FROM measure_state ms JOIN care_targets tg ON tg.pupil_id = ms.pupil_id
        WHERE NOT ms.stopped AND ms.next_evaluation IS NOT NULL
          AND ms.next_evaluation + CAST(? AS INTEGER) < (SELECT today FROM ctx)
    """
    return sql, [t["grace_days"]]


def _measure_overdue_fields(_t, data, _class_name, today) -> dict:
    r = data[0]
    due = date.fromisoformat(str(r["evaluatiedatum"]))
    return {
        "omschrijving": r["omschrijving"],
        "categorie": STICORDI.get(r["categorie"], r["categorie"]).lower(),
        "datum": format_date(due),
        "dagen": (today - due).days,
    }


def _missing_result_query(t: Mapping[str, object]) -> tuple[str, list]:
    sql = """
        WITH class_tests AS (
            SELECT tg.class_id, r.domain, r.school_year, r.moment,
                   count(DISTINCT r.pupil_id) AS n_tested, min(r.test_date) AS first_test
            FROM lvs_result r JOIN targets tg ON tg.pupil_id = r.pupil_id AND r.school_year = tg.school_year
            GROUP BY ALL
        ),
        class_sizes AS (SELECT class_id, count(*) AS class_size FROM targets GROUP BY class_id)
        SELECT tg.pupil_id, tg.class_id,
               to_json([struct_pack(domein := ct.domain, schooljaar := ct.school_year, moment := ct.moment,
                                    getest := ct.n_tested, klasgrootte := cs.class_size,
                                    eerste_afname := ct.first_test)])::VARCHAR AS data,
               to_json(struct_pack(domein := ct.domain, schooljaar := ct.school_year, moment := ct.moment))::VARCHAR
                   AS basis
        FROM class_tests ct
        JOIN class_sizes cs ON cs.class_id = ct.class_id
        JOIN targets tg ON tg.class_id = ct.class_id
        LEFT JOIN lvs_result r ON r.pupil_id = tg.pupil_id AND r.school_year = ct.school_year
             AND r.domain = ct.domain AND r.moment = ct.moment
        WHERE r.pupil_id IS NULL AND ct.n_tested * 100 >= ? * cs.class_size
          AND (tg.entry_date IS NULL OR tg.entry_date <= ct.first_test)
    """
    return sql, [t["min_share_tested"]]


def _missing_result_fields(_t, data, class_name, _today) -> dict:
    r = data[0]
    return {
        "domein": DOMAIN_NAMES.get(r["domein"], r["domein"]),
        "moment": _moment_text(r),
        "getest": r["getest"],
        "klasgrootte": r["klasgrootte"],
        "klas": class_name,
        "datum": _date(r["eerste_afname"]),
    }


def _wellbeing_low_query(t: Mapping[str, object]) -> tuple[str, list]:
    sql = """
        SELECT pupil_id, class_id,
               to_json([struct_pack(schaal := scale, score := score_text, waarde := score,
                                    observatiedatum := observed_on, context := context)])::VARCHAR AS data,
               to_json(struct_pack(schaal := scale, score := score_text, observatiedatum := observed_on))::VARCHAR
                   AS basis
        FROM (
            SELECT w.pupil_id, tg.class_id, w.scale, w.score_text, w.score, w.observed_on, w.context,
                   row_number() OVER (PARTITION BY w.pupil_id, w.scale ORDER BY w.observed_on DESC, w.id DESC) AS k
            FROM wellbeing_result w JOIN targets tg ON tg.pupil_id = w.pupil_id AND w.school_year = tg.school_year
        )
        WHERE k = 1 AND score <= ?
    """
    return sql, [t["score"]]


def _wellbeing_low_fields(t, data, _class_name, _today) -> dict:
    r = data[0]
    return {
        "schaal": SCALE_NAMES.get(r["schaal"], r["schaal"]).capitalize(),
        "score": r["score"],
        "datum": _date(r["observatiedatum"]),
        "drempel": f"{t['score']:g}",
    }


RULES: tuple[Rule, ...] = (
    Rule(
        id="zone_e_repeated",
        title="Herhaaldelijk in de gevarenzone",
        explanation="In {zone_phrase} voor hetzelfde domein op de laatste {moments} toetsmomenten na elkaar.",
        reason="{zone_phrase} voor {domein} op {aantal} toetsmomenten na elkaar: {momenten}.",
        defaults={"zone": "E", "moments": 2},
        thresholds=(
            Threshold("zone", "Zone", "choice", choices=("E", "D")),
            Threshold("moments", "Aantal toetsmomenten na elkaar", "int", 2, 6),
        ),
        query=_zone_repeated_query,
        reason_fields=_zone_repeated_fields,
        phrases=_zone_phrase,
    ),
    Rule(
        id="zone_drop",
        title="Sterke daling",
        explanation="{zones} zones of meer gedaald in een domein tussen de laatste twee toetsmomenten.",
        reason="{aantal} zones gedaald voor {domein}: van {van} naar {naar}.",
        defaults={"zones": 2},
        thresholds=(Threshold("zones", "Aantal zones", "int", 1, 4),),
        query=_zone_drop_query,
        reason_fields=_zone_drop_fields,
    ),
    Rule(
        id="avi_behind",
        title="AVI onder het verwachte niveau",
        explanation=(
            "Het laatst behaalde AVI-niveau ligt {steps} stappen of meer onder het verwachte niveau"
            " (midden van het schooljaar M, einde E van leerjaar + 2)."
        ),
        reason="AVI-niveau {niveau} bij {moment} ligt {stappen} stappen onder het verwachte niveau {verwacht}"
        " voor leerjaar {leerjaar}.",
        defaults={"steps": 2},
        thresholds=(Threshold("steps", "Aantal AVI-stappen", "int", 1, len(AVI_LEVELS) - 1),),
        query=_avi_behind_query,
        reason_fields=_avi_behind_fields,
    ),
    Rule(
        id="measure_overdue",
        title="Maatregel niet op tijd geëvalueerd",
        explanation="Een lopende maatregel is meer dan {grace_days} dagen over zijn evaluatiedatum.",
        reason="Maatregel '{omschrijving}' ({categorie}) moest geëvalueerd worden op {datum}: {dagen} dagen geleden.",
        defaults={"grace_days": 0},
        thresholds=(Threshold("grace_days", "Dagen speling", "int", 0, 365),),
        query=_measure_overdue_query,
        reason_fields=_measure_overdue_fields,
        needs="care.read",
    ),
    Rule(
        id="missing_result",
        title="Geen resultaat",
        explanation="Geen LVS-resultaat op een toetsmoment waarop minstens {min_share_tested}% van de klas"
        " getest werd.",
        reason="Geen resultaat voor {domein} bij {moment}, terwijl {getest} van de {klasgrootte} leerlingen van"
        " {klas} getest werden (vanaf {datum}).",
        defaults={"min_share_tested": 50},
        thresholds=(Threshold("min_share_tested", "Minimum aandeel van de klas getest (%)", "int", 1, 100),),
        query=_missing_result_query,
        reason_fields=_missing_result_fields,
    ),
    Rule(
        id="wellbeing_low",
        title="Laag welbevinden of betrokkenheid",
        explanation="De laatste observatie van welbevinden of betrokkenheid (Leuvense schalen) is {score:g} of lager.",
        reason="{schaal} {score} bij de laatste observatie op {datum} (drempel: {drempel} of lager).",
        defaults={"score": 2.0},
        thresholds=(Threshold("score", "Score (1 tot 5)", "number", 1, 5, step=0.5),),
        query=_wellbeing_low_query,
        reason_fields=_wellbeing_low_fields,
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}


# -- settings --------------------------------------------------------------------------


def _settings(cur) -> dict[str, dict]:
    """Per rule: enabled, thresholds (defaults merged), changed_by, changed_at."""
    stored = {
        row[0]: row[1:]
        for row in cur.execute(
            "SELECT rule_id, enabled, thresholds, changed_by_name, changed_at FROM signal_rule"
        ).fetchall()
    }
    settings = {}
    for rule in RULES:
        enabled, thresholds, changed_by, changed_at = stored.get(rule.id, (rule.enabled, None, None, None))
        try:
            cleaned = rule.clean(json.loads(thresholds) if thresholds else {})
        except (SignalError, ValueError):
            # A stored value the current code no longer accepts must not break the list.
            cleaned = rule.clean({})
        settings[rule.id] = {
            "enabled": bool(enabled),
            "thresholds": cleaned,
            "changed_by": changed_by,
            "changed_at": changed_at,
        }
    return settings


def list_rules(db: Database, user: User) -> pd.DataFrame:
    """The rules with their current state: rule_id, title, explanation (filled in), enabled,
    thresholds, defaults, threshold_specs, changed_by, changed_at."""
    require(user, "dashboard.class")
    with db.cursor() as cur:
        settings = _settings(cur)
    rows = []
    for rule in RULES:
        s = settings[rule.id]
        rows.append(
            {
                "rule_id": rule.id,
                "title": rule.title,
                "explanation": rule.explain(s["thresholds"]),
                "enabled": s["enabled"],
                "thresholds": s["thresholds"],
                "defaults": dict(rule.defaults),
                "threshold_specs": list(rule.thresholds),
                "changed_by": s["changed_by"],
                "changed_at": s["changed_at"],
            }
        )
    return pd.DataFrame(rows)


def _can_manage(user: User) -> bool:
    # Managing the list is a care decision: the roles that write care phases and measures.
    return scope(user, "care.write") is not None


def set_rule(
    db: Database, user: User, rule_id: str, enabled: bool, thresholds: Mapping[str, object] | None = None
) -> dict:
    """Switch a rule on or off and set its thresholds (missing ones keep their current value).

    Zorgteam and directie only. Returns the stored {enabled, thresholds}. Audited.
    """
    if user is None or not _can_manage(user):
        raise AccessDenied(MANAGE_DENIED)
    rule = RULES_BY_ID.get(rule_id) if isinstance(rule_id, str) else None
    if rule is None:
        raise SignalError(f"Onbekende regel {rule_id!r}.")
    if not isinstance(enabled, bool):
        raise SignalError("Kies of de regel aan of uit staat.")

    def write(cur):
        current = _settings(cur)[rule.id]["thresholds"]
        cleaned = rule.clean({**current, **(thresholds or {})})
        cur.execute(
            """
            INSERT INTO signal_rule (rule_id, enabled, thresholds, changed_by_id, changed_by_name, changed_at)
            VALUES (?, ?, ?, ?, ?, current_timestamp)
            ON CONFLICT (rule_id) DO UPDATE SET enabled = excluded.enabled, thresholds = excluded.thresholds,
                changed_by_id = excluded.changed_by_id, changed_by_name = excluded.changed_by_name,
                changed_at = excluded.changed_at
            """,
            [rule.id, enabled, json.dumps(cleaned), user.id, user.name],
        )
        state = "aan" if enabled else "uit"
        audit.record(
            cur,
            user,
            "correct",
            object=f"signaalregel:{rule.id}",
            detail=f"{rule.title}: {state}, drempels {json.dumps(cleaned, ensure_ascii=False)}",
        )
        return {"enabled": enabled, "thresholds": cleaned}

    return db.write(write)


# -- the list --------------------------------------------------------------------------

SIGNAL_COLUMNS = (
    "pupil_id",
    "pupil_number",
    "first_name",
    "last_name",
    "class_id",
    "class_name",
    "rule_id",
    "rule_title",
    "reason",
    "data",
    "fingerprint",
    "dismissed",
    "dismissed_reason",
    "dismissed_by",
    "dismissed_at",
)


def _signal_frame(
    cur,
    user: User,
    school_year: str,
    today: date,
    *,
    class_id: int | None = None,
    pupil_id: int | None = None,
    include_dismissed: bool = False,
) -> pd.DataFrame:
    settings = _settings(cur)
    class_cond, class_params = class_scope_sql(user, "dashboard.class", "c.id")
    pupil_cond, pupil_params = pupil_scope_sql(user, "dashboard.class", "e.pupil_id")
    extra, extra_params = "", []
    if class_id is not None:
        extra += " AND c.id = ?"
        extra_params.append(class_id)
    if pupil_id is not None:
        extra += " AND e.pupil_id = ?"
        extra_params.append(pupil_id)
    parts, part_params = [], []
    for rule in RULES:
        if not settings[rule.id]["enabled"] or (rule.needs and not can(user, rule.needs)):
            continue
        sql, params = rule.query(settings[rule.id]["thresholds"])
        parts.append(f"SELECT '{rule.id}' AS rule_id, pupil_id, class_id, data, basis FROM ({sql})")
        part_params += params
    if not parts:
        return pd.DataFrame(columns=list(SIGNAL_COLUMNS))
    # Care data may be scoped more narrowly than the dashboard: measures only for pupils in care scope.
    care_cond, care_params = pupil_scope_sql(user, "care.read", "pupil_id") if can(user, "care.read") else ("FALSE", [])
    rule_order = "[" + ", ".join(f"'{rule.id}'" for rule in RULES) + "]"
    query = f"""
        WITH ctx AS (SELECT ?::DATE AS today, ? AS school_year, ? AS previous_year, ? AS earliest_year),
        targets AS (
            SELECT e.pupil_id, c.id AS class_id, c.school_year, c.grade, e.entry_date
            FROM enrolment e JOIN class c ON c.id = e.class_id
            WHERE c.school_year = (SELECT school_year FROM ctx)
              AND (e.leave_date IS NULL OR e.leave_date > (SELECT today FROM ctx))
              AND {class_cond} AND {pupil_cond} {extra}
        ),
        care_targets AS (SELECT * FROM targets WHERE {care_cond}),
        lvs_ranked AS (
            SELECT r.pupil_id, tg.class_id, r.domain, r.school_year, r.moment, r.zone, r.percentile, r.test_date,
                   {ZONE_SQL.format(col="r.zone")} AS zone_pos,
                   row_number() OVER (PARTITION BY r.pupil_id, r.domain
                                      ORDER BY r.school_year DESC, {MOMENT_SQL.format(col="r.moment")} DESC) AS k
            FROM lvs_result r JOIN targets tg ON tg.pupil_id = r.pupil_id
            WHERE r.school_year BETWEEN (SELECT earliest_year FROM ctx) AND (SELECT school_year FROM ctx)
        ),
        avi_moments AS (
            SELECT r.pupil_id, tg.class_id, r.school_year, r.moment, max(r.grade) AS grade,
                   max(r.level_rank) AS level_rank, max(r.test_date) AS test_date,
                   row_number() OVER (PARTITION BY r.pupil_id
                                      ORDER BY r.school_year DESC, {MOMENT_SQL.format(col="r.moment")} DESC) AS k
            FROM avi_result r JOIN targets tg ON tg.pupil_id = r.pupil_id
            WHERE r.school_year <= (SELECT school_year FROM ctx)
            GROUP BY r.pupil_id, tg.class_id, r.school_year, r.moment
        ),
        {MEASURE_STATE_CTE},
        signals AS ({" UNION ALL ".join(parts)}),
        fingerprinted AS (
            SELECT s.*, md5(s.rule_id || '|' || s.pupil_id || '|' || s.basis) AS fingerprint FROM signals s
        ),
        dismissals AS (
            SELECT * FROM signal_dismissal
            QUALIFY row_number() OVER (PARTITION BY pupil_id, rule_id, fingerprint ORDER BY id DESC) = 1
        )
        SELECT f.pupil_id, p.pupil_number, p.first_name, p.last_name, f.class_id, c.name AS class_name,
               f.rule_id, f.data, f.fingerprint, d.id IS NOT NULL AS dismissed, d.reason AS dismissed_reason,
               d.dismissed_by_name AS dismissed_by, d.dismissed_at
        FROM fingerprinted f
        JOIN pupil p ON p.id = f.pupil_id
        JOIN class c ON c.id = f.class_id
        LEFT JOIN dismissals d ON d.pupil_id = f.pupil_id AND d.rule_id = f.rule_id AND d.fingerprint = f.fingerprint
        WHERE ? OR d.id IS NULL
        ORDER BY list_position(['kleuter', 'lager', 'secundair'], c.level), c.grade, c.name,
                 p.last_name, p.first_name, p.id, list_position({rule_order}, f.rule_id), f.fingerprint
    """
    params = [
        today,
        school_year,
        shift(school_year, -1),
        shift(school_year, -LOOKBACK_YEARS),
        *class_params,
        *pupil_params,
        *extra_params,
        *care_params,
        *part_params,
        include_dismissed,
    ]
    frame = cur.execute(query, params).df()
    frame["data"] = [json.loads(text) for text in frame["data"]]
    frame["rule_title"] = frame["rule_id"].map({r.id: r.title for r in RULES})
    frame["reason"] = [
        _reason(RULES_BY_ID[rid], settings[rid]["thresholds"], data, klas, today)
        for rid, data, klas in zip(frame["rule_id"], frame["data"], frame["class_name"], strict=True)
    ]
    return frame[list(SIGNAL_COLUMNS)]


def _reason(rule: Rule, thresholds: Mapping[str, object], data: list[dict], class_name: str, today: date) -> str:
    text = rule.reason.format(**rule.reason_fields(thresholds, data, class_name, today))
    return text[0].upper() + text[1:]


def _list_year(cur, user: User, class_id: object, today: date) -> tuple[str, int | None]:
    if class_id is None:
        return school_year_of(today), None
    info = resolve_class(cur, user, class_id)
    return info["school_year"], info["id"]


def attention_list(
    db: Database,
    user: User,
    class_id: object = None,
    today: date | None = None,
    *,
    include_dismissed: bool = False,
) -> pd.DataFrame:
    """The attention list for one class, or for all classes of the current school year in the user's scope.

    One row per signal (columns SIGNAL_COLUMNS): the pupil, the rule, a Dutch reason with the
    numbers, `data` (the records behind it) and the `fingerprint` to dismiss it with. Dismissed
    signals are left out unless `include_dismissed`.
    """
    require(user, "dashboard.class")
    today = today or date.today()
    with db.cursor() as cur:
        year, ident = _list_year(cur, user, class_id, today)
        return _signal_frame(cur, user, year, today, class_id=ident, include_dismissed=include_dismissed)


def dismiss_signal(
    db: Database,
    user: User,
    pupil_id: object,
    rule_id: str,
    fingerprint: str,
    reason: str,
    *,
    today: date | None = None,
    class_id: object = None,
) -> None:
    """Hide one signal while its data stay the same. Zorgteam and directie only; audited.

    `class_id` and `today` as given to the attention_list the signal came from.
    """
    if user is None or not _can_manage(user):
        raise AccessDenied(DISMISS_DENIED)
    if not isinstance(rule_id, str) or rule_id not in RULES_BY_ID:
        raise SignalError(f"Onbekende regel {rule_id!r}.")
    if isinstance(pupil_id, bool) or not isinstance(pupil_id, numbers.Integral) or not 0 < int(pupil_id) < 2**31:
        raise AccessDenied(NOT_IN_SCOPE)
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) < 3:
        raise SignalError("Geef een reden waarom dit signaal niet (meer) opgevolgd moet worden.")
    if len(text) > MAX_REASON_LENGTH:
        raise SignalError(f"De reden mag hoogstens {MAX_REASON_LENGTH} tekens lang zijn.")
    today = today or date.today()
    rule = RULES_BY_ID[rule_id]

    def write(cur):
        year, ident = _list_year(cur, user, class_id, today)
        current = _signal_frame(cur, user, year, today, class_id=ident, pupil_id=int(pupil_id), include_dismissed=True)
        mine = current[(current["rule_id"] == rule_id) & (current["fingerprint"] == fingerprint)]
        if mine.empty:
            raise SignalError(
                f"Dit signaal ('{rule.title}') staat niet (meer) op de aandachtslijst: de gegevens zijn intussen"
                " gewijzigd. Vernieuw de lijst."
            )
        if bool(mine["dismissed"].iloc[0]):
            return
        cur.execute(
            "INSERT INTO signal_dismissal (pupil_id, rule_id, fingerprint, reason, dismissed_by_id, dismissed_by_name)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [int(pupil_id), rule_id, fingerprint, text, user.id, user.name],
        )
        audit.record(
            cur,
            user,
            "dismiss",
            pupil_id=int(pupil_id),
            object=f"signaal:{rule_id}:{fingerprint[:12]}",
            detail=f"{rule.title} afgewezen: {text}",
        )

    db.write(write)
