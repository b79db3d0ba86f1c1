"""Issue 12 #5 through the gateway: GraphQL `learningMetrics` (rows and csv) hides what REST
hides, and a coach's total is their own team's, not the organisation's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.analytics.support import lms, migrated_app, post_batches
from tests.analytics.test_metrics_privacy import courses, scenario
from tests.support.apps import app_client, bearer
from tests.support.servers import free_port, serve_in_thread

QUERY = """query { learningMetrics(period: MONTH, filter: {fromDate: "2026-10-01",
  toDate: "2026-10-31", team: "packaging"}) {
  rows { team reflections ideasSubmitted formalCompleted informalShare adoptionRate } csv } }"""
COACH_TOTAL = """query { learningMetrics(period: MONTH, filter: {fromDate: "2026-10-01",
  toDate: "2026-10-31"}) { rows { team reflections activeLearners } } }"""


@pytest.fixture
async def gateway(
    platform: PlatformSettings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    analytics = await migrated_app(platform, database_url, metrics_refresh_seconds=0)
    dead = f"http://127.0.0.1:{free_port()}"
    with serve_in_thread(analytics) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await post_batches(http, lms(platform), [scenario(), courses()])
        settings = GatewaySettings(
            platform=platform, ideas_url=dead, reflection_url=dead, analytics_url=url
        )
        async with app_client(create_gateway(settings)) as client:
            yield client


async def ask(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> Any:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]["learningMetrics"]


async def test_graphql_rows_and_csv_hide_derived_figures_of_hidden_counts(
    gateway: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    table = await ask(gateway, QUERY, bearer(platform, "ana", "analyst"))
    (row,) = table["rows"]
    assert row["reflections"] == 19 and row["ideasSubmitted"] == 9
    assert row["formalCompleted"] is None and row["informalShare"] is None
    header, line = table["csv"].strip().splitlines()
    shown = dict(zip(header.split(","), line.split(","), strict=True))
    assert shown["formal_completed"] == "" and shown["informal_share"] == ""


async def test_graphql_gives_a_coach_their_own_teams_total(
    gateway: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    org = await ask(gateway, COACH_TOTAL, bearer(platform, "ana", "analyst"))
    assert org["rows"][0]["reflections"] == 33
    mine = await ask(gateway, COACH_TOTAL, bearer(platform, "carla", "coach", "packaging"))
    assert mine["rows"] == [{"team": None, "reflections": 19, "activeLearners": 7}]
