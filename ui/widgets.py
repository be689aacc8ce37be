"""Small reusable widgets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dossier import pupils
from dossier.access import User
from dossier.db import Database
from dossier.labels import DUE_KINDS
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


def query_int(name: str) -> int | None:
    """An integer query parameter (shareable links such as ?leerling=12), or None."""
    raw = st.query_params.get(name)
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!<>|~$:"})


def plain(text: object) -> str:
    """User-typed text made inert for st.markdown: no links, images, HTML or formatting."""
    return "" if text is None else str(text).translate(_MARKDOWN_SPECIAL).replace("\n", "  \n")


def due_table(due: pd.DataFrame) -> pd.DataFrame:
    """The 'Te evalueren' list with Dutch headers, most overdue first."""
    table = dutch_dates(due, ["evaluation_date"])
    table["kind"] = table["kind"].map(DUE_KINDS).fillna(table["kind"])
    table["status"] = due["days_overdue"].map(
        lambda d: f"{d} dagen te laat" if d > 0 else ("vandaag" if d == 0 else f"over {-d} dagen")
    )
    return table[["pupil_name", "class_name", "kind", "description", "owner", "evaluation_date", "status"]].rename(
        columns={
            "pupil_name": "Leerling",
            "class_name": "Klas",
            "kind": "Soort",
            "description": "Wat",
            "owner": "Opvolging",
            "evaluation_date": "Evaluatiedatum",
            "status": "Status",
        }
    )


MAX_MATCHES = 50


def pupil_search(db: Database, user: User, key: str) -> int | None:
    """Search first, then pick: the pupil in the URL (`?leerling=`) or the one picked now, else None.

    A school group has thousands of pupils, so a selectbox of all of them is unusable; the search
    runs through the core, so it only ever finds pupils within the user's scope.
    """
    year = current_school_year()
    wanted = query_int("leerling")
    term = st.text_input("Zoek een leerling", key=f"{key}_search", placeholder="naam of leerlingnummer")
    found = pupils.list_pupils(db, user, year, search=term or None) if term else None
    if found is None or found.empty:
        if term:
            st.info("Geen leerling gevonden.")
        return wanted
    shown = found.head(MAX_MATCHES)
    options = dict(
        zip(
            shown["id"].astype(int),
            shown["last_name"] + " " + shown["first_name"] + " · " + shown["class_name"],
            strict=True,
        )
    )
    if len(found) > MAX_MATCHES:
        st.caption(
            f"{len(found)} leerlingen gevonden; de eerste {MAX_MATCHES} staan in de lijst. Typ verder om te verfijnen."
        )
    picked = st.selectbox(
        "Leerling",
        list(options),
        index=None,
        format_func=options.get,
        key=f"{key}_pick",
        placeholder="Kies uit de gevonden leerlingen…",
    )
    if picked is not None and picked != wanted:
        st.query_params["leerling"] = str(picked)
        return picked
    return wanted
