"""The gateway: Strawberry GraphQL at `/graphql` over the three services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.requests import HTTPConnection
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.guards import GraphQLGuard, load_trusted
from gateway.ide import GraphQLWithIDE, ide_router
from gateway.inbound import body_rules
from gateway.schema.context import Context
from gateway.schema.root import build_schema
from gateway.security import optional_principal
from gateway.settings import GatewaySettings
from gateway.upstream import Upstreams
from gateway.xapi_proxy import xapi
from kit.app import create_service_app
from kit.auth import Principal

DESCRIPTION = "One GraphQL API over ideas, reflection and analytics."


async def _context(
    request: HTTPConnection, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Context:
    return Context(principal=principal, upstreams=request.app.state.upstreams)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway's FastAPI app: /graphql (Strawberry, GraphiQL outside production), the /xapi
    pass-through, the guards and the upstream clients made in the lifespan. Reads
    GatewaySettings from the environment when `settings` is None."""
    settings = settings or GatewaySettings()
    production = settings.platform.is_production
    graphql = GraphQLWithIDE(
        build_schema(production=production, settings=settings),
        path="/graphql",
        context_getter=_context,
        graphql_ide=None if production else "graphiql",
        multipart_uploads_enabled=False,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )

    @asynccontextmanager
    async def upstreams(app: FastAPI) -> AsyncIterator[None]:
        app.state.upstreams = Upstreams(
            app.state.http,
            settings.upstream_urls(),
            settings.health_timeout_seconds,
            settings.upstream_timeout_seconds,
            settings.guide_timeout_seconds,
            settings.read_retries,
            settings.breaker_failures,
            settings.breaker_open_seconds,
            settings.subscription_poll_seconds,
            settings.upstream_calls_per_caller,
        )
        yield

    app = create_service_app(
        service="gateway",
        settings=settings,
        database_url=None,
        routers=[graphql, xapi] if production else [graphql, xapi, ide_router],
        description=DESCRIPTION,
        extra_lifespan=upstreams,
        body_rules=body_rules(settings),
    )
    app.add_middleware(
        GraphQLGuard,
        max_body_bytes=settings.max_body_kb * 1024,
        per_minute=settings.rate_limit_per_minute,
        trusted=load_trusted(settings.trusted_documents),
        auth_cache_seconds=settings.auth_cache_seconds,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "traceparent"],
            max_age=600,
        )
    return app
