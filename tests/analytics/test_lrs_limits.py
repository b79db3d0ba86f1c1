"""Issue 12: the LRS bounds one statement, a page and an export in bytes, and refuses JSON it
cannot store or parse safely (NaN/Infinity, overflowing numbers, overlong integers, deep
nesting) with 4xx and a code, storing nothing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kit.cursors import KeysetCursor
from kit.settings import PlatformSettings
from tests.analytics.support import lms, migrated_app
from tests.support.apps import app_client, bearer


@pytest.fixture
async def small_lrs(
    platform: PlatformSettings, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An LRS whose page and export budgets are small enough to page a few statements."""
    app = await migrated_app(
        platform, database_url, metrics_refresh_seconds=0, max_page_kb=200, max_export_kb=200
    )
    async with app_client(app) as client:
        client.headers.update(lms(platform))
        yield client


def statement(home: str = "https://werkvloer.example", extensions: str = "{}") -> str:
    """A statement as JSON text, with `extensions` pasted in raw (so it can hold non-JSON)."""
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": home, "name": "alice"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/commented"},
            "object": {"objectType": "Activity", "id": "https://werkvloer.example/ideas/1"},
            "result": {"extensions": "EXTENSIONS"},
        }
    )
    return body.replace('"EXTENSIONS"', extensions)


async def stored_count(lrs: httpx.AsyncClient) -> int:
    page = await lrs.get("/xapi/statements")
    assert page.status_code == 200, page.text
    return len(page.json()["statements"])


UNSAFE = {
    "infinity": '{"https://x.example/e": Infinity}',
    "minus_infinity": '{"https://x.example/e": -Infinity}',
    "nan": '{"https://x.example/e": NaN}',
    "overflow": '{"https://x.example/e": 1e400}',
    "minus_overflow": '{"https://x.example/e": -1e400}',
    "long_integer": '{"https://x.example/e": ' + "7" * 5000 + "}",
    "deep": '{"https://x.example/e": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "unclosed_deep": '{"https://x.example/e": ' + "[" * 100_000 + "}",
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
async def test_unsafe_json_in_a_statement_is_400_and_stores_nothing(
    lrs: httpx.AsyncClient, name: str
) -> None:
    body = "[" + statement() + "," + statement(extensions=UNSAFE[name]) + "]"
    headers = {"Content-Type": "application/json"}
    posted = await lrs.post("/xapi/statements", content=body, headers=headers)
    assert posted.status_code == 400, posted.text
    assert posted.json()["error"]["code"] == "invalid_json"
    put = await lrs.put(
        "/xapi/statements",
        params={"statementId": str(uuid.uuid4())},
        content=statement(extensions=UNSAFE[name]),
        headers=headers,
    )
    assert put.status_code == 400 and put.json()["error"]["code"] == "invalid_json"
    assert await stored_count(lrs) == 0


async def test_unsafe_json_in_a_multipart_statement_part_is_400(lrs: httpx.AsyncClient) -> None:
    body = (
        "--b\r\nContent-Type: application/json\r\n\r\n"
        + statement(extensions=UNSAFE["nan"])
        + "\r\n--b--\r\n"
    )
    posted = await lrs.post(
        "/xapi/statements",
        content=body.encode(),
        headers={"Content-Type": 'multipart/mixed; boundary="b"'},
    )
    assert posted.status_code == 400, posted.text
    assert posted.json()["error"]["code"] == "invalid_json"
    assert await stored_count(lrs) == 0


@pytest.mark.parametrize(
    "agent",
    [
        '{"mbox": "mailto:a@example.org", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"mbox": "mailto:a@example.org", "x": NaN}',
        '{"mbox": "mailto:a@example.org", "x": ' + "1" * 5000 + "}",
    ],
)
async def test_unsafe_agent_parameter_is_400(lrs: httpx.AsyncClient, agent: str) -> None:
    got = await lrs.get("/xapi/statements", params={"agent": agent})
    assert got.status_code == 400, got.text
    assert got.json()["error"]["code"] == "invalid_json"


async def test_unsafe_more_token_is_400(lrs: httpx.AsyncClient) -> None:
    token = base64.urlsafe_b64encode(("[" * 3000).encode()).decode().rstrip("=")
    got = await lrs.get("/xapi/statements", params={"more": token})
    assert got.status_code == 400, got.text
    assert got.json()["error"]["code"] == "invalid_request"


async def test_a_statement_over_the_cap_is_413_naming_it_and_stores_nothing(
    lrs: httpx.AsyncClient,
) -> None:
    big = json.dumps({"https://x.example/e": "x" * (65 * 1024)})
    body = "[" + ",".join([statement(), statement(extensions=big), statement()]) + "]"
    posted = await lrs.post(
        "/xapi/statements", content=body, headers={"Content-Type": "application/json"}
    )
    assert posted.status_code == 413, posted.text
    error = posted.json()["error"]
    assert error["code"] == "statement_too_large"
    assert error["details"]["index"] == 1 and error["details"]["limit"] == 64 * 1024
    put = await lrs.put(
        "/xapi/statements",
        params={"statementId": str(uuid.uuid4())},
        content=statement(extensions=big),
        headers={"Content-Type": "application/json"},
    )
    assert put.status_code == 413 and put.json()["error"]["code"] == "statement_too_large"
    assert await stored_count(lrs) == 0


async def post_large(lrs: httpx.AsyncClient, home: str, count: int) -> set[str]:
    """`count` statements of about 50 KB each (allowed: under the 64 KB cap)."""
    ids = set()
    for _ in range(count):
        text = statement(home, json.dumps({"https://x.example/e": "y" * 50_000}))
        posted = await lrs.post(
            "/xapi/statements", content=text, headers={"Content-Type": "application/json"}
        )
        assert posted.status_code == 200, posted.text
        ids.update(posted.json())
    return ids


async def test_a_page_of_large_statements_stays_under_the_byte_bound(
    small_lrs: httpx.AsyncClient,
) -> None:
    ids = await post_large(small_lrs, "https://werkvloer.example", 10)
    seen: list[str] = []
    url: str | None = "/xapi/statements"
    while url:
        page = await small_lrs.get(url)
        assert page.status_code == 200, page.text
        assert len(page.content) <= 200 * 1024 + 1024
        body: dict[str, Any] = page.json()
        assert body["statements"]
        seen += [s["id"] for s in body["statements"]]
        url = body["more"] or None
    assert len(seen) == len(ids) == 10 and set(seen) == ids
    assert len(seen) > 3  # really paged: one page holds at most 3 or 4 of them


async def test_the_export_is_bounded_and_pages_with_more(
    small_lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    ids = await post_large(small_lrs, platform.public_url.rstrip("/"), 8)
    worker = bearer(platform, "alice", "worker")
    seen: list[str] = []
    url: str | None = "/v1/my-data"
    parts = 0
    while url:
        part = await small_lrs.get(url, headers=worker)
        assert part.status_code == 200, part.text
        assert len(part.content) <= 200 * 1024 + 1024
        seen += [s["id"] for s in part.json()["statements"]]
        url = part.json()["more"] or None
        parts += 1
    assert set(seen) == ids and len(seen) == 8 and parts > 1
    wrong = await small_lrs.get("/v1/my-data", params={"after": "nonsense"}, headers=worker)
    assert wrong.status_code == 400


@pytest.mark.parametrize(
    "after",
    [
        "nonsense",
        "2020-01-01T00:00:00|00000000-0000-0000-0000-000000000000",  # the old format, naive
        KeysetCursor().encode_json(["2020-01-01T00:00:00", str(uuid.UUID(int=0))]),  # edited
        KeysetCursor().encode_json(["0001-01-01T00:00:00+14:00", str(uuid.UUID(int=0))]),
    ],
)
async def test_a_bad_export_position_is_one_400(
    small_lrs: httpx.AsyncClient, platform: PlatformSettings, after: str
) -> None:
    """Found by review: a position without a time zone reached the UTC column as a 500."""
    worker = bearer(platform, "alice", "worker")
    wrong = await small_lrs.get("/v1/my-data", params={"after": after}, headers=worker)
    assert wrong.status_code == 400, wrong.text
    assert wrong.json()["error"]["code"] == "bad_request"
