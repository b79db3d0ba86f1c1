"""`health`: whether each service behind the gateway is ready, without needing a token."""

from __future__ import annotations

import asyncio
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.schema.context import Context


@strawberry.enum(description="Whether a service can serve requests right now.")
class ServiceStatus(Enum):
    """UP or DOWN, as a service's /readyz answered."""

    UP = "up"
    DOWN = "down"


@strawberry.type(description="The readiness of one service behind the gateway.")
class ServiceHealth:
    """One service's readiness: status, latency in milliseconds when it answered, why it is down."""

    service: str = strawberry.field(description="The service name: ideas, reflection or analytics.")
    status: ServiceStatus = strawberry.field(description="UP when the service answered ready.")
    latency_ms: float | None = strawberry.field(
        description="How long the readiness check took, when the service answered."
    )
    detail: str | None = strawberry.field(description="Why the service is down, when it is.")


@strawberry.type
class HealthQuery:
    """The `health` field, the one field open without a token."""

    @strawberry.field(description="Readiness of every service; a down service never fails this.")
    async def health(self, info: Info[Context, None]) -> list[ServiceHealth]:
        """Every service's readiness, checked at once within the health time limit; never
        raises (a service that does not answer is DOWN)."""
        upstreams = info.context.upstreams
        results = await asyncio.gather(*(upstreams.health(name) for name in upstreams.urls))
        return [
            ServiceHealth(
                service=result.service,
                status=ServiceStatus.UP if result.up else ServiceStatus.DOWN,
                latency_ms=result.latency_ms,
                detail=result.detail,
            )
            for result in results
        ]
