"""One pupil's dossier as the pupil page shows it, read in one go with one audit entry.

`open_pupil_file` gathers identification, class history, care phase, measures,
registrations, results and open evaluations within the user's scope, and writes a single
"view" row to the audit log: one opening of a dossier is one entry, however many parts it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dossier import audit, care, instruments, labels, pupils
from dossier.access import User, can, require
from dossier.db import Database
from dossier.registrations import (  # noqa: F401 - filter_registrations is part of this module's API
    filter_registrations,
    query_registrations,
    readable_visibilities,
    writable_visibilities,
)
from dossier.results import query_pupil_results
from dossier.timeline import TimelineData


@dataclass
class PupilFile:
    pupil: dict
    class_history: pd.DataFrame
    phase: dict | None
    phases: pd.DataFrame
    measures: pd.DataFrame
    registrations: pd.DataFrame  # current versions, withdrawn ones included (marked)
    results: dict[str, pd.DataFrame]
    due: pd.DataFrame  # open evaluations of this pupil
    zone_bands: dict[str, float]
    writable: tuple[str, ...] = ()  # visibilities the user may write for this pupil
    may_write_care: bool = False
    today: date = field(default_factory=date.today)

    @property
    def name(self) -> str:
        return f"{self.pupil['first_name']} {self.pupil['last_name']}"

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


def open_pupil_file(db: Database, user: User, pupil_id: int, *, today: date | None = None) -> PupilFile:
    """Everything the user may see of one pupil; AccessDenied when out of scope. Audited once."""
    require(user, "dossier.read")
    day = today or date.today()
    pupil = pupils.get_pupil(db, user, pupil_id)
    pid = int(pupil["id"])

    def read(cur):
        empty = pd.DataFrame()
        history = pupils.query_class_history(cur, pid)
        registrations = (
            query_registrations(cur, user, pid, include_withdrawn=True) if readable_visibilities(user) else empty
        )
        reads_care = can(user, "care.read")
        phases = care.query_phase_history(cur, user, pid) if reads_care else empty
        measures = care.query_measures(cur, user, pid, today=day) if reads_care else empty
        due = care.query_due_evaluations(cur, user, today=day, pupil_id=pid) if reads_care else empty
        results = query_pupil_results(cur, user, pid) if can(user, "results.read") else {}
        bands = instruments.load_zone_bands(cur)
        audit.record(
            cur,
            user,
            "view",
            pupil_id=pid,
            object="dossier",
            detail=f"dossier geopend: {len(registrations)} registraties, {len(measures)} maatregelen, "
            f"{sum(len(f) for f in results.values())} resultaten",
        )
        return history, registrations, phases, measures, due, results, bands

    history, registrations, phases, measures, due, results, bands = db.write(read)
    registrations = _blank_missing_text(registrations, TEXT_COLUMNS)
    measures = _blank_missing_text(measures, ("description", "last_evaluation_text", "last_decision"))
    open_phases = phases[phases["end_date"].isna()] if not phases.empty else phases
    return PupilFile(
        pupil=pupil,
        class_history=history,
        phase=open_phases.iloc[-1].to_dict() if not open_phases.empty else None,
        phases=phases,
        measures=measures,
        registrations=registrations,
        results=results,
        due=due,
        zone_bands=bands,
        writable=writable_visibilities(user),
        may_write_care=can(user, "care.write"),
        today=day,
    )


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


def _blank_missing_text(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Missing free text as '' (pandas reads SQL NULL text as NaN, which is truthy and prints 'nan')."""
    if frame.empty:
        return frame
    present = [c for c in columns if c in frame]
    frame[present] = frame[present].fillna("")
    return frame


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
