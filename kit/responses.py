"""JSON responses that always encode, whatever was stored.

FastAPI's `JSONResponse` encodes with `ensure_ascii=False` and then to UTF-8, so a single lone
surrogate in a stored value (kept from before the entry rule in kit/text.py existed) raises
`UnicodeEncodeError` and turns a whole read or export into a 500. `SafeJSONResponse` is every
process's default response class (kit/app.py) and the error handlers' class (kit/errors.py):
it renders as usual and, only when that fails, again with every string passed through
`kit.text.safe_for_output` (U+FFFD in place of what cannot be encoded).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from kit.text import safe_for_output


def encodable(value: Any) -> Any:
    """`value` (decoded JSON: dicts, lists, strings, numbers) with every string and key made
    encodable by `safe_for_output`; other values are returned unchanged."""
    if isinstance(value, str):
        return safe_for_output(value)
    if isinstance(value, dict):
        return {
            safe_for_output(k) if isinstance(k, str) else k: encodable(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [encodable(item) for item in value]
    return value


class SafeJSONResponse(JSONResponse):
    """A `JSONResponse` that never fails on text: unencodable characters become U+FFFD."""

    def render(self, content: Any) -> bytes:
        """The UTF-8 JSON bytes of `content`; never raises `UnicodeEncodeError`."""
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return super().render(encodable(content))
