"""`python -m pipelines user add`: create a staff account from the command line."""

from __future__ import annotations

import sys

from dossier.schoolyear import current_school_year
from dossier.users import SYSTEM_USER, AccountError, create_user, generate_password
from pipelines.cli import _open


def cli_user_add(args) -> int:
    db = _open(args.db)
    try:
        password = args.password or generate_password()
        classes = [name.strip() for name in (args.classes or "").split(",") if name.strip()]
        try:
            user_id = create_user(
                db,
                SYSTEM_USER,
                display_name=args.name,
                role=args.role,
                password=password,
                username=args.username,
                email=args.email,
                class_names=classes,
            )
        except AccountError as exc:
            print(f"Fout: {exc}", file=sys.stderr)
            return 1
        with db.cursor() as cur:
            username = cur.execute("SELECT username FROM staff_user WHERE id = ?", [user_id]).fetchone()[0]
        print(f"Account aangemaakt: {username} (rol {args.role})")
        if classes:
            print(f"Klassen ({current_school_year()}): {', '.join(classes)}")
        if not args.password:
            print(f"Tijdelijk wachtwoord (wordt maar één keer getoond): {password}")
        return 0
    finally:
        db.close()
