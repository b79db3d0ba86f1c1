"""Structured JSON logs, each line carrying the id of the request it belongs to.

The id comes from the caller's `X-Request-ID` (so the gateway's id follows a request into every
service it calls) or is made here; it is echoed on the response and added to outgoing calls made
with `kit.http.make_client`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.observability import current_trace_id, record_request, server_span

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# A caller-chosen id ends up in log lines: accept only a short, harmless token.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object a line: time, level, service, logger, message, request and
    trace ids, extras and the traceback."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (values that JSON cannot hold are written as text)."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record of the process to stdout as JSON (`JsonFormatter`) at `level`; drivers
    and HTTP clients stay at WARNING."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True
    # Drivers and clients log statements with their values (an anonymous author's id, a
    # person's own text) at DEBUG, and httpx every call at INFO; they stay at WARNING whatever
    # the level, so turning on DEBUG never leaks personal data into the logs.
    for noisy in ("aiosqlite", "asyncpg", "sqlalchemy", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestContextMiddleware:
    """Pure ASGI middleware: binds the request id and the trace, logs one access line per
    request and counts it for Prometheus."""

    def __init__(self, app: ASGIApp, service: str = "werkvloer") -> None:
        self.app = app
        self.service = service
        self.log = logging.getLogger("werkvloer.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
        method, path = str(scope.get("method")), str(scope.get("path"))
        try:
            with server_span(self.service, method, path, headers):
                try:
                    await self.app(scope, receive, send_with_id)
                finally:  # inside the span: the access line carries the trace id too
                    seconds = time.perf_counter() - started
                    route = getattr(scope.get("route"), "path", None) or "unmatched"
                    record_request(self.service, method, route, status, seconds)
                    self.log.info(
                        "request",
                        extra={
                            "method": method,
                            "path": path,
                            "status": status,
                            "duration_ms": round(seconds * 1000, 2),
                        },
                    )
        finally:
            _request_id.reset(token)
