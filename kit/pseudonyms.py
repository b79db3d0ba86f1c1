"""Keyed pseudonyms: a stable stand-in for a person that cannot be turned back into them
without the key (HMAC-SHA256), and that differs per purpose so two uses cannot be joined."""

from __future__ import annotations

import hashlib
import hmac

from kit.auth import dev_secret
from kit.settings import ConfigurationError, PlatformSettings


def pseudonym_key(configured: str | None, platform: PlatformSettings, purpose: str) -> bytes:
    """The key for `purpose`: the configured one (bytes of its text); in development, without
    one, HMAC-SHA256 of the purpose under the development secret (32 bytes, stable per `var/`).
    Raises ConfigurationError for a configured key under 32 characters, or none in production."""
    if configured:
        if len(configured) < 32:
            raise ConfigurationError(f"the {purpose} pseudonym key needs at least 32 characters")
        return configured.encode()
    if platform.is_production:
        raise ConfigurationError(f"production mode needs a {purpose} pseudonym key")
    secret = dev_secret(platform.var_dir).encode()
    return hmac.new(secret, f"pseudonyms:{purpose}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, *parts: str) -> str:
    """The pseudonym of `parts` (e.g. a gap id and a subject) under `key`: 64 hex characters of
    HMAC-SHA256 (RFC 2104). Parts are joined with the unit separator, so ("a", "bc") and
    ("ab", "c") differ. Stable for one key; unrelated under another."""
    message = "\x1f".join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
