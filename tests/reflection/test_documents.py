"""Uploading, ingesting, replacing and deleting process documents."""

from __future__ import annotations

import pytest

from tests.reflection.conftest import FAULT_PROCEDURE, SALARY_NOTE, ReflectionEnv
from tests.support.pdf import text_pdf


async def test_upload_answers_202_and_becomes_searchable_when_the_job_completes(
    reflection: ReflectionEnv,
) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE, process="storingen", version="3.1")
    document, job = accepted["document"], accepted["job"]
    assert job["status"] == "queued" and document["language"] == "nl"
    worker = reflection.as_("alice")
    assert (
        await reflection.client.get(f"/v1/documents/{document['id']}", headers=worker)
    ).status_code == 404
    assert await reflection.search("noodstop", worker) == []

    await reflection.ingest()
    done = await reflection.job(job["id"])
    assert done["status"] == "completed" and done["progress"] == 1.0
    assert done["chunks_total"] == done["chunks_done"] >= 3

    hits = await reflection.search("wat moet ik doen bij gevaar op de lijn?", worker)
    top = hits[0]
    assert top["section"] == ["Storing aan de inpaklijn", "Noodstop"]
    assert top["document_title"] == "Storingsprocedure inpaklijn" and top["version"] == 1
    assert FAULT_PROCEDURE[top["start"] : top["end"]].strip() == top["text"]
    assert "**gevaar**" in top["snippet"]
    assert "**bij**" not in top["snippet"] and "**op**" not in top["snippet"]  # function words
    got = await reflection.client.get(f"/v1/documents/{document['id']}", headers=worker)
    assert got.json()["version"] == 1 and got.json()["version_label"] == "3.1"


async def test_a_team_document_is_invisible_to_other_teams(reflection: ReflectionEnv) -> None:
    salary = await reflection.upload(
        SALARY_NOTE, title="Salary review", teams="hr", filename="salary.md"
    )
    await reflection.upload(FAULT_PROCEDURE)
    await reflection.ingest()
    quote = "Team lead salary scales are reviewed every March by the works council and HR together."
    outsider = reflection.as_("alice", teams="packaging")
    hits = await reflection.search(quote, outsider, k=50)
    assert all(h["document_id"] != salary["document"]["id"] for h in hits)
    assert all("salary" not in h["text"].lower() for h in hits)
    doc_id = salary["document"]["id"]
    targeted = await reflection.search(quote, outsider, filters={"document_ids": [doc_id]})
    assert targeted == []
    missing = await reflection.client.get(f"/v1/documents/{doc_id}", headers=outsider)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "document_not_found")
    listed = await reflection.client.get("/v1/documents", headers=outsider)
    assert doc_id not in {d["id"] for d in listed.json()["items"]}

    insider = reflection.as_("hanna", teams="hr")
    assert (await reflection.search(quote, insider))[0]["document_id"] == doc_id
    assert (
        await reflection.client.get(f"/v1/documents/{doc_id}", headers=insider)
    ).status_code == 200


async def test_only_admins_upload_delete_and_read_jobs(reflection: ReflectionEnv) -> None:
    coach = reflection.as_("carla", roles="coach")
    response = await reflection.client.post(
        "/v1/documents",
        files={"file": ("a.md", b"# A\ntext", "text/markdown")},
        data={"title": "A"},
        headers=coach,
    )
    assert response.status_code == 403


@pytest.mark.parametrize("reflection_overrides", [{"max_upload_mb": 0.001}])
async def test_too_large_is_413_and_nothing_is_stored(reflection: ReflectionEnv) -> None:
    error = await reflection.upload("x" * 5000, expect=413)
    assert error["error"]["code"] == "payload_too_large"
    assert (await reflection.client.get("/v1/documents", headers=reflection.admin)).json()[
        "items"
    ] == []


@pytest.mark.parametrize(
    ("content", "filename", "kind", "status", "code"),
    [
        (b"\x89PNG\r\n", "photo.png", "image/png", 415, "unsupported_media_type"),
        (b"%PDF-1.4 broken", "broken.pdf", "application/pdf", 422, "unreadable_file"),
        (b"   \n", "empty.md", "text/markdown", 422, "unreadable_file"),
        (b"\xff\xfe\xfa not utf8", "latin.txt", "text/plain", 415, "unsupported_media_type"),
    ],
)
async def test_bad_files_are_refused_with_the_reason_and_nothing_is_indexed(
    reflection: ReflectionEnv, content: bytes, filename: str, kind: str, status: int, code: str
) -> None:
    error = await reflection.upload(content, filename=filename, kind=kind, expect=status)
    assert error["error"]["code"] == code
    assert error["error"]["message"]
    await reflection.ingest()
    assert await reflection.chunks() == 0
    assert (await reflection.client.get("/v1/documents", headers=reflection.admin)).json()[
        "items"
    ] == []


async def test_bad_metadata_is_refused(reflection: ReflectionEnv) -> None:
    assert (await reflection.upload(FAULT_PROCEDURE, teams="Not A Team", expect=422))["error"][
        "code"
    ] == "invalid_teams"
    assert (await reflection.upload(FAULT_PROCEDURE, language="fr", expect=422))["error"][
        "code"
    ] == "invalid_language"
    assert (await reflection.upload(FAULT_PROCEDURE, title="", expect=422))["error"][
        "code"
    ] == "validation_error"


async def test_pdf_and_html_keep_their_structure(reflection: ReflectionEnv) -> None:
    pdf = text_pdf(
        ["Veiligheidsinstructie heftruck", "Controleer voor elke dienst de remmen en de claxon."]
    )
    await reflection.upload(pdf, filename="heftruck.pdf", kind="application/pdf", title="Heftruck")
    html = (
        "<html><body><h1>Onboarding</h1><p>Welkom!</p><h2>Eerste dag</h2>"
        "<p>Je krijgt een buddy en een rondleiding.</p></body></html>"
    )
    await reflection.upload(html, filename="onboarding.html", kind="text/html", title="Onboarding")
    await reflection.ingest()
    worker = reflection.as_("alice")
    forklift = await reflection.search("remmen controleren heftruck", worker)
    assert forklift[0]["document_title"] == "Heftruck" and forklift[0]["section"] == ["p. 1"]
    buddy = await reflection.search("wie begeleidt mij op mijn eerste werkdag", worker)
    assert buddy[0]["section"] == ["Onboarding", "Eerste dag"]


async def test_same_content_is_not_embedded_again(reflection: ReflectionEnv) -> None:
    first = await reflection.upload(FAULT_PROCEDURE)
    await reflection.ingest()
    doc_id = first["document"]["id"]
    again = await reflection.new_version(doc_id, FAULT_PROCEDURE)
    assert again["job"]["status"] == "unchanged"
    edited = FAULT_PROCEDURE.replace("vijftien minuten", "tien minuten")
    changed = await reflection.new_version(doc_id, edited)
    await reflection.ingest()
    job = await reflection.job(changed["job"]["id"])
    assert job["status"] == "completed"
    assert 0 < job["chunks_reused"] < job["chunks_total"]  # only the changed section re-embedded


async def test_delete_removes_every_chunk(reflection: ReflectionEnv) -> None:
    first = await reflection.upload(FAULT_PROCEDURE)
    await reflection.ingest()
    doc_id = first["document"]["id"]
    await reflection.new_version(doc_id, FAULT_PROCEDURE + "\n## Nazorg\nEvalueer de storing.\n")
    await reflection.ingest()
    assert await reflection.chunks(document_ids=[doc_id]) > 0
    deleted = await reflection.client.delete(f"/v1/documents/{doc_id}", headers=reflection.admin)
    assert deleted.status_code == 204
    assert await reflection.chunks(document_ids=[doc_id]) == 0
    assert (
        await reflection.client.get(f"/v1/documents/{doc_id}", headers=reflection.admin)
    ).status_code == 404


async def test_langchain_retriever_applies_the_same_visibility(reflection: ReflectionEnv) -> None:
    from kit.auth import Principal
    from services.reflection.search.retriever import DocumentRetriever

    await reflection.upload(SALARY_NOTE, title="Salary review", teams="hr", filename="salary.md")
    await reflection.upload(FAULT_PROCEDURE)
    await reflection.ingest()
    state = reflection.app.state

    def retriever(teams: str) -> DocumentRetriever:
        person = Principal("p", "P", frozenset({teams}), frozenset({"worker"}))
        return DocumentRetriever.build(state.database, state.index, state.embedder, person, k=10)

    outsider = await retriever("packaging").ainvoke("salary scales works council")
    assert outsider and all(d.metadata["title"] != "Salary review" for d in outsider)
    insider = await retriever("hr").ainvoke("salary scales works council")
    assert insider[0].metadata["title"] == "Salary review"
    assert insider[0].metadata["citation_id"]
