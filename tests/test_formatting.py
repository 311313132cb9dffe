"""Plain numbers for people: 421,900 rather than 4.219e+05 (issue 11, regression in its units)."""
import math

import pytest
from hypothesis import given, strategies as st

from layerlab.engine.formatting import named_value, plain_number


@pytest.mark.parametrize("value,text", [
    (421_873.2, "421,900"),          # the 4.219e+05
    (30_543.7, "30,540"),            # the MAE 3.054e+04
    (3.054, "3.054"),
    (12.3456, "12.35"),
    (999.96, "1,000"),
    (0.01234567, "0.01235"),
    (0.5, "0.5"),
    (2.0, "2"),
    (0.0, "0"),
    (-1234.5, "-1,234"),             # round half to even at 4 digits: 1234.5 → 1234
    (-0.000123, "-0.000123"),
    (1e15, "1,000,000,000,000,000"),
])
def test_plain_number(value, text):
    assert plain_number(value) == text


def test_plain_number_special_values_and_digits():
    assert plain_number(None) == "n/a"
    assert plain_number(math.nan) == "NaN"
    assert plain_number(math.inf) == "∞" and plain_number(-math.inf) == "-∞"
    assert plain_number(421_873.2, digits=6) == "421,873"
    assert plain_number(3.14159, digits=2) == "3.1"
    assert plain_number(7) == "7"
    assert named_value("price", 421_873.2) == "price 421,900"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_plain_number_never_uses_exponents_and_reads_back_close(x):
    text = plain_number(x)
    assert "e" not in text.lower()
    back = float(text.replace(",", ""))
    assert math.isclose(back, x, rel_tol=1e-3, abs_tol=1e-12) or abs(x) < 1e-12
