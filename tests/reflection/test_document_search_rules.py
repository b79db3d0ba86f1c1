"""The pure rules of documents, search and knowledge gaps, called directly (no HTTP, no
database): chunking, language detection, the index filter, snippets, job progress, the
embedding caps, the language choice and the cut-up embedding. The HTTP tests beside this file
check the same rules through the routes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from kit.auth import Principal
from kit.errors import PayloadTooLarge, Unprocessable
from services.reflection.access import index_teams
from services.reflection.documents.chunking import chunk_sections
from services.reflection.documents.models import IngestJob, JobStatus
from services.reflection.documents.service import choose_language, job_public, parse_teams
from services.reflection.gaps.service import normalise
from services.reflection.index.base import EVERYONE, IndexFilter, conditions
from services.reflection.language import detect
from services.reflection.search.embeddings import EMBED_STEP, embed_in_steps
from services.reflection.search.service import check_embedding_caps, snippet
from services.reflection.settings import ReflectionSettings

VERSION = uuid.UUID("00000000-0000-0000-0000-000000000001")
TEXT = "Eerste alinea.\n\nTweede alinea over de noodstop."
SECTION: dict[str, object] = {"text": TEXT, "path": ["Storing"]}


def test_chunks_keep_their_heading_path_offsets_and_stable_ids() -> None:
    sections = [{**SECTION, "offset": 100}]
    first = chunk_sections(VERSION, sections, size=20, overlap=0)
    again = chunk_sections(VERSION, sections, size=20, overlap=0)
    assert [c.id for c in first] == [c.id for c in again]  # a re-run overwrites
    assert [c.ordinal for c in first] == list(range(len(first)))
    assert all(c.section == ["Storing"] and c.start >= 100 for c in first)
    whole = "x" * 100 + TEXT
    assert all(whole[c.start : c.end].strip() == c.text for c in first)
    assert first[0].embedding_text() == f"Storing\n{first[0].text}"


def test_another_version_gets_other_chunk_ids() -> None:
    sections = [{**SECTION, "offset": 0}]
    other = uuid.UUID("00000000-0000-0000-0000-000000000002")
    ids = {c.id for c in chunk_sections(VERSION, sections, 1200, 150)}
    assert ids.isdisjoint(c.id for c in chunk_sections(other, sections, 1200, 150))


def test_language_is_counted_from_function_words() -> None:
    assert detect("Meld de storing aan de ploegleider en druk op de noodstop") == "nl"
    assert detect("Report the fault to the team lead and press the stop button") == "en"
    assert detect("Noodstop 42") is None


def test_the_language_given_wins_and_a_missing_one_is_detected() -> None:
    english: list[dict[str, object]] = [
        {"text": "Press the button when the line stops and report it to the lead"}
    ]
    assert choose_language("nl", english) == "nl"
    assert choose_language(None, english) == "en"
    assert choose_language(None, [{"text": "12345"}]) == "nl"
    with pytest.raises(Unprocessable) as refused:
        choose_language("de", english)
    assert refused.value.code == "invalid_language"


def test_teams_are_everyone_or_sorted_unique_keys() -> None:
    assert parse_teams(None) == parse_teams(" * ") == [EVERYONE]
    assert parse_teams("logistics, packaging,,logistics") == ["logistics", "packaging"]
    with pytest.raises(Unprocessable) as refused:
        parse_teams("Packaging")
    assert refused.value.code == "invalid_teams"


def test_the_index_filter_applies_the_readers_teams_and_hides_versions() -> None:
    admin = Principal("root", "Root", frozenset(), frozenset({"admin"}))
    worker = Principal("ann", "Ann", frozenset({"packaging"}), frozenset({"worker"}))
    assert index_teams(admin) is None and index_teams(worker) == ["packaging"]
    must, must_not = conditions(
        IndexFilter(teams=index_teams(worker), exclude_versions=["d:1"], languages=["nl"])
    )
    assert must == [("teams", [EVERYONE, "packaging"]), ("language", ["nl"])]
    assert must_not == [("version_key", ["d:1"])]
    assert conditions(IndexFilter(teams=None)) == ([], [])


def test_a_snippet_marks_matched_words_around_the_first_match() -> None:
    text = "Inleiding. " * 40 + "Druk direct op de rode noodstop en waarschuw de ploegleider."
    found = snippet(text, "noodstop")
    assert found.startswith("…") and "**noodstop**" in found
    assert "**de**" not in found  # function words are never marked
    assert snippet("Korte tekst.", "onbekend") == "Korte tekst."


def test_job_progress_is_the_share_of_chunks_done_and_one_when_finished() -> None:
    now = datetime.now(UTC)
    job = IngestJob(document_id=uuid.uuid4(), created_by="root", created_at=now)
    job.chunks_total, job.chunks_done = 3, 1
    assert job_public(job).progress == 0.3333
    job.chunks_total = 0
    assert job_public(job).progress == 0.0
    job.status = JobStatus.unchanged.value
    assert job_public(job).progress == 1.0


def test_embedding_requests_past_a_cap_are_413_with_their_own_code() -> None:
    settings = ReflectionSettings(
        embeddings_max_texts=2, embeddings_max_chars=5, embeddings_max_total_chars=8
    )
    check_embedding_caps(["abcde", "abc"], settings)
    for texts, code in (
        (["a", "b", "c"], "too_many_texts"),
        (["abcdef"], "text_too_long"),
        (["abcde", "abcde"], "embedding_input_too_large"),
    ):
        with pytest.raises(PayloadTooLarge) as refused:
            check_embedding_caps(texts, settings)
        assert refused.value.code == code


async def test_embedding_runs_in_steps_and_checks_before_each() -> None:
    calls: list[list[str]] = []
    checks: list[int] = []

    async def embed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[float(len(t))] for t in texts])

    async def check() -> None:
        checks.append(len(calls))

    texts = [str(i) * (i + 1) for i in range(EMBED_STEP + 1)]
    vectors = await embed_in_steps(embed, texts, check)
    assert [len(c) for c in calls] == [EMBED_STEP, 1] and checks == [0, 1]
    assert vectors[:, 0].tolist() == [float(len(t)) for t in texts]


def test_a_gap_is_its_content_words_in_the_order_asked() -> None:
    assert normalise("Hoe vraag ik ouderschapsverlof aan?") != normalise(
        "ouderschapsverlof aanvragen hoe"
    )
    assert len(normalise(" ".join(f"woord{i}" for i in range(30))).split()) == 12
