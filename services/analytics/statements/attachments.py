"""xAPI attachments (1.0.3, Communication 1.5.2): statements with attachment content arrive as
`multipart/mixed` — the statements as the first part, then one part per attachment carrying
`X-Experience-API-Hash` — and go out the same way with `attachments=true`.

Every attachment a statement declares without a `fileUrl` must arrive (or be stored already)
with content whose SHA-256 is the declared `sha2` and whose size is the declared `length`; a
part no statement declares is refused. Content is stored once per hash.

Content counts as "stored already", and is sent back, only through statements the caller may
read (scope.py): a hash alone never reaches another client's attachment.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import Response

from kit.jsonsafe import UnsafeJSON, loads_strict
from kit.text import text_fault
from services.analytics.statements.models import Attachment
from services.analytics.statements.validation import StatementRejected

HASH_HEADER = "x-experience-api-hash"
_CONTENT_TYPE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$")
Parts = dict[str, tuple[str, bytes]]  # sha2 → (content type, content)


def _headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("latin-1").split("\r\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return headers


def _content_type(headers: dict[str, str], sha2: str) -> str:
    value = headers.get("content-type", "")
    reason = text_fault(value)
    if reason:
        raise StatementRejected(f"attachment {sha2}: Content-Type {reason}", code="invalid_text")
    if value and (len(value) > 255 or not _CONTENT_TYPE.match(value)):
        raise StatementRejected(f"attachment {sha2}: Content-Type is not a media type")
    return value


def _json(data: bytes, what: str) -> Any:
    """`data` parsed by `kit.jsonsafe.loads_strict`; 400 `invalid_json` (details: `reason`) for
    malformed JSON, NaN/Infinity/overflowing numbers, overlong integers or deep nesting."""
    try:
        return loads_strict(data)
    except UnsafeJSON as exc:
        raise StatementRejected(
            f"{what} is not acceptable JSON: {exc}",
            code="invalid_json",
            details={"reason": exc.reason},
        ) from exc


def parse(content_type: str, body: bytes) -> tuple[Any, Parts]:
    """The JSON payload and the attachment parts of a request body; 400 `invalid_json` when the
    statements are not strict JSON (`_json`), 400 when the multipart framing is broken, a part's
    hash or Content-Type is wrong (the statements themselves are checked, text included, by
    `service.check`)."""
    if not content_type.lower().startswith("multipart/mixed"):
        return _json(body, "the body"), {}
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if found is None:
        raise StatementRejected("multipart/mixed needs a boundary")
    delimiter = b"--" + found.group(1).encode("latin-1")
    sections = body.split(delimiter)
    parts = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise StatementRejected("a multipart part has no header block")
        parts.append((_headers(head), content.removesuffix(b"\r\n")))
    if not parts or not parts[0][0].get("content-type", "").startswith("application/json"):
        raise StatementRejected("the first part must hold the statements as application/json")
    payload = _json(parts[0][1], "the first part")
    attachments: Parts = {}
    for headers, content in parts[1:]:
        declared = headers.get(HASH_HEADER)
        if not declared:
            raise StatementRejected("every attachment part needs X-Experience-API-Hash")
        if hashlib.sha256(content).hexdigest() != declared.lower():
            raise StatementRejected(f"attachment {declared}: the content does not match its hash")
        attachments[declared.lower()] = (_content_type(headers, declared), content)
    return payload, attachments


def declared(statements: Sequence[dict[str, Any]], parts: Parts) -> dict[str, dict[str, Any]]:
    """The attachments the statements declare without a `fileUrl`, by lower-case sha2. Raises
    StatementRejected (400) for a sent part no statement declares."""
    found: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for attachment in statement.get("attachments") or []:
            if not attachment.get("fileUrl"):
                found[str(attachment["sha2"]).lower()] = attachment
    unclaimed = set(parts) - set(found)
    if unclaimed:
        raise StatementRejected(f"attachment part {sorted(unclaimed)[0]} belongs to no statement")
    return found


def references(
    statements: Sequence[dict[str, Any]],
    parts: Parts,
    declared: dict[str, dict[str, Any]],
    held: set[str],
) -> list[tuple[uuid.UUID, str]]:
    """The (statement id, sha2) references to record. Raises StatementRejected (400) for
    declared content that was neither sent nor `held` (content a statement the caller may read
    refers to: otherwise the answer is the one for content nobody holds), and for a part whose
    size is not the declared `length`."""
    absent = [sha2 for sha2 in declared if sha2 not in parts and sha2 not in held]
    if absent:
        raise StatementRejected(
            f"attachment {absent[0]} has no fileUrl and its content was not sent"
        )
    for sha2, (_, content) in parts.items():
        if int(declared[sha2]["length"]) != len(content):
            raise StatementRejected(f"attachment {sha2}: length differs from the content")
    return [
        (uuid.UUID(statement["id"]), str(attachment["sha2"]).lower())
        for statement in statements
        for attachment in statement.get("attachments") or []
        if not attachment.get("fileUrl")
    ]


def multipart(payload: Any, held: Sequence[Attachment], base: Response | None = None) -> Response:
    """`payload` as the JSON first part of a multipart/mixed response, followed by one part per
    attachment in `held` (the content of statements the caller may read); headers of `base`
    (the route's response) are kept."""
    boundary = uuid.uuid4().hex
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(payload).encode(),
        b"\r\n",
    ]
    for attachment in held:
        chunks += [
            f"--{boundary}\r\nContent-Type: {attachment.content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {attachment.sha2}"
            "\r\n\r\n".encode(),
            attachment.content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    headers = dict(base.headers) if base is not None else {}
    headers.pop("content-length", None)
    return Response(
        b"".join(chunks), media_type=f"multipart/mixed; boundary={boundary}", headers=headers
    )
