"""Documents end to end: upload over REST, ingestion by the running service's own worker, search
through the gateway — permission-aware — over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import mint
from tests.support import http
from tests.support.platform import Platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

PROCEDURE = """# Storingsprocedure inpaklijn

## Noodstop

Bij gevaar voor mensen druk je direct op de rode noodstop en waarschuw je de ploegleider.
"""
SECRET = """# Reorganisatie magazijn

Het magazijn van Tilburg gaat in juni dicht; de medewerkers krijgen een plek in Breda.
"""

SEARCH = """query($q: String!) { search(query: $q, k: 5) {
  citationId documentId documentTitle section snippet } }"""


def _post(platform: Platform, admin: dict[str, str], title: str, body: str, teams: str) -> Any:
    """The upload's 202 body: the document and its queued job."""
    response = http.post(
        f"{platform.urls['reflection']}/v1/documents",
        files={"file": ("doc.md", body.encode(), "text/markdown")},
        data={"title": title, "teams": teams},
        headers=admin,
    )
    assert response.status_code == 202, response.text
    return response.json()


def _upload(platform: Platform, admin: dict[str, str], title: str, body: str, teams: str) -> str:
    accepted = _post(platform, admin, title, body, teams)
    job = accepted["job"]["id"]

    def finished() -> dict[str, Any]:  # empty while the job runs
        status = http.get(f"{platform.urls['reflection']}/v1/jobs/{job}", headers=admin).json()
        return dict(status) if status["status"] in ("completed", "failed") else {}

    status = wait_until(finished, f"ingestion job {job} finishing", interval=0.2)
    assert status["status"] == "completed", status
    return str(accepted["document"]["id"])


def test_search_through_the_gateway_respects_visibility(platform_processes: Platform) -> None:
    platform = platform_processes
    admin = {"Authorization": f"Bearer {mint(platform, 'root', 'admin')}"}
    public_id = _upload(platform, admin, "Storingsprocedure", PROCEDURE, "*")
    secret_id = _upload(platform, admin, "Reorganisatie", SECRET, "management")
    gateway = f"{platform.urls['gateway']}/graphql"
    worker = {"Authorization": f"Bearer {mint(platform, 'alice', 'worker', 'packaging')}"}

    hits = http.post(
        gateway, json={"query": SEARCH, "variables": {"q": "wat doe ik bij gevaar"}}, headers=worker
    ).json()
    top = hits["data"]["search"][0]
    assert top["documentId"] == public_id and top["section"] == [
        "Storingsprocedure inpaklijn",
        "Noodstop",
    ]

    quote = "Het magazijn van Tilburg gaat in juni dicht"
    leaked = http.post(
        gateway, json={"query": SEARCH, "variables": {"q": quote}}, headers=worker
    ).json()
    assert all(h["documentId"] != secret_id for h in leaked["data"]["search"])
    missing = http.post(
        gateway,
        json={
            "query": "query($id: ID!) { document(id: $id) { title } }",
            "variables": {"id": secret_id},
        },
        headers=worker,
    ).json()
    assert missing["data"]["document"] is None

    manager = {"Authorization": f"Bearer {mint(platform, 'mo', 'worker', 'management')}"}
    found = http.post(
        gateway, json={"query": SEARCH, "variables": {"q": quote}}, headers=manager
    ).json()
    assert found["data"]["search"][0]["documentId"] == secret_id
    listed = http.post(
        gateway, json={"query": "{ documents { edges { node { id title } } } }"}, headers=worker
    ).json()
    assert secret_id not in {e["node"]["id"] for e in listed["data"]["documents"]["edges"]}


PAGE = """query($after: String) { documents(first: 2, after: $after) {
  edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""


def test_documents_page_through_the_gateway_with_the_services_cursors(
    platform_processes: Platform,
) -> None:
    platform = platform_processes
    admin = {"Authorization": f"Bearer {mint(platform, 'root', 'admin')}"}
    mine = {_post(platform, admin, f"Lijst {n}", PROCEDURE, "*")["document"]["id"] for n in "abc"}
    gateway = f"{platform.urls['gateway']}/graphql"

    def page(after: str | None) -> dict[str, Any]:
        reply = http.post(
            gateway, json={"query": PAGE, "variables": {"after": after}}, headers=admin
        )
        return dict(reply.json()["data"]["documents"])

    edges: list[dict[str, Any]] = []
    current = page(None)
    while True:
        edges += current["edges"]
        assert current["pageInfo"]["endCursor"] == current["edges"][-1]["cursor"]
        if not current["pageInfo"]["hasNextPage"]:
            break
        current = page(current["pageInfo"]["endCursor"])
    listed = [e["node"]["id"] for e in edges]
    assert len(listed) == len(set(listed)) and mine <= set(listed)
    # Every edge's cursor resumes the list right after that edge, not only the last one.
    assert page(edges[0]["cursor"])["edges"][0]["node"]["id"] == listed[1]

    for bad in ("garbage", listed[0]):  # an old id cursor is refused like any bad one
        refused = http.post(
            gateway, json={"query": PAGE, "variables": {"after": bad}}, headers=admin
        ).json()
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_PARAMETER"
        assert refused["errors"][0]["message"] == "invalid parameter: cursor"
