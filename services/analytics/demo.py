"""Demo learning records for `make run`: eight weeks of reflections, ideas and LMS courses of
fourteen people in three teams, so `learningMetrics` has closed weeks to show — including a
team of four whose numbers stay hidden."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kit.auth import Principal
from kit.db import Database, unit_of_work
from kit.pseudonyms import pseudonym_key
from services.analytics.metrics.facts import (
    ACTIVITY_IDEA,
    ACTIVITY_REFLECTION,
    EXT_PROCESS,
    EXT_TEAM,
)
from services.analytics.settings import SERVICE, AnalyticsSettings
from services.analytics.statements.service import check, store

TEAMS = {"packaging": 6, "logistics": 4, "maintenance": 5}
PROCESSES = {"packaging": "storingen", "logistics": "veiligheid", "maintenance": "onderhoud"}
LMS = Principal("demo-lms", "Demo LMS", frozenset(), frozenset({"lrs-client"}))
VERBS = {
    "reflection": "http://adlnet.gov/expapi/verbs/completed",
    "idea": "http://activitystrea.ms/schema/1.0/submit",
    "course": "http://adlnet.gov/expapi/verbs/completed",
}


def _statement(home: str, person: str, team: str, kind: str, at: datetime) -> dict[str, Any]:
    if kind == "course":
        target: dict[str, Any] = {"objectType": "Activity", "id": "https://lms.example/course/vca"}
        context: dict[str, Any] = {}
    else:
        kind_type = ACTIVITY_REFLECTION if kind == "reflection" else ACTIVITY_IDEA
        target = {
            "objectType": "Activity",
            "id": f"{home}/{kind}s/{uuid.uuid4()}",
            "definition": {"type": kind_type},
        }
        context = {"extensions": {EXT_TEAM: team, EXT_PROCESS: PROCESSES[team]}}
    statement = {
        "actor": {"objectType": "Agent", "account": {"homePage": home, "name": person}},
        "verb": {"id": VERBS[kind], "display": {"en-US": kind}},
        "object": target,
        "timestamp": at.isoformat(),
    }
    if context:
        statement["context"] = context
    return statement


def statements(home: str, now: datetime) -> list[dict[str, Any]]:
    """The demo statements (unchecked, without ids) for the eight weeks before `now`, by
    accounts on `home`; the same every run (a fixed seed)."""
    chance = random.Random(7)  # noqa: S311 - demo data, not security
    made = []
    for team, size in TEAMS.items():
        for n in range(size):
            person = f"demo-{team}-{n + 1}"
            for week in range(1, 9):
                day = now - timedelta(weeks=week, days=chance.randint(0, 4))
                for kind, likelihood in (("reflection", 0.6), ("idea", 0.25), ("course", 0.15)):
                    if chance.random() < likelihood:
                        made.append(_statement(home, person, team, kind, day))
    return made


async def _load(settings: AnalyticsSettings) -> int:
    database = Database(settings.database)
    key = pseudonym_key(settings.pseudonym_key, settings.platform, SERVICE)
    home = settings.platform.public_url.rstrip("/")
    made = statements(home, datetime.now(UTC))
    try:
        async with unit_of_work(database) as session:
            for start in range(0, len(made), 100):
                batch = [check(s) for s in made[start : start + 100]]
                await store(session, batch, LMS, key)
    finally:
        await database.dispose()
    return len(made)


def load() -> None:
    """Store the demo statements in the database the environment's settings name (one unit of
    work, as the demo LMS client)."""
    asyncio.run(_load(AnalyticsSettings()))
