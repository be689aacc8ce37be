"""The demo school: a clearly fictitious Flemish primary school written straight into the database.

`build_demo` plans three school years (the current one and the two before it) in memory with
numpy, generates the LVS results (`pipelines.demo_results`), then writes everything in ONE
transaction through registered DataFrames, so a crash leaves nothing half-written and 20,000
pupils take seconds. The current school year holds only what already happened by `today`.
`pupils` is the size of the school in one year; over three years there are more distinct
pupils (new K1 intakes, arrivals).
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dossier import audit
from dossier.access import User
from dossier.db import Database, default_path, get_setting, set_setting
from dossier.instruments import zone_bands
from dossier.schoolyear import bounds, format_date, school_year_of, shift
from dossier.users import SYSTEM_USER, hash_password
from pipelines import demo_names
from pipelines.demo_dossier import (
    DEFAULT_REGISTRATIONS_PER_PUPIL_YEAR,
    DossierPlanError,
    check_rate,
    dossier_counts,
    plan_dossier,
    write_dossier,
)
from pipelines.demo_results import generate_results

SCHOOL_NAME = "Demoschool De Regenboog (fictief)"
DEMO_PASSWORD = "demo1234"
MIN_PUPILS = 9  # one per grade
MAX_PUPILS = 100_000
YEARS = 3
MAX_CLASS_SIZE = 27

# Grade slots in school order; a pupil moves one slot up per school year.
SLOTS: tuple[tuple[str, int], ...] = (
    ("kleuter", 1),
    ("kleuter", 2),
    ("kleuter", 3),
    *(("lager", g) for g in range(1, 7)),
)
LAST_SLOT = len(SLOTS) - 1
L1_SLOT = 3

# Yearly movements, as shares of the school's population.
MIDYEAR_LEAVE_SHARE = 0.015
MIDYEAR_ARRIVAL_SHARE = 0.015
SUMMER_LEAVE_SHARE = 0.025
SUMMER_ARRIVAL_SHARE = 0.02
REPEAT_K3_SHARE = 0.02  # an extra year of kleuter
REPEAT_LAGER_SHARE = 0.015
EARLIER_REPEAT_SHARE = 0.03  # pupils already a year older than their grade at the start

OTHER_STAFF = (
    # username, display name, role
    ("directie", "An Willems", "directie"),
    ("zorg", "Els Jacobs", "zorgteam"),
    ("clb", "Pieter Claes", "clb"),
    ("beheer", "Bart Mertens", "beheerder"),
)

Progress = Callable[[str], None]


class DemoError(ValueError):
    """A Dutch message: the demo school cannot be built here."""


@dataclass
class Roster:
    """Everything but the results, keyed by natural keys (pupil_number, school year + class name)."""

    years: list[str]
    pupils: pd.DataFrame  # pupil_idx, pupil_number, first_name, last_name, birth_date, gender
    enrolments: pd.DataFrame  # pupil_idx, pupil_number, school_year, year_index, start_year, level, grade, ...
    classes: pd.DataFrame  # school_year, name, level, grade, parallel
    staff: pd.DataFrame  # username, display_name, role
    assignments: pd.DataFrame  # username, school_year, class_name


# -- public API ---------------------------------------------------------------------------


def is_demo(db: Database) -> bool:
    return get_setting(db, "demo_mode") == "1"


def demo_accounts(db: Database) -> list[dict]:
    """The demo accounts for the sign-in page: [{username, name, role, classes}], empty when not demo."""
    if not is_demo(db):
        return []
    try:
        accounts = json.loads(get_setting(db, "demo_accounts", "[]") or "[]")
    except ValueError:
        return []
    return accounts if isinstance(accounts, list) else []


def build_demo(
    db: Database,
    pupils: int = 250,
    seed: int = 2024,
    today: date | None = None,
    progress: Progress | None = None,
    *,
    actor: User | None = None,
    registrations_per_pupil_year: float = DEFAULT_REGISTRATIONS_PER_PUPIL_YEAR,
    years: int = YEARS,
) -> dict:
    """Build the demo school in an empty database; returns summary counts. Raises DemoError."""
    started = time.perf_counter()
    today = today or date.today()
    say = progress or (lambda _message: None)
    _check_size(pupils)
    try:
        check_rate(registrations_per_pupil_year)
    except DossierPlanError as exc:
        raise DemoError(str(exc)) from None
    existing = _pupil_count(db)
    if existing:
        raise DemoError(_not_empty_message(existing))
    with db.cursor() as cur:
        taken = {row[0] for row in cur.execute("SELECT username FROM staff_user").fetchall()}

    if not 1 <= int(years) <= 12:
        raise DemoError("Het aantal schooljaren moet tussen 1 en 12 liggen.")
    roster = plan_roster(pupils, seed, today, taken_usernames=taken, years=int(years))
    say(
        f"{SCHOOL_NAME}: schooljaren {roster.years[0]} tot {roster.years[-1]}, stand van zaken op {format_date(today)}."
    )
    say(
        f"Leerlingen en klassen gepland: {roster.pupils.shape[0]} leerlingen, "
        f"{roster.classes.shape[0]} klassen, {roster.staff.shape[0]} personeelsaccounts."
    )
    zorg_name = roster.staff.loc[roster.staff["role"] == "zorgteam", "display_name"].iloc[0]
    results = generate_results(
        roster.enrolments, roster.pupils.shape[0], seed, today, zorg_name, progress=say, bands=zone_bands(db)
    )
    dossier = plan_dossier(roster, results, seed, today, registrations_per_pupil_year=registrations_per_pupil_year)
    dossier_summary = dossier_counts(dossier)
    say(
        f"Dossier: {_n(dossier_summary['registrations'])} registraties, {_n(dossier_summary['care_phases'])} "
        f"zorgfasen, {_n(dossier_summary['measures'])} maatregelen gepland."
    )
    password_hash = hash_password(DEMO_PASSWORD)  # one public password: one hash serves every demo account
    accounts = _accounts(roster)
    say("Alles wegschrijven in de databank (één transactie)…")

    def write(cur):
        found = cur.execute("SELECT count(*) FROM pupil").fetchone()[0]
        if found:  # someone filled the file since the check above
            raise DemoError(_not_empty_message(found))
        _write_roster(cur, roster, password_hash)
        for table, frame in results.items():
            _insert_results(cur, table, frame)
        write_dossier(cur, dossier)
        set_setting(cur, "demo_mode", "1")
        set_setting(cur, "school_name", SCHOOL_NAME)
        set_setting(cur, "demo_accounts", json.dumps(accounts, ensure_ascii=False))
        audit.record(
            cur,
            actor or SYSTEM_USER,
            "create",
            object="demoschool",
            detail=f"demoschool aangemaakt: {roster.pupils.shape[0]} leerlingen, {len(accounts)} accounts",
        )

    db.write(write)
    enrol = roster.enrolments
    return {
        "school_name": SCHOOL_NAME,
        "school_years": roster.years,
        "today": today.isoformat(),
        "pupils": int(roster.pupils.shape[0]),
        "pupils_per_year": {y: int(n) for y, n in enrol.groupby("school_year").size().items()},
        "classes": int(roster.classes.shape[0]),
        "classes_per_year": {y: int(n) for y, n in roster.classes.groupby("school_year").size().items()},
        "results": {_INSTRUMENT_LABELS[t]: int(f.shape[0]) for t, f in results.items()},
        "dossier": dossier_summary,
        "accounts": accounts,
        "password": DEMO_PASSWORD,
        "seconds": round(time.perf_counter() - started, 2),
    }


def cli_demo(args) -> int:
    """`python -m pipelines demo [--db PATH] [--pupils N] [--seed S] [--if-empty]`."""
    try:
        _check_size(args.pupils)
    except DemoError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 2
    db = Database(Path(args.db) if args.db else default_path())
    try:
        existing = _pupil_count(db)
        if existing and args.if_empty:
            print(f"De databank bevat al {_n(existing)} leerlingen: geen demoschool aangemaakt (overgeslagen).")
            return 0
        try:
            summary = build_demo(
                db,
                pupils=args.pupils,
                seed=args.seed,
                years=getattr(args, "years", YEARS),
                progress=lambda m: print(m, flush=True),
            )
        except DemoError as exc:
            print(f"Fout: {exc}", file=sys.stderr)
            return 1
        except duckdb.Error as exc:  # one transaction: nothing of the demo was kept
            print(f"Fout bij het wegschrijven, er is niets opgeslagen: {exc}", file=sys.stderr)
            return 1
        print(format_summary(summary))
        return 0
    finally:
        db.close()


def format_summary(summary: dict) -> str:
    years = summary["school_years"]
    per_year = ", ".join(f"{y}: {_n(summary['pupils_per_year'].get(y, 0))}" for y in years)
    results = ", ".join(f"{label} {_n(n)}" for label, n in summary["results"].items())
    lines = [
        f"Klaar in {str(summary['seconds']).replace('.', ',')} s: {summary['school_name']}, "
        f"schooljaren {years[0]} tot {years[-1]}.",
        f"  Leerlingen: {_n(summary['pupils'])} ({per_year})",
        f"  Klassen: {_n(summary['classes'])} ({', '.join(str(summary['classes_per_year'].get(y, 0)) for y in years)}"
        " per schooljaar)",
        f"  Resultaten: {results}",
        _dossier_line(summary["dossier"]),
        f"  Accounts (wachtwoord voor allemaal: {summary['password']}):",
    ]
    shown = 20
    for account in summary["accounts"][:shown]:
        classes = f" ({', '.join(account['classes'])})" if account["classes"] else ""
        lines.append(f"    {account['username']:<16} {account['name']}, {account['role']}{classes}")
    if len(summary["accounts"]) > shown:
        lines.append(f"    … en nog {len(summary['accounts']) - shown} accounts")
    return "\n".join(lines)


def _dossier_line(counts: dict) -> str:
    phases = ", ".join(f"fase {p}: {_n(n)}" for p, n in counts["open_phases"].items())
    return (
        f"  Dossier: {_n(counts['registrations'])} registraties ({_n(counts['corrected'])} gecorrigeerd, "
        f"{_n(counts['withdrawn'])} ingetrokken), zorgfasen nu {phases}; {_n(counts['measures'])} maatregelen, "
        f"{_n(counts['measure_evaluations'])} evaluaties"
    )


# -- planning -----------------------------------------------------------------------------


class _Population:
    """Pupils as growing numpy columns; `slot` is the grade slot, `active` whether still at school."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.birth = np.empty(0, "datetime64[D]")
        self.gender = np.empty(0, object)
        self.first = np.empty(0, object)
        self.last = np.empty(0, object)
        self.joined = np.empty(0, int)
        self.key = np.empty(0, float)
        self.slot = np.empty(0, int)
        self.active = np.empty(0, bool)

    def add(self, slots: np.ndarray, start_year: int, joined: np.ndarray | int) -> np.ndarray:
        rng, n = self.rng, len(slots)
        slots = np.asarray(slots, int)
        # Flemish L1 starts the calendar year a child turns 6, so K1 the year it turns 3.
        birth_year = start_year - slots - 3
        birth_year -= (slots >= L1_SLOT + 1) & (rng.random(n) < EARLIER_REPEAT_SHARE)
        birth = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(0, 365, n)
        gender = rng.choice(np.array(["M", "V", "X"], object), size=n, p=[0.497, 0.497, 0.006])
        first, last = _names(rng, gender)
        start = len(self.slot)
        self.birth = np.concatenate([self.birth, birth])
        self.gender = np.concatenate([self.gender, gender])
        self.first = np.concatenate([self.first, first])
        self.last = np.concatenate([self.last, last])
        self.joined = np.concatenate([self.joined, np.broadcast_to(np.asarray(joined, int), n)])
        self.key = np.concatenate([self.key, rng.random(n)])
        self.slot = np.concatenate([self.slot, slots])
        self.active = np.concatenate([self.active, np.ones(n, bool)])
        return np.arange(start, start + n)


def _names(rng: np.random.Generator, gender: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = list(demo_names.ORIGINS)
    weights = np.array([demo_names.ORIGINS[k][0] for k in keys])
    n = len(gender)
    origin = rng.choice(len(keys), size=n, p=weights / weights.sum())
    first_origin = np.where(rng.random(n) < demo_names.SHARED_FIRST_NAME_SHARE, 0, origin)
    boyish = (gender == "M") | ((gender == "X") & (rng.random(n) < 0.5))
    first = np.empty(n, object)
    last = np.empty(n, object)
    for i, key in enumerate(keys):
        _, boys, girls, surnames = demo_names.ORIGINS[key]
        here = origin == i
        last[here] = rng.choice(np.array(surnames, object), size=int(here.sum()))
        for names, mask in ((boys, boyish), (girls, ~boyish)):
            pick = (first_origin == i) & mask
            first[pick] = rng.choice(np.array(names, object), size=int(pick.sum()))
    return first, last


def _random_weekdays(rng: np.random.Generator, first: date, last: date, n: int) -> np.ndarray:
    days = np.datetime64(first, "D") + rng.integers(0, (last - first).days + 1, n)
    return np.busday_offset(days, 0, roll="forward")


def plan_roster(pupils: int, seed: int, today: date, *, taken_usernames=frozenset(), years: int = YEARS) -> Roster:
    """Pupils, enrolments, classes and staff of `years` school years (default three) up to the
    current one; pure and deterministic. The benchmark asks for more years."""
    rng = np.random.default_rng([_seed(seed), 1])
    current = school_year_of(today)
    span = years
    years = [shift(current, k - span + 1) for k in range(span)]
    cohort = pupils / len(SLOTS)
    pop = _Population(rng)
    nat = np.datetime64("NaT", "D")
    today64 = np.datetime64(today, "D")

    def cohort_size() -> int:
        return max(1, round(cohort * rng.uniform(0.75, 1.25)))

    records = []
    for yi, year in enumerate(years):
        start = int(year[:4])
        is_current = yi == span - 1
        if yi == 0:
            for slot in range(len(SLOTS)):
                n = cohort_size()
                # Most joined in K1; some came later, which shows in their pupil number.
                later = np.where(rng.random(n) < 0.2, rng.integers(0, slot + 1, n), 0)
                pop.add(np.full(n, slot), start, start - slot + later)
        else:
            pop.add(np.zeros(cohort_size(), int), start, start)
            arrivals = rng.binomial(int(pop.active.sum()), SUMMER_ARRIVAL_SHARE)
            pop.add(rng.integers(1, len(SLOTS), arrivals), start, start)
        roster = np.flatnonzero(pop.active)
        size = len(roster)
        leave = np.full(size, nat)
        leavers = rng.choice(size, rng.binomial(size, MIDYEAR_LEAVE_SHARE), replace=False)
        leave_dates = _random_weekdays(rng, date(start, 11, 1), date(start + 1, 5, 31), len(leavers))
        if is_current:  # only what already happened
            leavers, leave_dates = leavers[leave_dates <= today64], leave_dates[leave_dates <= today64]
        leave[leavers] = leave_dates
        arrival_dates = _random_weekdays(
            rng, date(start, 10, 15), date(start + 1, 4, 30), rng.binomial(size, MIDYEAR_ARRIVAL_SHARE)
        )
        if is_current:
            arrival_dates = arrival_dates[arrival_dates <= today64]
        newcomers = pop.add(rng.integers(0, len(SLOTS), len(arrival_dates)), start, start)
        pop.active[roster[leavers]] = False
        idx = np.concatenate([roster, newcomers])  # sorted: newcomers have the highest indices
        entry = np.concatenate([np.full(size, nat), arrival_dates])
        leave = np.concatenate([leave, np.full(len(newcomers), nat)])
        if not is_current:
            staying = np.flatnonzero(pop.active)
            slot = pop.slot[staying]
            draw = rng.random(len(staying))
            graduates = slot == LAST_SLOT
            summer = ~graduates & (draw < SUMMER_LEAVE_SHARE)
            repeat_draw = rng.random(len(staying))
            repeaters = (
                ~graduates
                & ~summer
                & (
                    ((slot == L1_SLOT - 1) & (repeat_draw < REPEAT_K3_SHARE))
                    | ((slot >= L1_SLOT) & (repeat_draw < REPEAT_LAGER_SHARE))
                )
            )
            gone = graduates | summer
            leave[np.searchsorted(idx, staying[gone])] = np.datetime64(date(start + 1, 6, 30), "D")
            pop.active[staying[gone]] = False
            records.append((yi, idx, pop.slot[idx].copy(), entry, leave))
            pop.slot[staying[~gone & ~repeaters]] += 1
        else:
            records.append((yi, idx, pop.slot[idx].copy(), entry, leave))

    enrol = pd.DataFrame(
        {
            "pupil_idx": np.concatenate([r[1] for r in records]),
            "year_index": np.concatenate([np.full(len(r[1]), r[0]) for r in records]),
            "slot": np.concatenate([r[2] for r in records]),
            "entry_date": np.concatenate([r[3] for r in records]),
            "leave_date": np.concatenate([r[4] for r in records]),
        }
    )
    pupil_frame = _pupil_frame(pop, enrol)
    enrol, classes = _assign_classes(enrol, pop.key, years)
    staff, assignments, teacher_label = _staff(rng, classes, years[-1], set(taken_usernames))
    enrol["teacher"] = (enrol["slot"].astype(str) + "/" + enrol["parallel"]).map(teacher_label)
    enrol = enrol.merge(pupil_frame[["pupil_idx", "pupil_number"]], on="pupil_idx", how="left")
    enrol = enrol.sort_values(["year_index", "pupil_idx"], ignore_index=True)
    return Roster(years, pupil_frame, enrol, classes, staff, assignments)


def _pupil_frame(pop: _Population, enrol: pd.DataFrame) -> pd.DataFrame:
    used = np.unique(enrol["pupil_idx"].to_numpy())  # arrivals after `today` were dropped before adding
    frame = pd.DataFrame(
        {
            "pupil_idx": used,
            "first_name": pop.first[used],
            "last_name": pop.last[used],
            "birth_date": pop.birth[used],
            "gender": pop.gender[used],
            "joined": pop.joined[used],
        }
    )
    frame = frame.sort_values(["joined", "pupil_idx"], ignore_index=True)
    seq = frame.groupby("joined").cumcount() + 1
    width = max(3, len(str(int(seq.max()))))
    # Like the school's own numbers: two digits of the year of registration, then a sequence.
    frame["pupil_number"] = (frame["joined"] % 100).astype(str).str.zfill(2) + seq.astype(str).str.zfill(width)
    return frame.sort_values("pupil_idx", ignore_index=True).drop(columns="joined")


def _parallel_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _assign_classes(enrol: pd.DataFrame, keys: np.ndarray, years: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    enrol = enrol.copy()
    enrol["key"] = keys[enrol["pupil_idx"].to_numpy()]
    enrol = enrol.sort_values(["year_index", "slot", "key"], ignore_index=True)
    # One class per grade and year, or as many parallels as needed to stay under the maximum;
    # the fixed key per pupil keeps class mates together from year to year.
    rank = enrol.groupby(["year_index", "slot"]).cumcount().to_numpy()
    group_size = enrol.groupby(["year_index", "slot"])["key"].transform("size").to_numpy()
    count = np.maximum(1, np.ceil(group_size / MAX_CLASS_SIZE)).astype(int)
    par_index = rank * count // group_size
    enrol["parallel"] = [_parallel_name(int(i)) for i in par_index]
    level = np.array([s[0] for s in SLOTS], object)
    grade = np.array([s[1] for s in SLOTS])
    enrol["level"] = level[enrol["slot"].to_numpy()]
    enrol["grade"] = grade[enrol["slot"].to_numpy()]
    prefix = np.where(enrol["level"] == "kleuter", "K", "L")
    enrol["class_name"] = prefix + enrol["grade"].astype(str) + enrol["parallel"]
    enrol["school_year"] = np.array(years, object)[enrol["year_index"].to_numpy()]
    enrol["start_year"] = enrol["school_year"].str[:4].astype(int)
    classes = (
        enrol[["school_year", "class_name", "level", "grade", "parallel", "slot"]]
        .drop_duplicates(["school_year", "class_name"])
        .rename(columns={"class_name": "name"})
        .sort_values(["school_year", "slot", "parallel"], ignore_index=True)
    )
    return enrol.drop(columns="key"), classes


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", ascii_text)


def _staff(
    rng: np.random.Generator, classes: pd.DataFrame, current: str, taken: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Fixed accounts plus one teacher per class of the current year, who keeps that grade and parallel."""

    def free(base: str) -> str:
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        return name

    rows = [(free(u), name, role) for u, name, role in OTHER_STAFF]
    women = list(rng.permutation(demo_names.STAFF_WOMEN))
    men = list(rng.permutation(demo_names.STAFF_MEN))
    teacher_of: dict[str, str] = {}
    labels: dict[str, str] = {}
    for row in classes[classes["school_year"] == current].itertuples():
        woman = rng.random() < (0.95 if row.level == "kleuter" else 0.75)
        pool, title = (women, "juf") if woman else (men, "meester")
        first = pool.pop(0)
        pool.append(first)  # cycle through the names; usernames get a number once they repeat
        last = demo_names.STAFF_LAST_NAMES[int(rng.integers(len(demo_names.STAFF_LAST_NAMES)))]
        username = free(f"{title}.{_slug(first)}")
        label = f"{title} {first}"
        rows.append((username, f"{first} {last}", "leerkracht"))
        teacher_of[f"{row.slot}/{row.parallel}"] = username
        labels[f"{row.slot}/{row.parallel}"] = label
    staff = pd.DataFrame(rows, columns=["username", "display_name", "role"])
    classes = classes.assign(key=classes["slot"].astype(str) + "/" + classes["parallel"])
    taught = classes[classes["key"].isin(teacher_of)]
    assignments = pd.DataFrame(
        {
            "username": taught["key"].map(teacher_of).to_numpy(),
            "school_year": taught["school_year"].to_numpy(),
            "class_name": taught["name"].to_numpy(),
        }
    )
    return staff, assignments, labels


def _accounts(roster: Roster) -> list[dict]:
    current = roster.years[-1]
    mine = roster.assignments[roster.assignments["school_year"] == current]
    classes = mine.groupby("username")["class_name"].agg(list).to_dict()
    return [
        {
            "username": row.username,
            "name": row.display_name,
            "role": row.role,
            "classes": classes.get(row.username, []),
        }
        for row in roster.staff.itertuples()
    ]


# -- writing ------------------------------------------------------------------------------

_INSTRUMENT_LABELS = {
    "lvs_result": "LVS-VCLB",
    "avi_result": "AVI",
    "dmt_result": "DMT",
    "idp_result": "IDP",
    "wellbeing_result": "welbevinden",
}


def _write_roster(cur, roster: Roster, password_hash: str) -> None:
    for year in roster.years:
        start, end = bounds(year)
        cur.execute("INSERT INTO school_year VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [year, start, end])
    with _registered(cur, "demo_classes", roster.classes):
        cur.execute(
            "INSERT INTO class (school_year, name, level, grade, parallel)"
            " SELECT school_year, name, level, grade, parallel FROM demo_classes"
            " ON CONFLICT (school_year, name) DO NOTHING"
        )
    with _registered(cur, "demo_pupils", roster.pupils):
        cur.execute(
            "INSERT INTO pupil (pupil_number, first_name, last_name, birth_date, gender)"
            " SELECT pupil_number, first_name, last_name, CAST(birth_date AS DATE), gender"
            " FROM demo_pupils ORDER BY pupil_idx"
        )
    enrol = roster.enrolments[["pupil_number", "school_year", "class_name", "entry_date", "leave_date"]]
    with _registered(cur, "demo_enrolments", enrol):
        cur.execute(
            "INSERT INTO enrolment (pupil_id, school_year, class_id, entry_date, leave_date)"
            " SELECT p.id, e.school_year, c.id, CAST(e.entry_date AS DATE), CAST(e.leave_date AS DATE)"
            " FROM demo_enrolments e JOIN pupil p ON p.pupil_number = e.pupil_number"
            " JOIN class c ON c.school_year = e.school_year AND c.name = e.class_name"
        )
    staff = roster.staff.assign(password_hash=password_hash)
    with _registered(cur, "demo_staff", staff):
        cur.execute(
            "INSERT INTO staff_user (username, display_name, role, password_hash)"
            " SELECT username, display_name, role, password_hash FROM demo_staff"
        )
    with _registered(cur, "demo_assignments", roster.assignments):
        cur.execute(
            "INSERT INTO class_assignment (user_id, class_id)"
            " SELECT u.id, c.id FROM demo_assignments a JOIN staff_user u ON u.username = a.username"
            " JOIN class c ON c.school_year = a.school_year AND c.name = a.class_name"
        )


def _insert_results(cur, table: str, frame: pd.DataFrame) -> None:
    columns = [c for c in frame.columns if c not in ("pupil_number", "class_name")]
    select = ", ".join(f"CAST(r.{c} AS DATE)" if c in ("test_date", "observed_on") else f"r.{c}" for c in columns)
    with _registered(cur, "demo_results", frame):
        cur.execute(
            f"INSERT INTO {table} (pupil_id, class_id, {', '.join(columns)})"
            f" SELECT p.id, c.id, {select} FROM demo_results r"
            " JOIN pupil p ON p.pupil_number = r.pupil_number"
            " JOIN class c ON c.school_year = r.school_year AND c.name = r.class_name"
        )


class _registered:
    """Register a DataFrame as a view for the duration of one statement."""

    def __init__(self, cur, name: str, frame: pd.DataFrame):
        self.cur, self.name, self.frame = cur, name, frame

    def __enter__(self):
        self.cur.register(self.name, self.frame)

    def __exit__(self, *exc):
        # After a failed statement the transaction is aborted and unregister fails too; the
        # original error must reach the caller (and the cursor, views included, is closed anyway).
        with suppress(duckdb.Error):
            self.cur.unregister(self.name)


# -- small helpers ------------------------------------------------------------------------


def _seed(seed: int) -> int:
    return int(seed) % (2**63)  # numpy wants a non-negative seed; any integer the user types is fine


def _check_size(pupils) -> None:
    if not isinstance(pupils, int) or isinstance(pupils, bool) or not MIN_PUPILS <= pupils <= MAX_PUPILS:
        raise DemoError(
            f"Het aantal leerlingen moet een geheel getal tussen {MIN_PUPILS} en {_n(MAX_PUPILS)} zijn "
            f"(gekregen: {pupils})."
        )


def _pupil_count(db: Database) -> int:
    with db.cursor() as cur:
        return cur.execute("SELECT count(*) FROM pupil").fetchone()[0]


def _not_empty_message(count: int) -> str:
    return (
        f"De databank bevat al {_n(count)} leerlingen. De demoschool wordt enkel in een lege databank "
        "aangemaakt: kies een nieuw bestand met --db, of gebruik --if-empty om dit stil over te slaan."
    )


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")
