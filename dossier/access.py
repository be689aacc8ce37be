"""Who may read and write what: the role matrix of the domain brief as data.

`POLICY` maps each permission to the scope each role has for it. Every core query and
command calls `scope`/`require` with the acting `User`; queries then restrict rows in SQL
with `pupil_scope_sql`, so a caller can never receive a pupil outside the user's scope,
whatever ids it passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dossier.left import ARCHIVED_SQL

ROLES = ("leerkracht", "zorgteam", "directie", "clb", "beheerder")

ROLE_LABELS = {
    "leerkracht": "Leerkracht",
    "zorgteam": "Zorgteam",
    "directie": "Directie",
    "clb": "CLB",
    "beheerder": "Beheerder (ICT)",
}

# Scopes, from wide to narrow.
ALL = "all"
OWN_CLASSES = "own_classes"
NAMES_ONLY = "names_only"

_STAFF = {"zorgteam": ALL, "directie": ALL}

# permission -> {role: scope}; a role that is absent has no access at all.
POLICY: dict[str, dict[str, str]] = {
    "pupils.read": {"leerkracht": OWN_CLASSES, **_STAFF, "clb": ALL, "beheerder": NAMES_ONLY},
    "dossier.read": {"leerkracht": OWN_CLASSES, **_STAFF, "clb": ALL},
    "registrations.team.read": {"leerkracht": OWN_CLASSES, **_STAFF, "clb": ALL},
    "registrations.team.write": {"leerkracht": OWN_CLASSES, **_STAFF},
    "registrations.zorgteam.read": {**_STAFF, "clb": ALL},
    "registrations.zorgteam.write": {**_STAFF},
    "registrations.directie.read": {"directie": ALL},
    "registrations.directie.write": {"directie": ALL},
    "care.read": {"leerkracht": OWN_CLASSES, **_STAFF, "clb": ALL},
    "care.write": {**_STAFF},
    "results.read": {"leerkracht": OWN_CLASSES, **_STAFF, "clb": ALL},
    "results.import": {**_STAFF},
    "roster.import": {**_STAFF, "beheerder": ALL},
    "dashboard.class": {"leerkracht": OWN_CLASSES, **_STAFF, "clb": ALL},
    "dashboard.school": {**_STAFF},
    "export.prepare": {**_STAFF},
    "export.approve": {"directie": ALL},
    "audit.read": {"directie": ALL, "beheerder": ALL},
    "admin.users": {"beheerder": ALL},
    "admin.settings": {"beheerder": ALL},
    # Retention (dossier/retention.py). A pupil who left is archived: directie-only.
    "archive.read": {"directie": ALL},
    "retention.run": {"directie": ALL, "beheerder": ALL},
    "retention.hold": {"directie": ALL},
}

PERMISSION_LABELS = {
    "pupils.read": "leerlingenlijst, klasgeschiedenis",
    "dossier.read": "leerlingendossier openen",
    "registrations.team.read": "registraties (zichtbaarheid team) lezen",
    "registrations.team.write": "registraties (zichtbaarheid team) schrijven",
    "registrations.zorgteam.read": "registraties (zichtbaarheid zorgteam) lezen",
    "registrations.zorgteam.write": "registraties (zichtbaarheid zorgteam) schrijven",
    "registrations.directie.read": "registraties (zichtbaarheid directie) lezen",
    "registrations.directie.write": "registraties (zichtbaarheid directie) schrijven",
    "care.read": "zorgfasen en maatregelen lezen",
    "care.write": "zorgfasen en maatregelen schrijven",
    "results.read": "LVS-resultaten lezen",
    "results.import": "LVS-resultaten importeren",
    "roster.import": "leerlingenlijst importeren",
    "dashboard.class": "klasdashboard",
    "dashboard.school": "schooldashboard, cohortes",
    "export.prepare": "inzage / overdracht voorbereiden",
    "export.approve": "inzage / overdracht goedkeuren en exporteren",
    "audit.read": "auditlog lezen",
    "admin.users": "gebruikers, rollen, klassen",
    "admin.settings": "instellingen, bewaartermijnen",
    "archive.read": "vertrokken leerlingen (archief) openen",
    "retention.run": "vervallen gegevens bekijken en verwijderen",
    "retention.hold": "juridische blokkering (legal hold) van een leerling",
}

# Permissions whose queries only feed aggregates without names (small groups are hidden).
_AGGREGATES_ONLY = frozenset({"dashboard.school"})

SCOPE_LABELS = {ALL: "alle", OWN_CLASSES: "eigen klassen", NAMES_ONLY: "enkel namen"}


class AccessDenied(PermissionError):
    """The acting user may not do this. The message is Dutch and safe to show."""


@dataclass(frozen=True)
class User:
    """The signed-in staff member, built at sign-in and passed to every core call."""

    id: int
    username: str
    name: str
    role: str
    # Classes assigned for the current school year: a teacher's whole scope.
    class_ids: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def scope(user: User, permission: str) -> str | None:
    """The scope `user` has for `permission`, or None when the role has none."""
    if permission not in POLICY:
        raise KeyError(f"unknown permission {permission!r}")
    return POLICY[permission].get(user.role)


def can(user: User | None, permission: str) -> bool:
    return user is not None and scope(user, permission) is not None


def require(user: User | None, permission: str) -> str:
    """Return the user's scope for `permission`, or raise AccessDenied."""
    if user is None:
        raise AccessDenied("Je bent niet aangemeld.")
    granted = scope(user, permission)
    if granted is None:
        raise AccessDenied(f"Je rol ({user.role_label}) heeft geen toegang tot: {PERMISSION_LABELS[permission]}.")
    return granted


def pupil_scope_sql(user: User, permission: str, pupil_col: str = "p.id") -> tuple[str, list]:
    """SQL condition (and its parameters) limiting `pupil_col` to the user's scope.

    Raises AccessDenied when the role has no access at all. A teacher's scope is the
    pupils enrolled in the classes assigned to them (class ids belong to one school year).
    Pupils who left are archived: only a role with `archive.read` gets them, except in the
    school view's aggregates, where dropping every former pupil would rewrite past years' figures.
    """
    granted = require(user, permission)
    archived = ""
    if permission not in _AGGREGATES_ONLY and not can(user, "archive.read"):
        archived = ARCHIVED_SQL.format(col=pupil_col)
    if granted == OWN_CLASSES:
        if not user.class_ids:
            return "FALSE", []
        marks = ", ".join("?" for _ in user.class_ids)
        own = f"{pupil_col} IN (SELECT pupil_id FROM enrolment WHERE class_id IN ({marks}))"
        return (f"({own} AND {archived})" if archived else own), sorted(user.class_ids)
    return (archived or "TRUE"), []


def class_scope_sql(user: User, permission: str, class_col: str = "c.id") -> tuple[str, list]:
    """SQL condition limiting classes to the user's scope."""
    granted = require(user, permission)
    if granted == OWN_CLASSES:
        if not user.class_ids:
            return "FALSE", []
        marks = ", ".join("?" for _ in user.class_ids)
        return f"{class_col} IN ({marks})", sorted(user.class_ids)
    return "TRUE", []


def matrix_rows() -> list[dict[str, str]]:
    """The policy as a table (one row per permission, one column per role) for docs and UI."""
    rows = []
    for permission, grants in POLICY.items():
        row = {"wat": PERMISSION_LABELS[permission]}
        for role in ROLES:
            row[ROLE_LABELS[role]] = SCOPE_LABELS.get(grants.get(role, ""), "–")
        rows.append(row)
    return rows


def matrix_markdown() -> str:
    """The policy as a Markdown table; the README embeds exactly this (a test keeps them equal)."""
    rows = matrix_rows()
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
    return "\n".join(lines)
