"""Fixtures shared by the whole suite: isolated settings and a database on each backend."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kit.settings import PlatformSettings
from tests.support.databases import postgres_database, postgres_reachable, sqlite_url

_POSTGRES_UP: bool | None = None


async def _postgres_up() -> bool:
    global _POSTGRES_UP
    if _POSTGRES_UP is None:
        _POSTGRES_UP = await postgres_reachable()
        if not _POSTGRES_UP and not os.environ.get("CI"):
            sys.stderr.write(
                "\n" + "!" * 78 + "\n"
                "!! PostgreSQL at 127.0.0.1:5432 is not reachable: the PostgreSQL half of the\n"
                "!! suite is SKIPPED. CI never skips it. Start PostgreSQL to run everything.\n"
                + "!" * 78
                + "\n"
            )
    return _POSTGRES_UP


@pytest.fixture
def platform(tmp_path: Path) -> PlatformSettings:
    """Development settings whose `var/` is the test's own folder."""
    return PlatformSettings(var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every test that takes this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not await _postgres_up():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable in CI")
        pytest.skip("PostgreSQL is not reachable (outside CI only)")
    async with postgres_database() as url:
        yield url
