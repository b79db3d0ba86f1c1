"""Settings of the analytics service, read from `ANALYTICS_*` environment variables and `.env`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ConfigurationError, DatabaseServiceSettings

SERVICE = "analytics"


class AnalyticsSettings(DatabaseServiceSettings):
    """The analytics service's settings (`ANALYTICS_*`). Raises ConfigurationError for a
    minimum group below 5 in production or below 1 anywhere."""

    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", env_file=".env", extra="ignore")

    port: int = 8003

    service_name: ClassVar[str] = SERVICE

    # No number derived from fewer distinct people is shown; production refuses less than 5.
    min_group_size: int = 5
    # Keys the pseudonyms metrics use instead of people (at least 32 characters; required in
    # production).
    pseudonym_key: str | None = None
    # Statement requests (with attachments) above this size are refused with 413.
    max_request_mb: float = 20
    # One statement's JSON (attachments' binary excluded) above this many KB is refused with
    # 413 `statement_too_large`; real xAPI statements are a few KB.
    max_statement_kb: int = Field(default=64, ge=1)
    # A page of `GET /xapi/statements` stops before passing this many KB (the rest follows via
    # its `more` link); it always holds at least one statement.
    max_page_kb: int = Field(default=2048, ge=1)
    # One answer of `GET /v1/my-data` stops before passing this many KB; `more` names the next
    # part (`?after=...`).
    max_export_kb: int = Field(default=16384, ge=1)
    # Failed LRS credential checks allowed per client key and per client address within the
    # window below; past it, 429 with Retry-After until the oldest failure leaves the window.
    lrs_auth_max_failures: int = Field(default=10, ge=1)
    # The sliding window (seconds) over which failed LRS credential checks are counted.
    lrs_auth_window_seconds: float = Field(default=900, gt=0)
    # LRS secret checks (scrypt, 16 MB each) run in worker threads, at most this many at once.
    lrs_auth_concurrency: int = Field(default=2, ge=1)
    # Optional forwarding of every new statement to another LRS (the organisation's central
    # one): its xAPI base URL, and an LRS key/secret (HTTP Basic) or a bearer token.
    forward_url: str | None = None
    forward_key: str | None = None
    forward_secret: str | None = None
    forward_token: str | None = None
    forward_enabled: bool = True  # tests switch the background sender off and drive it by hand
    forward_batch_size: int = 100
    forward_max_attempts: int = 10
    forward_poll_seconds: float = 1.0
    # How often changed months of the metrics are rebuilt in the background (0: only on read).
    metrics_refresh_seconds: float = 5.0

    @model_validator(mode="after")
    def _refuse_small_groups(self) -> AnalyticsSettings:
        if self.platform.is_production and self.min_group_size < 5:
            raise ConfigurationError("ANALYTICS_MIN_GROUP_SIZE may not be below 5 in production")
        if self.min_group_size < 1:
            raise ConfigurationError("ANALYTICS_MIN_GROUP_SIZE must be at least 1")
        return self
