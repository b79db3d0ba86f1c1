"""Building blocks of xAPI statements (xAPI 1.0.3), with no knowledge of any domain.

Why kit holds them: every service states its cross-service facts as xAPI statements in its
outbox (docs/architecture.md), and xAPI is a public standard (ADL), not any service's model; the
verbs and activities a service states are its own and stay in that service.

People are identified by an account on the platform (`homePage` + subject), never by e-mail,
so statements carry no address a third party could use.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

XAPI_TOPIC = "xapi.statement"
ANONYMOUS = "anonymous"


def agent(home_page: str, subject: str, name: str | None = None) -> dict[str, Any]:
    """An xAPI Agent identified by an account (`homePage`, `name` = the subject), with a display
    `name` when given."""
    actor: dict[str, Any] = {
        "objectType": "Agent",
        "account": {"homePage": home_page, "name": subject},
    }
    if name:
        actor["name"] = name
    return actor


def anonymous_agent(home_page: str) -> dict[str, Any]:
    """Stands in for a person who must not be identified; the same for everyone."""
    return agent(home_page, ANONYMOUS)


def verb(iri: str, display: str) -> dict[str, Any]:
    """An xAPI Verb: its IRI and an en-US display name."""
    return {"id": iri, "display": {"en-US": display}}


def activity(
    iri: str, activity_type: str, name: str | None = None, language: str = "und"
) -> dict[str, Any]:
    """An xAPI Activity: its IRI, type and, when given, its name in `language`."""
    definition: dict[str, Any] = {"type": activity_type}
    if name:
        definition["name"] = {language: name}
    return {"objectType": "Activity", "id": iri, "definition": definition}


def statement(
    *,
    actor: dict[str, Any],
    verb: dict[str, Any],
    object: dict[str, Any],
    timestamp: datetime,
    context: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    statement_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """An xAPI statement (1.0.3): id (`statement_id` or a new UUID), actor, verb, object, ISO 8601
    timestamp, and context and result when given."""
    built: dict[str, Any] = {
        "id": str(statement_id or uuid.uuid4()),
        "actor": actor,
        "verb": verb,
        "object": object,
        "timestamp": timestamp.isoformat(),
    }
    if context:
        built["context"] = context
    if result:
        built["result"] = result
    return built
