"""The pupil roster (`leerlingen`): one row per pupil and school year.

A row creates or updates the school year (1 September - 31 August), the class (name, level,
grade; `parallel` is left to the beheerder: nothing is parsed out of a class name), the pupil
(by pupil number) and the enrolment of that pupil in that year. Optional columns that are
absent from the file leave the stored values alone; present but empty cells clear them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from pipelines import load
from pipelines.formats.base import (
    CODE,
    DATE,
    FORMULA_ERROR,
    INT,
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
from pipelines.report import ERROR, Findings

if TYPE_CHECKING:
    import duckdb

LEVELS = ("kleuter", "lager", "secundair")
GRADE_RANGE = {"kleuter": (1, 3), "lager": (1, 6), "secundair": (1, 7)}
GENDERS = ("M", "V", "X")


def _grade_message(rows: pd.DataFrame) -> list[str]:
    return [
        f"leerjaar {g} past niet bij niveau {lvl}: verwacht {GRADE_RANGE[lvl][0]} tot {GRADE_RANGE[lvl][1]}"
        for g, lvl in zip(rows["leerjaar"], rows["niveau"], strict=True)
    ]


class LeerlingenModel(pa.DataFrameModel):
    leerling_id: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    voornaam: Series[str] = pa.Field(nullable=False, str_length={"max_value": 100})
    naam: Series[str] = pa.Field(nullable=False, str_length={"max_value": 100})
    geboortedatum: Series[pa.DateTime] = pa.Field(nullable=False)
    schooljaar: Series[str] = pa.Field(nullable=False)
    klas: Series[str] = pa.Field(nullable=False, str_length={"max_value": 30})
    niveau: Series[str] = pa.Field(nullable=False, isin=list(LEVELS))
    leerjaar: Series[pd.Int64Dtype] = pa.Field(nullable=False, in_range={"min_value": 1, "max_value": 7})
    geslacht: Series[str] = pa.Field(nullable=True, isin=list(GENDERS))
    instroomdatum: Series[pa.DateTime] = pa.Field(nullable=True)
    vertrekdatum: Series[pa.DateTime] = pa.Field(nullable=True)

    @pa.check("schooljaar", error="ongeldig schooljaar '{value}': verwacht bv. 2024-2025")
    def schooljaar_vorm(cls, s: Series[str]) -> Series[bool]:
        return is_school_year(s)

    @pa.check("leerling_id", error="leerling_id '{value}' mag geen spaties bevatten")
    def leerling_id_vorm(cls, s: Series[str]) -> Series[bool]:
        return no_spaces(s)

    @pa.check("leerling_id", "voornaam", "naam", "klas", error=FORMULA_ERROR)
    def geen_formule(cls, s: Series[str]) -> Series[bool]:
        return no_formula(s)

    @pa.check("geboortedatum", error="geboortedatum '{value}' ligt in de toekomst")
    def geboren(cls, s: Series[pa.DateTime]) -> Series[bool]:
        return s <= pd.Timestamp(date.today())

    @pa.dataframe_check(error="leerjaar past niet bij het niveau")
    def leerjaar_past_bij_niveau(cls, df: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=df.index)
        for level, (low, high) in GRADE_RANGE.items():
            here = (df["niveau"] == level).fillna(False).astype(bool) & df["leerjaar"].notna()
            ok &= ~here | ((df["leerjaar"] >= low) & (df["leerjaar"] <= high)).fillna(True).astype(bool)
        return ok

    @pa.dataframe_check(error="vertrekdatum '{value}' ligt voor de instroomdatum")
    def vertrek_na_instroom(cls, df: pd.DataFrame) -> Series[bool]:
        both = df["instroomdatum"].notna() & df["vertrekdatum"].notna()
        return ~both | (df["vertrekdatum"] >= df["instroomdatum"])

    class Config:
        strict = False
        coerce = False


SCHOOL_YEAR = Target(
    "school_year",
    key=("name",),
    values=("start_date", "end_date"),
    batch_column=None,
    insert_only=True,
    references=(("school_year", "name"),),
)
CLASS = Target(
    "class", key=("school_year", "name"), values=("level", "grade"), batch_column=None, references=(("class_id", "id"),)
)
PUPIL = Target(
    "pupil",
    key=("pupil_number",),
    values=("first_name", "last_name", "birth_date", "gender"),
    batch_column=None,
    references=(("pupil_id", "id"),),
)
ENROLMENT = Target("enrolment", key=("pupil_id", "school_year"), values=("class_id", "entry_date", "leave_date"))


class Leerlingen(ImportFormat):
    name = "leerlingen"
    label = "Leerlingenlijst"
    permission = "roster.import"
    columns = (
        Column("leerling_id", TEXT, required=True),
        Column("voornaam", TEXT, required=True),
        Column("naam", TEXT, required=True),
        Column("geboortedatum", DATE, required=True),
        Column("schooljaar", TEXT, required=True),
        Column("klas", TEXT, required=True),
        Column("niveau", CODE, required=True),
        Column("leerjaar", INT, required=True),
        Column("geslacht", UPPER),
        Column("instroomdatum", DATE),
        Column("vertrekdatum", DATE),
    )
    key = ("leerling_id", "schooljaar")
    model = LeerlingenModel
    frame_rules: ClassVar[dict[str, FrameRule]] = {
        "leerjaar_past_bij_niveau": FrameRule("leerjaar", ("leerjaar", "niveau"), describe=_grade_message),
        "vertrek_na_instroom": FrameRule("vertrekdatum", ("instroomdatum", "vertrekdatum")),
    }
    targets = (SCHOOL_YEAR, CLASS, PUPIL, ENROLMENT)

    # -- rules across rows ------------------------------------------------------------------
    @classmethod
    def prepare(
        cls, cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame, findings: Findings, present: frozenset[str]
    ) -> Prepared:
        typed = typed.assign(klas=_class_spelling(cur, typed))
        report_duplicates(typed, cls.key, findings, "leerling_id", "dezelfde leerling_id en hetzelfde schooljaar")
        _same_class_same_grade(typed, findings)
        _same_pupil_same_person(typed, findings)

        rows = pd.DataFrame(
            {
                "pupil_number": typed["leerling_id"],
                "first_name": typed["voornaam"],
                "last_name": typed["naam"],
                "birth_date": typed["geboortedatum"],
                "gender": typed["geslacht"],
                "school_year": typed["schooljaar"],
                "class_name": typed["klas"],
                "level": typed["niveau"],
                "grade": typed["leerjaar"],
                "entry_date": typed["instroomdatum"],
                "leave_date": typed["vertrekdatum"],
                "_row": typed.index.to_numpy(dtype=np.int64),
            },
            index=typed.index,
        )
        keep = {
            "gender": "geslacht" not in present,
            "entry_date": "instroomdatum" not in present,
            "leave_date": "vertrekdatum" not in present,
        }
        return Prepared(rows, keep=keep)

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def plan(cls, cur: duckdb.DuckDBPyConnection, prepared: Prepared) -> dict[str, int]:
        status = _row_status(cur, prepared)
        counts = dict.fromkeys(load.STATUSES, 0)
        counts.update(status.value_counts().to_dict())
        return counts

    @classmethod
    def write(cls, cur: duckdb.DuckDBPyConnection, prepared: Prepared, batch_id: int) -> dict[str, int]:
        counts = cls.plan(cur, prepared)
        for target, frame_of in (
            (SCHOOL_YEAR, _years),
            (CLASS, _classes),
            (PUPIL, _pupils),
            (ENROLMENT, _enrolments),
        ):
            staged, staged_counts = load.stage(cur, target, frame_of(cur, prepared))
            load.apply(cur, target, staged, batch_id, staged_counts)
            load.drop(cur, staged)
        return counts


# -- cross-row rules ---------------------------------------------------------------------------
def _class_spelling(cur: duckdb.DuckDBPyConnection, typed: pd.DataFrame) -> pd.Series:
    """Class names are matched without regard to case: 'l1a' in the file is the stored 'L1A'.

    Within the file the first spelling wins; a stored class's spelling wins over both.
    """
    names = typed["klas"]
    years = typed["schooljaar"]
    folded = names.str.lower()
    first = names.groupby([years, folded], sort=False).transform("first")
    spelled = names.where(names.isna() | years.isna(), first)
    stored = cur.execute(
        "SELECT school_year, lower(name), name FROM class WHERE school_year IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(years.dropna().unique().tolist())],
    ).fetchall()
    if stored:
        lookup = {(sy, low): name for sy, low, name in stored}
        keys = list(zip(years, folded, strict=True))
        override = pd.Series([lookup.get(k) for k in keys], index=typed.index, dtype=object)
        spelled = spelled.where(override.isna(), override)
    return spelled.astype(names.dtype)


def _same_class_same_grade(typed: pd.DataFrame, findings: Findings) -> None:
    """One class, one level and grade: the second description of a class is an error."""
    usable = typed[["schooljaar", "klas", "niveau", "leerjaar"]].dropna()
    usable = usable[usable["niveau"].isin(LEVELS)]
    if usable.empty:
        return
    group = [usable["schooljaar"], usable["klas"]]
    first_row = pd.Series(usable.index, index=usable.index).groupby(group, sort=False).transform("min")
    first_level = usable["niveau"].groupby(group, sort=False).transform("first")
    first_grade = usable["leerjaar"].groupby(group, sort=False).transform("first")
    differs = (usable["niveau"] != first_level) | (usable["leerjaar"] != first_grade)
    rows = usable.index[differs.to_numpy(dtype=bool)]
    findings.add_rows(
        ERROR,
        rows,
        "klas",
        [
            f"klas {usable.at[r, 'klas']} staat in rij {int(first_row.at[r])} met niveau {first_level.at[r]},"
            f" leerjaar {first_grade.at[r]} en hier met niveau {usable.at[r, 'niveau']},"
            f" leerjaar {usable.at[r, 'leerjaar']}: een klas heeft één niveau en leerjaar"
            for r in rows
        ],
    )


def _same_pupil_same_person(typed: pd.DataFrame, findings: Findings) -> None:
    """A pupil listed in several school years must have the same name, birth date and gender."""
    fields = ["voornaam", "naam", "geboortedatum", "geslacht"]
    usable = typed[typed["leerling_id"].notna()]
    repeated = usable["leerling_id"].duplicated(keep=False)
    usable = usable[repeated.to_numpy(dtype=bool)]
    if usable.empty:
        return
    group = usable["leerling_id"]
    first_row = pd.Series(usable.index, index=usable.index).groupby(group, sort=False).transform("min")
    differs = pd.Series(False, index=usable.index)
    for field in fields:
        first = usable[field].groupby(group, sort=False).transform("first")
        same = (usable[field] == first) | (usable[field].isna() & first.isna())
        differs |= ~same.fillna(False).astype(bool)
    rows = usable.index[differs.to_numpy(dtype=bool)]
    findings.add_rows(
        ERROR,
        rows,
        "leerling_id",
        [
            f"leerling {usable.at[r, 'leerling_id']} staat ook in rij {int(first_row.at[r])}, maar met een andere"
            " voornaam, naam, geboortedatum of geslacht"
            for r in rows
        ],
    )


# -- canonical entities ---------------------------------------------------------------------------
def _years(cur, prepared: Prepared) -> pd.DataFrame:
    names = sorted(prepared.rows["school_year"].dropna().unique().tolist())
    starts = [int(n[:4]) for n in names]
    return pd.DataFrame(
        {
            "name": names,
            "start_date": [date(y, 9, 1) for y in starts],
            "end_date": [date(y + 1, 8, 31) for y in starts],
        }
    )


def _classes(cur, prepared: Prepared) -> pd.DataFrame:
    rows = prepared.rows
    classes = rows.drop_duplicates(["school_year", "class_name"])
    return pd.DataFrame(
        {
            "school_year": classes["school_year"].to_numpy(),
            "name": classes["class_name"].to_numpy(),
            "level": classes["level"].to_numpy(),
            "grade": classes["grade"].to_numpy(),
        }
    )


def _pupils(cur, prepared: Prepared) -> pd.DataFrame:
    pupils = prepared.rows.drop_duplicates("pupil_number")[
        ["pupil_number", "first_name", "last_name", "birth_date", "gender"]
    ]
    if not prepared.extra["keep"]["gender"]:
        return pupils.reset_index(drop=True)
    view = "_roster_pupils"
    cur.register(view, pupils)
    try:
        return cur.execute(
            f"SELECT f.pupil_number, f.first_name, f.last_name, f.birth_date, p.gender"
            f" FROM {view} f LEFT JOIN pupil p ON p.pupil_number = f.pupil_number"
        ).df()
    finally:
        cur.unregister(view)


def _enrolments(cur, prepared: Prepared) -> pd.DataFrame:
    """Enrolments with the current ids of pupil and class (NULL when not created yet)."""
    keep = prepared.extra["keep"]
    view = "_roster_enrolments"
    frame = prepared.rows[["pupil_number", "school_year", "class_name", "entry_date", "leave_date", "_row"]]
    cur.register(view, frame)
    entry = "e.entry_date" if keep["entry_date"] else "CAST(f.entry_date AS DATE)"
    leave = "e.leave_date" if keep["leave_date"] else "CAST(f.leave_date AS DATE)"
    try:
        return cur.execute(
            f"SELECT p.id AS pupil_id, f.school_year, c.id AS class_id, {entry} AS entry_date,"
            f" {leave} AS leave_date, f._row, f.pupil_number"
            f" FROM {view} f LEFT JOIN pupil p ON p.pupil_number = f.pupil_number"
            f" LEFT JOIN class c ON c.school_year = f.school_year AND c.name = f.class_name"
            f" LEFT JOIN enrolment e ON e.pupil_id = p.id AND e.school_year = f.school_year"
        ).df()
    finally:
        cur.unregister(view)


def _row_status(cur, prepared: Prepared) -> pd.Series:
    """inserted / updated / unchanged per file row, from the state before writing.

    A row is new when its enrolment is new, and updated when its enrolment, its pupil or its
    class changes.
    """
    staged = [
        load.stage(cur, CLASS, _classes(cur, prepared))[0],
        load.stage(cur, PUPIL, _pupils(cur, prepared))[0],
        load.stage(cur, ENROLMENT, _enrolments(cur, prepared))[0],
    ]
    view = "_roster_rows"
    cur.register(view, prepared.rows[["_row", "pupil_number", "school_year", "class_name"]])
    try:
        status = cur.execute(
            f"SELECT r._row, CASE WHEN e._status = 'inserted' THEN 'inserted'"
            f" WHEN 'updated' IN (e._status, p._status, c._status) THEN 'updated' ELSE 'unchanged' END"
            f" FROM {view} r JOIN {staged[2]} e ON e._row = r._row"
            f" LEFT JOIN {staged[1]} p ON p.pupil_number = r.pupil_number"
            f" LEFT JOIN {staged[0]} c ON c.school_year = r.school_year AND c.name = r.class_name"
        ).df()
    finally:
        cur.unregister(view)
        for name in staged:
            load.drop(cur, name)
    return status.set_index("_row").iloc[:, 0]
