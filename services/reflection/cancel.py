"""Work for a caller who has gone is not started.

Embedding is the expensive step (seconds for a few thousand characters on two cores) and runs in
a thread that cannot be interrupted once started, so long work is cut into steps and the
connection is checked before each one: a client that hung up — a timed-out upstream call, a
closed browser tab — costs at most the step already running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import numpy as np
from fastapi import Request

from kit.disconnect import ClientGone, ensure_connected

__all__ = ["EMBED_STEP", "ClientGone", "embed_in_steps", "ensure_connected"]

# Texts per model call between two checks of the connection.
EMBED_STEP = 4


async def embed_in_steps(
    request: Request, embed: Callable[[list[str]], Awaitable[np.ndarray]], texts: Sequence[str]
) -> np.ndarray:
    """`embed(texts)` run `EMBED_STEP` texts at a time, checking the connection before each
    step. Returns the vectors in order (rows = texts); raises `ClientGone`."""
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), EMBED_STEP):
        await ensure_connected(request)
        parts.append(await embed(list(texts[start : start + EMBED_STEP])))
    return np.vstack(parts)
