"""xAPI attachments: statements with content sent as multipart/mixed, hashes checked, content
given back byte for byte with `attachments=true`."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import httpx

from tests.analytics.test_lrs_statements import statement

CERTIFICATE = b"%PDF-1.4\r\n\x00\x01binary\r\n--not-a-boundary\r\n\xff\xfe"
SHA = hashlib.sha256(CERTIFICATE).hexdigest()


def with_attachment(content: bytes = CERTIFICATE, **attachment: Any) -> dict[str, Any]:
    declared = {
        "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
        "display": {"en-US": "Certificate"},
        "contentType": "application/pdf",
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
        **attachment,
    }
    return statement(id=str(uuid.uuid4()), attachments=[declared])


def multipart(payload: Any, parts: list[tuple[bytes, str]]) -> tuple[bytes, str]:
    boundary = "werkvloer-test-boundary"
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(payload).encode(),
        b"\r\n",
    ]
    for content, sha2 in parts:
        chunks += [
            f"--{boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary"
            f"\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode(),
            content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


async def post(lrs: httpx.AsyncClient, payload: Any, parts: list[tuple[bytes, str]]) -> Any:
    body, content_type = multipart(payload, parts)
    return await lrs.post("/xapi/statements", content=body, headers={"Content-Type": content_type})


def split(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    boundary = response.headers["content-type"].split("boundary=")[1]
    found = []
    for section in response.content.split(f"--{boundary}".encode())[1:-1]:
        head, _, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        found.append(({k.lower(): v for k, v in headers.items()}, content.removesuffix(b"\r\n")))
    return found


async def test_attachment_content_round_trips_byte_for_byte(lrs: httpx.AsyncClient) -> None:
    s = with_attachment()
    stored = await post(lrs, s, [(CERTIFICATE, SHA)])
    assert stored.status_code == 200, stored.text
    plain = await lrs.get("/xapi/statements", params={"statementId": s["id"]})
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json()["attachments"][0]["sha2"] == SHA
    full = await lrs.get("/xapi/statements", params={"statementId": s["id"], "attachments": "true"})
    assert full.headers["content-type"].startswith("multipart/mixed")
    assert full.headers["X-Experience-API-Consistent-Through"]
    (_, first), (part_headers, content) = split(full)
    assert json.loads(first)["id"] == s["id"]
    assert part_headers["x-experience-api-hash"] == SHA and content == CERTIFICATE
    listed = await lrs.get("/xapi/statements", params={"attachments": "true"})
    assert [c for _, c in split(listed)[1:]] == [CERTIFICATE]
    # A later statement may refer to content already stored without sending it again.
    again = with_attachment()
    assert (await lrs.post("/xapi/statements", json=again)).status_code == 200


async def test_attachment_mistakes_are_refused_whole(lrs: httpx.AsyncClient) -> None:
    cases = {
        "content not sent": (with_attachment(b"other"), []),
        "hash does not match the content": (with_attachment(), [(b"tampered", SHA)]),
        "part belongs to no statement": (statement(id=str(uuid.uuid4())), [(CERTIFICATE, SHA)]),
        "length differs": (with_attachment(length=3), [(CERTIFICATE, SHA)]),
    }
    for name, (payload, parts) in cases.items():
        response = await post(lrs, payload, parts)
        assert response.status_code == 400, (name, response.text)
        stored = await lrs.get("/xapi/statements", params={"statementId": payload["id"]})
        assert stored.status_code == 404, f"{name}: nothing is stored"
    linked = with_attachment(b"elsewhere", fileUrl="https://lms.example/certificates/1.pdf")
    assert (await lrs.post("/xapi/statements", json=linked)).status_code == 200
    broken = await lrs.post(
        "/xapi/statements", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
