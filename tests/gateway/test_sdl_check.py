"""The published-schema check, run as CI runs it, on a temporary copy of the project whose code
was changed without `make schema`: it must fail, and list what breaks for integrators."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _copy(tmp: Path) -> Path:
    project = tmp / "project"
    for folder in ("gateway", "kit"):
        shutil.copytree(
            ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"],
    ):
        subprocess.run(command, cwd=project, check=True)
    return project


def _check(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.sdl", "--check", "--against", "HEAD", *extra],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_committed_schema_passes(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    result = _check(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 breaking change(s)" in result.stdout


def test_an_uncommitted_breaking_change_fails_and_is_listed(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    health = project / "gateway" / "schema" / "health.py"
    source = health.read_text()
    assert "latency_ms" in source
    health.write_text(source.replace("latency_ms", "latency_millis"))
    result = _check(project, "--fail-on-breaking")
    assert result.returncode == 1
    assert "run `make schema`" in result.stdout
    assert "FIELD_REMOVED: Field ServiceHealth.latencyMs was removed." in result.stdout
