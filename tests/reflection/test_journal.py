"""Guided reflection with the built-in engine: real retrieval over ingested documents, the real
embedding model, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.reflection.conftest import FAULT_PROCEDURE, ReflectionEnv

EXPERIENCE = (
    "Vannacht liep inpaklijn 3 vast op een scheve doos. Ik heb de noodstop ingedrukt, maar ik "
    "wist niet of ik de storing zelf mocht verhelpen en heb een half uur op de ploegleider gewacht."
)
WHAT = "De lijn stond een half uur stil. Ik heb de storing niet in het logboek gemeld."
SO_WHAT = (
    "Ik kende de instructiekaart bij de lijn niet. Nieuwe collega's krijgen die kaart nooit "
    "uitgelegd. Daardoor wachten we te lang op de ploegleider."
)
NOW_WHAT = (
    "Ik ga voortaan elke storing binnen vijftien minuten in het logboek melden. "
    "We moeten de instructiekaart in het inwerkprogramma opnemen."
)


async def ready(reflection: ReflectionEnv) -> None:
    await reflection.upload(FAULT_PROCEDURE, process="inpaklijn")
    await reflection.ingest()


async def ready_as(reflection: ReflectionEnv, person: str) -> dict[str, str]:
    """`ready`, then the headers of `person` (a worker in packaging)."""
    await ready(reflection)
    return reflection.as_(person)


async def start(reflection: ReflectionEnv, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"experience": EXPERIENCE, "process": "inpaklijn", **extra}
    response = await reflection.client.post("/v1/reflections", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def answer(
    reflection: ReflectionEnv, rid: str, stage: str, text_: str, headers: dict[str, str]
) -> Any:
    return await reflection.client.post(
        f"/v1/reflections/{rid}/answers", json={"stage": stage, "answer": text_}, headers=headers
    )


async def complete(reflection: ReflectionEnv, headers: dict[str, str]) -> dict[str, Any]:
    started = await start(reflection, headers)
    rid = started["id"]
    for stage, said in (("what", WHAT), ("so-what", SO_WHAT), ("now-what", NOW_WHAT)):
        response = await answer(reflection, rid, stage, said, headers)
        assert response.status_code == 200, response.text
    finished = await reflection.client.post(f"/v1/reflections/{rid}/finish", headers=headers)
    assert finished.status_code == 200, finished.text
    return dict(finished.json())


async def test_a_reflection_asks_grounded_questions_and_summarises_the_workers_words(
    reflection: ReflectionEnv,
) -> None:
    ann = await ready_as(reflection, "ann")
    started = await start(reflection, ann)
    assert started["current_stage"] == "what"
    assert started["remaining_stages"] == ["so-what", "now-what"]
    first = started["stages"][0]
    assert first["citations"], "the first question is grounded in a retrieved passage"
    cited = {c["id"]: c for c in first["citations"]}
    assert "[c1]" in first["question"]
    # The quote in the question is a sentence of the cited passage, word for word.
    quote = first["question"].split("“")[1].split("”")[0]
    assert quote in " ".join(cited["c1"]["text"].split()), "verbatim, line breaks aside"

    rid = started["id"]
    after_what = (await answer(reflection, rid, "what", WHAT, ann)).json()
    assert after_what["current_stage"] == "so-what"
    second = after_what["stages"][1]
    assert {c["id"] for c in second["citations"]}.isdisjoint(cited), "citation ids are unique"
    await answer(reflection, rid, "so-what", SO_WHAT, ann)
    last = (await answer(reflection, rid, "now-what", NOW_WHAT, ann)).json()
    assert last["current_stage"] is None and last["status"] == "open"

    finished = (await reflection.client.post(f"/v1/reflections/{rid}/finish", headers=ann)).json()
    summary = finished["summary"]
    assert finished["status"] == "finished"
    assert EXPERIENCE.split(".")[0] in summary["what_happened"]
    actions = [a["text"] for a in summary["actions"]]
    assert actions == [
        "Ik ga voortaan elke storing binnen vijftien minuten in het logboek melden.",
        "We moeten de instructiekaart in het inwerkprogramma opnemen.",
    ]
    assert all(a["citations"] == ["a3"] for a in summary["actions"])
    points = [p["text"] for p in summary["learning_points"]]
    assert points and all(p in SO_WHAT for p in points), "learning points are the worker's words"
    assert {c["id"] for c in summary["citations"]} >= set(cited)


async def test_finishing_tells_analytics_only_that_a_reflection_happened(
    reflection: ReflectionEnv,
) -> None:
    await ready(reflection)
    done = await complete(reflection, reflection.as_("ann"))
    engine = create_async_engine(reflection.database_url)
    async with engine.connect() as connection:
        payloads = (await connection.execute(text("SELECT payload FROM outbox"))).scalars().all()
    await engine.dispose()
    assert len(payloads) == 1
    statement = str(payloads[0])
    assert "completed" in statement and "what-so-what-now-what" in statement
    assert done["id"] in statement and "inpaklijn" in statement
    for words in ("scheve doos", "instructiekaart", "logboek", "noodstop"):
        assert words not in statement, "no content of the reflection leaves the service"


async def test_a_worker_who_opted_out_leaves_no_trace_in_analytics(
    reflection: ReflectionEnv,
) -> None:
    ann = await ready_as(reflection, "ann")
    opted = await reflection.client.put(
        "/v1/reflection-preferences", json={"share_with_analytics": False}, headers=ann
    )
    assert opted.status_code == 200
    await complete(reflection, ann)
    await complete(reflection, reflection.as_("bob"))
    engine = create_async_engine(reflection.database_url)
    async with engine.connect() as connection:
        payloads = (await connection.execute(text("SELECT payload FROM outbox"))).scalars().all()
    await engine.dispose()
    assert len(payloads) == 1 and "bob" in str(payloads[0]) and "ann" not in str(payloads[0])


async def test_bad_input_gets_a_clear_error_and_changes_nothing(reflection: ReflectionEnv) -> None:
    ann = await ready_as(reflection, "ann")
    client = reflection.client

    async def refused(response: Any, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code

    await refused(
        await client.post(
            "/v1/reflections", json={"experience": EXPERIENCE, "model": "kolb"}, headers=ann
        ),
        422,
        "unknown_reflection_model",
    )
    await refused(
        await client.post("/v1/reflections", json={"experience": "   kort  "}, headers=ann),
        422,
        "validation_error",
    )
    rid = (await start(reflection, ann))["id"]
    await refused(await answer(reflection, rid, "so-what", SO_WHAT, ann), 409, "stage_out_of_order")
    await refused(await answer(reflection, rid, "what", "   ", ann), 422, "validation_error")
    await refused(await answer(reflection, rid, "what", "x" * 4001, ann), 422, "validation_error")
    await refused(
        await client.post(f"/v1/reflections/{rid}/finish", headers=ann), 409, "stages_unanswered"
    )
    await refused(
        await answer(reflection, rid, "what", WHAT, reflection.as_("eve")),
        404,
        "reflection_not_found",
    )
    state = (await client.get(f"/v1/reflections/{rid}", headers=ann)).json()
    assert state["current_stage"] == "what" and state["stages"][0]["answer"] is None

    for stage, said in (("what", WHAT), ("so-what", SO_WHAT), ("now-what", NOW_WHAT)):
        await answer(reflection, rid, stage, said, ann)
    await refused(await answer(reflection, rid, "now-what", WHAT, ann), 409, "stages_complete")
    await client.post(f"/v1/reflections/{rid}/finish", headers=ann)
    await refused(await answer(reflection, rid, "now-what", WHAT, ann), 409, "reflection_finished")
    await refused(
        await client.post(f"/v1/reflections/{rid}/finish", headers=ann), 409, "reflection_finished"
    )
    await refused(
        await client.post(f"/v1/reflections/{rid}/ideas", json={"action": 9}, headers=ann),
        422,
        "unknown_action",
    )
    await refused(await client.get("/v1/reflections?cursor=bm9wZQ", headers=ann), 400, "bad_cursor")


async def test_two_answers_racing_for_one_stage_land_once(reflection: ReflectionEnv) -> None:
    ann = await ready_as(reflection, "ann")
    rid = (await start(reflection, ann))["id"]
    first, second = await asyncio.gather(
        answer(reflection, rid, "what", WHAT, ann),
        answer(reflection, rid, "what", "Een ander antwoord op dezelfde vraag.", ann),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    state = (await reflection.client.get(f"/v1/reflections/{rid}", headers=ann)).json()
    assert len(state["stages"]) == 2 and state["current_stage"] == "so-what"
    winner = first if first.status_code == 200 else second
    assert state["stages"][0]["answer"] == winner.json()["stages"][0]["answer"]


async def test_a_reflection_is_private_until_shared_and_again_after_unsharing(
    reflection: ReflectionEnv,
) -> None:
    await ready(reflection)
    ann = reflection.as_("ann", teams="packaging")
    colleague = reflection.as_("bob", teams="packaging")
    coach = reflection.as_("carla", roles="coach", teams="packaging")
    other_coach = reflection.as_("dirk", roles="coach", teams="logistics")
    admin = reflection.as_("root", roles="admin", teams="")
    rid = (await start(reflection, ann))["id"]
    url = f"/v1/reflections/{rid}"

    async def status(headers: dict[str, str]) -> int:
        return int((await reflection.client.get(url, headers=headers)).status_code)

    assert [await status(h) for h in (ann, colleague, coach, other_coach, admin)] == [
        200, 404, 404, 404, 404,
    ]  # fmt: skip
    shared_list = await reflection.client.get("/v1/reflections?scope=shared", headers=coach)
    assert shared_list.json()["items"] == []

    refused = await reflection.client.put(
        f"{url}/share", json={"teams": ["logistics"]}, headers=ann
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_your_team"
    shared = await reflection.client.put(f"{url}/share", json={}, headers=ann)
    assert shared.json()["shared_with"] == ["packaging"]
    assert [await status(h) for h in (coach, colleague, other_coach, admin)] == [200, 200, 404, 404]
    seen = (await reflection.client.get(url, headers=coach)).json()
    assert seen["is_mine"] is False
    listed = (await reflection.client.get("/v1/reflections?scope=shared", headers=coach)).json()
    assert [r["id"] for r in listed["items"]] == [rid]
    cannot = await answer(reflection, rid, "what", WHAT, coach)
    assert cannot.status_code == 404, "a reader of a shared reflection cannot write in it"

    await reflection.client.delete(f"{url}/share", headers=ann)
    assert [await status(h) for h in (ann, coach, colleague)] == [200, 404, 404]


async def test_my_reflections_page_newest_first(reflection: ReflectionEnv) -> None:
    ann = await ready_as(reflection, "ann")
    made = [(await start(reflection, ann))["id"] for _ in range(3)]
    await start(reflection, reflection.as_("bob"))
    first = (await reflection.client.get("/v1/reflections?limit=2", headers=ann)).json()
    rest = (
        await reflection.client.get(
            f"/v1/reflections?limit=2&cursor={first['next_cursor']}", headers=ann
        )
    ).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == made[::-1]
    assert rest["next_cursor"] is None


async def test_gibbs_asks_about_feelings_without_retrieving_anything(
    reflection: ReflectionEnv,
) -> None:
    ann = await ready_as(reflection, "ann")
    started = await start(reflection, ann, model="gibbs")
    rid = started["id"]
    assert started["remaining_stages"][0] == "feelings"
    feelings = (await answer(reflection, rid, "description", WHAT, ann)).json()["stages"][1]
    assert feelings["stage"] == "feelings" and feelings["citations"] == []
    assert feelings["question"].startswith("Wat dacht en voelde je")


async def test_an_english_experience_gets_english_questions(reflection: ReflectionEnv) -> None:
    await ready(reflection)
    started = await start(
        reflection,
        reflection.as_("ann"),
        experience="The packing line stopped tonight and I did not know whether I was allowed "
        "to fix the jammed box myself, so I waited for the shift leader.",
    )
    assert started["language"] == "en"
    assert "What exactly happened" in started["stages"][0]["question"]


@pytest.mark.parametrize("reflection_overrides", [{"ideas_url": "http://127.0.0.1:9"}])
async def test_an_idea_draft_is_refused_whole_when_the_ideas_service_is_down(
    reflection: ReflectionEnv,
) -> None:
    ann = await ready_as(reflection, "ann")
    done = await complete(reflection, ann)
    response = await reflection.client.post(
        f"/v1/reflections/{done['id']}/ideas", json={"action": 0}, headers=ann
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ideas_unavailable"
    state = (await reflection.client.get(f"/v1/reflections/{done['id']}", headers=ann)).json()
    assert state["ideas"] == []


async def test_reflection_models_are_listed_and_a_deleted_reflection_is_gone(
    reflection: ReflectionEnv,
) -> None:
    ann = await ready_as(reflection, "ann")
    models = (await reflection.client.get("/v1/reflection-models", headers=ann)).json()
    assert {m["key"] for m in models} == {"what-so-what-now-what", "gibbs"}
    rid = (await start(reflection, ann))["id"]
    assert (
        await reflection.client.delete(f"/v1/reflections/{rid}", headers=ann)
    ).status_code == 204
    assert (await reflection.client.get(f"/v1/reflections/{rid}", headers=ann)).status_code == 404


async def test_erasure_leaves_nothing_that_names_the_worker(reflection: ReflectionEnv) -> None:
    from tests.support.databases import columns_mentioning

    await ready(reflection)
    zoe = reflection.as_("zoe-7q3", teams="packaging")
    done = await complete(reflection, zoe)
    await reflection.client.put(f"/v1/reflections/{done['id']}/share", json={}, headers=zoe)
    for _ in range(2):
        await reflection.client.post(
            "/v1/search", json={"query": "recept voor appeltaart"}, headers=zoe
        )
    exported = (await reflection.client.get("/v1/my-data", headers=zoe)).json()
    assert [r["id"] for r in exported["reflections"]] == [done["id"]]
    assert await columns_mentioning(reflection.database_url, "zoe-7q3")

    report = (await reflection.client.delete("/v1/my-data", headers=zoe)).json()
    assert report["reflections_deleted"] == 1 and report["outbox_messages_deleted"] == 1
    assert report["knowledge_gap_pseudonyms_removed"] == 1
    assert await columns_mentioning(reflection.database_url, "zoe-7q3") == []
    coach = reflection.as_("carla", roles="coach", teams="packaging")
    gone = await reflection.client.get(f"/v1/reflections/{done['id']}", headers=coach)
    assert gone.status_code == 404
    again = (await reflection.client.delete("/v1/my-data", headers=zoe)).json()
    assert again == {
        "reflections_deleted": 0,
        "knowledge_gap_pseudonyms_removed": 0,
        "outbox_messages_deleted": 0,
    }
