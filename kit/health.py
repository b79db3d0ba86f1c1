"""`/healthz` says the process runs; `/readyz` says it can do its work right now.

Readiness runs every named check (the database, the service's own dependencies) with a time limit
and answers 503 with each check's outcome when one fails, so an orchestrator stops routing to it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

# A check raises when the dependency is not usable; it may return details worth showing.
ReadinessCheck = Callable[[], Awaitable[object]]

CHECK_TIMEOUT_SECONDS = 2.0


async def _run(check: ReadinessCheck) -> dict[str, object]:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return {"status": "down", "error": type(exc).__name__ if not str(exc) else str(exc)[:200]}
    outcome: dict[str, object] = {
        "status": "up",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if isinstance(details, dict):
        outcome["details"] = details
    return outcome


def health_router(service: str) -> APIRouter:
    """`/healthz` (liveness: always 200 while the process runs) and `/readyz` (200 when every
    readiness check of `app.state.readiness_checks` answers, else 503, with each check's status,
    latency in ms and details) for `service`."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process is running")
    async def healthz() -> dict[str, str]:
        return {"service": service, "status": "up"}

    @router.get("/readyz", summary="Readiness: the database and dependencies answer")
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
        names = list(checks)
        results = await asyncio.gather(*(_run(checks[name]) for name in names))
        outcome = dict(zip(names, results, strict=True))
        ready = all(result["status"] == "up" for result in results)
        return JSONResponse(
            {"service": service, "status": "up" if ready else "down", "checks": outcome},
            status_code=200 if ready else 503,
        )

    return router
