"""The ideas mutations and queries end to end: client → gateway → ideas service, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import mint
from tests.support import http
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e

IDEA_FIELDS = "id title status version supportCount author { subject } isMine"
RESULT = f"""
  __typename
  ... on Idea {{ {IDEA_FIELDS} }}
  ... on UserError {{ code message }}
  ... on ValidationError {{ fields {{ field message }} }}
  ... on StaleVersionError {{ currentVersion }}
  ... on ServiceUnavailableError {{ service }}
"""


class Client:
    def __init__(self, platform: Platform, subject: str, roles: str, teams: str) -> None:
        self.url = f"{platform.urls['gateway']}/graphql"
        self.headers = {"Authorization": f"Bearer {mint(platform, subject, roles, teams)}"}

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = http.post(
            self.url,
            json={"query": query, "variables": variables},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


SUBMIT = f"mutation($input: SubmitIdeaInput!) {{ submitIdea(input: $input) {{ {RESULT} }} }}"
MOVE = f"""mutation($id: ID!, $to: IdeaStatus!, $reason: String, $v: Int) {{
  transitionIdea(id: $id, to: $to, reason: $reason, expectedVersion: $v) {{ {RESULT} }} }}"""
UPDATE = f"""mutation($id: ID!, $v: Int!, $input: UpdateIdeaInput!) {{
  updateIdea(id: $id, expectedVersion: $v, input: $input) {{ {RESULT} }} }}"""
SUPPORT = f"mutation($id: ID!) {{ supportIdea(id: $id) {{ {RESULT} }} }}"
UNSUPPORT = f"mutation($id: ID!) {{ unsupportIdea(id: $id) {{ {RESULT} }} }}"
COMMENT = """mutation($id: ID!, $body: String!) { commentOnIdea(ideaId: $id, body: $body) {
  __typename ... on Comment { id body author { subject } } ... on UserError { code } } }"""


def test_idea_journey_through_the_gateway(platform_processes: Platform) -> None:
    platform = platform_processes
    root = Client(platform, "root", "admin", "")
    for key, name in (("packaging", "Inpak"), ("logistics", "Logistiek")):
        made = http.put(
            f"{platform.urls['ideas']}/v1/teams/{key}", json={"name": name}, headers=root.headers
        )
        assert made.status_code == 200
    alice = Client(platform, "alice", "worker", "packaging")
    bob = Client(platform, "bob", "worker", "packaging")
    carla = Client(platform, "carla", "coach", "packaging")

    created = alice(
        SUBMIT,
        input={
            "title": "Mallen klaarleggen bij omstellen",
            "problem": "Het wisselen van doosformaat op de inpaklijn kost twintig minuten.",
            "proposal": "Een kar per formaat.",
            "team": "packaging",
            "tags": ["omstellen"],
            "expectedImpact": {"hoursSavedPerWeek": 4, "workPressure": 1},
        },
    )["data"]["submitIdea"]
    assert created["__typename"] == "Idea" and created["status"] == "SUBMITTED"
    idea_id = created["id"]

    refused = alice(SUBMIT, input={"title": "x", "problem": "y", "team": "nowhere"})
    assert refused["data"]["submitIdea"]["__typename"] == "ValidationError"
    assert refused["data"]["submitIdea"]["fields"][0]["field"] == "title"
    unknown_team = alice(SUBMIT, input={"title": "Goede titel", "problem": "y", "team": "nowhere"})
    assert unknown_team["data"]["submitIdea"]["code"] == "unknown_team"

    forbidden = alice(MOVE, id=idea_id, to="IN_REVIEW", v=2)["data"]["transitionIdea"]
    assert (forbidden["__typename"], forbidden["code"]) == (
        "ForbiddenError",
        "transition_forbidden",
    )
    stale = alice(UPDATE, id=idea_id, v=99, input={"title": "Andere titel"})["data"]["updateIdea"]
    assert stale["__typename"] == "StaleVersionError" and stale["currentVersion"] == 2
    updated = alice(UPDATE, id=idea_id, v=2, input={"title": "Mallen klaar bij omstellen"})
    assert updated["data"]["updateIdea"]["version"] == 3

    reviewed = carla(MOVE, id=idea_id, to="IN_REVIEW", v=3)["data"]["transitionIdea"]
    assert reviewed["status"] == "IN_REVIEW"
    impossible = carla(MOVE, id=idea_id, to="IMPLEMENTED", v=4)["data"]["transitionIdea"]
    assert (impossible["__typename"], impossible["code"]) == (
        "ConflictError",
        "transition_not_allowed",
    )

    assert bob(SUPPORT, id=idea_id)["data"]["supportIdea"]["supportCount"] == 1
    assert bob(SUPPORT, id=idea_id)["data"]["supportIdea"]["supportCount"] == 1
    assert bob(UNSUPPORT, id=idea_id)["data"]["unsupportIdea"]["supportCount"] == 0
    comment = bob(COMMENT, id=idea_id, body="Goed plan")["data"]["commentOnIdea"]
    assert comment["__typename"] == "Comment" and comment["author"]["subject"] == "bob"

    page = bob(
        """query($after: String) {
             ideas(first: 1, after: $after, filter: {team: "packaging"}) {
               edges { cursor node { id title commentCount } }
               pageInfo { hasNextPage endCursor } } }"""
    )["data"]["ideas"]
    assert page["edges"][0]["node"]["id"] == idea_id
    assert page["edges"][0]["node"]["commentCount"] == 1
    one = bob("query($id: ID!) { idea(id: $id) { title status } }", id=idea_id)["data"]["idea"]
    assert one == {"title": "Mallen klaar bij omstellen", "status": "IN_REVIEW"}
    missing = bob('query { idea(id: "00000000-0000-0000-0000-000000000000") { id } }')
    assert missing["data"]["idea"] is None

    similar = bob(
        """query { similarIdeas(text: "Changing box sizes on the packing line takes long") {
             semantic items { ideaId title matchedBy } } }"""
    )["data"]["similarIdeas"]
    assert similar["semantic"] is True  # the reflection service is up: its model was asked
    assert similar["items"][0]["ideaId"] == idea_id

    anonymous = alice(
        SUBMIT,
        input={
            "title": "Tilhulp lijn 2",
            "problem": "Rugklachten",
            "team": "packaging",
            "anonymous": True,
        },
    )["data"]["submitIdea"]
    assert anonymous["author"] == {"subject": "alice"} and anonymous["isMine"] is True
    seen = bob(
        "query($id: ID!) { idea(id: $id) { author { subject } isMine } }", id=anonymous["id"]
    )
    assert seen["data"]["idea"] == {"author": None, "isMine": False}


def test_ideas_down_is_named_and_the_rest_still_answers(platform_processes: Platform) -> None:
    platform = platform_processes
    alice = Client(platform, "alice", "worker", "packaging")
    platform.stop("ideas")
    try:
        reply = alice(
            "{ me { subject } ideas { edges { node { id } } } health { service status } }"
        )
        # `ideas` is non-null, so its error nulls the whole answer; `me` is checked below.
        assert reply["data"] is None
        errors = reply["errors"]
        assert errors[0]["extensions"] == {"code": "SERVICE_UNAVAILABLE", "service": "ideas"}
        assert "127.0.0.1" not in str(errors)
        health = alice("{ me { subject } health { service status } }")["data"]
        assert health["me"] == {"subject": "alice"}
        assert {h["service"]: h["status"] for h in health["health"]}["ideas"] == "DOWN"
        refused = alice(SUBMIT, input={"title": "Goede titel", "problem": "y", "team": "packaging"})
        result = refused["data"]["submitIdea"]
        assert (result["__typename"], result["service"]) == ("ServiceUnavailableError", "ideas")
    finally:
        platform.start("ideas")
