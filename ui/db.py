"""The process-wide DuckDB root connection for the app."""

from __future__ import annotations

import streamlit as st

from dossier.db import Database, DatabaseBusyError, default_path


def _close(database: Database) -> None:
    database.close()


@st.cache_resource(on_release=_close, show_spinner=False)
def _database(path: str) -> Database:
    return Database(path)


def get_db() -> Database:
    """The app's Database; stops the page with a Dutch message when the file is locked."""
    try:
        return _database(str(default_path()))
    except DatabaseBusyError as exc:
        st.error(str(exc))
        st.stop()
