"""LVS-VCLB results: one row per pupil, domain, school year and test moment (table lvs_result).

Percentile and zone are stored as delivered; a missing zone is derived from the percentile
with the school's band table (dossier.instruments). A zone that contradicts the percentile
is kept but warned about: the test publisher's zone wins, the school should look.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dossier.instruments import LVS_DOMAINS, MOMENTS, ZONES, load_zone_bands, zones_for_percentiles
from pipelines.formats import results
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
from pipelines.formats.parsing import is_school_year
from pipelines.load import Target
from pipelines.report import WARNING, Findings

if TYPE_CHECKING:
    import duckdb


class LvsVclbModel(pa.DataFrameModel):
    schooljaar: Series[str] = pa.Field(nullable=True)
    afnamedatum: Series[pa.DateTime] = pa.Field(nullable=False)
    leerling_id: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    klas: Series[str] = pa.Field(nullable=True, str_length={"max_value": 30})
    leerjaar: Series[pd.Int64Dtype] = pa.Field(nullable=False, in_range={"min_value": 1, "max_value": 7})
    domein: Series[str] = pa.Field(nullable=False, isin=list(LVS_DOMAINS))
    afnamemoment: Series[str] = pa.Field(nullable=False, isin=list(MOMENTS))
    ruwe_score: Series[float] = pa.Field(nullable=True, ge=0)
    max_score: Series[float] = pa.Field(nullable=True, gt=0)
    percentiel: Series[float] = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100})
    zone: Series[str] = pa.Field(nullable=True, isin=list(ZONES))
    opmerking: Series[str] = pa.Field(nullable=True, str_length={"max_value": 2000})

    @pa.check("schooljaar", error="ongeldig schooljaar '{value}': verwacht bv. 2024-2025")
    def schooljaar_vorm(cls, s: Series[str]) -> Series[bool]:
        return is_school_year(s)

    @pa.check("leerling_id", error="leerling_id '{value}' mag geen spaties bevatten")
    def leerling_id_vorm(cls, s: Series[str]) -> Series[bool]:
        return no_spaces(s)

    @pa.check("leerling_id", "klas", "opmerking", error=FORMULA_ERROR)
    def geen_formule(cls, s: Series[str]) -> Series[bool]:
        return no_formula(s)

    @pa.dataframe_check(error="geef een percentiel of een zone (of beide)")
    def percentiel_of_zone(cls, df: pd.DataFrame) -> Series[bool]:
        return df["percentiel"].notna() | df["zone"].notna()

    @pa.dataframe_check(error="ruwe_score '{value}' is groter dan max_score: de ruwe score ligt tussen 0 en max_score")
    def ruwe_score_binnen_max(cls, df: pd.DataFrame) -> Series[bool]:
        both = df["ruwe_score"].notna() & df["max_score"].notna()
        return ~both | (df["ruwe_score"] <= df["max_score"])

    class Config:
        strict = False
        coerce = False


class LvsVclb(ImportFormat):
    name = "lvs-vclb"
    label = "LVS-VCLB (wiskunde, spelling, lezen)"
    permission = "results.import"
    columns = (
        Column("schooljaar", TEXT),
        Column("afnamedatum", DATE, required=True),
        Column("leerling_id", TEXT, required=True),
        Column("klas", TEXT),
        Column("leerjaar", INT, required=True),
        Column("domein", CODE, required=True),
        Column("afnamemoment", CODE, required=True),
        Column("ruwe_score", NUMBER),
        Column("max_score", NUMBER),
        Column("percentiel", NUMBER),
        Column("zone", UPPER),
        Column("opmerking", TEXT),
    )
    key = ("leerling_id", "domein", "schooljaar", "afnamemoment")
    model = LvsVclbModel
    frame_rules: ClassVar[dict[str, FrameRule]] = {
        "percentiel_of_zone": FrameRule("percentiel", ("percentiel", "zone")),
        "ruwe_score_binnen_max": FrameRule("ruwe_score", ("ruwe_score", "max_score")),
    }
    targets = (
        Target(
            "lvs_result",
            key=("pupil_id", "domain", "school_year", "moment"),
            values=(
                "test_date",
                "grade",
                "raw_score",
                "max_score",
                "percentile",
                "zone",
                "zone_derived",
                "remark",
                "class_id",
            ),
        ),
    )

    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        year = results.school_year(typed, findings, "afnamedatum")
        keyed = typed.assign(schooljaar=year)
        report_duplicates(
            keyed, cls.key, findings, "leerling_id", "dezelfde leerling_id, domein, schooljaar en afnamemoment"
        )
        pupils = results.resolve_pupils(cur, typed, year, findings, "afnamedatum")
        results.check_moment(typed, findings, "afnamedatum")

        bands = load_zone_bands(cur)
        from_percentile = zones_for_percentiles(typed["percentiel"], bands)
        given = typed["zone"].where(typed["zone"].isin(ZONES))
        usable = typed["percentiel"].between(0, 100)  # an out-of-range percentile is already an error
        from_percentile = from_percentile.where(usable)
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
        derived = given.isna().to_numpy()
        rows = pd.DataFrame(
            {
                "pupil_id": pupils["pupil_id"],
                "domain": typed["domein"],
                "school_year": year,
                "moment": typed["afnamemoment"],
                "test_date": typed["afnamedatum"],
                "grade": typed["leerjaar"],
                "raw_score": typed["ruwe_score"],
                "max_score": typed["max_score"],
                "percentile": typed["percentiel"],
                "zone": given.where(~derived, from_percentile),
                "zone_derived": derived,
                "remark": typed["opmerking"],
                "class_id": pupils["class_id"],
                "_row": typed.index.to_numpy(dtype=np.int64),
            },
            index=typed.index,
        )
        return Prepared(rows)
