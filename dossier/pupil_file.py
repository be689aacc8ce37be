"""One pupil's dossier as the pupil page shows it, read in one go with one audit entry.

`open_pupil_file` checks access once (one scope query, in SQL, that also brings the zone
bands), then reads class history, care phases, measures, registrations and results of that
pupil in one transaction with one plain SELECT each (`WHERE pupil_id = ?`, no ORDER BY), and
writes a single "view" row to the audit log: one opening of a dossier is one entry, however
many parts it has. Current versions, measure states and the order of rows are derived in numpy
(dossier/pupil_rows.py): at school-group scale DuckDB spent more time planning window, aggregate
and sort queries than reading the few dozen rows they return.

The rows are fetched as column arrays; each data frame is built the first time the page asks
for it and kept. At school-group scale building a dozen small frames cost more than all the
reads together, and a page that shows only part of a file should not pay for the rest. The
open evaluations of the pupil are derived from the measures and registrations already read
(the same rule as `care.query_due_evaluations`, which a test keeps equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from dossier import audit, care, instruments, labels, pupil_rows
from dossier.access import AccessDenied, User, can, pupil_scope_sql, require
from dossier.db import Database
from dossier.pupils import OUT_OF_SCOPE
from dossier.registrations import (  # noqa: F401 - filter_registrations is part of this module's API
    as_id,
    filter_registrations,
    readable_visibilities,
    writable_visibilities,
)
from dossier.results import INSTRUMENTS, instrument_sql
from dossier.schoolyear import school_year_of
from dossier.timeline import TimelineData

DUE_WITHIN_DAYS = 14  # as care.due_evaluations: past or within two weeks

Columns = dict[str, np.ndarray]


@dataclass
class PupilFile:
    pupil: dict
    zone_bands: dict[str, float]
    writable: tuple[str, ...] = ()  # visibilities the user may write for this pupil
    may_write_care: bool = False
    today: date = field(default_factory=date.today)
    # What was read, as column arrays; None for a part the user may not read at all.
    rows: dict[str, Columns | None] = field(default_factory=dict, repr=False)
    # Readable agreements of this pupil that a current registration follows up.
    followed_up: frozenset[int] = frozenset()

    @property
    def name(self) -> str:
        return f"{self.pupil['first_name']} {self.pupil['last_name']}"

    @cached_property
    def class_history(self) -> pd.DataFrame:
        return columns_frame({k: v for k, v in self.rows["class_history"].items() if k != "class_id"})

    @cached_property
    def registrations(self) -> pd.DataFrame:
        """Current versions, withdrawn ones included (marked); missing text as ''."""
        return self._frame("registrations", TEXT_COLUMNS)

    @cached_property
    def phases(self) -> pd.DataFrame:
        frame = self._frame("phases")
        if "phase" in frame:
            frame.insert(3, "phase_label", [labels.phase_label(p) for p in frame["phase"]])
        return frame

    @cached_property
    def phase(self) -> dict | None:
        phases = self.phases
        open_phases = phases[phases["end_date"].isna()] if not phases.empty else phases
        return open_phases.iloc[-1].to_dict() if not open_phases.empty else None

    @cached_property
    def measures(self) -> pd.DataFrame:
        return self._frame("measures", ("description", "last_evaluation_text", "last_decision"))

    @cached_property
    def results(self) -> dict[str, pd.DataFrame]:
        return {key: columns_frame(self.rows[key]) for key in INSTRUMENTS if self.rows.get(key) is not None}

    @cached_property
    def due(self) -> pd.DataFrame:
        """Open evaluations of this pupil (care.DUE_COLUMNS), most overdue first."""
        if self.rows.get("measures") is None:
            return pd.DataFrame()
        return _due(self)

    @property
    def current_class(self) -> dict | None:
        if self.class_history.empty:
            return None
        return self.class_history.iloc[-1].to_dict()

    @property
    def active_registrations(self) -> pd.DataFrame:
        frame = self.registrations
        return frame[~frame["withdrawn"]] if not frame.empty else frame

    @property
    def active_measures(self) -> pd.DataFrame:
        return self.measures[self.measures["active"]] if not self.measures.empty else self.measures

    def latest_agreements(self, limit: int = 3) -> pd.DataFrame:
        frame = self.active_registrations
        if frame.empty:
            return frame
        with_agreement = frame[frame["agreements"].fillna("").str.strip() != ""]
        return with_agreement.sort_values("fact_date", ascending=False).head(limit)

    def latest_zones(self) -> pd.DataFrame:
        lvs = self.results.get("lvs", pd.DataFrame())
        if lvs.empty:
            return lvs
        return lvs.sort_values("test_date").groupby("domain", as_index=False).last()

    def _frame(self, part: str, text: tuple[str, ...] = ()) -> pd.DataFrame:
        found = _blank_missing_text(self.rows.get(part), text)
        return pd.DataFrame() if found is None else columns_frame(found)


def open_pupil_file(db: Database, user: User, pupil_id: int, *, today: date | None = None) -> PupilFile:
    """Everything the user may see of one pupil; AccessDenied when out of scope. Audited once."""
    require(user, "dossier.read")
    day = today or date.today()
    pid = as_id(pupil_id)
    if pid is None:
        raise AccessDenied(OUT_OF_SCOPE)
    reads_registrations = bool(readable_visibilities(user))

    def read(cur):
        pupil, allowed, bands = _pupil_in_scope(cur, user, pid)
        reads_care = "care.read" in allowed
        visibilities = [v for v in readable_visibilities(user) if f"registrations.{v}.read" in allowed]
        history = _sorted(cur.execute(CLASS_HISTORY_SQL, [pid]).fetchnumpy(), "school_year")
        rows: dict[str, Columns | None] = {"class_history": history, "registrations": None}
        followed_up: frozenset[int] = frozenset()
        if reads_registrations:
            versions = cur.execute(pupil_rows.registration_rows_sql(visibilities), [pid]).fetchnumpy()
            current = pupil_rows.current_versions(
                versions, visibilities, _class_names(cur, history, versions), _attachments(cur, versions)
            )
            rows["registrations"] = current
            if reads_care:
                followed_up = pupil_rows.followed_up(versions, _agreements_that_may_be_due(current, day))
        if reads_care:
            phases = care.execute_phase_history(cur, pid, ordered=False).fetchnumpy()
            rows["phases"] = _sorted(phases, "start_date", "id")
        else:
            rows["phases"] = None
        rows["measures"] = _measures(cur, pid, day) if reads_care else None
        if can(user, "results.read"):
            # Out of scope for results: the same empty frames (columns, types) as before.
            condition = "TRUE" if "results.read" in allowed else "FALSE"
            for key in INSTRUMENTS:
                found = cur.execute(instrument_sql(key, condition, ordered=False), [pid]).fetchnumpy()
                rows[key] = _sorted(found, INSTRUMENTS[key][1])
        registrations, measures = rows["registrations"], rows["measures"]
        audit.record(
            cur,
            user,
            "view",
            pupil_id=pid,
            object="dossier",
            detail=f"dossier geopend: {_count(registrations)} registraties, {_count(measures)} maatregelen, "
            f"{sum(_count(rows[key]) for key in INSTRUMENTS if key in rows)} resultaten",
        )
        return pupil, rows, followed_up, bands

    pupil, rows, followed_up, bands = db.write(read, audit_only=True)
    return PupilFile(
        pupil=pupil,
        zone_bands=bands,
        writable=writable_visibilities(user),
        may_write_care=can(user, "care.write"),
        today=day,
        rows=rows,
        followed_up=followed_up,
    )


CLASS_HISTORY_SQL = """
    SELECT e.school_year, c.name AS class_name, c.level, c.grade, e.entry_date, e.leave_date, c.id AS class_id
    FROM enrolment e JOIN class c ON c.id = e.class_id
    WHERE e.pupil_id = ?
"""  # in school-year order: sorted after reading (_sorted)


def _pupil_in_scope(cur, user: User, pupil_id: int) -> tuple[dict, set[str], dict[str, float]]:
    """The pupil's identification, the permissions the user holds for this pupil and the zone bands: one query.

    AccessDenied (the same message whether the id exists or not) when the pupil is outside
    the user's scope for pupils.read or dossier.read. Each distinct scope condition of
    access.pupil_scope_sql is evaluated once for this pupil; the reads that follow are limited
    to what this query allowed.
    """
    conditions: dict[tuple[str, tuple], str] = {}
    granted_by: dict[str, str] = {}
    for permission in (*SCOPED_PERMISSIONS, *(f"registrations.{v}.read" for v in readable_visibilities(user))):
        if not can(user, permission):
            continue
        condition, params = pupil_scope_sql(user, permission, "p.id")
        granted_by[permission] = conditions.setdefault((condition, tuple(params)), f"s{len(conditions)}")
    flags = ", ".join(f"{condition} AS {name}" for (condition, _), name in conditions.items())
    cur.execute(
        f"SELECT p.id, p.pupil_number, p.first_name, p.last_name, p.birth_date, p.gender, {flags},"
        f" (SELECT value FROM setting WHERE key = '{instruments.ZONE_BANDS_SETTING}') AS zone_bands_setting"
        f" FROM pupil p WHERE p.id = ?",
        [*(v for (_, params) in conditions for v in params), pupil_id],
    )
    row = cur.fetchone()
    names = [d[0] for d in cur.description]
    holds = dict(zip(names, row, strict=True)) if row else {}
    allowed = {permission for permission, name in granted_by.items() if holds.get(name)}
    if not {"pupils.read", "dossier.read"} <= allowed:
        raise AccessDenied(OUT_OF_SCOPE)
    bands = instruments.zone_bands_or_default(holds.pop("zone_bands_setting"))
    pupil = {name: holds[name] for name in names if name not in (*conditions.values(), "zone_bands_setting")}
    return pupil, allowed, bands


SCOPED_PERMISSIONS = ("pupils.read", "dossier.read", "care.read", "results.read")


def _class_names(cur, history: Columns, versions: Columns) -> dict[int, str]:
    """Names of the classes the pupil's registrations were written in: the class history has them.

    A registration's class is the pupil's class when it was written; only when an enrolment was
    changed afterwards can it miss from the history, and then it is read by id.
    """
    names = dict(zip(np.asarray(history["class_id"]).tolist(), np.asarray(history["class_name"]).tolist(), strict=True))
    wanted = {int(c) for c in np.ma.compressed(np.ma.asarray(versions["class_id"])).tolist()} - names.keys()
    if wanted:
        marks = ", ".join(str(c) for c in sorted(wanted))  # ints read from the database, not user input
        names.update(cur.execute(f"SELECT id, name FROM class WHERE id IN ({marks})").fetchall())
    return names


def _attachments(cur, versions: Columns) -> dict[int, str]:
    """The latest attachment's file name per registration that ever was a verslag.

    registrations.attach_pdf accepts a PDF only on a verslag, so other registrations are not looked up.
    """
    reports = np.asarray(versions["type"]) == "verslag"
    if not reports.any():
        return {}
    marks = ", ".join(str(int(r)) for r in sorted(set(np.asarray(versions["registration_id"])[reports].tolist())))
    return dict(
        cur.execute(
            "SELECT registration_id, arg_max(file_name, id) FROM registration_attachment"
            f" WHERE registration_id IN ({marks}) GROUP BY registration_id"
        ).fetchall()
    )


def _agreements_that_may_be_due(current: Columns, day: date) -> list[int]:
    """Readable, not withdrawn registrations with an evaluation date up to the due horizon."""
    horizon = np.datetime64(day + timedelta(days=DUE_WITHIN_DAYS), "us")
    evaluation = np.ma.filled(np.ma.asarray(current["evaluation_date"]), np.datetime64("NaT"))
    open_ = ~np.asarray(current["withdrawn"], dtype=bool) & (evaluation <= horizon)
    return np.asarray(current["registration_id"])[open_].tolist()


def _measures(cur, pupil_id: int, day: date) -> Columns:
    measures = cur.execute("SELECT * FROM measure WHERE pupil_id = ?", [pupil_id]).fetchnumpy()
    evaluations = None
    if len(measures["id"]):
        marks = ", ".join(str(int(m)) for m in np.asarray(measures["id"]).tolist())
        evaluations = cur.execute(
            f"SELECT {', '.join(pupil_rows.EVALUATION_READ)} FROM measure_evaluation WHERE measure_id IN ({marks})"
        ).fetchnumpy()
    return pupil_rows.measure_states(measures, evaluations, day)


def _sorted(columns: Columns, *keys: str) -> Columns:
    """Rows in ascending order of `keys` (first key first), ties in the order read: a sort in numpy
    instead of ORDER BY, which cost a DuckDB sort per statement."""
    if not columns or len(next(iter(columns.values()))) < 2:
        return columns
    if len(keys) == 1:
        order = np.argsort(np.asarray(np.ma.getdata(columns[keys[0]])), kind="stable")
    else:
        order = np.lexsort(tuple(np.asarray(np.ma.getdata(columns[k])) for k in reversed(keys)))
    return {name: pupil_rows.take(values, order) for name, values in columns.items()}


def _count(columns: Columns | None) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def columns_frame(columns: Columns) -> pd.DataFrame:
    """A data frame of fetchnumpy() columns with the dtypes DuckDB's .df() gives the same result.

    NULLs arrive as masked arrays: integers and booleans become pandas' nullable types, the rest
    NaN/NaT/None, so the pages see what they saw when each part was read with .df().
    """
    data = {}
    for name, values in columns.items():
        if isinstance(values, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(values)
            raw = np.asarray(values.data)
            if raw.dtype.kind in "iu":
                values = pd.arrays.IntegerArray(raw, mask)
            elif raw.dtype.kind == "b":
                values = pd.arrays.BooleanArray(raw, mask)
            else:
                values = raw.copy()
                if mask.any():
                    values[mask] = {"f": np.nan, "M": np.datetime64("NaT"), "m": np.timedelta64("NaT")}.get(
                        raw.dtype.kind
                    )
        data[name] = values
    return pd.DataFrame(data)


def _due(file: PupilFile) -> pd.DataFrame:
    """care.query_due_evaluations for one pupil, from the rows of its file (a handful: plain Python)."""
    day = file.today
    horizon = datetime.combine(day + timedelta(days=DUE_WITHIN_DAYS), time())
    history = _records(file.rows["class_history"])
    now = [
        h
        for h in history
        if h["school_year"] == school_year_of(day) and (h["leave_date"] is None or h["leave_date"].date() > day)
    ]
    items = []
    if now:
        for m in _records(file.rows["measures"]):
            due = m["evaluation_date"]
            if not m["stopped"] and due is not None and due <= horizon:
                items.append(("maatregel", m["measure_id"], m["category"], m["description"], None, due))
        for r in _records(file.rows.get("registrations")):
            due = r["evaluation_date"]
            if (
                not r["withdrawn"]
                and due is not None
                and due <= horizon
                and r["registration_id"] not in file.followed_up
            ):
                description = r["agreements"] if r["agreements"] is not None else r["facts"]
                items.append(("afspraak", r["registration_id"], r["type"], description, r["owner"], due))
    if not items:
        return pd.DataFrame(columns=list(care.DUE_COLUMNS))
    items.sort(key=lambda i: (i[5], i[0], i[1]))
    pupil, current = file.pupil, now[0]
    return pd.DataFrame(
        [
            (
                pupil["id"],
                pupil["first_name"],
                pupil["last_name"],
                f"{pupil['first_name']} {pupil['last_name']}",
                current["class_id"],
                current["class_name"],
                *item,
                (day - item[5].date()).days,
            )
            for item in items
        ],
        columns=list(care.DUE_COLUMNS),
    )


def _records(columns: Columns | None) -> list[dict]:
    """Rows as dicts of Python values, NULL as None (masked entries become None in tolist())."""
    if not columns:
        return []
    values = {name: array.tolist() for name, array in columns.items()}
    return [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]


TEXT_COLUMNS = (
    "facts",
    "interpretation",
    "agreements",
    "owner",
    "domain",
    "withdrawal_reason",
    "report_kind",
    "attachment_name",
)


def _blank_missing_text(columns: Columns | None, names) -> Columns | None:
    """Missing free text as '' (pandas reads SQL NULL text as NaN, which is truthy and prints 'nan').

    Filled in the fetched arrays, before the frame exists: several times cheaper than fillna.
    """
    if columns is None:
        return None
    filled = dict(columns)
    for name in names:
        if isinstance(filled.get(name), np.ma.MaskedArray):
            filled[name] = filled[name].filled("")
    return filled


def timeline_data(file: PupilFile) -> TimelineData:
    """Map a pupil file onto the timeline builder's frames."""
    results = file.results
    avi = results.get("avi", pd.DataFrame())
    if not avi.empty:
        pairs = zip(avi["grade"], avi["moment"], strict=True)
        avi = avi.assign(expected_rank=[instruments.expected_avi_rank(int(g), m) for g, m in pairs])
    registrations = file.active_registrations
    if not registrations.empty:
        registrations = registrations.assign(type_label=registrations["type"].map(labels.REGISTRATION_TYPES))
    measures = file.measures
    if not measures.empty:
        measures = measures.assign(category=measures["category"].map(labels.STICORDI).fillna(measures["category"]))
    return TimelineData(
        lvs=results.get("lvs", pd.DataFrame()),
        avi=avi,
        dmt=results.get("dmt", pd.DataFrame()),
        wellbeing=results.get("wellbeing", pd.DataFrame()),
        registrations=registrations,
        phases=file.phases,
        measures=measures,
        avi_levels=instruments.AVI_LEVELS,
        zone_bands=file.zone_bands,
    )
