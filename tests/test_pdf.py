"""The PDFs read back with pypdf: names in any script, hostile text literal, charts, the bundled font."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pandas as pd
import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import inzage, overdracht, pdf, registrations
from dossier.instruments import DEFAULT_ZONE_BANDS
from tests.test_registrations import (  # noqa: F401  (fixtures: a fresh copy of one prepared school per test)
    db_fixture,
    school_fixture,
    school_template_fixture,
    users_fixture,
)

TODAY = date.today()
DAY = TODAY - timedelta(days=30)
FIRST, LAST = "Şule", "Łukasiewicz-Ćwikğ"
HOSTILE = [
    "<script>alert('x')</script>",
    "<b>vet</b> &amp; <img src=x onerror=alert(1)>",
    "[klik hier](http://evil.example)",
    '=HYPERLINK("http://evil.example")',
    "**niet vet** _niet schuin_ # geen titel",
]


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def pupil(db, school, users):
    """A pupil with a name outside Latin-1, hostile registrations, a confidential one, a leefregel, LVS results."""
    pid = school.pupils["30005"]
    with db.cursor() as cur:
        cur.execute("UPDATE pupil SET first_name = ?, last_name = ? WHERE id = ?", [FIRST, LAST, pid])
    zorg, directie = users["zorg"], users["directie"]
    for facts in HOSTILE:
        registrations.create_registration(
            db, zorg, pid, type="mdo", fact_date=DAY, facts=facts, visibility="team", transferable=True
        )
    registrations.create_registration(
        db,
        zorg,
        pid,
        type="clb_terugkoppeling",
        fact_date=DAY,
        facts="GEHEIM-VAN-DERDEN",
        visibility="zorgteam",
        confidential_third_parties=True,
    )
    registrations.create_registration(
        db, directie, pid, type="leefregel", fact_date=DAY, facts="LEEFREGEL-INCIDENT", visibility="team"
    )
    year = school.year
    with db.cursor() as cur:
        for domain, moment, day, percentile, zone in [
            ("wiskunde", "begin", DAY - timedelta(days=200), 62.0, "B"),
            ("wiskunde", "midden", DAY - timedelta(days=100), 45.0, "C"),
            ("spelling", "begin", DAY - timedelta(days=200), 8.0, "E"),
        ]:
            cur.execute(
                "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, raw_score,"
                " max_score, percentile, zone) VALUES (?, ?, ?, 1, ?, ?, 20, 40, ?, ?)",
                [pid, year, day, domain, moment, percentile, zone],
            )
    inzage.record_explanation(db, zorg, pid, "Juf Ayşe Kowalczyk", DAY)
    return pid


def test_inzage_pdf_shows_names_and_hostile_text_literally_and_leaves_confidential_out(db, users, pupil):
    made = inzage.export_inzage(db, users["directie"], pupil)
    text = flat(text_of(made.pdf))
    assert f"{FIRST} {LAST}" in text
    assert "Juf Ayşe Kowalczyk" in text
    for hostile in HOSTILE:
        assert hostile in text, hostile
    assert "GEHEIM-VAN-DERDEN" not in text
    assert "LEEFREGEL-INCIDENT" in text  # parents do see leefregels of team visibility
    assert DAY.strftime("%d/%m/%Y") in text
    for heading in ("Klasgeschiedenis", "Zorgfasen en maatregelen", "Registraties", "Resultaten"):
        assert heading in text
    assert "Wiskunde" in text and "P45" in text and "P62" in text  # the chart's labels


def test_overdracht_pdf_never_holds_a_leefregel(db, users, pupil):
    overdracht.record_inspection(db, users["zorg"], pupil, TODAY - timedelta(days=20))
    package = overdracht.export_overdracht(db, users["directie"], pupil)
    text = flat(text_of(package.pdf))
    assert f"{FIRST} {LAST}" in text and HOSTILE[0] in text
    assert "LEEFREGEL-INCIDENT" not in text and "GEHEIM-VAN-DERDEN" not in text
    assert "Overdrachtsdossier bij schoolverandering" in text


def test_the_pdf_embeds_the_bundled_font_only(db, users, pupil):
    assert (pdf.FONT_DIR / "DejaVuSans.ttf").is_file() and (pdf.FONT_DIR / "LICENSE").is_file()
    assert pdf.FONT_DIR.parent.name == "dossier"  # ships inside the package, no system font at run time
    made = inzage.export_inzage(db, users["directie"], pupil)
    reader = pypdf.PdfReader(io.BytesIO(made.pdf))
    fonts = {str(f["/BaseFont"]) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVuSans" in name for name in fonts)


# -- charts ---------------------------------------------------------------------------------
def lvs(rows):
    return pd.DataFrame(rows, columns=["test_date", "percentile", "moment", "school_year"])


def test_chart_points_sit_at_their_percentile_and_in_date_order():
    frame = lvs(
        [
            (pd.Timestamp("2025-01-20"), 45.0, "midden", "2024-2025"),
            (pd.Timestamp("2024-09-20"), 80.0, "begin", "2024-2025"),
            (pd.Timestamp("2025-05-20"), None, "eind", "2024-2025"),
            (pd.Timestamp("2025-09-20"), 5.0, "begin", "2025-2026"),
        ]
    )
    chart = pdf.percentile_chart(frame, title="Wiskunde", width=150, height=40)
    assert [p.percentile for p in chart.points] == [80.0, 45.0, 5.0]  # by date, missing percentile skipped
    for p in chart.points:
        assert p.y == pytest.approx(40 * (1 - p.percentile / 100))
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs) and 0 < xs[0] < xs[-1] < 150
    assert chart.points[0].label == "begin 2024-2025"
    # x is proportional to time: Sep->Jan is 122 days, Jan->Sep 243 days.
    assert (xs[1] - xs[0]) / (xs[2] - xs[1]) == pytest.approx(122 / 243, rel=1e-6)


@given(
    a=st.integers(min_value=60, max_value=100),
    b=st.integers(min_value=40, max_value=59),
    c=st.integers(min_value=20, max_value=39),
    d=st.integers(min_value=1, max_value=19),
)
def test_zone_bands_tile_the_chart_from_a_to_e(a, b, c, d):
    bands = {"A": float(a), "B": float(b), "C": float(c), "D": float(d)}
    chart = pdf.percentile_chart(lvs([]), bands, height=50)
    assert [band.zone for band in chart.bands] == ["A", "B", "C", "D", "E"]
    assert chart.bands[0].top == pytest.approx(0) and chart.bands[-1].bottom == pytest.approx(50)
    for upper, lower in zip(chart.bands, chart.bands[1:], strict=False):
        assert upper.bottom == pytest.approx(lower.top)
    assert chart.bands[1].top == pytest.approx(50 * (1 - a / 100))
    assert chart.points == () and chart.ticks == ()


def test_a_single_test_sits_in_the_middle_and_ticks_thin_out_when_crowded():
    one = pdf.percentile_chart(lvs([(pd.Timestamp("2025-01-20"), 30.0, "midden", "2024-2025")]), width=100)
    assert one.points[0].x == pytest.approx(50)
    many = lvs([(pd.Timestamp("2020-09-01") + pd.Timedelta(days=120 * i), 50.0, "begin", "x") for i in range(20)])
    chart = pdf.percentile_chart(many, DEFAULT_ZONE_BANDS, width=150)
    assert len(chart.points) == 20 and 0 < len(chart.ticks) < 20


# -- hostile input --------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_renders_and_printable_text_reads_back(text):
    content = pdf.DossierContent(
        pupil={"id": 1, "pupil_number": "1", "first_name": text[:40], "last_name": "X", "birth_date": DAY},
        registrations=pd.DataFrame(
            [
                {
                    "registration_id": 1,
                    "version": 1,
                    "type": "observatie",
                    "fact_date": pd.Timestamp(DAY),
                    "facts": text,
                    "author_name": text[:50],
                    "author_role": "zorgteam",
                }
            ]
        ),
    )
    data = pdf.render(pdf.Document(title="Inzage", content=content, sections=("registrations",)))
    assert data.startswith(b"%PDF")
    cleaned = pdf.clean_text(text)
    assert "\x00" not in cleaned and not any(0xD800 <= ord(c) <= 0xDFFF for c in cleaned)
    words = [w for w in cleaned.split() if w.isascii() and w.isalnum() and len(w) > 3]
    extracted = flat(text_of(data))
    for word in words[:5]:
        assert word in extracted.replace(" ", "") or word in extracted
