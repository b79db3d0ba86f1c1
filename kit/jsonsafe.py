"""One strict JSON parser for untrusted input: `loads_strict(data) -> Any`.

Python's `json.loads` accepts things that later crash a service with a 500: the non-standard
tokens `NaN`, `Infinity` and `-Infinity` (RFC 8259 §6 has no such numbers, and PostgreSQL's json
type refuses them), numbers such as `1e400` that overflow to `inf`, integers with thousands of
digits (`ValueError: Exceeds the limit ... for integer string conversion`, CPython's guard against
quadratic conversion) and deeply nested arrays/objects (`RecursionError`). `loads_strict` refuses
all of them with one exception type, `UnsafeJSON` (a `ValueError`), whose `reason` names the
rule, so callers map it to a 400 with a machine-readable code and never reach a 5xx.

Limits (keyword arguments, defaults chosen well above any real payload in this project):
- `max_depth` (64): arrays/objects nested deeper than this are refused.
- `max_int_digits` (64): integer literals with more digits are refused (floats must be finite).
- `max_bytes` (None): optional size cap on the input, checked before parsing.
"""

from __future__ import annotations

import json
import math
from typing import Any

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_INT_DIGITS = 64


class UnsafeJSON(ValueError):
    """Raised by `loads_strict` for input that is not safe, standard JSON.

    `reason` is one of: `not_json`, `too_large`, `too_deep`, `non_finite_number`,
    `integer_too_long`, `not_utf8`; `str(error)` is a short human-readable message.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise UnsafeJSON("non_finite_number", f"{name} is not a JSON number")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJSON("non_finite_number", "number out of range")
    return value


def _make_parse_int(max_digits: int) -> Any:
    def parse_int(text: str) -> int:
        digits = len(text) - (1 if text[:1] == "-" else 0)
        if digits > max_digits:
            raise UnsafeJSON("integer_too_long", f"integer longer than {max_digits} digits")
        return int(text)

    return parse_int


def _too_deep(value: Any, max_depth: int) -> bool:
    """Whether `value` nests arrays/objects deeper than `max_depth` (iterative, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, (dict, list))
            )
    return False


def loads_strict(
    data: str | bytes | bytearray,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_int_digits: int = DEFAULT_MAX_INT_DIGITS,
    max_bytes: int | None = None,
) -> Any:
    """Parse `data` as standard JSON (RFC 8259) within the limits above and return the value.

    Raises `UnsafeJSON` (a `ValueError`) with a `reason` for malformed JSON, input over
    `max_bytes`, nesting deeper than `max_depth`, NaN/Infinity or overflowing numbers, integers
    longer than `max_int_digits` digits, or bytes that are not UTF-8. Never raises RecursionError.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise UnsafeJSON("too_large", f"JSON larger than {max_bytes} bytes")
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsafeJSON("not_utf8", "JSON is not valid UTF-8") from exc
    else:
        text = data
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_parse_float,
            parse_int=_make_parse_int(max_int_digits),
        )
    except UnsafeJSON:
        raise
    except RecursionError as exc:
        raise UnsafeJSON("too_deep", "JSON nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, int conversion limit
        raise UnsafeJSON("not_json", f"not valid JSON: {exc}") from exc
    if _too_deep(value, max_depth):
        raise UnsafeJSON("too_deep", f"JSON nested deeper than {max_depth} levels")
    return value
