"""Issue 12 item 10: text that cannot be stored or encoded. NUL and unpaired surrogates are
refused at every xAPI entry (statements, multipart parts, query parameters) with 400
`invalid_text`, the same on SQLite and PostgreSQL; and a bad value already stored (put into
the table directly, bypassing the API) cannot make any read or export fail."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlmodel import col

from kit.db import Database, utcnow
from kit.settings import PlatformSettings
from services.analytics.statements import attachments
from services.analytics.statements.models import Statement
from services.analytics.statements.params import InvalidParameter, parse_query
from services.analytics.statements.service import StatementRejected, check
from tests.analytics.test_attachments import CERTIFICATE, SHA, split, with_attachment
from tests.analytics.test_lrs_statements import statement
from tests.support.apps import bearer

SURROGATE_VERB = (
    '{"id": "%s", "actor": {"objectType": "Agent", "account": {"homePage": '
    '"https://werkvloer.example", "name": "alice"}}, "verb": {"id": '
    '"http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed \\ud800"}}, '
    '"object": {"id": "https://lms.example/course/1"}}'
)


async def count(database_url: str) -> int:
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return len((await connection.execute(select(col(Statement.id)))).all())
    finally:
        await database.dispose()


async def test_a_lone_surrogate_in_a_statement_is_refused(
    lrs: httpx.AsyncClient, database_url: str
) -> None:
    raw = SURROGATE_VERB % uuid.uuid4()
    posted = await lrs.post(
        "/xapi/statements", content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert posted.status_code == 400
    error = posted.json()["error"]
    assert error["code"] == "invalid_text" and "verb.display" in error["message"]
    put = await lrs.put(
        "/xapi/statements",
        params={"statementId": str(uuid.uuid4())},
        content=(SURROGATE_VERB % uuid.uuid4()).replace('"id": "', '"x": "', 1).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert (put.status_code, put.json()["error"]["code"]) == (400, "invalid_text")
    assert await count(database_url) == 0
    listed = await lrs.get("/xapi/statements")
    assert listed.status_code == 200


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s["actor"]["account"].update(name="al\x00ice"),
        lambda s: s["actor"].update(name="Alice \x00"),
        lambda s: s.update(result={"response": "a\x00b"}),
        lambda s: s["object"].update(definition={"name": {"nl": "\x00"}}),
        lambda s: s.update(context={"extensions": {"https://x.example/\x00": 1}}),
    ],
)
async def test_nul_anywhere_in_a_statement_is_refused_on_both_databases(
    lrs: httpx.AsyncClient, database_url: str, mutate: Any
) -> None:
    s = statement()
    mutate(s)
    posted = await lrs.post("/xapi/statements", json=[statement(), s])
    assert (posted.status_code, posted.json()["error"]["code"]) == (400, "invalid_text")
    assert await count(database_url) == 0


async def test_bad_text_in_multipart_parts_is_refused(
    lrs: httpx.AsyncClient, database_url: str
) -> None:
    s = with_attachment()
    s["actor"]["name"] = "a\ud800"
    boundary = "b0undary"
    first = json.dumps(s).encode()  # ensure_ascii: the surrogate travels as a JSON escape
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        + first
        + f"\r\n--{boundary}\r\nContent-Type: application/pdf\r\nX-Experience-API-Hash: {SHA}"
        "\r\n\r\n".encode()
        + CERTIFICATE
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/mixed; boundary={boundary}"
    refused = await lrs.post(
        "/xapi/statements", content=body, headers={"Content-Type": content_type}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_text")
    # A NUL in an attachment part's Content-Type (it is stored in a text column).
    clean = json.dumps(with_attachment()).encode()
    nul_type = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        + clean
        + f"\r\n--{boundary}\r\nContent-Type: application/p\x00df\r\nX-Experience-API-Hash: "
        f"{SHA}\r\n\r\n".encode()
        + CERTIFICATE
        + f"\r\n--{boundary}--\r\n".encode()
    )
    refused = await lrs.post(
        "/xapi/statements", content=nul_type, headers={"Content-Type": content_type}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_text")
    assert await count(database_url) == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("agent", json.dumps({"objectType": "Agent", "name": "a\x00", "mbox": "mailto:a@x.nl"})),
        ("agent", '{"objectType": "Agent", "mbox": "mailto:a@x.nl", "name": "\\ud800"}'),
        ("agent", '{"account": {"homePage": "https://x.example", "name": "a\\u0000b"}}'),
        ("verb", "http://adlnet.gov/expapi/verbs/a\x00b"),
        ("activity", "https://lms.example/\x00"),
        ("registration", "\x00"),
        ("since", "2026-01-01T00:00:00\x00Z"),
    ],
)
async def test_bad_text_in_query_parameters_is_refused(
    lrs: httpx.AsyncClient, name: str, value: str
) -> None:
    reply = await lrs.get("/xapi/statements", params={name: value})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_text" and name in error["message"]
    assert ["query", name] in [d["location"] for d in error["details"]]


@pytest.mark.parametrize(
    "raw",
    [
        {"verb": "http://x.example/\x00"},
        {"activity": "https://x.example/\ud800"},
        {"agent": '{"mbox": "mailto:a@x.nl", "name": "\\u0000"}'},
        {"agent": {"mbox": "mailto:a@x.nl", "name": "\ud800"}},
        {"registration": "\x00"},
        {"until": "\ud800"},
    ],
)
def test_the_xapi_layer_itself_refuses_bad_text_in_parameters(raw: dict[str, Any]) -> None:
    """The kit middleware refuses these first over HTTP; the LRS's own parsing (also used for
    `more` tokens, which the middleware cannot see into) refuses them too."""
    with pytest.raises(InvalidParameter) as refused:
        parse_query(raw)
    assert refused.value.code == "invalid_text"
    assert refused.value.message.startswith(next(iter(raw)))


def test_the_xapi_layer_itself_refuses_bad_text_in_statements_and_parts() -> None:
    s = statement()
    s["verb"]["display"] = {"en-US": "completed \ud800"}
    with pytest.raises(StatementRejected) as refused:
        check(s)
    assert refused.value.code == "invalid_text"
    assert "statement.verb.display.en-US" in refused.value.message
    body = (
        b"--b\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps(statement(actor={"mbox": "mailto:a@x.nl", "name": "\x00"})).encode()
        + b"\r\n--b--\r\n"
    )
    payload, _ = attachments.parse("multipart/mixed; boundary=b", body)
    with pytest.raises(StatementRejected) as refused:
        check(payload)
    assert refused.value.code == "invalid_text"


def bad_body(statement_id: uuid.UUID, platform: PlatformSettings) -> dict[str, Any]:
    me = {"homePage": platform.public_url.rstrip("/"), "name": "alice"}
    return {
        "id": str(statement_id),
        "actor": {"objectType": "Agent", "name": "Al\x00ice \udc80", "account": me},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "x\ud800"}},
        "object": {
            "id": "https://lms.example/course/1",
            "definition": {"name": {"nl\udfff": "cursus \ud83d"}},
        },
        "attachments": [
            {
                "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                "display": {"en": "\ud800"},
                "contentType": "application/pdf",
                "length": 1,
                "sha2": "0" * 64,
            }
        ],
        "timestamp": "not a time \ud800",
        "stored": utcnow().isoformat(),
        "authority": {"objectType": "Agent", "account": {"homePage": "urn:x", "name": "lms-1"}},
    }


async def test_a_bad_stored_value_cannot_break_any_read_or_export(
    lrs: httpx.AsyncClient, platform: PlatformSettings, database_url: str
) -> None:
    good = statement(
        actor={
            "objectType": "Agent",
            "account": {"homePage": platform.public_url.rstrip("/"), "name": "alice"},
        }
    )
    assert (await lrs.post("/xapi/statements", json=good)).status_code == 200
    bad_id = uuid.uuid4()
    database = Database(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                insert(Statement),
                [
                    {
                        "id": bad_id,
                        "body": bad_body(bad_id, platform),
                        "fingerprint": "0" * 64,
                        "actor_key": f"account:{platform.public_url.rstrip('/')}|alice",
                        "verb_id": "http://adlnet.gov/expapi/verbs/completed",
                        "activity_id": "https://lms.example/course/1",
                        "authority": "lms-1",
                        "related_agents": f"|account:{platform.public_url.rstrip('/')}|alice|",
                        "related_activities": "|https://lms.example/course/1|",
                        "voided": False,
                        "stored": utcnow(),
                    }
                ],
            )
    finally:
        await database.dispose()

    reads = {
        "list": await lrs.get("/xapi/statements"),
        "ids": await lrs.get("/xapi/statements", params={"format": "ids"}),
        "one": await lrs.get("/xapi/statements", params={"statementId": str(bad_id)}),
        "paged": await lrs.get("/xapi/statements", params={"limit": 1}),
    }
    more = reads["paged"].json()["more"]
    assert more
    reads["more"] = await lrs.get(more)
    for name, reply in reads.items():
        assert reply.status_code == 200, (name, reply.text)
    assert reads["one"].json()["verb"]["display"] == {"en": "x\ufffd"}
    assert reads["one"].json()["actor"]["name"] == "Al\ufffdice \ufffd"

    with_attachments = await lrs.get(
        "/xapi/statements", params={"statementId": str(bad_id), "attachments": "true"}
    )
    assert with_attachments.status_code == 200
    payload = json.loads(split(with_attachments)[0][1])
    assert payload["object"]["definition"]["name"] == {"nl\ufffd": "cursus \ufffd"}

    worker = bearer(platform, "alice", "worker")
    learning = await lrs.get("/v1/my-learning", headers=worker)
    assert learning.status_code == 200, learning.text
    shown = {item["id"]: item for item in learning.json()["statements"]}
    assert shown[str(bad_id)]["verb"]["display"] == {"en": "x\ufffd"}
    assert shown[str(bad_id)]["kind"] is None  # its broken timestamp counts as nothing
    exported = await lrs.get("/v1/my-data", headers=worker)
    assert exported.status_code == 200, exported.text
    assert {s["id"] for s in exported.json()["statements"]} == {good["id"], str(bad_id)}
    json.dumps(exported.json(), ensure_ascii=False).encode("utf-8")  # encodable throughout
