"""The whole access matrix: every role × every page, and every role × every core command and query.

The expectation is always computed from `dossier.access.POLICY` (through `can`), never written down
a second time: a command lists the permission(s) it stands for, and the test asserts that a role
that has them succeeds and a role that lacks them gets AccessDenied with nothing written.

Pages: an allowed page renders without an exception and without a refusal. A page the role may
not open is not in its navigation at all (AppTest's switch_page refuses it, as the real app shows
its start page for an unknown address), and the page file run directly with that user stops with
a Dutch "geen toegang" message.

Scope: a teacher asking for objects of another class (crafted pupil, registration, measure and
class ids) gets AccessDenied or no rows, and nothing is written.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dossier import audit, backup, care, dashboards, exports, pupil_file, pupils, registrations, results, signals, users
from dossier.access import POLICY, ROLES, AccessDenied, User, can
from dossier.db import Database
from dossier.schoolyear import bounds
from pipelines import importer
from tests.apptest import APP, TIMEOUT
from tests.factories import PASSWORD, School, make_school
from ui.navigation import PAGES

ROLE_USERS = {"leerkracht": "juf.l1a", "zorgteam": "zorg", "directie": "directie", "clb": "clb", "beheerder": "beheer"}
TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)

try:  # written by other engineers at the same time; covered as soon as they exist
    from dossier import retention
except ImportError:  # pragma: no cover
    retention = None
try:
    from dossier import inzage
except ImportError:  # pragma: no cover
    inzage = None
try:
    from dossier import overdracht
except ImportError:  # pragma: no cover
    overdracht = None


# -- the world every command runs in -----------------------------------------------------------


@dataclass
class World:
    db: Database
    school: School
    users: dict[str, User]  # role -> signed-in user
    own_pupil: int  # in L1A: the teacher's class
    other_pupil: int  # in L1B
    own_class: int
    other_class: int
    reg: dict[str, int]  # team_own, team_other, zorgteam, directie
    measure_own: int
    measure_other: int
    batch: int  # a roster import that can be undone
    signal: dict  # pupil_id, rule_id, fingerprint of a signal on the teacher's pupil
    signal_other: dict
    explanation: int | None
    tmp: Path = field(default_factory=Path)

    @property
    def year(self) -> str:
        return self.school.year


def roster_csv(school: School, number: str, klas: str) -> bytes:
    header = (
        "leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar,geslacht,instroomdatum,vertrekdatum"
    )
    return f"{header}\n{number},Mila,Matrix,2019-05-01,{school.year},{klas},lager,1,V,,\n".encode()


def results_csv(school: School, number: str, klas: str) -> bytes:
    start, _ = bounds(school.year)
    taken = min(start + timedelta(days=30), YESTERDAY)
    header = (
        "schooljaar,afnamedatum,leerling_id,klas,leerjaar,domein,afnamemoment,ruwe_score,max_score,percentiel,zone,"
        "opmerking"
    )
    return f"{header}\n{school.year},{taken.isoformat()},{number},{klas},1,wiskunde,begin,3,50,3,E,\n".encode()


def verslag(**overrides) -> dict:
    return observation(type="verslag", report_kind="OV4", visibility="team", facts="Verslag van het MDO.", **overrides)


def observation(**overrides) -> dict:
    fields = {"type": "observatie", "fact_date": YESTERDAY, "facts": "Wiebelt tijdens de instructie."}
    fields.update(overrides)
    return fields


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One school with something of every kind, built once; every test works on its own copy."""
    path = tmp_path_factory.mktemp("matrix") / "template.duckdb"
    db = Database(path)
    school = make_school(db)
    signed = {role: users.authenticate(db, name, PASSWORD) for role, name in ROLE_USERS.items()}
    other_teacher = users.authenticate(db, "meester.l1b", PASSWORD)
    zorg, directie, juf = signed["zorgteam"], signed["directie"], signed["leerkracht"]
    own, other = school.pupils["30004"], school.pupils["30007"]
    reg = {
        "team_own": registrations.create_registration(db, juf, own, **observation()),
        "team_other": registrations.create_registration(db, other_teacher, other, **observation()),
        "zorgteam": registrations.create_registration(db, zorg, own, **observation(visibility="zorgteam")),
        "directie": registrations.create_registration(db, directie, own, **observation(visibility="directie")),
        "verslag_own": registrations.create_registration(db, juf, own, **verslag()),
        "verslag_other": registrations.create_registration(db, other_teacher, other, **verslag()),
    }
    registrations.attach_pdf(db, juf, reg["verslag_own"], "verslag.pdf", b"%PDF-1.7\nmatrix\n")
    registrations.attach_pdf(db, other_teacher, reg["verslag_other"], "verslag.pdf", b"%PDF-1.7\nander\n")
    # Evaluation overdue: the measure_overdue rule gives each of these pupils a signal to dismiss.
    started, evaluate = TODAY - timedelta(days=30), TODAY - timedelta(days=5)
    measure_own = care.add_measure(db, zorg, own, "compenseren", "Rekenkaart", started, evaluate)
    measure_other = care.add_measure(db, zorg, other, "compenseren", "Rekenkaart", started, evaluate)
    care.set_phase(db, zorg, other, 1, YESTERDAY, "Verhoogde zorg.")
    batch = importer.run_import(db, zorg, roster_csv(school, "30010", "L1A"), "leerlingen.csv").batch_id
    for number, klas in (("30004", "L1A"), ("30007", "L1B")):
        importer.run_import(db, zorg, results_csv(school, number, klas), "lvs.csv", format="lvs-vclb")
    found = signals.attention_list(db, zorg)
    pick = {}
    for pid in (own, other):
        row = found[found["pupil_id"] == pid].iloc[0]
        pick[pid] = {"pupil_id": pid, "rule_id": row["rule_id"], "fingerprint": row["fingerprint"]}
    explanation = None
    if inzage is not None:
        explanation = inzage.record_explanation(db, zorg, own, "Juf Zorg", YESTERDAY)
    if overdracht is not None:
        overdracht.record_inspection(db, zorg, own, YESTERDAY)
    ids = {
        "school": school,
        "users": signed,
        "own_pupil": own,
        "other_pupil": other,
        "own_class": school.classes["L1A"],
        "other_class": school.classes["L1B"],
        "reg": reg,
        "measure_own": measure_own,
        "measure_other": measure_other,
        "batch": batch,
        "signal": pick[own],
        "signal_other": pick[other],
        "explanation": explanation,
    }
    db.close()
    return path, ids


@pytest.fixture
def world(template, tmp_path):
    path, ids = template
    copy = tmp_path / "matrix.duckdb"
    shutil.copyfile(path, copy)
    db = Database(copy)
    yield World(db=db, tmp=tmp_path, **ids)
    db.close()


def snapshot(db: Database) -> dict[str, int]:
    with db.cursor() as cur:
        tables = [
            r[0]
            for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal"
            ).fetchall()
        ]
        counts = {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        # Changes in place (a setting, a rule, an account) do not change a count: hash those tables.
        for t in ("setting", "staff_user", "class_assignment", "import_batch", "signal_rule", "retention_rule"):
            if t in tables:
                counts[f"{t}#"] = cur.execute(f'SELECT hash(list(t ORDER BY t::VARCHAR)) FROM "{t}" t').fetchone()[0]
    return counts


# -- the commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str
    call: Callable[[World, User], object]
    needs: tuple[str, ...] = ()  # all of these permissions; empty: every signed-in user
    any_of: bool = False  # one of `needs` is enough
    outside: Callable[[World, User], object] | None = None  # the same with ids outside a teacher's classes
    # What the outside call may raise instead of AccessDenied: the module's own "not found", the same
    # answer a pupil number that does not exist gets.
    not_found: tuple[type[Exception], ...] = ()

    def allowed(self, user: User) -> bool:
        if not self.needs:
            return True
        granted = [can(user, p) for p in self.needs]
        return any(granted) if self.any_of else all(granted)


def C(name, call, *needs, any_of=False, outside=None, not_found=()) -> Command:
    return Command(name, call, tuple(needs), any_of, outside, not_found)


def _pdf(w: World) -> bytes:
    return b"%PDF-1.7\nnieuw\n"


COMMANDS: list[Command] = [
    # pupils
    C("pupils.list_classes", lambda w, u: pupils.list_classes(w.db, u, w.year), "pupils.read"),
    C(
        "pupils.list_pupils",
        lambda w, u: pupils.list_pupils(w.db, u, w.year, class_id=w.own_class),
        "pupils.read",
        outside=lambda w, u: pupils.list_pupils(w.db, u, w.year, class_id=w.other_class),
    ),
    C(
        "pupils.get_pupil",
        lambda w, u: pupils.get_pupil(w.db, u, w.own_pupil),
        "pupils.read",
        outside=lambda w, u: pupils.get_pupil(w.db, u, w.other_pupil),
    ),
    C(
        "pupils.class_history",
        lambda w, u: pupils.class_history(w.db, u, w.own_pupil),
        "pupils.read",
        outside=lambda w, u: pupils.class_history(w.db, u, w.other_pupil),
    ),
    C("pupils.school_counts", lambda w, u: pupils.school_counts(w.db, u, w.year), "pupils.read"),
    # registrations
    C(
        "registrations.create_registration(team)",
        lambda w, u: registrations.create_registration(w.db, u, w.own_pupil, **observation()),
        "registrations.team.write",
        outside=lambda w, u: registrations.create_registration(w.db, u, w.other_pupil, **observation()),
    ),
    C(
        "registrations.create_registration(zorgteam)",
        lambda w, u: registrations.create_registration(w.db, u, w.own_pupil, **observation(visibility="zorgteam")),
        "registrations.zorgteam.write",
    ),
    C(
        "registrations.create_registration(directie)",
        lambda w, u: registrations.create_registration(w.db, u, w.own_pupil, **observation(visibility="directie")),
        "registrations.directie.write",
    ),
    C(
        "registrations.create_bulk",
        lambda w, u: registrations.create_bulk(w.db, u, [w.own_pupil], **observation()),
        "registrations.team.write",
        outside=lambda w, u: registrations.create_bulk(w.db, u, [w.own_pupil, w.other_pupil], **observation()),
    ),
    C(
        "registrations.correct_registration",
        lambda w, u: registrations.correct_registration(w.db, u, w.reg["team_own"], facts="Gecorrigeerd feit."),
        "registrations.team.write",
        outside=lambda w, u: registrations.correct_registration(w.db, u, w.reg["team_other"], facts="Overschreven."),
    ),
    C(
        "registrations.withdraw_registration",
        lambda w, u: registrations.withdraw_registration(w.db, u, w.reg["team_own"], "Dubbel ingevoerd."),
        "registrations.team.write",
        outside=lambda w, u: registrations.withdraw_registration(w.db, u, w.reg["team_other"], "Weg ermee."),
    ),
    C(
        "registrations.attach_pdf",
        lambda w, u: registrations.attach_pdf(w.db, u, w.reg["verslag_own"], "nieuw.pdf", _pdf(w)),
        "registrations.team.write",
        outside=lambda w, u: registrations.attach_pdf(w.db, u, w.reg["verslag_other"], "nieuw.pdf", _pdf(w)),
    ),
    C(
        "registrations.list_registrations",
        lambda w, u: registrations.list_registrations(w.db, u, w.own_pupil),
        "dossier.read",
        "registrations.team.read",
        outside=lambda w, u: registrations.list_registrations(w.db, u, w.other_pupil),
    ),
    C(
        "registrations.registration_history(team)",
        lambda w, u: registrations.registration_history(w.db, u, w.reg["team_own"]),
        "registrations.team.read",
        outside=lambda w, u: registrations.registration_history(w.db, u, w.reg["team_other"]),
    ),
    C(
        "registrations.registration_history(zorgteam)",
        lambda w, u: registrations.registration_history(w.db, u, w.reg["zorgteam"]),
        "registrations.zorgteam.read",
    ),
    C(
        "registrations.registration_history(directie)",
        lambda w, u: registrations.registration_history(w.db, u, w.reg["directie"]),
        "registrations.directie.read",
    ),
    C(
        "registrations.get_attachment",
        lambda w, u: registrations.get_attachment(w.db, u, w.reg["verslag_own"]),
        "registrations.team.read",
        outside=lambda w, u: registrations.get_attachment(w.db, u, w.reg["verslag_other"]),
    ),
    # care
    C(
        "care.current_phase",
        lambda w, u: care.current_phase(w.db, u, w.own_pupil),
        "care.read",
        outside=lambda w, u: care.current_phase(w.db, u, w.other_pupil),
    ),
    C(
        "care.phase_history",
        lambda w, u: care.phase_history(w.db, u, w.own_pupil),
        "care.read",
        outside=lambda w, u: care.phase_history(w.db, u, w.other_pupil),
    ),
    C(
        "care.list_measures",
        lambda w, u: care.list_measures(w.db, u, w.own_pupil),
        "care.read",
        outside=lambda w, u: care.list_measures(w.db, u, w.other_pupil),
    ),
    C(
        "care.due_evaluations",
        lambda w, u: care.due_evaluations(w.db, u, within_days=60),
        "care.read",
    ),
    C(
        "care.set_phase",
        lambda w, u: care.set_phase(w.db, u, w.own_pupil, 1, TODAY, "Start verhoogde zorg."),
        "care.write",
        outside=lambda w, u: care.set_phase(w.db, u, w.other_pupil, 2, TODAY, "Fase 2."),
    ),
    C(
        "care.add_measure",
        lambda w, u: care.add_measure(
            w.db, u, w.own_pupil, "stimuleren", "Beloningskaart", TODAY, TODAY + timedelta(14)
        ),
        "care.write",
        outside=lambda w, u: care.add_measure(
            w.db, u, w.other_pupil, "stimuleren", "Beloningskaart", TODAY, TODAY + timedelta(14)
        ),
    ),
    C(
        "care.evaluate_measure",
        lambda w, u: care.evaluate_measure(
            w.db, u, w.measure_own, TODAY, "Helpt.", "verderzetten", TODAY + timedelta(30)
        ),
        "care.write",
        outside=lambda w, u: care.evaluate_measure(
            w.db, u, w.measure_other, TODAY, "Helpt.", "verderzetten", TODAY + timedelta(30)
        ),
    ),
    # results and the pupil file
    C(
        "results.pupil_results",
        lambda w, u: results.pupil_results(w.db, u, w.own_pupil),
        "results.read",
        outside=lambda w, u: results.pupil_results(w.db, u, w.other_pupil),
    ),
    C(
        "pupil_file.open_pupil_file",
        lambda w, u: pupil_file.open_pupil_file(w.db, u, w.own_pupil),
        "dossier.read",
        outside=lambda w, u: pupil_file.open_pupil_file(w.db, u, w.other_pupil),
    ),
    # class dashboards
    *[
        C(
            f"dashboards.{name}",
            (lambda fn: lambda w, u: fn(w.db, u, w.own_class))(getattr(dashboards, name)),
            "dashboard.class",
            outside=(lambda fn: lambda w, u: fn(w.db, u, w.other_class))(getattr(dashboards, name)),
        )
        for name in (
            "class_info",
            "class_overview",
            "zone_distribution",
            "avi_vs_expected",
            "dmt_cards",
            "wellbeing",
            "read_class",
        )
    ],
    C(
        "dashboards.growth",
        lambda w, u: dashboards.growth(w.db, u, w.own_class, "begin", "midden"),
        "dashboard.class",
        outside=lambda w, u: dashboards.growth(w.db, u, w.other_class, "begin", "midden"),
    ),
    C(
        "dashboards.growth_distribution",
        lambda w, u: dashboards.growth_distribution(w.db, u, w.own_class, "begin", "midden"),
        "dashboard.class",
        outside=lambda w, u: dashboards.growth_distribution(w.db, u, w.other_class, "begin", "midden"),
    ),
    C(
        "dashboards.care_overview",
        lambda w, u: dashboards.care_overview(w.db, u, w.own_class),
        "dashboard.class",
        "care.read",
        outside=lambda w, u: dashboards.care_overview(w.db, u, w.other_class),
    ),
    C(
        "dashboards.record_view(class)",
        lambda w, u: dashboards.record_view(w.db, u, "class", w.own_class),
        "dashboard.class",
        outside=lambda w, u: dashboards.record_view(w.db, u, "class", w.other_class),
    ),
    # school dashboards
    C("dashboards.school_trends", lambda w, u: dashboards.school_trends(w.db, u), "dashboard.school"),
    C("dashboards.cohorts", lambda w, u: dashboards.cohorts(w.db, u, "wiskunde"), "dashboard.school"),
    C(
        "dashboards.compare_classes",
        lambda w, u: dashboards.compare_classes(w.db, u, w.year, "wiskunde", "begin"),
        "dashboard.school",
    ),
    C("dashboards.class_changes", lambda w, u: dashboards.class_changes(w.db, u, w.year, "begin"), "dashboard.school"),
    C("dashboards.care_phase_counts", lambda w, u: dashboards.care_phase_counts(w.db, u, w.year), "dashboard.school"),
    C("dashboards.record_view(school)", lambda w, u: dashboards.record_view(w.db, u, "school"), "dashboard.school"),
    # signals
    C("signals.list_rules", lambda w, u: signals.list_rules(w.db, u), "dashboard.class"),
    C(
        "signals.attention_list",
        lambda w, u: signals.attention_list(w.db, u, w.own_class),
        "dashboard.class",
        outside=lambda w, u: signals.attention_list(w.db, u, w.other_class),
    ),
    C(
        "signals.set_rule",
        lambda w, u: signals.set_rule(w.db, u, w.signal["rule_id"], False),
        "care.write",
    ),
    C(
        "signals.dismiss_signal",
        lambda w, u: signals.dismiss_signal(w.db, u, **w.signal, reason="Besproken op het MDO."),
        "dashboard.class",
        "care.write",
        outside=lambda w, u: signals.dismiss_signal(w.db, u, **w.signal_other, reason="Besproken."),
    ),
    # exports: the download itself is built from the queries above; this logs it, for who may see it
    C(
        "exports.record_export",
        lambda w, u: exports.record_export(w.db, u, "klasoverzicht", "test"),
        "dashboard.class",
    ),
    C(
        "exports.record_export school",
        lambda w, u: exports.record_export(w.db, u, "schoolbeeld", "test"),
        "dashboard.school",
    ),
    # accounts
    C("users.list_users", lambda w, u: users.list_users(w.db, u), "admin.users"),
    C(
        "users.create_user",
        lambda w, u: users.create_user(
            w.db, u, display_name="Nieuwe Collega", role="clb", password="lang-genoeg-1", username="nieuw.collega"
        ),
        "admin.users",
    ),
    C(
        "users.update_user",
        lambda w, u: users.update_user(
            w.db, u, w.school.users["clb"], role="clb", active=False, email=None, class_ids=[]
        ),
        "admin.users",
    ),
    C(
        "users.set_password",
        lambda w, u: users.set_password(w.db, u, w.school.users["clb"], "een-nieuw-wachtwoord"),
        "admin.users",
    ),
    # imports
    C(
        "importer.run_import(leerlingen)",
        lambda w, u: importer.run_import(w.db, u, roster_csv(w.school, "30011", "L1A"), "leerlingen.csv"),
        "roster.import",
    ),
    C(
        "importer.run_import(lvs-vclb)",
        lambda w, u: importer.run_import(w.db, u, results_csv(w.school, "30005", "L1A"), "lvs.csv", format="lvs-vclb"),
        "results.import",
    ),
    C(
        "importer.list_batches",
        lambda w, u: importer.list_batches(w.db, u),
        "roster.import",
        "results.import",
        any_of=True,
    ),
    C("importer.undo_batch", lambda w, u: importer.undo_batch(w.db, u, w.batch), "roster.import"),
    # audit log and backup
    C("audit.query_audit", lambda w, u: audit.query_audit(w.db, u), "audit.read"),
    C("audit.export_audit", lambda w, u: audit.export_audit(w.db, u), "audit.read"),
    C("audit.audit_users", lambda w, u: audit.audit_users(w.db, u), "audit.read"),
    C("audit.audit_pupils", lambda w, u: audit.audit_pupils(w.db, u), "audit.read"),
    C("backup.make_backup", lambda w, u: backup.make_backup(w.db, u, w.tmp / "backups"), "admin.settings"),
]

if retention is not None:
    COMMANDS += [
        C(
            "retention.set_rule",
            lambda w, u: retention.set_rule(w.db, u, retention.rules(w.db)["data_class"].iloc[0], 7),
            "admin.settings",
        ),
        C(
            "retention.set_legal_hold",
            lambda w, u: retention.set_legal_hold(w.db, u, w.own_pupil, "Lopende procedure."),
            "retention.hold",
        ),
        C("retention.legal_holds", lambda w, u: retention.legal_holds(w.db, u), "retention.hold"),
        C("retention.archive", lambda w, u: retention.archive(w.db, u), "retention.run"),
        C("retention.due", lambda w, u: retention.due(w.db, u), "retention.run"),
        C("retention.run(dry_run)", lambda w, u: retention.run(w.db, u, dry_run=True), "retention.run"),
        C("retention.run", lambda w, u: retention.run(w.db, u), "retention.run"),
        C("retention.runs", lambda w, u: retention.runs(w.db, u), "retention.run"),
    ]

if inzage is not None:
    COMMANDS += [
        C(
            "inzage.resolve_pupil",
            lambda w, u: inzage.resolve_pupil(w.db, u, "30004"),
            "pupils.read",
            outside=lambda w, u: inzage.resolve_pupil(w.db, u, "30007"),
            not_found=(inzage.DisclosureError,),
        ),
        C(
            "inzage.prepare_inzage",
            lambda w, u: inzage.prepare_inzage(w.db, u, w.own_pupil),
            "export.prepare",
        ),
        C(
            "inzage.record_explanation",
            lambda w, u: inzage.record_explanation(w.db, u, w.own_pupil, "Meester Uitleg", YESTERDAY),
            "export.prepare",
        ),
        C("inzage.list_explanations", lambda w, u: inzage.list_explanations(w.db, u, w.own_pupil), "export.prepare"),
        C(
            "inzage.export_inzage",
            lambda w, u: inzage.export_inzage(w.db, u, w.own_pupil, explanation_id=w.explanation),
            "export.approve",
        ),
    ]

if overdracht is not None:
    COMMANDS += [
        C("overdracht.current_record", lambda w, u: overdracht.current_record(w.db, u, w.own_pupil), "export.prepare"),
        C("overdracht.list_records", lambda w, u: overdracht.list_records(w.db, u, w.own_pupil), "export.prepare"),
        C(
            "overdracht.record_objection",
            lambda w, u: overdracht.record_objection(w.db, u, w.own_pupil, "De ouders maken bezwaar.", YESTERDAY),
            "export.prepare",
        ),
        C(
            "overdracht.record_inspection",
            lambda w, u: overdracht.record_inspection(w.db, u, w.other_pupil, YESTERDAY),
            "export.prepare",
        ),
        C(
            "overdracht.prepare_overdracht",
            lambda w, u: overdracht.prepare_overdracht(w.db, u, w.own_pupil),
            "export.prepare",
        ),
        C(
            "overdracht.export_overdracht",
            lambda w, u: overdracht.export_overdracht(w.db, u, w.own_pupil, today=TODAY + timedelta(days=90)),
            "export.approve",
        ),
        C(
            "overdracht.set_objection_window_days",
            lambda w, u: overdracht.set_objection_window_days(w.db, u, 15),
            "admin.settings",
            "export.approve",
            any_of=True,
        ),
    ]


def test_every_permission_is_exercised_by_some_command():
    """A permission that no command stands for would leave a hole in the matrix."""
    used = {p for c in COMMANDS for p in c.needs}
    page_only = {p for page in PAGES for p in page.permissions}
    assert set(POLICY) - used - page_only <= {"archive.read"}, set(POLICY) - used - page_only


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_command_as_role_follows_policy(world, role, command):
    user = world.users[role]
    if command.allowed(user):
        command.call(world, user)  # any exception, AccessDenied included, fails the test
    else:
        before = snapshot(world.db)
        with pytest.raises(AccessDenied) as refused:
            command.call(world, user)
        assert str(refused.value), "AccessDenied needs a Dutch message"
        assert snapshot(world.db) == before, "a refused call wrote something"


def is_empty(result: object) -> bool:
    if result is None:
        return True
    if isinstance(result, pd.DataFrame):
        return result.empty
    if isinstance(result, (dict, list, tuple)):
        return all(is_empty(v) for v in result.values()) if isinstance(result, dict) else not result
    return False


OUTSIDE = [c for c in COMMANDS if c.outside is not None]


@pytest.mark.parametrize("command", OUTSIDE, ids=lambda c: c.name)
def test_teacher_gets_nothing_of_another_class_by_crafted_ids(world, command):
    teacher = world.users["leerkracht"]
    assert world.own_class in teacher.class_ids and world.other_class not in teacher.class_ids
    before = snapshot(world.db)
    last_audit = max_audit_id(world.db)
    try:
        result = command.outside(world, teacher)
    except AccessDenied as exc:
        assert str(exc)
    except command.not_found as exc:
        assert "Geen leerling gevonden" in str(exc)
    else:
        assert is_empty(result), f"{command.name} returned data of another class: {result!r}"
    after = snapshot(world.db)
    # A read may log that it was asked (with an empty answer), but nothing else changes ...
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}
    # ... and the log never says the teacher saw or changed the other pupil.
    with world.db.cursor() as cur:
        logged = cur.execute(
            "SELECT action, object FROM audit_log WHERE id > ? AND pupil_id = ?", [last_audit, world.other_pupil]
        ).fetchall()
    assert logged == []


def max_audit_id(db: Database) -> int:
    with db.cursor() as cur:
        return cur.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]


# -- pages --------------------------------------------------------------------------------------


def _user_for(db_path: Path, role: str) -> User:
    """The user as sign-in builds it (users.build_user), without paying for a password hash per case."""
    db = Database(db_path)
    try:
        with db.cursor() as cur:
            row = cur.execute(
                "SELECT id, username, display_name, role FROM staff_user WHERE username = ?", [ROLE_USERS[role]]
            ).fetchone()
            return users.build_user(cur, row, None)
    finally:
        db.close()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.path)
@pytest.mark.parametrize("role", ROLES)
def test_page_as_role_follows_policy(app_db, role, page):
    path, _ = app_db
    user = _user_for(path, role)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["signed_in_user"] = user
    at.run()
    assert not at.exception, at.exception
    if page.allowed(user):
        at.switch_page(page.path).run()
        assert not at.exception, (page.path, at.exception)
        assert not [e.value for e in at.error if "geen toegang" in e.value]
        assert at.title, f"{page.path} rendered no title"
    else:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page.path)
        direct = AppTest.from_file(str(Path(APP).parent / page.path), default_timeout=TIMEOUT)
        direct.session_state["signed_in_user"] = user
        direct.run()
        assert not direct.exception, direct.exception
        assert any("geen toegang" in e.value for e in direct.error), [e.value for e in direct.error]
        assert not direct.title, "the page went on after refusing"
