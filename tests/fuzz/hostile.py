"""Hostile values for the property tests: text that cannot be stored or shown (unpaired UTF-16
surrogates, NUL, right-to-left override, combining marks only, zero-width only), 100 kB of text,
path traversal, and JSON of the wrong type; plus table row counts, to prove that a refused
request changed nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

HOSTILE_TEXT = [
    "\ud800",
    "completed \udfff",
    "\x00",
    "a\x00b",
    "x" * 100_000,
    "\u202etxt.exe",
    "\u0301\u0301\u0301",
    "\u200b\u200b\u200b\u200b",
    "../",
    "../../metrics",
    "..%2f..%2fmetrics",
    "a?b=c#d",
    "a\u0001",
]
WRONG_JSON: list[Any] = [None, True, 0, -1, 1e308, [], ["x"], {}, {"$gt": ""}]

hostile_text = st.sampled_from(HOSTILE_TEXT)
hostile_value = st.one_of(hostile_text, st.sampled_from(WRONG_JSON))
# A URL holds at most 64 kB in the client (httpx) and in most servers: 8 kB stands for long.
hostile_url_text = st.sampled_from([t for t in HOSTILE_TEXT if len(t) < 1000] + ["x" * 8000])
hostile_url_value = st.one_of(hostile_url_text, st.sampled_from(WRONG_JSON))


def json_bytes(value: Any) -> bytes:
    """JSON as a client may send it: unpaired surrogates as `\\ud800` escapes (valid JSON
    text, though no valid Unicode)."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def url_part(value: Any) -> str:
    """`value` percent-encoded for a path segment or query value; a lone surrogate becomes the
    bytes a careless client would send for it."""
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text, safe="", errors="surrogatepass")


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows per table of the database behind `engine`."""
    async with engine.connect() as connection:
        metadata = MetaData()
        await connection.run_sync(metadata.reflect)
        counts = {}
        for name, table in metadata.tables.items():
            counts[name] = (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
        return counts


def hostile_settings(max_examples: int) -> settings:
    """Hypothesis settings of the hostile-input tests: `max_examples` cases, the same ones every
    run (derandomized), no deadline (a busy machine is slow, not wrong), and function-scoped
    fixtures allowed (each case uses the test's one server)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
