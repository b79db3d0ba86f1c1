"""Uploads are recognised by their bytes, whatever name and content type claim (issue 12,
item 13): what we can parse is parsed as what it is, anything else is 415 and nothing is stored;
upload metadata follows the one text rule (kit/text.py)."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.reflection.documents.parsing import media_type
from tests.reflection.conftest import FAULT_PROCEDURE, ReflectionEnv
from tests.support.pdf import text_pdf

FORKLIFT_PDF = text_pdf(
    ["Veiligheidsinstructie heftruck", "Controleer voor elke dienst de remmen en de claxon."]
)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "Meld elke storing in het logboek.")
    return buffer.getvalue()


async def nothing_stored(reflection: ReflectionEnv) -> None:
    await reflection.ingest()
    assert await reflection.chunks() == 0
    listed = await reflection.client.get("/v1/documents", headers=reflection.admin)
    assert listed.json()["items"] == []


async def test_a_pdf_named_notes_txt_is_parsed_as_a_pdf(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(
        FORKLIFT_PDF, filename="notes.txt", kind="text/plain", title="Heftruck"
    )
    await reflection.ingest()
    assert (await reflection.job(accepted["job"]["id"]))["status"] == "completed"
    hits = await reflection.search("remmen controleren heftruck", reflection.as_("alice"))
    assert hits[0]["section"] == ["p. 1"]
    vague = await reflection.search("object stream", reflection.as_("alice"), k=10)
    for hit in vague:  # no raw PDF syntax was indexed
        assert "endobj" not in hit["text"] and "/Type" not in hit["text"], hit["text"]


@pytest.mark.parametrize(
    ("content", "filename", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "procedure.md", "text/markdown"),
        (_zip(), "notes.txt", "text/plain"),
        (b"MZ\x90\x00\x03" + bytes(64), "procedure.txt", "text/plain"),
        (b"\x7fELF\x02\x01\x01" + bytes(64), "procedure.md", "application/octet-stream"),
        (b"GIF89a\x01\x00\x01\x00" + bytes(16), "image.html", "text/html"),
        (rb"{\rtf1\ansi Meld elke storing.}", "notes.txt", "text/plain"),
        (b"tekst met een \x01 stuurteken", "notes.txt", "text/plain"),
    ],
)
async def test_what_we_cannot_parse_is_415_whatever_it_claims(
    reflection: ReflectionEnv, content: bytes, filename: str, kind: str
) -> None:
    error = await reflection.upload(content, filename=filename, kind=kind, expect=415)
    assert error["error"]["code"] == "unsupported_media_type"
    assert "not a supported type" in error["error"]["message"]
    await nothing_stored(reflection)


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        ("\u200b" * 40, "notes.txt"),
        ("\u0301" * 40, "procedure.md"),
        ("\u2800\u2800\n\n\u3164\u3164 \u200b", "procedure.md"),
    ],
)
async def test_a_file_with_no_visible_text_is_refused(
    reflection: ReflectionEnv, content: str, filename: str
) -> None:
    error = await reflection.upload(
        content.encode(), filename=filename, kind="text/plain", title="Leeg", expect=422
    )
    assert error["error"]["code"] == "unreadable_file"
    await nothing_stored(reflection)


@pytest.mark.parametrize("title", ["\u2800\u2800\u2800", "\u3164\u3164", "\u200b" * 5])
async def test_a_document_title_needs_a_visible_character(
    reflection: ReflectionEnv, title: str
) -> None:
    error = await reflection.upload(FAULT_PROCEDURE, title=title, expect=422)
    assert error["error"]["code"] == "validation_error"
    await nothing_stored(reflection)


async def test_a_new_version_is_recognised_by_its_bytes_too(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE)
    response = await reflection.client.post(
        f"/v1/documents/{accepted['document']['id']}/versions",
        files={"file": ("procedure.md", b"\x89PNG\r\n\x1a\n" + bytes(64), "text/markdown")},
        headers=reflection.admin,
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_html_and_text_are_told_apart_by_their_bytes() -> None:
    assert media_type(b"<!DOCTYPE html><html><body>x</body></html>", "a.txt", "text/plain") == (
        "text/html"
    )
    assert media_type(b"# Kop\n\nTekst.\n", "a.md", None) == "text/markdown"
    assert media_type(b"Gewone tekst.\n", "a.bin", "application/octet-stream") == "text/plain"
    assert media_type(b"Tekst die %PDF- noemt.\n", "a.txt", None) == "text/plain"


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "\u200b\u200b\u200b\u200b"},  # zero-width spaces: shows as nothing
        {"title": "\u0301\u0301\u0301"},  # lone combining accents
        {"title": "Storing\u0000procedure"},
        {"process": "\u200b"},
        {"owner": "Kwaliteit\u0000"},
        {"version": "\u200b\u200b"},
        {"teams": "packaging\u0000"},
    ],
)
async def test_upload_metadata_follows_the_text_rule(
    reflection: ReflectionEnv, fields: dict[str, str]
) -> None:
    response = await reflection.client.post(
        "/v1/documents",
        files={"file": ("procedure.md", FAULT_PROCEDURE.encode(), "text/markdown")},
        data={"title": "Storingsprocedure", **fields},
        headers=reflection.admin,
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in ("invalid_text", "validation_error", "invalid_teams")
    await nothing_stored(reflection)
