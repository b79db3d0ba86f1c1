"""Demo content for `make run`: two teams and a handful of realistic ideas, Dutch and English,
in several workflow states, written through the service layer so every rule and event applies.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from kit.auth import Principal
from kit.db import Database, unit_of_work
from services.ideas.fields import Status
from services.ideas.models import CommentCreate, IdeaCreate
from services.ideas.service.discussion import Discussion
from services.ideas.service.ideas import IdeasService
from services.ideas.service.teams import TeamsService
from services.ideas.settings import IdeasSettings


def _person(subject: str, name: str, roles: str, teams: str) -> Principal:
    return Principal(subject, name, frozenset(teams.split(",")), frozenset(roles.split(",")))


ANNA = _person("anna", "Anna de Vries", "worker", "packaging")
BRAM = _person("bram", "Bram Jansen", "worker", "packaging")
CARLA = _person("carla", "Carla Bakker", "coach,worker", "packaging")
DEV = _person("dev", "Dev Patel", "worker", "logistics")
EMMA = _person("emma", "Emma Visser", "coach", "logistics")

PEOPLE = {person.subject: person for person in (ANNA, BRAM, CARLA, DEV, EMMA)}
# The ideas as data, one object each: the author's subject, the IdeaCreate body, then the
# workflow moves ([subject, status, reason]), the supporters and the comments ([subject, text]).
IDEAS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "demo_ideas.json").read_text(encoding="utf-8")
)


async def _load(settings: IdeasSettings) -> None:
    database = Database(settings.database)
    try:
        async with unit_of_work(database) as session:
            teams = TeamsService(session)
            await teams.save("packaging", "Inpak")
            await teams.save("logistics", "Logistiek")
            for entry in IDEAS:
                author_service = IdeasService(session, PEOPLE[entry["author"]], settings)
                idea, _ = await author_service.create(IdeaCreate.model_validate(entry["idea"]))
                for actor, status, reason in entry["moves"]:
                    idea = await IdeasService(session, PEOPLE[actor], settings).transition(
                        idea.id, Status(status), reason, idea.version
                    )
                for supporter in entry["supporters"]:
                    await IdeasService(session, PEOPLE[supporter], settings).support(idea.id)
                for writer, text in entry["comments"]:
                    await Discussion(IdeasService(session, PEOPLE[writer], settings)).add(
                        idea.id, CommentCreate(body=text)
                    )
    finally:
        await database.dispose()


def load() -> None:
    """Write the demo teams and ideas into the configured database (`make run` does it once)."""
    asyncio.run(_load(IdeasSettings()))
