"""A bulk registration in its own process, for tests/test_crash.py to kill halfway.

`python -m tests.crash_bulk DB USERNAME N FACTS` writes one registration for the first N pupils
through registrations.create_bulk (one transaction) and prints a line after every pupil's insert,
so the test knows the transaction is under way and how far it got. The write itself is the
core's, unchanged: the wrapper only reports progress.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta

from dossier import registrations
from dossier.db import Database
from dossier.users import build_user


def main(argv: list[str]) -> int:
    path, username, count, facts = argv[0], argv[1], int(argv[2]), argv[3]
    db = Database(path)
    with db.cursor() as cur:
        row = cur.execute("SELECT id, username, display_name, role FROM staff_user WHERE username = ?", [username])
        user = build_user(cur, row.fetchone(), None)
        pupils = [r[0] for r in cur.execute("SELECT id FROM pupil ORDER BY id LIMIT ?", [count]).fetchall()]

    real = registrations.insert_registration
    done = 0

    def reporting(*args, **kwargs):
        nonlocal done
        registration_id = real(*args, **kwargs)
        done += 1
        print(f"ingevoegd {done}", flush=True)
        return registration_id

    registrations.insert_registration = reporting
    created = registrations.create_bulk(
        db, user, pupils, type="observatie", fact_date=date.today() - timedelta(days=1), facts=facts
    )
    db.close()
    print(f"bewaard {len(created)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
