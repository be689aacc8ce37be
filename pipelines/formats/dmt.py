"""DMT (Drie-Minuten-Toets): one row per pupil, school year and test moment (table dmt_result).

Counts per card are stored as delivered. Percentile and zone are optional; a missing zone is
derived from the percentile with the school's band table, and a zone that contradicts the
percentile is kept with a warning, as for LVS-VCLB (the publisher's zone wins).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dossier.instruments import MOMENTS, ZONES, load_zone_bands, zones_for_percentiles
from pipelines.formats import parsing, results
from pipelines.formats.base import (
    CODE,
    DATE,
    FORMULA_ERROR,
    INT,
    NUMBER,
    TEXT,
    UPPER,
    Column,
    FrameRule,
    ImportFormat,
    Prepared,
    no_formula,
    no_spaces,
    report_duplicates,
)
from pipelines.load import Target
from pipelines.report import WARNING, Findings

if TYPE_CHECKING:
    import duckdb

CARDS = (1, 2, 3)
CORRECT = tuple(f"kaart{n}_correct" for n in CARDS)
COUNTS = tuple(c for n in CARDS for c in (f"kaart{n}_correct", f"kaart{n}_fouten"))
_CARD_COLUMNS = (("correct", "correct"), ("errors", "fouten"))  # table name part, file name part
MAX_COUNT = 150  # words read in a minute: far above any real card


def _count_field():
    return pa.Field(nullable=True, in_range={"min_value": 0, "max_value": MAX_COUNT})


class DmtModel(pa.DataFrameModel):
    schooljaar: Series[str] = pa.Field(nullable=True)
    afnamedatum: Series[pa.DateTime] = pa.Field(nullable=False)
    leerling_id: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    klas: Series[str] = pa.Field(nullable=True, str_length={"max_value": 30})
    leerjaar: Series[pd.Int64Dtype] = pa.Field(nullable=False, in_range={"min_value": 1, "max_value": 7})
    afnamemoment: Series[str] = pa.Field(nullable=False, isin=list(MOMENTS))
    versie: Series[str] = pa.Field(nullable=True, str_length={"max_value": 30})
    kaart1_correct: Series[pd.Int64Dtype] = _count_field()
    kaart1_fouten: Series[pd.Int64Dtype] = _count_field()
    kaart2_correct: Series[pd.Int64Dtype] = _count_field()
    kaart2_fouten: Series[pd.Int64Dtype] = _count_field()
    kaart3_correct: Series[pd.Int64Dtype] = _count_field()
    kaart3_fouten: Series[pd.Int64Dtype] = _count_field()
    normset: Series[str] = pa.Field(nullable=True, str_length={"max_value": 100})
    percentiel: Series[float] = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100})
    zone: Series[str] = pa.Field(nullable=True, isin=list(ZONES))

    @pa.check("schooljaar", error="ongeldig schooljaar '{value}': verwacht bv. 2024-2025")
    def schooljaar_vorm(cls, s: Series[str]) -> Series[bool]:
        return parsing.is_school_year(s)

    @pa.check("leerling_id", error="leerling_id '{value}' mag geen spaties bevatten")
    def leerling_id_vorm(cls, s: Series[str]) -> Series[bool]:
        return no_spaces(s)

    @pa.check("leerling_id", "klas", "versie", "normset", error=FORMULA_ERROR)
    def geen_formule(cls, s: Series[str]) -> Series[bool]:
        return no_formula(s)

    @pa.dataframe_check(
        error="geen enkele kaart ingevuld: vul minstens kaart1_correct, kaart2_correct of kaart3_correct in"
    )
    def minstens_een_kaart(cls, df: pd.DataFrame) -> Series[bool]:
        return df[list(CORRECT)].notna().any(axis=1)

    class Config:
        strict = False
        coerce = False


def zones_with_percentiles(cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings) -> pd.Series:
    """The zone to store: as delivered, else derived from the percentile; a contradiction warns."""
    from_percentile = zones_for_percentiles(typed["percentiel"], load_zone_bands(cur))
    from_percentile = from_percentile.where(typed["percentiel"].between(0, 100))  # out of range is an error
    given = typed["zone"].where(typed["zone"].isin(ZONES))
    clash = (given.notna() & from_percentile.notna() & (given != from_percentile)).to_numpy(dtype=bool)
    if clash.any():
        rows = typed.index[clash]
        findings.add_rows(
            WARNING,
            rows,
            "zone",
            [
                f"zone {{value}} past niet bij percentiel {typed.at[r, 'percentiel']:g}:"
                f" volgens de zonegrenzen is dat zone {from_percentile.at[r]}"
                for r in rows
            ],
        )
    return given.where(given.notna(), from_percentile)


class Dmt(ImportFormat):
    name = "dmt"
    label = "DMT (Drie-Minuten-Toets)"
    permission = "results.import"
    columns = (
        Column("schooljaar", TEXT),
        Column("afnamedatum", DATE, required=True),
        Column("leerling_id", TEXT, required=True),
        Column("klas", TEXT),
        Column("leerjaar", INT, required=True),
        Column("afnamemoment", CODE, required=True),
        Column("versie", TEXT),
        *(Column(name, INT) for name in COUNTS),
        Column("normset", TEXT),
        Column("percentiel", NUMBER),
        Column("zone", UPPER),
    )
    key = ("leerling_id", "schooljaar", "afnamemoment")
    model = DmtModel
    frame_rules: ClassVar[dict[str, FrameRule]] = {
        "minstens_een_kaart": FrameRule("kaart1_correct", CORRECT),
    }
    targets = (
        Target(
            "dmt_result",
            key=("pupil_id", "school_year", "moment"),
            values=(
                "test_date",
                "grade",
                "version",
                "card1_correct",
                "card1_errors",
                "card2_correct",
                "card2_errors",
                "card3_correct",
                "card3_errors",
                "norm_set",
                "percentile",
                "zone",
                "class_id",
            ),
        ),
    )

    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        year = results.school_year(typed, findings, "afnamedatum")
        keyed = typed.assign(schooljaar=year)  # the key's school year is the test date's, given or not
        report_duplicates(keyed, cls.key, findings, "leerling_id", "dezelfde leerling_id, schooljaar en afnamemoment")
        pupils = results.resolve_pupils(cur, typed, year, findings, "afnamedatum")
        results.check_moment(typed, findings, "afnamedatum")
        zone = zones_with_percentiles(cur, typed, findings)
        rows = pd.DataFrame(
            {
                "pupil_id": pupils["pupil_id"],
                "school_year": year,
                "moment": typed["afnamemoment"],
                "test_date": typed["afnamedatum"],
                "grade": typed["leerjaar"],
                "version": typed["versie"],
                **{f"card{n}_{what}": typed[f"kaart{n}_{col}"] for n in CARDS for what, col in _CARD_COLUMNS},
                "norm_set": typed["normset"],
                "percentile": typed["percentiel"],
                "zone": zone,
                "class_id": pupils["class_id"],
                "_row": typed.index.to_numpy(dtype=np.int64),
            },
            index=typed.index,
        )
        return Prepared(rows)
