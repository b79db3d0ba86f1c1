"""Ranking likely duplicates of a draft (pure, no I/O), so a worker can support an existing idea
instead of filing a twin: lexical scores always, semantic ones when `duplicates.py` got them from
the reflection service's embeddings, and the two rankings fused (RRF).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from services.ideas.models import Idea
from services.ideas.text import stem, terms

CANDIDATE_CAP = 500
MIN_LEXICAL_SCORE = 0.2
RRF_K = 60


def query_stems(text: str) -> list[str]:
    """The stems of the draft's words of three letters or more, in order, once each."""
    return list(dict.fromkeys(stem(t) for t in terms(text) if len(t) >= 3))


def lexical_rank(text: str, candidates: Sequence[Idea]) -> list[tuple[Idea, float]]:
    """Share of the draft's (rarity-weighted) word stems that an idea also uses; title words
    count double, since a title names the idea."""
    wanted = set(query_stems(text))
    if not wanted or not candidates:
        return []
    bodies = [
        (
            idea,
            {stem(t) for t in terms(f"{idea.problem} {idea.proposal}")},
            {stem(t) for t in terms(idea.title)},
        )
        for idea in candidates
    ]
    df = Counter(s for _, body, title in bodies for s in (body | title) & wanted)
    n = len(bodies)
    weight = {s: math.log(1 + (n + 1) / (df[s] + 0.5)) for s in wanted}
    total = sum(weight.values())
    ranked = []
    for idea, body, title in bodies:
        score = sum(weight[s] * (2.0 if s in title else 1.0) for s in wanted & (body | title))
        score = min(1.0, score / total)
        if score >= MIN_LEXICAL_SCORE:
            ranked.append((idea, round(score, 4)))
    ranked.sort(key=lambda pair: (-pair[1], str(pair[0].id)))
    return ranked


def fuse(
    rankings: dict[str, list[tuple[Idea, float]]], limit: int
) -> list[tuple[Idea, float, list[str]]]:
    """Reciprocal rank fusion: robust to the two scores living on different scales."""
    scores: dict[object, float] = {}
    sources: dict[object, list[str]] = {}
    ideas: dict[object, Idea] = {}
    for name, ranking in rankings.items():
        for rank, (idea, _) in enumerate(ranking, start=1):
            scores[idea.id] = scores.get(idea.id, 0.0) + 1.0 / (RRF_K + rank)
            sources.setdefault(idea.id, []).append(name)
            ideas[idea.id] = idea
    ordered = sorted(scores, key=lambda key: (-scores[key], str(key)))[:limit]
    return [(ideas[key], round(scores[key] * RRF_K, 4), sources[key]) for key in ordered]
