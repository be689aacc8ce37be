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

import streamlit as st

from dossier.db import Database
from dossier.users import build_user
from ui.bench_every_page import timed_run, use_navigation_pages


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
    use_navigation_pages()
    os.environ["DOSSIER_DB"] = path
    try:
        # One extra run first: it warms Streamlit's own caches and is not counted.
        times = [timed_run(user, "pages/leerling.py", {"leerling": str(p)}) for p in [ids[0], *ids]][1:]
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    st.cache_resource.clear()
    print(json.dumps({"seconds": times}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
