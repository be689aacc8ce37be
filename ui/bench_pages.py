"""Timing full AppTest runs of the pupil page for `make bench` (run as a child process).

    python -m ui.bench_pages DB_PATH USER_ID PUPIL_ID[,PUPIL_ID...]

Prints one JSON line: {"seconds": [...]}, one figure per pupil (a fresh session each; one
extra warm-up run first, not counted). Lives in ui/ because it needs Streamlit, which the
pipelines package never imports.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from dossier.db import Database
from dossier.users import build_user

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _user(path: str, user_id: int):
    db = Database(path)
    try:
        with db.cursor() as cur:
            row = cur.execute(
                "SELECT id, username, display_name, role FROM staff_user WHERE id = ?", [user_id]
            ).fetchone()
            return build_user(cur, row, None)
    finally:
        db.close()


def main(argv: list[str]) -> int:
    path, user_id, ids = argv[0], int(argv[1]), [int(i) for i in argv[2].split(",") if i]
    user = _user(path, user_id)
    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # as the server does once st.navigation ran (see tests/conftest.py)
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    os.environ["DOSSIER_DB"] = path
    times = []
    for i, pupil_id in enumerate([ids[0], *ids]):
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["signed_in_user"] = user
        at.session_state["last_activity"] = time.monotonic()
        at.query_params["leerling"] = str(pupil_id)
        at.switch_page("pages/leerling.py")
        started = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - started
        if at.exception:
            print(at.exception[0].message, file=sys.stderr)
            return 1
        if i > 0:  # the first run warms Streamlit's own caches
            times.append(elapsed)
    st.cache_resource.clear()
    print(json.dumps({"seconds": times}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
