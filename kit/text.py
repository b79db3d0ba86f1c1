"""One rule for text at every entry: what a caller may send as text, and what a person can read.

Two faults, one module:

- *Text that cannot be stored or encoded*: NUL (U+0000) is refused by PostgreSQL's `text` type
  and unpaired UTF-16 surrogates (U+D800 to U+DFFF, reachable through JSON escapes such as
  `"\\ud800"`) cannot be encoded as UTF-8, so a stored one breaks every later read. Both are
  refused at the edge with 400 `invalid_text`, the same on SQLite and PostgreSQL.
- *Text that shows as nothing*: a title of zero-width spaces or lone combining accents passes
  `min_length` yet a reader sees an empty line. `VisibleText` needs at least one character of a
  letter, number, punctuation or symbol category (Unicode general categories L*, N*, P*, S*)
  that is not a blank glyph (the Hangul fillers, the braille blank), not only format (Cf),
  separator (Z*), control (Cc) or combining (M*) characters.

`find_invalid_text` walks decoded JSON; `raw_json_may_hold_invalid_text` is the cheap byte
pre-check that lets the request middleware skip the walk for nearly every body.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator

# A lone surrogate code point, or NUL. Paired surrogates never appear in a decoded Python str.
_INVALID = re.compile("[\x00\ud800-\udfff]")
# JSON escapes that can decode to the above (`\u0000`, `\ud8xx`…`\udfxx`), any letter case.
_RAW_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_VISIBLE_CATEGORIES = ("L", "N", "P", "S")
# Letters and symbols that render as blank space: the Hangul fillers (Default_Ignorable_Code_Point
# in Unicode's DerivedCoreProperties.txt, though their category is Lo), the braille blank, the
# musical null notehead, and the object replacement character (a placeholder, not text).
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\U0001d159\ufffc")


class InvalidText(ValueError):
    """Text holding NUL or an unpaired surrogate; `where` names the field or parameter."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def text_fault(value: str) -> str | None:
    """Why `value` cannot be stored and read back on every backend, or None when it can."""
    found = _INVALID.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds a NUL character (U+0000)"
    return f"holds an unpaired UTF-16 surrogate (U+{ord(found.group()):04X})"


def find_invalid_text(value: Any, where: str = "body") -> InvalidText | None:
    """The first string (key or value) in a decoded JSON document that cannot be stored.

    Returns an `InvalidText` naming its JSON path (e.g. `body.actor.name`), or None."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            reason = text_fault(item)
            if reason:
                return InvalidText(path, reason)
        elif isinstance(item, dict):
            for key, child in item.items():
                key_text = str(key)
                reason = text_fault(key_text)
                if reason:
                    return InvalidText(f"{path}.<key>", reason)
                stack.append((child, f"{path}.{key_text}"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


def raw_json_may_hold_invalid_text(body: bytes) -> bool:
    """False when the raw JSON bytes cannot decode to NUL or a lone surrogate (the common
    case): raw NUL bytes and raw surrogates are already invalid JSON / UTF-8, so only the
    `\\u` escapes need a closer look."""
    return _RAW_ESCAPE.search(body) is not None


def is_visible(value: str) -> bool:
    """True when a reader would see at least one character of `value` (see module docstring)."""
    return any(
        unicodedata.category(ch)[0] in _VISIBLE_CATEGORIES and ch not in _BLANK_GLYPHS
        for ch in value
    )


def _storable(value: str) -> str:
    reason = text_fault(value)
    if reason:
        raise ValueError(f"text {reason}")
    return value


def _visible(value: str) -> str:
    _storable(value)
    if not is_visible(value):
        raise ValueError("text needs at least one visible character")
    return value


STORABLE = AfterValidator(_storable)
VISIBLE = AfterValidator(_visible)
"""The two rules as pydantic markers. Put them after length constraints, e.g.
`Annotated[str, StringConstraints(min_length=10), VISIBLE]`: constraints placed after a validator
are checked generically and say "items" where a person expects "characters"."""

StorableText = Annotated[str, STORABLE]
"""A str with no NUL and no unpaired surrogate (pydantic raises a validation error)."""

VisibleText = Annotated[str, VISIBLE]
"""A StorableText that also shows at least one visible character to a reader."""


def safe_for_output(value: str) -> str:
    """`value` with anything that cannot be encoded replaced by U+FFFD.

    For reads of data stored before the entry rule existed: one bad value must never make a
    whole read or an export fail."""
    if _INVALID.search(value) is None:
        return value
    return _INVALID.sub("\ufffd", value)
