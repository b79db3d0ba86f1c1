"""Guided reflection end to end: client → gateway → reflection service → ideas service, and
the finished reflection's statement → analytics; every hop real HTTP between OS processes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_documents_graphql import _upload
from tests.e2e.test_ideas_graphql import Client
from tests.support import http
from tests.support.platform import Platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

PROCEDURE = """# Storingsprocedure inpaklijn

## Kleine storingen

Een vastgelopen doos mag je zelf verhelpen als je de instructiekaart bij de lijn volgt.
Zet de lijn eerst in de stand onderhoud.

## Melden

Meld elke storing binnen vijftien minuten in het storingslogboek.
"""
HIDDEN = """# Storingen inpaklijn: managementrapport

Het aantal storingen op inpaklijn 3 kost het management dit jaar veel geld; een doos vast.
"""
REFLECTION = """
  id status isMine currentStage remainingStages sharedWith
  stages { stage question answer citations { id chunkId documentId documentTitle } }
  summary { whatHappened actions { text citations } learningPoints { text } citations { id } }
  ideas { action ideaId }
"""
RESULT = f"__typename ... on Reflection {{ {REFLECTION} }} ... on UserError {{ code message }}"
START = f"""mutation($input: StartReflectionInput!) {{
  startReflection(input: $input) {{ {RESULT} }} }}"""
ANSWER = f"""mutation($id: ID!, $stage: String!, $answer: String!) {{
  answerReflection(id: $id, stage: $stage, answer: $answer) {{ {RESULT} }} }}"""
FINISH = f"mutation($id: ID!) {{ finishReflection(id: $id) {{ {RESULT} }} }}"
SHARE = f"mutation($id: ID!) {{ shareReflection(id: $id) {{ {RESULT} }} }}"
UNSHARE = f"mutation($id: ID!) {{ unshareReflection(id: $id) {{ {RESULT} }} }}"
READ = f"query($id: ID!) {{ reflection(id: $id) {{ {REFLECTION} }} }}"
DRAFT = """mutation($id: ID!) { ideaFromReflection(id: $id, action: 0) {
  __typename ... on IdeaDrafted { ideaId created reflection { ideas { ideaId } } }
  ... on UserError { code message } } }"""
IDEA = "query($id: ID!) { idea(id: $id) { id title status proposal reflectionIds } }"
ANSWERS = {
    "what": "De lijn stond twintig minuten stil. Ik heb de ploegleider gebeld en gewacht.",
    "so-what": "Ik kende de instructiekaart niet. Niemand had mij de stand onderhoud uitgelegd.",
    "now-what": "Ik ga voortaan eerst de instructiekaart volgen. "
    "We moeten de instructiekaart uitleggen tijdens het inwerken.",
}


def _data(reply: dict[str, Any], field: str) -> Any:
    assert "errors" not in reply, reply
    return reply["data"][field]


def test_reflect_finish_and_turn_an_action_into_a_linked_idea(
    platform_processes: Platform,
) -> None:
    platform = platform_processes
    root = Client(platform, "root", "admin", "")
    made = http.put(
        f"{platform.urls['ideas']}/v1/teams/packaging", json={"name": "Inpak"}, headers=root.headers
    )
    assert made.status_code == 200
    _upload(platform, root.headers, "Storingsprocedure inpaklijn", PROCEDURE, "*")
    _upload(platform, root.headers, "Managementrapport", HIDDEN, "management")
    worker = Client(platform, "wim", "worker", "packaging")
    visible = http.get(
        f"{platform.urls['reflection']}/v1/documents", headers=worker.headers
    ).json()["items"]
    visible_ids = {d["id"] for d in visible}

    started = _data(
        worker(
            START,
            input={
                "experience": "Op inpaklijn 3 zat een doos vast en ik wist niet of ik de storing "
                "zelf mocht verhelpen.",
                "process": "storingen",
            },
        ),
        "startReflection",
    )
    assert started["__typename"] == "Reflection" and started["currentStage"] == "what"
    rid = started["id"]
    state = started
    for stage in ("what", "so-what", "now-what"):
        assert state["currentStage"] == stage
        state = _data(
            worker(ANSWER, id=rid, stage=stage, answer=ANSWERS[stage]), "answerReflection"
        )
        assert state["__typename"] == "Reflection", state
    finished = _data(worker(FINISH, id=rid), "finishReflection")
    assert finished["status"] == "FINISHED"
    citations = [c for s in finished["stages"] for c in s["citations"]]
    assert citations, "the questions were grounded in the procedure"
    assert {c["documentId"] for c in citations} <= visible_ids, "only what the worker may read"
    assert (
        finished["summary"]["actions"][0]["text"]
        == "Ik ga voortaan eerst de instructiekaart volgen."
    )

    drafted = _data(worker(DRAFT, id=rid), "ideaFromReflection")
    assert drafted["__typename"] == "IdeaDrafted" and drafted["created"] is True
    idea_id = drafted["ideaId"]
    assert drafted["reflection"]["ideas"] == [{"ideaId": idea_id}]
    idea = _data(worker(IDEA, id=idea_id), "idea")
    assert idea["status"] == "DRAFT" and idea["reflectionIds"] == [rid]
    assert idea["proposal"] == "Ik ga voortaan eerst de instructiekaart volgen."
    again = _data(worker(DRAFT, id=rid), "ideaFromReflection")
    assert again["created"] is False and again["ideaId"] == idea_id, "one action, one idea"

    # The LRS learns that a reflection was completed, and nothing of its content.
    lrs = Client(platform, "lrs-reader", "admin", "")

    def stored() -> list[dict[str, Any]]:
        response = http.get(
            f"{platform.urls['analytics']}/xapi/statements",
            params={"activity": f"http://localhost:8000/reflections/{rid}"},
            headers={**lrs.headers, "X-Experience-API-Version": "1.0.3"},
        )
        return list(response.json()["statements"])

    statements = wait_until(stored, "the reflection's statement reaching the LRS", interval=0.3)
    assert isinstance(statements, list) and len(statements) == 1
    assert "instructiekaart" not in str(statements[0])


def test_an_unshared_reflection_is_invisible_to_colleagues_and_coaches(
    platform_processes: Platform,
) -> None:
    platform = platform_processes
    worker = Client(platform, "wanda", "worker", "packaging")
    colleague = Client(platform, "kees", "worker", "packaging")
    coach = Client(platform, "carla", "coach", "packaging")
    rid = _data(
        worker(START, input={"experience": "Vandaag bleef de etiketteermachine steeds haperen."}),
        "startReflection",
    )["id"]
    assert _data(colleague(READ, id=rid), "reflection") is None
    assert _data(coach(READ, id=rid), "reflection") is None
    direct = http.get(f"{platform.urls['reflection']}/v1/reflections/{rid}", headers=coach.headers)
    assert direct.status_code == 404

    shared = _data(worker(SHARE, id=rid), "shareReflection")
    assert shared["sharedWith"] == ["packaging"]
    seen = _data(coach(READ, id=rid), "reflection")
    assert seen["id"] == rid and seen["isMine"] is False

    _data(worker(UNSHARE, id=rid), "unshareReflection")
    assert _data(coach(READ, id=rid), "reflection") is None
    assert _data(colleague(READ, id=rid), "reflection") is None
