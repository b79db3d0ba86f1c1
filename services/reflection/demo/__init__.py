"""Demo process documents for `make run`, written for the project (Dutch and English)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kit.auth import Principal
from kit.db import Database
from services.reflection import documents as docs
from services.reflection.models import Document
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
        async with database.sessions() as session:
            for filename, title, process, teams, label in DOCUMENTS:
                data = (HERE / filename).read_bytes()
                kind, sections = await docs.read_sections(data, filename, "text/markdown")
                document = Document(
                    title=title,
                    process=process,
                    owner="Kwaliteit",
                    language=docs.choose_language(None, sections),
                    teams=docs.parse_teams(teams),
                    created_by=ADMIN.subject,
                )
                session.add(document)
                await session.flush()
                await docs.add_version(
                    session, ADMIN, document, data, filename, kind, sections, label
                )
            await session.commit()
    finally:
        await database.dispose()


def load() -> None:
    asyncio.run(_load(ReflectionSettings()))
