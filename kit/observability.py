"""Prometheus metrics and W3C trace context (OpenTelemetry) for every process.

Each process counts its requests and their latency per route template (never per raw path, so a
UUID in a path does not create a time series) and serves them at `/metrics`. A request's
`traceparent` is continued (or a trace started), the trace id is written on every log line, and
`kit.http` clients pass it on, so one GraphQL operation can be followed through every service.
Spans go to an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and the exporter
package is installed; otherwise only the ids travel.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter, Response
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

log = logging.getLogger(__name__)
_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)

REQUESTS = Counter(
    "werkvloer_http_requests_total",
    "HTTP requests served.",
    ["service", "method", "route", "status"],
)
LATENCY = Histogram(
    "werkvloer_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def current_trace_id() -> str | None:
    """The trace id (32 hex characters) of the request being handled, or None."""
    return _trace_id.get()


def setup_tracing(service: str) -> None:
    """Once per process: a tracer provider that makes real trace and span ids."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"werkvloer-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:
            exporter = importlib.import_module(
                "opentelemetry.exporter.otlp.proto.http.trace_exporter"
            ).OTLPSpanExporter()
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            provider.add_span_processor(BatchSpanProcessor(exporter))
        except ImportError:
            log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed")
    trace.set_tracer_provider(provider)


@contextmanager
def server_span(service: str, method: str, path: str, headers: dict[str, str]) -> Iterator[None]:
    """Continue the caller's trace (its `traceparent`) or start one, for one request."""
    context = propagate.extract(headers)
    tracer = trace.get_tracer("werkvloer")
    with tracer.start_as_current_span(
        f"{method} {path}", context=context, kind=trace.SpanKind.SERVER
    ) as span:
        span_context = span.get_span_context()
        token = _trace_id.set(f"{span_context.trace_id:032x}" if span_context.is_valid else None)
        try:
            yield
        finally:
            _trace_id.reset(token)


def inject_trace(headers: Any) -> None:
    """Add `traceparent` for the current span to an outgoing request's headers."""
    propagate.inject(headers)


def record_request(service: str, method: str, route: str, status: int, seconds: float) -> None:
    """Count one handled request and observe its duration in seconds (Prometheus, by service,
    method, route template and status)."""
    REQUESTS.labels(service, method, route, str(status)).inc()
    LATENCY.labels(service, method, route).observe(seconds)


metrics_router = APIRouter(tags=["operations"])


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """`GET /metrics`: the process's Prometheus metrics in the text exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
