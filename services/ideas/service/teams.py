"""Teams ideas belong to: anyone lists them, admins (the route's rule) create and rename them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.ideas.models import TeamPublic
from services.ideas.repository.ideas import IdeasRepository


class TeamsService:
    """Team rules in one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.repo = IdeasRepository(session)

    async def all(self) -> list[TeamPublic]:
        """Every team, by key."""
        return [TeamPublic(key=t.key, name=t.name) for t in await self.repo.teams()]

    async def save(self, key: str, name: str) -> TeamPublic:
        """Create the team `key`, or rename it: the team as saved."""
        team = await self.repo.save_team(key, name)
        return TeamPublic(key=team.key, name=team.name)
