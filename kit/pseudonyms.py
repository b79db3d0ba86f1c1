"""Keyed pseudonyms: a stable stand-in for a person that cannot be turned back into them
without the key (HMAC-SHA256), and that differs per purpose so two uses cannot be joined."""

from __future__ import annotations

import hashlib
import hmac

from kit.auth import dev_secret
from kit.settings import ConfigurationError, PlatformSettings


def pseudonym_key(configured: str | None, platform: PlatformSettings, purpose: str) -> bytes:
    """The configured key; in development one derived from the development secret."""
    if configured:
        if len(configured) < 32:
            raise ConfigurationError(f"the {purpose} pseudonym key needs at least 32 characters")
        return configured.encode()
    if platform.is_production:
        raise ConfigurationError(f"production mode needs a {purpose} pseudonym key")
    secret = dev_secret(platform.var_dir).encode()
    return hmac.new(secret, f"pseudonyms:{purpose}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
