"""The learning record store: statement ingest over HTTP in batches of 100, against Ralph (the
FastAPI LRS, `ralph-malph`, file-system backend) in the same run; and the metrics query over a
year of learning facts at 100k and 1M statements.

Ingest: the analytics service in its own process, one uvicorn worker, four concurrent senders.
Metrics: facts are bulk-loaded (sending a million statements over HTTP would take this machine
most of an hour, and the metrics read facts, never statement bodies); the query is the monthly
team table for the last twelve months, cold (every month rebuilt) and warm (median of 20).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.servers import free_port, on_each_backend, wait_until_ready

INGEST = 20_000
BATCH = 100
SENDERS = 4
PEOPLE, TEAMS, PROCESSES = 2_000, 50, 20
X = "https://werkvloer.org/xapi"
# `make bench` installs Ralph into its own environment: its pins differ from ours.
RALPH = Path(__file__).resolve().parent.parent / ".bench" / "ralph" / "bin" / "ralph"


def statements(count: int, seed: int = 1) -> list[dict[str, Any]]:
    chance = random.Random(seed)
    now = datetime.now(UTC)
    made = []
    for _ in range(count):
        person = chance.randrange(PEOPLE)
        at = now - timedelta(days=chance.uniform(8, 360))
        reflection = chance.random() < 0.5
        made.append(
            {
                "id": str(uuid.UUID(int=chance.getrandbits(128), version=4)),
                "actor": {
                    "objectType": "Agent",
                    "account": {"homePage": "http://localhost:8000", "name": f"p{person}"},
                },
                "verb": {
                    "id": "http://adlnet.gov/expapi/verbs/completed",
                    "display": {"en-US": "completed"},
                },
                "object": {
                    "objectType": "Activity",
                    "id": f"http://localhost:8000/reflections/{uuid.uuid4()}"
                    if reflection
                    else "https://lms.example/courses/vca",
                    "definition": {"type": f"{X}/activities/reflection"}
                    if reflection
                    else {"type": "http://adlnet.gov/expapi/activities/course"},
                },
                "context": {
                    "extensions": {
                        f"{X}/extensions/team": f"team-{person % TEAMS}",
                        f"{X}/extensions/process": f"process-{chance.randrange(PROCESSES)}",
                    }
                },
                "timestamp": at.isoformat(),
            }
        )
    return made


async def _send(url: str, headers: dict[str, str], made: list[dict[str, Any]]) -> float:
    batches = [made[i : i + BATCH] for i in range(0, len(made), BATCH)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            response = await client.post(url, json=batch, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))
    return len(made) / (time.perf_counter() - started)


def _first_batch(url: str, headers: dict[str, str], made: list[dict[str, Any]]) -> float:
    """Statements/s of one batch of 100 sent to a fresh store whose process is warmed up by
    reads first (so neither store is timed on its first-request start-up costs)."""
    for _ in range(5):
        httpx.get(url, params={"limit": 1}, headers=headers, timeout=60)
    started = time.perf_counter()
    response = httpx.post(url, json=made[:BATCH], headers=headers, timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
    return BATCH / (time.perf_counter() - started)


def _ralph_rate(made: list[dict[str, Any]]) -> float | None:
    """Ralph 5 with its file-system backend, or None when it is not installed."""
    if not RALPH.exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        auth = Path(folder) / "auth.json"
        env = {
            "RALPH_APP_DIR": folder,
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_AUTH_FILE": str(auth),
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": folder,
            "PATH": "/usr/bin:/bin",
        }
        subprocess.run(
            [str(RALPH), "auth", "-u", "bench", "-p", "bench", "-s", "all", "-M", "mailto:b@x.org", "-w"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        port = free_port()
        process = subprocess.Popen(
            [str(RALPH), "runserver", "-b", "fs", "-p", str(port), "--fs-default-directory-path", folder],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            if not wait_until_ready(f"{url}/__heartbeat__", process, interval=0.3):
                return None
            headers = {"X-Experience-API-Version": "1.0.3"}
            basic = httpx.BasicAuth("bench", "bench")
            headers["Authorization"] = basic._auth_header  # type: ignore[attr-defined]
            # Its fs backend writes a file once and refuses every later write ("already exists
            # and overwrite is not allowed"), so only a first batch can be measured.
            return _first_batch(f"{url}/xAPI/statements", headers, made)
        finally:
            process.terminate()
            process.wait(timeout=20)


async def _bulk_facts(url: str, count: int, seed: int) -> None:
    """`count` learning facts spread over the last year, straight into the database."""
    from sqlalchemy import insert

    from kit.db import Database
    from services.analytics.metrics.facts import month_of, week_of
    from services.analytics.metrics.models import LearningFact
    from services.analytics.metrics.repository import mark_dirty

    chance = random.Random(seed)
    now = datetime.now(UTC)
    database = Database(url)
    months: set[str] = set()
    try:
        for start in range(0, count, 50_000):
            rows = []
            for _ in range(min(50_000, count - start)):
                person = chance.randrange(PEOPLE)
                week = week_of(now - timedelta(days=chance.uniform(8, 360)))
                months.add(month_of(week))
                rows.append(
                    {
                        "statement_id": uuid.uuid4(),
                        "person": f"{person:064x}",
                        "team": f"team-{person % TEAMS}",
                        "process": f"process-{chance.randrange(PROCESSES)}",
                        "week": week.isoformat(),
                        "month": month_of(week),
                        "kind": "reflection" if chance.random() < 0.5 else "formal_completed",
                        "informal": True,
                    }
                )
            async with database.engine.begin() as connection:
                await connection.execute(insert(LearningFact), rows)
        async with database.sessions() as session:
            await mark_dirty(session, months)
            await session.commit()
    finally:
        await database.dispose()


def _metrics_times(url: str, headers: dict[str, str]) -> tuple[float, float]:
    params = {
        "period": "month",
        "group_by": "team",
        "from": (date.today() - timedelta(days=365)).isoformat(),
    }
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        started = time.perf_counter()
        assert client.get("/v1/metrics", params=params).status_code == 200
        cold = time.perf_counter() - started
        warm = []
        for _ in range(20):
            started = time.perf_counter()
            assert client.get("/v1/metrics", params=params).status_code == 200
            warm.append(time.perf_counter() - started)
    return cold * 1000, statistics.median(warm) * 1000


def run() -> list[str]:
    made = statements(INGEST)
    rows = [
        f"Sustained: {INGEST:,} statements in batches of {BATCH}, {SENDERS} concurrent senders."
        " First batch: one batch of 100 to a fresh store after five warm-up reads, the only"
        " write Ralph's fs backend accepts (later writes fail: it will not append to its file).",
        "",
        "| store | sustained statements/s | first batch statements/s | first batch, ratio to Ralph |",
        "|---|---|---|---|",
    ]
    ralph = _ralph_rate(made)
    metrics_rows = [
        "| backend | facts | cold query (12 months rebuilt) | warm query (median of 20) |",
        "|---|---|---|---|",
    ]
    extra = {"ANALYTICS_METRICS_REFRESH_SECONDS": "0"}
    for on in on_each_backend("services.analytics", "ANALYTICS", extra):
        server, backend = on.server, on.backend
        lrs = {**on.bearer("bench", ["lrs-client"]), "X-Experience-API-Version": "1.0.3"}
        first = _first_batch(f"{server.url}/xapi/statements", lrs, made)
        rate = asyncio.run(_send(f"{server.url}/xapi/statements", lrs, made[BATCH:]))
        ratio = f"{first / ralph:.2f}" if ralph else "n/a"
        rows.append(f"| Werkvloer analytics, {backend} | {rate:,.0f} | {first:,.0f} | {ratio} |")
        analyst = on.bearer("ana", ["analyst"])
        loaded = INGEST
        for size in (100_000, 1_000_000):
            asyncio.run(_bulk_facts(on.database_url, size - loaded, seed=size))
            loaded = size
            cold, warm = _metrics_times(server.url, analyst)
            metrics_rows.append(f"| {backend} | {size:,} | {cold:,.0f} ms | {warm:,.1f} ms |")
    if ralph:
        rows.append(
            f"| Ralph 5 (`ralph-malph`, fs backend) | refuses a 2nd write | {ralph:,.0f} | 1.00 |"
        )
    else:
        rows.append("| Ralph | not installed (`make bench` puts it in `.bench/ralph`) | | |")
    return [*rows, "", *metrics_rows]


if __name__ == "__main__":
    print("\n".join(run()))
