"""Cross-service fields batch their calls; oversized queries are refused before any call; one
service down leaves the rest of the answer intact."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.gateway.conftest import DEAD, Stack
from tests.support.waiting import HTTP_TIMEOUT, wait_until_async

PAGE = """{ ideas(first: 50) { edges { node { title linkedDocuments { id title } } } } }"""


async def _seed(stack: Stack, count: int = 50) -> list[str]:
    admin = stack.as_("root", "admin", "")
    documents = []
    async with httpx.AsyncClient(
        base_url=stack.urls["reflection"], timeout=HTTP_TIMEOUT
    ) as reflection:
        for title in ("Storingsprocedure", "Omstellen"):
            made = await reflection.post(
                "/v1/documents",
                files={"file": ("doc.md", f"# {title}\n\nTekst.".encode(), "text/markdown")},
                data={"title": title},
                headers=admin,
            )
            assert made.status_code == 202, made.text
            documents.append(made.json()["document"]["id"])
        for document in documents:  # the service's own worker ingests them

            async def ingested(document: str = document) -> bool:
                answer = await reflection.get(f"/v1/documents/{document}", headers=admin)
                return answer.json()["version"] is not None

            await wait_until_async(ingested, f"document {document} ingested", interval=0.2)
    async with httpx.AsyncClient(base_url=stack.urls["ideas"], timeout=HTTP_TIMEOUT) as ideas:
        for i in range(count):
            body = {
                "title": f"Idee {i}",
                "problem": "Het omstellen duurt te lang.",
                "team": "packaging",
                "document_ids": documents,
                "submit": True,
            }
            response = await ideas.post("/v1/ideas", json=body, headers=stack.as_("wim"))
            assert response.status_code == 201, response.text
    return documents


async def test_fifty_ideas_with_their_documents_cost_one_call_per_service(stack: Stack) -> None:
    documents = await _seed(stack)
    before = stack.calls
    answer = await stack.ask(PAGE, stack.as_("wim"))
    assert "errors" not in answer, answer
    edges = answer["data"]["ideas"]["edges"]
    assert len(edges) == 50
    assert all({d["id"] for d in e["node"]["linkedDocuments"]} == set(documents) for e in edges)
    after = stack.calls
    made = {service: after.get(service, 0) - before.get(service, 0) for service in after}
    assert made == {"ideas": 1, "reflection": 1}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (
            "{ ideas { edges { node { "
            + "sourceReflection { ideas { idea { " * 3
            + "id"
            + " } } }" * 3
            + " } } } }",
            "QUERY_TOO_DEEP",
        ),
        ("{ " + " ".join(f"a{i}: me {{ subject }}" for i in range(20)) + " }", "TOO_MANY_ALIASES"),
        (
            "{ "
            + " ".join(
                f"p{i}: ideas(first: 100) {{ edges {{ node {{ id title status team tags }} }} }}"
                for i in range(8)
            )
            + " }",
            "QUERY_TOO_COSTLY",
        ),
    ],
)
async def test_oversized_queries_are_refused_before_any_service_is_called(
    stack: Stack, gateway_overrides: dict[str, Any], query: str, code: str
) -> None:
    answer = await stack.ask(query, stack.as_("wim"))
    assert answer.get("data") is None
    errors = answer["errors"]
    assert errors, answer
    assert [e.get("extensions", {}).get("code") for e in errors] == [code]
    assert stack.calls == {}, "no service was asked anything"


@pytest.mark.parametrize("gateway_overrides", [{"max_depth": 3}])
async def test_the_depth_limit_is_a_setting(stack: Stack) -> None:
    answer = await stack.ask(
        "{ ideas { edges { node { linkedDocuments { id } } } } }", stack.as_("w")
    )
    assert answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert stack.calls == {}


async def test_with_reflection_down_ideas_still_answer_and_the_error_names_it(
    stack: Stack, platform: Any
) -> None:
    await _seed(stack, count=3)
    stack.app.state.upstreams.urls["reflection"] = DEAD
    answer = await stack.ask(PAGE, stack.as_("wim"))
    edges = answer["data"]["ideas"]["edges"]
    assert [e["node"]["title"] for e in edges] == ["Idee 2", "Idee 1", "Idee 0"]
    assert all(e["node"]["linkedDocuments"] is None for e in edges)
    services = {e["extensions"].get("service") for e in answer["errors"]}
    assert services == {"reflection"}
    assert "127.0.0.1" not in str(answer["errors"]), "no internal address leaks"
