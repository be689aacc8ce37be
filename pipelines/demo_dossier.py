"""Dossier content for the demo school: registrations, care phases, STICORDI measures, evaluations.

Everything follows from the roster and the LVS results generated before it:

- A pupil with most LVS-VCLB domains in zone E at a test moment is discussed at the MDO after it.
  A second such moment starts verhoogde zorg (fase 1) with measures; staying in zone E despite
  them leads to fase 2 with a CLB trajectory (and often a GC-verslag), the most persistent few to
  fase 3 with an IAC-verslag; two clean test moments in a row end the extra care (back to fase 0).
  Every phase change has its zorgfase registration, as `dossier.care.set_phase` writes it.
- Measures are evaluated every six to nine weeks; recent evaluations are sometimes still
  outstanding, so the "te evalueren" list has overdue and upcoming items.
- Around that, teachers (for their own class), the zorgcoördinator and the directie write the
  everyday registrations; klassenraad decisions follow the repeaters in the roster, arrivals
  and mid-year leavers get a note. Agreements get a follow-up evaluatie once they are due.

The volume scales linearly: about `registrations_per_pupil_year` logical registrations per pupil
per school year (a running year counts for the part already done). Texts come from pools of
short, concrete Dutch sentences with small variations: facts first, interpretation apart,
agreements with an owner and an evaluation date, no names of other pupils, no diagnoses.

`plan_dossier` is pure and deterministic per seed (numpy, vectorised except for the few care
pupils); `write_dossier` inserts the plan inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from dossier import labels
from dossier.schoolyear import format_date

if TYPE_CHECKING:
    from pipelines.demo import Roster

DEFAULT_REGISTRATIONS_PER_PUPIL_YEAR = 2.5
MAX_REGISTRATIONS_PER_PUPIL_YEAR = 50.0

# Care decisions (shares of the pupils who reach each point).
PHASE2_SHARE = 0.5  # still in zone E after fase-1 measures: referred to the CLB
PHASE0_SHARE = 0.7  # two clean test moments in fase 1: extra care ends
PHASE3_SHARE = 0.1  # of the fase-2 pupils, with at least one whenever someone qualifies
PHASE2_MIN_DAYS = 120
PHASE3_MIN_DAYS = 180
GC_REPORT_SHARE = 0.6
CLB_AT_START_SHARE = 0.25
PARENT_TALK_AT_START_SHARE = 0.9
# Measure evaluations: how often a due evaluation is still outstanding, by how recent it is.
RECENT_DAYS = 21
RECENT_OUTSTANDING_SHARE = 0.5
# Agreements: follow-up once due, always for old ones, half of the recent ones.
FOLLOW_UP_AFTER_DAYS = 30
RECENT_FOLLOW_UP_SHARE = 0.5
CORRECTED_SHARE = 0.03
WITHDRAWN_SHARE = 0.0008
WEAK_PERCENTILE = 20  # klassenraad attention: mean LVS percentile of the year below this

# MDO rounds after each LVS moment, and the end-of-year klassenraad: (years after the start, month, day).
MDO_DAYS = {"begin": (0, 11, 6), "midden": (1, 3, 5), "eind": (1, 6, 19)}
NEXT_MOMENT = {"begin": ("midden", 0), "midden": ("eind", 0), "eind": ("begin", 1)}
KLASSENRAAD_DAY = (1, 6, 24)
LAST_SCHOOL_DAY = (6, 30)

DOMAIN_ORDER = ("wiskunde", "spelling", "technisch_lezen", "begrijpend_lezen")
DOMAIN_WORDS = {
    "wiskunde": "wiskunde",
    "spelling": "spelling",
    "technisch_lezen": "technisch lezen",
    "begrijpend_lezen": "begrijpend lezen",
}
MOMENT_WORDS = {"begin": "begin schooljaar", "midden": "midden schooljaar", "eind": "einde schooljaar"}
ZORG_OWNER = "zorgcoördinator"
# As dossier.care.NO_PHASE_YET (a test keeps them equal); importing the care core here would load pandera.
NO_PHASE_YET = "geen zorgfase geregistreerd"
TEACHER_OWNER = "klasleerkracht"


class DossierPlanError(ValueError):
    """A Dutch message: the requested dossier volume is not usable."""


@dataclass
class DossierPlan:
    """Rows for the dossier tables with relative keys; `write_dossier` turns them into ids.

    registrations: one row per version; `key` is the logical registration (0..n-1), `row` the
    version row, `supersedes_row` and `follows_key` point inside the plan (-1: none).
    care_phases.reg_key, measures.key and evaluations.measure_key point inside the plan too.
    """

    registrations: pd.DataFrame
    care_phases: pd.DataFrame
    measures: pd.DataFrame
    evaluations: pd.DataFrame


# -- text pools -----------------------------------------------------------------------------
# An entry: (facts, interpretation, agreements, owner, days to evaluation, domain). `{a|b}`
# gives variants. owner: "teacher" (the class teacher), "zorg", "ouders", "directie", "author".

_PSY = "psychisch_en_sociaal_functioneren"
_LEREN = "leren_en_studeren"
_LOOPBAAN = "onderwijsloopbaan"

OBSERVATIONS_LAGER = (
    (
        "Wiebelt tijdens de {instructie|rekenles|leesles} voortdurend op de stoel en staat {3|4|5} keer op "
        "zonder te vragen (observatie van 20 minuten).",
        "Lang stilzitten lijkt moeilijk; korte beweegmomenten kunnen helpen.",
        "Na elke instructie een korte opdracht met beweging (bord afvegen, schriften uitdelen).",
        "teacher",
        21,
        _PSY,
    ),
    (
        "Begint bij zelfstandig werk pas na {5|10} minuten aan de taak en vraagt {2|3} keer opnieuw wat de "
        "opdracht is.",
        "De opdracht lijkt na de klassikale uitleg niet duidelijk.",
        "Opdracht kort herhalen aan de instructietafel; stappenkaart op de bank.",
        "teacher",
        21,
        _LEREN,
    ),
    (
        "Speelt tijdens de {middagspeeltijd|voormiddagspeeltijd} deze week {2|3} keer alleen aan de rand van "
        "de speelplaats.",
        "Mogelijk moeilijk om aansluiting te vinden bij de groep.",
        "Toezichters letten op; de klasleerkracht voert een kort gesprek met de leerling.",
        "teacher",
        14,
        _PSY,
    ),
    (
        "Maakt bij het dictee van deze week {6|8|9} fouten op 20 woorden, vooral bij woorden met "
        "{ei/ij|au/ou|dubbele medeklinkers}.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Steekt in de klas {nooit|zelden} spontaan de vinger op; antwoordt wel juist als de leerkracht een "
        "vraag stelt.",
        "Eerder terughoudend in de grote groep.",
        None,
        None,
        None,
        _PSY,
    ),
    ("Vergeet {3|4} keer in twee weken het huiswerk of de turnzak.", None, None, None, None, _LEREN),
    (
        "Rekent bewerkingen tot 100 juist met materiaal; zonder materiaal {4|5} fouten op 10 oefeningen.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Werkt bij groepswerk goed samen: verdeelt de taken en helpt anderen bij de opdracht.",
        None,
        None,
        None,
        None,
        _PSY,
    ),
    (
        "Leest {elke dag|de hele week} uit eigen beweging een boek in de leeshoek.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    ("Komt {3|4} keer deze maand te laat binnen (na 8.30 u).", None, None, None, None, None),
    (
        "Schrijft bij het overnemen van het bord {vaak|telkens} woorden verkeerd over en vraagt de buur wat er staat.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Reageert bij een fout antwoord {2|3} keer boos en verscheurt het werkblad.",
        "Moeite met fouten maken.",
        "Afgesproken rustplek in de klas; na 5 minuten verder met een nieuw blad.",
        "teacher",
        14,
        _PSY,
    ),
)

OBSERVATIONS_KLEUTER = (
    (
        "Huilt bij het afscheid aan de schoolpoort {3|4} ochtenden deze week; na 10 minuten rustig in de klas.",
        None,
        "Vast afscheidsritueel aan de klasdeur; de juf of meester neemt over.",
        "teacher",
        14,
        _PSY,
    ),
    (
        "Knipt langs een rechte lijn nog niet zelfstandig; houdt de schaar {omgekeerd|met twee handen}.",
        None,
        "Dagelijks een korte knipoefening in de knutselhoek.",
        "teacher",
        28,
        _LEREN,
    ),
    (
        "Speelt in de bouwhoek {meer dan 20 minuten|een halfuur} geconcentreerd met blokken.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Zegt in de kring zelden iets; praat in kleine groep wel met een vaste klasgenoot.",
        "Eerder terughoudend in de grote groep.",
        "Kleine kring van vier kleuters 2×/week.",
        "teacher",
        28,
        _PSY,
    ),
    (
        "Neemt {2|3} keer per dag speelgoed af van andere kleuters in de {poppenhoek|bouwhoek}.",
        None,
        "Samen oefenen met de zandloper: wachten tot het speelgoed vrij is.",
        "teacher",
        21,
        _PSY,
    ),
    (
        "Kleurt binnen de lijnen en houdt het potlood met een goede pengreep.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
)

PARENT_TALKS_LAGER = (
    (
        "Oudercontact op vraag van de klasleerkracht over {rekenen|spelling|lezen}. Ouders zeggen dat het "
        "huiswerk thuis {30|45} minuten duurt.",
        None,
        "Huiswerk maximaal 20 minuten; ouders noteren in de agenda wat niet lukte.",
        "ouders",
        28,
        _LEREN,
    ),
    (
        "Ouders vragen hoe hun kind het doet in de groep; thuis vertelt het weinig over school.",
        None,
        None,
        None,
        None,
        _PSY,
    ),
    (
        "Gesprek na het rapport: ouders zijn tevreden over de vooruitgang in {lezen|rekenen|spelling}.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Ouders melden dat hun kind al {twee|drie} weken niet graag naar school komt en de speeltijd als reden noemt.",
        None,
        "Toezicht let extra op tijdens de speeltijd; de klasleerkracht voert deze week een leerlinggesprek.",
        "teacher",
        14,
        _PSY,
    ),
    (
        "Ouders vertellen dat thuis vooral {Turks|Arabisch|Pools|Frans} gesproken wordt en willen helpen met "
        "Nederlands.",
        None,
        "Leesboekjes uit de klasbibliotheek mee naar huis, 1×/week wisselen.",
        "ouders",
        42,
        _LEREN,
    ),
    (
        "Ouders vertellen dat er in {maart|mei|juni} een baby bijkomt; hun kind praat er in de klas vaak over.",
        None,
        None,
        None,
        None,
        _PSY,
    ),
)

PARENT_TALKS_KLEUTER = (
    (
        "Ouders vragen hoe hun kind zich aanpast in de klas; thuis is het na school erg moe.",
        None,
        None,
        None,
        None,
        _PSY,
    ),
    (
        "Ouders vertellen dat thuis vooral {Turks|Arabisch|Pools|Frans} gesproken wordt en willen helpen met "
        "Nederlands.",
        None,
        "Prentenboeken uit de klas mee naar huis, 1×/week wisselen.",
        "ouders",
        42,
        _LEREN,
    ),
    (
        "Gesprek over het slapen op school: ouders vragen om hun kind na de middag niet meer te laten slapen.",
        None,
        "Na de middag een rustig hoekje zonder bedje; bespreken na drie weken.",
        "teacher",
        21,
        None,
    ),
    (
        "Ouders vragen hoe het gaat met {de wenperiode|het afscheid 's ochtends|spelen met andere kleuters}.",
        None,
        None,
        None,
        None,
        _PSY,
    ),
)

PUPIL_TALKS = (
    (
        "Leerling vertelt dat de rekenles te snel gaat: 'Als ik het niet snap, durf ik het niet te vragen.'",
        None,
        "Afgesproken teken (kaartje op de bank) als extra uitleg nodig is.",
        "teacher",
        14,
        _LEREN,
    ),
    (
        "Leerling vertelt dat een groepje tijdens de speeltijd {soms|vaak} lacht om de kleren.",
        None,
        "Leerling meldt het meteen aan de toezichter; klasleerkracht vraagt na een week hoe het gaat.",
        "teacher",
        7,
        _PSY,
    ),
    (
        "Leerling zegt zelf: 'Ik ben niet goed in lezen.' Leest thuis niet graag voor.",
        "Weinig vertrouwen in de eigen leesvaardigheid.",
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Gesprek over de werkhouding: leerling wil de weektaak beter plannen.",
        None,
        "Weektaak met afvinklijst; elke vrijdag samen overlopen.",
        "teacher",
        21,
        _LEREN,
    ),
    (
        "Leerling geeft aan dat werken lukt als het stil is, maar dat het bij de deur te rumoerig is.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Leerling vertelt trots over de {voetbalmatch|muziekles|scoutsactiviteit} van het weekend en wil het in "
        "de klas voorstellen.",
        None,
        None,
        None,
        None,
        _PSY,
    ),
)

OTHER_NOTES = (
    (
        "Neemt vanaf {oktober|januari|maart} deel aan het huiswerkklasje op dinsdag en donderdag.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
    (
        "Ouders geven toestemming voor deelname aan de leesclub met een leesouder.",
        None,
        "Leesouder leest 1×/week 20 minuten met de leerling.",
        "teacher",
        42,
        _LEREN,
    ),
    (
        "Na school gaat de leerling voortaan naar de grootouders; ophalen door {de grootmoeder|de grootvader}.",
        None,
        None,
        None,
        None,
        None,
    ),
    (
        "Deelname aan de zomerleesclub van de bibliotheek afgesproken met de ouders.",
        None,
        None,
        None,
        None,
        _LEREN,
    ),
)

RULE_BREACHES = (
    (
        "Duwde tijdens de middagspeeltijd een medeleerling tegen de grond na een ruzie over de bal; de "
        "medeleerling had een schaafwonde.",
        None,
        "Herstelgesprek met beide leerlingen; ouders telefonisch ingelicht.",
        "author",
        14,
        _PSY,
    ),
    (
        "Gebruikte in de klas {2|3} keer scheldwoorden tegenover een medeleerling.",
        None,
        "Herstelopdracht: excuses en een korte brief; bij herhaling een gesprek met de ouders.",
        "author",
        14,
        _PSY,
    ),
    (
        "Nam de gsm mee naar school en gebruikte hem tijdens de speeltijd (schoolreglement: gsm blijft thuis).",
        None,
        "Gsm bewaard bij de directie; ouders halen hem op school op.",
        "author",
        28,
        _PSY,
    ),
    (
        "Verliet tijdens de speeltijd zonder toestemming de speelplaats; na 5 minuten teruggebracht door een "
        "toezichter.",
        None,
        "Gesprek met de ouders op school; afspraak over de speelplaatsregels ondertekend.",
        "author",
        21,
        _PSY,
    ),
    (
        "Beschadigde met opzet een boek van de klasbibliotheek.",
        None,
        "Herstelt het boek samen met de klasleerkracht.",
        "author",
        14,
        _PSY,
    ),
)

# Confidential family matters, for the directie only.
FAMILY_TALKS = (
    (
        "Moeder meldt dat de ouders uit elkaar gaan; het kind verblijft om de week bij elke ouder.",
        None,
        "Schoolberichten naar beide ouders; de klasleerkracht weet enkel van de wisselweek.",
        "directie",
        42,
        _PSY,
    ),
    (
        "Vader meldt dat een gezinslid langdurig in het ziekenhuis ligt; thuis is het onrustig.",
        None,
        "Zorgcoördinator polst over twee weken hoe het gaat; geen extra huiswerk in deze periode.",
        "zorg",
        14,
        _PSY,
    ),
    (
        "Ouders melden financiële moeilijkheden; de schoolrekening kan niet in één keer betaald worden.",
        None,
        "Afbetalingsplan via het secretariaat; uitstappen gaan gewoon door.",
        "directie",
        56,
        None,
    ),
)
FAMILY_NOTES = (
    (
        "Beslissing van de familierechtbank over het verblijf ontvangen; ophalen na school enkel door de ouder "
        "die in de beslissing staat.",
        None,
        "Secretariaat en toezichters zijn op de hoogte; de kopie ligt bij de directie.",
        "directie",
        91,
        None,
    ),
    (
        "Overlijden in de familie gemeld; de leerling was {twee|drie} dagen afwezig.",
        None,
        "Klasleerkracht krijgt een seintje; een gesprek enkel als de leerling dat wil.",
        "directie",
        21,
        _PSY,
    ),
)

# Follow-ups of an agreement (type evaluatie), per kind of source.
FOLLOW_UPS = {
    "team": (
        "Afspraak geëvalueerd: werkt, {geen nieuwe meldingen sinds de afspraak|de leerling houdt zich eraan}.",
        "Afspraak gedeeltelijk gelukt: in de voormiddag beter, in de namiddag nog {2|3} keer dezelfde situatie.",
        "Afspraak geëvalueerd: loopt goed en blijft zo, zonder nieuwe evaluatie.",
    ),
    "parents": (
        "Afspraak met de ouders nagegaan: thuis lukt het {beter|nog niet altijd}; de afspraak loopt verder.",
        "Ouders bevestigen bij het afhalen dat de afspraak thuis werkt.",
    ),
    "mdo": (
        "Afspraak van het MDO opgevolgd: de klasleerkracht deelde de observaties met de zorgcoördinator.",
        "Resultaten opnieuw bekeken met de klasleerkracht: geen verdere opvolging nodig.",
    ),
    "maatregel": ("Eerste evaluatie van de maatregelen gebeurd; zie de evaluatie per maatregel bij de zorg.",),
    "referral": ("Aanmelding bij het CLB verstuurd; de ouders bezorgden de ingevulde vragenlijst.",),
    "clb": (
        "Gevraagde gegevens aan het CLB bezorgd; het intakegesprek met de ouders heeft plaatsgevonden.",
        "Afspraken met het CLB uitgevoerd; de volgende stap wordt op het MDO besproken.",
    ),
    "GC": ("Startoverleg leersteun gehouden met de ouders, de klasleerkracht en het leersteunteam.",),
    "IAC": ("Handelingsplan met eigen doelen opgemaakt en met de ouders besproken.",),
    "OV4": ("Verslag bij de inschrijving aan de nieuwe school bezorgd.",),
    "klassenraad": ("Overdrachtsgesprek met de nieuwe klasleerkracht gevoerd.",),
    "arrival": ("Kennismakingsgesprek met de ouders gevoerd; de leerling is goed gestart.",),
    "rule": (
        "Herstelgesprek gevoerd; geen nieuwe incidenten sinds de afspraak.",
        "Afspraak opgevolgd met de ouders; {één|geen} nieuw incident sindsdien.",
    ),
    "family": (
        "Opgevolgd met de ouders; de regeling loopt zonder problemen.",
        "Kort gesprek met de ouders: de situatie is rustiger, geen verdere afspraken nodig.",
    ),
}
# Which follow-up texts fit a care registration, by type (a verslag: by its kind).
FOLLOW_UP_OF = {
    "mdo": "mdo",
    "maatregel": "maatregel",
    "oudergesprek": "parents",
    "clb_terugkoppeling": "clb",
    "klassenraad": "klassenraad",
}

WITHDRAWAL_REASONS = (
    "Bij de verkeerde leerling ingevoerd.",
    "Dubbel ingevoerd: dezelfde feiten staan al in een andere registratie.",
    "Hoort niet in het leerlingendossier: dit is brede basiszorg voor de hele klas.",
)

STRENGTHS = (
    "werkt gemotiveerd mee",
    "vraagt zelf om hulp",
    "sterk in mondelinge opdrachten",
    "helpt graag bij praktische taken in de klas",
    "goede inzet bij opdrachten met materiaal",
    "vertelt graag over wat in de klas geleerd werd",
)

# STICORDI measures per LVS domain: (category, description).
MEASURES_BY_DOMAIN = {
    "wiskunde": (
        ("remedieren", "extra inoefenen splitsen in kleine groep, 2×/week 20 minuten"),
        ("remedieren", "tafels inoefenen met de zorgleerkracht, 3×/week 10 minuten"),
        ("compenseren", "rekenkaart met tafels en stappenplan bij zelfstandig werk en toetsen"),
        ("differentieren", "verlengde instructie aan de instructietafel bij nieuwe leerstof wiskunde"),
        ("dispenseren", "minder oefeningen per reeks: enkel de basisoefeningen"),
    ),
    "spelling": (
        ("remedieren", "dagelijks 10 minuten het woordpakket inoefenen met de zorgleerkracht"),
        ("compenseren", "spellingkaart met de regels op de bank bij schrijfopdrachten"),
        ("dispenseren", "spelfouten tellen niet mee bij andere vakken dan taal"),
        ("differentieren", "dictee in twee delen, het tweede deel op een ander moment"),
    ),
    "technisch_lezen": (
        ("remedieren", "duolezen met een leesouder, 3×/week 15 minuten"),
        ("remedieren", "herhaald lezen van een korte tekst op eigen AVI-niveau, dagelijks 10 minuten"),
        ("compenseren", "toetsen worden voorgelezen, behalve bij lezen zelf"),
        ("differentieren", "leesboeken op eigen niveau in de leeshoek"),
    ),
    "begrijpend_lezen": (
        ("differentieren", "teksten met ondersteunende vragen en aangeduide sleutelwoorden"),
        ("remedieren", "stappenplan begrijpend lezen inoefenen in kleine groep, 1×/week"),
        ("compenseren", "een kwartier extra tijd bij toetsen met veel leestekst"),
    ),
}
MEASURES_GENERAL = (
    ("stimuleren", "positieve feedback op inzet met een beloningskaart, dagelijks"),
    ("stimuleren", "wekelijks kort gesprek met de klasleerkracht over wat goed ging"),
)
MEASURES_PHASE2 = (
    ("compenseren", "voorleessoftware bij toetsen en schriftelijke opdrachten"),
    ("dispenseren", "geen dictee van ongeziene woorden, enkel geoefende woorden"),
    ("compenseren", "rekenmachine bij vraagstukken, niet bij hoofdrekenen"),
    ("differentieren", "leersteun: 2 lestijden per week begeleiding in de klas"),
)
MEASURES_PHASE3 = (
    ("differentieren", "eigen leerlijn wiskunde volgens het IAC, met aangepaste doelen per trimester"),
    ("differentieren", "eigen leerlijn Nederlands volgens het IAC, met aangepaste doelen per trimester"),
)

EVALUATION_TEXTS = {
    "verderzetten": (
        "Werkt: {6|7} op 10 bij de oefentoets (was {3|4} op 10). Verderzetten.",
        "Leerling gebruikt het hulpmiddel zelfstandig; resultaten stabiel. Verderzetten.",
        "Kleine vooruitgang; de leerling vraagt zelf om de extra oefening. Verderzetten.",
    ),
    "bijsturen": (
        "Weinig vooruitgang in de kleine groep; voortaan individueel 10 minuten bij de zorgleerkracht.",
        "Hulpmiddel wordt vergeten; de kaart ligt voortaan vastgekleefd op de bank.",
        "Te veel tegelijk: nog 2×/week in plaats van 3×/week, met kortere reeksen.",
    ),
    "stopzetten": (
        "Doel bereikt: werkt zelfstandig mee in de klas. De maatregel stopt.",
        "Niet meer nodig: de leerling maakt de basisoefeningen zonder hulp.",
        "Werkt niet: vervangen door een andere aanpak, besproken op het MDO.",
    ),
}
CLOSING_EVALUATION = "Verhoogde zorg afgesloten op het MDO; de maatregel is niet meer nodig."
# Per phase (1, and 2 or higher): how an evaluation ends.
DECISION_SHARES = {
    1: {"verderzetten": 0.55, "bijsturen": 0.25, "stopzetten": 0.2},
    2: {"verderzetten": 0.65, "bijsturen": 0.28, "stopzetten": 0.07},
}

PHASE_NOTES = {
    1: "{domains} twee toetsmomenten op rij in zone E; verhoogde zorg met maatregelen in de klas.",
    2: "Maatregelen van fase 1 volstaan niet; met akkoord van de ouders aangemeld bij het CLB.",
    3: "Na het verslag en overleg met ouders en CLB: individueel aangepast curriculum.",
    0: "Twee toetsmomenten op rij zonder zone E; de maatregelen worden afgebouwd.",
}


# -- public API -----------------------------------------------------------------------------


def check_rate(registrations_per_pupil_year) -> float:
    """The knob as a float, or DossierPlanError with a Dutch message."""
    ok = isinstance(registrations_per_pupil_year, int | float) and not isinstance(registrations_per_pupil_year, bool)
    if not ok or not 0 <= registrations_per_pupil_year <= MAX_REGISTRATIONS_PER_PUPIL_YEAR:
        raise DossierPlanError(
            "Het aantal registraties per leerling per schooljaar moet tussen 0 en "
            f"{MAX_REGISTRATIONS_PER_PUPIL_YEAR:g} liggen (gekregen: {registrations_per_pupil_year})."
        )
    return float(registrations_per_pupil_year)


def plan_dossier(
    roster: Roster,
    results: dict[str, pd.DataFrame],
    seed: int,
    today: date,
    *,
    registrations_per_pupil_year: float = DEFAULT_REGISTRATIONS_PER_PUPIL_YEAR,
) -> DossierPlan:
    """The demo dossier for a planned roster and its generated results; pure and deterministic."""
    rate = check_rate(registrations_per_pupil_year)
    ctx = _Context(roster, results, seed, today)
    events = _care_events(ctx)
    phases = _phases(ctx, events)
    measures = _measures(ctx, phases)
    evaluations = _evaluate_measures(ctx, measures, phases)
    structured = pd.concat(
        [_care_registrations(ctx, events, phases, measures), _klassenraad(ctx, phases), _arrivals_and_leavers(ctx)],
        ignore_index=True,
    )
    structured_follow_ups = _follow_ups(ctx, structured, offset=0)
    # Care comes from the results; the everyday registrations fill up to the requested volume.
    target = rate * ctx.exposure.sum()
    background = _background(ctx, target - len(structured) - len(structured_follow_ups))
    offset = len(structured) + len(structured_follow_ups)
    background_follow_ups = _follow_ups(ctx, background, offset=offset)
    registrations = _with_keys(
        pd.concat([structured, structured_follow_ups, background, background_follow_ups], ignore_index=True)
    )
    registrations = _versions(ctx, registrations)
    reg_key = registrations.loc[(registrations["version"] == 1) & (registrations["phase_ref"] >= 0)]
    phases = phases.merge(
        reg_key[["phase_ref", "key"]].rename(columns={"key": "reg_key"}), on="phase_ref", how="left", validate="1:1"
    )
    return DossierPlan(
        registrations=registrations.drop(columns=["phase_ref", "fu_pool"]),
        care_phases=phases.drop(columns=["phase_ref", "mask", "enrol", "before"]),
        measures=measures.drop(columns=["phase_ref", "enrol"]),
        evaluations=evaluations,
    )


def dossier_counts(plan: DossierPlan) -> dict:
    """Summary counts of a plan (logical registrations per type, versions, care)."""
    regs = plan.registrations
    current = regs.sort_values("version").drop_duplicates("key", keep="last")
    per_type = current["type"].value_counts()
    open_phases = plan.care_phases[plan.care_phases["end_date"].isna()]["phase"].value_counts()
    return {
        "registrations": int(current.shape[0]),
        "per_type": {t: int(per_type.get(t, 0)) for t in labels.REGISTRATION_TYPES},
        "versions": int(regs.shape[0]),
        "corrected": int(((regs["version"] > 1) & ~regs["withdrawn"]).sum()),
        "withdrawn": int(regs["withdrawn"].sum()),
        "care_phases": int(plan.care_phases.shape[0]),
        "open_phases": {int(p): int(open_phases.get(p, 0)) for p in (1, 2, 3)},
        "measures": int(plan.measures.shape[0]),
        "measure_evaluations": int(plan.evaluations.shape[0]),
    }


def write_dossier(cur, plan: DossierPlan) -> None:
    """Insert the plan inside the caller's transaction, with ids drawn from the tables' own sequences.

    Ids are assigned in plan order, so version rows, phases and evaluations keep their order (the
    core reads a measure's latest evaluation as the one with the highest id).
    """
    regs = plan.registrations
    reg_ids = _reserve(cur, "registration_id_seq", int(regs["key"].max()) + 1 if len(regs) else 0)
    row_ids = _reserve(cur, "registration_row_id_seq", len(regs))
    frame = regs.assign(
        registration_id=reg_ids[regs["key"].to_numpy()],
        row_id=row_ids[regs["row"].to_numpy()],
        supersedes=_linked_ids(regs["supersedes_row"].to_numpy(), row_ids),
        follows_up=_linked_ids(regs["follows_key"].to_numpy(), reg_ids),
    )
    _insert(
        cur,
        frame,
        """
        INSERT INTO registration (row_id, registration_id, version, supersedes, pupil_id, type, fact_date,
            facts, interpretation, agreements, owner, evaluation_date, domain, visibility, transferable,
            confidential_third_parties, report_kind, follows_up, group_id, author_id, author_name,
            author_role, created_at, withdrawn, withdrawal_reason, school_year, class_id)
        SELECT r.row_id, r.registration_id, r.version, r.supersedes, p.id, r.type, CAST(r.fact_date AS DATE),
            r.facts, r.interpretation, r.agreements, r.owner, CAST(r.evaluation_date AS DATE), r.domain,
            r.visibility, r.transferable, r.confidential_third_parties, r.report_kind, r.follows_up, NULL,
            u.id, u.display_name, u.role, CAST(r.created_at AS TIMESTAMP), r.withdrawn, r.withdrawal_reason,
            r.school_year, e.class_id
        FROM demo_frame r
        JOIN pupil p ON p.pupil_number = r.pupil_number
        JOIN staff_user u ON u.username = r.author
        LEFT JOIN enrolment e ON e.pupil_id = p.id AND e.school_year = r.school_year
        """,
    )
    phases = plan.care_phases
    _insert(
        cur,
        phases.assign(
            id=_reserve(cur, "care_phase_id_seq", len(phases)),
            registration_id=reg_ids[phases["reg_key"].to_numpy()],
        ),
        """
        INSERT INTO care_phase (id, pupil_id, phase, start_date, end_date, note, registration_id, created_by_id,
            created_by_name, created_at)
        SELECT c.id, p.id, c.phase, CAST(c.start_date AS DATE), CAST(c.end_date AS DATE), c.note,
            c.registration_id, u.id, u.display_name, CAST(c.created_at AS TIMESTAMP)
        FROM demo_frame c
        JOIN pupil p ON p.pupil_number = c.pupil_number
        JOIN staff_user u ON u.username = c.author
        """,
    )
    measure_ids = _reserve(cur, "measure_id_seq", len(plan.measures))
    _insert(
        cur,
        plan.measures.assign(id=measure_ids[plan.measures["key"].to_numpy()]),
        """
        INSERT INTO measure (id, pupil_id, category, description, start_date, end_date, evaluation_date,
            created_by_id, created_by_name, created_by_role, created_at)
        SELECT m.id, p.id, m.category, m.description, CAST(m.start_date AS DATE), NULL,
            CAST(m.evaluation_date AS DATE), u.id, u.display_name, u.role, CAST(m.created_at AS TIMESTAMP)
        FROM demo_frame m
        JOIN pupil p ON p.pupil_number = m.pupil_number
        JOIN staff_user u ON u.username = m.author
        """,
    )
    evaluations = plan.evaluations
    _insert(
        cur,
        evaluations.assign(
            id=_reserve(cur, "measure_evaluation_id_seq", len(evaluations)),
            measure_id=measure_ids[evaluations["measure_key"].to_numpy()],
        ),
        """
        INSERT INTO measure_evaluation (id, measure_id, evaluated_on, text, decision, next_evaluation_date,
            created_by_id, created_by_name, created_by_role, created_at)
        SELECT v.id, v.measure_id, CAST(v.evaluated_on AS DATE), v.text, v.decision,
            CAST(v.next_evaluation_date AS DATE), u.id, u.display_name, u.role, CAST(v.created_at AS TIMESTAMP)
        FROM demo_frame v
        JOIN staff_user u ON u.username = v.author
        """,
    )


# -- context: the roster as arrays ---------------------------------------------------------


class _Context:
    """The roster and results reshaped for planning: one row per enrolment, lookups by pupil and date.

    An enrolment's window runs from 1 September (or the entry date) to 30 June (or the leave
    date), and never past today: registrations fall inside it.
    """

    def __init__(self, roster: Roster, results: dict[str, pd.DataFrame], seed: int, today: date):
        self.rng = np.random.default_rng([int(seed) % (2**63), 3])
        self.today = np.datetime64(today, "D")
        self.first_start = int(roster.years[0][:4])
        staff = roster.staff
        self.zorg = staff.loc[staff["role"] == "zorgteam", "username"].iloc[0]
        self.directie = staff.loc[staff["role"] == "directie", "username"].iloc[0]
        enrol = roster.enrolments.reset_index(drop=True)
        teacher_user = roster.assignments.set_index(["school_year", "class_name"])["username"]
        keys = pd.MultiIndex.from_arrays([enrol["school_year"], enrol["class_name"]])
        found = teacher_user.reindex(keys).to_numpy(dtype=object)
        self.teacher_user = np.where(pd.isna(found), None, found)
        label = enrol["teacher"].to_numpy(dtype=object)
        self.teacher_label = np.where(pd.isna(label), TEACHER_OWNER, label)
        self.start_year = enrol["start_year"].to_numpy().astype(np.int64)
        first_day = _dates(self.start_year, 9, 1)
        last_day = _dates(self.start_year + 1, *LAST_SCHOOL_DAY)
        entry = enrol["entry_date"].to_numpy().astype("datetime64[D]")
        leave = enrol["leave_date"].to_numpy().astype("datetime64[D]")
        self.leave = leave
        self.win_start = np.where(np.isnat(entry), first_day, np.maximum(first_day, entry))
        end = np.minimum(last_day, self.today)
        self.win_end = np.where(np.isnat(leave), end, np.minimum(end, leave))
        span = np.clip((self.win_end - self.win_start).astype(np.int64) + 1, 0, None)
        self.exposure = span / ((last_day - first_day).astype(np.int64) + 1)
        self.pupil_idx = enrol["pupil_idx"].to_numpy().astype(np.int64)
        self.level = enrol["level"].to_numpy(dtype=object)
        self.grade = enrol["grade"].to_numpy().astype(np.int64)
        self.enrol = enrol
        self.pupil_number = roster.pupils.set_index("pupil_idx")["pupil_number"]
        self._lookup = pd.Index(self._key(self.pupil_idx, self.start_year))
        lvs = results["lvs_result"]
        pupils = roster.pupils.set_index("pupil_number")["pupil_idx"]
        self.lvs = lvs.assign(pupil_idx=pupils.reindex(lvs["pupil_number"]).to_numpy())
        mean = self.lvs.groupby(["pupil_idx", "school_year"])["percentile"].mean()
        self.mean_percentile = mean.reindex(pd.MultiIndex.from_arrays([enrol["pupil_idx"], enrol["school_year"]]))
        self.mean_percentile = self.mean_percentile.to_numpy()

    def _key(self, pupil_idx, start_year) -> np.ndarray:
        return np.asarray(pupil_idx, np.int64) * 1000 + (np.asarray(start_year, np.int64) - self.first_start)

    def locate(self, pupil_idx, days) -> np.ndarray:
        """Enrolment row of each pupil on each day (-1: not at school then, or after today)."""
        days = np.atleast_1d(np.asarray(days, "datetime64[D]"))
        valid = ~np.isnat(days)
        start_year = _start_year(np.where(valid, days, self.today))
        rows = self._lookup.get_indexer(self._key(np.atleast_1d(pupil_idx), start_year))
        safe = np.maximum(rows, 0)
        inside = valid & (rows >= 0) & (days >= self.win_start[safe]) & (days <= self.win_end[safe])
        return np.where(inside, rows, -1)

    def located(self, pupil_idx, day) -> bool:
        return bool(self.locate([pupil_idx], [day])[0] >= 0)


# -- care: events at the MDO rounds ---------------------------------------------------------


def _moments(ctx: _Context) -> pd.DataFrame:
    """One row per pupil and LVS test moment with its MDO: zone-E count, domains in E, dates."""
    lvs = ctx.lvs
    bit = lvs["domain"].map({d: 1 << i for i, d in enumerate(DOMAIN_ORDER)}).to_numpy()
    is_e = (lvs["zone"] == "E").to_numpy()
    frame = pd.DataFrame(
        {
            "pupil_idx": lvs["pupil_idx"].to_numpy(),
            "school_year": lvs["school_year"].to_numpy(),
            "class_name": lvs["class_name"].to_numpy(),
            "moment": lvs["moment"].to_numpy(),
            "n": 1,
            "e": is_e.astype(int),
            "mask": np.where(is_e, bit, 0),
        }
    )
    moments = frame.groupby(["pupil_idx", "school_year", "moment"], as_index=False).agg(
        class_name=("class_name", "first"), n=("n", "sum"), e=("e", "sum"), mask=("mask", "sum")
    )
    start_year = moments["school_year"].str[:4].astype(int).to_numpy()
    base = _mdo_day(start_year, moments["moment"].to_numpy())
    # One MDO day per class and round, a few school days apart between classes.
    rounds = (
        moments[["school_year", "class_name", "moment"]]
        .drop_duplicates()
        .sort_values(["school_year", "class_name", "moment"])
    )
    rounds["jitter"] = ctx.rng.integers(0, 3, len(rounds))
    jitter = moments.merge(rounds, on=["school_year", "class_name", "moment"], how="left")["jitter"].to_numpy()
    moments["mdo"] = np.busday_offset(base, jitter, roll="forward")
    nxt = moments["moment"].map({m: after for m, (after, _) in NEXT_MOMENT.items()}).to_numpy()
    shift = moments["moment"].map({m: years for m, (_, years) in NEXT_MOMENT.items()}).to_numpy()
    moments["next_mdo"] = _mdo_day(start_year + shift, nxt)
    moments["enrol"] = ctx.locate(moments["pupil_idx"].to_numpy(), moments["mdo"].to_numpy())
    moments["dominant"] = (moments["e"] >= 1) & (2 * moments["e"] >= moments["n"])
    held = moments[moments["enrol"] >= 0]  # the MDO took place while the pupil was at school
    return held.sort_values(["pupil_idx", "mdo"], ignore_index=True)


def _care_events(ctx: _Context) -> pd.DataFrame:
    """MDO discussions and phase changes, walking each pupil's test moments in order."""
    moments = _moments(ctx)
    touched = moments.groupby("pupil_idx")["dominant"].transform("any").to_numpy()
    moments = moments[touched].reset_index(drop=True)
    pupil = moments["pupil_idx"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, pupil[1:] != pupil[:-1], True]) if len(pupil) else np.array([0])
    n_pupils = len(bounds) - 1
    share = ctx.lvs.assign(e=(ctx.lvs["zone"] == "E").astype(float)).groupby("pupil_idx")["e"].mean()
    pupil_share = share.reindex(pupil[bounds[:-1]]).to_numpy() if n_pupils else np.empty(0)
    u2, u0 = ctx.rng.random(n_pupils), ctx.rng.random(n_pupils)
    forced = np.zeros(n_pupils, bool)
    if n_pupils:
        forced[np.lexsort((pupil[bounds[:-1]], -pupil_share))[0]] = True  # someone goes to fase 2 if anyone can
    dominant = moments["dominant"].to_numpy()
    e = moments["e"].to_numpy()
    mdo = moments["mdo"].to_numpy()
    kinds = np.full(len(moments), "", object)
    for p in range(n_pupils):
        phase, dominant_since, dominant_in_care, clean, started = 0, 0, 0, 0, None
        for j in range(bounds[p], bounds[p + 1]):
            kind = ""
            if phase == 0:
                if dominant[j]:
                    dominant_since += 1
                    kind = "start1" if dominant_since >= 2 else "watch"
            else:
                dominant_in_care = dominant_in_care + 1 if dominant[j] else dominant_in_care
                clean = clean + 1 if e[j] == 0 else 0
                days = int((mdo[j] - started) / np.timedelta64(1, "D"))
                if (
                    phase == 1
                    and dominant[j]
                    and dominant_in_care >= 2
                    and days >= PHASE2_MIN_DAYS
                    and (u2[p] < PHASE2_SHARE or forced[p])
                ):
                    kind = "start2"
                elif phase == 1 and clean >= 2 and u0[p] < PHASE0_SHARE:
                    kind = "stop0"
                else:
                    kind = f"follow{phase}"
            if kind in ("start1", "start2"):
                phase, started, dominant_in_care, clean = int(kind[-1]), mdo[j], 0, 0
            elif kind == "stop0":
                phase, dominant_since = 0, 0
            kinds[j] = kind
    events = moments.assign(kind=kinds, share=np.repeat(pupil_share, np.diff(bounds)) if n_pupils else 0.0)
    events = events[events["kind"] != ""].reset_index(drop=True)
    return _promote_to_phase3(events)


def _promote_to_phase3(events: pd.DataFrame) -> pd.DataFrame:
    """The most persistent fase-2 pupils move on to fase 3 (IAC) at an MDO half a year later."""
    start2 = events.loc[events["kind"] == "start2", ["pupil_idx", "mdo"]].rename(columns={"mdo": "start2"})
    later = events.merge(start2, on="pupil_idx")
    later = later[(later["kind"] == "follow2") & ((later["mdo"] - later["start2"]).dt.days >= PHASE3_MIN_DAYS)]
    candidates = later.drop_duplicates("pupil_idx").sort_values(["share", "pupil_idx"], ascending=[False, True])
    if candidates.empty:
        return events
    chosen = candidates.head(max(1, round(PHASE3_SHARE * len(start2))))
    events = events.copy()
    for row in chosen.itertuples():
        mine = (events["pupil_idx"] == row.pupil_idx) & (events["mdo"] >= row.mdo)
        events.loc[mine, "kind"] = "follow3"
        events.loc[mine & (events["mdo"] == row.mdo), "kind"] = "start3"
    return events


def _phases(ctx: _Context, events: pd.DataFrame) -> pd.DataFrame:
    changes = events[events["kind"].isin(["start1", "start2", "start3", "stop0"])].copy()
    changes["phase"] = changes["kind"].str[-1].astype(int)
    changes = changes.sort_values(["pupil_idx", "mdo"], ignore_index=True)
    nxt = changes.groupby("pupil_idx")["mdo"].shift(-1)
    changes["end_date"] = (nxt - pd.Timedelta(days=1)).to_numpy().astype("datetime64[D]")
    previous = changes.groupby("pupil_idx")["phase"].shift(1)
    changes["before"] = previous.astype("Int64")
    notes = []
    for row in changes.itertuples():
        note = PHASE_NOTES[row.phase]
        notes.append(note.format(domains=_capital(_domain_words(row.mask))) if row.phase == 1 else note)
    return pd.DataFrame(
        {
            "phase_ref": np.arange(len(changes)),
            "pupil_idx": changes["pupil_idx"].to_numpy(),
            "pupil_number": ctx.pupil_number.reindex(changes["pupil_idx"]).to_numpy(),
            "enrol": changes["enrol"].to_numpy(),
            "phase": changes["phase"].to_numpy(),
            "before": changes["before"].to_numpy(),
            "start_date": changes["mdo"].to_numpy().astype("datetime64[D]"),
            "end_date": changes["end_date"].to_numpy(),
            "note": np.array(notes, object),
            "mask": changes["mask"].to_numpy(),
            "author": ctx.zorg,
            "created_at": _created(ctx, changes["mdo"].to_numpy().astype("datetime64[D]"), spread=False),
        }
    )


# -- care: measures and their evaluations ---------------------------------------------------


def _measures(ctx: _Context, phases: pd.DataFrame) -> pd.DataFrame:
    """STICORDI measures at each start of a phase, fitted to the domains in zone E."""
    rng = ctx.rng
    starts = phases[phases["phase"] > 0]
    n = len(starts)
    enrol = starts["enrol"].to_numpy()
    start = starts["start_date"].to_numpy().astype("datetime64[D]")
    begin = np.minimum(np.busday_offset(start, rng.integers(1, 6, n), roll="forward"), ctx.win_end[enrol])
    first = _school_day(np.busday_offset(begin, rng.integers(30, 46, n), roll="forward"))
    rows = []
    for i, (ref, phase, mask) in enumerate(zip(starts["phase_ref"], starts["phase"], starts["mask"], strict=True)):
        if phase == 1:
            pool = [m for d in _domains(mask) for m in MEASURES_BY_DOMAIN[d]] + list(MEASURES_GENERAL)
            count = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        elif phase == 2:
            pool, count = MEASURES_PHASE2, int(rng.integers(1, 3))
        else:
            pool, count = MEASURES_PHASE3, 1
        for j in np.sort(rng.choice(len(pool), size=min(count, len(pool)), replace=False)):
            rows.append((ref, i, *pool[j]))
    picked = pd.DataFrame(rows, columns=["phase_ref", "start_row", "category", "description"])
    at = picked["start_row"].to_numpy().astype(np.int64)
    frame = picked.drop(columns="start_row").assign(
        pupil_idx=starts["pupil_idx"].to_numpy()[at],
        enrol=enrol[at],
        start_date=begin[at],
        evaluation_date=first[at],
        key=np.arange(len(picked)),
    )
    frame["pupil_number"] = ctx.pupil_number.reindex(frame["pupil_idx"]).to_numpy()
    frame["author"] = ctx.zorg
    frame["created_at"] = _created(ctx, begin[at], spread=False)
    return frame


def _evaluate_measures(ctx: _Context, measures: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """Evaluation rounds for all measures at once: each round evaluates every measure that is due."""
    rng, today = ctx.rng, ctx.today
    n = len(measures)
    pupil = measures["pupil_idx"].to_numpy()
    start = measures["start_date"].to_numpy().astype("datetime64[D]")
    # A return to fase 0 closes the measures still running on that day.
    cutoff = np.full(n, np.datetime64("NaT"), "datetime64[D]")
    for row in phases[phases["phase"] == 0].sort_values("start_date").itertuples():
        stop = _day(row.start_date)
        cutoff[(pupil == row.pupil_idx) & (start <= stop) & np.isnat(cutoff)] = stop
    # Nobody evaluates after the pupil left: the end of the pupil's last enrolment window.
    gone = pd.Series(ctx.win_end).groupby(ctx.pupil_idx).max()
    gone = gone.reindex(pupil).to_numpy().astype("datetime64[D]")
    due = measures["evaluation_date"].to_numpy().astype("datetime64[D]")
    last = start.copy()
    alive = np.ones(n, bool)
    decisions = np.array(list(DECISION_SHARES[1]), object)
    # Cumulative shares per measure: in fase 2 and 3 a measure is stopped less often.
    phase = phases.set_index("phase_ref")["phase"].reindex(measures["phase_ref"]).to_numpy()
    table = np.array([np.cumsum(list(DECISION_SHARES[min(p, 2)].values())) for p in (1, 2)])
    shares = table[np.where(phase >= 2, 1, 0)]
    out = []
    while alive.any():
        closing = alive & ~np.isnat(cutoff) & (due >= cutoff)
        if closing.any():
            on = np.maximum(cutoff[closing], last[closing])
            out.append(_evaluation_rows(np.flatnonzero(closing), on, "stopzetten", None, CLOSING_EVALUATION))
            alive &= ~closing
        alive &= (due <= today) & (due <= gone)
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        on = np.busday_offset(due[idx], rng.integers(0, 5, len(idx)), roll="forward")
        on = np.where(np.isin(_month(on), [7, 8]), due[idx], on)  # not a few days late into the holidays
        recent = (today - due[idx]).astype(np.int64) <= RECENT_DAYS
        late = recent & (rng.random(len(idx)) < RECENT_OUTSTANDING_SHARE)
        # Outstanding evaluations are what the "te evalueren" list shows; a closing MDO settles them.
        outstanding = np.isnat(cutoff[idx]) & ((on > today) | late)
        on = np.minimum(on, np.where(np.isnat(cutoff[idx]), today, cutoff[idx]))
        on = np.minimum(np.maximum(on, last[idx]), today)
        alive[idx[outstanding | (on > gone[idx])]] = False
        keep = ~outstanding & (on <= gone[idx])
        idx, on = idx[keep], on[keep]
        draw = rng.random(len(idx))
        decision = np.where(
            draw < shares[idx, 0], decisions[0], np.where(draw < shares[idx, 1], decisions[1], decisions[2])
        )
        following = _school_day(np.busday_offset(on, rng.integers(30, 46, len(idx)), roll="forward"))
        following = np.where(decision == "stopzetten", np.datetime64("NaT"), following)
        for name in decisions:
            here = decision == name
            if here.any():
                texts = _pick(rng, EVALUATION_TEXTS[name], int(here.sum()))
                out.append(_evaluation_rows(idx[here], on[here], name, following[here], texts))
        last[idx] = on
        due[idx] = following
        alive[idx[decision == "stopzetten"]] = False
    frame = pd.concat(out, ignore_index=True) if out else _evaluation_rows(np.empty(0, int), [], "", None, "")
    # Chronological per measure (a closing evaluation can share its day with the one before it).
    frame = frame.sort_values(["evaluated_on", "measure_key"], ignore_index=True, kind="stable")
    frame["author"] = ctx.zorg
    frame["created_at"] = _created(ctx, frame["evaluated_on"].to_numpy().astype("datetime64[D]"), spread=False)
    return frame


def _evaluation_rows(keys, on, decision, following, texts) -> pd.DataFrame:
    n = len(keys)
    nxt = np.full(n, np.datetime64("NaT"), "datetime64[D]") if following is None else following
    return pd.DataFrame(
        {
            "measure_key": np.asarray(keys, np.int64),
            "evaluated_on": np.asarray(on, "datetime64[D]"),
            "text": np.broadcast_to(np.asarray(texts, object), n).copy(),
            "decision": np.full(n, decision, object),
            "next_evaluation_date": np.asarray(nxt, "datetime64[D]"),
        }
    )


# -- care: the registrations that document it -----------------------------------------------


class _Rows:
    """Registrations collected one by one (only for the few care pupils), with template defaults.

    `author=TEACHER` means the class teacher on that day; `evaluation_days` plans the evaluation that
    many school days later. Rows that fall outside the pupil's time at school (or after today) are
    dropped when the frame is made.
    """

    def __init__(self, ctx: _Context):
        self.ctx = ctx
        self.rows: list[dict] = []

    def add(self, pupil_idx, day, kind, facts, author, agreements=None, owner=None, evaluation_days=None, **extra):
        """Collect one row; returns its number, which `follows` of a later row may point at."""
        template = labels.TEMPLATES[kind]
        report_kind = extra.pop("report_kind", None)
        self.rows.append(
            {
                "pupil_idx": pupil_idx,
                "fact_date": day,
                "type": kind,
                "facts": facts,
                "agreements": agreements,
                "owner": owner,
                "evaluation_days": evaluation_days,
                "author": author,
                "visibility": template.visibility,
                "transferable": labels.FORCED_TRANSFERABLE.get(kind, template.transferable),
                "domain": template.domain,
                "fu_pool": report_kind or FOLLOW_UP_OF.get(kind, "team"),
                "report_kind": report_kind,
                **extra,
            }
        )
        return len(self.rows) - 1

    def frame(self) -> pd.DataFrame:
        ctx = self.ctx
        if not self.rows:
            return _fill_defaults(pd.DataFrame({"pupil_idx": np.empty(0, np.int64)}))
        frame = pd.DataFrame(self.rows)
        day = frame["fact_date"].to_numpy().astype("datetime64[D]")
        enrol = ctx.locate(frame["pupil_idx"].to_numpy(), day)
        kept = np.flatnonzero(enrol >= 0)
        frame = frame.iloc[kept].reset_index(drop=True)
        day, enrol = day[kept], enrol[kept]
        # `follows` numbers rows as added; after dropping, it becomes a position in this frame.
        position = np.full(len(self.rows), -1, np.int64)
        position[kept] = np.arange(len(kept))
        follows = frame.get("follows", pd.Series(-1, index=frame.index)).fillna(-1).to_numpy().astype(np.int64)
        frame["follows_ref"] = np.where(follows >= 0, position[np.maximum(follows, 0)], -1).astype(np.int64)
        frame = frame.drop(columns="follows", errors="ignore")
        if "evaluation_date" not in frame:
            frame["evaluation_date"] = np.datetime64("NaT", "D")
        planned = frame["evaluation_days"].notna().to_numpy()
        days = np.where(planned, frame["evaluation_days"].fillna(0).to_numpy(), 0).astype(np.int64)
        evaluation = _school_day(np.busday_offset(day, days, roll="forward"))
        given = frame["evaluation_date"].to_numpy().astype("datetime64[D]")
        frame["evaluation_date"] = np.where(planned, evaluation, given)
        teacher = ctx.teacher_user[enrol]
        by_teacher = (frame["author"] == TEACHER).to_numpy()
        frame["author"] = np.where(by_teacher, np.where(pd.isna(teacher), ctx.zorg, teacher), frame["author"])
        # A teacher's agreement is evaluated before the summer, while the pupil is still in the class.
        capped = np.maximum(np.minimum(frame["evaluation_date"].to_numpy(), _last_week(ctx.start_year[enrol])), day)
        frame["evaluation_date"] = np.where(by_teacher, capped, frame["evaluation_date"].to_numpy())
        return _fill_defaults(frame.drop(columns="evaluation_days"))


TEACHER = "@klasleerkracht"


def _care_registrations(ctx: _Context, events: pd.DataFrame, phases: pd.DataFrame, measures: pd.DataFrame):
    """MDO notes, measure decisions, phase changes and what happens around them."""
    out = _Rows(ctx)
    first_evaluation = measures.groupby("phase_ref")["evaluation_date"].min().to_dict()
    measure_start = measures.groupby("phase_ref")["start_date"].min().to_dict()
    described: dict[int, list[str]] = {}
    for ref, category, description in zip(
        measures["phase_ref"], measures["category"], measures["description"], strict=True
    ):
        described.setdefault(ref, []).append(f"{labels.STICORDI[category]}: {description}.")
    phase_days = phases["start_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    phase_of = dict(zip(zip(phases["pupil_idx"], phase_days, strict=True), phases["phase_ref"], strict=True))
    strengths = _pick(ctx.rng, STRENGTHS, len(events))
    mdo = events["mdo"].to_numpy().astype("datetime64[D]")
    next_mdo = events["next_mdo"].to_numpy().astype("datetime64[D]")
    planned20 = _school_day(np.busday_offset(mdo, 20, roll="forward"))
    columns = ("pupil_idx", "enrol", "mask", "e", "n", "kind", "moment")
    previous_mdo: dict[int, int] = {}  # the next MDO of a pupil evaluates the agreements of the previous one
    for i, (pupil, enrol, mask, e, n, kind, moment) in enumerate(zip(*(events[c] for c in columns), strict=True)):
        owner = ctx.teacher_label[enrol]
        words = _domain_words(mask)
        heading = f"MDO na de LVS-toetsen ({MOMENT_WORDS[moment]}):"
        ref = phase_of.get((pupil, int(mdo[i].astype(np.int64))))
        evaluation = next_mdo[i]
        if kind == "watch":
            facts = f"{heading} {words} in zone E. Sterkte: {strengths[i]}."
            agreements = (
                f"Klasleerkracht observeert {_first_domain_word(mask)} bij zelfstandig werk; "
                "opnieuw bespreken op het volgende MDO."
            )
        elif kind.startswith("follow"):
            result = f"{e} van {n} domeinen in zone E ({words})." if e else "geen domein in zone E."
            facts = f"{heading} {result}"
            agreements = FOLLOW_AGREEMENTS[kind]
        elif kind == "start1":
            facts = f"{heading} {words} opnieuw in zone E, het tweede toetsmoment op rij. Sterkte: {strengths[i]}."
            agreements = (
                "Start verhoogde zorg (fase 1) met maatregelen in de klas; de klasleerkracht nodigt de ouders uit "
                "binnen twee weken."
            )
            evaluation = first_evaluation.get(ref, evaluation)
        elif kind == "start2":
            verb = "blijft" if len(_domains(mask)) == 1 else "blijven"
            facts = f"{heading} {words} {verb} ondanks de maatregelen in zone E."
            agreements = (
                "Met akkoord van de ouders aanmelding bij het CLB voor een handelingsgericht diagnostisch traject "
                "(fase 2)."
            )
            owner, evaluation = ZORG_OWNER, planned20[i]
        elif kind == "start3":
            facts = f"{heading} het gemeenschappelijk curriculum blijft te hoog gegrepen, ook met leersteun."
            agreements = (
                "Start individueel aangepast curriculum (fase 3); handelingsplan door de zorgcoördinator en de "
                "klasleerkracht."
            )
            owner, evaluation = ZORG_OWNER, planned20[i]
        else:  # stop0
            facts = f"{heading} het tweede toetsmoment op rij zonder zone E."
            agreements = "Verhoogde zorg wordt afgebouwd; de klasleerkracht blijft de resultaten volgen."
        previous_mdo[pupil] = out.add(
            pupil,
            mdo[i],
            "mdo",
            facts,
            ctx.zorg,
            agreements,
            owner,
            evaluation_date=evaluation,
            domain=_LEREN,
            follows=previous_mdo.get(pupil, -1),
        )
        if ref in described:
            out.add(
                pupil,
                measure_start[ref],
                "maatregel",
                "Afgesproken op het MDO: " + " ".join(described[ref]),
                ctx.zorg,
                "Uitvoering door de klasleerkracht en de zorgleerkracht; de ouders zijn op de hoogte.",
                ctx.teacher_label[enrol],
                evaluation_date=first_evaluation[ref],
            )
    _phase_side_registrations(ctx, phases, out)
    _ov4_reports(ctx, phases, out)
    return pd.concat([out.frame(), _zorgfase_registrations(ctx, phases)], ignore_index=True)


FOLLOW_AGREEMENTS = {
    "follow1": "Maatregelen lopen verder; klasleerkracht en zorgcoördinator evalueren ze op het volgende MDO.",
    "follow2": "CLB-traject loopt; de zorgcoördinator houdt de ouders op de hoogte.",
    "follow3": "Eigen leerlijn loopt verder; de doelen worden op het volgende MDO bijgesteld.",
}


def _zorgfase_registrations(ctx: _Context, phases: pd.DataFrame) -> pd.DataFrame:
    """As `dossier.care.set_phase` writes them: the change, its date and the note."""
    facts = []
    starts = phases["start_date"].to_numpy().astype("datetime64[D]").astype(object)
    for before, phase, start, note in zip(phases["before"], phases["phase"], starts, phases["note"], strict=True):
        old = f"{labels.phase_label(0)} ({NO_PHASE_YET})" if pd.isna(before) else labels.phase_label(before)
        facts.append(
            f"Zorgfase gewijzigd van {old} naar {labels.phase_label(phase)}, vanaf {format_date(start)}.\n{note}"
        )
    template = labels.TEMPLATES["zorgfase"]
    return _fill_defaults(
        pd.DataFrame(
            {
                "pupil_idx": phases["pupil_idx"].to_numpy(),
                "fact_date": phases["start_date"].to_numpy(),
                "type": "zorgfase",
                "facts": np.array(facts, object),
                "author": ctx.zorg,
                # As set_phase: the template's visibility as far as the zorgteam may write it, no domain.
                "visibility": labels.default_visibility("zorgfase", ("team", "zorgteam")),
                "transferable": template.transferable,
                "phase_ref": phases["phase_ref"].to_numpy(),
                "fu_pool": "team",
            }
        )
    )


def _phase_side_registrations(ctx: _Context, phases: pd.DataFrame, out: _Rows) -> None:
    """Parent talks, CLB feedback and verslagen around the phase changes."""
    rng = ctx.rng
    gc_given = False
    # Oldest first: the pupil whose trajectory is furthest along is the one sure to have a GC-verslag.
    ordered = phases.sort_values(["start_date", "pupil_idx"])
    starts = ordered["start_date"].to_numpy().astype("datetime64[D]")
    for start, pupil, phase in zip(starts, ordered["pupil_idx"], ordered["phase"], strict=True):
        if phase == 1:
            if rng.random() < PARENT_TALK_AT_START_SHARE:
                talk = np.busday_offset(start, int(rng.integers(3, 11)), roll="forward")
                out.add(pupil, talk, "oudergesprek", *PHASE1_TALK, domain=_LEREN)
            if rng.random() < CLB_AT_START_SHARE:
                out.add(pupil, start, "clb_terugkoppeling", CLB_AT_START, ctx.zorg, domain=_LEREN)
        elif phase == 2:
            talk = np.busday_offset(start, int(rng.integers(2, 8)), roll="forward")
            intake = np.busday_offset(start, int(rng.integers(10, 16)), roll="forward")
            outcome = _school_day(np.busday_offset(start, int(rng.integers(60, 91)), roll="forward"))
            advice = _pick(rng, CLB_ADVICE, 1)[0]
            out.add(
                pupil,
                talk,
                "oudergesprek",
                PHASE2_TALK[0],
                ctx.zorg,
                *PHASE2_TALK[1:],
                domain=_LEREN,
                fu_pool="referral",
            )
            out.add(pupil, intake, "clb_terugkoppeling", CLB_INTAKE[0], ctx.zorg, *CLB_INTAKE[1:])
            out.add(
                pupil,
                outcome,
                "clb_terugkoppeling",
                f"{CLB_OUTCOME[0]} Advies: {advice}",
                ctx.zorg,
                *CLB_OUTCOME[1:],
                domain=_LEREN,
                fu_pool="clb",
            )
            if not gc_given or rng.random() < GC_REPORT_SHARE:
                gc_given = True
                report = np.busday_offset(outcome, int(rng.integers(10, 21)), roll="forward")
                facts = GC_REPORT.format(adjustment=_pick(rng, GC_ADJUSTMENTS, 1)[0])
                out.add(pupil, report, "verslag", facts, ctx.zorg, *GC_REPORT_AGREEMENT, report_kind="GC")
        elif phase == 3:
            # The IAC-verslag comes a week before the phase change (or on the day, if that week was not at school).
            day = np.busday_offset(start, -5, roll="backward")
            day = day if ctx.located(pupil, day) else start
            out.add(pupil, day, "verslag", *IAC_REPORT[:1], ctx.zorg, *IAC_REPORT[1:], report_kind="IAC")
            out.add(pupil, day, "clb_terugkoppeling", CLB_IAC[0], ctx.zorg, *CLB_IAC[1:], domain=_LEREN)


def _ov4_reports(ctx: _Context, phases: pd.DataFrame, out: _Rows) -> None:
    """An OV4-verslag for a pupil in fase 2 or 3 who finishes the sixth grade."""
    sixth = np.flatnonzero((ctx.level == "lager") & (ctx.grade == 6))
    day = np.busday_offset(_dates(ctx.start_year[sixth] + 1, 6, 12), 0, roll="forward")
    pupil = ctx.pupil_idx[sixth]
    due = (_phase_on(phases, pupil, day) >= 2) & (ctx.locate(pupil, day) == sixth)
    for p, d in zip(pupil[due], day[due], strict=True):
        out.add(p, d, "verslag", OV4_REPORT[0], ctx.zorg, *OV4_REPORT[1:], report_kind="OV4")


# (facts, agreements, owner, school days to the evaluation); the author is given where used.
PHASE1_TALK = (
    "Ouders uitgenodigd na het MDO: uitleg over de resultaten en de maatregelen in de klas. Ouders zien thuis dat "
    "het huiswerk veel tijd vraagt.",
    TEACHER,
    "Ouders oefenen thuis 10 minuten per dag mee met de oefenbladen van de klasleerkracht.",
    "ouders",
    30,
)
CLB_AT_START = "CLB-medewerker was aanwezig op het MDO: geen aanmelding nodig zolang de maatregelen effect hebben."
PHASE2_TALK = (
    "Gesprek met de ouders en de zorgcoördinator: de ouders gaan akkoord met de aanmelding bij het CLB.",
    "Zorgcoördinator meldt aan; de ouders vullen de vragenlijst van het CLB in.",
    "ouders",
    15,
)
CLB_INTAKE = (
    "CLB-medewerker bevestigt de aanmelding en plant een intakegesprek met de ouders. Vraagt de LVS-resultaten en "
    "een observatie uit de klas.",
    "Zorgcoördinator bezorgt de LVS-resultaten; de klasleerkracht vult de observatielijst in.",
    ZORG_OWNER,
    15,
)
CLB_OUTCOME = (
    "CLB bespreekt de resultaten van het onderzoek met de ouders en de school.",
    "Zorgcoördinator past de maatregelen aan; bespreking op het volgende MDO.",
    ZORG_OWNER,
    40,
)
CLB_ADVICE = (
    "remediëring verderzetten en compenserende hulpmiddelen inzetten.",
    "leersteun aanvragen op basis van een verslag.",
)
GC_REPORT = (
    "Verslag voor toegang tot het gemeenschappelijk curriculum (GC) uitgereikt door het CLB. "
    "Redelijke aanpassingen: {adjustment}."
)
GC_REPORT_AGREEMENT = ("Leersteun aangevraagd; de zorgcoördinator plant het startoverleg.", ZORG_OWNER, 20)
GC_ADJUSTMENTS = (
    "extra tijd en voorlezen bij toetsen",
    "rekenkaart en rekenmachine bij vraagstukken",
    "aangepaste evaluatie van spelling",
)
IAC_REPORT = (
    "Verslag voor een individueel aangepast curriculum (IAC) uitgereikt door het CLB.",
    "Handelingsplan met eigen doelen opmaken en met de ouders bespreken.",
    ZORG_OWNER,
    20,
)
CLB_IAC = (
    "CLB adviseert een individueel aangepast curriculum; de ouders gaan akkoord na het gesprek op school.",
    "Zorgcoördinator maakt het handelingsplan op met de klasleerkracht.",
    ZORG_OWNER,
    20,
)
OV4_REPORT = (
    "Verslag OV4 uitgereikt door het CLB met het oog op de overstap naar het secundair onderwijs.",
    "Zorgcoördinator bezorgt het verslag bij de inschrijving aan de nieuwe school.",
    ZORG_OWNER,
    5,
)


# -- klassenraad, arrivals, leavers ---------------------------------------------------------


def _klassenraad(ctx: _Context, phases: pd.DataFrame) -> pd.DataFrame:
    """End-of-year decisions for repeaters, pupils in care and pupils with weak results."""
    enrol = ctx.enrol
    following = enrol[["pupil_idx", "year_index", "slot"]].assign(year_index=enrol["year_index"] - 1)
    joined = enrol[["pupil_idx", "year_index", "slot"]].merge(
        following, on=["pupil_idx", "year_index"], how="left", suffixes=("", "_next")
    )
    repeats = (joined["slot_next"] == joined["slot"]).to_numpy()
    weak = (ctx.level == "lager") & (ctx.mean_percentile < WEAK_PERCENTILE)
    base = _dates(ctx.start_year + 1, KLASSENRAAD_DAY[1], KLASSENRAAD_DAY[2])
    day = np.busday_offset(base, ctx.rng.integers(0, 3, len(enrol)), roll="forward")
    held = ctx.locate(ctx.pupil_idx, day) == np.arange(len(enrol))
    in_care = _phase_on(phases, ctx.pupil_idx, day) >= 1
    idx = np.flatnonzero(held & (repeats | in_care | weak))
    focus = _pick(ctx.rng, ("wiskunde", "spelling", "begrijpend lezen"), len(idx))
    facts, agreements = [], []
    for i, area in zip(idx, focus, strict=True):
        if repeats[i]:
            facts.append(KLASSENRAAD_REPEAT_K3 if ctx.level[i] == "kleuter" else KLASSENRAAD_REPEAT)
        elif ctx.level[i] == "lager" and ctx.grade[i] == 6:
            facts.append(KLASSENRAAD_CERTIFICATE.format(area=area))
        elif in_care[i]:
            facts.append(KLASSENRAAD_CARE)
        else:
            facts.append(KLASSENRAAD_ATTENTION.format(area=area))
        # A handover for whoever stays at school with a repeat or running measures.
        last_year = ctx.level[i] == "lager" and ctx.grade[i] == 6 and not repeats[i]
        agreements.append(KLASSENRAAD_HANDOVER if (repeats[i] or in_care[i]) and not last_year else None)
    agreements = np.array(agreements, object)
    last_day = np.busday_offset(_dates(ctx.start_year[idx] + 1, *LAST_SCHOOL_DAY), 0, roll="backward")
    evaluation = np.minimum(np.busday_offset(day[idx], 3, roll="forward"), last_day)
    template = labels.TEMPLATES["klassenraad"]
    return _fill_defaults(
        pd.DataFrame(
            {
                "pupil_idx": ctx.pupil_idx[idx],
                "fact_date": day[idx],
                "type": "klassenraad",
                "facts": np.array(facts, object),
                "agreements": agreements,
                "owner": np.where(pd.isna(agreements), None, ctx.teacher_label[idx]),
                "evaluation_date": np.where(pd.isna(agreements), np.datetime64("NaT"), evaluation),
                "author": ctx.directie,
                "visibility": template.visibility,
                "transferable": template.transferable,
                "domain": template.domain,
                "fu_pool": "klassenraad",
            }
        )
    )


KLASSENRAAD_REPEAT = (
    "Klassenraad einde schooljaar: een bijkomend jaar in hetzelfde leerjaar, op basis van de resultaten en het "
    "advies van het CLB. De ouders gaan akkoord."
)
KLASSENRAAD_REPEAT_K3 = (
    "Klassenraad: nog een jaar in de derde kleuterklas, na overleg met de ouders en advies van het CLB."
)
KLASSENRAAD_CERTIFICATE = (
    "Klassenraad: getuigschrift basisonderwijs toegekend. Advies: A-stroom, met aandacht voor {area}."
)
KLASSENRAAD_CARE = (
    "Klassenraad einde schooljaar: overgang naar het volgende leerjaar; de maatregelen lopen volgend schooljaar verder."
)
KLASSENRAAD_ATTENTION = "Klassenraad einde schooljaar: overgang naar het volgende leerjaar, met aandachtspunt {area}."
KLASSENRAAD_HANDOVER = "Overdrachtsgesprek met de klasleerkracht van volgend schooljaar in de laatste schoolweek."


def _arrivals_and_leavers(ctx: _Context) -> pd.DataFrame:
    """A note when a pupil comes from another school, and when parents announce a mid-year departure."""
    enrol = ctx.enrol
    rng = ctx.rng
    rows = np.arange(len(enrol))
    first = enrol.groupby("pupil_idx")["year_index"].transform("min").to_numpy() == enrol["year_index"].to_numpy()
    # From another school: mid-year, or after the summer into a higher grade (not the K1 intake).
    came = first & (enrol["slot"].to_numpy() > 0) & (enrol["entry_date"].notna() | (enrol["year_index"] > 0))
    day = np.busday_offset(ctx.win_start, rng.integers(0, 4, len(enrol)), roll="forward")
    a = np.flatnonzero(came.to_numpy() & (ctx.locate(ctx.pupil_idx, day) == rows))
    midyear = ~np.isnat(ctx.leave) & (_month(ctx.leave) != LAST_SCHOOL_DAY[0])
    told = np.busday_offset(
        np.where(midyear, ctx.leave, ctx.win_start), -rng.integers(3, 9, len(enrol)), roll="backward"
    )
    told = np.maximum(told, ctx.win_start)
    b = np.flatnonzero(midyear & (ctx.locate(ctx.pupil_idx, told) == rows))
    arrivals = pd.DataFrame(
        {
            "pupil_idx": ctx.pupil_idx[a],
            "fact_date": day[a],
            "type": "overige",
            "facts": "Ingestroomd vanuit een andere school. Overdrachtsdossier ontvangen en doorgenomen met de "
            "klasleerkracht.",
            "agreements": "Kennismakingsgesprek met de ouders na vier weken.",
            "owner": ctx.teacher_label[a],
            "evaluation_date": _school_day(np.busday_offset(day[a], 20, roll="forward")),
            "author": ctx.zorg,
        }
    )
    leavers = pd.DataFrame(
        {
            "pupil_idx": ctx.pupil_idx[b],
            "fact_date": told[b],
            "type": "overige",
            "facts": "Ouders melden de uitschrijving wegens een verhuis; de overdracht naar de nieuwe school wordt "
            "voorbereid.",
            "author": ctx.directie,
        }
    )
    frame = pd.concat([arrivals, leavers], ignore_index=True)
    return _fill_defaults(frame.assign(visibility="team", transferable=False, domain=_LOOPBAAN, fu_pool="arrival"))


# -- everyday registrations ------------------------------------------------------------------

# name -> (pool, type, who writes, visibility, follow-up texts); weights per school level.
_KINDS = {
    "obs_lager": (OBSERVATIONS_LAGER, "observatie", "teacher", "team", "team"),
    "obs_kleuter": (OBSERVATIONS_KLEUTER, "observatie", "teacher", "team", "team"),
    "parents_lager": (PARENT_TALKS_LAGER, "oudergesprek", "teacher", "team", "parents"),
    "parents_kleuter": (PARENT_TALKS_KLEUTER, "oudergesprek", "teacher", "team", "parents"),
    "pupil": (PUPIL_TALKS, "leerlinggesprek", "teacher", "team", "team"),
    "other": (OTHER_NOTES, "overige", "teacher_or_zorg", "team", "team"),
    "rule": (RULE_BREACHES, "leefregel", "directie_or_zorg", None, "rule"),
    "family_talk": (FAMILY_TALKS, "oudergesprek", "directie", "directie", "family"),
    "family_note": (FAMILY_NOTES, "overige", "directie", "directie", "family"),
}
_MIX = {
    "lager": {
        "obs_lager": 0.34,
        "parents_lager": 0.24,
        "pupil": 0.17,
        "other": 0.1,
        "rule": 0.09,
        "family_talk": 0.04,
        "family_note": 0.02,
    },
    "kleuter": {"obs_kleuter": 0.55, "parents_kleuter": 0.34, "other": 0.06, "family_talk": 0.03, "family_note": 0.02},
}
WEAK_WEIGHT = 1.5  # pupils with a weak year (mean LVS percentile below 25) get this much more attention
DIRECTIE_RULE_SHARE = 0.6
ZORG_OTHER_SHARE = 0.5
CONFIDENTIAL_SHARE = 0.5


def _background(ctx: _Context, wanted: float) -> pd.DataFrame:
    """The everyday registrations, spread over enrolments by time at school (more for weaker pupils)."""
    rng = ctx.rng
    count = max(0, round(wanted / (1 + _expected_follow_up_share())))
    weight = ctx.exposure * (1 + WEAK_WEIGHT * (ctx.mean_percentile < 25))
    if count == 0 or weight.sum() <= 0:
        return _fill_defaults(pd.DataFrame({"pupil_idx": np.empty(0, np.int64)}))
    rows = np.sort(rng.choice(len(weight), size=count, p=weight / weight.sum()))
    start, end = ctx.win_start[rows], ctx.win_end[rows]
    day = start + (rng.random(count) * ((end - start).astype(np.int64) + 1)).astype(np.int64)
    day = np.busday_offset(day, 0, roll="backward")
    day = np.where(day < start, np.busday_offset(start, 0, roll="forward"), day)
    inside = day <= end  # a window of only a weekend day has no school day
    rows, day = rows[inside], day[inside]
    kind = np.empty(len(rows), object)
    level = ctx.level[rows]
    for name, mix in _MIX.items():
        here = np.flatnonzero(level == name)
        share = np.array(list(mix.values()))
        kind[here] = rng.choice(np.array(list(mix), object), len(here), p=share / share.sum())
    frames = [
        _background_kind(ctx, rows[kind == name], day[kind == name], *spec)
        for name, spec in _KINDS.items()
        if (kind == name).any()
    ]
    return _fill_defaults(pd.concat(frames, ignore_index=True))


def _background_kind(ctx: _Context, rows, day, pool, reg_type, writer, visibility, fu_pool) -> pd.DataFrame:
    rng = ctx.rng
    n = len(rows)
    texts = _pool_rows(rng, pool, n)
    teacher = ctx.teacher_user[rows]
    if writer == "teacher":
        author = np.where(pd.isna(teacher), ctx.zorg, teacher)
    elif writer == "teacher_or_zorg":
        author = np.where(pd.isna(teacher) | (rng.random(n) < ZORG_OTHER_SHARE), ctx.zorg, teacher)
    elif writer == "directie_or_zorg":
        author = np.where(rng.random(n) < DIRECTIE_RULE_SHARE, ctx.directie, ctx.zorg)
    else:
        author = np.full(n, ctx.directie, object)
    author = author.astype(object)
    if visibility is None:  # leefregel: the directie writes for itself, the zorgteam for the zorgteam
        vis = np.where(author == ctx.directie, "directie", "zorgteam").astype(object)
    else:
        vis = np.full(n, visibility, object)
    owner_kind = texts["owner"]
    owner = np.select(
        [owner_kind == "teacher", owner_kind == "zorg", owner_kind == "ouders", owner_kind == "directie"],
        [ctx.teacher_label[rows], ZORG_OWNER, "ouders", "directie"],
        np.where(author == ctx.directie, "directie", ZORG_OWNER),
    ).astype(object)
    owner[pd.isna(owner_kind)] = None
    days = texts["days"]
    planned = ~pd.isna(days)
    offset = np.where(planned, days, 0).astype(np.int64)
    evaluation = np.busday_offset(day, offset, roll="forward")
    # Agreements are evaluated in the same school year, before the summer.
    evaluation = np.maximum(np.minimum(evaluation, _last_week(ctx.start_year[rows])), day)
    evaluation = np.where(planned, evaluation, np.datetime64("NaT"))
    template = labels.TEMPLATES[reg_type]
    return pd.DataFrame(
        {
            "pupil_idx": ctx.pupil_idx[rows],
            "fact_date": day,
            "type": reg_type,
            "facts": texts["facts"],
            "interpretation": texts["interpretation"],
            "agreements": texts["agreements"],
            "owner": owner,
            "evaluation_date": evaluation,
            "domain": texts["domain"],
            "author": author,
            "visibility": vis,
            "transferable": labels.FORCED_TRANSFERABLE.get(reg_type, template.transferable),
            "confidential_third_parties": (rng.random(n) < CONFIDENTIAL_SHARE) & (fu_pool == "family"),
            "fu_pool": fu_pool,
        }
    )


def _expected_follow_up_share() -> float:
    """About how many follow-ups one everyday registration brings (to hit the volume target)."""
    share = 0.0
    for mix in _MIX.values():
        total = sum(mix.values())
        for name, weight in mix.items():
            pool = _KINDS[name][0]
            share += weight / total * sum(entry[4] is not None for entry in pool) / len(pool) / len(_MIX)
    return 0.9 * share


def _follow_ups(ctx: _Context, regs: pd.DataFrame, *, offset: int) -> pd.DataFrame:
    """An evaluatie of agreements that came due: always for old ones, half of the recent ones.

    `follows_ref` is the position of the evaluated row once `regs` is placed at `offset`.
    """
    rng, today = ctx.rng, ctx.today
    if regs.empty:
        return _fill_defaults(pd.DataFrame({"pupil_idx": np.empty(0, np.int64)}))
    due = regs["evaluation_date"].to_numpy().astype("datetime64[D]")
    ripe = ~np.isnat(due) & (due <= today)
    links = regs["follows_ref"].to_numpy() - offset
    ripe[links[(links >= 0) & (links < len(regs))]] = False  # already followed up (an MDO by the next one)
    age = (today - np.where(ripe, due, today)).astype(np.int64)
    chosen = ripe & ((age >= FOLLOW_UP_AFTER_DAYS) | (rng.random(len(regs)) < RECENT_FOLLOW_UP_SHARE))
    idx = np.flatnonzero(chosen)
    day = np.minimum(np.busday_offset(due[idx], rng.integers(0, 4, len(idx)), roll="forward"), today)
    pupil = regs["pupil_idx"].to_numpy()[idx]
    author = regs["author"].to_numpy()[idx]
    where = ctx.locate(pupil, day)
    # A few days late would fall in the summer holidays: then it happens on the day itself.
    day = np.where(where < 0, due[idx], day)
    where = ctx.locate(pupil, day)
    written = ctx.locate(pupil, regs["fact_date"].to_numpy().astype("datetime64[D]")[idx])
    # A teacher evaluates while the pupil is in their class; later the zorgcoördinator takes it up.
    moved_on = ~np.isin(author, [ctx.zorg, ctx.directie]) & (where != written)
    author = np.where(moved_on, ctx.zorg, author)
    ok = where >= 0
    idx, day, author = idx[ok], day[ok], author[ok]
    source = regs.iloc[idx]
    pools = source["fu_pool"].to_numpy()
    facts = np.empty(len(idx), object)
    for name, texts in FOLLOW_UPS.items():
        here = np.flatnonzero(pools == name)
        facts[here] = _pick(rng, texts, len(here))
    return _fill_defaults(
        pd.DataFrame(
            {
                "pupil_idx": source["pupil_idx"].to_numpy(),
                "fact_date": day,
                "type": "evaluatie",
                "facts": facts,
                "author": author,
                "visibility": source["visibility"].to_numpy(),
                "transferable": source["transferable"].to_numpy(),
                "confidential_third_parties": source["confidential_third_parties"].to_numpy(),
                "domain": source["domain"].to_numpy(),
                "fu_pool": "none",
                "follows_ref": offset + idx,
            }
        )
    )


# -- keys and versions ----------------------------------------------------------------------


def _with_keys(regs: pd.DataFrame) -> pd.DataFrame:
    """Keys in chronological order; `follows_ref` (a position in `regs`) becomes `follows_key`."""
    regs = regs.reset_index(drop=True)
    order = np.lexsort((np.arange(len(regs)), regs["pupil_idx"].to_numpy(), regs["fact_date"].to_numpy()))
    key_of_position = np.empty(len(regs), np.int64)
    key_of_position[order] = np.arange(len(regs))
    target = regs["follows_ref"].to_numpy()
    regs["follows_key"] = np.where(target >= 0, key_of_position[np.maximum(target, 0)], -1)
    regs = regs.iloc[order].reset_index(drop=True)
    regs["key"] = np.arange(len(regs))
    return regs.drop(columns="follows_ref")


def _versions(ctx: _Context, regs: pd.DataFrame) -> pd.DataFrame:
    """Version 1 of everything, plus a few corrected versions and a few withdrawals."""
    rng, today = ctx.rng, ctx.today
    n = len(regs)
    regs = regs.assign(created_at=_created(ctx, regs["fact_date"].to_numpy().astype("datetime64[D]")))
    kinds = regs["type"].to_numpy()
    settled = regs["fact_date"].to_numpy().astype("datetime64[D]") <= today - np.timedelta64(10, "D")
    followed = np.zeros(n, bool)
    links = regs["follows_key"].to_numpy()
    followed[links[links >= 0]] = True
    candidates = np.flatnonzero(np.isin(kinds, CORRECTABLE) & settled)
    n_corrected = min(len(candidates), round(CORRECTED_SHARE * n))
    corrected = np.sort(rng.choice(candidates, n_corrected, replace=False))
    # Withdrawn: a plain note nobody followed up (withdrawing an agreement would orphan its evaluation).
    free = np.isin(kinds, WITHDRAWABLE) & settled & ~followed & regs["evaluation_date"].isna().to_numpy()
    free[corrected] = False
    free = np.flatnonzero(free)
    n_withdrawn = min(len(free), max(1, round(WITHDRAWN_SHARE * n)))
    withdrawn = np.sort(rng.choice(free, n_withdrawn, replace=False))

    first = regs.copy()
    # Half of the corrections add the agreement that was missing, the others fix a typo in the facts.
    add_agreement = regs["agreements"].notna().to_numpy()[corrected] & (rng.random(len(corrected)) < 0.5)
    typos = np.array(
        [None if a else _typo(t, rng) for a, t in zip(add_agreement, regs["facts"].to_numpy()[corrected], strict=True)],
        object,
    )
    keep = add_agreement | ~pd.isna(typos)
    corrected, add_agreement, typos = corrected[keep], add_agreement[keep], typos[keep]
    first.loc[corrected[~add_agreement], "facts"] = typos[~add_agreement]
    first.loc[corrected[add_agreement], ["agreements", "owner"]] = None
    first.loc[corrected[add_agreement], "evaluation_date"] = pd.NaT
    second = regs.iloc[corrected].assign(created_at=_later(rng, regs["created_at"].to_numpy()[corrected], today))
    third = regs.iloc[withdrawn].assign(
        created_at=_later(rng, regs["created_at"].to_numpy()[withdrawn], today),
        withdrawn=True,
        withdrawal_reason=_pick(rng, WITHDRAWAL_REASONS, len(withdrawn)),
    )
    out = pd.concat([first.assign(version=1), second.assign(version=2), third.assign(version=2)], ignore_index=True)
    out["row"] = np.arange(len(out))
    # Version 1 of key k is row k (the first block), so that is what a version 2 supersedes.
    out["supersedes_row"] = np.where(out["version"].to_numpy() > 1, out["key"].to_numpy(), -1)
    out["pupil_number"] = ctx.pupil_number.reindex(out["pupil_idx"]).to_numpy()
    fact = out["fact_date"].to_numpy().astype("datetime64[D]")
    out["fact_date"] = fact
    out["evaluation_date"] = out["evaluation_date"].to_numpy().astype("datetime64[D]")
    out["school_year"] = _school_years(fact)
    out["withdrawn"] = out["withdrawn"].astype(bool)
    return out[REGISTRATION_COLUMNS]


CORRECTABLE = ("observatie", "oudergesprek", "leerlinggesprek", "mdo", "overige", "clb_terugkoppeling", "klassenraad")
WITHDRAWABLE = ("observatie", "oudergesprek", "leerlinggesprek", "overige")
REGISTRATION_COLUMNS = [
    "key",
    "row",
    "version",
    "supersedes_row",
    "pupil_idx",
    "pupil_number",
    "type",
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
    "report_kind",
    "follows_key",
    "author",
    "created_at",
    "withdrawn",
    "withdrawal_reason",
    "school_year",
    "phase_ref",
    "fu_pool",
]


def _typo(text: str, rng: np.random.Generator) -> str | None:
    """The text with two letters of one longer word swapped, as typed in a hurry."""
    words = list(re.finditer(r"[a-z]{7,}", text))
    if not words:
        return None
    word = words[int(rng.integers(len(words)))]
    i = word.start() + int(rng.integers(2, len(word.group()) - 2))
    if text[i] == text[i + 1]:
        return None
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


# -- small helpers --------------------------------------------------------------------------

_DEFAULTS = {
    "interpretation": None,
    "agreements": None,
    "owner": None,
    "evaluation_date": np.datetime64("NaT", "D"),
    "domain": None,
    "confidential_third_parties": False,
    "report_kind": None,
    "follows_ref": -1,
    "phase_ref": -1,
    "withdrawn": False,
    "withdrawal_reason": None,
    "fu_pool": "none",
}


def _fill_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """Every registration column present, missing values at their default, dates as days."""
    frame = frame.copy()
    for column, value in _DEFAULTS.items():
        if column not in frame:
            frame[column] = value
        elif value is not None and not isinstance(value, np.datetime64):
            frame[column] = frame[column].where(frame[column].notna(), value).astype(type(value))
    for column in ("fact_date", "evaluation_date"):
        if column in frame:
            frame[column] = frame[column].to_numpy().astype("datetime64[D]")
    return frame


def _day(value) -> np.datetime64:
    return np.datetime64(value, "D")


def _variants(text: str | None) -> list:
    if text is None:
        return [None]
    parts = re.split(r"\{([^{}]*)\}", text)
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


def _pick(rng: np.random.Generator, texts, n: int) -> np.ndarray:
    """n texts drawn from the pool, each template first, then one of its variants."""
    expanded = [_variants(t) for t in texts]
    flat = np.array([v for group in expanded for v in group], object)
    sizes = np.array([len(g) for g in expanded])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    entry = rng.integers(0, len(texts), n)
    variant = (rng.random(n) * sizes[entry]).astype(int)
    return flat[offsets[entry] + variant]


def _pool_rows(rng: np.random.Generator, pool, n: int) -> dict[str, np.ndarray]:
    entry = rng.integers(0, len(pool), n)
    out = {}
    for field, position in (("facts", 0), ("interpretation", 1), ("agreements", 2)):
        expanded = [_variants(e[position]) for e in pool]
        flat = np.array([v for group in expanded for v in group], object)
        sizes = np.array([len(g) for g in expanded])
        offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        out[field] = flat[offsets[entry] + (rng.random(n) * sizes[entry]).astype(int)]
    out["owner"] = np.array([e[3] for e in pool], object)[entry]
    out["days"] = np.array([e[4] for e in pool], object)[entry]
    out["domain"] = np.array([e[5] for e in pool], object)[entry]
    return out


def _domains(mask: int) -> list[str]:
    return [d for i, d in enumerate(DOMAIN_ORDER) if int(mask) >> i & 1]


def _domain_words(mask: int) -> str:
    words = [DOMAIN_WORDS[d] for d in _domains(mask)]
    if not words:
        return "geen domein"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " en " + words[-1]


def _first_domain_word(mask: int) -> str:
    found = _domains(mask)
    return DOMAIN_WORDS[found[0]] if found else "het werk"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _dates(years: np.ndarray, month: int, day: int) -> np.ndarray:
    years = np.asarray(years, np.int64)
    base = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    return base.astype("datetime64[D]") + (day - 1)


def _month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype(np.int64) % 12 + 1


def _start_year(days: np.ndarray) -> np.ndarray:
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    return np.where(_month(days) >= 9, year, year - 1)


def _school_years(days: np.ndarray) -> np.ndarray:
    start = _start_year(days)
    return np.char.add(np.char.add(start.astype(str), "-"), (start + 1).astype(str)).astype(object)


def _school_day(days):
    """Dates in July or August move to the second week of September: nobody evaluates in the holidays."""
    days = np.asarray(days, "datetime64[D]")
    summer = np.isin(_month(days), [7, 8])
    september = _dates(days.astype("datetime64[Y]").astype(np.int64) + 1970, 9, 8)
    return np.busday_offset(np.where(summer, september, days), 0, roll="forward")


def _last_week(start_year: np.ndarray) -> np.ndarray:
    """The last date for evaluating an agreement within a school year: a school day before 28 June."""
    return np.busday_offset(_dates(np.asarray(start_year) + 1, 6, 27), 0, roll="backward")


def _mdo_day(start_year: np.ndarray, moment: np.ndarray) -> np.ndarray:
    out = np.empty(len(start_year), "datetime64[D]")
    for name, (offset, month, day) in MDO_DAYS.items():
        here = moment == name
        out[here] = _dates(start_year[here] + offset, month, day)
    return np.busday_offset(out, 0, roll="forward")


def _phase_on(phases: pd.DataFrame, pupil_idx: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The care phase of each pupil on each day (0 when none was open)."""
    days = np.asarray(days, "datetime64[D]")
    if phases.empty:
        return np.zeros(len(days), int)
    ordered = phases.sort_values(["pupil_idx", "start_date"])
    start = ordered["start_date"].to_numpy().astype("datetime64[D]")
    end = ordered["end_date"].to_numpy().astype("datetime64[D]")
    keys = ordered["pupil_idx"].to_numpy().astype(np.int64) * 2**32 + start.astype(np.int64)
    query = np.asarray(pupil_idx, np.int64) * 2**32 + days.astype(np.int64)
    pos = np.searchsorted(keys, query, side="right") - 1
    safe = np.maximum(pos, 0)
    found = (pos >= 0) & (ordered["pupil_idx"].to_numpy()[safe] == pupil_idx)
    found &= np.isnat(end[safe]) | (days <= end[safe])
    return np.where(found, ordered["phase"].to_numpy()[safe], 0)


def _created(ctx: _Context, days: np.ndarray, *, spread: bool = True) -> np.ndarray:
    """Entry timestamps: the day itself or a few days later, during school hours, never after today."""
    rng = ctx.rng
    n = len(days)
    delay = rng.choice([0, 1, 2, 3], n, p=[0.6, 0.25, 0.1, 0.05]) if spread else np.zeros(n, int)
    day = np.minimum(np.asarray(days, "datetime64[D]") + delay, ctx.today)
    seconds = rng.integers(8 * 3600, 18 * 3600, n)
    return day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def _later(rng: np.random.Generator, created: np.ndarray, today: np.datetime64) -> np.ndarray:
    """A later timestamp for a new version: one to seven days on, at most the evening of today."""
    created = np.asarray(created, "datetime64[s]")
    later = created + (rng.integers(1, 8, len(created)) * 86400 + rng.integers(0, 3600, len(created))).astype(
        "timedelta64[s]"
    )
    limit = (today + np.timedelta64(1, "D")).astype("datetime64[s]") - np.timedelta64(60, "s")
    return np.maximum(np.minimum(later, limit), created + np.timedelta64(60, "s"))


def _reserve(cur, sequence: str, n: int) -> np.ndarray:
    """n fresh ids of a sequence, ascending, so the plan's order becomes the id order."""
    if n == 0:
        return np.empty(0, np.int64)
    ids = cur.execute(f"SELECT nextval('{sequence}') AS id FROM range(?) ORDER BY id", [n]).fetchnumpy()["id"]
    return np.asarray(ids, np.int64)


def _linked_ids(positions: np.ndarray, ids: np.ndarray) -> pd.Series:
    """Ids for plan positions; -1 (no link) becomes NULL."""
    linked = positions >= 0
    values = np.zeros(len(positions), np.int64)
    values[linked] = ids[positions[linked]]
    return pd.Series(pd.array(values, dtype="Int64")).mask(~linked).to_numpy()


def _insert(cur, frame: pd.DataFrame, sql: str) -> None:
    """One INSERT ... SELECT from `frame`; a row lost in the joins (no pupil, no author) aborts everything."""
    if frame.empty:
        return
    cur.register("demo_frame", frame)
    try:
        inserted = cur.execute(sql).fetchone()[0]
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses this too; the error matters
            cur.unregister("demo_frame")
    if inserted != len(frame):
        raise RuntimeError(f"demo dossier: {inserted} of {len(frame)} rows inserted")
