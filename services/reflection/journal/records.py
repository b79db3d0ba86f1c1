"""The JSON a reflection stores of what the guide gave (the passages shown with a stage, the
summary), and back to the guide's objects. Stored as JSON so a stage keeps exactly what its
reader was shown, whatever happens to the document later."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.reflection.guide.base import Answered, GuideSummary, Passage
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.journal.models import ReflectionTurn

# A passage's fields and the keys a stage stores them under; the API's Citation uses the keys.
PASSAGE_KEYS = (
    ("cite", "id"),
    ("chunk_id", "chunk_id"),
    ("document_id", "document_id"),
    ("title", "document_title"),
    ("section", "section"),
    ("text", "text"),
)


def passage_record(passage: Passage) -> dict[str, Any]:
    """A passage as a stage stores it and as the `passages` stream event sends it:
    `{id, chunk_id, document_id, document_title, section, text}`."""
    return {key: getattr(passage, field) for field, key in PASSAGE_KEYS}


def passage_of(record: dict[str, Any]) -> Passage:
    """The guide's Passage for a stored `passage_record`."""
    return Passage(**{field: record[key] for field, key in PASSAGE_KEYS})


def answered(turns: Sequence[ReflectionTurn], model: ReflectionModel) -> list[Answered]:
    """The answered stages of `turns` as the guide reads them, cited `a1`, `a2` ... by stage."""
    return [
        Answered(f"a{t.stage_index + 1}", model.stages[t.stage_index], t.question, t.answer)
        for t in turns
        if t.answer is not None
    ]


def summary_record(summary: GuideSummary) -> dict[str, Any]:
    """A summary as the reflection stores it: what happened, learning points and actions
    (`{text, citations}` each), the engine, its notice and the citations it made up."""
    return {
        "what_happened": summary.what_happened,
        "learning_points": [
            {"text": p.text, "citations": p.citations} for p in summary.learning_points
        ],
        "actions": [{"text": p.text, "citations": p.citations} for p in summary.actions],
        "engine": summary.engine,
        "notice": summary.notice,
        "stripped_citations": summary.stripped,
    }
