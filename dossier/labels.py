"""The dossier's Dutch vocabulary in one place: codes, labels and the per-type form templates.

Codes are what the database stores (ASCII, stable in CSV files and URLs); labels are what
people read. The SQL CHECK constraints of migration 003 list the same codes, so adding a code
means a migration too. Pages render the registration form from `TEMPLATES`.
"""

from __future__ import annotations

from dataclasses import dataclass

REGISTRATION_TYPES: dict[str, str] = {
    "observatie": "Observatie",
    "oudergesprek": "Oudergesprek",
    "leerlinggesprek": "Leerlinggesprek",
    "mdo": "MDO-bespreking",
    "klassenraad": "Klassenraad",
    "maatregel": "Maatregel",
    "evaluatie": "Evaluatie",
    "zorgfase": "Zorgfase-wijziging",
    "clb_terugkoppeling": "CLB-terugkoppeling",
    "verslag": "Verslag",
    "leefregel": "Leefregel",
    "overige": "Overige",
}

# The four begeleidingsdomeinen of leerlingenbegeleiding.
DOMAINS: dict[str, str] = {
    "leren_en_studeren": "Leren en studeren",
    "onderwijsloopbaan": "Onderwijsloopbaan",
    "psychisch_en_sociaal_functioneren": "Psychisch en sociaal functioneren",
    "preventieve_gezondheidszorg": "Preventieve gezondheidszorg",
}

# Ordered from wide to narrow: who may read a registration.
VISIBILITIES: dict[str, str] = {
    "team": "Team",
    "zorgteam": "Zorgteam",
    "directie": "Directie (vertrouwelijk)",
}

VISIBILITY_HELP: dict[str, str] = {
    "team": "Leerkrachten van de klas, zorgteam, directie en CLB lezen mee.",
    "zorgteam": "Enkel zorgteam, directie en CLB.",
    "directie": "Enkel de directie: vertrouwelijke gezinszaken.",
}

REPORT_KINDS: dict[str, str] = {
    "GC": "Verslag GC (gemeenschappelijk curriculum)",
    "IAC": "Verslag IAC (individueel aangepast curriculum)",
    "OV4": "Verslag OV4",
    "extern_attest": "Extern attest",
}

CARE_PHASES: dict[int, str] = {
    0: "Fase 0 – brede basiszorg",
    1: "Fase 1 – verhoogde zorg",
    2: "Fase 2 – uitbreiding van zorg",
    3: "Fase 3 – individueel aangepast curriculum",
}

STICORDI: dict[str, str] = {
    "stimuleren": "Stimuleren",
    "compenseren": "Compenseren",
    "remedieren": "Remediëren",
    "differentieren": "Differentiëren",
    "dispenseren": "Dispenseren",
}

STICORDI_HELP: dict[str, str] = {
    "stimuleren": "Aanmoedigen en positief bevestigen, bv. complimenten voor inzet, beloningssysteem.",
    "compenseren": "Hulpmiddelen die een beperking opvangen, bv. rekenkaart, voorleessoftware.",
    "remedieren": "Gerichte extra oefening op een tekort, bv. extra leesinstructie in kleine groep.",
    "differentieren": "Aangepaste opdrachten of instructie, bv. minder oefeningen, verlengde instructie.",
    "dispenseren": "Vrijstelling van een onderdeel, bv. geen dictee van ongeziene woorden.",
}

DECISIONS: dict[str, str] = {
    "verderzetten": "Verderzetten",
    "bijsturen": "Bijsturen",
    "stopzetten": "Stopzetten",
}

DUE_KINDS: dict[str, str] = {"maatregel": "Maatregel", "afspraak": "Afspraak"}

# Labels of the form fields, also the keys of FormError messages.
FIELD_LABELS: dict[str, str] = {
    "type": "Soort registratie",
    "fact_date": "Datum van het feit",
    "facts": "Feiten",
    "interpretation": "Interpretatie (optioneel)",
    "agreements": "Afspraken",
    "owner": "Opvolging door",
    "evaluation_date": "Evaluatiedatum",
    "domain": "Domein",
    "visibility": "Zichtbaarheid",
    "transferable": "Mag mee bij overdracht naar een andere school",
    "confidential_third_parties": "Vertrouwelijk ten aanzien van derden (niet in inzage)",
    "report_kind": "Soort verslag",
    "attachment": "PDF van het verslag",
    "follows_up": "Evalueert afspraak",
    "reason": "Reden van intrekking",
    "category": "STICORDI-categorie",
    "description": "Omschrijving",
    "start_date": "Startdatum",
    "end_date": "Einddatum",
    "evaluated_on": "Geëvalueerd op",
    "text": "Evaluatie",
    "decision": "Beslissing",
    "next_evaluation_date": "Volgende evaluatie",
    "phase": "Zorgfase",
    "note": "Motivering",
}

FIELD_HELP: dict[str, str] = {
    "facts": "Concreet gedrag of gebeurtenis, geen labels: 'wiebelt voortdurend op zijn stoel', "
    "niet 'is zenuwachtig'. Geen namen van andere leerlingen.",
    "interpretation": "Wat denk je dat erachter zit? Houd dit apart van de feiten.",
    "agreements": "Wat spreken we af, wie doet wat?",
    "owner": "Wie volgt de afspraak op (bv. juf Sara, zorgcoördinator, ouders)?",
    "evaluation_date": "Wanneer bekijken we of de afspraak werkt? De app herinnert je eraan.",
    "transferable": "Enkel wat de schoolloopbaan van de leerling dient. Verslagen gaan altijd mee, leefregels nooit.",
    "confidential_third_parties": "Informatie van of over derden die ouders bij inzage niet krijgen.",
}

# Fields every registration form shows, in order; a template adds to or drops from these.
BASE_FIELDS: tuple[str, ...] = (
    "fact_date",
    "facts",
    "interpretation",
    "agreements",
    "owner",
    "evaluation_date",
    "domain",
    "visibility",
    "transferable",
    "confidential_third_parties",
)


@dataclass(frozen=True)
class Template:
    """How the form for one registration type looks and what it proposes by default."""

    type: str
    label: str
    questions: tuple[str, ...]  # guiding questions shown above the facts field
    fields: tuple[str, ...]  # form fields in display order
    visibility: str  # default visibility
    transferable: bool  # default for 'mag mee bij overdracht'
    transferable_fixed: bool = False  # the rules decide, the form shows it read-only
    domain: str | None = None  # suggested domain


def _fields(*extra: str, drop: tuple[str, ...] = ()) -> tuple[str, ...]:
    base = [f for f in BASE_FIELDS if f not in drop]
    # Type-specific fields go right after the date, where they frame the rest.
    return (base[0], *extra, *base[1:])


# Defaults chosen as a zorgcoordinator would: what the class teacher needs to act on is
# visible to the team (observations, parent and pupil talks, MDO agreements, measures);
# CLB information and verslagen stay with the zorgteam; school-rule breaches go to directie.
TEMPLATES: dict[str, Template] = {
    t.type: t
    for t in (
        Template(
            "observatie",
            REGISTRATION_TYPES["observatie"],
            (
                "Wat zag of hoorde je precies?",
                "Wanneer en hoe vaak gebeurt het?",
                "In welke situatie (les, speeltijd, groepswerk)?",
            ),
            _fields(),
            "team",
            False,
        ),
        Template(
            "oudergesprek",
            REGISTRATION_TYPES["oudergesprek"],
            (
                "Wie was erbij en wat was de aanleiding?",
                "Wat vertelden de ouders over hun kind?",
                "Wat spraken jullie af, en wanneer bekijken jullie het opnieuw?",
            ),
            _fields(),
            "team",
            False,
        ),
        Template(
            "leerlinggesprek",
            REGISTRATION_TYPES["leerlinggesprek"],
            (
                "Wat vertelde de leerling, in eigen woorden?",
                "Wat heeft de leerling nodig volgens zichzelf?",
                "Wat spraken jullie af?",
            ),
            _fields(),
            "team",
            False,
            domain="psychisch_en_sociaal_functioneren",
        ),
        Template(
            "mdo",
            REGISTRATION_TYPES["mdo"],
            (
                "Welke vraag werd besproken en wie was aanwezig?",
                "Wat zijn de sterktes en de onderwijsbehoeften van de leerling?",
                "Welke afspraken, wie voert ze uit, tegen wanneer?",
            ),
            _fields(),
            "team",
            True,
        ),
        Template(
            "klassenraad",
            REGISTRATION_TYPES["klassenraad"],
            (
                "Welke beslissing nam de klassenraad?",
                "Op basis van welke gegevens?",
                "Wat betekent dit voor volgend schooljaar?",
            ),
            _fields(),
            "team",
            True,
            domain="onderwijsloopbaan",
        ),
        Template(
            "maatregel",
            REGISTRATION_TYPES["maatregel"],
            (
                "Welke onderwijsbehoefte vraagt om deze maatregel?",
                "Wat doen we concreet anders, in welke lessen?",
                "Wanneer evalueren we?",
            ),
            _fields(),
            "team",
            True,
            domain="leren_en_studeren",
        ),
        Template(
            "evaluatie",
            REGISTRATION_TYPES["evaluatie"],
            (
                "Welke afspraak of maatregel evalueer je?",
                "Wat is er veranderd sinds de vorige keer?",
                "Zetten we verder, sturen we bij of stoppen we?",
            ),
            _fields("follows_up"),
            "team",
            True,
        ),
        Template(
            "zorgfase",
            REGISTRATION_TYPES["zorgfase"],
            (
                "Waarom verandert de zorgfase?",
                "Wat is de volgende stap en wie neemt ze?",
            ),
            _fields(drop=("interpretation",)),
            "team",
            True,
        ),
        Template(
            "clb_terugkoppeling",
            REGISTRATION_TYPES["clb_terugkoppeling"],
            (
                "Wie van het CLB gaf welke terugkoppeling, wanneer?",
                "Wat betekent het voor de klaspraktijk?",
                "Wat zijn de volgende stappen?",
            ),
            _fields(),
            "zorgteam",
            False,
        ),
        Template(
            "verslag",
            REGISTRATION_TYPES["verslag"],
            (
                "Welk verslag of attest, door wie uitgereikt en op welke datum?",
                "Welke redelijke aanpassingen of welk curriculum volgen eruit?",
            ),
            _fields("report_kind", "attachment", drop=("interpretation",)),
            "zorgteam",
            True,
            transferable_fixed=True,
            domain="onderwijsloopbaan",
        ),
        Template(
            "leefregel",
            REGISTRATION_TYPES["leefregel"],
            (
                "Welke afspraak of leefregel werd niet nageleefd?",
                "Wat gebeurde er precies, wanneer?",
                "Welke herstel- of tuchtmaatregel volgt?",
            ),
            _fields(),
            "directie",
            False,
            transferable_fixed=True,
            domain="psychisch_en_sociaal_functioneren",
        ),
        Template(
            "overige",
            REGISTRATION_TYPES["overige"],
            ("Wat is er gebeurd of afgesproken?", "Waarom is dit nodig om de leerling goed te begeleiden?"),
            _fields(),
            "team",
            False,
        ),
    )
}

# The rules fix these, whatever the form says: verslagen must go along with a pupil who
# changes school, breaches of school rules never may.
FORCED_TRANSFERABLE: dict[str, bool] = {"verslag": True, "leefregel": False}


def default_visibility(registration_type: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    """The template's visibility if the user may write it, else the closest wider one they may write.

    A teacher opening a leefregel form (default directie) gets 'team', the only one they may use.
    """
    wanted = TEMPLATES[registration_type].visibility if registration_type in TEMPLATES else "team"
    if wanted in allowed:
        return wanted
    order = list(VISIBILITIES)
    narrower_allowed = [v for v in order if v in allowed and order.index(v) <= order.index(wanted)]
    if narrower_allowed:
        return narrower_allowed[-1]
    return next((v for v in order if v in allowed), None)


def phase_label(phase: int | None) -> str:
    return CARE_PHASES.get(0 if phase is None else int(phase), f"Fase {phase}")
