"""Which pages exist, in which menu section, and which permission opens each.

One table for app.py's navigation and for the tests that walk every role × every page.
The pages check access again themselves, and the core checks it on every call.
"""

from __future__ import annotations

from dataclasses import dataclass

from dossier.access import User, can


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    section: str
    permissions: tuple[str, ...] = ()  # any one of them opens the page; empty: every signed-in user
    default: bool = False

    def allowed(self, user: User) -> bool:
        return not self.permissions or any(can(user, p) for p in self.permissions)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/start.py", "Start", ":material/home:", "Overzicht", default=True),
    PageSpec("pages/leerlingen.py", "Leerlingen", ":material/groups:", "Overzicht", ("pupils.read",)),
    PageSpec("pages/leerling.py", "Leerlingendossier", ":material/folder_open:", "Overzicht", ("dossier.read",)),
    PageSpec("pages/registreren.py", "Registreren", ":material/edit_note:", "Overzicht", ("registrations.team.write",)),
    PageSpec("pages/school.py", "School", ":material/monitoring:", "Dashboards", ("dashboard.school",)),
    PageSpec("pages/klas.py", "Klasdashboard", ":material/school:", "Dashboards", ("dashboard.class",)),
    PageSpec("pages/aandacht.py", "Aandachtslijst", ":material/flag:", "Dashboards", ("dashboard.class",)),
    PageSpec(
        "pages/importeren.py",
        "Importeren",
        ":material/upload_file:",
        "Gegevens en beheer",
        ("roster.import", "results.import"),
    ),
    PageSpec(
        "pages/inzage.py",
        "Inzage en overdracht",
        ":material/family_restroom:",
        "Gegevens en beheer",
        ("export.prepare", "export.approve"),
    ),
    PageSpec("pages/beheer.py", "Beheer", ":material/manage_accounts:", "Gegevens en beheer", ("admin.users",)),
    PageSpec(
        "pages/bewaring.py",
        "Bewaartermijnen",
        ":material/auto_delete:",
        "Gegevens en beheer",
        ("admin.settings", "retention.run"),
    ),
    PageSpec("pages/auditlog.py", "Auditlog", ":material/history:", "Gegevens en beheer", ("audit.read",)),
)


def pages_for(user: User) -> list[PageSpec]:
    return [page for page in PAGES if page.allowed(user)]
