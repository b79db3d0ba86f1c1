"""One error model for every process: `{"error": {"code", "message", "details"}}`.

Domain code raises `AppError` subclasses that carry their status; the handlers here map them,
request validation, unknown routes and unexpected crashes to that one body, so clients can branch
on `code` and never parse prose. Only a genuine bug yields 500, and it carries the request id.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.logging import current_request_id
from kit.responses import SafeJSONResponse
from kit.text import InvalidText

log = logging.getLogger(__name__)


class AppError(Exception):
    """An expected failure with its HTTP status: answered as `{"error": {"code", "message",
    "details"}}` (`install_error_handlers`), never as a 500. `code` overrides the class's code;
    `headers` go on the response (e.g. Retry-After)."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = headers or {}


class Unauthorized(AppError):
    """401 `unauthorized`: no usable credentials (kit/auth.py gives each refusal its code)."""

    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    """403 `forbidden`: the caller is known, but their role or team does not allow this
    (docs/authentication.md)."""

    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    """404 `not_found`: no such thing, or one the caller may not know exists (a private
    record answers the same 404 as a missing one)."""

    status_code = 404
    code = "not_found"


class Conflict(AppError):
    """409 `conflict`: the request clashes with the current state (a transition the workflow
    does not allow from here, a duplicate)."""

    status_code = 409
    code = "conflict"


class PreconditionFailed(AppError):
    """412 `precondition_failed`: If-Match named a version that is no longer current
    (RFC 9110 §13.1.1)."""

    status_code = 412
    code = "precondition_failed"


class PreconditionRequired(AppError):
    """428 `precondition_required`: a change that needs If-Match came without it (RFC 6585 §3),
    so two editors cannot overwrite each other unknowingly."""

    status_code = 428
    code = "precondition_required"


class PayloadTooLarge(AppError):
    """413 `payload_too_large`: a body, upload or stored value over its configured limit."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    """415 `unsupported_media_type`: a body or file of a type this route does not take (an
    upload that is no PDF, Word or text file; a body that is not JSON)."""

    status_code = 415
    code = "unsupported_media_type"


class InvalidParameter(AppError):
    """A query, path or header parameter that parsed but cannot be used (a cursor this API did
    not hand out, a range the wrong way round): 400 like FastAPI's own parameter errors, with
    `details` naming the parameter the same way (`[{"location", "parameter", "message"}]`)."""

    status_code = 400
    code = "invalid_parameter"

    def __init__(
        self, parameter: str, message: str, *, code: str | None = None, location: str = "query"
    ) -> None:
        detail = {"location": [location, parameter], "parameter": parameter, "message": message}
        super().__init__(message, code=code, details=[detail])


class Unprocessable(AppError):
    """422 `unprocessable`: well-formed input that the domain rules refuse."""

    status_code = 422
    code = "unprocessable"


class ServiceUnavailable(AppError):
    """503 `service_unavailable`: a service this one depends on (a database, another service)
    cannot answer now; nothing was changed, the caller may try again."""

    status_code = 503
    code = "service_unavailable"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error body: `{"error": {"code", "message", "details"}}`."""
    return {"error": {"code": code, "message": message, "details": details}}


class RequestRefused(StarletteHTTPException):
    """A refusal raised while a request body is read (kit/inbound.py), with the error body's
    `code` and `details`. An `HTTPException` because FastAPI's body reader re-raises those
    unchanged, where any other exception would become a bare 400 without a code."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.details = details


class BodyTooLarge(RequestRefused):
    """413 `payload_too_large`: the request body passed `limit` bytes (details: `limit`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "payload_too_large",
            f"request bodies here are limited to {limit} bytes",
            {"limit": limit},
        )


class InvalidTextError(RequestRefused):
    """400 `invalid_text`: text that cannot be stored (kit/text.py).

    `details` is a list of one fault shaped like a validation error's: `location` (`["body"]`,
    `["path"]` or `["query", name]`), `field` (the full path, e.g. `body.verb.display.en-US`,
    `query.agent.name`), `parameter` for a query parameter, `message` and `type`. The message
    starts with the field, without `query.` for a parameter."""

    def __init__(self, fault: InvalidText, parameter: str | None = None) -> None:
        detail: dict[str, Any] = {
            "location": ["query", parameter]
            if parameter is not None
            else [fault.where.split(".")[0]],
            "field": fault.where,
            "message": fault.reason,
            "type": "invalid_text",
        }
        shown = fault.where
        if parameter is not None:
            detail["parameter"] = parameter
            shown = fault.where.removeprefix("query.")
        super().__init__(400, "invalid_text", f"{shown} {fault.reason}", [detail])


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _app_error(_: Request, exc: Exception) -> SafeJSONResponse:
    assert isinstance(exc, AppError)
    return SafeJSONResponse(
        error_body(exc.code, exc.message, exc.details),
        status_code=exc.status_code,
        headers=exc.headers,
    )


_PARAMETER_LOCATIONS = ("query", "path", "header", "cookie")


async def validation_error_response(_: Request, exc: Exception) -> SafeJSONResponse:
    """Request validation, split by where the fault is: a query, path, header or cookie
    parameter → 400 `invalid_parameter` (details name each `parameter`); otherwise (the body)
    → 422 `validation_error`. Details list every fault with its `location`."""
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, Any]] = []
    for err in exc.errors():
        location = [safe_location(part) for part in err.get("loc", ())]
        detail = {"location": location, "message": err.get("msg"), "type": err.get("type")}
        if location and location[0] in _PARAMETER_LOCATIONS and len(location) > 1:
            detail["parameter"] = location[1]
        details.append(detail)
    if any("parameter" in detail for detail in details):
        named = ", ".join(sorted({str(d["parameter"]) for d in details if "parameter" in d}))
        return SafeJSONResponse(
            error_body("invalid_parameter", f"invalid parameter: {named}", details),
            status_code=400,
        )
    return SafeJSONResponse(
        error_body("validation_error", "the request is not valid", details), status_code=422
    )


def safe_location(part: Any) -> Any:
    """A location part (field name or list index) as it may be echoed back."""
    return part if isinstance(part, int) else str(part)[:200]


async def _http_error(_: Request, exc: Exception) -> SafeJSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or _STATUS_CODES.get(exc.status_code, "http_error")
    return SafeJSONResponse(
        error_body(code, str(exc.detail), getattr(exc, "details", None)),
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


class UnexpectedErrorMiddleware:
    """Turns a bug into a 500 with the error body and the request id, and logs the traceback.

    It sits inside the request-id middleware (Starlette's own last-resort handler sits outside
    it, where the id is already gone), so the log line and the response carry the same id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = current_request_id()
            log.exception("unhandled error")
            if started:
                raise
            response = SafeJSONResponse(
                error_body(
                    "internal_error", "an unexpected error occurred", {"request_id": request_id}
                ),
                status_code=500,
            )
            await response(scope, receive, send)


async def _integrity_error(_: Request, exc: Exception) -> SafeJSONResponse:
    """A constraint the database enforced (a row deleted or inserted by a concurrent request,
    a duplicate): the caller's request lost a race, nothing was written (the session rolled
    back). 409 `concurrent_change` instead of a 500; logged with its cause as a warning, since
    a domain rule that should have caught it earlier may be missing."""
    log.warning("a database constraint refused a write", exc_info=exc)
    return SafeJSONResponse(
        error_body(
            "concurrent_change",
            "the data changed while this request ran; nothing was written, read it again",
        ),
        status_code=409,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map AppError, request validation, HTTP errors and database constraint races on `app` to
    the one error body, and bugs to a 500 that carries the request id."""
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(UnexpectedErrorMiddleware)
