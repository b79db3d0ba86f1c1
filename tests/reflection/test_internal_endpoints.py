"""Internal endpoints take only the services' own credentials, cap their input, and start no
work for a caller who has gone (issue 12, item 6); search caps its query and k."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import numpy as np
import pytest

from kit.auth import dev_secret, issue_dev_token
from kit.service_auth import service_headers
from services.reflection.settings import ReflectionSettings
from tests.reflection.conftest import ReflectionEnv


class CountingEmbedder:
    """The real embedder, with the number of model calls counted."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0
        self.model, self.dimensions = inner.model, inner.dimensions

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.asarray(await self.inner.embed_queries(texts))

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.asarray(await self.inner.embed_passages(texts))


def service(reflection: ReflectionEnv, name: str = "ideas") -> dict[str, str]:
    token = issue_dev_token(
        dev_secret(reflection.platform.var_dir), subject=f"service:{name}", roles=["service"],
        teams=[],
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


async def embed(reflection: ReflectionEnv, headers: dict[str, str], texts: list[str]) -> Any:
    return await reflection.client.post(
        "/v1/embeddings", json={"texts": texts, "kind": "passage"}, headers=headers
    )


async def test_only_a_service_token_gets_embeddings(reflection: ReflectionEnv) -> None:
    for person in (
        reflection.as_("alice"),
        reflection.as_("carla", roles="coach"),
        reflection.as_("ana", roles="analyst"),
        reflection.admin,  # a person, not a process
        reflection.as_("lrs", roles="lrs-client", teams=""),
    ):
        refused = await embed(reflection, person, ["Bij een storing druk je op de noodstop."])
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "service_only"
    assert (await embed(reflection, {}, ["x"])).status_code == 401
    answered = await embed(reflection, service(reflection), ["Druk op de noodstop.", "Log it."])
    assert answered.status_code == 200, answered.text
    assert np.asarray(answered.json()["vectors"]).shape == (2, 384)


async def test_the_kit_helper_mints_a_service_token_the_service_accepts(
    reflection: ReflectionEnv,
) -> None:
    settings = ReflectionSettings(platform=reflection.platform)
    headers = service_headers(settings, "ideas")
    assert headers is not None
    assert (await embed(reflection, headers, ["Druk op de noodstop."])).status_code == 200


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        (["kort"] * 33, "too_many_texts"),
        (["kort", "x" * 2001], "text_too_long"),
        (["y" * 2000] * 17, "embedding_input_too_large"),
        (["z" * 8000] * 8, "text_too_long"),  # the example from the issue
    ],
)
async def test_too_much_input_is_413_with_a_code_and_costs_no_embedding(
    reflection: ReflectionEnv, texts: list[str], code: str
) -> None:
    counting = CountingEmbedder(reflection.app.state.embedder)
    reflection.app.state.embedder = counting
    refused = await embed(reflection, service(reflection), texts)
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["code"] == code
    assert refused.json()["error"]["details"]["limit"]
    assert counting.calls == 0


async def test_malformed_embedding_requests_are_4xx(reflection: ReflectionEnv) -> None:
    headers = service(reflection)
    for body in (
        {"texts": [], "kind": "passage"},
        {"texts": [""], "kind": "passage"},
        {"texts": ["a"], "kind": "other"},
        {"texts": "a", "kind": "query"},
        {"texts": ["nul \u0000 here"], "kind": "query"},
    ):
        response = await reflection.client.post("/v1/embeddings", json=body, headers=headers)
        assert 400 <= response.status_code < 500, (body, response.text)


async def _call_raw(
    reflection: ReflectionEnv, path: str, body: dict[str, Any], headers: dict[str, str],
    *, gone: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """Call the app as a server would, with a client that hung up after sending (`gone`) or one
    that stays (its next receive never returns)."""
    raw = json.dumps(body).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "server": ("test", 80), "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"test"), (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
    }  # fmt: skip
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": raw, "more_body": False}
        if gone:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    messages: list[dict[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(dict(message))

    await reflection.app(scope, receive, send)
    return messages


@pytest.mark.parametrize(
    ("path", "body", "who"),
    [
        ("/v1/embeddings", {"texts": ["Druk op de noodstop."] * 8, "kind": "passage"}, "service"),
        ("/v1/search", {"query": "wat doe ik bij een storing"}, "worker"),
        (
            "/v1/reflections",
            {"experience": "De inpaklijn liep vast en ik wist niet wat ik moest doen."},
            "worker",
        ),
    ],
)
async def test_no_embedding_runs_for_a_client_that_has_gone(
    reflection: ReflectionEnv, path: str, body: dict[str, Any], who: str
) -> None:
    counting = CountingEmbedder(reflection.app.state.embedder)
    reflection.app.state.embedder = reflection.app.state.journal.embedder = counting
    headers = service(reflection) if who == "service" else reflection.as_("alice")
    await _call_raw(reflection, path, body, headers, gone=True)
    assert counting.calls == 0
    answered = await _call_raw(reflection, path, body, headers, gone=False)
    assert answered[0]["status"] in (200, 201)
    assert counting.calls >= 1


async def test_search_caps_query_length_and_k(reflection: ReflectionEnv) -> None:
    worker = reflection.as_("alice")
    for body in (
        {"query": "x" * 2001},
        {"query": "storing", "k": 51},
        {"query": "storing", "k": 0},
        {"query": "storing", "k": -1000000},
    ):
        response = await reflection.client.post("/v1/search", json=body, headers=worker)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
