"""A guide driven by a LangChain chat model (OpenAI-compatible servers, Azure OpenAI, Ollama).

Prompts live in `prompts/`. Retrieved text and the worker's words go in as delimited, escaped
data, so a document cannot close its own tag and speak as the system. Tokens are streamed to the
client as they come; citation ids are checked while streaming, and any id that was not given to
the model is removed and reported. When the provider fails or is too slow, the built-in guide
answers instead and says so.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from services.reflection.guide.base import (
    CITATION,
    GuideQuestion,
    GuideSummary,
    Point,
    StageRequest,
    SummaryRequest,
    TokenSink,
    keep_known_citations,
)
from services.reflection.guide.guided import GuidedEngine

log = logging.getLogger(__name__)
NAME = "llm"
PROMPTS = Path(__file__).parent / "prompts"
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English"}
PURPOSES = {
    "describe": "describe what happened",
    "feel": "name thoughts and feelings",
    "evaluate": "weigh what went well and what did not",
    "analyse": "understand why, against how the work is meant to go",
    "conclude": "draw what was learned",
    "act": "decide what to do differently",
}
# A citation being streamed is held back until it is complete: "[c12, a3]" at most.
HOLD_LIMIT = 24


class ProviderFailed(Exception):
    """The language model answered, but not with something usable (empty, not the shape)."""


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def data_block(request: StageRequest | SummaryRequest) -> str:
    """The data the model may use, each piece tagged with its citation id."""
    parts = [f'<worker id="experience">{_escape(request.experience)}</worker>']
    for answered in request.answered:
        parts.append(
            f'<worker id="{answered.cite}" stage="{answered.stage.key}">'
            f"{_escape(answered.answer)}</worker>"
        )
    for passage in request.passages:
        parts.append(
            f'<passage id="{passage.cite}" source="{_escape(passage.source)}">'
            f"{_escape(passage.text)}</passage>"
        )
    return "\n".join(parts)


def known_ids(request: StageRequest | SummaryRequest) -> set[str]:
    """The citation ids the model was given: the answers' and the passages'."""
    return {a.cite for a in request.answered} | {p.cite for p in request.passages}


class CitationStream:
    """Passes tokens through, holding back a bracket until it is a known citation or plain text."""

    def __init__(self, sink: TokenSink | None, known: set[str]) -> None:
        self.sink, self.known = sink, known
        self.text, self.held = "", ""
        self.stripped: list[str] = []

    async def _emit(self, text: str) -> None:
        if text:
            self.text += text
            if self.sink is not None:
                await self.sink.token(text)

    async def feed(self, token: str) -> None:
        """Pass `token` on, holding back an open bracket until it is known what it is."""
        for char in token:
            if self.held or char == "[":
                self.held += char
                if char == "]" or len(self.held) > HOLD_LIMIT:
                    await self._release()
            else:
                await self._emit(char)

    async def _release(self) -> None:
        held, self.held = self.held, ""
        if CITATION.fullmatch(held):
            cleaned, stripped = keep_known_citations(held, self.known)
            self.stripped.extend(stripped)
            held = cleaned
        await self._emit(held)

    async def close(self) -> str:
        """Release what is held back; returns the whole text as sent."""
        await self._release()
        return self.text


class SummaryShape(BaseModel):
    """The JSON object the summary prompt asks the model for."""

    what_happened: str = Field(max_length=4000)
    learning_points: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    actions: list[dict[str, Any]] = Field(default_factory=list, max_length=10)


class LLMEngine:
    """A ReflectionGuide over a LangChain chat model, falling back to the built-in guide
    (`fallback`) when the model fails or takes longer than `timeout_seconds`."""

    name = NAME

    def __init__(self, chat_model: Any, fallback: GuidedEngine, timeout_seconds: float) -> None:
        self.chat_model = chat_model
        self.fallback = fallback
        self.timeout_seconds = timeout_seconds
        self.question_prompt = (PROMPTS / "question.md").read_text(encoding="utf-8")
        self.summary_prompt = (PROMPTS / "summary.md").read_text(encoding="utf-8")

    def _question_messages(self, request: StageRequest) -> list[tuple[str, str]]:
        system = self.question_prompt.format(
            model=request.model.name.en,
            stage=request.stage.title.en,
            purpose=PURPOSES[request.stage.purpose],
            language_name=LANGUAGE_NAMES.get(request.language, "English"),
            stage_question=request.stage.question.get(request.language),
        )
        return [("system", system), ("human", data_block(request))]

    async def ask(self, request: StageRequest, sink: TokenSink | None = None) -> GuideQuestion:
        """The model's question, streamed to `sink` with unknown citations removed; on any
        provider failure a `restart` to `sink` and the built-in guide's question with a
        `notice`."""
        stream = CitationStream(sink, known_ids(request))
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async for chunk in self.chat_model.astream(self._question_messages(request)):
                    await stream.feed(str(chunk.content or ""))
            text = (await stream.close()).strip()
            if not text:
                raise ProviderFailed("empty answer")
        except Exception as exc:  # any provider failure: the worker still gets a question
            notice = _notice(exc)
            log.warning("language model failed; built-in guide asks", extra={"reason": notice})
            if sink is not None:
                await sink.restart(notice)
            question = await self.fallback.ask(request, sink)
            question.notice = notice
            return question
        cleaned, stripped = keep_known_citations(text, known_ids(request))
        return GuideQuestion(text=cleaned, engine=NAME, stripped=stream.stripped + stripped)

    async def summarise(self, request: SummaryRequest) -> GuideSummary:
        """The model's summary (points without a known citation dropped); on any provider
        failure or an answer not in the asked shape, the built-in guide's with a `notice`."""
        system = self.summary_prompt.format(
            model=request.model.name.en,
            language_name=LANGUAGE_NAMES.get(request.language, "English"),
        )
        try:
            async with asyncio.timeout(self.timeout_seconds):
                reply = await self.chat_model.ainvoke(
                    [("system", system), ("human", data_block(request))]
                )
            return _parse_summary(str(reply.content), known_ids(request))
        except Exception as exc:
            notice = _notice(exc)
            log.warning(
                "language model failed; built-in guide summarises", extra={"reason": notice}
            )
            summary = await self.fallback.summarise(request)
            summary.notice = notice
            return summary


def _notice(exc: BaseException) -> str:
    reason = "timed out" if isinstance(exc, TimeoutError) else f"failed ({type(exc).__name__})"
    return f"The language model {reason}; the built-in guide answered instead."


def _parse_summary(reply: str, known: set[str]) -> GuideSummary:
    found = re.search(r"\{.*\}", reply, re.DOTALL)
    if found is None:
        raise ProviderFailed("no JSON object in the summary")
    try:
        shape = SummaryShape.model_validate(json.loads(found.group()))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ProviderFailed("summary is not in the asked shape") from exc
    stripped: list[str] = []

    def points(items: list[dict[str, Any]]) -> list[Point]:
        kept = []
        for item in items[:3]:
            text, removed = keep_known_citations(str(item.get("text", "")), known)
            cites = [str(c) for c in item.get("citations") or []]
            stripped.extend(removed + [c for c in cites if c not in known])
            cites = [c for c in cites if c in known]
            if text and cites:  # a claim that rests on nothing given is dropped
                kept.append(Point(text, cites))
        return kept

    happened, removed = keep_known_citations(shape.what_happened, known)
    return GuideSummary(
        what_happened=happened,
        learning_points=points(shape.learning_points),
        actions=points(shape.actions),
        engine=NAME,
        stripped=removed + stripped,
    )


def make_chat_model(
    model: str, provider: str, base_url: str | None, api_key: str | None, timeout: float
) -> Any:
    """A LangChain chat model (`init_chat_model`) at temperature 0.2, with `timeout` seconds
    and no retries of its own (the engine falls back instead). Raises what LangChain raises
    for an unknown provider or a missing integration package."""
    from langchain.chat_models import init_chat_model

    options: dict[str, Any] = {"temperature": 0.2, "timeout": timeout, "max_retries": 0}
    if base_url:
        options["base_url"] = base_url
    if api_key:
        options["api_key"] = api_key
    return init_chat_model(model, model_provider=provider, **options)
