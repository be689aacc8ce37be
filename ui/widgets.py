"""Small reusable widgets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dossier import pupils
from dossier.access import User
from dossier.db import Database
from dossier.schoolyear import current_school_year, format_date


def school_year_select(db: Database, key: str, label: str = "Schooljaar") -> str:
    years = pupils.school_years(db)
    current = current_school_year()
    if current not in years:
        years = [current, *years]
    return st.selectbox(label, years, index=years.index(current), key=key)


def class_select(db: Database, user: User, school_year: str, key: str, allow_all: bool = True) -> int | None:
    classes = pupils.list_classes(db, user, school_year)
    options: list[int | None] = ([None] if allow_all else []) + classes["id"].tolist()
    names = dict(zip(classes["id"], classes["name"], strict=True))
    if not options:
        st.info("Geen klassen in dit schooljaar binnen jouw bereik.")
        return None
    return st.selectbox(
        "Klas",
        options,
        format_func=lambda cid: "Alle klassen" if cid is None else names[cid],
        key=key,
    )


def dutch_dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of `frame` with date columns written dd/mm/jjjj."""
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = out[col].map(lambda d: format_date(d) if pd.notna(d) else "")
    return out


GENDER_LABELS = {"M": "jongen", "V": "meisje", "X": "X"}
