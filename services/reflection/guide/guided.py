"""The built-in guide: deterministic, offline, and it invents nothing.

Questions come from the reflection model; when a passage was retrieved the question quotes one
of its sentences word for word, with its citation. The summary is made of the worker's own
sentences: learning points chosen by embedding similarity with maximal marginal relevance (the
most central sentences that do not repeat each other), actions by Dutch and English patterns of
intent ("ik ga ...", "voortaan ...", "I will ...", "next time ...").
"""

from __future__ import annotations

import re

import numpy as np

from services.reflection.guide.base import (
    Answered,
    GuideQuestion,
    GuideSummary,
    Passage,
    Point,
    StageRequest,
    SummaryRequest,
    TokenSink,
)
from services.reflection.language import FUNCTION_WORDS
from services.reflection.search.embeddings import Embedder

NAME = "guided"
QUOTE_CHARS = 220
MAX_POINTS = 3
MAX_ACTIONS = 3
MMR_LAMBDA = 0.7
# Sentences end at . ! ? …, a blank line or a list item; a single line break inside a
# paragraph (hard-wrapped Markdown) is not an end.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n\s*\n\s*|\n\s*[-*•]\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
# Intent to act, in the worker's words. Dutch and English, first person or the team.
ACTION = re.compile(
    r"\b(ik ga|ik wil|ik zal|we gaan|wij gaan|we willen|we moeten|ik moet|voortaan|"
    r"volgende keer|vanaf nu|voorstel|stel voor|zou moeten|gaan we|ga ik|zal ik|"
    r"i will|i'll|i am going to|i'm going to|we will|we'll|we should|i should|next time|"
    r"from now on|going forward|propose|suggest|plan to|need to|we must|i must)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """The sentences of `text` with at least three words, whitespace collapsed."""
    parts = (" ".join(part.split()).strip(" -*•") for part in _SENTENCE_END.split(text))
    return [part for part in parts if len(_WORD.findall(part)) >= 3]


def _stems(text: str) -> set[str]:
    return {
        word.lower()[:5]
        for word in _WORD.findall(text)
        if len(word) >= 3 and word.lower() not in FUNCTION_WORDS
    }


def best_quote(passage: Passage, about: str) -> str:
    """The passage sentence sharing most words with `about`, verbatim (shortened at a word)."""
    said = [s for s in sentences(passage.text) if not s.startswith("#")]  # not a heading
    candidates = said or [passage.text.strip()]
    wanted = _stems(about)
    best = max(candidates, key=lambda s: (len(_stems(s) & wanted), -candidates.index(s)))
    if len(best) <= QUOTE_CHARS:
        return best
    return best[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


class GuidedEngine:
    """The built-in ReflectionGuide (see the module docstring); deterministic and offline."""

    name = NAME

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    async def ask(self, request: StageRequest, sink: TokenSink | None = None) -> GuideQuestion:
        """The stage's grounded question quoting the first passage not quoted before (or the
        first), or the stage's own question when nothing was retrieved; sent whole to `sink`."""
        language, stage = request.language, request.stage
        if stage.grounded is not None and request.passages:
            fresh = [p for p in request.passages if p.chunk_id not in request.quoted_before]
            passage = (fresh or request.passages)[0]
            about = " ".join([request.experience, *(a.answer for a in request.answered[-1:])])
            text = stage.grounded.get(language).format(
                source=passage.source, quote=best_quote(passage, about), cite=passage.cite
            )
        else:
            text = stage.question.get(language)
        if sink is not None:
            await sink.token(text)
        return GuideQuestion(text=text, engine=NAME)

    async def summarise(self, request: SummaryRequest) -> GuideSummary:
        """What happened (the experience and the describing answers, at most 1,200
        characters), up to three learning points and three actions, in the worker's words."""
        described = [a for a in request.answered if a.stage.purpose == "describe"]
        happened = " ".join([request.experience, *(a.answer for a in described)])
        thoughts = [
            (s, a.cite)
            for a in request.answered
            if a.stage.purpose not in ("describe", "act")
            for s in sentences(a.answer)
        ]
        points = await self._central(thoughts, MAX_POINTS)
        return GuideSummary(
            what_happened=_shorten(happened, 1200),
            learning_points=points,
            actions=_actions(request.answered),
            engine=NAME,
        )

    async def _central(self, candidates: list[tuple[str, str]], limit: int) -> list[Point]:
        """Maximal marginal relevance: close to the gist of everything said, unlike each other."""
        if len(candidates) <= limit:
            return [Point(text, [cite]) for text, cite in candidates]
        vectors = await self.embedder.embed_passages([text for text, _ in candidates])
        gist = vectors.mean(axis=0)
        gist /= np.linalg.norm(gist) or 1.0
        relevance = vectors @ gist
        chosen: list[int] = []
        while len(chosen) < limit:
            best, best_score = -1, -np.inf
            for i in range(len(candidates)):
                if i in chosen:
                    continue
                redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
                score = MMR_LAMBDA * float(relevance[i]) - (1 - MMR_LAMBDA) * redundancy
                if score > best_score:
                    best, best_score = i, score
            chosen.append(best)
        # In the order the worker said them: a summary reads better that way.
        return [Point(candidates[i][0], [candidates[i][1]]) for i in sorted(chosen)]


def _actions(answered: list[Answered]) -> list[Point]:
    acting = [a for a in answered if a.stage.purpose == "act"]
    said = [(s, a.cite) for a in acting for s in sentences(a.answer)]
    intended = [(s, cite) for s, cite in said if ACTION.search(s)]
    if not intended:  # the act stage's own sentences are actions even without the patterns
        elsewhere = [(s, a.cite) for a in answered if a not in acting for s in sentences(a.answer)]
        intended = [(s, cite) for s, cite in elsewhere if ACTION.search(s)] or said
    return [Point(text, [cite]) for text, cite in intended[:MAX_ACTIONS]]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
