"""The metrics refresher: rebuilds changed months in the background every
`ANALYTICS_METRICS_REFRESH_SECONDS` (0: never; reads then rebuild what they need), so reads
rarely wait for a rebuild."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from services.analytics.metrics.service import rebuild_dirty

log = logging.getLogger(__name__)


@asynccontextmanager
async def refresher_running(app: FastAPI) -> AsyncIterator[None]:
    """Runs the refresher for the life of the app (a lifespan context); a failed round is
    logged and the next one runs as planned."""
    settings = app.state.settings

    async def loop() -> None:
        while True:
            try:
                await rebuild_dirty(app.state.database, settings.min_group_size)
            except Exception:
                log.exception("metrics refresh failed")
            await asyncio.sleep(settings.metrics_refresh_seconds)

    task = (
        asyncio.create_task(loop(), name="metrics-refresher")
        if settings.metrics_refresh_seconds > 0
        else None
    )
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
