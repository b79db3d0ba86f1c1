"""What every resolver receives: the caller and the upstream services."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.fastapi import BaseContext

from gateway.loaders import Loaders, make_loaders
from gateway.upstream import Upstreams
from kit.auth import Principal


@dataclass
class Context(BaseContext):
    """What every resolver receives: the caller (None without a token), the upstream clients
    and, on first use, the request's loaders."""

    principal: Principal | None
    upstreams: Upstreams

    @property
    def loaders(self) -> Loaders:
        """Made on first use, once per request (so never shared between callers)."""
        made: Loaders | None = getattr(self, "_loaders", None)
        if made is None:
            assert self.principal is not None  # cross-service fields require a caller
            made = make_loaders(self.upstreams, self.principal.token)
            self._loaders = made
        return made

    def __post_init__(self) -> None:
        super().__init__()
