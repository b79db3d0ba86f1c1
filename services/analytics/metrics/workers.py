"""The metrics refresher: rebuilds changed months in the background every
`ANALYTICS_METRICS_REFRESH_SECONDS` (0: never; reads then rebuild what they need), so reads
rarely wait for a rebuild. A failed round is logged and the next one runs as planned
(kit/worker.py `run_forever`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from kit.worker import run_forever
from services.analytics.metrics.service import rebuild_dirty


def refresher(app: FastAPI) -> Callable[[], Awaitable[None]] | None:
    """The refresher's loop for kit's `workers_running`, or None when refreshing is off."""
    settings = app.state.settings
    if settings.metrics_refresh_seconds <= 0:
        return None

    async def refresh() -> int:
        return await rebuild_dirty(app.state.database, settings.min_group_size)

    async def loop() -> None:
        await run_forever(
            refresh,
            name="metrics refresh",
            poll_seconds=settings.metrics_refresh_seconds,
            rest_every_round=True,
        )

    return loop
