"""How a stored statement is handed out (pure): `format=exact` as stored, `format=ids` reduced
to identifiers (xAPI 1.0.3, Communication 2.1.3), and every string made encodable on the way."""

from __future__ import annotations

from typing import Any

from kit.text import safe_for_output
from services.analytics.statements.keys import IFIS


def readable(value: Any) -> Any:
    """`value` (a stored JSON document) with every string made encodable
    (`kit.text.safe_for_output`): a value stored before the entry rule must not break a read."""
    if isinstance(value, str):
        return safe_for_output(value)
    if isinstance(value, dict):
        return {safe_for_output(str(k)): readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


def ids_only(body: dict[str, Any]) -> dict[str, Any]:
    """`format=ids`: a copy of `body` with agents reduced to their identifier (a Group without
    one keeps its members) and activities and verbs without `definition` / `display`."""

    def reduce(value: Any) -> Any:
        if isinstance(value, dict):
            kind = value.get("objectType")
            if kind in ("Agent", "Group") or any(k in value for k in ("mbox", "account", "openid")):
                kept = {k: v for k, v in value.items() if k in ("objectType", *IFIS)}
                if "member" in value and not any(k in kept for k in IFIS):
                    kept["member"] = [reduce(m) for m in value["member"]]
                return kept
            return {k: reduce(v) for k, v in value.items() if k not in ("definition", "display")}
        if isinstance(value, list):
            return [reduce(v) for v in value]
        return value

    return {k: reduce(v) for k, v in body.items()}
