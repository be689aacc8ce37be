"""Care phases (zorgcontinuum) and STICORDI measures with their evaluations.

A pupil has at most one open care phase; `set_phase` closes it and opens the next in one
transaction, together with the zorgfase registration that documents the change. Measures
are never edited: each evaluation is a new row, and a measure's end and next evaluation date
are derived from its latest evaluation.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dossier import audit, labels
from dossier.access import AccessDenied, User, pupil_scope_sql, require
from dossier.db import Database
from dossier.forms import (
    FORM,
    FormError,
    validate_care_phase,
    validate_measure,
    validate_measure_evaluation,
    validate_registration,
)
from dossier.registrations import (
    OUT_OF_SCOPE,
    as_id,
    insert_registration,
    readable_visibilities,
    require_pupil,
    visibility_sql,
    writable_visibilities,
)
from dossier.schoolyear import format_date, school_year_of

MEASURE_NOT_FOUND = "Deze maatregel bestaat niet of valt buiten jouw klassen."
NO_PHASE_YET = "geen zorgfase geregistreerd"

# Columns of list_measures, in order.
MEASURE_COLUMNS = (
    "measure_id",
    "pupil_id",
    "category",
    "description",
    "start_date",
    "end_date",
    "planned_end_date",
    "evaluation_date",
    "first_evaluation_date",
    "active",
    "stopped",
    "evaluations",
    "last_evaluated_on",
    "last_decision",
    "last_evaluation_text",
    "last_evaluated_by",
    "created_by_name",
    "created_by_role",
    "created_at",
)

DUE_COLUMNS = (
    "pupil_id",
    "first_name",
    "last_name",
    "pupil_name",
    "class_id",
    "class_name",
    "kind",
    "object_id",
    "subtype",
    "description",
    "owner",
    "evaluation_date",
    "days_overdue",
)


# The derived state of every measure: end and next evaluation follow from its latest evaluation.
def measure_state_sql(only: str = "TRUE") -> str:
    """The `measure_state` CTE: each measure with its latest evaluation and current dates.

    `only` narrows the measures read (e.g. 'pupil_id = 12', built from a validated int) so a
    single pupil's page does not derive the state of every measure in the school group.
    """
    return f"""
    measure_state AS (
        SELECT m.*, l.id AS last_id, l.evaluated_on AS last_evaluated_on, l.decision AS last_decision,
               l.text AS last_evaluation_text, l.created_by_name AS last_evaluated_by,
               coalesce(n.evaluations, 0) AS evaluations,
               coalesce(l.decision = 'stopzetten', false) AS stopped,
               CASE WHEN l.decision = 'stopzetten' THEN l.evaluated_on ELSE m.end_date END AS effective_end,
               -- A stopzetten row has no next date (CHECK in migration 003), so nothing stays due.
               CASE WHEN l.id IS NULL THEN m.evaluation_date ELSE l.next_evaluation_date END AS next_evaluation
        FROM (SELECT * FROM measure WHERE {only}) m
        LEFT JOIN (
            SELECT * FROM measure_evaluation
            WHERE measure_id IN (SELECT id FROM measure WHERE {only})
            QUALIFY row_number() OVER (PARTITION BY measure_id ORDER BY id DESC) = 1
        ) l ON l.measure_id = m.id
        LEFT JOIN (
            SELECT measure_id, count(*) AS evaluations FROM measure_evaluation
            WHERE measure_id IN (SELECT id FROM measure WHERE {only})
            GROUP BY measure_id
        ) n ON n.measure_id = m.id
    )
"""


def measure_state(planned_end, first_evaluation, latest: tuple | None) -> tuple[bool, object, object]:
    """The rule of `measure_state_sql` for one measure, for readers that derive it in Python.

    `latest`: (decision, evaluated_on, next_evaluation_date) of the measure's latest evaluation
    (highest id), None without one. Returns (stopped, effective end, next evaluation date).
    tests/test_pupil_rows.py and tests/test_class_read.py compare the readers with the SQL.
    """
    if latest is None:
        return False, planned_end, first_evaluation
    decision, evaluated_on, next_date = latest
    stopped = decision == "stopzetten"
    return stopped, evaluated_on if stopped else planned_end, next_date


def measure_active(start, effective_end, day) -> bool:
    """Running on `day`: started, and not ended before it (as `active` in execute_measures)."""
    return start <= day and (effective_end is None or effective_end >= day)


def _only_pupil(pupil_id: int | None) -> str:
    return "TRUE" if pupil_id is None else f"pupil_id = {int(pupil_id)}"


def _row_dict(cur) -> dict | None:
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


# -- care phases ----------------------------------------------------------------------------
def _open_phase(cur, pupil_id: int) -> dict | None:
    cur.execute(
        """
        SELECT id, pupil_id, phase, start_date, end_date, note, registration_id, created_by_name, created_at
        FROM care_phase WHERE pupil_id = ? AND end_date IS NULL
        ORDER BY start_date DESC, id DESC LIMIT 1
        """,
        [pupil_id],
    )
    found = _row_dict(cur)
    if found is not None:
        found["phase_label"] = labels.phase_label(found["phase"])
    return found


def current_phase(db: Database, user: User, pupil_id: int) -> dict | None:
    """The open care phase {id, phase, phase_label, start_date, end_date, note, ...}, or None.

    None means no phase was ever registered: the pupil is in brede basiszorg (fase 0).
    """
    require(user, "care.read")

    def read(cur):
        require_pupil(cur, user, pupil_id, "care.read")
        found = _open_phase(cur, as_id(pupil_id))
        audit.record(cur, user, "view", pupil_id=as_id(pupil_id), object="care_phase", detail="huidige zorgfase")
        return found

    return db.write(read)


def phase_history(db: Database, user: User, pupil_id: int) -> pd.DataFrame:
    """All care phases of a pupil, oldest first: id, phase, phase_label, start_date, end_date, note,
    registration_id, created_by_name, created_at."""

    def read(cur):
        frame = query_phase_history(cur, user, pupil_id)
        audit.record(cur, user, "view", pupil_id=as_id(pupil_id), object="care_phase", detail=f"{len(frame)} zorgfasen")
        return frame

    return db.write(read)


def query_phase_history(cur, user: User, pupil_id: int) -> pd.DataFrame:
    """`phase_history` inside the caller's transaction, without its audit row."""
    require(user, "care.read")
    require_pupil(cur, user, pupil_id, "care.read")
    frame = execute_phase_history(cur, as_id(pupil_id)).df()
    frame.insert(3, "phase_label", [labels.phase_label(p) for p in frame["phase"]])
    return frame


def execute_phase_history(cur, pupil_id: int, *, ordered: bool = True):
    """Run the query of a pupil's care phases, oldest first; the caller fetches. Unchecked: verify scope first.

    `ordered=False`: in no particular order, for a caller that sorts on (start_date, id) itself.
    """
    return cur.execute(
        "SELECT id, pupil_id, phase, start_date, end_date, note, registration_id, created_by_name, created_at"
        " FROM care_phase WHERE pupil_id = ?" + (" ORDER BY start_date, id" if ordered else ""),
        [pupil_id],
    )


def set_phase(db: Database, user: User, pupil_id: int, phase: int, start_date: date, note: str) -> None:
    """Close the open phase, open `phase` from `start_date`, and write the zorgfase registration.

    The closed phase ends the day before `start_date` (or on it, when the new phase starts
    the same day the old one did: a same-day correction). All in one transaction.
    """
    require(user, "care.write")
    clean = validate_care_phase({"phase": phase, "start_date": start_date, "note": note})
    new_phase, start = int(clean["phase"]), clean["start_date"]

    def write(cur):
        require_pupil(cur, user, pupil_id, "care.write")
        pid = as_id(pupil_id)
        current = _open_phase(cur, pid)
        if current is not None:
            if current["phase"] == new_phase:
                raise FormError({"phase": f"De leerling zit al in {labels.phase_label(new_phase)}."})
            if start < current["start_date"]:
                raise FormError(
                    {
                        "start_date": f"De huidige zorgfase loopt sinds {format_date(current['start_date'])}: "
                        "kies die datum of een latere."
                    }
                )
            end = start - timedelta(days=1) if start > current["start_date"] else start
            cur.execute("UPDATE care_phase SET end_date = ? WHERE id = ?", [end, current["id"]])
        before = current["phase_label"] if current else f"{labels.phase_label(0)} ({NO_PHASE_YET})"
        facts = f"Zorgfase gewijzigd van {before} naar {labels.phase_label(new_phase)}, vanaf {format_date(start)}."
        try:
            registration = validate_registration(
                {
                    "type": "zorgfase",
                    "fact_date": start,
                    "facts": f"{facts}\n{clean['note']}",
                    "visibility": labels.default_visibility("zorgfase", writable_visibilities(user)),
                }
            )
        except FormError as exc:
            # The only free text in it is the note: that is where the page shows the problem.
            raise FormError({"note": next(iter(exc.errors.values()))}) from None
        registration_id = insert_registration(cur, user, pid, registration)
        phase_id = cur.execute(
            "INSERT INTO care_phase (pupil_id, phase, start_date, note, registration_id, created_by_id,"
            " created_by_name) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [pid, new_phase, start, clean["note"], registration_id, user.id, user.name],
        ).fetchone()[0]
        audit.record(cur, user, "create", pupil_id=pid, object=f"care_phase:{phase_id}", detail=f"zorgfase {new_phase}")

    db.write(write)


# -- measures -------------------------------------------------------------------------------
def add_measure(
    db: Database,
    user: User,
    pupil_id: int,
    category: str,
    description: str,
    start_date: date,
    evaluation_date: date,
    end_date: date | None = None,
) -> int:
    """Start a STICORDI measure; returns its id."""
    require(user, "care.write")
    clean = validate_measure(
        {
            "category": category,
            "description": description,
            "start_date": start_date,
            "evaluation_date": evaluation_date,
            "end_date": end_date,
        }
    )

    def write(cur):
        require_pupil(cur, user, pupil_id, "care.write")
        pid = as_id(pupil_id)
        measure_id = cur.execute(
            "INSERT INTO measure (pupil_id, category, description, start_date, end_date, evaluation_date,"
            " created_by_id, created_by_name, created_by_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                pid,
                clean["category"],
                clean["description"],
                clean["start_date"],
                clean["end_date"],
                clean["evaluation_date"],
                user.id,
                user.name,
                user.role,
            ],
        ).fetchone()[0]
        audit.record(
            cur, user, "create", pupil_id=pid, object=f"measure:{measure_id}", detail=f"maatregel {clean['category']}"
        )
        return measure_id

    return db.write(write)


def evaluate_measure(
    db: Database,
    user: User,
    measure_id: int,
    evaluated_on: date,
    text: str,
    decision: str,
    next_evaluation_date: date | None = None,
) -> None:
    """Record an evaluation. stopzetten ends the measure on `evaluated_on`; verderzetten and
    bijsturen plan the next evaluation on `next_evaluation_date` (None: none planned)."""
    require(user, "care.write")
    clean = validate_measure_evaluation(
        {
            "evaluated_on": evaluated_on,
            "text": text,
            "decision": decision,
            "next_evaluation_date": next_evaluation_date,
        }
    )

    def write(cur):
        mid = as_id(measure_id)
        cur.execute(f"WITH {measure_state_sql(f'id = {int(mid)}')} SELECT * FROM measure_state WHERE id = ?", [mid])
        state = _row_dict(cur) if mid is not None else None
        if state is None:
            raise AccessDenied(MEASURE_NOT_FOUND)
        require_pupil(cur, user, state["pupil_id"], "care.write")
        if state["stopped"]:
            raise FormError({FORM: f"Deze maatregel is op {format_date(state['effective_end'])} stopgezet."})
        if clean["evaluated_on"] < state["start_date"]:
            raise FormError({"evaluated_on": f"De maatregel startte pas op {format_date(state['start_date'])}."})
        if state["last_evaluated_on"] is not None and clean["evaluated_on"] < state["last_evaluated_on"]:
            raise FormError(
                {
                    "evaluated_on": "Er is al een evaluatie van "
                    f"{format_date(state['last_evaluated_on'])}: een nieuwe kan niet vroeger liggen."
                }
            )
        evaluation_id = cur.execute(
            "INSERT INTO measure_evaluation (measure_id, evaluated_on, text, decision, next_evaluation_date,"
            " created_by_id, created_by_name, created_by_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                mid,
                clean["evaluated_on"],
                clean["text"],
                clean["decision"],
                clean["next_evaluation_date"],
                user.id,
                user.name,
                user.role,
            ],
        ).fetchone()[0]
        audit.record(
            cur,
            user,
            "create",
            pupil_id=state["pupil_id"],
            object=f"measure_evaluation:{evaluation_id}",
            detail=f"maatregel {mid}: {clean['decision']}",
        )

    db.write(write)


def list_measures(
    db: Database, user: User, pupil_id: int, active_only: bool = False, *, today: date | None = None
) -> pd.DataFrame:
    """A pupil's measures with their latest evaluation; columns MEASURE_COLUMNS.

    end_date and evaluation_date are the current ones (after the latest evaluation);
    planned_end_date and first_evaluation_date are what was set at the start. `active`:
    started and not ended on `today`.
    """

    def read(cur):
        frame = query_measures(cur, user, pupil_id, active_only, today=today)
        audit.record(cur, user, "view", pupil_id=as_id(pupil_id), object="measures", detail=f"{len(frame)} maatregelen")
        return frame

    return db.write(read)


def query_measures(
    cur, user: User, pupil_id: int, active_only: bool = False, *, today: date | None = None
) -> pd.DataFrame:
    """`list_measures` inside the caller's transaction, without its audit row."""
    require(user, "care.read")
    require_pupil(cur, user, pupil_id, "care.read")
    frame = execute_measures(cur, as_id(pupil_id), today or date.today()).df()
    if active_only:
        frame = frame[frame["active"]].reset_index(drop=True)
    return frame


def execute_measures(cur, pupil_id: int, day: date):
    """Run the query of a pupil's measures (MEASURE_COLUMNS); the caller fetches. Unchecked: verify scope first.

    The same state as `measure_state_sql`, for one pupil: the latest evaluation and the count
    come from one aggregate over that pupil's evaluations (one pass instead of a window and a
    second grouping, which at school-group scale cost more than the few rows they read).
    """
    return cur.execute(
        """
        WITH l AS (
            SELECT e.measure_id, max(e.id) AS last_id, count(*) AS evaluations,
                   arg_max_null(e.evaluated_on, e.id) AS last_evaluated_on,
                   arg_max_null(e.decision, e.id) AS last_decision,
                   arg_max_null(e.text, e.id) AS last_evaluation_text,
                   arg_max_null(e.created_by_name, e.id) AS last_evaluated_by,
                   arg_max_null(e.next_evaluation_date, e.id) AS next_evaluation_date
            FROM measure_evaluation e JOIN measure p ON p.id = e.measure_id
            WHERE p.pupil_id = $pupil
            GROUP BY e.measure_id
        ),
        s AS (
            SELECT m.*, l.last_evaluated_on, l.last_decision, l.last_evaluation_text, l.last_evaluated_by,
                   coalesce(l.evaluations, 0) AS evaluations,
                   coalesce(l.last_decision = 'stopzetten', false) AS stopped,
                   CASE WHEN l.last_decision = 'stopzetten' THEN l.last_evaluated_on ELSE m.end_date END
                       AS effective_end,
                   CASE WHEN l.last_id IS NULL THEN m.evaluation_date ELSE l.next_evaluation_date END
                       AS next_evaluation
            FROM measure m LEFT JOIN l ON l.measure_id = m.id
            WHERE m.pupil_id = $pupil
        )
        SELECT id AS measure_id, pupil_id, category, description, start_date,
               effective_end AS end_date, end_date AS planned_end_date,
               next_evaluation AS evaluation_date, evaluation_date AS first_evaluation_date,
               (start_date <= $day::DATE AND (effective_end IS NULL OR effective_end >= $day::DATE)) AS active,
               stopped, evaluations, last_evaluated_on, last_decision, last_evaluation_text, last_evaluated_by,
               created_by_name, created_by_role, created_at
        FROM s
        ORDER BY active DESC, start_date DESC, id DESC
        """,
        {"pupil": pupil_id, "day": day},
    )


def due_evaluations(db: Database, user: User, *, within_days: int = 14, today: date | None = None) -> pd.DataFrame:
    """'Te evalueren' for everyone in the user's scope; see `query_due_evaluations`. Audited."""

    def read(cur):
        frame = query_due_evaluations(cur, user, within_days=within_days, today=today)
        audit.record(cur, user, "view", object="due_evaluations", detail=f"te evalueren: {len(frame)}")
        return frame

    return db.write(read)


def query_due_evaluations(
    cur, user: User, *, within_days: int = 14, today: date | None = None, pupil_id: int | None = None
) -> pd.DataFrame:
    """'Te evalueren': measures and agreements whose evaluation date is past or within `within_days`.

    For the pupils enrolled now in the user's scope (a teacher: own classes; agreements only
    from registrations the user may read). An agreement counts as evaluated once a current
    registration follows it up (`follows_up`). Columns DUE_COLUMNS; days_overdue is negative
    while the date is still ahead. Most overdue first.
    """
    require(user, "care.read")
    day = today or date.today()
    horizon = day + timedelta(days=int(within_days))
    pupil_condition, pupil_params = pupil_scope_sql(user, "care.read", "p.id")
    one = as_id(pupil_id) if pupil_id is not None else None
    if pupil_id is not None and one is None:
        raise AccessDenied(OUT_OF_SCOPE)
    only = _only_pupil(one)
    parts = [
        """
        SELECT ms.pupil_id, 'maatregel' AS kind, ms.id AS object_id, ms.category AS subtype,
               ms.description, CAST(NULL AS VARCHAR) AS owner, ms.next_evaluation AS evaluation_date
        FROM measure_state ms
        WHERE NOT ms.stopped AND ms.next_evaluation IS NOT NULL AND ms.next_evaluation <= ?::DATE
        """
    ]
    params: list = [horizon]
    if readable_visibilities(user):
        condition, visibility_params = visibility_sql(user, "read", "r")
        parts.append(
            f"""
            SELECT r.pupil_id, 'afspraak' AS kind, r.registration_id AS object_id, r.type AS subtype,
                   coalesce(r.agreements, r.facts) AS description, r.owner, r.evaluation_date
            FROM (
                SELECT * FROM registration WHERE {only}
                QUALIFY row_number() OVER (PARTITION BY registration_id ORDER BY version DESC) = 1
            ) r
            WHERE NOT r.withdrawn AND r.evaluation_date IS NOT NULL AND r.evaluation_date <= ?::DATE
              AND {condition}
              AND r.registration_id NOT IN (
                  SELECT f.follows_up FROM (
                      SELECT * FROM registration WHERE follows_up IS NOT NULL AND {only}
                      QUALIFY row_number() OVER (PARTITION BY registration_id ORDER BY version DESC) = 1
                  ) f WHERE NOT f.withdrawn
              )
            """
        )
        params += [horizon, *visibility_params]
    query = f"""
        WITH {measure_state_sql(only)}, due AS ({" UNION ALL ".join(parts)})
        SELECT p.id AS pupil_id, p.first_name, p.last_name, p.first_name || ' ' || p.last_name AS pupil_name,
               c.id AS class_id, c.name AS class_name, d.kind, d.object_id, d.subtype, d.description, d.owner,
               d.evaluation_date, date_diff('day', d.evaluation_date, ?::DATE) AS days_overdue
        FROM due d
        JOIN pupil p ON p.id = d.pupil_id
        JOIN enrolment e ON e.pupil_id = p.id AND e.school_year = ?
        JOIN class c ON c.id = e.class_id
        WHERE (e.leave_date IS NULL OR e.leave_date > ?::DATE) AND {pupil_condition}
        ORDER BY d.evaluation_date, c.name, p.last_name, p.first_name, d.kind, d.object_id
    """
    return cur.execute(query, [*params, day, school_year_of(day), day, *pupil_params]).df()
