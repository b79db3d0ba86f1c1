"""Settings of the ideas service, read from `IDEAS_*` environment variables and `.env`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kit.settings import OutboxRelaySettings

SERVICE = "ideas"


class IdeasSettings(OutboxRelaySettings):
    """The ideas service's settings, from `IDEAS_*` variables (docs/configuration.md)."""

    model_config = SettingsConfigDict(env_prefix="IDEAS_", env_file=".env", extra="ignore")

    port: int = 8001

    service_name: ClassVar[str] = SERVICE

    # Webhooks may not target loopback, private or link-local addresses (SSRF) unless allowed.
    webhooks_allow_private_targets: bool = False
    # Webhook deliveries: attempts before giving up, idle wait between rounds, time per call.
    webhook_max_attempts: int = 8
    webhook_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 5.0

    # How long after writing a comment its author may still edit it.
    comment_edit_window_minutes: int = 15

    # Where the analytics service (the LRS) answers; the outbox relay sends it statements. An
    # admin makes the LRS client key and secret there; development tokens carry `lrs-client`.
    analytics_url: str = "http://127.0.0.1:8003"

    def relay_url(self) -> str:
        """The analytics LRS's statements resource: where the outbox relay sends statements."""
        return f"{self.analytics_url.rstrip('/')}/xapi/statements"

    # Semantic duplicate search borrows the reflection service's embeddings when it answers.
    reflection_url: str = "http://127.0.0.1:8002"
    embedding_timeout_seconds: float = 2.0
    # Tests and one-off commands switch the background sender off and drive it by hand.
    webhook_dispatcher_enabled: bool = True
