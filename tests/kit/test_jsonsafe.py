"""kit/jsonsafe.py: untrusted JSON that would crash a service later is refused with a reason."""

from __future__ import annotations

import pytest

from kit.jsonsafe import UnsafeJSON, loads_strict


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("Infinity", "non_finite_number"),
        ("-Infinity", "non_finite_number"),
        ('{"a": NaN}', "non_finite_number"),
        ("1e400", "non_finite_number"),
        ("-1e400", "non_finite_number"),
        ("1" * 5000, "integer_too_long"),
        ("[" * 100_000, "too_deep"),
        ("[" * 65 + "]" * 65, "too_deep"),
        ('{"a":' * 70 + "1" + "}" * 70, "too_deep"),
        ("[1,", "not_json"),
        (b"\xff", "not_utf8"),
    ],
)
def test_unsafe_json_is_refused_with_a_reason(data: str | bytes, reason: str) -> None:
    with pytest.raises(UnsafeJSON) as caught:
        loads_strict(data)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


def test_ordinary_json_parses() -> None:
    assert loads_strict(b'{"a": [1, -2.5e3, "x[[[", null, true]}') == {
        "a": [1, -2500.0, "x[[[", None, True]
    }
    assert loads_strict("[" * 64 + "]" * 64) is not None
    assert loads_strict("9" * 64) == int("9" * 64)


def test_max_bytes_is_checked_before_parsing() -> None:
    with pytest.raises(UnsafeJSON) as caught:
        loads_strict("[1, 2, 3]", max_bytes=4)
    assert caught.value.reason == "too_large"
