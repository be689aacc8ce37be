"""Shared fixtures: real DuckDB files in temp folders, never mocks."""

from __future__ import annotations

import pytest

from dossier.db import Database


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "dossier.duckdb")
    yield database
    database.close()
