"""The gateway's entry rules (kit/inbound.py) for its two kinds of route.

- `/graphql`: public (GraphQLGuard and the schema decide who may do what), bodies up to
  `GATEWAY_MAX_BODY_KB`; the text rule covers variables and the string literals inside the query
  text (`"\\u0000"` is a GraphQL escape, invisible to a JSON check), and refusals use the GraphQL
  error shape with HTTP 400 and `extensions.code` `INVALID_TEXT`.
- `/xapi/*`: the pass-through to the learning record store. Credentials (bearer, or the LRS
  client's HTTP Basic) are needed before the body is read, bodies stream on to analytics up to
  `GATEWAY_MAX_XAPI_BODY_MB`; analytics applies the text rule itself.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, Lexer, Source, TokenKind

from gateway.settings import GatewaySettings
from kit.inbound import BodyRule
from kit.responses import SafeJSONResponse
from kit.text import InvalidText, text_fault

GRAPHQL_CODES = {"payload_too_large": "REQUEST_TOO_LARGE"}
_LITERALS = (TokenKind.STRING, TokenKind.BLOCK_STRING)


def graphql_refusal(status: int, code: str, message: str, details: Any) -> SafeJSONResponse:
    """A refusal in the GraphQL error shape; `extensions.field` names the faulty field."""
    extensions: dict[str, Any] = {"code": GRAPHQL_CODES.get(code, code.upper())}
    first = details[0] if isinstance(details, list) and details else details
    if isinstance(first, dict) and "field" in first:
        extensions["field"] = first["field"]
    return SafeJSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status_code=status
    )


def literal_fault(payload: Any, where: str) -> InvalidText | None:
    """The first string literal in a GraphQL request's `query` that decodes to NUL or a lone
    surrogate (e.g. `"\\u0000"`, `"\\u{0}"`), named `<where>.query`; None otherwise, also for
    a query that does not lex (Strawberry reports the syntax error itself)."""
    query = payload.get("query") if isinstance(payload, dict) else None
    if not isinstance(query, str) or "\\u" not in query:
        return None
    lexer = Lexer(Source(query))
    try:
        token = lexer.advance()
        while token.kind is not TokenKind.EOF:
            if token.kind in _LITERALS and token.value is not None:
                reason = text_fault(token.value)
                if reason:
                    return InvalidText(f"{where}.query", f"has a string literal that {reason}")
            token = lexer.advance()
    except GraphQLError:
        return None
    return None


def body_rules(settings: GatewaySettings) -> list[BodyRule]:
    """The gateway's two body rules for `kit.app.create_service_app`: `/graphql` (public,
    `max_body_kb`, the text rule on its string literals) and `/xapi/*` (credentials first,
    `max_xapi_body_mb`)."""
    return [
        BodyRule(
            pattern="/graphql",
            max_bytes=settings.max_body_kb * 1024,
            public=True,
            eager=True,
            refusal=graphql_refusal,
            payload_check=literal_fault,
        ),
        BodyRule(
            pattern="/xapi/.*",
            max_bytes=int(settings.max_xapi_body_mb * 1024 * 1024),
            basic=True,
            check_text=False,
        ),
    ]
