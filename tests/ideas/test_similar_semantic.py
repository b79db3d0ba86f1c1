"""Semantic duplicates through a real reflection service (the bundled model, over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.settings import PlatformSettings
from services.reflection.app import create_app as reflection_app
from services.reflection.settings import ReflectionSettings
from tests.ideas.conftest import IdeasEnv
from tests.ideas.test_similar import EXISTING, _seed, _similar
from tests.support.servers import serve_in_thread
from tests.support.waiting import DEADLINE_SECONDS


@pytest.fixture
def reflection_url(tmp_path: Path) -> Iterator[str]:
    # The same var/ as the ideas service: both verify the same development tokens.
    platform = PlatformSettings(var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    settings = ReflectionSettings(
        platform=platform, database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db"
    )
    with serve_in_thread(reflection_app(settings)) as url:
        yield url


@pytest.fixture
def ideas_overrides(reflection_url: str) -> dict[str, Any]:
    return {"reflection_url": reflection_url, "embedding_timeout_seconds": DEADLINE_SECONDS}


async def test_semantic_duplicates_across_languages(ideas: IdeasEnv) -> None:
    ids = await _seed(ideas)
    result = await _similar(ideas, "Changing box sizes on the packaging line takes too long")
    assert result["semantic"] is True
    assert result["items"][0]["id"] == ids["Kortere omsteltijd inpaklijn"]
    assert "semantic" in result["items"][0]["matched_by"]
    dutch = await _similar(ideas, "Vorkheftruck bestuurders slaan de veiligheidscheck over")
    assert dutch["items"][0]["id"] == ids["Safety briefing at shift start"]
    unrelated = await _similar(ideas, "the coffee machine is often empty")
    assert unrelated["items"] == []
    cached = await ideas.scalar("SELECT count(*) FROM idea_embeddings")
    assert cached == len(EXISTING)
