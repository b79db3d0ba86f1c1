"""What every resolver receives: the caller and the upstream services."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.fastapi import BaseContext

from gateway.clients import Upstreams
from kit.auth import Principal


@dataclass
class Context(BaseContext):
    principal: Principal | None
    upstreams: Upstreams

    def __post_init__(self) -> None:
        super().__init__()
