"""`me`: the caller as the gateway and every service see them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.security import signed_in_field


@strawberry.type(description="The authenticated caller, read from their bearer token.")
class Viewer:
    """The caller as their token names them: subject, name, teams and roles (sorted)."""

    subject: str = strawberry.field(description="Stable id of the person or client (`sub`).")
    name: str = strawberry.field(description="Display name.")
    teams: list[str] = strawberry.field(description="Teams the caller belongs to.")
    roles: list[str] = strawberry.field(
        description="Roles: worker, coach, analyst, admin, lrs-client."
    )


@strawberry.type
class IdentityQuery:
    """The `me` field."""

    @signed_in_field("Who you are.")
    def me(self, info: Info[Context, None]) -> Viewer:
        """The signed-in caller as a Viewer; needs no service. Unauthenticated callers get
        UNAUTHENTICATED (IsAuthenticated)."""
        principal = info.context.principal
        assert principal is not None  # guaranteed by IsAuthenticated
        return Viewer(
            subject=principal.subject,
            name=principal.name,
            teams=sorted(principal.teams),
            roles=sorted(principal.roles),
        )
