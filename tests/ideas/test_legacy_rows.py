"""A stored idea that today's input rules would refuse is still shown (issue 13 review).

Rows written before a rule tightened, or by a migration, can hold a two-letter title, a problem
of invisible characters, a tag in capitals or more links than a new idea may carry. The input
rules are `IdeaCreate`'s; a response shows what is stored, as before the refactor, so reading
such a row answers 200, never 500.
"""

from __future__ import annotations

import uuid

from sqlmodel import update

from kit.db import Database
from services.ideas.models import Idea
from tests.ideas.conftest import IdeasEnv

LEGACY = {
    "title": "ab",
    "problem": "\u200b\u200b",
    "tags": ["Old_Tag"],
    "tag_index": "|Old_Tag|",
    "reflection_ids": [str(uuid.uuid4()) for _ in range(21)],
}


async def test_a_legacy_row_is_listed_and_read(ideas: IdeasEnv) -> None:
    made = await ideas.create(submit=True)
    database = Database(ideas.database_url)
    try:
        async with database.sessions() as session:
            await session.exec(
                update(Idea).where(Idea.id == uuid.UUID(made["id"])).values(**LEGACY)  # type: ignore[arg-type]
            )
            await session.commit()
    finally:
        await database.dispose()

    listed = await ideas.client.get("/v1/ideas", headers=ideas.as_("bob"))
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    read = await ideas.client.get(f"/v1/ideas/{made['id']}", headers=ideas.as_("bob"))
    assert read.status_code == 200, read.text
    for shown in (item, read.json()):
        assert (shown["title"], shown["problem"], shown["tags"]) == (
            "ab",
            "\u200b\u200b",
            ["Old_Tag"],
        )
        assert shown["reflection_ids"] == LEGACY["reflection_ids"]
