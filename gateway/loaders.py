"""Per-request DataLoaders: cross-service fields of a whole page resolve with one call per
service. A page of 50 ideas asking for their documents makes one call to the reflection
service (its document list takes up to 100 ids), not 50.

Each loader belongs to one request (the caller's token, and no caching across callers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from gateway.upstream import Upstreams, UpstreamUnavailable, call

BATCH = 100


def _valid(ids: list[str]) -> list[str]:
    found = []
    for value in ids:
        try:
            found.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return found


def _batch_loader(
    upstreams: Upstreams, token: str, service: str, path: str
) -> DataLoader[str, dict[str, Any] | None]:
    async def load(ids: list[str]) -> list[dict[str, Any] | BaseException | None]:
        wanted = list(dict.fromkeys(_valid(ids)))
        found: dict[str, dict[str, Any]] = {}
        try:
            for start in range(0, len(wanted), BATCH):
                chunk = wanted[start : start + BATCH]
                params = [("id", i) for i in chunk] + [("limit", str(BATCH))]
                reply = await call(upstreams, service, "GET", path, token=token, params=params)
                if not reply.ok:
                    raise GraphQLError(
                        f"the {service} service refused the lookup",
                        extensions={"code": "UPSTREAM_REFUSED", "service": service},
                    )
                found.update({item["id"]: item for item in reply.body["items"]})
        except UpstreamUnavailable as exc:
            error = GraphQLError(
                str(exc), extensions={"code": "SERVICE_UNAVAILABLE", "service": exc.service}
            )
            return [error for _ in ids]
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    """One request's DataLoaders, by kind: each loads REST items (dicts) by id, None for an id
    the caller may not see."""

    documents: DataLoader[str, dict[str, Any] | None]
    reflections: DataLoader[str, dict[str, Any] | None]
    ideas: DataLoader[str, dict[str, Any] | None]


def make_loaders(upstreams: Upstreams, token: str) -> Loaders:
    """Fresh loaders for one request, calling the services with `token`; raises nothing (a
    refusal or an unavailable service becomes a GraphQLError per id)."""
    return Loaders(
        documents=_batch_loader(upstreams, token, "reflection", "/v1/documents"),
        reflections=_batch_loader(upstreams, token, "reflection", "/v1/reflections"),
        ideas=_batch_loader(upstreams, token, "ideas", "/v1/ideas"),
    )
