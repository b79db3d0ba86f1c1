"""The xAPI protocol at the edge of the LRS (xAPI 1.0.3, Communication 3.3 and 3.1): the
`X-Experience-API-Version` a request must name and every `/xapi` response carries, and 400 (not
the platform's 422) for a malformed request."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from kit.errors import error_body, validation_error_response
from services.analytics.statements.service import VERSION
from services.analytics.statements.validation import StatementRejected

SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")


def check_version(header: str | None) -> None:
    """Returns when `header` names a version this LRS speaks. Raises StatementRejected (400
    `version_missing` without the header, `version_unsupported` for another version)."""
    if header is None:
        raise StatementRejected(
            "the X-Experience-API-Version header is required", code="version_missing"
        )
    if header not in SUPPORTED_VERSIONS:
        raise StatementRejected(
            f"xAPI version {header} is not supported", code="version_unsupported"
        )


def errors_of(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors as the platform's error details: `location`, `message`, `type`."""
    return [
        {
            "location": [str(p) for p in e.get("loc", ())],
            "message": e.get("msg"),
            "type": e.get("type"),
        }
        for e in errors
    ]


class XapiVersionMiddleware:
    """ASGI middleware: every /xapi response carries the version header, errors included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Passes the request on; adds `X-Experience-API-Version` to /xapi response starts."""
        if scope["type"] != "http" or not scope["path"].startswith("/xapi"):
            await self.app(scope, receive, send)
            return

        async def with_version(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-experience-api-version", VERSION.encode()),
                ]
            await send(message)

        await self.app(scope, receive, with_version)


async def validation_as_400(request: Request, exc: Exception) -> Response:
    """The exception handler for RequestValidationError: under /xapi a 400 `invalid_request`
    naming the parameters (xAPI wants 400 for a malformed request); elsewhere the platform's
    422 stands."""
    if request.url.path.startswith("/xapi") and isinstance(exc, RequestValidationError):
        details = errors_of(exc.errors())
        named = sorted({d["location"][-1] for d in details if len(d["location"]) > 1})
        message = "the request is not valid xAPI" + (f": {', '.join(named)}" if named else "")
        return JSONResponse(error_body("invalid_request", message, details), status_code=400)
    return await validation_error_response(request, exc)
