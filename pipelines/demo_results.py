"""LVS results for the demo school, generated from per-pupil latent traits.

Every pupil gets a general ability, a profile per LVS-VCLB domain, a reading trait, a trend and
a wellbeing trait. Each instrument reads these traits with its own noise, so a pupil's results
agree with each other over instruments and years, and the weakest few pupils stay in zone E.
Percentiles come from standard-normal scores, so zones land near the 25/25/25/15/10 split.

Rows carry the natural keys (pupil_number, school_year + class_name) and are joined to ids
when written. A result exists only on days the pupil was enrolled and not after `today`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date

import numpy as np
import pandas as pd

from dossier import instruments

DOMAINS = instruments.LVS_DOMAINS
TECHNISCH_LEZEN_MAX_GRADE = 3
STRUGGLING_SHARE = 0.02
LVS_MAX_SCORE = {"wiskunde": 60, "spelling": 50, "technisch_lezen": 50, "begrijpend_lezen": 40}
MOMENTS = instruments.MOMENTS

# (years after the start of the school year, month, day): the first possible day of a test.
LVS_DATES = {"begin": (0, 10, 1), "midden": (1, 2, 1), "eind": (1, 6, 1)}
DMT_DATES = {"begin": (0, 10, 8), "midden": (1, 1, 20), "eind": (1, 6, 8)}
AVI_DATES = {"midden": (1, 2, 9), "eind": (1, 6, 12)}
WELLBEING_DATES = {"herfst": (0, 10, 14), "winter": (1, 1, 26), "lente": (1, 5, 11)}
IDP_DATES = {"IDP4": (1, 5, 20), "IDP6": (1, 6, 11)}
IDP_GRADE = {"IDP4": 4, "IDP6": 6}

AVI_LEVELS = instruments.AVI_LEVELS
DMT_VERSIONS = {"begin": "A", "midden": "B", "eind": "C"}
DMT_NORM_SET = "LVS-taal"

# (area, part, maximum, difficulty: higher is easier); frans and gegevensverwerking only in IDP6.
IDP_PARTS = (
    ("wiskunde", "getallenkennis", 20, 0.6),
    ("wiskunde", "bewerkingen", 20, 0.5),
    ("wiskunde", "meten_en_metend_rekenen", 15, 0.3),
    ("wiskunde", "meetkunde", 15, 0.5),
    ("wiskunde", "gegevensverwerking", 10, 0.6),
    ("nederlands", "lezen", 20, 0.5),
    ("nederlands", "luisteren", 12, 0.8),
    ("nederlands", "taalbeschouwing", 12, 0.4),
    ("nederlands", "spelling", 20, 0.4),
    ("frans", "lezen", 12, 0.6),
    ("frans", "luisteren", 12, 0.7),
    ("wetenschappen_techniek", "natuur", 15, 0.6),
    ("wetenschappen_techniek", "techniek", 10, 0.5),
    ("mens_maatschappij", "tijd", 10, 0.4),
    ("mens_maatschappij", "ruimte", 10, 0.5),
    ("mens_maatschappij", "maatschappij", 10, 0.6),
)
IDP6_ONLY = {("frans", "lezen"), ("frans", "luisteren"), ("wiskunde", "gegevensverwerking")}

WELLBEING_CONTEXTS = ("hoekenwerk", "kring", "buitenspel", "contractwerk", "knutselen")
LVS_REMARKS = ("afgenomen in kleine groep", "extra tijd gekregen")


def _zones(percentiles: np.ndarray, bands: Mapping[str, float] | None) -> np.ndarray:
    return instruments.zones_for_percentiles(pd.Series(percentiles), bands).to_numpy(dtype=object)


def generate_results(
    enrolments: pd.DataFrame,
    n_pupils: int,
    seed: int,
    today: date,
    administrator: str,
    progress: Callable[[str], None] | None = None,
    bands: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Result rows per table name (lvs_result, avi_result, ...), ready to join to ids.

    `bands` is the school's zone band table (default: the published one).
    """
    say = progress or (lambda _message: None)
    rng = np.random.default_rng([int(seed) % (2**63), 2])
    size = max(n_pupils, int(enrolments["pupil_idx"].max()) + 1)
    traits = _Traits(rng, size)
    today64 = pd.Timestamp(today)
    out = {}
    for table, label, make in (
        ("lvs_result", "LVS-VCLB", _lvs),
        ("avi_result", "AVI", _avi),
        ("dmt_result", "DMT", _dmt),
        ("idp_result", "IDP4 en IDP6", _idp),
        ("wellbeing_result", "welbevinden en betrokkenheid", _wellbeing),
    ):
        frame = make(enrolments, traits, rng, today64, administrator, bands)
        out[table] = frame.reset_index(drop=True)
        say(f"{label}: {len(frame):,} resultaten gegenereerd.".replace(",", "."))
    return out


class _Traits:
    def __init__(self, rng: np.random.Generator, n: int):
        ability = rng.standard_normal(n)
        # Standardised in the sample so a small school does not drift away from the norm split.
        self.ability = (ability - ability.mean()) / (ability.std() or 1.0)
        # The weakest 2 %: the few pupils who stay in zone E and come back at every MDO.
        self.struggling = self.ability <= np.quantile(self.ability, STRUGGLING_SHARE)
        self.domain = rng.standard_normal((n, len(DOMAINS)))
        self.trend = rng.standard_normal(n)
        reading = 0.7 * self.ability + 0.7 * self.domain[:, DOMAINS.index("technisch_lezen")]
        self.reading = reading / reading.std()
        self.wellbeing = rng.standard_normal(n)
        self.other = rng.standard_normal((n, 3))  # frans, wetenschappen_techniek, mens_maatschappij


# -- shared helpers -----------------------------------------------------------------------


def _phi(z: np.ndarray) -> np.ndarray:
    erf = np.frompyfunc(math.erf, 1, 1)
    return 0.5 * (1.0 + erf(np.asarray(z, float) / math.sqrt(2.0)).astype(float))


def _percentile(z: np.ndarray) -> np.ndarray:
    return np.clip(np.ceil(_phi(z) * 100), 1, 99)


def _standardise(z: np.ndarray) -> np.ndarray:
    return (z - z.mean()) / (z.std() or 1.0) if len(z) else z


def _expand(rows: pd.DataFrame, column: str, values) -> pd.DataFrame:
    return rows.merge(pd.DataFrame({column: list(values)}), how="cross")


def _dated(rows: pd.DataFrame, event: str, dates: dict, rng: np.random.Generator, spread: int = 4) -> pd.Series:
    """A date per row: the event's first day in that school year, plus a few school days per class."""
    keys = rows[["school_year", "start_year", "class_name", event]].drop_duplicates(ignore_index=True)
    base = np.array(
        [
            np.datetime64(date(start + dates[name][0], dates[name][1], dates[name][2]), "D")
            for start, name in zip(keys["start_year"], keys[event], strict=True)
        ],
        "datetime64[D]",
    )
    keys["_date"] = np.busday_offset(base, rng.integers(0, spread, len(keys)), roll="forward")
    merged = rows[["school_year", "class_name", event]].merge(keys, how="left", on=["school_year", "class_name", event])
    return pd.Series(merged["_date"].to_numpy(), index=rows.index)


def _happened(rows: pd.DataFrame, when: pd.Series, today: pd.Timestamp) -> np.ndarray:
    entry, leave = rows["entry_date"], rows["leave_date"]
    return ((when <= today) & (entry.isna() | (when >= entry)) & (leave.isna() | (when <= leave))).to_numpy()


def _keys(rows: pd.DataFrame) -> dict:
    return {
        "pupil_number": rows["pupil_number"].to_numpy(),
        "class_name": rows["class_name"].to_numpy(),
        "school_year": rows["school_year"].to_numpy(),
    }


def _pupils(rows: pd.DataFrame) -> np.ndarray:
    return rows["pupil_idx"].to_numpy()


# -- instruments --------------------------------------------------------------------------


def _lvs(enrol, traits: _Traits, rng, today, _administrator, bands) -> pd.DataFrame:
    rows = enrol[enrol["level"] == "lager"]
    rows = _expand(_expand(rows, "domain", DOMAINS), "moment", MOMENTS)
    rows = rows[(rows["domain"] != "technisch_lezen") | (rows["grade"] <= TECHNISCH_LEZEN_MAX_GRADE)]
    rows = rows.reset_index(drop=True)
    when = _dated(rows, "moment", LVS_DATES, rng)
    keep = _happened(rows, when, today) & (rng.random(len(rows)) > 0.01)  # a few pupils absent
    rows, when = rows[keep].reset_index(drop=True), when[keep].reset_index(drop=True)
    p = _pupils(rows)
    moment = rows["moment"].map({m: i for i, m in enumerate(MOMENTS)}).to_numpy()
    tau = rows["year_index"].to_numpy() * 3 + moment  # 0..8 over the three years
    domain = rows["domain"].map({d: i for i, d in enumerate(DOMAINS)}).to_numpy()
    class_effect = rng.standard_normal(len(rows))[rows.groupby(["school_year", "class_name"]).ngroup().to_numpy()]
    z = _standardise(
        0.78 * traits.ability[p]
        + 0.35 * traits.domain[p, domain]
        + 0.2 * traits.trend[p] * (tau - 4) / 4
        + 0.12 * class_effect
        + 0.45 * rng.standard_normal(len(rows))
    )
    stuck = traits.struggling[p] & (rng.random(len(rows)) < 0.9)
    z[stuck] = np.minimum(z[stuck], -1.4 - 0.4 * np.abs(rng.standard_normal(int(stuck.sum()))))
    percentile = _percentile(z)
    max_score = rows["domain"].map(LVS_MAX_SCORE).to_numpy().astype(float)
    raw = np.round(max_score * np.clip(0.66 + 0.17 * z, 0.02, 1.0))
    remark = np.where(rng.random(len(rows)) < 0.02, rng.choice(np.array(LVS_REMARKS, object), len(rows)), None)
    return pd.DataFrame(
        {
            **_keys(rows),
            "test_date": when.to_numpy(),
            "grade": rows["grade"].to_numpy(),
            "domain": rows["domain"].to_numpy(),
            "moment": rows["moment"].to_numpy(),
            "raw_score": raw,
            "max_score": max_score,
            "percentile": percentile,
            "zone": _zones(percentile, bands),
            "zone_derived": False,
            "remark": remark,
        }
    )


def _avi(enrol, traits: _Traits, rng, today, administrator, bands) -> pd.DataFrame:
    rows = _expand(enrol[enrol["level"] == "lager"], "moment", ("midden", "eind")).reset_index(drop=True)
    when = _dated(rows, "moment", AVI_DATES, rng)
    keep = _happened(rows, when, today)
    rows, when = rows[keep].reset_index(drop=True), when[keep].reset_index(drop=True)
    order = np.lexsort((rows["moment"] == "eind", rows["year_index"], rows["pupil_idx"]))
    rows, when = rows.iloc[order].reset_index(drop=True), when.iloc[order].reset_index(drop=True)
    p = _pupils(rows)
    half = rows["year_index"].to_numpy() * 2 + (rows["moment"] == "eind").to_numpy()
    # Expected rank: M(g+2) mid-year is 2g-1, E(g+2) at year end is 2g.
    expected = 2 * rows["grade"].to_numpy() - 1 + (rows["moment"] == "eind").to_numpy()
    group = rows.groupby("pupil_idx")
    first = group.cumcount().to_numpy() == 0
    start_expected = pd.Series(expected).groupby(rows["pupil_idx"]).transform("first").to_numpy()
    start_half = pd.Series(half).groupby(rows["pupil_idx"]).transform("first").to_numpy()
    # About one level per half year; weak readers stagnate more often, a few jump ahead.
    stagnate = np.where(traits.reading[p] < -1.2, 0.3, 0.12)
    draw = rng.random(len(rows))
    step = np.where(draw < stagnate, -1, np.where(draw > 0.92, 1, 0))
    step[first] = 0
    drift = pd.Series(step).groupby(rows["pupil_idx"]).cumsum().to_numpy()
    level = np.round(start_expected + (half - start_half) + 1.2 * traits.reading[p] + drift)
    level = pd.Series(np.clip(level, 0, len(AVI_LEVELS) - 1).astype(int)).groupby(rows["pupil_idx"]).cummax()
    level = level.to_numpy()
    # The card read: the achieved level at beheersing, or one card higher read at instructie/frustratie.
    result = rng.choice(np.array(["beheersing", "instructie", "frustratie"], object), len(rows), p=[0.6, 0.3, 0.1])
    result[level == len(AVI_LEVELS) - 1] = "beheersing"
    card = np.where(result == "beheersing", level, level + 1)
    seconds = np.select(
        [result == "beheersing", result == "instructie"],
        [rng.normal(85, 15, len(rows)), rng.normal(110, 15, len(rows))],
        rng.normal(140, 20, len(rows)),
    )
    errors = rng.poisson(1.5, len(rows)) + np.select([result == "instructie", result == "frustratie"], [3, 6], 0)
    levels = np.array(AVI_LEVELS, object)
    return pd.DataFrame(
        {
            **_keys(rows),
            "test_date": when.to_numpy(),
            "grade": rows["grade"].to_numpy(),
            "moment": rows["moment"].to_numpy(),
            "card": levels[card],
            "reading_time_sec": np.clip(np.round(seconds), 40, 240),
            "errors": errors,
            "card_result": result,
            "level_achieved": levels[level],
            "level_rank": level,
            "administered_by": administrator,
        }
    )


def _dmt(enrol, traits: _Traits, rng, today, _administrator, bands) -> pd.DataFrame:
    rows = enrol[(enrol["level"] == "lager") & (enrol["grade"] >= 2)]
    rows = _expand(rows, "moment", MOMENTS).reset_index(drop=True)
    when = _dated(rows, "moment", DMT_DATES, rng)
    keep = _happened(rows, when, today) & (rng.random(len(rows)) > 0.01)
    rows, when = rows[keep].reset_index(drop=True), when[keep].reset_index(drop=True)
    p = _pupils(rows)
    moment = rows["moment"].map({m: i for i, m in enumerate(MOMENTS)}).to_numpy()
    tau = rows["year_index"].to_numpy() * 3 + moment
    z = _standardise(
        0.85 * traits.reading[p] + 0.15 * traits.trend[p] * (tau - 4) / 4 + 0.5 * rng.standard_normal(len(rows))
    )
    # Words read correctly on card 1 grow with the grade and flatten out towards grade 6.
    t = rows["grade"].to_numpy() + np.array([0.0, 0.4, 0.8])[moment]
    level = 20 + 15 * t - 0.6 * t**2 + (10 + 1.2 * t) * z
    cards = {}
    for i, share in enumerate((1.0, 0.82, 0.68), start=1):
        cards[f"card{i}_correct"] = np.clip(np.round(share * level + 4 * rng.standard_normal(len(rows))), 0, 150)
        cards[f"card{i}_errors"] = np.clip(rng.poisson(np.clip(2.2 - 0.9 * z, 0.2, 8)), 0, 20)
    percentile = _percentile(z)
    return pd.DataFrame(
        {
            **_keys(rows),
            "test_date": when.to_numpy(),
            "grade": rows["grade"].to_numpy(),
            "moment": rows["moment"].to_numpy(),
            "version": rows["moment"].map(DMT_VERSIONS).to_numpy(),
            **{name: values.astype(int) for name, values in cards.items()},
            "norm_set": DMT_NORM_SET,
            "percentile": percentile,
            "zone": _zones(percentile, bands),
        }
    )


def _idp(enrol, traits: _Traits, rng, today, _administrator, bands) -> pd.DataFrame:
    lager = enrol[enrol["level"] == "lager"]
    frames = []
    for test, grade in IDP_GRADE.items():
        rows = lager[lager["grade"] == grade].assign(test=test)
        parts = [part for part in IDP_PARTS if test == "IDP6" or (part[0], part[1]) not in IDP6_ONLY]
        frames.append(rows.merge(pd.DataFrame(parts, columns=["area", "part", "max_score", "ease"]), how="cross"))
    rows = pd.concat(frames, ignore_index=True)
    # One date for the whole school: the IDP is taken on a fixed day.
    when = _dated(rows, "test", IDP_DATES, rng, spread=1)
    keep = _happened(rows, when, today)
    rows, when = rows[keep].reset_index(drop=True), when[keep].reset_index(drop=True)
    p = _pupils(rows)
    d = {name: traits.domain[p, i] for i, name in enumerate(DOMAINS)}
    area_trait = {
        "wiskunde": 0.8 * traits.ability[p] + 0.5 * d["wiskunde"],
        "nederlands": 0.8 * traits.ability[p] + 0.35 * (d["spelling"] + d["begrijpend_lezen"]),
        "frans": 0.7 * traits.ability[p] + 0.7 * traits.other[p, 0],
        "wetenschappen_techniek": 0.75 * traits.ability[p] + 0.6 * traits.other[p, 1],
        "mens_maatschappij": 0.75 * traits.ability[p] + 0.6 * traits.other[p, 2],
    }
    area = rows["area"].to_numpy()
    trait = np.select([area == name for name in area_trait], list(area_trait.values()))
    ease = rows["ease"].to_numpy()
    spread = 0.9
    chance = _phi(ease + spread * (trait + 0.4 * rng.standard_normal(len(rows))))
    max_score = rows["max_score"].to_numpy()
    score = rng.binomial(max_score, chance).astype(float)
    # The reference group: the expected share for this part, a little different each year.
    part_year = rows.groupby(["school_year", "test", "area", "part"]).ngroup().to_numpy()
    year_noise = rng.normal(0, 2, part_year.max() + 1 if len(part_year) else 0)
    # E[phi(a + sX)] = phi(a / sqrt(1 + s^2 var X)); var X is about 1.05 for every area trait plus noise.
    reference = np.round(100 * _phi(ease / math.sqrt(1 + spread**2 * 1.05)) + year_noise[part_year])
    return pd.DataFrame(
        {
            **_keys(rows),
            "test_date": when.to_numpy(),
            "test": rows["test"].to_numpy(),
            "area": area,
            "part": rows["part"].to_numpy(),
            "score": score,
            "max_score": max_score.astype(float),
            "percentage": np.round(100 * score / max_score),
            "reference_percentage": reference,
        }
    )


def _wellbeing(enrol, traits: _Traits, rng, today, _administrator, bands) -> pd.DataFrame:
    rows = _expand(enrol[enrol["level"] == "kleuter"], "event", WELLBEING_DATES).reset_index(drop=True)
    when = _dated(rows, "event", WELLBEING_DATES, rng)
    keep = _happened(rows, when, today) & (rng.random(len(rows)) > 0.02)
    rows, when = rows[keep].reset_index(drop=True), when[keep].reset_index(drop=True)
    p = _pupils(rows)
    n = len(rows)
    context = rng.choice(np.array(WELLBEING_CONTEXTS, object), n)
    scores = {
        "welbevinden": 3.9 + 0.55 * traits.wellbeing[p] + 0.35 * rng.standard_normal(n),
        "betrokkenheid": 3.7
        + 0.5 * (0.6 * traits.wellbeing[p] + 0.6 * traits.ability[p])
        + 0.4 * rng.standard_normal(n),
    }
    frames = []
    for scale, raw in scores.items():
        score = np.clip(np.round(raw * 2) / 2, 1, 5)
        whole = np.floor(score).astype(int).astype(str)
        text = np.where(score % 1 == 0.5, np.char.add(whole, "+"), whole).astype(object)
        frames.append(
            pd.DataFrame(
                {
                    **_keys(rows),
                    "observed_on": when.to_numpy(),
                    "scale": scale,
                    "score_text": text,
                    "score": score,
                    "context": context,
                    "observer": rows["teacher"].to_numpy(),
                    "remark": np.where(score <= 2.5, "opvolgen: bespreken met de zorgcoördinator", None),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
