"""Demo content for `make run`: two teams and a handful of realistic ideas, Dutch and English,
in several workflow states, written through the service layer so every rule and event applies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kit.auth import Principal
from kit.db import Database, unit_of_work
from services.ideas.fields import Impact, Status
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

IDEAS: list[dict[str, Any]] = [
    {
        "author": ANNA,
        "idea": IdeaCreate(
            title="Mallen klaarleggen bij het omstellen van de inpaklijn",
            problem="Bij elke wissel van doosformaat zoeken we de mallen bij elkaar; dat kost "
            "twintig minuten en veel gehaast aan het eind van de dienst.",
            proposal="Een kar per formaat met alle mallen en instellingen, klaargezet door de "
            "vorige ploeg.",
            team="packaging",
            tags=["omstellen", "lean"],
            expected_impact=Impact(hours_saved_per_week=4, work_pressure=1),
            submit=True,
        ),
        "moves": [
            (CARLA, Status.in_review, None),
            (CARLA, Status.accepted, None),
            (CARLA, Status.piloting, None),
        ],
        "supporters": [BRAM, CARLA, DEV],
        "comments": [(BRAM, "Goed plan, de avondploeg kan de kar vullen.")],
    },
    {
        "author": BRAM,
        "idea": IdeaCreate(
            title="Labelprinter droog bewaren",
            problem="De labelprinter loopt elke ochtend vast door vochtige rollen.",
            proposal="Rollen in een afgesloten kast met droogzakjes bewaren.",
            team="packaging",
            tags=["storing"],
            expected_impact=Impact(hours_saved_per_week=1.5, quality=1),
            submit=True,
        ),
        "moves": [],
        "supporters": [ANNA],
        "comments": [],
    },
    {
        "author": ANNA,
        "idea": IdeaCreate(
            title="Tilhulp bij het stapelen van zware dozen",
            problem="Het handmatig stapelen van dozen boven de 15 kg geeft rugklachten.",
            proposal="Een vacuümtilhulp aan het einde van lijn 2.",
            team="packaging",
            tags=["veiligheid", "ergonomie"],
            anonymous=True,
            expected_impact=Impact(safety=2, wellbeing=2, cost_eur=6500),
            submit=True,
        ),
        "moves": [(CARLA, Status.in_review, None)],
        "supporters": [BRAM],
        "comments": [],
    },
    {
        "author": DEV,
        "idea": IdeaCreate(
            title="Send delivery documents before trucks arrive",
            problem="Drivers wait at the gate for up to thirty minutes while their documents "
            "are printed and checked.",
            proposal="Email the documents to the carrier the evening before and scan a QR code "
            "at the gate.",
            team="logistics",
            tags=["planning", "wachttijd"],
            expected_impact=Impact(hours_saved_per_week=6, work_pressure=1),
            submit=True,
        ),
        "moves": [(EMMA, Status.in_review, None), (EMMA, Status.accepted, None)],
        "supporters": [EMMA, ANNA],
        "comments": [(EMMA, "Let's try this with two carriers first.")],
    },
    {
        "author": DEV,
        "idea": IdeaCreate(
            title="Second charging point for forklifts",
            problem="Forklifts queue at the only charging point at the start of every shift.",
            proposal="Install a second charger near dock 4.",
            team="logistics",
            tags=["heftruck"],
            submit=True,
        ),
        "moves": [(EMMA, Status.parked, "Waiting for the new electrical plan in Q3.")],
        "supporters": [],
        "comments": [],
    },
]


async def _load(settings: IdeasSettings) -> None:
    database = Database(settings.database)
    try:
        async with unit_of_work(database) as session:
            teams = TeamsService(session)
            await teams.save("packaging", "Inpak")
            await teams.save("logistics", "Logistiek")
            for entry in IDEAS:
                author_service = IdeasService(session, entry["author"], settings)
                idea, _ = await author_service.create(entry["idea"])
                for actor, status, reason in entry["moves"]:
                    idea = await IdeasService(session, actor, settings).transition(
                        idea.id, status, reason, idea.version
                    )
                for supporter in entry["supporters"]:
                    await IdeasService(session, supporter, settings).support(idea.id)
                for writer, text in entry["comments"]:
                    await Discussion(IdeasService(session, writer, settings)).add(
                        idea.id, CommentCreate(body=text)
                    )
    finally:
        await database.dispose()


def load() -> None:
    """Write the demo teams and ideas into the configured database (`make run` does it once)."""
    asyncio.run(_load(IdeasSettings()))
