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


def _series(values: pa.Array, index: pd.Index) -> pd.Series:
    """An arrow string array as a text column, without going through Python objects."""
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())), index=index).astype(TEXT_DTYPE)


def _encoded(series: pd.Series) -> tuple[pa.Array, pa.Array]:
    """Distinct values and, per row, the position of its value (null when empty).

    Dates, codes and school years repeat massively in a results file: working on the few
    distinct values and spreading the outcome back is much cheaper than every row.
    """
    encoded = pc.dictionary_encode(_arrow(series))
    return encoded.dictionary, encoded.indices


def _spread(per_value: np.ndarray, indices: pa.Array, empty) -> np.ndarray:
    """Per-row results from per-distinct-value results; `empty` for empty cells."""
    codes = np.asarray(pc.fill_null(indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.append(per_value, np.array([empty], dtype=per_value.dtype))[codes]


def matches(series: pd.Series, pattern: str) -> np.ndarray:
    """True where a filled cell matches the regular expression (RE2 syntax)."""
    values, indices = _encoded(series)
    hit = _mask(pc.fill_null(pc.match_substring_regex(values, pattern), False))
    return _spread(hit, indices, False)


def filled(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def text(series: pd.Series) -> pd.Series:
    return series.astype(TEXT_DTYPE)


def code(series: pd.Series, case: str = "lower") -> pd.Series:
    """A code from a fixed list: case-folded, inner spaces as underscores ('Technisch lezen')."""
    values, indices = _encoded(series)
    values = pc.utf8_upper(values) if case == "upper" else pc.utf8_lower(values)
    values = pc.replace_substring_regex(values, r"\s+", "_")
    return _series(pc.take(values, indices), series.index)


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


def _components(arr: pa.Array, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = pc.extract_regex(arr, pattern)
    valid = _mask(pc.fill_null(pc.is_valid(parts), False))
    out = []
    for name in ("y", "m", "d"):
        field = pc.struct_field(parts, name)
        field = pc.if_else(pc.equal(field, ""), pa.scalar("0", pa.large_string()), field)
        out.append(np.asarray(pc.cast(pc.fill_null(field, "0"), pa.int64()).to_numpy(zero_copy_only=False)))
    return valid, out[0], out[1], out[2]


def _parse_dates(values: pa.Array) -> np.ndarray:
    """datetime64[s] per value, NaT where the text is no real date."""
    arr = pc.fill_null(values, "")
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
    values, indices = _encoded(series)
    result = _spread(_parse_dates(values), indices, np.datetime64("NaT", "s"))
    bad = filled(series) & np.isnat(result)
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
    keys = np.unique(start[~missing])
    labels = pa.array([f"{y}-{y + 1}" for y in keys.tolist()], pa.large_string())
    positions = pa.array(np.searchsorted(keys, start), mask=missing)
    return _series(pc.take(labels, positions), dates.index)


def is_school_year(series: pd.Series) -> pd.Series:
    """True where the text is a school year like 2024-2025 (consecutive years)."""
    values, indices = _encoded(series)
    parts = pc.extract_regex(pc.fill_null(values, ""), r"^(?P<a>\d{4})-(?P<b>\d{4})$")
    ok = _mask(pc.fill_null(pc.is_valid(parts), False))
    a = pc.cast(pc.if_else(pc.is_valid(parts), pc.struct_field(parts, "a"), "0"), pa.int64()).to_numpy()
    b = pc.cast(pc.if_else(pc.is_valid(parts), pc.struct_field(parts, "b"), "0"), pa.int64()).to_numpy()
    return pd.Series(_spread(ok & (b - a == 1), indices, False), index=series.index)


def group_codes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One integer per row identifying its combination of values; -1 when any is empty.

    A vectorised stand-in for hashing tuples: factorise each column, combine the codes and
    re-factorise after each step so the numbers stay small.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    complete = np.ones(len(frame), dtype=bool)
    for column in columns:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        complete &= codes >= 0
        combined = combined * (len(uniques) + 1) + (codes + 1)
        combined, _ = pd.factorize(combined)
    return np.where(complete, combined, -1)
