"""The entry rules every process applies before a route runs (OWASP API4; kit/text.py).

`InboundMiddleware` (installed by kit/app.py in every process) enforces, per request:

1. **Text that cannot be stored** — a path or query parameter whose percent-decoded value holds
   NUL, an unpaired surrogate or invalid UTF-8 (also inside a JSON-valued parameter such as
   xAPI's `agent`), and a JSON body (`application/json`, `*+json`) holding NUL or an unpaired
   surrogate anywhere: 400 `invalid_text`, details `{"field": ...}`.
2. **Authentication before the body** — a request that carries a body (Content-Length > 0 or
   Transfer-Encoding) on a route that is not public needs credentials before one byte of it is
   read: a bearer token is verified here with the app's verifier (the verified principal is kept
   in the scope, so `kit.auth.authenticate` does not verify it twice); on routes whose rule
   accepts HTTP Basic (an xAPI learning record store) the header must be there, and the route
   checks it before it reads the body. FastAPI reads JSON bodies before it resolves
   dependencies, hence a middleware.
3. **Bounded bodies** — a declared Content-Length over the route's limit is 413
   `payload_too_large` before anything is read; otherwise the body is counted while it streams
   and the read that passes the limit fails with the same 413 (`BodyTooLarge`).

The JSON text check reads the body only when the route asks for it (after its own credential
check), never earlier. A `BodyRule` (path pattern) sets the limit and the exceptions for some
routes; everything else gets the process's default limit (`<PREFIX>_MAX_BODY_KB`).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.auth import (
    VERIFIED_PRINCIPAL,
    bearer_token,
    credentials_missing,
    principal_from_claims,
)
from kit.errors import AppError, BodyTooLarge, InvalidTextError, RequestRefused, error_body
from kit.responses import SafeJSONResponse
from kit.text import (
    InvalidText,
    find_invalid_text,
    raw_json_may_hold_invalid_text,
    safe_for_output,
    text_fault,
)

Refusal = Callable[[int, str, str, Any], SafeJSONResponse]
"""Builds the response for a refusal: (status, code, message, details) → response."""
PayloadCheck = Callable[[Any, str], InvalidText | None]
"""An extra check on a decoded JSON body (named `body`) or on a GET's query parameters (named
`query`), e.g. GraphQL string literals; the second argument is that name."""

_JSON_TYPE = re.compile(r"^application/(?:[\w.!#$&^-]+\+)?json\s*(?:;|$)", re.IGNORECASE)
_NAME_SHOWN = 80  # a parameter name echoed in an error is cut to this many characters


def default_refusal(status: int, code: str, message: str, details: Any) -> SafeJSONResponse:
    """The platform's error body (kit/errors.py)."""
    return SafeJSONResponse(error_body(code, message, details), status_code=status)


@dataclass(frozen=True)
class BodyRule:
    """How requests to the paths `pattern` matches (a regex, matched in full) are treated.

    `max_bytes`: the body limit. `public`: a body needs no credentials (the route decides, e.g.
    GraphQL). `basic`: HTTP Basic credentials are accepted (checked by the route before it reads
    the body). `check_text`: JSON bodies get the text rule here (off where a process only passes
    the body on to a service that applies it itself). `eager`: the JSON body is read and checked
    here before the route runs (small public bodies only, e.g. GraphQL). `refusal`: the response
    shape for refusals. `payload_check`: an extra check on the decoded body."""

    pattern: str
    max_bytes: int
    public: bool = False
    basic: bool = False
    check_text: bool = True
    eager: bool = False
    refusal: Refusal = default_refusal
    payload_check: PayloadCheck | None = None
    basic_realm: str = "werkvloer"

    def matches(self, path: str) -> bool:
        """Whether `path` matches this rule's pattern in full."""
        return re.fullmatch(self.pattern, path) is not None


def _decoded(raw: bytes) -> str:
    """Percent-decoded UTF-8 text, or `InvalidText` raised for NUL, surrogates, bad UTF-8."""
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidText("", "is not valid UTF-8") from exc
    reason = text_fault(text)
    if reason:
        raise InvalidText("", reason)
    return text


def path_fault(raw_path: bytes) -> InvalidTextError | None:
    """The refusal for a path holding invalid text (percent-decoded), or None."""
    try:
        _decoded(raw_path)
    except InvalidText as fault:
        return InvalidTextError(InvalidText("path", fault.reason))
    return None


def query_fault(query_string: bytes) -> InvalidTextError | None:
    """The refusal for the first query parameter (name or value, `+` as space, percent-decoded)
    holding invalid text, naming it; a value that is JSON (xAPI `agent`, GraphQL `variables`)
    is also walked with `find_invalid_text`. None when all are storable."""
    for pair in query_string.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.replace(b"+", b" ").partition(b"=")
        name = safe_for_output(unquote_to_bytes(raw_name).decode("utf-8", "replace"))
        name = name[:_NAME_SHOWN]
        where = f"query.{name}"
        try:
            _decoded(raw_name)
            value = _decoded(raw_value)
        except InvalidText as fault:
            return InvalidTextError(InvalidText(where, fault.reason), name)
        if value[:1] in ("{", "[") and raw_json_may_hold_invalid_text(value.encode()):
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                continue  # not JSON after all: the route parses it and answers for it
            found = find_invalid_text(decoded, where)
            if found:
                return InvalidTextError(found, name)
    return None


def json_body_fault(body: bytes, extra: PayloadCheck | None = None) -> InvalidText | None:
    """The first string in a JSON body that cannot be stored (`body.<path>`), or None; a body
    that is not JSON is left to the route's own parser."""
    if extra is None and not raw_json_may_hold_invalid_text(body):
        return None
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return find_invalid_text(payload) or (extra(payload, "body") if extra else None)


class _Body:
    """The request's `receive`, counting body bytes against the limit and, for JSON bodies,
    reading the whole body at the route's first read to apply the text rule."""

    def __init__(self, receive: Receive, rule: BodyRule, is_json: bool) -> None:
        self._receive = receive
        self._rule = rule
        self._whole = is_json and rule.check_text
        self._count = 0

    async def read_all(self) -> Message:
        """The whole body as one message (or a disconnect); `BodyTooLarge` past the limit."""
        chunks: list[bytes] = []  # joined once at the end: no growing buffer, no second copy
        while True:
            message = await self.receive_counted()
            if message["type"] != "http.request":
                return message
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def receive_counted(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._count += len(message.get("body", b""))
            if self._count > self._rule.max_bytes:
                raise BodyTooLarge(self._rule.max_bytes)
        return message

    async def receive(self) -> Message:
        if not self._whole:
            return await self.receive_counted()
        self._whole = False
        message = await self.read_all()
        if message["type"] == "http.request":
            fault = json_body_fault(message["body"], self._rule.payload_check)
            if fault:
                raise InvalidTextError(fault)
        return message


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin-1"))
    return None


LARGE_BODY_BYTES = 1024 * 1024


class LargeBodies:
    """At most `slots` requests with a body over 1 MB (declared, or chunked on a route that
    allows more) are let through at once; the others wait up to `wait_seconds` for a turn and
    then get 503 `busy` with `Retry-After`. Each limit bounds one request; this bounds their sum."""

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._semaphore: asyncio.Semaphore | None = None  # made on first use, in the loop

    def concerns(self, scope: Scope, rule: BodyRule) -> bool:
        """True for a request whose body may pass 1 MB on a route that accepts that much."""
        if rule.max_bytes <= LARGE_BODY_BYTES:
            return False
        declared = (_header(scope, b"content-length") or "").strip()
        if declared.isdigit():
            return int(declared) > LARGE_BODY_BYTES
        return _header(scope, b"transfer-encoding") is not None

    async def acquire(self) -> bool:
        """Takes a slot, waiting up to `wait_seconds`; False when none came free in time."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait_seconds)
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        """Gives back the slot `acquire` took."""
        assert self._semaphore is not None
        self._semaphore.release()


class Busy(RequestRefused):
    """503 `busy`: every slot for large bodies stayed taken while this request waited."""

    def __init__(self, waited_seconds: float) -> None:
        super().__init__(
            503,
            "busy",
            "too many large requests at once; try again shortly",
            {"waited_seconds": waited_seconds},
        )
        self.headers = {"Retry-After": str(max(1, math.ceil(waited_seconds)))}


class InboundMiddleware:
    """Pure ASGI middleware applying the rules in the module docstring; `rules` are tried in
    order, the first whose pattern matches the path wins, else `default_max_bytes` applies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_max_bytes: int,
        rules: Sequence[BodyRule] = (),
        large_bodies: LargeBodies | None = None,
    ) -> None:
        self.app = app
        self.rules = tuple(rules)
        self.default = BodyRule(pattern=".*", max_bytes=default_max_bytes)
        self.large_bodies = large_bodies or LargeBodies(4, 10.0)

    def rule_for(self, path: str) -> BodyRule:
        """The first rule whose pattern matches `path`, else the default (the body limit of the
        process)."""
        return next((rule for rule in self.rules if rule.matches(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rule_for(scope["path"])
        try:
            await self._admit(scope, rule)
        except (AppError, RequestRefused) as refused:
            await _refuse(rule, refused)(scope, receive, send)
            return
        is_json = _JSON_TYPE.match(_header(scope, b"content-type") or "") is not None
        body = _Body(receive, rule, is_json)
        if not self.large_bodies.concerns(scope, rule):
            await self._run(scope, send, rule, body, is_json)
            return
        if not await self.large_bodies.acquire():
            await _refuse(rule, Busy(self.large_bodies.wait_seconds))(scope, receive, send)
            return
        try:
            await self._run(scope, send, rule, body, is_json)
        finally:
            self.large_bodies.release()

    async def _run(
        self, scope: Scope, send: Send, rule: BodyRule, body: _Body, is_json: bool
    ) -> None:
        if not (rule.eager and is_json):
            await self.app(scope, body.receive, send)
            return
        await self._eager(scope, send, rule, body)

    async def _admit(self, scope: Scope, rule: BodyRule) -> None:
        """Raises the `AppError` that refuses the request before its body is read."""
        fault = path_fault(scope.get("raw_path") or scope["path"].encode()) or query_fault(
            scope.get("query_string", b"")
        )
        if fault:
            raise fault
        if rule.payload_check and scope["method"] in ("GET", "HEAD"):
            found = rule.payload_check(_query_params(scope.get("query_string", b"")), "query")
            if found:
                raise InvalidTextError(found, "query")
        declared = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        if not chunked and (declared is None or declared.strip() in ("", "0")):
            return  # no body
        if not rule.public:
            await self._authenticate(scope, rule)
        length = declared.strip() if declared is not None else ""
        if length.isdigit() and int(length) > rule.max_bytes:
            raise BodyTooLarge(rule.max_bytes)

    async def _authenticate(self, scope: Scope, rule: BodyRule) -> None:
        authorization = _header(scope, b"authorization")
        scheme, _, value = (authorization or "").partition(" ")
        if rule.basic and scheme.lower() == "basic" and value.strip():
            return  # the route checks the LRS client's key and secret before reading the body
        if rule.basic and not authorization:
            raise credentials_missing(rule.basic_realm)
        token = bearer_token(authorization)  # 401 token_missing / token_malformed
        state = scope["app"].state
        verifier = getattr(state, "verifier", None)
        if verifier is None:
            return  # no lifespan ran: the route's own dependency answers
        claims = await verifier.verify(token)
        scope[VERIFIED_PRINCIPAL] = principal_from_claims(claims, state.platform, token)

    async def _eager(self, scope: Scope, send: Send, rule: BodyRule, body: _Body) -> None:
        try:
            message = await body.read_all()
            if message["type"] == "http.request":
                fault = json_body_fault(message["body"], rule.payload_check)
                if fault:
                    raise InvalidTextError(fault)
        except RequestRefused as refused:
            await _refuse(rule, refused)(scope, _none, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await body.receive_counted()
            replayed = True
            return message

        await self.app(scope, replay, send)


def _refuse(rule: BodyRule, refused: AppError | RequestRefused) -> SafeJSONResponse:
    if isinstance(refused, AppError):
        status, message = refused.status_code, refused.message
    else:
        status, message = refused.status_code, str(refused.detail)
    response = rule.refusal(status, refused.code, message, refused.details)
    response.headers.update(refused.headers or {})
    return response


async def _none() -> Message:
    return {"type": "http.disconnect"}


def _query_params(query_string: bytes) -> dict[str, str]:
    """Decoded query parameters (last one wins) for a rule's payload check."""
    params: dict[str, str] = {}
    for pair in query_string.split(b"&"):
        name, _, value = pair.replace(b"+", b" ").partition(b"=")
        params[unquote_to_bytes(name).decode("utf-8", "replace")] = unquote_to_bytes(value).decode(
            "utf-8", "replace"
        )
    return params
