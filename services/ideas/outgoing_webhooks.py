"""What goes out to webhooks: which targets may be called (SSRF), signing secrets, the event
names and the payload each idea event sends, its signature. Deliveries are sent by `workers.py`,
retried and recorded; webhooks are registered through `service/webhooks.py`.

Targets are checked against server-side request forgery twice, when registered and before every
delivery (DNS can change in between): a name that resolves to a loopback, private, link-local,
multicast or reserved address is refused unless `IDEAS_WEBHOOKS_ALLOW_PRIVATE_TARGETS` is set.
Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit

from kit.errors import Unprocessable
from services.ideas.models import Idea
from services.ideas.xapi_statements import IdeaEvent, acts_anonymously

SIGNATURE_HEADER = "Werkvloer-Signature"


class TargetRefused(Unprocessable):
    """422 `webhook_target_forbidden`: not an http(s) URL, carries credentials, or resolves to
    a loopback, private or link-local address (and those are not allowed)."""

    code = "webhook_target_forbidden"


def new_secret() -> str:
    """A new signing secret, `whsec_` and 43 URL-safe characters (256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: the receiver recomputes it and
    rejects old timestamps, which stops replays."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def check_target(url: str, allow_private: bool) -> None:
    """Return when `url` may be called; raises TargetRefused (422) otherwise (module docstring).
    Resolves the host name, so it waits on DNS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("a webhook URL must be an absolute http or https URL")
    if parts.username or parts.password:
        raise TargetRefused("a webhook URL may not carry credentials")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("the webhook URL has an invalid port") from exc
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise TargetRefused(f"the host {parts.hostname!r} does not resolve") from exc
    for info in infos:
        if _forbidden_address(str(info[4][0])):
            raise TargetRefused(
                "the webhook URL points to a loopback, private or link-local address",
                details={"host": parts.hostname},
            )


def event_of(kind: str) -> str:
    """The webhook event of an idea event (`created`, `supported`, `commented`, or a status
    the idea moved to): `idea.created`, `idea.supported`, `idea.commented`, `idea.transitioned`."""
    if kind in ("created", "supported", "commented"):
        return f"idea.{kind}"
    return "idea.transitioned"


def public_idea(idea: Idea) -> dict[str, Any]:
    """The idea as anyone may see it (a JSON object): never the author of an anonymous idea."""
    author = None if idea.anonymous else {"subject": idea.author_id, "name": idea.author_name}
    return {
        "id": str(idea.id),
        "title": idea.title,
        "team": idea.team,
        "tags": list(idea.tags),
        "status": idea.status,
        "status_reason": idea.status_reason,
        "anonymous": idea.anonymous,
        "author": author,
        "support_count": idea.support_count,
        "comment_count": idea.comment_count,
        "version": idea.version,
    }


def payload(name: str, event: IdeaEvent) -> dict[str, Any]:
    """The JSON body a webhook receives for `event` (named `name`, see `event_of`): when, who
    (null for the anonymous author acting on their own idea), the idea, the move or comment."""
    idea, actor = event.idea, event.actor
    shown_actor = (
        None if acts_anonymously(idea, actor) else {"subject": actor.subject, "name": actor.name}
    )
    body: dict[str, Any] = {
        "event": name,
        "occurred_at": event.at.isoformat(),
        "actor": shown_actor,
        "idea": public_idea(idea),
    }
    if event.from_status is not None:
        body["transition"] = {
            "from": event.from_status,
            "to": idea.status,
            "reason": idea.status_reason,
        }
    if event.comment_id is not None:
        body["comment_id"] = str(event.comment_id)
    return body
