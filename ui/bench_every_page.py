"""Timing full AppTest runs of every page for `make bench` (run as a child process).

    python -m ui.bench_every_page DB_PATH RUNS

Each page of ui/navigation.PAGES runs as the first role (zorgteam, directie, leerkracht, clb,
beheerder) that may open it, with the URL parameters a person would arrive with (a pupil and a
class of the current school year that this user may see). Prints one JSON line:
{"pages": [{"path", "title", "role", "seconds": [...]}, ...]}. One warm-up run per page first,
not counted. Lives in ui/ because it needs Streamlit, which the pipelines package never imports.
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
from dossier.schoolyear import current_school_year
from dossier.users import build_user
from ui.navigation import PAGES

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ROLE_ORDER = ("zorgteam", "directie", "leerkracht", "clb", "beheerder")


def _users_and_params(path: str) -> tuple[dict, dict]:
    """One user per role, and the class and pupil a leerkracht of the group would open."""
    db = Database(path)
    try:
        with db.cursor() as cur:
            users = {}
            for role in ROLE_ORDER:
                row = cur.execute(
                    "SELECT id, username, display_name, role FROM staff_user WHERE role = ? AND active"
                    " ORDER BY (role <> 'leerkracht' OR id IN (SELECT user_id FROM class_assignment)) DESC, id"
                    " LIMIT 1",
                    [role],
                ).fetchone()
                if row:
                    users[role] = build_user(cur, row, None)
            teacher = users.get("leerkracht")
            classes = sorted(teacher.class_ids) if teacher else []
            where = "c.id = ?" if classes else "c.school_year = ?"
            row = cur.execute(
                f"SELECT c.id, min(e.pupil_id) FROM class c JOIN enrolment e ON e.class_id = c.id"
                f" WHERE {where} GROUP BY c.id ORDER BY c.id LIMIT 1",
                [classes[0] if classes else current_school_year()],
            ).fetchone()
    finally:
        db.close()
    return users, {"klas": str(row[0]), "leerling": str(row[1])}


def use_navigation_pages() -> None:
    """As the server does once st.navigation ran (see tests/conftest.py): AppTest runs app.py, not a page."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def timed_run(user, page_path: str, params: dict[str, str]) -> float:
    """One full AppTest run of `page_path` in a fresh session signed in as `user`; seconds."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["signed_in_user"] = user
    at.session_state["last_activity"] = time.monotonic()
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page_path)
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{page_path}: {at.exception[0].message}")
    return elapsed


def main(argv: list[str]) -> int:
    path, runs = argv[0], int(argv[1])
    users, params = _users_and_params(path)
    use_navigation_pages()
    os.environ["DOSSIER_DB"] = path
    report = []
    try:
        for spec in PAGES:
            role = next((r for r in ROLE_ORDER if r in users and spec.allowed(users[r])), None)
            if role is None:
                continue
            # The first run warms Streamlit's own caches and is not counted.
            times = [timed_run(users[role], spec.path, params) for _ in range(runs + 1)][1:]
            report.append({"path": spec.path, "title": spec.title, "role": role, "seconds": times})
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    st.cache_resource.clear()
    print(json.dumps({"pages": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
