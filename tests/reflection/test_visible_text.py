"""What a worker writes for people to read needs a visible character (issue 12, #13 text part;
rule in kit/text.py): zero-width or combining-only text is 422 `validation_error`, nothing
stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kit.db import Database
from tests.reflection.conftest import ReflectionEnv
from tests.reflection.test_journal import EXPERIENCE, start

INVISIBLE = [
    "\u200b" * 12,
    "\u0301" * 12,
    "\u200b\u200d\u2060\ufeff" * 3,
    "\u2800" * 12,
    "\u3164\u115f\u1160\uffa0" * 3,
]


async def _count(reflection: ReflectionEnv, table: str, where: str = "") -> int:
    database = Database(reflection.database_url)
    try:
        async with database.engine.connect() as connection:
            sql = f"SELECT count(*) FROM {table} {where}"  # noqa: S608 - fixed names only
            return int((await connection.execute(text(sql))).scalar_one())
    finally:
        await database.dispose()


def _refused(response: object) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("invisible", INVISIBLE)
async def test_invisible_reflection_text_is_refused(
    reflection: ReflectionEnv, invisible: str
) -> None:
    ann = reflection.as_("ann")
    client = reflection.client
    for body in (
        {"experience": invisible},
        {"experience": EXPERIENCE, "process": invisible[:5]},
    ):
        _refused(await client.post("/v1/reflections", json=body, headers=ann))
    assert await _count(reflection, "reflections") == 0

    rid = (await start(reflection, ann))["id"]
    answer = {"stage": "what", "answer": invisible}
    _refused(await client.post(f"/v1/reflections/{rid}/answers", json=answer, headers=ann))
    assert await _count(reflection, "reflection_turns", "WHERE answer IS NOT NULL") == 0
    idea = {"action": 0, "title": invisible[:4]}
    _refused(await client.post(f"/v1/reflections/{rid}/ideas", json=idea, headers=ann))
    gaps = await _count(reflection, "knowledge_gaps")  # starting may record one: no documents
    _refused(await client.post("/v1/search", json={"query": invisible}, headers=ann))
    assert await _count(reflection, "knowledge_gaps") == gaps
