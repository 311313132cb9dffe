"""Numbers written for people: ``421,900`` rather than ``4.219e+05``.

A learner reading a house price, a mean absolute error or a prediction should see the number
as it would be written by hand — in the target's units, with thousands separators, rounded
to a few significant digits, and never in scientific notation. The command line and the app
both use these helpers, so a value reads the same everywhere.
"""
from __future__ import annotations

import math

__all__ = ["plain_number", "named_value", "MAX_DECIMALS", "json_kind", "json_short", "clip"]

#: Decimals at most: a value closer to 0 than 10^-12 is written as 0.
MAX_DECIMALS = 12


def plain_number(value: float | int | None, digits: int = 4) -> str:
    """``value`` rounded to ``digits`` significant digits (never fewer than its integer
    digits: 421,873 → ``421,900`` with 4), with thousands separators and no exponent;
    trailing zeros after the decimal point are dropped (2.50 → ``2.5``). None → ``n/a``,
    NaN → ``NaN``, infinities → ``∞`` / ``-∞``."""
    if value is None:
        return "n/a"
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    digits = max(1, int(digits))
    rounded = float(f"{x:.{digits - 1}e}")          # to `digits` significant digits
    exponent = math.floor(math.log10(abs(rounded)))
    decimals = min(max(0, digits - 1 - exponent), MAX_DECIMALS)
    text = f"{rounded:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        return "0"
    return text


def named_value(name: str, value: float | int | None, digits: int = 4) -> str:
    """``price 421,900``: a value with the name of its column."""
    return f"{name} {plain_number(value, digits)}" if name else plain_number(value, digits)


# --- values read from files, as a loader's message quotes them ------------------------------

def json_kind(value) -> str:
    """What a JSON value is, in a loader's words: "an object", "a list", "text"…"""
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null", int: "a number", float: "a number"}.get(type(value),
                                                                          type(value).__name__)


def json_short(value) -> str:
    """A JSON value as a message quotes it (true, null, "text"), at most 40 characters."""
    import json
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) \
        else repr(value)
    return clip(text)


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
