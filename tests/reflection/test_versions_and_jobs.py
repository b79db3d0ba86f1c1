"""Version swaps are atomic for queries; jobs survive restarts or fail clearly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from kit.db import Database
from tests.reflection.conftest import FAULT_PROCEDURE, ReflectionEnv
from tests.support.waiting import wait_until_async

V2 = FAULT_PROCEDURE.replace("vijftien minuten", "tien minuten").replace(
    "rode noodstop", "rode noodstopknop naast het bedieningspaneel"
)


async def _with_version_two_queued(reflection: ReflectionEnv) -> Any:
    """Upload and ingest FAULT_PROCEDURE, then upload V2 as its next version (not yet ingested);
    returns the document id."""
    first = await reflection.upload(FAULT_PROCEDURE)
    await reflection.ingest()
    doc_id = first["document"]["id"]
    await reflection.new_version(doc_id, V2)
    return doc_id


async def test_queries_during_a_version_swap_see_exactly_one_version(
    reflection: ReflectionEnv,
) -> None:
    doc_id = await _with_version_two_queued(reflection)
    worker = reflection.as_("alice")
    seen: list[set[int]] = []
    swapped = False

    async def keep_searching() -> None:
        # Until one search has started after the swap: the order of events decides, not time.
        while True:
            after_swap = swapped
            hits = await reflection.search("storing melden noodstop ploegleider", worker, k=10)
            seen.append({h["version"] for h in hits if h["document_id"] == doc_id})
            if after_swap:
                return
            await asyncio.sleep(0)

    searcher = asyncio.create_task(keep_searching())

    async def searched_once() -> bool:
        if searcher.done():
            searcher.result()  # a search that failed fails the test here
        return bool(seen)

    await wait_until_async(searched_once, "a search before the swap", interval=0)
    await reflection.ingest()  # stages version 2, then swaps, while the searches go on
    swapped = True
    await searcher
    assert len(seen) >= 2
    assert all(len(versions) == 1 for versions in seen), seen  # never both, never neither
    assert seen[0] == {1} and seen[-1] == {2}
    # The old chunks stay during the grace period, hidden; then they are purged.
    assert await reflection.chunks(document_ids=[doc_id]) > await reflection.chunks(
        document_ids=[doc_id], exclude_versions=[f"{doc_id}:1"]
    )


@pytest.mark.parametrize("reflection_overrides", [{"retired_grace_seconds": 0}])
async def test_retired_versions_are_purged_after_the_grace_period(
    reflection: ReflectionEnv,
) -> None:
    doc_id = await _with_version_two_queued(reflection)
    await reflection.ingest()
    assert await reflection.app.state.ingestor.purge() == 1
    live_only = await reflection.chunks(document_ids=[doc_id])
    assert live_only == await reflection.chunks(
        document_ids=[doc_id], exclude_versions=[f"{doc_id}:1"]
    )


async def _set_job(reflection: ReflectionEnv, job_id: str, **values: Any) -> None:
    database = Database(reflection.database_url)
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    key = job_id.replace("-", "") if "sqlite" in reflection.database_url else job_id
    async with database.engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE ingest_jobs SET {assignments} WHERE id = :id"),  # noqa: S608 - test-made
            {**values, "id": key},
        )
    await database.dispose()


async def test_a_job_interrupted_by_a_restart_is_resumed(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE)
    job_id = accepted["job"]["id"]
    await _set_job(reflection, job_id, status="running", attempts=1)  # the process died mid-job
    await reflection.app.state.ingestor.recover()
    assert (await reflection.job(job_id))["status"] == "queued"
    await reflection.ingest()
    assert (await reflection.job(job_id))["status"] == "completed"


async def test_a_job_that_keeps_dying_fails_clearly(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE)
    job_id = accepted["job"]["id"]
    await _set_job(reflection, job_id, status="running", attempts=3)
    await reflection.app.state.ingestor.recover()
    await reflection.ingest()
    job = await reflection.job(job_id)
    assert job["status"] == "failed" and "gave up after 3 attempts" in job["error"]
    assert await reflection.chunks() == 0


async def test_a_job_another_replica_is_working_on_is_left_alone(
    reflection: ReflectionEnv,
) -> None:
    """On PostgreSQL several replicas ingest: a restarting one must not take over a job another
    started a minute ago. On SQLite one process owns the index, so every running job is its own."""
    from kit.db import utcnow

    accepted = await reflection.upload(FAULT_PROCEDURE)
    job_id = accepted["job"]["id"]
    await _set_job(reflection, job_id, status="running", attempts=1, started_at=utcnow())
    await reflection.app.state.ingestor.recover()
    expected = "queued" if "sqlite" in reflection.database_url else "running"
    assert (await reflection.job(job_id))["status"] == expected
