"""Docs that name tests keep naming tests that exist (docs/security.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _defined(name: str, files: list[Path]) -> bool:
    return any(re.search(rf"def {name}\(", f.read_text(encoding="utf-8")) for f in files)


def test_every_test_named_in_the_security_page_exists() -> None:
    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    with_file = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", page)
    assert len(with_file) > 20
    for path, test in with_file:
        assert (ROOT / path).exists(), f"{path} is gone"
        if test:
            assert _defined(test, [ROOT / path]), f"{path}::{test} is gone"
    # `::name` after a file named earlier in the same cell: any test file may hold it.
    every_file = list((ROOT / "tests").rglob("test_*.py"))
    for test in re.findall(r"`::(\w+)`", page):
        assert _defined(test, every_file), f"{test} is gone"


def test_the_configuration_reference_is_what_the_code_says() -> None:
    from services.config_reference import reference

    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == reference(), "run `make config-docs` and commit docs/configuration.md"
    assert "`ANALYTICS_MIN_GROUP_SIZE`" in committed and "`GATEWAY_MAX_COST`" in committed
