"""`streamlit run app.py` on loopback against a given database, for tests that need their own server
(they write, or they hold the database while something else runs)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.app_server import running_app


@contextmanager
def streamlit_app(db_path: Path, folder: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yields (base URL, server process) once the health endpoint answers; stops the server after."""
    with running_app(db_path, folder / "streamlit.log", timeout=60) as (url, server):
        yield url, server
