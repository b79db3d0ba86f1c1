"""Demo process documents for `make run`, written for the project (Dutch and English)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kit.auth import Principal
from kit.db import Database, unit_of_work
from services.reflection.documents import service as docs
from services.reflection.settings import ReflectionSettings

HERE = Path(__file__).parent
ADMIN = Principal("demo-admin", "Demo admin", frozenset(), frozenset({"admin"}))
DOCUMENTS = [
    # file, title, process, teams, version label
    ("storing-inpaklijn.md", "Storingsprocedure inpaklijn", "storingen", "*", "3.1"),
    (
        "onboarding-productie.md",
        "Onboarding nieuwe medewerkers productie",
        "onboarding",
        "*",
        "1.0",
    ),
    ("veiligheid-heftruck.md", "Veiligheidsinstructie heftruck", "veiligheid", "logistics", "2.0"),
    ("customer-complaints.md", "Handling customer complaints", "klachten", "*", "1.2"),
]


async def _load(settings: ReflectionSettings) -> None:
    """Queue the documents; the running service's worker ingests them in the background."""
    database = Database(settings.database)
    try:
        async with unit_of_work(database) as session:
            for filename, title, process, teams, label in DOCUMENTS:
                data = (HERE / filename).read_bytes()
                upload = await docs.read_upload(data, filename, "text/markdown", label)
                await docs.create_document(
                    session,
                    ADMIN,
                    upload,
                    title=title,
                    process=process,
                    owner="Kwaliteit",
                    language=None,
                    teams=docs.parse_teams(teams),
                )
    finally:
        await database.dispose()


def load() -> None:
    """Queue the demo documents in the configured database (`make run`); returns when queued."""
    asyncio.run(_load(ReflectionSettings()))
