"""Learning metrics: a team of four never yields a number — not directly, not by differencing a
total and its parts (teams, processes, weeks of a month), not through a narrowing filter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kit.settings import PlatformSettings
from tests.analytics.support import V, lms, migrated_app, post_batches
from tests.support.apps import app_client, bearer

HOME = "https://werkvloer.example"
X = "https://werkvloer.org/xapi"
# October 2026 is made of the ISO weeks starting 28 Sep, 5, 12, 19 and 26 Oct; all closed.
WEEK_1, WEEK_2 = "2026-10-06T09:00:00+00:00", "2026-10-13T09:00:00+00:00"


def reflection(person: str, team: str, process: str, at: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": person}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "done"}},
        "object": {
            "objectType": "Activity",
            "id": f"{HOME}/reflections/{uuid.uuid4()}",
            "definition": {"type": f"{X}/activities/reflection"},
        },
        "context": {
            "extensions": {
                f"{X}/extensions/team": team,
                f"{X}/extensions/process": process,
                f"{X}/extensions/reflection-model": "gibbs",
            }
        },
        "timestamp": at,
    }


def course(person: str, at: str, verb: str = "completed") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": person}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": "https://lms.example/courses/heftruck"},
        "timestamp": at,
    }


# big: 6 people on two processes; mid: 5; small: 4. In week 2 only two of big reflect.
PEOPLE = {"big": [f"b{i}" for i in range(6)], "mid": [f"m{i}" for i in range(5)]}
PEOPLE["small"] = [f"s{i}" for i in range(4)]
SMALL_TRUTH = 4


def scenario() -> list[dict[str, Any]]:
    made = []
    for team, people in PEOPLE.items():
        for i, person in enumerate(people):
            process = "storingen" if team != "big" or i < 5 else "onboarding"
            made.append(reflection(person, team, process, WEEK_1))
    made += [reflection(p, "big", "storingen", WEEK_2) for p in PEOPLE["big"][:2]]
    made += [course(p, WEEK_1) for p in PEOPLE["mid"]]  # formal learning, team learned above
    return made


@pytest.fixture
async def analytics(
    platform: PlatformSettings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = await migrated_app(platform, database_url)
    async with app_client(app) as client:
        await post_batches(client, lms(platform), [scenario()])
        client.headers.update(bearer(platform, "ana", "analyst"))
        yield client


async def table(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/metrics", params={"from": "2026-09-28", "to": "2026-11-01", **params}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["rows"])


def numbers(row: dict[str, Any]) -> list[Any]:
    return [v for v in row["metrics"].values() if v is not None]


async def test_a_small_team_is_suppressed_and_others_are_shown(
    analytics: httpx.AsyncClient,
) -> None:
    rows = await table(analytics, period="month", group_by="team")
    by_team = {r["team"]: r for r in rows}
    assert by_team["small"]["suppressed"] and numbers(by_team["small"]) == []
    assert by_team["big"]["metrics"]["active_learners"] == 6
    assert by_team["big"]["metrics"]["reflections"] == 8
    total = (await table(analytics, period="month"))[0]
    assert total["metrics"]["active_learners"] == 15 and total["metrics"]["reflections"] == 17
    # The mid team's course completions count as formal learning, in its team.
    assert total["metrics"]["formal_completed"] == 5
    assert total["metrics"]["informal_share"] == round(17 / 22, 4)


async def test_the_total_minus_the_shown_teams_never_gives_the_small_team_away(
    analytics: httpx.AsyncClient,
) -> None:
    for period in ("week", "month"):
        totals = {r["period_start"]: r for r in await table(analytics, period=period)}
        teams = await table(analytics, period=period, group_by="team")
        for start, total in totals.items():
            if total["suppressed"]:
                continue
            parts = [r for r in teams if r["period_start"] == start]
            hidden = [r for r in parts if r["metrics"]["reflections"] is None]
            assert len(hidden) != 1, f"{period} {start}: one hidden team is recoverable"
            if total["metrics"]["reflections"] is not None and hidden:
                shown = sum(r["metrics"]["reflections"] for r in parts if r not in hidden)
                assert total["metrics"]["reflections"] - shown != SMALL_TRUTH


async def test_no_total_has_a_single_hidden_part_in_any_dimension(
    analytics: httpx.AsyncClient,
) -> None:
    """Teams within a total, processes within a team, weeks within a month: in every line whose
    total is shown (and not 0), zero or at least two parts are hidden, for every metric."""
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for period in ("week", "month"):
        for group_by in ("none", "team", "process", "team,process"):
            for r in await table(analytics, period=period, group_by=group_by):
                team = "*" if r["team"] is None else r["team"]
                process = "*" if r["process"] is None else r["process"]
                key = (team, process, period[0] + r["period_start"])
                cells[key] = r["metrics"]
    month_rows = {k for k in cells if k[2].startswith("m")}
    lines: dict[tuple[tuple[str, str, str], int], list[tuple[str, str, str]]] = {}
    for key in cells:
        team, process, period = key
        parents = []
        if team != "*":
            parents.append(((("*", process, period)), 0))
        if process != "*":
            parents.append((((team, "*", period)), 1))
        if period.startswith("w"):
            parents += [((team, process, m[2]), 2) for m in month_rows if m[:2] == (team, process)]
        for line in parents:
            lines.setdefault(line, []).append(key)
    checked = 0
    for (parent, _), parts in lines.items():
        if parent not in cells:
            continue
        for metric, value in cells[parent].items():
            if not value:
                continue  # hidden, or 0: a total of 0 says 0 for every part (docs/privacy.md)
            hidden = [p for p in parts if cells[p][metric] is None]
            assert len(hidden) != 1, (parent, metric, parts)
            checked += 1
    assert checked > 20


async def test_narrowing_filters_never_reach_below_the_minimum(
    analytics: httpx.AsyncClient,
) -> None:
    for period in ("week", "month"):
        for group_by in ("none", "process"):
            rows = await table(analytics, period=period, group_by=group_by, team="small")
            assert rows and all(numbers(r) == [] for r in rows)
    onboarding = await table(analytics, period="month", team="big", process="onboarding")
    assert [numbers(r) for r in onboarding] == [[]], "one person on a process is hidden"


async def test_coaches_see_their_own_teams_and_workers_nothing(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    coach = bearer(platform, "carla", "coach", "big")
    rows = (
        await analytics.get(
            "/v1/metrics",
            params={
                "period": "month",
                "group_by": "team",
                "from": "2026-10-01",
                "to": "2026-10-31",
            },
            headers=coach,
        )
    ).json()["rows"]
    assert {r["team"] for r in rows} == {"big"}
    other = await analytics.get("/v1/metrics", params={"team": "mid"}, headers=coach)
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_your_team"
    worker = await analytics.get("/v1/metrics", headers=bearer(platform, "wim", "worker", "big"))
    assert worker.status_code == 403


async def test_csv_export_leaves_hidden_numbers_empty(analytics: httpx.AsyncClient) -> None:
    response = await analytics.get(
        "/v1/metrics.csv",
        params={"period": "month", "group_by": "team", "from": "2026-10-01", "to": "2026-10-31"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("period_start,period_end,team,process,suppressed,active_learners")
    small = next(line for line in lines if ",small," in line)
    assert small.split(",")[4] == "true" and set(small.split(",")[5:]) == {""}


async def test_a_voided_statement_stops_counting(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    before = (await table(analytics, period="month"))[0]["metrics"]["reflections"]
    lrs = {**bearer(platform, "lms-1", "lrs-client"), **V}
    extra = reflection("b0", "big", "storingen", WEEK_1)
    await analytics.post("/xapi/statements", json=extra, headers=lrs)
    assert (await table(analytics, period="month"))[0]["metrics"]["reflections"] == before + 1
    void = {
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": "b0"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": extra["id"]},
    }
    assert (await analytics.post("/xapi/statements", json=void, headers=lrs)).status_code == 200
    assert (await table(analytics, period="month"))[0]["metrics"]["reflections"] == before


async def test_bad_ranges_are_refused(analytics: httpx.AsyncClient) -> None:
    reversed_ = await analytics.get(
        "/v1/metrics", params={"from": "2026-10-10", "to": "2026-10-01"}
    )
    assert reversed_.status_code == 400 and reversed_.json()["error"]["code"] == "bad_range"
    long = await analytics.get("/v1/metrics", params={"from": "2020-01-01", "to": "2026-10-01"})
    assert long.status_code == 400 and long.json()["error"]["code"] == "range_too_long"
    assert long.json()["error"]["details"][0]["parameter"] == "from"
    odd = await analytics.get("/v1/metrics", params={"group_by": "person"})
    assert odd.status_code == 400 and odd.json()["error"]["code"] == "invalid_parameter"
    # Dates at the edges of the calendar once overflowed the period arithmetic (500).
    for edges in ({"to": "0001-01-01"}, {"from": "9999-12-30", "to": "9999-12-31"}):
        for path in ("/v1/metrics", "/v1/metrics.csv"):
            far = await analytics.get(path, params=edges)
            assert far.status_code == 400, (path, edges, far.text)
            assert far.json()["error"]["code"] == "invalid_parameter"


async def test_erasure_removes_a_persons_statements_and_recomputes_the_numbers(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    from tests.support.databases import columns_mentioning

    before = (await table(analytics, period="month", group_by="team", team="big"))[0]["metrics"]
    assert before["active_learners"] == 6
    # Statements name people by the platform's own account: WERKVLOER_PUBLIC_URL + subject.
    url = analytics._transport.app.state.settings.platform.public_url  # type: ignore[attr-defined]
    lrs = {**bearer(platform, "lms-1", "lrs-client"), **V}
    mine = reflection("b5", "big", "onboarding", WEEK_1)
    mine["actor"]["account"]["homePage"] = url
    await analytics.post("/xapi/statements", json=mine, headers=lrs)
    b5 = bearer(platform, "b5", "worker", "big")
    learning = (await analytics.get("/v1/my-learning", headers=b5)).json()
    assert learning["totals"] == {"reflection": 1} and len(learning["statements"]) == 1
    erased = (await analytics.delete("/v1/my-data", headers=b5)).json()
    assert erased == {"statements_deleted": 1, "facts_deleted": 1}
    assert (await analytics.get("/v1/my-learning", headers=b5)).json()["totals"] == {}
    database_url = analytics._transport.app.state.database.url  # type: ignore[attr-defined]
    assert await columns_mentioning(database_url, f"{url}|b5") == []


async def test_concurrent_batches_about_the_same_new_people_all_land(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    lrs = {**bearer(platform, "lms-1", "lrs-client"), **V}
    batches = [
        [reflection(f"new-{i}", "big", "storingen", WEEK_2) for i in range(10)] for _ in range(4)
    ]
    replies = await asyncio.gather(
        *(analytics.post("/xapi/statements", json=batch, headers=lrs) for batch in batches)
    )
    assert [r.status_code for r in replies] == [200] * 4
    total = (await table(analytics, period="month"))[0]["metrics"]["reflections"]
    assert total == 17 + 40
