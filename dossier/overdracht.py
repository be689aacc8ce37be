"""Overdracht: the transfer package when a pupil changes school (PDF plus a JSON bundle).

What goes (domain.md §5, Omzendbrief BaO/2014/05):

- the verslagen GC, IAC and OV4 always (parents cannot object), unless withdrawn;
- other registrations only when marked transferable, not withdrawn, not a leefregel (never),
  not "vertrouwelijk ten aanzien van derden" (parents inspect the package before it goes, and
  they never see those), and of visibility directie only on the directie's explicit choice;
- class history, care phases, measures and the learning results (LVS-VCLB, AVI, DMT, IDP).
  Leuven-scale observations (welbevinden, betrokkenheid) stay: they describe how the pupil
  fared in this school, not the school career.

The parents inspect the package first. From the recorded inspection date they have an
objection window (setting `objection_window_days`, default 10 calendar days: inspected on
01/03 means they may object through 11/03). While no inspection is recorded, while the window
is open, and whenever an objection is recorded, only the mandatory verslagen may go
("mandatory only"); the full package waits until the window has passed without objection.

Roles: the zorgteam prepares (records inspection and objection, previews: export.prepare);
the directie approves and exports in one step (export.approve). Each export gets an
overdracht_record row with exactly what was included, and an audit entry.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from dossier import audit, labels
from dossier.access import AccessDenied, User, can, require
from dossier.db import Database, get_setting, set_setting
from dossier.forms import MAX_SHORT, MAX_TEXT
from dossier.inzage import (
    REASON_CONFIDENTIAL,
    REASON_DIRECTIE,
    REASON_WITHDRAWN,
    DisclosureError,
    Selection,
    file_stem,
    past_date,
    pupil_name,
    read_content,
    split,
)
from dossier.pdf import Document, DossierContent, clean_text, render
from dossier.registrations import require_pupil
from dossier.schoolyear import format_date

WINDOW_SETTING = "objection_window_days"
DEFAULT_WINDOW_DAYS = 10
MAX_WINDOW_DAYS = 60
MANDATORY_REPORT_KINDS = ("GC", "IAC", "OV4")
TRANSFER_RESULTS = ("lvs", "avi", "dmt", "idp")
FULL_SECTIONS = ("class_history", "care", "registrations", "results")
MANDATORY_SECTIONS = ("registrations",)
BUNDLE_FORMAT = "leerlingendossier-overdracht"
BUNDLE_VERSION = 1

REASON_LEEFREGEL = "leefregel: gaat nooit mee naar een andere school"
REASON_MANDATORY_ONLY = "enkel de verplichte verslagen (GC, IAC, OV4) gaan mee"
REASON_NOT_TRANSFERABLE = "niet aangeduid als overdraagbaar"

NOT_INSPECTED = "not_inspected"
WINDOW_OPEN = "open"
OBJECTION = "objection"
WINDOW_CLOSED = "closed"


# -- selection ------------------------------------------------------------------------------
def is_mandatory(frame: pd.DataFrame) -> pd.Series:
    """The verslagen GC, IAC and OV4: they always go along."""
    if frame.empty:
        return pd.Series(dtype=bool)
    return (frame["type"] == "verslag") & frame["report_kind"].isin(MANDATORY_REPORT_KINDS)


def select_for_overdracht(
    frame: pd.DataFrame, *, mandatory_only: bool = False, include_directie: bool = False
) -> Selection:
    """Which current registrations go into the package (rules in the module docstring)."""
    if frame.empty:
        return split(frame, pd.Series(dtype="object"))
    mandatory = is_mandatory(frame)
    reasons = pd.Series(pd.NA, index=frame.index, dtype="object")
    reasons = reasons.mask(frame["withdrawn"].astype(bool), REASON_WITHDRAWN)
    rules = [
        (frame["type"] == "leefregel", REASON_LEEFREGEL),
        (pd.Series(mandatory_only, index=frame.index), REASON_MANDATORY_ONLY),
        (~frame["transferable"].astype(bool), REASON_NOT_TRANSFERABLE),
        (frame["confidential_third_parties"].astype(bool), REASON_CONFIDENTIAL),
        ((frame["visibility"] == "directie") & (not include_directie), REASON_DIRECTIE),
    ]
    for applies, reason in rules:  # the first rule that applies is the reason given
        reasons = reasons.mask(reasons.isna() & ~mandatory & applies, reason)
    selection = split(frame, reasons)
    selection.included = selection.included.assign(mandatory=is_mandatory(selection.included).astype(bool))
    return selection


# -- the objection window -------------------------------------------------------------------
def objection_window_days(db: Database) -> int:
    """The school's objection window in calendar days (setting objection_window_days, default 10)."""
    raw = get_setting(db, WINDOW_SETTING)
    try:
        days = int(raw) if raw is not None else DEFAULT_WINDOW_DAYS
    except ValueError:
        return DEFAULT_WINDOW_DAYS
    return days if 0 <= days <= MAX_WINDOW_DAYS else DEFAULT_WINDOW_DAYS


def set_objection_window_days(db: Database, user: User, days: object) -> int:
    """Set the objection window (0-60 calendar days). Beheerder (settings) or directie (export policy)."""
    if not (can(user, "admin.settings") or can(user, "export.approve")):
        raise AccessDenied(f"Je rol ({user.role_label}) mag de bezwaartermijn niet instellen.")
    try:
        value = int(str(days).strip())
    except (TypeError, ValueError):
        raise DisclosureError("Geef de bezwaartermijn als een geheel aantal dagen.") from None
    if not 0 <= value <= MAX_WINDOW_DAYS:
        raise DisclosureError(f"De bezwaartermijn ligt tussen 0 en {MAX_WINDOW_DAYS} kalenderdagen.")
    db.write(lambda cur: set_setting(cur, WINDOW_SETTING, str(value)))
    return value


@dataclass(frozen=True)
class WindowState:
    status: str  # NOT_INSPECTED, WINDOW_OPEN, OBJECTION or WINDOW_CLOSED
    full_allowed: bool  # may more than the mandatory verslagen go now?
    message: str
    inspected_on: date | None = None
    window_end: date | None = None
    objection_on: date | None = None


def _day(value) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def window_state(record: dict | None, today: date) -> WindowState:
    """Where a transfer case stands on `today`, from its overdracht_record row (or None)."""
    inspected = _day(record.get("inspected_on")) if record else None
    if inspected is None:
        return WindowState(
            NOT_INSPECTED,
            False,
            "De ouders hebben het overdrachtspakket nog niet ingezien: enkel de verplichte verslagen "
            "(GC, IAC, OV4) mogen mee.",
        )
    end = _day(record.get("window_end")) or inspected
    objected = _day(record.get("objection_on"))
    if objected is not None:
        return WindowState(
            OBJECTION,
            False,
            f"De ouders maakten bezwaar op {format_date(objected)}: enkel de verplichte verslagen "
            "(GC, IAC, OV4) mogen mee.",
            inspected,
            end,
            objected,
        )
    if today <= end:
        return WindowState(
            WINDOW_OPEN,
            False,
            f"De ouders zagen het pakket op {format_date(inspected)} en kunnen bezwaar maken tot en met "
            f"{format_date(end)}. Tot dan mogen enkel de verplichte verslagen mee.",
            inspected,
            end,
        )
    return WindowState(
        WINDOW_CLOSED,
        True,
        f"De ouders zagen het pakket op {format_date(inspected)}; de bezwaartermijn liep af op "
        f"{format_date(end)} zonder bezwaar. Het volledige pakket mag mee.",
        inspected,
        end,
    )


# -- records --------------------------------------------------------------------------------
_RECORD_COLUMNS = (
    "id, pupil_id, inspected_on, window_days, window_end, objection_text, objection_on, recorded_by_name,"
    " created_at, approved_by_name, approved_at, exported_at, mandatory_only, items_included"
)


def _latest_record(cur, pupil_id: int) -> dict | None:
    cur.execute(
        f"SELECT {_RECORD_COLUMNS} FROM overdracht_record WHERE pupil_id = ? ORDER BY id DESC LIMIT 1", [pupil_id]
    )
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def current_record(db: Database, user: User, pupil_id: int) -> dict | None:
    """The latest transfer record of the pupil (inspection, objection, last export), or None."""
    require(user, "export.prepare")
    with db.cursor() as cur:
        require_pupil(cur, user, pupil_id, "dossier.read")
        return _latest_record(cur, int(pupil_id))


def list_records(db: Database, user: User, pupil_id: int) -> pd.DataFrame:
    """All transfer records of the pupil, newest first."""
    require(user, "export.prepare")
    with db.cursor() as cur:
        require_pupil(cur, user, pupil_id, "dossier.read")
        return cur.execute(
            f"SELECT {_RECORD_COLUMNS} FROM overdracht_record WHERE pupil_id = ? ORDER BY id DESC", [int(pupil_id)]
        ).df()


def record_inspection(
    db: Database, user: User, pupil_id: int, inspected_on: object, *, today: date | None = None
) -> int:
    """The parents inspected the package on `inspected_on`: opens a new transfer case and its window.

    An objection recorded earlier is carried into the new case: there is no way to lift it here.
    """
    require(user, "export.prepare")
    day = today or date.today()
    when = past_date(inspected_on, "de inzage door de ouders", day)
    days = objection_window_days(db)

    def write(cur):
        require_pupil(cur, user, pupil_id, "dossier.read")
        # An objection stays: a new inspection must not be a way around the parents' refusal.
        previous = _latest_record(cur, int(pupil_id)) or {}
        record_id = cur.execute(
            "INSERT INTO overdracht_record (pupil_id, inspected_on, window_days, window_end, objection_text,"
            " objection_on, recorded_by_id, recorded_by_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                int(pupil_id),
                when,
                days,
                when + timedelta(days=days),
                previous.get("objection_text"),
                previous.get("objection_on"),
                user.id,
                user.name[:MAX_SHORT],
            ],
        ).fetchone()[0]
        audit.record(
            cur,
            user,
            "create",
            pupil_id=int(pupil_id),
            object=f"overdracht_record:{record_id}",
            detail=f"ouders zagen het overdrachtspakket op {format_date(when)}; bezwaar mogelijk tot en met "
            f"{format_date(when + timedelta(days=days))}",
        )
        return int(record_id)

    return db.write(write)


def record_objection(
    db: Database,
    user: User,
    pupil_id: int,
    text: object,
    objection_on: object = None,
    *,
    today: date | None = None,
) -> int:
    """The parents object to the transfer: from now on only the mandatory verslagen may go."""
    require(user, "export.prepare")
    day = today or date.today()
    reason = clean_text(text)
    if not reason:
        raise DisclosureError("Beschrijf kort het bezwaar van de ouders.")
    if len(reason) > MAX_TEXT:
        raise DisclosureError(f"Houd het bezwaar korter dan {MAX_TEXT} tekens.")
    when = past_date(objection_on if objection_on not in (None, "") else day, "het bezwaar", day)

    def write(cur):
        require_pupil(cur, user, pupil_id, "dossier.read")
        record = _latest_record(cur, int(pupil_id))
        if record is None or record["inspected_on"] is None:
            raise DisclosureError("Registreer eerst wanneer de ouders het overdrachtspakket inzagen.")
        if record["objection_on"] is not None:
            raise DisclosureError(f"Er is al een bezwaar geregistreerd op {format_date(record['objection_on'])}.")
        if when < record["inspected_on"]:
            raise DisclosureError("Het bezwaar ligt voor de datum waarop de ouders het pakket inzagen.")
        cur.execute(
            "UPDATE overdracht_record SET objection_text = ?, objection_on = ? WHERE id = ?",
            [reason, when, record["id"]],
        )
        audit.record(
            cur,
            user,
            "create",
            pupil_id=int(pupil_id),
            object=f"overdracht_record:{record['id']}",
            detail=f"bezwaar van de ouders tegen de overdracht, op {format_date(when)}",
        )
        return int(record["id"])

    return db.write(write)


# -- preview and export ---------------------------------------------------------------------
@dataclass
class OverdrachtPreview:
    content: DossierContent  # registrations = what goes in; other parts empty under mandatory only
    selection: Selection
    record: dict | None
    window: WindowState
    mandatory_only: bool  # as requested
    blocked: str | None  # why this package cannot be exported now (None: it can)
    directie_hidden: bool  # the user cannot read directie items: the preview cannot show them
    include_directie: bool = False


@dataclass
class Attachment:
    registration_id: int
    file_name: str  # safe name for the package folder
    sha256: str
    content: bytes


@dataclass
class OverdrachtPackage:
    pdf: bytes
    bundle: dict
    attachments: list[Attachment]
    stem: str  # file name without extension
    record_id: int
    registrations: int
    mandatory_only: bool

    def registration_ids(self) -> list[int]:
        return [int(r["registration_id"]) for r in self.bundle["registrations"]]

    @property
    def json_bytes(self) -> bytes:
        return (json.dumps(self.bundle, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _narrow(content: DossierContent, selection: Selection, mandatory_only: bool) -> DossierContent:
    """The content that may go: registrations selected; the rest only in a full package."""
    if mandatory_only:
        return DossierContent(pupil=content.pupil, registrations=selection.included, zone_bands=content.zone_bands)
    return DossierContent(
        pupil=content.pupil,
        class_history=content.class_history,
        registrations=selection.included,
        phases=content.phases,
        measures=content.measures,
        results={k: v for k, v in content.results.items() if k in TRANSFER_RESULTS},
        zone_bands=content.zone_bands,
    )


def _blocked(window: WindowState, mandatory_only: bool) -> str | None:
    if mandatory_only or window.full_allowed:
        return None
    return window.message + " Exporteer enkel de verplichte verslagen, of wacht."


def _check_directie(user: User, include_directie: bool) -> None:
    if include_directie:
        require(user, "registrations.directie.read")


def prepare_overdracht(
    db: Database,
    user: User,
    pupil_id: int,
    *,
    mandatory_only: bool = False,
    include_directie: bool = False,
    today: date | None = None,
) -> OverdrachtPreview:
    """What the package would hold now, what stays and why, and whether it may go. Audited as a view."""
    require(user, "export.prepare")
    _check_directie(user, include_directie)
    day = today or date.today()

    def read(cur):
        content, frame = read_content(cur, user, int(pupil_id), today=day)
        record = _latest_record(cur, int(pupil_id))
        window = window_state(record, day)
        selection = select_for_overdracht(frame, mandatory_only=mandatory_only, include_directie=include_directie)
        audit.record(
            cur,
            user,
            "view",
            pupil_id=int(pupil_id),
            object="overdracht",
            detail=f"voorbereiding overdracht: {len(selection.included)} registraties erin, "
            f"{len(selection.left_out)} niet",
        )
        return OverdrachtPreview(
            _narrow(content, selection, mandatory_only),
            selection,
            record,
            window,
            mandatory_only,
            _blocked(window, mandatory_only),
            not can(user, "registrations.directie.read"),
            include_directie,
        )

    return db.write(read)


def _attachments(cur, registration_ids: list[int]) -> list[Attachment]:
    if not registration_ids:
        return []
    marks = ", ".join("?" for _ in registration_ids)
    rows = cur.execute(
        f"""SELECT registration_id, arg_max(file_name, id), arg_max(sha256, id), arg_max(content, id)
            FROM registration_attachment WHERE registration_id IN ({marks})
            GROUP BY registration_id ORDER BY registration_id""",
        registration_ids,
    ).fetchall()
    found = []
    for registration_id, name, digest, content in rows:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", clean_text(name)).strip("._") or "verslag.pdf"
        if not safe.lower().endswith(".pdf"):
            safe += ".pdf"
        found.append(Attachment(int(registration_id), f"{registration_id}-{safe}", digest, bytes(content)))
    return found


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    if frame is None or frame.empty:
        return []
    present = [c for c in columns if c in frame]
    return [
        {c: _json_value(v) for c, v in zip(present, row, strict=True)} for row in frame[present].itertuples(index=False)
    ]


_REGISTRATION_FIELDS = [
    "registration_id",
    "version",
    "type",
    "fact_date",
    "school_year",
    "class_name",
    "facts",
    "interpretation",
    "agreements",
    "owner",
    "evaluation_date",
    "domain",
    "report_kind",
    "mandatory",
    "author_name",
    "author_role",
]
_RESULT_FIELDS = {
    "lvs": ["test_date", "school_year", "grade", "domain", "moment", "raw_score", "max_score", "percentile", "zone"],
    "avi": ["test_date", "school_year", "grade", "moment", "card", "card_result", "level_achieved"],
    "dmt": [
        "test_date",
        "school_year",
        "grade",
        "moment",
        "card1_correct",
        "card2_correct",
        "card3_correct",
        "norm_set",
        "percentile",
        "zone",
    ],
    "idp": [
        "test_date",
        "school_year",
        "test",
        "area",
        "part",
        "score",
        "max_score",
        "percentage",
        "reference_percentage",
    ],
}


def build_bundle(
    content: DossierContent,
    *,
    mandatory_only: bool,
    inspected_on: date | None,
    attachments: list[Attachment],
    school: str,
    today: date,
) -> dict:
    """The machine-readable package: plain JSON values, dates as ISO text, typed text unchanged."""
    by_registration = {a.registration_id: a for a in attachments}
    registrations = _records(content.registrations, _REGISTRATION_FIELDS)
    for item in registrations:
        item["type_label"] = labels.REGISTRATION_TYPES.get(item["type"], item["type"])
        attachment = by_registration.get(item["registration_id"])
        item["attachment"] = {"file": attachment.file_name, "sha256": attachment.sha256} if attachment else None
    pupil = content.pupil
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created_on": today.isoformat(),
        "school": school,
        "mandatory_only": mandatory_only,
        "parents_inspected_on": inspected_on.isoformat() if inspected_on else None,
        "pupil": {
            "pupil_number": _json_value(pupil.get("pupil_number")),
            "first_name": _json_value(pupil.get("first_name")),
            "last_name": _json_value(pupil.get("last_name")),
            "birth_date": _json_value(pupil.get("birth_date")),
        },
        "class_history": _records(content.class_history, ["school_year", "class_name", "level", "grade"]),
        "care_phases": _records(content.phases, ["phase", "phase_label", "start_date", "end_date", "note"]),
        "measures": _records(content.measures, ["category", "description", "start_date", "end_date", "last_decision"]),
        "registrations": registrations,
        "results": {key: _records(content.results.get(key), cols) for key, cols in _RESULT_FIELDS.items()}
        if not mandatory_only
        else {},
        "never_included": [
            "leefregels en tuchtmaatregelen",
            "ingetrokken registraties",
            "registraties die vertrouwelijk zijn ten aanzien van derden",
            "registraties die niet als overdraagbaar zijn aangeduid",
            "welbevinden en betrokkenheid",
        ],
    }


def overdracht_document(
    content: DossierContent, *, mandatory_only: bool, inspected_on: date | None, user: User, school: str, today: date
) -> Document:
    intro = [f"Gegevens over de schoolloopbaan van {pupil_name(content.pupil)}, voor de nieuwe school."]
    if mandatory_only:
        intro.append("Dit pakket bevat enkel de verplichte verslagen (GC, IAC, OV4).")
    else:
        intro.append(
            f"Dit pakket bevat de gegevens die de school als overdraagbaar aanduidde; de ouders zagen het op "
            f"{format_date(inspected_on)} en maakten geen bezwaar binnen de termijn."
        )
    intro.append(
        f"Goedgekeurd en verstuurd door {clean_text(user.name)} ({user.role_label.lower()}) op {format_date(today)}."
    )
    notes = [
        "Leefregels en tuchtmaatregelen: die gaan nooit mee naar een andere school.",
        "Registraties die niet als overdraagbaar zijn aangeduid, ingetrokken registraties en registraties die "
        "vertrouwelijk zijn ten aanzien van derden.",
        "Observaties van welbevinden en betrokkenheid.",
    ]
    if mandatory_only:
        notes.append(
            "Klasgeschiedenis, zorgfasen, maatregelen en resultaten: dit pakket bevat enkel de verplichte verslagen."
        )
    return Document(
        title="Overdrachtsdossier bij schoolverandering",
        content=content,
        school_name=school,
        generated_on=today,
        intro=intro,
        sections=MANDATORY_SECTIONS if mandatory_only else FULL_SECTIONS,
        notes=notes,
    )


def export_overdracht(
    db: Database,
    user: User,
    pupil_id: int,
    *,
    mandatory_only: bool = False,
    include_directie: bool = False,
    today: date | None = None,
) -> OverdrachtPackage:
    """Approve and export the package (directie). DisclosureError while the full package may not go."""
    require(user, "export.approve")
    _check_directie(user, include_directie)
    day = today or date.today()
    school = get_setting(db, "school_name", "") or ""

    def build(cur):
        content, frame = read_content(cur, user, int(pupil_id), today=day)
        record = _latest_record(cur, int(pupil_id))
        window = window_state(record, day)
        blocked = _blocked(window, mandatory_only)
        if blocked:
            raise DisclosureError(blocked)
        selection = select_for_overdracht(frame, mandatory_only=mandatory_only, include_directie=include_directie)
        narrowed = _narrow(content, selection, mandatory_only)
        ids = [int(i) for i in selection.included["registration_id"]] if not selection.included.empty else []
        attachments = _attachments(cur, ids)
        inspected = window.inspected_on
        bundle = build_bundle(
            narrowed,
            mandatory_only=mandatory_only,
            inspected_on=inspected,
            attachments=attachments,
            school=school,
            today=day,
        )
        pdf = render(
            overdracht_document(
                narrowed, mandatory_only=mandatory_only, inspected_on=inspected, user=user, school=school, today=day
            )
        )
        items = {
            "registrations": ids,
            "mandatory": [int(i) for i in selection.included.loc[selection.included["mandatory"], "registration_id"]]
            if ids
            else [],
            "sections": list(MANDATORY_SECTIONS if mandatory_only else FULL_SECTIONS),
            "attachments": [a.file_name for a in attachments],
        }
        record_id = _store_export(cur, user, int(pupil_id), record, mandatory_only, items)
        audit.record(
            cur,
            user,
            "export",
            pupil_id=int(pupil_id),
            object=f"overdracht_record:{record_id}",
            detail=f"overdrachtspakket: {len(ids)} registraties ({len(items['mandatory'])} verplichte verslagen), "
            f"{len(attachments)} bijlagen, " + ("enkel verplichte verslagen" if mandatory_only else "volledig pakket"),
        )
        return OverdrachtPackage(
            pdf, bundle, attachments, file_stem("overdracht", content.pupil, day), record_id, len(ids), mandatory_only
        )

    return db.write(build)


def _store_export(cur, user: User, pupil_id: int, record: dict | None, mandatory_only: bool, items: dict) -> int:
    """Mark the open case as exported; a case already exported gets a new row for this export."""
    values = [user.id, user.name[:MAX_SHORT], mandatory_only, json.dumps(items)]
    if record is not None and record["exported_at"] is None:
        cur.execute(
            "UPDATE overdracht_record SET approved_by_id = ?, approved_by_name = ?, approved_at = current_timestamp,"
            " exported_at = current_timestamp, mandatory_only = ?, items_included = ? WHERE id = ?",
            [*values, record["id"]],
        )
        return int(record["id"])
    copied = [record.get(k) if record else None for k in ("inspected_on", "window_days", "window_end")]
    copied += [record.get(k) if record else None for k in ("objection_text", "objection_on")]
    return int(
        cur.execute(
            "INSERT INTO overdracht_record (pupil_id, inspected_on, window_days, window_end, objection_text,"
            " objection_on, recorded_by_id, recorded_by_name, approved_by_id, approved_by_name, approved_at,"
            " exported_at, mandatory_only, items_included)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, current_timestamp, ?, ?) RETURNING id",
            [pupil_id, *copied, user.id, user.name[:MAX_SHORT], *values],
        ).fetchone()[0]
    )
