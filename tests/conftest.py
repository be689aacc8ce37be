"""Shared fixtures: real DuckDB files in temp folders, never mocks."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from dossier.db import Database
from tests.factories import make_school


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "dossier.duckdb")
    yield database
    database.close()


@pytest.fixture(autouse=True)
def navigation_not_pages_directory(monkeypatch):
    """AppTest resets Streamlit's "uses a pages/ directory" flag before every run, and with our
    top-level pages/ folder it would then run a page file directly (multipage v1) instead of
    app.py. The real server flips the flag once st.navigation has run; do the same here."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A small school in a temp database that the app (AppTest) opens; caches cleared around it."""
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("DOSSIER_DB", str(path))
    database = Database(path)
    school = make_school(database)
    database.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield path, school
    st.cache_data.clear()
    st.cache_resource.clear()
