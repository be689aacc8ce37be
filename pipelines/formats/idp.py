"""IDP (interdiocesane proeven): one row per pupil, test, school year, area and part (table idp_result).

`onderdeel` is free text (the parts differ per year and publisher). The percentage is
stored as delivered; when it is missing it is computed from score and maximum, and when it
disagrees with them by more than a point the row is kept with a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
from pandera.typing import Series

from dossier.instruments import IDP_AREAS, IDP_TESTS
from pipelines.formats import parsing, results
from pipelines.formats.base import (
    CODE,
    DATE,
    FORMULA_ERROR,
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

PERCENTAGE_TOLERANCE = 1.0  # delivered percentages are rounded; only a real disagreement warns


def _dutch(x: float) -> str:
    """12,5 / 60 / 66,7 for messages: at most one decimal, decimal comma."""
    return f"{round(float(x), 1):g}".replace(".", ",")


def _percentage_range():
    return pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100})


class IdpModel(pa.DataFrameModel):
    schooljaar: Series[str] = pa.Field(nullable=True)
    afnamedatum: Series[pa.DateTime] = pa.Field(nullable=False)
    leerling_id: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    klas: Series[str] = pa.Field(nullable=True, str_length={"max_value": 30})
    proef: Series[str] = pa.Field(nullable=False, isin=list(IDP_TESTS))
    leergebied: Series[str] = pa.Field(nullable=False, isin=list(IDP_AREAS))
    onderdeel: Series[str] = pa.Field(nullable=False, str_length={"max_value": 100})
    score: Series[float] = pa.Field(nullable=False, ge=0)
    max_score: Series[float] = pa.Field(nullable=False, gt=0)
    percentage: Series[float] = _percentage_range()
    referentiegroep_percentage: Series[float] = _percentage_range()

    @pa.check("schooljaar", error="ongeldig schooljaar '{value}': verwacht bv. 2024-2025")
    def schooljaar_vorm(cls, s: Series[str]) -> Series[bool]:
        return parsing.is_school_year(s)

    @pa.check("leerling_id", error="leerling_id '{value}' mag geen spaties bevatten")
    def leerling_id_vorm(cls, s: Series[str]) -> Series[bool]:
        return no_spaces(s)

    @pa.check("leerling_id", "klas", "onderdeel", error=FORMULA_ERROR)
    def geen_formule(cls, s: Series[str]) -> Series[bool]:
        return no_formula(s)

    @pa.dataframe_check(error="score '{value}' is groter dan max_score: de score ligt tussen 0 en max_score")
    def score_binnen_max(cls, df: pd.DataFrame) -> Series[bool]:
        both = df["score"].notna() & df["max_score"].notna()
        return ~both | (df["score"] <= df["max_score"])

    class Config:
        strict = False
        coerce = False


def _separators_out(series: pd.Series, pattern: str, replacement: str) -> pd.Series:
    values = pa_arrow.array(series, type=pa_arrow.large_string(), from_pandas=True)
    cleaned = pc.replace_substring_regex(values, pattern, replacement)
    return pd.Series(pd.arrays.ArrowStringArray(cleaned), index=series.index).astype(parsing.TEXT_DTYPE)


class Idp(ImportFormat):
    name = "idp"
    label = "IDP (interdiocesane proeven)"
    permission = "results.import"
    columns = (
        Column("schooljaar", TEXT),
        Column("afnamedatum", DATE, required=True),
        Column("leerling_id", TEXT, required=True),
        Column("klas", TEXT),
        Column("proef", UPPER, required=True),
        Column("leergebied", CODE, required=True),
        Column("onderdeel", TEXT, required=True),
        Column("score", NUMBER, required=True),
        Column("max_score", NUMBER, required=True),
        Column("percentage", NUMBER),
        Column("referentiegroep_percentage", NUMBER),
    )
    key = ("leerling_id", "proef", "schooljaar", "leergebied", "onderdeel")
    model = IdpModel
    frame_rules: ClassVar[dict[str, FrameRule]] = {
        "score_binnen_max": FrameRule("score", ("score", "max_score")),
    }
    targets = (
        Target(
            "idp_result",
            key=("pupil_id", "test", "school_year", "area", "part"),
            values=("test_date", "score", "max_score", "percentage", "reference_percentage", "class_id"),
        ),
    )

    @classmethod
    def parse(cls, raw: pd.DataFrame, findings: Findings) -> pd.DataFrame:
        typed = super().parse(raw, findings)
        # 'IDP 4', 'idp-4' and 'Wetenschappen en techniek', 'Mens & maatschappij' are the same codes.
        typed["proef"] = _separators_out(typed["proef"], r"[\s_\-.]+", "")
        typed["leergebied"] = _separators_out(typed["leergebied"], r"_(en|&)_", "_")
        return typed

    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        year = results.school_year(typed, findings, "afnamedatum")
        keyed = typed.assign(schooljaar=year)
        report_duplicates(
            keyed, cls.key, findings, "leerling_id", "dezelfde leerling_id, proef, schooljaar, leergebied en onderdeel"
        )
        pupils = results.resolve_pupils(cur, typed, year, findings, "afnamedatum")
        score, maximum, given = typed["score"], typed["max_score"], typed["percentage"]
        usable = score.between(0, maximum) & (maximum > 0)  # else score or max_score is already an error
        computed = (100 * score / maximum).where(usable)
        off = (given.notna() & given.between(0, 100) & computed.notna()) & (
            (given - computed).abs() > PERCENTAGE_TOLERANCE
        )
        off = off.to_numpy(dtype=bool)
        if off.any():
            rows = typed.index[off]
            findings.add_rows(
                WARNING,
                rows,
                "percentage",
                [
                    f"percentage {{value}} past niet bij score {_dutch(score.at[r])} op {_dutch(maximum.at[r])}:"
                    f" dat is {_dutch(computed.at[r])} %"
                    for r in rows
                ],
            )
        rows = pd.DataFrame(
            {
                "pupil_id": pupils["pupil_id"],
                "test": typed["proef"],
                "school_year": year,
                "area": typed["leergebied"],
                "part": typed["onderdeel"],
                "test_date": typed["afnamedatum"],
                "score": score,
                "max_score": maximum,
                "percentage": given.where(given.notna(), computed.round(1)),
                "reference_percentage": typed["referentiegroep_percentage"],
                "class_id": pupils["class_id"],
                "_row": typed.index.to_numpy(dtype=np.int64),
            },
            index=typed.index,
        )
        return Prepared(rows)
