"""Staff accounts, local sign-in with argon2 hashes, and building the acting `User`.

Sign-in with the school's identity provider (OIDC through `st.login`) matches the
provider's e-mail claim to `staff_user.email` in `identity_sign_in`; local passwords stay
for schools without a provider.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dossier import audit
from dossier.access import ROLES, User, require
from dossier.db import Database
from dossier.schoolyear import current_school_year

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


@functools.cache
def _dummy_hash() -> str:
    # Verifying against a fixed hash when the username is unknown keeps sign-in timing flat.
    # Made on first use: a hash costs ~0.3 s and 64 MiB, which the command line should not pay.
    return _hasher.hash("geen-account-" + secrets.token_hex(8))


# The command line acts on the server, with the file's owner's rights: it is audited as
# this pseudo-account (id 0 never exists in staff_user).
SYSTEM_USER = User(id=0, username="opdrachtregel", name="Opdrachtregel", role="directie")


class AccountError(ValueError):
    """A Dutch message about invalid account input."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def suggest_username(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    parts = [p for p in re.split(r"[^a-z0-9]+", ascii_name.lower()) if p]
    return ".".join(parts) or "gebruiker"


def generate_password() -> str:
    return secrets.token_urlsafe(9)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens lang zijn.")


def _class_ids_for(cur, class_names: list[str], school_year: str) -> list[int]:
    ids = []
    for name in class_names:
        row = cur.execute(
            "SELECT id FROM class WHERE school_year = ? AND lower(name) = lower(?)", [school_year, name]
        ).fetchone()
        if row is None:
            raise AccountError(f"Klas '{name}' bestaat niet in schooljaar {school_year}.")
        ids.append(row[0])
    return ids


def create_user(
    db: Database,
    actor: User,
    *,
    display_name: str,
    role: str,
    password: str,
    username: str | None = None,
    email: str | None = None,
    class_names: list[str] | None = None,
    school_year: str | None = None,
) -> int:
    """Create a staff account; returns its id. Only a beheerder (or the command line) may."""
    if actor is not SYSTEM_USER:
        require(actor, "admin.users")
    display_name = (display_name or "").strip()
    if not display_name:
        raise AccountError("Geef een naam.")
    if role not in ROLES:
        raise AccountError(f"Onbekende rol '{role}'. Kies uit: {', '.join(ROLES)}.")
    username = (username or suggest_username(display_name)).strip().lower()
    if not re.fullmatch(r"[a-z0-9._@-]{2,64}", username):
        raise AccountError("De aanmeldnaam mag enkel kleine letters, cijfers en . _ @ - bevatten.")
    _check_password(password)
    year = school_year or current_school_year()

    def write(cur):
        if cur.execute("SELECT 1 FROM staff_user WHERE username = ?", [username]).fetchone():
            raise AccountError(f"De aanmeldnaam '{username}' bestaat al.")
        class_ids = _class_ids_for(cur, class_names or [], year)
        user_id = cur.execute(
            "INSERT INTO staff_user (username, display_name, email, role, password_hash)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            [username, display_name, (email or "").strip().lower() or None, role, hash_password(password)],
        ).fetchone()[0]
        for class_id in class_ids:
            cur.execute("INSERT INTO class_assignment VALUES (?, ?)", [user_id, class_id])
        audit.record(cur, actor, "account", object=f"staff_user:{user_id}", detail=f"aangemaakt, rol {role}")
        return user_id

    return db.write(write)


def set_password(db: Database, actor: User, user_id: int, password: str) -> None:
    require(actor, "admin.users")
    _check_password(password)

    def write(cur):
        cur.execute("UPDATE staff_user SET password_hash = ? WHERE id = ?", [hash_password(password), user_id])
        audit.record(cur, actor, "account", object=f"staff_user:{user_id}", detail="wachtwoord opnieuw ingesteld")

    db.write(write)


def update_user(
    db: Database,
    actor: User,
    user_id: int,
    *,
    role: str,
    active: bool,
    email: str | None,
    class_ids: list[int],
) -> None:
    """Set role, active flag, e-mail and the class assignments of one school year's classes."""
    require(actor, "admin.users")
    if role not in ROLES:
        raise AccountError(f"Onbekende rol '{role}'.")
    if user_id == actor.id and (role != "beheerder" or not active):
        raise AccountError("Je kan je eigen beheerdersaccount niet afzetten of van rol veranderen.")

    def write(cur):
        cur.execute(
            "UPDATE staff_user SET role = ?, active = ?, email = ? WHERE id = ?",
            [role, active, (email or "").strip().lower() or None, user_id],
        )
        cur.execute("DELETE FROM class_assignment WHERE user_id = ?", [user_id])
        for class_id in sorted(set(class_ids)):
            cur.execute("INSERT INTO class_assignment VALUES (?, ?)", [user_id, class_id])
        audit.record(
            cur,
            actor,
            "account",
            object=f"staff_user:{user_id}",
            detail=f"rol {role}, {'actief' if active else 'gedeactiveerd'}, {len(set(class_ids))} klassen",
        )

    db.write(write)


def list_users(db: Database, actor: User) -> pd.DataFrame:
    require(actor, "admin.users")
    with db.cursor() as cur:
        return cur.execute(
            """
            SELECT u.id, u.username, u.display_name, u.email, u.role, u.active,
                   string_agg(c.name || ' (' || c.school_year || ')', ', ' ORDER BY c.school_year, c.name)
                       AS klassen
            FROM staff_user u
            LEFT JOIN class_assignment a ON a.user_id = u.id
            LEFT JOIN class c ON c.id = a.class_id
            GROUP BY ALL ORDER BY u.role, u.display_name
            """
        ).df()


def assigned_class_ids(db: Database, user_id: int, school_year: str) -> list[int]:
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT a.class_id FROM class_assignment a JOIN class c ON c.id = a.class_id"
            " WHERE a.user_id = ? AND c.school_year = ? ORDER BY a.class_id",
            [user_id, school_year],
        ).fetchall()
    return [r[0] for r in rows]


def assigned_class_ids_all(db: Database, user_id: int) -> list[int]:
    with db.cursor() as cur:
        rows = cur.execute("SELECT class_id FROM class_assignment WHERE user_id = ? ORDER BY class_id", [user_id])
        return [r[0] for r in rows.fetchall()]


def build_user(cur, row, today: date | None) -> User:
    user_id, username, display_name, role = row
    year = current_school_year(today)
    class_ids = cur.execute(
        "SELECT a.class_id FROM class_assignment a JOIN class c ON c.id = a.class_id"
        " WHERE a.user_id = ? AND c.school_year = ?",
        [user_id, year],
    ).fetchall()
    return User(
        id=user_id,
        username=username,
        name=display_name,
        role=role,
        class_ids=frozenset(r[0] for r in class_ids),
    )


def authenticate(db: Database, username: str, password: str, today: date | None = None) -> User | None:
    """Check a local password. Success and failure both go to the audit log."""
    username = (username or "").strip().lower()
    with db.cursor() as cur:
        row = cur.execute(
            "SELECT id, username, display_name, role, password_hash, active FROM staff_user WHERE username = ?",
            [username],
        ).fetchone()
    ok = False
    if row is None or not row[4]:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password or "")
    else:
        try:
            ok = _hasher.verify(row[4], password or "") and bool(row[5])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False

    def write(cur):
        if not ok:
            audit.record(cur, None, "sign-in-failed", user_name=username[:64], detail="lokaal wachtwoord")
            return None
        user = build_user(cur, row[:4], today)
        audit.record(cur, user, "sign-in", detail="lokaal wachtwoord")
        return user

    return db.write(write)


# What the person sees when their school account gives no access; {email} is what the provider sent.
IDENTITY_REFUSALS = {
    "unknown": (
        "Je schoolaccount {email} is niet gekend in het leerlingendossier. Vraag de beheerder om dit "
        "e-mailadres aan je account te koppelen."
    ),
    "inactive": (
        "Je account in het leerlingendossier ({email}) is gedeactiveerd. Vraag de beheerder om het opnieuw "
        "te activeren als je nog toegang nodig hebt."
    ),
    "ambiguous": (
        "Het e-mailadres {email} hoort bij meer dan één account in het leerlingendossier. Vraag de beheerder "
        "om dat recht te zetten."
    ),
    "unverified": (
        "Je schoolaccount meldt het e-mailadres {email} als niet bevestigd, dus het leerlingendossier kan je "
        "niet aanmelden. Vraag de beheerder van je schoolaccount om het na te kijken."
    ),
    "no-email": (
        "Je schoolaccount gaf geen e-mailadres door, dus het leerlingendossier kan je niet herkennen. Vraag de "
        "beheerder om de koppeling na te kijken."
    ),
}
_REFUSAL_AUDIT = {
    "unknown": "onbekend e-mailadres",
    "inactive": "account gedeactiveerd",
    "ambiguous": "e-mailadres bij meerdere accounts",
    "unverified": "e-mailadres niet bevestigd",
    "no-email": "geen e-mailadres",
}


@dataclass(frozen=True)
class IdentitySignIn:
    """The outcome of matching a provider's identity to a staff account: a user, or a refusal reason."""

    email: str
    user: User | None = None
    refusal: str | None = None

    @property
    def message(self) -> str | None:
        if self.refusal is None:
            return None
        return IDENTITY_REFUSALS[self.refusal].format(email=self.email or "(geen)")


def _claim_email(claims: Mapping[str, object]) -> str:
    email = claims.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def _explicitly_unverified(claims: Mapping[str, object]) -> bool:
    # Google sends email_verified; a Microsoft 365 tenant-specific token does not, and there the
    # tenant's own administrators set the address. Only an explicit "no" refuses.
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        return verified.strip().lower() in {"false", "0", "no"}
    return verified is False


def identity_is_fresh(claims: Mapping[str, object], now: float, max_age_seconds: float) -> bool:
    """Whether the provider issued this identity recently enough to open a new app session with it.

    Streamlit keeps the identity in a cookie for 30 days: without this check, reopening the app on a
    shared computer would sign the previous person in again without any click. A token from a provider
    clock slightly ahead of ours is accepted; one without `iat` (required by OIDC) is not trusted.
    """
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, (int, float)):
        return False
    return now - max_age_seconds <= issued <= now + 300


def identity_sign_in(
    db: Database, claims: Mapping[str, object], provider: str | None = None, today: date | None = None
) -> IdentitySignIn:
    """Match the provider's verified e-mail (case-insensitive) to one active staff account; audited either way.

    A refusal is audited as sign-in-failed with the e-mail as name: never pupil data.
    """
    email = _claim_email(claims)
    source = f"schoolaccount ({provider})" if provider and provider != "default" else "schoolaccount"
    refusal = None
    if not email:
        refusal = "no-email"
    elif _explicitly_unverified(claims):
        refusal = "unverified"

    def write(cur):
        nonlocal refusal
        if refusal is None:
            rows = cur.execute(
                "SELECT id, username, display_name, role, active FROM staff_user"
                " WHERE lower(trim(email)) = ? ORDER BY id",
                [email],
            ).fetchall()
            active = [r for r in rows if r[4]]
            if len(active) == 1:
                user = build_user(cur, active[0][:4], today)
                audit.record(cur, user, "sign-in", detail=source)
                return IdentitySignIn(email=email, user=user)
            refusal = "ambiguous" if active else ("inactive" if rows else "unknown")
        audit.record(
            cur, None, "sign-in-failed", user_name=email[:64] or None, detail=f"{source}: {_REFUSAL_AUDIT[refusal]}"
        )
        return IdentitySignIn(email=email, refusal=refusal)

    return db.write(write)


def user_for_email(db: Database, email: str, today: date | None = None) -> User | None:
    """The active staff account with this e-mail, or None; audited either way."""
    return identity_sign_in(db, {"email": email or ""}, today=today).user


def record_sign_out(db: Database, user: User, reason: str) -> None:
    db.write(lambda cur: audit.record(cur, user, "sign-out", detail=reason))
