"""The contract between the reflection journal and an engine that guides it.

An engine gets everything it may use: the stage, the worker's own words and the passages that
were retrieved for this worker (already permission-checked). It returns a question or a summary
whose citations name only those passages (`c1`, `c2` ...) or the worker's answers (`a1` ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from services.reflection.guide.catalogue import ReflectionModel, Stage

CITATION = re.compile(r"\[((?:[ac]\d{1,3})(?:\s*,\s*[ac]\d{1,3})*)\]")


@dataclass(frozen=True)
class Passage:
    """A retrieved passage the worker may read, as an engine may cite it."""

    cite: str  # "c1": unique within one reflection
    chunk_id: str
    document_id: str
    title: str
    section: list[str]
    text: str

    @property
    def source(self) -> str:
        """Where it is from, for a question to name: the title and the last section heading,
        joined by an angle quote (U+203A)."""
        return " \u203a ".join([self.title, *self.section[-1:]])  # an angle quote


@dataclass(frozen=True)
class Answered:
    """A stage the worker answered, as an engine may cite it."""

    cite: str  # "a1" for the first stage's answer
    stage: Stage
    question: str
    answer: str


@dataclass(frozen=True)
class StageRequest:
    """Everything an engine may use to ask one stage's question."""

    model: ReflectionModel
    stage: Stage
    language: str
    experience: str
    answered: list[Answered]
    passages: list[Passage]  # empty: nothing relevant was found (a knowledge gap)
    # Chunks earlier questions already quoted: a new stage should bring something new.
    quoted_before: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SummaryRequest:
    """Everything an engine may use to summarise a fully answered reflection."""

    model: ReflectionModel
    language: str
    experience: str
    answered: list[Answered]
    passages: list[Passage]  # every passage shown during the reflection


@dataclass
class GuideQuestion:
    """A stage's question as an engine made it, with the citations it had to remove."""

    text: str
    engine: str
    stripped: list[str] = field(default_factory=list)  # citation ids the engine invented
    notice: str | None = None  # e.g. the language model failed and the built-in guide asked

    @property
    def cited(self) -> list[str]:
        """The citation ids the question names, in order (`cited_ids`)."""
        return cited_ids(self.text)


@dataclass(frozen=True)
class Point:
    """A learning point or an action of a summary, with the ids it rests on (a1, c2 ...)."""

    text: str
    citations: list[str]


@dataclass
class GuideSummary:
    """A summary as an engine made it, with the citations it had to remove."""

    what_happened: str
    learning_points: list[Point]
    actions: list[Point]
    engine: str
    stripped: list[str] = field(default_factory=list)
    notice: str | None = None


class TokenSink(Protocol):
    """Where a streaming engine sends text as it is made (server-sent events)."""

    async def passages(self, passages: list[Passage]) -> None:
        """The sources, before the question that cites them."""

    async def token(self, text: str) -> None:
        """The next piece of the text."""

    async def restart(self, notice: str) -> None:
        """Everything sent so far is void; the text starts again (after a fallback)."""


class ReflectionGuide(Protocol):
    """An engine that guides a reflection (guided.py, llm.py). It never fails a request: an
    engine that cannot answer falls back to the built-in guide and says so in `notice`."""

    name: str

    async def ask(self, request: StageRequest, sink: TokenSink | None = None) -> GuideQuestion:
        """The question for `request.stage`, citing only `request.passages` and answers,
        streamed to `sink` as it is made when one is given."""

    async def summarise(self, request: SummaryRequest) -> GuideSummary:
        """What happened, learning points and actions, citing only what `request` holds."""


def cited_ids(text: str) -> list[str]:
    """The citation ids (`a1`, `c12` ...) `text` names in brackets, each once, in order."""
    found: list[str] = []
    for match in CITATION.finditer(text):
        for cite in match.group(1).split(","):
            if cite.strip() not in found:
                found.append(cite.strip())
    return found


def keep_known_citations(text: str, known: set[str]) -> tuple[str, list[str]]:
    """The text without citation ids that name nothing retrieved, and the ids removed."""
    stripped: list[str] = []

    def clean(match: re.Match[str]) -> str:
        ids = [cite.strip() for cite in match.group(1).split(",")]
        kept = [cite for cite in ids if cite in known]
        stripped.extend(cite for cite in ids if cite not in known)
        return f"[{', '.join(kept)}]" if kept else ""

    cleaned = CITATION.sub(clean, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip(), stripped
