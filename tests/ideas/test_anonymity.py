"""An anonymous idea's author appears on no surface for anyone but themself."""

from __future__ import annotations

import json
import logging

import pytest

from kit.logging import JsonFormatter
from services.ideas.workers import WebhookDispatcher
from tests.ideas.conftest import IdeasEnv
from tests.ideas.test_webhooks import Receiver
from tests.support.servers import serve_in_thread

AUTHOR = "alice"


@pytest.mark.parametrize("ideas_overrides", [{"webhooks_allow_private_targets": True}])
async def test_author_is_absent_everywhere_but_for_themself(
    ideas: IdeasEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as base_url:
        await ideas.client.post(
            "/v1/webhooks", json={"url": f"{base_url}/hook"}, headers=ideas.as_("root")
        )
        idea = await ideas.create(anonymous=True, submit=True)
        assert idea["author"] == {"subject": AUTHOR, "name": AUTHOR}  # the author sees themself
        idea_id = idea["id"]
        comments = f"/v1/ideas/{idea_id}/comments"
        # The author acts on their idea in every way that leaves a trace.
        top = await ideas.client.post(
            comments, json={"body": "Aanvulling van mij"}, headers=ideas.as_(AUTHOR)
        )
        await ideas.client.post(
            comments,
            json={"body": "Vraag", "parent_id": top.json()["id"]},
            headers=ideas.as_("bob"),
        )
        await ideas.client.put(f"/v1/ideas/{idea_id}/support", headers=ideas.as_("bob"))
        await ideas.move(idea_id, "in_review", "carla")
        await ideas.move(idea_id, "withdrawn", AUTHOR)

        dispatcher = WebhookDispatcher(
            ideas.app.state.database, ideas.app.state.http, ideas.app.state.settings
        )
        for _ in range(3):
            await dispatcher.run_once()

        surfaces: dict[str, str] = {}
        for viewer in ("bob", "carla", "dirk", "root"):
            headers = ideas.as_(viewer)
            for path in (
                f"/v1/ideas/{idea_id}",
                "/v1/ideas",
                "/v1/ideas?q=omsteltijd",
                f"/v1/ideas/{idea_id}/transitions",
                comments,
            ):
                response = await ideas.client.get(path, headers=headers)
                assert response.status_code == 200, (viewer, path, response.text)
                surfaces[f"{viewer} GET {path}"] = response.text
            similar = await ideas.client.post(
                "/v1/ideas/similar", json={"text": "omsteltijd inpaklijn mallen"}, headers=headers
            )
            surfaces[f"{viewer} similar"] = similar.text
        for (payload,) in await ideas.rows("SELECT payload FROM outbox"):
            surfaces["outbox"] = surfaces.get("outbox", "") + json.dumps(payload)
        for (payload,) in await ideas.rows("SELECT payload FROM webhook_deliveries"):
            surfaces["webhook records"] = surfaces.get("webhook records", "") + json.dumps(payload)
        surfaces["webhook bodies"] = "".join(body.decode() for _, body in receiver.received)
        formatter = JsonFormatter("ideas")
        surfaces["logs"] = "\n".join(formatter.format(record) for record in caplog.records)

    assert len(receiver.received) >= 4
    leaks = [name for name, text in surfaces.items() if AUTHOR in text]
    assert not leaks, f"the anonymous author shows on: {leaks}"
    # ... while the author still sees it is theirs.
    own = await ideas.client.get(f"/v1/ideas/{idea_id}", headers=ideas.as_(AUTHOR))
    assert own.json()["author"]["subject"] == AUTHOR and own.json()["is_mine"] is True
    history = await ideas.client.get(f"/v1/ideas/{idea_id}/transitions", headers=ideas.as_(AUTHOR))
    assert history.json()[0]["actor"]["subject"] == AUTHOR


async def test_statements_of_an_anonymous_author_use_the_shared_anonymous_agent(
    ideas: IdeasEnv,
) -> None:
    await ideas.create(anonymous=True, submit=True)
    actors = {
        json.dumps((p if isinstance(p, dict) else json.loads(p))["actor"])
        for (p,) in await ideas.rows("SELECT payload FROM outbox")
    }
    assert len(actors) == 1
    actor = json.loads(actors.pop())
    assert actor["account"]["name"] == "anonymous" and "name" not in actor
