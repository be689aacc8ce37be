"""Leuven scales (welbevinden, betrokkenheid): one row per pupil, observation date and scale
(table wellbeing_result).

A score is written 1, 1+, 2 ... 4+, 5; it is stored as written and as a number (n+ = n + 0.5)
so charts can average and order observations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dossier.instruments import LEUVEN_SCALES, LEUVEN_SCORES, parse_leuven_score
from pipelines.formats import parsing, results
from pipelines.formats.base import (
    CODE,
    DATE,
    FORMULA_ERROR,
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

SCORE_ERROR = f"ongeldige score '{{value}}': verwacht {one_of(LEUVEN_SCORES)}"


class WelbevindenModel(pa.DataFrameModel):
    schooljaar: Series[str] = pa.Field(nullable=True)
    observatiedatum: Series[pa.DateTime] = pa.Field(nullable=False)
    leerling_id: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    klas: Series[str] = pa.Field(nullable=True, str_length={"max_value": 30})
    schaal: Series[str] = pa.Field(nullable=False, isin=list(LEUVEN_SCALES))
    score: Series[str] = pa.Field(nullable=False)
    context: Series[str] = pa.Field(nullable=True, str_length={"max_value": 200})
    observator: Series[str] = pa.Field(nullable=True, str_length={"max_value": 100})
    opmerking: Series[str] = pa.Field(nullable=True, str_length={"max_value": 2000})

    @pa.check("schooljaar", error="ongeldig schooljaar '{value}': verwacht bv. 2024-2025")
    def schooljaar_vorm(cls, s: Series[str]) -> Series[bool]:
        return parsing.is_school_year(s)

    @pa.check("leerling_id", error="leerling_id '{value}' mag geen spaties bevatten")
    def leerling_id_vorm(cls, s: Series[str]) -> Series[bool]:
        return no_spaces(s)

    @pa.check("leerling_id", "klas", "context", "observator", "opmerking", error=FORMULA_ERROR)
    def geen_formule(cls, s: Series[str]) -> Series[bool]:
        return no_formula(s)

    @pa.check("score", error=SCORE_ERROR)
    def leuvense_score(cls, s: Series[str]) -> Series[bool]:
        return s.isin(LEUVEN_SCORES)

    class Config:
        strict = False
        coerce = False


class Welbevinden(ImportFormat):
    name = "welbevinden"
    label = "Welbevinden en betrokkenheid (Leuvense schalen)"
    permission = "results.import"
    columns = (
        Column("schooljaar", TEXT),
        Column("observatiedatum", DATE, required=True),
        Column("leerling_id", TEXT, required=True),
        Column("klas", TEXT),
        Column("schaal", CODE, required=True),
        Column("score", TEXT, required=True),
        Column("context", TEXT),
        Column("observator", TEXT),
        Column("opmerking", TEXT),
    )
    key = ("leerling_id", "observatiedatum", "schaal")
    model = WelbevindenModel
    targets = (
        Target(
            "wellbeing_result",
            key=("pupil_id", "observed_on", "scale"),
            values=("school_year", "score_text", "score", "context", "observer", "remark", "class_id"),
        ),
    )

    @classmethod
    def parse(cls, raw: pd.DataFrame, findings: Findings) -> pd.DataFrame:
        typed = super().parse(raw, findings)
        # '3 +' is 3+; anything else outside the scale stays as written for the model to report.
        squeezed = typed["score"].str.replace(r"\s+", "", regex=True)
        typed["score"] = squeezed.where(squeezed.isin(LEUVEN_SCORES), typed["score"])
        return typed

    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        year = results.school_year(typed, findings, "observatiedatum")
        report_duplicates(typed, cls.key, findings, "leerling_id", "dezelfde leerling_id, observatiedatum en schaal")
        pupils = results.resolve_pupils(cur, typed, year, findings, "observatiedatum")
        codes, uniques = pd.factorize(typed["score"], use_na_sentinel=True)
        numbers = np.append(np.array([parse_leuven_score(v) for v in uniques], dtype=float), np.nan)[codes]
        rows = pd.DataFrame(
            {
                "pupil_id": pupils["pupil_id"],
                "observed_on": typed["observatiedatum"],
                "scale": typed["schaal"],
                "school_year": year,
                "score_text": typed["score"],
                "score": numbers,
                "context": typed["context"],
                "observer": typed["observator"],
                "remark": typed["opmerking"],
                "class_id": pupils["class_id"],
                "_row": typed.index.to_numpy(dtype=np.int64),
            },
            index=typed.index,
        )
        return Prepared(rows)
