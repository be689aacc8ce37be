"""The registry of import formats and detection from a file's header.

Adding a format = one module here defining an `ImportFormat` subclass (columns, pandera
model, natural key, targets, `prepare`), listed in `FORMATS` and removed from `PLANNED`.
"""

from __future__ import annotations

from pipelines.formats.avi import Avi
from pipelines.formats.base import ImportFormat
from pipelines.formats.dmt import Dmt
from pipelines.formats.idp import Idp
from pipelines.formats.leerlingen import Leerlingen
from pipelines.formats.lvs_vclb import LvsVclb
from pipelines.formats.welbevinden import Welbevinden

FORMATS: dict[str, type[ImportFormat]] = {
    Leerlingen.name: Leerlingen,
    LvsVclb.name: LvsVclb,
    Avi.name: Avi,
    Dmt.name: Dmt,
    Idp.name: Idp,
    Welbevinden.name: Welbevinden,
}

# Formats of the contract not implemented yet: (required columns, optional columns). Their
# headers are still recognised, so such a file gets "nog niet ondersteund" instead of a
# confusing list of missing columns.
PLANNED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

ALL_NAMES = ("leerlingen", "lvs-vclb", "avi", "dmt", "idp", "welbevinden")


def _columns(name: str) -> tuple[set[str], set[str]]:
    if name in FORMATS:
        fmt = FORMATS[name]
        return set(fmt.required_names()), set(fmt.column_names())
    required, optional = PLANNED[name]
    return set(required), set(required) | set(optional)


def _names() -> list[str]:
    return [n for n in ALL_NAMES if n in FORMATS or n in PLANNED] + [n for n in FORMATS if n not in ALL_NAMES]


def detect(columns: list[str]) -> str | None:
    """The format that explains the header best.

    Every header column a format knows counts for it, every unknown column against it, and
    every missing required column twice against it. Without that last term an AVI file that
    lacks avi_niveau_behaald would be taken for DMT (whose required columns are a subset of
    AVI's and LVS-VCLB's) and rejected row by row, instead of for the one missing column.
    A format missing more than half of its required columns is never chosen.
    """
    header = {c for c in columns if c}
    best, best_score = None, None
    for name in _names():
        required, known = _columns(name)
        missing = required - header
        if len(missing) * 2 > len(required):
            continue
        score = len(header & known) - len(header - known) - 2 * len(missing)
        if best_score is None or score > best_score:
            best, best_score = name, score
    return best


def closest(columns: list[str]) -> str | None:
    """For a header that fits no format: the one it most resembles (at least half of its
    required columns), so the report can name the missing columns."""
    header = set(columns)
    best, best_share = None, 0.5
    for name in _names():
        required, _ = _columns(name)
        share = len(header & required) / len(required)
        if share >= best_share and (best is None or share > best_share):
            best, best_share = name, share
    return best
