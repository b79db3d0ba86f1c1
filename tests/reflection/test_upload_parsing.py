"""Uploads a parser cannot read, file names and form fields that are no storable text, and text
that holds a PDF (issue 12, item 22): always a 4xx with a code, nothing stored, never a 500."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from services.reflection.documents import parsing as parsers
from services.reflection.documents import workers as worker
from services.reflection.documents.parsing import media_type
from tests.reflection.conftest import FAULT_PROCEDURE, ReflectionEnv
from tests.reflection.test_upload_content import FORKLIFT_PDF, nothing_stored

# The tester's example: a valid PDF whose trailer names an encryption handler pypdf lacks.
UNKNOWN_HANDLER_PDF = (
    FORKLIFT_PDF[: FORKLIFT_PDF.index(b"trailer")]
    + b"trailer\n<< /Encrypt 1 0 R >>\nstartxref"
    + FORKLIFT_PDF.split(b"startxref")[1]
)


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(FORKLIFT_PDF)))
    writer.encrypt(user_password=user_password, owner_password="eigenaar", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_a_pdf_with_an_unsupported_encryption_handler_is_unreadable(
    reflection: ReflectionEnv,
) -> None:
    error = await reflection.upload(
        UNKNOWN_HANDLER_PDF, filename="a.pdf", kind="application/pdf", expect=422
    )
    assert error["error"]["code"] == "unreadable_file"
    assert "encryption" in error["error"]["message"]
    await nothing_stored(reflection)


async def test_a_pdf_that_needs_a_password_is_unreadable(reflection: ReflectionEnv) -> None:
    error = await reflection.upload(
        _encrypted("geheim"), filename="a.pdf", kind="application/pdf", expect=422
    )
    assert error["error"]["code"] == "unreadable_file"
    assert "password" in error["error"]["message"]
    await nothing_stored(reflection)


async def test_a_pdf_encrypted_with_the_empty_password_is_read(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(_encrypted(""), filename="a.pdf", kind="application/pdf")
    await reflection.ingest()
    assert (await reflection.job(accepted["job"]["id"]))["status"] == "completed"
    hits = await reflection.search("remmen claxon heftruck", reflection.as_("alice"))
    assert hits and hits[0]["section"] == ["p. 1"]


@pytest.mark.parametrize(
    "fault", [NotImplementedError("no"), RecursionError("deep"), KeyError("/Root"), ValueError()]
)
async def test_any_parser_library_fault_is_unreadable_not_500(
    reflection: ReflectionEnv, monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    def explode(text: str) -> str:
        raise fault

    monkeypatch.setattr(parsers, "html_to_markdown", explode)
    error = await reflection.upload(
        b"<html><body><h1>Kop</h1><p>Tekst</p></body></html>", filename="a.html", expect=422
    )
    assert error["error"]["code"] == "unreadable_file"
    await nothing_stored(reflection)


async def test_the_worker_marks_a_failing_job_failed_with_its_reason(
    reflection: ReflectionEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE)

    def explode(*args: object, **kwargs: object) -> list[object]:
        raise NotImplementedError("only Standard\x00 handler")

    monkeypatch.setattr(worker, "chunk_sections", explode)
    await reflection.ingest()  # returns: the job is not retried forever
    job = await reflection.job(accepted["job"]["id"])
    assert job["status"] == "failed"
    assert job["error"].startswith("NotImplementedError: only Standard")
    assert "\x00" not in job["error"]
    assert await reflection.chunks() == 0


def _multipart(fields: dict[str, bytes], filename: bytes = b"a.md") -> tuple[bytes, str]:
    """A hand-built multipart body: httpx would escape control characters in a file name."""
    body = b""
    for name, content in {"title": b"Storingsprocedure", **fields}.items():
        body += b'--wvgrens\r\nContent-Disposition: form-data; name="' + name.encode()
        body += b'"\r\n\r\n' + content + b"\r\n"
    body += b'--wvgrens\r\nContent-Disposition: form-data; name="file"; filename="'
    body += filename + b'"\r\nContent-Type: text/markdown\r\n\r\n'
    body += FAULT_PROCEDURE.encode() + b"\r\n--wvgrens--\r\n"
    return body, "multipart/form-data; boundary=wvgrens"


async def _post(reflection: ReflectionEnv, url: str, form: tuple[bytes, str]) -> Any:
    body, content_type = form
    headers = {**reflection.admin, "content-type": content_type}
    return await reflection.client.post(url, content=body, headers=headers)


# The tester's example (a raw NUL byte), a UTF-8-encoded surrogate, C0 and C1 controls.
NAMES = [b"a\x00b.md", b"a\xed\xa0\x80.md", b"a\x01b.md", "a\x85b.md".encode()]


@pytest.mark.parametrize("filename", NAMES)
async def test_a_file_name_that_is_no_storable_text_is_invalid_text(
    reflection: ReflectionEnv, filename: bytes
) -> None:
    response = await _post(reflection, "/v1/documents", _multipart({}, filename))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_text"
    assert response.json()["error"]["details"][0]["field"] == "body.file.filename"
    await nothing_stored(reflection)


async def test_a_new_version_file_name_with_nul_is_invalid_text(
    reflection: ReflectionEnv,
) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE)
    form = _multipart({}, b"a\x00b.md")
    url = f"/v1/documents/{accepted['document']['id']}/versions"
    response = await _post(reflection, url, form)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_text"


async def test_a_content_type_with_a_control_character_is_invalid_text(
    reflection: ReflectionEnv,
) -> None:
    response = await reflection.client.post(
        "/v1/documents",
        files={"file": ("a.md", FAULT_PROCEDURE.encode(), "text/mark\x01down")},
        data={"title": "Storingsprocedure"},
        headers=reflection.admin,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.file.content_type"
    await nothing_stored(reflection)


async def test_a_long_file_name_is_cut_to_the_column(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE, filename="a" * 1000 + ".md")
    await reflection.ingest()
    assert (await reflection.job(accepted["job"]["id"]))["status"] == "completed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("process", b"pro\xed\xa0\x80"),  # the tester's example: arrives as "pro\xed\xa0\x80"
        ("owner", b"Kwaliteit\x1b[31m"),
        ("version", b"v\x7f1"),
        ("title", "Storing\x85procedure".encode()),
        ("language", b"n\x01l"),
        ("teams", b"packaging\x0b"),
    ],
)
async def test_form_fields_with_control_characters_are_refused(
    reflection: ReflectionEnv, field: str, value: bytes
) -> None:
    response = await _post(reflection, "/v1/documents", _multipart({field: value}))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    await nothing_stored(reflection)


async def test_a_form_field_with_a_textarea_newline_is_accepted(reflection: ReflectionEnv) -> None:
    await reflection.upload(FAULT_PROCEDURE, owner="Kwaliteit\r\nInpaklijn\tB")


async def test_text_followed_by_a_pdf_is_refused_not_indexed(reflection: ReflectionEnv) -> None:
    content = b"Inleiding. " * 100 + b"\n" + FORKLIFT_PDF  # the PDF starts after 1 KB
    error = await reflection.upload(content, filename="a.txt", kind="text/plain", expect=415)
    assert error["error"]["code"] == "unsupported_media_type"
    assert "holding a PDF" in error["error"]["message"]
    await nothing_stored(reflection)


async def test_html_that_mentions_the_pdf_header_is_html(reflection: ReflectionEnv) -> None:
    page = (
        "<!DOCTYPE html><html><body><h1>Bestandsformaten</h1>"
        "<p>Een PDF-bestand begint met %PDF-1.7; daarna volgen objecten als 1 0 obj.</p>"
        "</body></html>"
    )
    accepted = await reflection.upload(page, filename="a.html", kind="text/html")
    await reflection.ingest()
    assert (await reflection.job(accepted["job"]["id"]))["status"] == "completed"


def test_a_pdf_is_recognised_by_its_start() -> None:
    assert media_type(b"\xef\xbb\xbf \r\n" + FORKLIFT_PDF, "a.txt", None) == "application/pdf"
    junk = b"\x00\xff\xfe junk\n" + FORKLIFT_PDF  # a few junk bytes, the header in the first KB
    assert media_type(junk, "a.bin", None) == "application/pdf"
    assert media_type(b"Tekst die %PDF-1.4 noemt.\n", "a.txt", None) == "text/plain"
    late = b"Inleiding.\n" * 200 + FORKLIFT_PDF
    with pytest.raises(parsers.Unsupported):
        media_type(late, "a.txt", None)
