"""One pupil's current registrations and measure states, derived in numpy from their plain rows.

The pupil file reads each table of one pupil with a plain indexed SELECT (`WHERE pupil_id = ?`
and nothing else, so DuckDB reads through the index and plans in a fraction of a millisecond)
and derives here what the SQL of `registrations.execute_current_versions` and
`care.execute_measures` compute: at school-group scale planning those window and aggregate
queries cost more than reading the few dozen rows they return. Both SQL versions stay the
reference for the lists outside the pupil file; tests keep the two equal, column types included.

Columns are dicts of arrays as `fetchnumpy()` gives them: a column is a MaskedArray only when
it holds a NULL, and the functions here keep that rule so frames get the same dtypes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time

import numpy as np

from dossier import care
from dossier.registrations import LIST_COLUMNS

Columns = dict[str, np.ndarray]

# Free text of a registration: read from the database only for visibilities the user may read.
PRIVATE_TEXT = ("facts", "interpretation", "agreements", "owner", "withdrawal_reason")

# Columns of the list that are not columns of the registration table: derived here.
DERIVED = ("class_name", "changed_by_name", "changed_at", "attachment_name")
# Columns of the registration table the pupil file reads (the current-version list needs them all).
REGISTRATION_READ = tuple(name for name in LIST_COLUMNS if name not in DERIVED)


def registration_rows_sql(visibilities: Collection[str]) -> str:
    """Every version row of one pupil (parameter: the pupil id); text only where the visibility is readable.

    Rows of other visibilities come along without their text: the follow-up rule of the due
    list counts every current registration, also one the user may not read.
    `visibilities` must be known names (registrations.VISIBILITIES), never user input.
    """
    readable = ", ".join(f"'{v}'" for v in visibilities) or "NULL"
    columns = [
        f"CASE WHEN visibility IN ({readable}) THEN {name} END AS {name}" if name in PRIVATE_TEXT else name
        for name in REGISTRATION_READ
    ]
    return f"SELECT {', '.join(columns)} FROM registration WHERE pupil_id = ?"


def take(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[rows], a MaskedArray only when a NULL was taken (as fetchnumpy would give it)."""
    taken = values[rows]
    if isinstance(taken, np.ma.MaskedArray) and not np.ma.getmaskarray(taken).any():
        return np.asarray(taken.data)
    return taken


def _lookup(keys: np.ndarray, names: Mapping[int, str]) -> np.ndarray:
    found = [names.get(int(k)) if not np.ma.is_masked(k) else None for k in keys]
    values = np.array(found, dtype=object)
    missing = np.array([v is None for v in found], dtype=bool)
    return np.ma.MaskedArray(values, mask=missing) if missing.any() else values


def _descending(values: np.ndarray) -> np.ndarray:
    """Ascending sort keys that put a date/time/integer column in descending order, NULLs last (as DuckDB)."""
    data = np.asarray(np.ma.getdata(values))
    keys = data.astype("datetime64[us]").astype(np.int64) if data.dtype.kind == "M" else data.astype(np.int64)
    return np.where(np.ma.getmaskarray(values), np.iinfo(np.int64).max, -keys)


def current_versions(
    rows: Columns,
    visibilities: Collection[str],
    class_names: Mapping[int, str],
    attachments: Mapping[int, str],
) -> Columns:
    """The current version of each registration whose current visibility is in `visibilities`.

    As `registrations.execute_current_versions` (LIST_COLUMNS, newest fact first): author and
    created_at are those of version 1 (who wrote it), changed_by_name/changed_at those of the
    current version; `class_names` maps class ids, `attachments` registration ids to the file name
    of their latest attachment.
    """
    registration = np.asarray(rows["registration_id"])
    order = np.lexsort((np.asarray(rows["version"]), registration))
    ordered = registration[order]
    count = len(order)
    boundary = ordered[1:] != ordered[:-1]
    is_first = np.concatenate(([True], boundary)) if count else np.zeros(0, dtype=bool)
    is_latest = np.concatenate((boundary, [True])) if count else np.zeros(0, dtype=bool)
    first_at = np.maximum.accumulate(np.where(is_first, np.arange(count), 0)) if count else np.zeros(0, dtype=int)
    readable = np.isin(np.asarray(rows["visibility"])[order], list(visibilities))
    keep = is_latest & readable
    latest, first = order[keep], order[first_at[keep]]
    # Newest fact first, then the newest registration (its version 1), then the highest id.
    newest = np.lexsort(
        (
            _descending(np.asarray(rows["registration_id"])[latest]),
            _descending(take(rows["created_at"], first)),
            _descending(take(rows["fact_date"], latest)),
        )
    )
    latest, first = latest[newest], first[newest]
    out: Columns = {}
    for name in REGISTRATION_READ:
        if name in ("author_id", "author_name", "author_role", "created_at"):
            continue
        out[name] = take(rows[name], latest)
    current = {
        **out,
        "class_name": _lookup(out["class_id"], class_names),
        "author_id": take(rows["author_id"], first),
        "author_name": take(rows["author_name"], first),
        "author_role": take(rows["author_role"], first),
        "created_at": take(rows["created_at"], first),
        "changed_by_name": take(rows["author_name"], latest),
        "changed_at": take(rows["created_at"], latest),
        "attachment_name": _lookup(out["registration_id"], attachments),
    }
    return {name: current[name] for name in LIST_COLUMNS}


def followed_up(rows: Columns, candidates: Collection[int]) -> frozenset[int]:
    """Of `candidates`, the registrations a current, not withdrawn registration of the pupil follows up.

    The rule of care.query_due_evaluations: per registration the latest version among those
    that follow something up, whatever its visibility.
    """
    if not candidates or not len(rows["registration_id"]):
        return frozenset()
    follows = rows["follows_up"]
    linked = ~np.ma.getmaskarray(follows)
    best: dict[int, tuple[int, int, bool]] = {}
    for registration, version, target, withdrawn in zip(
        np.asarray(rows["registration_id"])[linked].tolist(),
        np.asarray(rows["version"])[linked].tolist(),
        np.asarray(np.ma.getdata(follows))[linked].tolist(),
        np.asarray(rows["withdrawn"])[linked].tolist(),
        strict=True,
    ):
        if registration not in best or version > best[registration][0]:
            best[registration] = (version, target, withdrawn)
    wanted = set(candidates)
    return frozenset(target for _, target, withdrawn in best.values() if not withdrawn and target in wanted)


EVALUATION_READ = ("measure_id", "id", "evaluated_on", "decision", "text", "created_by_name", "next_evaluation_date")


def measure_states(measures: Columns, evaluations: Columns | None, day: date) -> Columns:
    """Each measure with its latest evaluation and its state on `day`, as `care.execute_measures`.

    `measures`: the pupil's measure rows (SELECT *); `evaluations`: their evaluation rows
    (EVALUATION_READ), None when the pupil has no measure. Active first, then newest start.
    """
    ids = np.asarray(measures["id"])
    latest: dict[int, dict] = {}
    counts: dict[int, int] = {}
    if evaluations is not None:
        values = {name: evaluations[name].tolist() for name in EVALUATION_READ}
        for row in zip(*values.values(), strict=True):
            evaluation = dict(zip(EVALUATION_READ, row, strict=True))
            measure = evaluation["measure_id"]
            counts[measure] = counts.get(measure, 0) + 1
            if measure not in latest or evaluation["id"] > latest[measure]["id"]:
                latest[measure] = evaluation
    last = [latest.get(int(i)) for i in ids.tolist()]
    states = [
        care.measure_state(
            end, first, None if e is None else (e["decision"], e["evaluated_on"], e["next_evaluation_date"])
        )
        for end, first, e in zip(_values(measures["end_date"]), _values(measures["evaluation_date"]), last, strict=True)
    ]
    stopped = np.array([s[0] for s in states], dtype=bool)
    effective_end = _dates([s[1] for s in states])
    next_evaluation = _dates([s[2] for s in states])
    evaluated_on = _dates([e["evaluated_on"] if e else None for e in last])
    end_date = measures["end_date"]
    today = datetime.combine(day, time())
    active = np.array(
        [
            care.measure_active(start, s[1], today)
            for start, s in zip(_values(measures["start_date"]), states, strict=True)
        ],
        dtype=bool,
    )
    state: Columns = {
        "measure_id": ids,
        "pupil_id": measures["pupil_id"],
        "category": measures["category"],
        "description": measures["description"],
        "start_date": measures["start_date"],
        "end_date": effective_end,
        "planned_end_date": end_date,
        "evaluation_date": next_evaluation,
        "first_evaluation_date": measures["evaluation_date"],
        "active": active,
        "stopped": stopped,
        "evaluations": np.array([counts.get(int(i), 0) for i in ids.tolist()], dtype=np.int64),
        "last_evaluated_on": evaluated_on,
        "last_decision": _texts([e["decision"] if e else None for e in last]),
        "last_evaluation_text": _texts([e["text"] if e else None for e in last]),
        "last_evaluated_by": _texts([e["created_by_name"] if e else None for e in last]),
        "created_by_name": measures["created_by_name"],
        "created_by_role": measures["created_by_role"],
        "created_at": measures["created_at"],
    }
    order = np.lexsort((_descending(ids), _descending(state["start_date"]), ~active))
    return {name: take(values, order) for name, values in state.items()}


def _values(column: np.ndarray) -> list:
    """A fetched column as Python values, NULL as None (dates as datetime)."""
    return np.ma.asarray(column).tolist()


def _dates(values: list) -> np.ndarray:
    missing = np.array([v is None for v in values], dtype=bool)
    data = np.array([np.datetime64("NaT") if v is None else v for v in values], dtype="datetime64[us]")
    return np.ma.MaskedArray(data, mask=missing) if missing.any() else data


def _texts(values: list) -> np.ndarray:
    missing = np.array([v is None for v in values], dtype=bool)
    data = np.array(values, dtype=object)
    return np.ma.MaskedArray(data, mask=missing) if missing.any() else data
