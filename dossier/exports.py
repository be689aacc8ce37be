"""XLSX exports of the dashboards, with Dutch headers and formula-injection neutralised.

Names, reasons and free text come from people and import files. A spreadsheet program runs a
cell that begins with `=`, `+`, `-` or `@` (and, in some programs, a tab or carriage return) as a
formula, so every text cell goes through `neutralise`, which puts an apostrophe in front: the
text stays readable and is never evaluated. Numbers and dates are written as real numbers and
dates (dd/mm/jjjj), never as text.

The builders take the frames of dossier.dashboards and dossier.signals as they are, so an
export holds exactly what the acting user may see; aggregates must come from the queries with
`export=True` (small groups hidden). `record_export` writes the audit row for a download.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dossier import audit
from dossier.access import User, require
from dossier.db import Database
from dossier.instruments import LVS_DOMAINS
from dossier.labels import CARE_PHASES
from dossier.palette import ZONE_COLOURS
from dossier.schoolyear import format_date
from dossier.timeline import DOMAIN_LABELS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
HIDDEN_TEXT = "verborgen (n<5)"
MAX_SHEET_TITLE = 31
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
MOMENT_ORDER = {"begin": 1, "midden": 2, "eind": 3}


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets an apostrophe in front; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text(value: str) -> str:
    # openpyxl refuses control characters outright: drop them rather than fail the whole download.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))  # type: ignore[return-value]


def _cell_value(value: object) -> object:
    """A Python value as an openpyxl cell value: text neutralised, missing values empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "ja" if value else "nee"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        # Spreadsheets know no time zones; midnight means a plain date.
        value = value.replace(tzinfo=None)
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) else (number if math.isfinite(number) else str(number))
    if isinstance(value, (list, tuple, np.ndarray)):
        return _text("; ".join(str(v) for v in value))
    if isinstance(value, Mapping):
        return _text(json.dumps(value, ensure_ascii=False, default=str))
    return _text(str(value))


def sheet_title(title: str) -> str:
    """A valid worksheet title: no []:*?/\\, at most 31 characters."""
    cleaned = _SHEET_TITLE_BAD.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", title)).strip() or "Blad"
    return cleaned[:MAX_SHEET_TITLE]


def write_workbook(sheets: Sequence[tuple[str, pd.DataFrame]], *, zone_columns: Iterable[str] = ()) -> bytes:
    """One worksheet per (title, frame): a bold header row, then the rows. Returns the XLSX bytes.

    Cells in `zone_columns` that hold a zone letter get the zone colour, as in the app.
    """
    zone_columns = set(zone_columns)
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for title, frame in sheets:
        name = sheet_title(title)
        base, k = name, 2
        while name in used:
            suffix = f" ({k})"
            name, k = base[: MAX_SHEET_TITLE - len(suffix)] + suffix, k + 1
        used.add(name)
        sheet = book.create_sheet(name)
        headers = [str(c) for c in frame.columns]
        sheet.append([_text(h) for h in headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_cell_value(v) for v in row])
        for col, header in enumerate(headers, start=1):
            letter = get_column_letter(col)
            width = max([len(header), *(len(str(c.value)) for c in sheet[letter][1:200] if c.value is not None)])
            sheet.column_dimensions[letter].width = min(60, max(8, width + 2))
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(cell.value, date):
                    cell.number_format = DATE_FORMAT
                elif header in zone_columns and cell.value in ZONE_COLOURS:
                    cell.fill = PatternFill("solid", fgColor=ZONE_COLOURS[cell.value].lstrip("#"))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _info_sheet(rows: Mapping[str, object]) -> pd.DataFrame:
    return pd.DataFrame({"Gegeven": list(rows), "Waarde": list(rows.values())})


def _shown(value: object, suppressed: bool) -> object:
    return HIDDEN_TEXT if suppressed else value


# -- class overview ------------------------------------------------------------------------


def moment_column(domain: str, school_year: str, moment: str) -> str:
    return f"{DOMAIN_LABELS.get(domain, domain)} {moment} {school_year}"


def overview_wide(overview: pd.DataFrame, *, percentiles: bool = False, domain: str | None = None) -> pd.DataFrame:
    """The group overview as one row per pupil: pupil_id, Leerlingnummer, Voornaam, Naam, then a zone column
    per domain and moment (and, with `percentiles`, the percentile next to it). Frame of dashboards.class_overview.
    """
    if domain is not None:
        overview = overview[overview["domain"] == domain]
    pupils = overview.drop_duplicates("pupil_id")[["pupil_id", "pupil_number", "first_name", "last_name"]]
    table = pupils.rename(
        columns={"pupil_number": "Leerlingnummer", "first_name": "Voornaam", "last_name": "Naam"}
    ).reset_index(drop=True)
    if "left_school" in overview:
        left = overview.drop_duplicates("pupil_id").set_index("pupil_id")["left_school"].astype(bool)
        table["Vertrokken"] = table["pupil_id"].map(left).map({True: "ja", False: ""})
    cells = overview.dropna(subset=["domain"])
    order = (
        cells[["domain", "school_year", "moment"]]
        .drop_duplicates()
        .assign(
            d=lambda f: f["domain"].map({d: i for i, d in enumerate(LVS_DOMAINS)}).fillna(99),
            m=lambda f: f["moment"].map(MOMENT_ORDER).fillna(9),
        )
        .sort_values(["d", "school_year", "m"])
    )
    for rec in order.itertuples(index=False):
        part = cells[
            (cells["domain"] == rec.domain)
            & (cells["school_year"] == rec.school_year)
            & (cells["moment"] == rec.moment)
        ].set_index("pupil_id")
        label = moment_column(rec.domain, rec.school_year, rec.moment)
        table[label] = table["pupil_id"].map(part["zone"]).astype(object).where(lambda s: s.notna(), "")
        if percentiles:
            table[f"{label} percentiel"] = table["pupil_id"].map(part["percentile"]).astype("Float64")
    return table


def zone_columns(table: pd.DataFrame) -> list[str]:
    """The zone columns of an overview_wide table."""
    fixed = {"pupil_id", "Leerlingnummer", "Voornaam", "Naam", "Vertrokken"}
    return [c for c in table.columns if c not in fixed and not str(c).endswith(" percentiel")]


def distribution_table(distribution: pd.DataFrame) -> pd.DataFrame:
    """Zone distribution (dashboards.zone_distribution) with Dutch headers; hidden groups say so."""
    rows = []
    for r in distribution.to_dict("records"):
        hidden = bool(r.get("suppressed", False))
        rows.append(
            {
                "Domein": DOMAIN_LABELS.get(r["domain"], r["domain"]),
                "Schooljaar": r["school_year"],
                "Toetsmoment": r["moment"],
                "Zone": r["zone"],
                "Aantal": _shown(r["count"], hidden),
                "n": _shown(r["n"], hidden),
                "Aandeel": _shown(r["share"], hidden),
                "Norm": r.get("norm_share"),
                "Mediaan percentiel": _shown(r["median_percentile"], hidden),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["Domein", "Schooljaar", "Toetsmoment", "Zone", "Aantal", "n", "Aandeel", "Norm", "Mediaan percentiel"],
    )


def care_table(care: pd.DataFrame) -> pd.DataFrame:
    """Care overview (dashboards.care_overview) with Dutch headers."""
    return pd.DataFrame(
        {
            "Leerlingnummer": care["pupil_number"],
            "Voornaam": care["first_name"],
            "Naam": care["last_name"],
            "Zorgfase": care["phase"].map(lambda p: CARE_PHASES.get(int(p), str(p))),
            "Fase sinds": care["phase_start"],
            "Actieve maatregelen": care["active_measures"],
            "Maatregelen": care["measures"].map(lambda m: "; ".join(m) if isinstance(m, (list, np.ndarray)) else ""),
            "Volgende evaluatie": care["next_due_date"],
            "Te laat geëvalueerd": care["overdue_measures"],
        }
    )


def class_overview_xlsx(
    info: Mapping[str, object],
    overview: pd.DataFrame,
    distribution: pd.DataFrame,
    care: pd.DataFrame | None = None,
    *,
    made_by: str,
    made_on: date,
) -> bytes:
    """The class dashboard as XLSX: group overview (zone and percentile per moment), zone distribution
    (pass zone_distribution(..., export=True)), care (when given) and an info sheet."""
    wide = overview_wide(overview, percentiles=True).drop(columns=["pupil_id"])
    sheets = [("Groepsoverzicht", wide), ("Zoneverdeling", distribution_table(distribution))]
    if care is not None:
        sheets.append(("Zorg", care_table(care)))
    sheets.append(
        (
            "Info",
            _info_sheet(
                {
                    "Klas": info["name"],
                    "Schooljaar": info["school_year"],
                    "Leerlingen": int(wide.shape[0]),
                    "Gemaakt door": made_by,
                    "Gemaakt op": format_date(made_on),
                    "Opmerking": "Groepen kleiner dan 5 leerlingen zijn verborgen in de zoneverdeling.",
                }
            ),
        )
    )
    return write_workbook(sheets, zone_columns=zone_columns(overview_wide(overview)))


# -- attention list ------------------------------------------------------------------------

DATA_LABELS = {
    "domein": "Domein",
    "schooljaar": "Schooljaar",
    "moment": "Toetsmoment",
    "zone": "Zone",
    "percentiel": "Percentiel",
    "afnamedatum": "Afnamedatum",
    "leerjaar": "Leerjaar",
    "niveau": "AVI-niveau",
    "niveau_rang": "Rang niveau",
    "verwacht": "Verwacht niveau",
    "verwacht_rang": "Rang verwacht",
    "maatregel_id": "Maatregel",
    "categorie": "Categorie",
    "omschrijving": "Omschrijving",
    "startdatum": "Startdatum",
    "evaluatiedatum": "Evaluatiedatum",
    "laatste_evaluatie": "Laatste evaluatie",
    "laatste_beslissing": "Laatste beslissing",
    "getest": "Getest",
    "klasgrootte": "Klasgrootte",
    "eerste_afname": "Eerste afname",
    "schaal": "Schaal",
    "score": "Score",
    "waarde": "Waarde",
    "observatiedatum": "Observatiedatum",
    "context": "Context",
}


def _data_value(key: str, value: object) -> object:
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if key == "domein" and isinstance(value, str):
        return DOMAIN_LABELS.get(value, value)
    return value


def signal_records(data: object) -> pd.DataFrame:
    """The records behind one signal as a small table with Dutch headers and dd/mm/jjjj dates."""
    records = data if isinstance(data, list) else []
    rows = [
        {DATA_LABELS.get(k, k.replace("_", " ").capitalize()): _data_value(k, v) for k, v in r.items()}
        for r in records
        if isinstance(r, Mapping)
    ]
    return pd.DataFrame(rows)


def describe_data(data: object) -> str:
    """The records behind a signal in one line of text, for a spreadsheet cell."""
    table = signal_records(data)
    return " | ".join(
        ", ".join(f"{k}: {v}" for k, v in row.items() if v is not None and not (isinstance(v, float) and math.isnan(v)))
        for row in table.to_dict("records")
    )


def attention_table(signals: pd.DataFrame) -> pd.DataFrame:
    """The attention list (signals.attention_list) with Dutch headers."""
    table = pd.DataFrame(
        {
            "Leerlingnummer": signals["pupil_number"],
            "Voornaam": signals["first_name"],
            "Naam": signals["last_name"],
            "Klas": signals["class_name"],
            "Regel": signals["rule_title"],
            "Waarom": signals["reason"],
            "Gegevens": signals["data"].map(describe_data),
        }
    )
    if "dismissed" in signals and signals["dismissed"].any():
        table["Afgewezen"] = signals["dismissed"].astype(bool)
        table["Reden afwijzing"] = signals["dismissed_reason"]
        table["Afgewezen door"] = signals["dismissed_by"]
        table["Afgewezen op"] = signals["dismissed_at"]
    return table


def rules_table(rules: pd.DataFrame) -> pd.DataFrame:
    """The rules (signals.list_rules) with Dutch headers."""
    return pd.DataFrame(
        {
            "Regel": rules["title"],
            "Wat": rules["explanation"],
            "Aan": rules["enabled"].astype(bool),
            "Gewijzigd door": rules["changed_by"],
            "Gewijzigd op": rules["changed_at"],
        }
    )


def attention_list_xlsx(
    signals: pd.DataFrame, rules: pd.DataFrame, *, scope_label: str, made_by: str, made_on: date
) -> bytes:
    """The attention list as XLSX: the signals with their reasons and data, the rules, an info sheet."""
    info = _info_sheet(
        {
            "Aandachtslijst": scope_label,
            "Signalen": len(signals),
            "Gemaakt door": made_by,
            "Gemaakt op": format_date(made_on),
        }
    )
    return write_workbook(
        [("Aandachtslijst", attention_table(signals)), ("Regels", rules_table(rules)), ("Info", info)]
    )


# -- school view ---------------------------------------------------------------------------


def _suppressed_rows(frame: pd.DataFrame, columns: Mapping[str, str], *, numbers_of: Iterable[str]) -> pd.DataFrame:
    """Rename `columns` to Dutch; values of `numbers_of` read 'verborgen' in suppressed rows."""
    hidden_cols = set(numbers_of)
    rows = []
    for r in frame.to_dict("records"):
        hidden = bool(r.get("suppressed", False))
        rows.append({label: _shown(r[src], hidden and src in hidden_cols) for src, label in columns.items()})
    return pd.DataFrame(rows, columns=list(columns.values()))


def changes_table(changes: pd.DataFrame, *, by_class: bool) -> pd.DataFrame:
    """Year-over-year changes (dashboards.year_over_year or class_changes) with Dutch headers."""
    first = {"class_name": "Klas"} if by_class else {"level": "Niveau", "grade": "Leerjaar"}
    columns = {
        **first,
        "domain": "Domein",
        "moment": "Toetsmoment",
        "n": "n",
        "share_d_e": "Aandeel D+E",
        "median_percentile": "Mediaan percentiel",
        "n_before": "n vorig jaar",
        "share_d_e_before": "Aandeel D+E vorig jaar",
        "median_percentile_before": "Mediaan vorig jaar",
        "change_share_d_e": "Verschil D+E",
        "change_median": "Verschil mediaan",
        "slipped": "Achteruitgang",
    }
    columns = {k: v for k, v in columns.items() if k in changes}
    table = _suppressed_rows(changes, columns, numbers_of=[c for c in columns if c not in first and c != "domain"])
    if "Domein" in table:
        table["Domein"] = table["Domein"].map(lambda d: DOMAIN_LABELS.get(d, d))
    return table


def trends_table(trends: pd.DataFrame) -> pd.DataFrame:
    columns = {
        "grade": "Leerjaar",
        "domain": "Domein",
        "school_year": "Schooljaar",
        "moment": "Toetsmoment",
        "n": "n",
        "n_d_e": "Aantal D+E",
        "share_d_e": "Aandeel D+E",
        "median_percentile": "Mediaan percentiel",
    }
    table = _suppressed_rows(trends, columns, numbers_of=["n", "n_d_e", "share_d_e", "median_percentile"])
    table["Domein"] = table["Domein"].map(lambda d: DOMAIN_LABELS.get(d, d))
    return table


def cohorts_table(cohorts: pd.DataFrame) -> pd.DataFrame:
    columns = {
        "cohort": "Instroom L1",
        "school_year": "Schooljaar",
        "cohort_grade": "Leerjaar van de cohorte",
        "moment": "Toetsmoment",
        "n": "n",
        "n_d_e": "Aantal D+E",
        "share_d_e": "Aandeel D+E",
        "median_percentile": "Mediaan percentiel",
    }
    return _suppressed_rows(cohorts, columns, numbers_of=["n", "n_d_e", "share_d_e", "median_percentile"])


def phases_table(phases: pd.DataFrame) -> pd.DataFrame:
    columns = {
        "level": "Niveau",
        "grade": "Leerjaar",
        "phase": "Zorgfase",
        "count": "Aantal",
        "n": "n",
        "share": "Aandeel",
    }
    return _suppressed_rows(phases, columns, numbers_of=["count", "n", "share"])


def school_xlsx(sheets: Mapping[str, pd.DataFrame], *, school_year: str, made_by: str, made_on: date) -> bytes:
    """School aggregates (already in Dutch, from the *_table helpers on export=True frames) plus an info sheet."""
    info = _info_sheet(
        {
            "Schooljaar": school_year,
            "Gemaakt door": made_by,
            "Gemaakt op": format_date(made_on),
            "Opmerking": "Groepen kleiner dan 5 leerlingen zijn verborgen.",
        }
    )
    return write_workbook([*sheets.items(), ("Info", info)])


# -- audit ---------------------------------------------------------------------------------


# Who may download which export: the permission of the page the export comes from.
EXPORT_PERMISSIONS = {
    "klasoverzicht": "dashboard.class",
    "aandachtslijst": "dashboard.class",
    "schoolbeeld": "dashboard.school",
}


def record_export(db: Database, user: User, what: str, detail: str) -> None:
    """One audit row for a download (called when the user clicks the download button).

    Only a role that may see the export writes the row, so the log cannot be filled with exports
    that did not happen. `what` is one of EXPORT_PERMISSIONS.
    """
    if what not in EXPORT_PERMISSIONS:
        raise ValueError(f"unknown export {what!r}")  # a programming error, never user input
    require(user, EXPORT_PERMISSIONS[what])
    db.write(lambda cur: audit.record(cur, user, "export", object=f"xlsx:{what}", detail=detail))
