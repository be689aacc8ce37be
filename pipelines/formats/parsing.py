"""Text cells -> typed columns, vectorised with pyarrow compute (no per-row Python).

Each parser returns the typed column and a mask of cells that were filled but could not be
parsed; the caller reports those cells with the value exactly as written.
Accepted: numbers `12`, `12.5`, `12,5`; dates `2025-02-04`, `04/02/2025`, `4/2/2025` (day
first; `-` and `.` also accepted between day, month and year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)

_NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$"
_ISO_RE = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"
_DMY_RE = r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})$"
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_INT = 2**53  # beyond this a float no longer holds every whole number

DATE_HINT = "verwacht dd/mm/jjjj of jjjj-mm-dd"


def _arrow(series: pd.Series) -> pa.Array:
    arr = pa.array(series, type=pa.large_string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def filled(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def text(series: pd.Series) -> pd.Series:
    return series.astype(TEXT_DTYPE)


def code(series: pd.Series, case: str = "lower") -> pd.Series:
    """A code from a fixed list: case-folded, inner spaces as underscores ('Technisch lezen')."""
    uniques, codes = _by_unique(series)
    arr = _arrow(uniques)
    arr = pc.utf8_upper(arr) if case == "upper" else pc.utf8_lower(arr)
    arr = pc.replace_substring_regex(arr, r"\s+", "_")
    values = np.append(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object), None)
    return pd.Series(values[codes], index=series.index, dtype=TEXT_DTYPE)


def number(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Float column (NaN when empty) and the mask of unparsable cells."""
    arr = pc.replace_substring(_arrow(series), ",", ".")
    ok = pc.fill_null(pc.match_substring_regex(arr, _NUMBER_RE), False)
    values = pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.large_string())), pa.float64())
    ok = pc.and_(ok, pc.fill_null(pc.is_finite(values), False))
    result = pc.if_else(ok, values, pa.scalar(None, pa.float64())).to_numpy(zero_copy_only=False)
    bad = filled(series) & ~_mask(ok)
    return pd.Series(result, index=series.index, dtype="float64"), bad


def integer(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Whole numbers (`3`, `3.0` from a spreadsheet) as Int64, and the mask of bad cells."""
    values, bad = number(series)
    raw = values.to_numpy()
    whole = np.isfinite(raw) & (np.abs(raw) < MAX_INT)
    whole[whole] = np.floor(raw[whole]) == raw[whole]
    bad = bad | (~np.isnan(raw) & ~whole)
    ints = pd.array(np.where(whole, raw, 0).astype("int64"), dtype="Int64")
    ints[~whole] = pd.NA
    return pd.Series(ints, index=series.index), bad


def _by_unique(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The distinct filled values and, per row, the position of its value (-1 when empty).

    Dates, codes and school years repeat massively in a results file: parsing the few distinct
    values and spreading the outcome back is much cheaper than parsing every row.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return pd.Series(np.asarray(uniques, dtype=object), dtype=TEXT_DTYPE), codes


def _components(arr: pa.Array, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = pc.extract_regex(arr, pattern)
    valid = _mask(pc.fill_null(pc.is_valid(parts), False))
    out = []
    for name in ("y", "m", "d"):
        field = pc.struct_field(parts, name)
        field = pc.if_else(pc.equal(field, ""), pa.scalar("0", pa.large_string()), field)
        out.append(np.asarray(pc.cast(pc.fill_null(field, "0"), pa.int64()).to_numpy(zero_copy_only=False)))
    return valid, out[0], out[1], out[2]


def _parse_dates(values: pd.Series) -> np.ndarray:
    """datetime64[s] per value, NaT where the text is no real date."""
    arr = pc.fill_null(_arrow(values), "")
    iso_ok, y, m, d = _components(arr, _ISO_RE)
    dmy_ok, y2, m2, d2 = _components(arr, _DMY_RE)
    use_dmy = ~iso_ok & dmy_ok
    y = np.where(use_dmy, y2, y)
    m = np.where(use_dmy, m2, m)
    d = np.where(use_dmy, d2, d)
    plausible = (iso_ok | dmy_ok) & (y >= MIN_YEAR) & (y <= MAX_YEAR) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    safe_y = np.where(plausible, y, 2000)
    safe_m = np.where(plausible, m, 1)
    safe_d = np.where(plausible, d, 1)
    month = (safe_y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (safe_m - 1).astype("timedelta64[M]")
    day = month.astype("datetime64[D]") + (safe_d - 1).astype("timedelta64[D]")
    real = plausible & (day.astype("datetime64[M]") == month)  # 31/02 rolls into March: not a date
    return np.where(real, day, np.datetime64("NaT")).astype("datetime64[s]")


def date(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates (datetime64[s], NaT when empty) and the mask of cells that are no real date."""
    uniques, codes = _by_unique(series)
    parsed = np.append(_parse_dates(uniques), np.datetime64("NaT", "s"))
    result = parsed[codes]  # code -1 picks the trailing NaT
    bad = (codes >= 0) & np.isnat(result)
    return pd.Series(result, index=series.index), bad


def format_date(value) -> str:
    """dd/mm/jjjj for messages."""
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).strftime("%d/%m/%Y")


def school_year_of_dates(dates: pd.Series) -> pd.Series:
    """'2024-2025' for each date (1 September - 31 August); missing for missing dates."""
    values = dates.to_numpy(dtype="datetime64[s]")
    missing = np.isnat(values)
    months = values.astype("datetime64[M]").astype("int64")
    start = months // 12 + 1970 - ((months % 12) < 8)  # months before September belong to the year before
    start = np.where(missing, 0, start)
    keys = np.unique(np.append(start[~missing], 0))
    labels = np.array([None] + [f"{y}-{y + 1}" for y in keys[1:].tolist()], dtype=object)
    return pd.Series(labels[np.searchsorted(keys, start)], index=dates.index, dtype=TEXT_DTYPE)


def is_school_year(series: pd.Series) -> pd.Series:
    """True where the text is a school year like 2024-2025 (consecutive years)."""
    uniques, codes = _by_unique(series)
    arr = pc.fill_null(_arrow(uniques), "")
    parts = pc.extract_regex(arr, r"^(?P<a>\d{4})-(?P<b>\d{4})$")
    ok = _mask(pc.fill_null(pc.is_valid(parts), False))
    a = pc.cast(pc.if_else(pc.is_valid(parts), pc.struct_field(parts, "a"), "0"), pa.int64()).to_numpy()
    b = pc.cast(pc.if_else(pc.is_valid(parts), pc.struct_field(parts, "b"), "0"), pa.int64()).to_numpy()
    good = np.append(ok & (b - a == 1), False)
    return pd.Series(good[codes], index=series.index)
