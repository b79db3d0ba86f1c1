"""Issue 12 #5: no hidden count comes back from derived figures, from arithmetic across metrics,
rows and totals, or from a coach's view; every role sees its own scope, enforced by the query.

The scenario is the reviewer's: in October 2026 packaging (7 people) reflected 19 times and
submitted 9 ideas, and 3 of them completed 6 LMS courses (one of them alone in the week of
5 October), so `formal_completed` is hidden and 28 / informal_share - 28 gave it back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kit.settings import PlatformSettings
from tests.analytics.differencing import Key, recover
from tests.analytics.support import lms, migrated_app, post_batches
from tests.support.apps import app_client, bearer

HOME = "https://werkvloer.example"
X = "https://werkvloer.org/xapi"
W1, W2, W3 = "2026-10-06T09:00:00+00:00", "2026-10-13T09:00:00+00:00", "2026-10-20T09:00:00+00:00"
OCTOBER = {"from": "2026-09-28", "to": "2026-11-01"}
PACKAGING = [f"pk{i}" for i in range(7)]
LOGISTICS = [f"lg{i}" for i in range(6)]
KANTINE = [f"k{i}" for i in range(3)]  # too small: never a number
MAGAZIJN = [f"m{i}" for i in range(5)]
COUNTED_PREFIXES = ("reflections", "ideas_", "documents_", "formal_")


def statement(
    person: str, verb: str, at: str, kind: str | None = None, team: str = "", process: str = ""
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": person}},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": f"https://lms.example/{uuid.uuid4()}"},
        "timestamp": at,
    }
    if kind is not None:
        made["object"]["definition"] = {"type": f"{X}/activities/{kind}"}
        made["context"] = {
            "extensions": {f"{X}/extensions/team": team, f"{X}/extensions/process": process}
        }
    return made


def reflected(person: str, team: str, process: str, at: str) -> dict[str, Any]:
    return statement(
        person, "http://adlnet.gov/expapi/verbs/completed", at, "reflection", team, process
    )


def idea(person: str, verb: str, team: str, process: str, at: str) -> dict[str, Any]:
    return statement(
        person, f"http://activitystrea.ms/schema/1.0/{verb}", at, "idea", team, process
    )


def course(person: str, at: str, verb: str = "completed") -> dict[str, Any]:
    """Formal learning from an LMS: no team, so the person's last known team counts."""
    return statement(person, f"http://adlnet.gov/expapi/verbs/{verb}", at)


def process_of(person: str) -> str:
    return "etiketten" if person in ("pk5", "pk6") else "inpakken"


def scenario() -> list[dict[str, Any]]:
    made = [
        reflected(p, "packaging", process_of(p), at) for at in (W1, W2, W3) for p in PACKAGING[:6]
    ]
    made += [reflected("pk6", "packaging", "etiketten", W1)]  # the 7th person; 19 in all
    made += [idea(p, "submit", "packaging", "inpakken", W1) for p in PACKAGING[:6]]
    made += [idea(p, "submit", "packaging", "inpakken", W3) for p in PACKAGING[:3]]
    made += [reflected(p, "logistics", "heftruck", W1) for p in LOGISTICS]
    made += [idea(p, "submit", "logistics", "heftruck", W1) for p in LOGISTICS[:5]]
    made += [idea(p, "accept", "logistics", "heftruck", W1) for p in LOGISTICS]
    made += [idea("lg5", "reject", "logistics", "heftruck", W1)]  # one person: hidden
    made += [reflected(p, "magazijn", "orderpicken", W1) for p in MAGAZIJN]
    made += [idea(p, "accept", "magazijn", "orderpicken", W1) for p in MAGAZIJN]
    made += [reflected(p, "kantine", "schoonmaak", W1) for p in KANTINE]
    return made


def courses() -> list[dict[str, Any]]:
    """Sent after the reflections, so each person's team is known."""
    made = [course("pk0", W1), course("pk0", W1)]  # a week with one person
    made += [course(p, W2) for p in ("pk1", "pk1", "pk2", "pk2")]
    made += [course(p, W2, "passed") for p in LOGISTICS[:5]]
    return made


@pytest.fixture
async def analytics(
    platform: PlatformSettings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = await migrated_app(platform, database_url, metrics_refresh_seconds=0)
    async with app_client(app) as client:
        await post_batches(client, lms(platform), [scenario(), courses()])
        client.headers.update(bearer(platform, "ana", "analyst"))
        yield client


async def rows(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, /, **params: str
) -> list[dict[str, Any]]:
    response = await client.get("/v1/metrics", params={**OCTOBER, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["rows"])


def key(row: dict[str, Any], period: str, team: Any = None) -> Key:
    return (
        team if team is not None else "*" if row["team"] is None else row["team"],
        "*" if row["process"] is None else row["process"],
        period[0] + row["period_start"],
    )


async def everything(client: httpx.AsyncClient) -> tuple[dict[Key, dict[str, Any]], dict[str, str]]:
    """Every cell an analyst can read, and the month of each week."""
    cells: dict[Key, dict[str, Any]] = {}
    months: dict[str, str] = {}
    for period in ("week", "month"):
        for group_by in ("none", "team", "process", "team,process"):
            for row in await rows(client, period=period, group_by=group_by):
                cells[key(row, period)] = row["metrics"]
                if period == "week":
                    months["w" + row["period_start"]] = "m2026-09-28"
    return cells, months


async def test_the_reviewers_example_gives_nothing_away(analytics: httpx.AsyncClient) -> None:
    params = {"period": "month", "team": "packaging", "from": "2026-10-01", "to": "2026-10-31"}
    (row,) = await rows(analytics, **params)
    m = row["metrics"]
    assert m["reflections"] == 19 and m["ideas_submitted"] == 9
    assert m["formal_completed"] is None, "three people completed courses"
    assert m["informal_share"] is None, "28 / share - 28 would give the hidden count back"
    (week,) = await rows(
        analytics, period="week", team="packaging", **{"from": "2026-10-05", "to": "2026-10-11"}
    )
    assert week["metrics"]["formal_completed"] is None and week["metrics"]["informal_share"] is None
    csv = await analytics.get("/v1/metrics.csv", params=params)
    header, line = csv.text.strip().splitlines()
    shown = dict(zip(header.split(","), line.split(","), strict=True))
    assert shown["formal_completed"] == "" and shown["informal_share"] == ""


async def test_an_adoption_rate_never_gives_a_hidden_rejection_away(
    analytics: httpx.AsyncClient,
) -> None:
    (row,) = await rows(analytics, period="month", team="logistics")
    m = row["metrics"]
    assert m["ideas_adopted"] == 6 and m["ideas_rejected"] is None
    assert m["adoption_rate"] is None and m["median_days_to_decision"] is None


async def test_no_hidden_count_is_recovered_from_any_published_figure(
    analytics: httpx.AsyncClient,
) -> None:
    """Every row, every derived field, arithmetic across metrics, sibling rows and totals."""
    cells, months = await everything(analytics)
    assert any(v is None for m in cells.values() for v in m.values()), "the table hides something"
    assert recover(cells, [], months) == []


async def test_shown_derived_figures_are_computed_from_shown_figures_only(
    analytics: httpx.AsyncClient,
) -> None:
    cells, _ = await everything(analytics)
    counts = [c for c in next(iter(cells.values())) if c.startswith(COUNTED_PREFIXES)]
    for metrics in cells.values():
        if metrics["informal_share"] is not None:
            assert all(metrics[c] is not None for c in counts)
        if metrics["adoption_rate"] is not None or metrics["median_days_to_decision"] is not None:
            assert metrics["ideas_adopted"] is not None and metrics["ideas_rejected"] is not None
        impact = ("hours_saved_per_week", "work_pressure_change", "wellbeing_change")
        if any(metrics[m] is not None for m in impact):
            assert metrics["ideas_implemented"] is not None


async def test_a_coach_sees_the_total_of_their_own_teams_only(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    coach = bearer(platform, "carla", "coach", "packaging")
    (total,) = await rows(analytics, coach, period="month")
    assert total["metrics"]["reflections"] == 19, "packaging's total, not the organisation's"
    assert total["metrics"]["active_learners"] == 7
    processes = await rows(analytics, coach, period="month", group_by="process")
    assert {r["process"] for r in processes} <= {"inpakken", "etiketten", ""}
    assert sum(r["metrics"]["reflections"] or 0 for r in processes) <= 19
    teams = await rows(analytics, coach, period="week", group_by="team,process")
    assert {r["team"] for r in teams} == {"packaging"}


async def test_a_coach_of_two_teams_gets_a_total_made_of_shown_figures_only(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    coach = bearer(platform, "carla", "coach", "packaging,logistics")
    (total,) = await rows(analytics, coach, period="month")
    m = total["metrics"]
    assert m["reflections"] == 19 + 6 and m["active_learners"] == 13
    assert m["formal_completed"] is None and m["ideas_rejected"] is None
    assert m["informal_share"] is None and m["adoption_rate"] is None
    # Together with what the analyst table shows, the coach's totals recover nothing either.
    cells, months = await everything(analytics)
    scope = ("packaging", "logistics")
    composed: list[tuple[Key, list[Key]]] = []
    for period in ("week", "month"):
        for group_by in ("none", "process"):
            for row in await rows(analytics, coach, period=period, group_by=group_by):
                k = key(row, period, team=scope)
                cells[k] = row["metrics"]
                composed.append((k, [(t, k[1], k[2]) for t in scope if (t, k[1], k[2]) in cells]))
    assert recover(cells, composed, months) == []


async def test_a_coach_of_a_small_team_sees_no_number(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    coach = bearer(platform, "kees", "coach", "kantine")
    for group_by in ("none", "process"):
        for period in ("week", "month"):
            found = await rows(analytics, coach, period=period, group_by=group_by)
            assert found and all(r["suppressed"] for r in found)
            assert all(v is None for r in found for v in r["metrics"].values())


async def test_each_role_reads_its_own_scope(
    analytics: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    (org,) = await rows(analytics, period="month")
    assert org["metrics"]["reflections"] == 19 + 6 + 5 + 3 and org["team"] is None
    (admin,) = await rows(analytics, bearer(platform, "root", "admin"), period="month")
    assert admin["metrics"] == org["metrics"]
    worker = await analytics.get(
        "/v1/metrics", headers=bearer(platform, "wim", "worker", "packaging")
    )
    assert worker.status_code == 403 and worker.json()["error"]["code"] == "role_required"
    lrs = await analytics.get("/v1/metrics", headers=bearer(platform, "lms", "lrs-client"))
    assert lrs.status_code == 403 and lrs.json()["error"]["code"] == "role_required"
    teamless = await analytics.get("/v1/metrics", headers=bearer(platform, "cor", "coach"))
    assert teamless.status_code == 403 and teamless.json()["error"]["code"] == "not_your_team"
    other = bearer(platform, "carla", "coach", "packaging")
    for params in ({"team": "logistics"}, {"team": "logistics", "group_by": "process"}):
        refused = await analytics.get("/v1/metrics", params=params, headers=other)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_team"
    csv = await analytics.get(
        "/v1/metrics.csv", params={**OCTOBER, "period": "month"}, headers=other
    )
    assert csv.status_code == 200 and ",19," in csv.text.splitlines()[1]
