"""PDF rendering of a pupil's dossier for parents (inzage) and for another school (overdracht).

fpdf2 draws everything with vector primitives, so no browser or system font is needed. The
text font is DejaVu Sans, bundled in dossier/fonts/: fpdf2's core fonts are Latin-1 only and
Flemish pupils' names carry ş, ğ, ł, ć and more. Every piece of typed text goes through
`clean_text` and is written as plain text (fpdf2's markdown is off), so HTML, markdown links
or spreadsheet formulas in a registration appear literally, never interpreted.

What a document holds is decided by the callers (dossier/inzage.py, dossier/overdracht.py);
this module only lays it out.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from dossier import labels
from dossier.access import ROLE_LABELS
from dossier.instruments import DEFAULT_ZONE_BANDS, ZONES, describe_zone_bands
from dossier.palette import ZONE_COLOURS
from dossier.schoolyear import format_date

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"

DOMAIN_LABELS = {
    "wiskunde": "Wiskunde",
    "spelling": "Spelling",
    "technisch_lezen": "Technisch lezen",
    "begrijpend_lezen": "Begrijpend lezen",
}
MOMENT_LABELS = {"begin": "begin", "midden": "midden", "eind": "eind"}
GENDER_LABELS = {"M": "jongen", "V": "meisje", "X": "X"}


# -- text -----------------------------------------------------------------------------------
def clean_text(value: object) -> str:
    """Any value as plain printable text: '' for missing, no control characters or lone surrogates.

    Newlines stay; tabs become spaces. Everything else, including <, >, [, ], = and *, is kept
    exactly, because the PDF shows it literally.
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, datetime | pd.Timestamp):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(
        c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cs", "Cn", "Co", "Cf")
    ).strip()


def as_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, date):
        return value
    try:
        return None if pd.isna(value) else pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def _number(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    number = float(value)
    text = f"{number:.{digits}f}" if digits else f"{number:g}"
    return text.replace(".", ",")


# -- charts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    zone: str
    top: float  # mm from the top of the plot area
    bottom: float
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class Point:
    x: float  # mm from the left of the plot area
    y: float  # mm from the top of the plot area
    percentile: float
    label: str


@dataclass(frozen=True)
class PercentileChart:
    """A percentile-over-time chart against the zone bands, in mm within its plot area."""

    title: str
    width: float
    height: float
    bands: tuple[Band, ...]
    points: tuple[Point, ...]
    ticks: tuple[tuple[float, str], ...]  # x, label under the axis


def _lighten(hex_colour: str, amount: float = 0.6) -> tuple[int, int, int]:
    """The zone colour mixed with white, so the line and points on top stay readable."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(round(c + (255 - c) * amount) for c in (r, g, b))  # type: ignore[return-value]


def percentile_chart(
    frame: pd.DataFrame,
    bands: dict[str, float] | None = None,
    *,
    title: str = "",
    width: float = 150,
    height: float = 38,
) -> PercentileChart:
    """Pure geometry of one domain's chart from LVS rows (test_date, percentile, moment, school_year).

    Rows without a percentile are skipped (they are still in the results table). The x axis is
    the test date, so uneven gaps between tests show as such; a single test sits in the middle.
    """
    bands = bands or DEFAULT_ZONE_BANDS
    lower = [bands[z] for z in ZONES[:-1]] + [0.0]
    upper = [100.0] + lower[:-1]

    def y_of(percentile: float) -> float:
        return height * (1 - max(0.0, min(100.0, percentile)) / 100)

    drawn = tuple(
        Band(zone, y_of(up), y_of(low), _lighten(ZONE_COLOURS[zone]))
        for zone, low, up in zip(ZONES, lower, upper, strict=True)
    )
    rows = frame.copy() if frame is not None else pd.DataFrame()
    if rows.empty or "percentile" not in rows:
        return PercentileChart(title, width, height, drawn, (), ())
    rows = rows[pd.to_numeric(rows["percentile"], errors="coerce").notna()]
    rows = rows.assign(chart_day=[as_date(d) for d in rows["test_date"]])
    rows = rows[rows["chart_day"].notna()].sort_values("chart_day")
    if rows.empty:
        return PercentileChart(title, width, height, drawn, (), ())
    first, last = rows["chart_day"].iloc[0], rows["chart_day"].iloc[-1]
    span = (last - first).days
    pad = 6.0  # keep the first and last point off the frame

    def x_of(day: date) -> float:
        if span == 0:
            return width / 2
        return pad + (width - 2 * pad) * (day - first).days / span

    points = []
    for row in rows.itertuples():
        moment = MOMENT_LABELS.get(getattr(row, "moment", ""), clean_text(getattr(row, "moment", "")))
        label = f"{moment} {clean_text(getattr(row, 'school_year', ''))}".strip()
        points.append(Point(x_of(row.chart_day), y_of(float(row.percentile)), float(row.percentile), label))
    # Tick labels need about 24 mm each; with many tests only every n-th gets one.
    step = max(1, math.ceil(len(points) * 24 / width))
    ticks = tuple((p.x, p.label) for i, p in enumerate(points) if i % step == 0)
    return PercentileChart(title, width, height, drawn, tuple(points), ticks)


# -- content --------------------------------------------------------------------------------
@dataclass
class DossierContent:
    """What a document shows of one pupil; each frame holds only what may be shown."""

    pupil: dict
    class_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    registrations: pd.DataFrame = field(default_factory=pd.DataFrame)
    phases: pd.DataFrame = field(default_factory=pd.DataFrame)
    measures: pd.DataFrame = field(default_factory=pd.DataFrame)
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    zone_bands: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ZONE_BANDS))


@dataclass
class Document:
    title: str
    content: DossierContent
    school_name: str = ""
    generated_on: date = field(default_factory=date.today)
    intro: list[str] = field(default_factory=list)  # lines under the title (explanation, inspection)
    sections: tuple[str, ...] = ("class_history", "care", "registrations", "results")
    notes: list[str] = field(default_factory=list)  # "what is not in this document", at the end
    closing: list[str] = field(default_factory=list)  # last lines (whom to ask)


class _Pdf(FPDF):
    def __init__(self, title: str, school_name: str, generated_on: date):
        super().__init__(orientation="P", unit="mm", format="A4")
        self._doc_title = title
        self._school = school_name
        self._generated_on = generated_on
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, 18, 15)
        self.set_auto_page_break(True, margin=16)
        self.set_title(title)
        self.set_creator("Leerlingendossier")
        self.set_lang("nl-BE")
        self.alias_nb_pages()

    def header(self):
        self.set_font(FONT, "", 7.5)
        self.set_text_color(110, 110, 110)
        self.set_xy(15, 8)
        self.cell(self.epw / 2, 4, self._school, new_x="RIGHT", new_y="TOP")
        self.cell(self.epw / 2, 4, self._doc_title, align="R")
        self.set_text_color(0, 0, 0)
        self.set_y(18)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(110, 110, 110)
        self.cell(
            0,
            4,
            f"Vertrouwelijk · aangemaakt op {format_date(self._generated_on)} · pagina {self.page_no()}/{{nb}}",
            align="C",
        )
        self.set_text_color(0, 0, 0)


def _heading(pdf: _Pdf, text: str) -> None:
    if pdf.get_y() > pdf.h - 40:  # a heading alone at the bottom of a page reads badly
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FONT, "", 9.5)


def _paragraph(pdf: _Pdf, text: str, *, bold: bool = False, size: float = 9.5) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.multi_cell(0, 4.8, clean_text(text), align="L", markdown=False, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9.5)


def _labelled(pdf: _Pdf, label: str, text: object) -> None:
    value = clean_text(text)
    if not value:
        return
    pdf.set_font(FONT, "B", 9)
    pdf.cell(32, 4.8, label, new_x="RIGHT", new_y="TOP")
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 4.8, value, align="L", markdown=False, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: _Pdf, headers: list[str], rows: list[list[object]], widths: list[float]) -> None:
    pdf.set_font(FONT, "", 8.5)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align="LEFT",
        markdown=False,
        line_height=4.6,
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        padding=1,
    ) as table:
        heading = table.row()
        for text in headers:
            heading.cell(text)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(clean_text(value))
    pdf.ln(2)
    pdf.set_font(FONT, "", 9.5)


def draw_chart(pdf: _Pdf, chart: PercentileChart) -> None:
    """Draw `chart` at the current position (plot area indented for the axis labels)."""
    total = chart.height + 16
    if pdf.get_y() + total > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5, chart.title, new_x="LMARGIN", new_y="NEXT")
    left, top = pdf.l_margin + 10, pdf.get_y() + 1
    for band in chart.bands:
        pdf.set_fill_color(*band.colour)
        pdf.rect(left, top + band.top, chart.width, band.bottom - band.top, style="F")
        pdf.set_font(FONT, "", 7)
        pdf.set_text_color(60, 60, 60)
        pdf.text(left + chart.width + 1.5, top + (band.top + band.bottom) / 2 + 1, band.zone)
    for value in (0, 25, 50, 75, 100):
        pdf.text(pdf.l_margin, top + chart.height * (1 - value / 100) + 1, f"P{value}")
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, chart.width, chart.height)
    if chart.points:
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.5)
        if len(chart.points) > 1:
            pdf.polyline([(left + p.x, top + p.y) for p in chart.points])
        pdf.set_fill_color(0, 0, 0)
        for p in chart.points:
            pdf.circle(left + p.x, top + p.y, 0.9, style="F")
            pdf.set_font(FONT, "", 6.5)
            pdf.text(left + p.x + 1.2, top + p.y - 1.2, f"P{_number(p.percentile)}")
        pdf.set_font(FONT, "", 6.5)
        for x, label in chart.ticks:
            width = pdf.get_string_width(label)
            pdf.text(max(left, min(left + x - width / 2, left + chart.width - width)), top + chart.height + 4, label)
    else:
        pdf.set_font(FONT, "", 8)
        pdf.text(left + 3, top + chart.height / 2, "Geen percentielen om te tekenen.")
    pdf.set_text_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_y(top + chart.height + 7)
    pdf.set_font(FONT, "", 9.5)


def _identification(pdf: _Pdf, content: DossierContent) -> None:
    pupil = content.pupil
    _heading(pdf, "Leerling")
    name = f"{clean_text(pupil.get('first_name'))} {clean_text(pupil.get('last_name'))}".strip()
    _labelled(pdf, "Naam", name)
    _labelled(pdf, "Leerlingnummer", pupil.get("pupil_number"))
    _labelled(pdf, "Geboortedatum", as_date(pupil.get("birth_date")))
    _labelled(pdf, "Geslacht", GENDER_LABELS.get(pupil.get("gender"), ""))
    history = content.class_history
    if history is not None and not history.empty:
        last = history.iloc[-1]
        _labelled(pdf, "Klas", f"{clean_text(last['class_name'])} ({clean_text(last['school_year'])})")


def _class_history(pdf: _Pdf, history: pd.DataFrame) -> None:
    _heading(pdf, "Klasgeschiedenis")
    if history is None or history.empty:
        _paragraph(pdf, "Geen inschrijvingen gevonden.")
        return
    rows = [
        [r.school_year, r.class_name, r.grade, as_date(r.entry_date), as_date(r.leave_date)]
        for r in history.itertuples()
    ]
    _table(pdf, ["Schooljaar", "Klas", "Leerjaar", "Instroom", "Vertrek"], rows, [35, 35, 25, 42, 43])


def _care(pdf: _Pdf, phases: pd.DataFrame, measures: pd.DataFrame) -> None:
    _heading(pdf, "Zorgfasen en maatregelen")
    if phases is None or phases.empty:
        _paragraph(pdf, f"Geen zorgfase geregistreerd: {labels.phase_label(0).lower()}.")
    else:
        rows = [
            [labels.phase_label(r.phase), as_date(r.start_date), as_date(r.end_date) or "loopt", r.note]
            for r in phases.itertuples()
        ]
        _table(pdf, ["Zorgfase", "Van", "Tot", "Motivering"], rows, [50, 22, 22, 86])
    if measures is None or measures.empty:
        _paragraph(pdf, "Geen maatregelen.")
        return
    rows = []
    for m in measures.itertuples():
        last = ""
        if as_date(getattr(m, "last_evaluated_on", None)):
            decision = labels.DECISIONS.get(clean_text(m.last_decision), clean_text(m.last_decision))
            last = f"{format_date(as_date(m.last_evaluated_on))}: {decision}. {clean_text(m.last_evaluation_text)}"
        rows.append(
            [
                labels.STICORDI.get(m.category, m.category),
                m.description,
                as_date(m.start_date),
                as_date(m.end_date) or "",
                last,
            ]
        )
    _table(pdf, ["Maatregel", "Omschrijving", "Van", "Tot", "Laatste evaluatie"], rows, [26, 62, 20, 20, 52])


def _registrations(pdf: _Pdf, frame: pd.DataFrame) -> None:
    _heading(pdf, "Registraties")
    if frame is None or frame.empty:
        _paragraph(pdf, "Geen registraties.")
        return
    ordered = frame.sort_values(["fact_date", "registration_id"])
    for r in ordered.itertuples():
        kind = labels.REGISTRATION_TYPES.get(r.type, clean_text(r.type))
        report = clean_text(getattr(r, "report_kind", ""))
        if report:
            kind += f" – {labels.REPORT_KINDS.get(report, report)}"
        head = f"{format_date(as_date(r.fact_date))} · {kind}"
        if clean_text(getattr(r, "class_name", "")):
            head += f" · klas {clean_text(r.class_name)} ({clean_text(r.school_year)})"
        if pdf.get_y() > pdf.h - 35:
            pdf.add_page()
        pdf.set_fill_color(245, 245, 245)
        pdf.set_font(FONT, "B", 9.5)
        pdf.multi_cell(0, 5.5, clean_text(head), fill=True, markdown=False, new_x="LMARGIN", new_y="NEXT")
        _labelled(pdf, "Feiten", r.facts)
        _labelled(pdf, "Interpretatie", getattr(r, "interpretation", ""))
        _labelled(pdf, "Afspraken", getattr(r, "agreements", ""))
        _labelled(pdf, "Opvolging door", getattr(r, "owner", ""))
        _labelled(pdf, "Evaluatie op", as_date(getattr(r, "evaluation_date", None)))
        domain = clean_text(getattr(r, "domain", ""))
        _labelled(pdf, "Domein", labels.DOMAINS.get(domain, domain))
        _labelled(pdf, "Bijlage", getattr(r, "attachment_name", ""))
        signed = f"{clean_text(r.author_name)} ({labels_role(r.author_role)})"
        if int(getattr(r, "version", 1) or 1) > 1:
            signed += f"; versie {int(r.version)}, laatst gewijzigd door {clean_text(r.changed_by_name)}"
        _labelled(pdf, "Geschreven door", signed)
        pdf.ln(1.5)


def labels_role(role: object) -> str:
    return ROLE_LABELS.get(clean_text(role), clean_text(role)).lower()


def _results(pdf: _Pdf, results: dict[str, pd.DataFrame], bands: dict[str, float]) -> None:
    _heading(pdf, "Resultaten")
    shown = False
    lvs = results.get("lvs")
    if lvs is not None and not lvs.empty:
        shown = True
        if pdf.get_y() > pdf.h - 90:  # keep the explanation with the first chart
            pdf.add_page()
        _paragraph(pdf, "LVS-VCLB: percentiel per domein doorheen de tijd, tegen de zones A tot E.", bold=True)
        _paragraph(pdf, f"Zones: {describe_zone_bands(bands)} (E = gevarenzone).", size=8)
        for domain, rows in lvs.groupby("domain", sort=False):
            draw_chart(pdf, percentile_chart(rows, bands, title=DOMAIN_LABELS.get(domain, clean_text(domain))))
        table = [
            [
                DOMAIN_LABELS.get(r.domain, r.domain),
                r.school_year,
                MOMENT_LABELS.get(r.moment, r.moment),
                as_date(r.test_date),
                _number(r.raw_score) + (f" / {_number(r.max_score)}" if _number(r.max_score) else ""),
                _number(r.percentile),
                r.zone,
            ]
            for r in lvs.sort_values(["domain", "test_date"]).itertuples()
        ]
        _table(
            pdf,
            ["Domein", "Schooljaar", "Moment", "Datum", "Score", "Percentiel", "Zone"],
            table,
            [34, 26, 20, 24, 30, 24, 22],
        )
    avi = results.get("avi")
    if avi is not None and not avi.empty:
        shown = True
        _paragraph(pdf, "AVI (technisch lezen, leesteksten)", bold=True)
        rows = [
            [as_date(r.test_date), r.school_year, r.moment, r.card, r.card_result, r.level_achieved]
            for r in avi.itertuples()
        ]
        _table(pdf, ["Datum", "Schooljaar", "Moment", "Kaart", "Resultaat", "Niveau"], rows, [26, 28, 24, 30, 36, 36])
    dmt = results.get("dmt")
    if dmt is not None and not dmt.empty:
        shown = True
        _paragraph(pdf, "DMT (drie-minutentoets): correct gelezen woorden per kaart", bold=True)
        rows = [
            [
                as_date(r.test_date),
                r.school_year,
                r.moment,
                _number(r.card1_correct),
                _number(r.card2_correct),
                _number(r.card3_correct),
                _number(r.percentile),
                r.zone,
            ]
            for r in dmt.itertuples()
        ]
        _table(
            pdf,
            ["Datum", "Schooljaar", "Moment", "Kaart 1", "Kaart 2", "Kaart 3", "Percentiel", "Zone"],
            rows,
            [24, 26, 20, 20, 20, 20, 28, 22],
        )
    idp = results.get("idp")
    if idp is not None and not idp.empty:
        shown = True
        _paragraph(pdf, "Interdiocesane proeven (IDP)", bold=True)
        rows = [
            [
                r.test,
                r.school_year,
                r.area,
                r.part,
                f"{_number(r.score)} / {_number(r.max_score)}",
                _number(r.percentage, 1),
                _number(r.reference_percentage, 1),
            ]
            for r in idp.itertuples()
        ]
        _table(
            pdf,
            ["Proef", "Schooljaar", "Leergebied", "Onderdeel", "Score", "%", "% referentie"],
            rows,
            [16, 24, 34, 40, 24, 18, 24],
        )
    wellbeing = results.get("wellbeing")
    if wellbeing is not None and not wellbeing.empty:
        shown = True
        _paragraph(pdf, "Welbevinden en betrokkenheid (Leuvense schalen, 1-5)", bold=True)
        rows = [
            [as_date(r.observed_on), r.school_year, r.scale, r.score_text, r.context] for r in wellbeing.itertuples()
        ]
        _table(pdf, ["Datum", "Schooljaar", "Schaal", "Score", "Context"], rows, [26, 28, 34, 20, 72])
    if not shown:
        _paragraph(pdf, "Geen resultaten.")


def render(document: Document) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pdf(clean_text(document.title), clean_text(document.school_name), document.generated_on)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, clean_text(document.title), markdown=False, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9.5)
    for line in document.intro:
        _paragraph(pdf, line)
    content = document.content
    _identification(pdf, content)
    if "class_history" in document.sections:
        _class_history(pdf, content.class_history)
    if "care" in document.sections:
        _care(pdf, content.phases, content.measures)
    if "registrations" in document.sections:
        _registrations(pdf, content.registrations)
    if "results" in document.sections:
        _results(pdf, content.results, content.zone_bands)
    if document.notes:
        _heading(pdf, "Niet in dit document")
        for line in document.notes:
            _paragraph(pdf, f"– {line}")
    if document.closing:
        pdf.ln(3)
        for line in document.closing:
            _paragraph(pdf, line)
    return bytes(pdf.output())
