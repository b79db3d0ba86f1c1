"""kit/pseudonyms.py without HTTP: a pseudonym is stable for one key, differs between keys,
purposes and people, and does not give the person back."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.pseudonyms import pseudonym, pseudonym_key
from kit.settings import ConfigurationError, PlatformSettings

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def platform(var_dir: Path, environment: str = "development") -> PlatformSettings:
    return PlatformSettings(
        environment=environment,
        var_dir=var_dir,
        auth_issuer="https://id.example",
        auth_audience="werkvloer",
        auth_jwks_url="https://id.example/jwks",
        _env_file=None,
    )


def test_stable_for_one_key() -> None:
    assert pseudonym(KEY, "gap-1", "wim") == pseudonym(KEY, "gap-1", "wim")


def test_different_keys_people_and_parts_differ() -> None:
    base = pseudonym(KEY, "gap-1", "wim")
    assert pseudonym(OTHER_KEY, "gap-1", "wim") != base
    assert pseudonym(KEY, "gap-1", "kees") != base
    assert pseudonym(KEY, "gap-2", "wim") != base
    assert pseudonym(KEY, "a", "bc") != pseudonym(KEY, "ab", "c"), "parts cannot run together"


def test_not_reversible_to_the_subject_text() -> None:
    subject = "wim.jansen@example.org"
    value = pseudonym(KEY, subject)
    assert len(value) == 64 and set(value) <= set("0123456789abcdef")
    assert subject not in value and "wim" not in value
    assert subject.encode().hex() not in value


def test_the_development_key_is_stable_per_var_dir_and_differs_per_purpose(tmp_path: Path) -> None:
    dev = platform(tmp_path / "var")
    gaps = pseudonym_key(None, dev, "gaps")
    assert gaps == pseudonym_key(None, dev, "gaps") and len(gaps) == 32
    assert pseudonym_key(None, dev, "metrics") != gaps
    assert pseudonym_key(None, platform(tmp_path / "elsewhere"), "gaps") != gaps


def test_a_configured_key_is_used_and_must_be_long_enough(tmp_path: Path) -> None:
    configured = "s" * 32
    assert pseudonym_key(configured, platform(tmp_path), "gaps") == configured.encode()
    with pytest.raises(ConfigurationError):
        pseudonym_key("short", platform(tmp_path), "gaps")


def test_production_needs_a_configured_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        pseudonym_key(None, platform(tmp_path, "production"), "gaps")
