"""Inzage: the copy of a pupil's dossier that the school hands to the parents.

Parents first ask to see the dossier, get an explanation, and may then get a free copy
(domain.md §5). The copy holds identification, class history, care phases and measures, all
results with their charts, and the registrations parents may see:

- current versions only (a corrected registration shows as it reads now);
- never a withdrawn registration;
- never one marked "vertrouwelijk ten aanzien van derden";
- visibility team and zorgteam; visibility directie (confidential family matters) only when
  the directie explicitly includes them, because the director decides about further sharing.

Roles (dossier/access.py): the zorgteam prepares (records the explanation, previews the copy,
permission export.prepare); the directie exports the PDF (export.approve). Every preview is
audited as a view, every PDF as an export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from dossier import audit, care, instruments
from dossier.access import User, can, pupil_scope_sql, require
from dossier.db import Database, get_setting
from dossier.forms import MAX_SHORT, MIN_DATE, parse_date
from dossier.pdf import Document, DossierContent, clean_text, render
from dossier.pupils import query_class_history
from dossier.registrations import query_registrations, readable_visibilities, require_pupil
from dossier.results import query_pupil_results
from dossier.schoolyear import format_date

REASON_WITHDRAWN = "ingetrokken"
REASON_CONFIDENTIAL = "vertrouwelijk ten aanzien van derden"
REASON_DIRECTIE = "zichtbaarheid directie: enkel op uitdrukkelijke keuze van de directie"

NO_EXPLANATION = (
    "Er is nog geen toelichting aan de ouders geregistreerd. Noteer eerst wie de ouders uitleg gaf en wanneer."
)


class DisclosureError(ValueError):
    """Inzage or overdracht refused or impossible; the message is Dutch and safe to show."""


@dataclass
class Selection:
    included: pd.DataFrame  # registration rows (LIST_COLUMNS) that go into the document
    left_out: pd.DataFrame  # registration_id, fact_date, type, facts, visibility, reason

    def reasons(self) -> dict[str, int]:
        """How many registrations were left out, per reason."""
        if self.left_out.empty:
            return {}
        return {str(k): int(v) for k, v in self.left_out["reason"].value_counts(sort=False).items()}


def split(frame: pd.DataFrame, reasons: pd.Series) -> Selection:
    """Rows whose reason is empty are included; the others are left out with their reason."""
    if frame.empty:
        empty = frame.iloc[0:0]
        return Selection(empty, pd.DataFrame(columns=["registration_id", "fact_date", "type", "facts", "reason"]))
    keep = reasons.isna()
    left = frame.loc[~keep, ["registration_id", "fact_date", "type", "facts", "visibility"]].assign(
        reason=reasons[~keep]
    )
    return Selection(frame[keep].reset_index(drop=True), left.reset_index(drop=True))


def select_for_inzage(frame: pd.DataFrame, *, include_directie: bool = False) -> Selection:
    """Which current registrations the parents may see (rules in the module docstring)."""
    if frame.empty:
        return split(frame, pd.Series(dtype="object"))
    reasons = pd.Series(pd.NA, index=frame.index, dtype="object")
    rules = [
        (frame["withdrawn"].astype(bool), REASON_WITHDRAWN),
        (frame["confidential_third_parties"].astype(bool), REASON_CONFIDENTIAL),
        ((frame["visibility"] == "directie") & (not include_directie), REASON_DIRECTIE),
    ]
    for applies, reason in rules:  # the first rule that applies is the reason given
        reasons = reasons.mask(reasons.isna() & applies, reason)
    return split(frame, reasons)


# -- reading --------------------------------------------------------------------------------
def resolve_pupil(db: Database, user: User, ref: object) -> int:
    """The internal id of the pupil with this pupil number (or, failing that, this internal id)."""
    text = clean_text(ref)
    if not text:
        raise DisclosureError("Geef een leerlingnummer of interne id.")
    condition, params = pupil_scope_sql(user, "pupils.read", "p.id")
    with db.cursor() as cur:
        row = cur.execute(
            f"SELECT p.id FROM pupil p WHERE p.pupil_number = ? AND {condition}", [text, *params]
        ).fetchone()
        if row is None and re.fullmatch(r"[0-9]{1,9}", text):
            row = cur.execute(
                f"SELECT p.id FROM pupil p WHERE p.id = ? AND {condition}", [int(text), *params]
            ).fetchone()
    if row is None:
        raise DisclosureError(f"Geen leerling gevonden met leerlingnummer of id '{text}'.")
    return int(row[0])


def read_content(cur, user: User, pupil_id: int, *, today: date | None = None) -> tuple[DossierContent, pd.DataFrame]:
    """The pupil's dossier as the user may read it: (content without registrations, all current registrations).

    The registrations frame holds every current version the user may read, withdrawn ones
    included, so a selection can say what it leaves out. Inside the caller's transaction.
    """
    require(user, "dossier.read")
    require_pupil(cur, user, pupil_id, "dossier.read")
    cur.execute(
        "SELECT id, pupil_number, first_name, last_name, birth_date, gender FROM pupil WHERE id = ?", [pupil_id]
    )
    pupil = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    empty = pd.DataFrame()
    registrations = (
        query_registrations(cur, user, pupil_id, include_withdrawn=True) if readable_visibilities(user) else empty
    )
    reads_care = can(user, "care.read")
    content = DossierContent(
        pupil=pupil,
        class_history=query_class_history(cur, pupil_id),
        phases=care.query_phase_history(cur, user, pupil_id) if reads_care else empty,
        measures=care.query_measures(cur, user, pupil_id, today=today) if reads_care else empty,
        results=query_pupil_results(cur, user, pupil_id) if can(user, "results.read") else {},
        zone_bands=instruments.load_zone_bands(cur),
    )
    return content, registrations


def pupil_name(pupil: dict) -> str:
    return f"{clean_text(pupil.get('first_name'))} {clean_text(pupil.get('last_name'))}".strip()


def file_stem(prefix: str, pupil: dict, day: date) -> str:
    number = re.sub(r"[^A-Za-z0-9_-]+", "_", clean_text(pupil.get("pupil_number")) or str(pupil["id"]))
    return f"{prefix}-{number}-{day:%Y%m%d}"


# -- explanations ---------------------------------------------------------------------------
def record_explanation(
    db: Database, user: User, pupil_id: int, explained_by: object, explained_on: object, *, today: date | None = None
) -> int:
    """Record who explained the dossier to the parents and when; returns the record id."""
    require(user, "export.prepare")
    day = today or date.today()
    who = clean_text(explained_by)
    if not who:
        raise DisclosureError("Geef aan wie de ouders toelichting gaf.")
    if len(who) > MAX_SHORT:
        raise DisclosureError(f"Houd de naam kort (maximaal {MAX_SHORT} tekens).")
    when = past_date(explained_on, "de toelichting", day)

    def write(cur):
        require_pupil(cur, user, pupil_id, "dossier.read")
        record_id = cur.execute(
            "INSERT INTO inzage_record (pupil_id, explained_by, explained_on, recorded_by_id, recorded_by_name)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            [int(pupil_id), who, when, user.id, user.name[:MAX_SHORT]],
        ).fetchone()[0]
        audit.record(
            cur,
            user,
            "create",
            pupil_id=int(pupil_id),
            object=f"inzage_record:{record_id}",
            detail=f"toelichting aan de ouders door {who} op {format_date(when)}",
        )
        return int(record_id)

    return db.write(write)


def past_date(value: object, what: str, today: date) -> date:
    if isinstance(value, str) and not value.strip():
        value = None
    try:
        day = parse_date(value)
    except ValueError:
        raise DisclosureError(f"Geen geldige datum voor {what}: schrijf dd/mm/jjjj.") from None
    if day is None:
        raise DisclosureError(f"Geef de datum van {what} (dd/mm/jjjj).")
    if day > today:
        raise DisclosureError(f"De datum van {what} ligt in de toekomst.")
    if day < MIN_DATE:
        raise DisclosureError(f"De datum van {what} ligt voor {format_date(MIN_DATE)}.")
    return day


def list_explanations(db: Database, user: User, pupil_id: int) -> pd.DataFrame:
    """Recorded explanations of one pupil, newest first."""
    require(user, "export.prepare")
    with db.cursor() as cur:
        require_pupil(cur, user, pupil_id, "dossier.read")
        return cur.execute(
            "SELECT id, explained_by, explained_on, recorded_by_name, created_at FROM inzage_record"
            " WHERE pupil_id = ? ORDER BY explained_on DESC, id DESC",
            [int(pupil_id)],
        ).df()


def _explanation(cur, pupil_id: int, explanation_id: int | None) -> dict | None:
    query = "SELECT id, explained_by, explained_on, recorded_by_name FROM inzage_record WHERE pupil_id = ?"
    params: list = [pupil_id]
    if explanation_id is not None:
        query += " AND id = ?"
        params.append(int(explanation_id))
    cur.execute(query + " ORDER BY explained_on DESC, id DESC LIMIT 1", params)
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


# -- preview and export ---------------------------------------------------------------------
@dataclass
class InzagePreview:
    content: DossierContent  # registrations = what goes in
    selection: Selection
    explanation: dict | None  # the latest recorded explanation
    include_directie: bool
    directie_hidden: bool  # the user cannot read directie items: the preview cannot show them


@dataclass
class InzageExport:
    pdf: bytes
    file_name: str
    registrations: int
    explanation: dict


def _check_directie(user: User, include_directie: bool) -> None:
    if include_directie:
        require(user, "registrations.directie.read")


def prepare_inzage(
    db: Database, user: User, pupil_id: int, *, include_directie: bool = False, today: date | None = None
) -> InzagePreview:
    """What the inzage copy would hold, for the zorgteam or directie to check. Audited as a view."""
    require(user, "export.prepare")
    _check_directie(user, include_directie)

    def read(cur):
        content, frame = read_content(cur, user, int(pupil_id), today=today)
        selection = select_for_inzage(frame, include_directie=include_directie)
        content.registrations = selection.included
        audit.record(
            cur,
            user,
            "view",
            pupil_id=int(pupil_id),
            object="inzage",
            detail=f"voorbereiding inzage: {len(selection.included)} registraties erin, {len(selection.left_out)} niet",
        )
        return InzagePreview(
            content,
            selection,
            _explanation(cur, int(pupil_id), None),
            include_directie,
            not can(user, "registrations.directie.read"),
        )

    return db.write(read)


def inzage_document(
    content: DossierContent, explanation: dict, *, include_directie: bool, user: User, school: str, today: date
) -> Document:
    notes = [
        "Ingetrokken registraties en vroegere versies van gecorrigeerde registraties: deze kopie toont "
        "de huidige versie van elke registratie.",
        "Registraties die vertrouwelijk zijn ten aanzien van derden (informatie van of over andere personen).",
    ]
    if not include_directie:
        notes.append(
            "Vertrouwelijke registraties die enkel de directie leest; de directie beslist of die gedeeld worden."
        )
    return Document(
        title="Inzage in het leerlingendossier",
        content=content,
        school_name=school,
        generated_on=today,
        intro=[
            f"Kopie voor de ouders van {pupil_name(content.pupil)}, na inzage en toelichting.",
            f"Toelichting gegeven door {clean_text(explanation['explained_by'])} "
            f"op {format_date(explanation['explained_on'])}.",
            f"Kopie gemaakt door {clean_text(user.name)} ({user.role_label.lower()}) op {format_date(today)}.",
        ],
        sections=("class_history", "care", "registrations", "results"),
        notes=notes,
        closing=["Vragen over deze kopie of een verzoek tot verbetering richt u aan de directie van de school."],
    )


def export_inzage(
    db: Database,
    user: User,
    pupil_id: int,
    *,
    explanation_id: int | None = None,
    include_directie: bool = False,
    today: date | None = None,
) -> InzageExport:
    """The inzage PDF for the parents, after a recorded explanation (the latest, or `explanation_id`).

    Directie only (export.approve). The export and what it held go to the audit log in the
    same transaction that read the data.
    """
    require(user, "export.approve")
    _check_directie(user, include_directie)
    day = today or date.today()
    school = get_setting(db, "school_name", "") or ""

    def build(cur):
        content, frame = read_content(cur, user, int(pupil_id), today=day)
        explanation = _explanation(cur, int(pupil_id), explanation_id)
        if explanation is None:
            raise DisclosureError(NO_EXPLANATION)
        selection = select_for_inzage(frame, include_directie=include_directie)
        content.registrations = selection.included
        document = inzage_document(
            content, explanation, include_directie=include_directie, user=user, school=school, today=day
        )
        pdf = render(document)
        audit.record(
            cur,
            user,
            "export",
            pupil_id=int(pupil_id),
            object=f"inzage_record:{explanation['id']}",
            detail=f"inzage-PDF voor de ouders: {len(selection.included)} registraties"
            + (" (met directie-registraties)" if include_directie else "")
            + f"; toelichting door {explanation['explained_by']} op {format_date(explanation['explained_on'])}",
        )
        return InzageExport(pdf, file_stem("inzage", content.pupil, day) + ".pdf", len(selection.included), explanation)

    return db.write(build)
