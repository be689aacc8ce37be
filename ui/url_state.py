"""Selections that live in the URL, so a copied link opens the same view.

A page reads its selections from `st.query_params` at the start and writes them back when the
person changes them. A value in the URL that differs from the one this session last wrote came
from outside (a shared link, a page link, a reload) and wins over the widget's remembered state;
otherwise the widget wins. Access is never decided here: the core checks every call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

T = TypeVar("T")

_SEEN = "_url_seen_{}"


def url_select(
    label: str,
    options: Sequence[T],
    *,
    param: str,
    key: str,
    format_func: Callable[[T], str] = str,
    to_url: Callable[[T], str | None] = lambda v: None if v is None else str(v),
    default: T | None = None,
    **kwargs,
) -> T | None:
    """A selectbox whose value is the URL query parameter `param` (written with `to_url`).

    Returns None only when `options` is empty. `default` (else the first option) applies when
    neither the URL nor the session holds a valid value.
    """
    options = list(options)
    if not options:
        st.query_params.pop(param, None)
        return None
    texts = [to_url(o) for o in options]
    wanted = st.query_params.get(param)
    seen = _SEEN.format(key)
    if wanted is not None and wanted != st.session_state.get(seen) and wanted in texts:
        st.session_state[key] = options[texts.index(wanted)]
    if key not in st.session_state or st.session_state[key] not in options:
        st.session_state[key] = default if default in options else options[0]
    value = st.selectbox(label, options, format_func=format_func, key=key, **kwargs)
    text = to_url(value)
    if text is None:
        st.query_params.pop(param, None)
    elif st.query_params.get(param) != text:
        st.query_params[param] = text
    st.session_state[seen] = text
    return value


def changed_from_outside(param: str, key: str) -> bool:
    """True when the URL's `param` differs from what the selectbox `key` last wrote (a link was followed)."""
    wanted = st.query_params.get(param)
    return wanted is not None and wanted != st.session_state.get(_SEEN.format(key))
