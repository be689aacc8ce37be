"""AVI reading cards: one row per pupil, test date and card read (table avi_result).

Schools write levels in many ways ('AVI-M3', 'm3', 'avi start'); both the card and the level
reached are stored in the one spelling of dossier.instruments.AVI_LEVELS, the level reached
also as its rank on the scale, so charts and signals can compare levels as numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dossier.instruments import AVI_CARD_RESULTS, AVI_LEVELS, AVI_RANK, MOMENTS, normalise_avi_level
from pipelines.formats import parsing, results
from pipelines.formats.base import (
    CODE,
    DATE,
    FORMULA_ERROR,
    INT,
    NUMBER,
    TEXT,
    Column,
    ImportFormat,
    Prepared,
    no_formula,
    no_spaces,
    one_of,
    report_duplicates,
)
from pipelines.load import Target
from pipelines.report import Findings

if TYPE_CHECKING:
    import duckdb

LEVEL_ERROR = f"onbekend AVI-niveau '{{value}}': verwacht {one_of(AVI_LEVELS)} (bv. ook AVI-M3 of m3)"


def normalise_levels(series: pd.Series) -> pd.Series:
    """Each cell in the scale's spelling; a cell that is no level stays as written (the model
    then reports it)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if not len(uniques):
        return series
    spelled = [normalise_avi_level(v) or v for v in uniques]
    values = np.append(np.asarray(spelled, dtype=object), None)[codes]
    return pd.Series(values, index=series.index, dtype=parsing.TEXT_DTYPE)


class AviModel(pa.DataFrameModel):
    schooljaar: Series[str] = pa.Field(nullable=True)
    afnamedatum: Series[pa.DateTime] = pa.Field(nullable=False)
    leerling_id: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    klas: Series[str] = pa.Field(nullable=True, str_length={"max_value": 30})
    leerjaar: Series[pd.Int64Dtype] = pa.Field(nullable=False, in_range={"min_value": 1, "max_value": 7})
    afnamemoment: Series[str] = pa.Field(nullable=False, isin=list(MOMENTS))
    avi_kaart: Series[str] = pa.Field(nullable=False)
    leestijd_sec: Series[float] = pa.Field(nullable=True, ge=0)
    fouten: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    kaart_resultaat: Series[str] = pa.Field(nullable=True, isin=list(AVI_CARD_RESULTS))
    avi_niveau_behaald: Series[str] = pa.Field(nullable=False)
    afgenomen_door: Series[str] = pa.Field(nullable=True, str_length={"max_value": 100})

    @pa.check("schooljaar", error="ongeldig schooljaar '{value}': verwacht bv. 2024-2025")
    def schooljaar_vorm(cls, s: Series[str]) -> Series[bool]:
        return parsing.is_school_year(s)

    @pa.check("leerling_id", error="leerling_id '{value}' mag geen spaties bevatten")
    def leerling_id_vorm(cls, s: Series[str]) -> Series[bool]:
        return no_spaces(s)

    @pa.check("leerling_id", "klas", "afgenomen_door", error=FORMULA_ERROR)
    def geen_formule(cls, s: Series[str]) -> Series[bool]:
        return no_formula(s)

    @pa.check("avi_kaart", "avi_niveau_behaald", error=LEVEL_ERROR)
    def avi_niveau(cls, s: Series[str]) -> Series[bool]:
        return s.isin(AVI_LEVELS)

    class Config:
        strict = False
        coerce = False


class Avi(ImportFormat):
    name = "avi"
    label = "AVI (technisch lezen, leeskaarten)"
    permission = "results.import"
    columns = (
        Column("schooljaar", TEXT),
        Column("afnamedatum", DATE, required=True),
        Column("leerling_id", TEXT, required=True),
        Column("klas", TEXT),
        Column("leerjaar", INT, required=True),
        Column("afnamemoment", CODE, required=True),
        Column("avi_kaart", TEXT, required=True),
        Column("leestijd_sec", NUMBER),
        Column("fouten", INT),
        Column("kaart_resultaat", CODE),
        Column("avi_niveau_behaald", TEXT, required=True),
        Column("afgenomen_door", TEXT),
    )
    key = ("leerling_id", "afnamedatum", "avi_kaart")
    model = AviModel
    targets = (
        Target(
            "avi_result",
            key=("pupil_id", "test_date", "card"),
            values=(
                "school_year",
                "grade",
                "moment",
                "reading_time_sec",
                "errors",
                "card_result",
                "level_achieved",
                "level_rank",
                "administered_by",
                "class_id",
            ),
        ),
    )

    @classmethod
    def parse(cls, raw: pd.DataFrame, findings: Findings) -> pd.DataFrame:
        typed = super().parse(raw, findings)
        for column in ("avi_kaart", "avi_niveau_behaald"):
            typed[column] = normalise_levels(typed[column])
        return typed

    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        year = results.school_year(typed, findings, "afnamedatum")
        report_duplicates(typed, cls.key, findings, "leerling_id", "dezelfde leerling_id, afnamedatum en avi_kaart")
        pupils = results.resolve_pupils(cur, typed, year, findings, "afnamedatum")
        results.check_moment(typed, findings, "afnamedatum")
        rank = typed["avi_niveau_behaald"].map(AVI_RANK).astype("Int64")  # unknown levels are already errors
        rows = pd.DataFrame(
            {
                "pupil_id": pupils["pupil_id"],
                "test_date": typed["afnamedatum"],
                "card": typed["avi_kaart"],
                "school_year": year,
                "grade": typed["leerjaar"],
                "moment": typed["afnamemoment"],
                "reading_time_sec": typed["leestijd_sec"],
                "errors": typed["fouten"],
                "card_result": typed["kaart_resultaat"],
                "level_achieved": typed["avi_niveau_behaald"],
                "level_rank": rank,
                "administered_by": typed["afgenomen_door"],
                "class_id": pupils["class_id"],
                "_row": typed.index.to_numpy(dtype=np.int64),
            },
            index=typed.index,
        )
        return Prepared(rows)
