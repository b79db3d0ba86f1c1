"""One running platform (four OS processes, SQLite) shared by the end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.auth import dev_secret, issue_dev_token
from tests.support.platform import Platform, running_platform


@pytest.fixture(scope="session")
def platform_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("platform")) as platform:
        yield platform


def mint(platform: Platform, subject: str, roles: str, teams: str = "") -> str:
    """A development token signed with the platform's own secret under its var/."""
    secret = dev_secret(Path(platform.env["WERKVLOER_VAR_DIR"]))
    return issue_dev_token(
        secret, subject=subject, roles=roles.split(","), teams=[t for t in teams.split(",") if t]
    )


def mint_with_cli(platform: Platform, subject: str, roles: str, teams: str = "") -> str:
    """A development token, made the way `make token` makes it (a process of its own)."""
    command = [sys.executable, "-m", "services.manage", "token", "--sub", subject, "--roles", roles]
    if teams:
        command += ["--teams", teams]
    return subprocess.run(
        command, env=platform.env, cwd=platform.workdir, check=True, capture_output=True, text=True
    ).stdout.strip()
