"""A school with one pupil who left, holding data in every table the retention job knows.

The left pupil's data come in through the real core and import paths (roster and result
imports, registrations with a correction and a PDF, care phase, measure with evaluation, audit
rows), so the import history has the shapes real imports give it. Canary words make the bytes
findable in the raw file: "Zebulonius" survives only in the import history (the second roster
import renames the pupil), "Quackenbosch" is the surname, "Xylofoonkwartet" is in the facts and
in the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dossier import care, registrations
from dossier.access import User
from dossier.db import Database
from dossier.schoolyear import bounds
from pipelines.importer import run_import
from tests.factories import School, make_school

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "voorbeelden"
LEFT_NUMBER = "99001"
CANARIES = (b"Zebulonius", b"Quackenbosch", b"Xylofoonkwartet")


@dataclass
class RetentionSchool:
    school: School
    directie: User
    beheerder: User
    left_pupil: int
    left_on: date
    due_on: date  # every pupil class with the default term of 1 school year


def _header(sample: str) -> str:
    return (SAMPLES / sample).read_text("utf-8-sig").splitlines()[0]


def _csv(header: str, *rows: str) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _imported(db: Database, user: User, data: bytes, name: str) -> None:
    report = run_import(db, user, data, name)
    assert report.status == "imported", (name, [e.message for e in report.errors])


def make_retention_school(db: Database) -> RetentionSchool:
    school = make_school(db)
    directie = User(id=school.users["directie"], username="directie", name="Directie", role="directie")
    beheerder = User(id=school.users["beheer"], username="beheer", name="Beheer", role="beheerder")
    prev = school.previous_year
    start, _end = bounds(prev)
    left_on = start + timedelta(days=190)  # mid-March of last school year
    test_day = start + timedelta(days=40)
    roster = (
        "leerling_id,voornaam,naam,geboortedatum,schooljaar,klas,niveau,leerjaar,geslacht,instroomdatum,vertrekdatum"
    )
    _imported(
        db, directie, _csv(roster, f"{LEFT_NUMBER},Zebulonius,Quackenbosch,2018-04-02,{prev},L1A,lager,1,M,,"), "r1.csv"
    )
    _imported(
        db,
        directie,
        _csv(roster, f"{LEFT_NUMBER},Zebulon,Quackenbosch,2018-04-02,{prev},L1A,lager,1,M,,{left_on.isoformat()}"),
        "r2.csv",
    )
    with db.cursor() as cur:
        pupil = cur.execute("SELECT id FROM pupil WHERE pupil_number = ?", [LEFT_NUMBER]).fetchone()[0]

    day = test_day.isoformat()
    lvs = _header("lvs-vclb.csv")
    _imported(db, directie, _csv(lvs, f"{prev},{day},{LEFT_NUMBER},L1A,1,wiskunde,begin,22,50,45,C,"), "lvs1.csv")
    _imported(db, directie, _csv(lvs, f"{prev},{day},{LEFT_NUMBER},L1A,1,wiskunde,begin,12,50,8,E,"), "lvs2.csv")
    avi = _header("avi.csv")
    _imported(db, directie, _csv(avi, f"{prev},{day},{LEFT_NUMBER},L1A,1,begin,M3,61,2,beheersing,M3,juf"), "avi.csv")
    dmt = _header("dmt.csv")
    _imported(
        db, directie, _csv(dmt, f"{prev},{day},{LEFT_NUMBER},L1A,1,begin,A,20,3,15,0,10,4,LVS-taal,40,C"), "dmt.csv"
    )
    idp = _header("idp.csv")
    _imported(db, directie, _csv(idp, f"{prev},{day},{LEFT_NUMBER},L1A,IDP4,wiskunde,meetkunde,10,15,67,77"), "idp.csv")
    wel = _header("welbevinden.csv")
    _imported(db, directie, _csv(wel, f"{prev},{day},{LEFT_NUMBER},L1A,welbevinden,2+,hoekenwerk,juf,"), "wel.csv")

    fact = test_day + timedelta(days=5)
    rid = registrations.create_registration(
        db, directie, pupil, type="verslag", report_kind="OV4", fact_date=fact, facts="Xylofoonkwartet in de klas."
    )
    registrations.correct_registration(db, directie, rid, facts="Xylofoonkwartet in de klas, gecorrigeerd.")
    registrations.attach_pdf(db, directie, rid, "verslag.pdf", b"%PDF-1.7\nZebulonius Quackenbosch Xylofoonkwartet\n")
    care.set_phase(db, directie, pupil, 1, fact, "Verhoogde zorg voor Xylofoonkwartet.")
    measure = care.add_measure(db, directie, pupil, "compenseren", "Wiebelkussen", fact, fact + timedelta(days=30))
    care.evaluate_measure(db, directie, measure, fact + timedelta(days=30), "Helpt.", "stopzetten")

    def extras(cur):
        cur.execute(
            "INSERT INTO signal_dismissal (pupil_id, rule_id, fingerprint, reason, dismissed_by_id, dismissed_by_name)"
            " VALUES (?, 'zone_repeated', 'abc', 'Quackenbosch is ziek geweest', ?, 'Zorg')",
            [pupil, school.users["zorg"]],
        )
        cur.execute(
            "INSERT INTO audit_log (user_name, role, action, pupil_id, object, detail)"
            " VALUES ('zorg', 'zorgteam', 'view', ?, 'dossier', 'dossier geopend')",
            [pupil],
        )

    db.write(extras)
    return RetentionSchool(
        school=school,
        directie=directie,
        beheerder=beheerder,
        left_pupil=pupil,
        left_on=left_on,
        due_on=date(start.year + 2, 8, 31),
    )
