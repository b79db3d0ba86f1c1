"""Gateway settings, read from `GATEWAY_*` environment variables and `.env`."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """The gateway's settings from `GATEWAY_*` variables: service URLs, time limits (seconds),
    retries, breaker, per-caller slots and the request limits of docs/graphql.md."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    port: int = 8000
    ideas_url: str = "http://127.0.0.1:8001"
    reflection_url: str = "http://127.0.0.1:8002"
    analytics_url: str = "http://127.0.0.1:8003"
    # One slow service must not hold a whole GraphQL operation hostage.
    upstream_timeout_seconds: float = 5.0
    # Reflection steps may wait for a language model (REFLECTION_LLM_TIMEOUT_SECONDS, then the
    # built-in guide answers): give them longer than ordinary reads.
    guide_timeout_seconds: float = 45.0
    health_timeout_seconds: float = 2.0
    # Reads (GET) are retried this often when a service does not answer; writes never are.
    read_retries: int = 1
    # Circuit breaker: after this many failures that show the service is sick (cannot connect,
    # 502/503/504 each; time-outs and other 5xx once per caller) a service is not called for
    # a while, then one trial call decides (docs/graphql.md).
    breaker_failures: int = 5
    breaker_open_seconds: float = 10.0
    # Calls to the services one caller may have in flight at once; more wait their turn.
    upstream_calls_per_caller: int = 8

    # How often an `ideaChanged` subscription asks the ideas service for news.
    subscription_poll_seconds: float = 2.0

    # What one request may ask for (docs/graphql.md); refused before any service is called.
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_cost: int = 5000
    max_body_kb: int = 64
    # xAPI requests passed on to the learning record store (statements with attachments) above
    # this size are refused with 413; keep it equal to ANALYTICS_MAX_REQUEST_MB.
    max_xapi_body_mb: float = 20
    # Per caller (verified token subject, else address) and per gateway replica.
    rate_limit_per_minute: int = 600
    # How long a token's verification is remembered (by its hash) for the rate limit.
    auth_cache_seconds: float = 60.0
    # Browser origins (intranet pages) allowed to call the API; empty: none.
    cors_origins: list[str] = Field(default_factory=list)
    # Trusted documents: a JSON file {"<sha256 of the query>": "<query>"}; when set, only those
    # operations run, named by `extensions.persistedQuery.sha256Hash` or `documentId`.
    trusted_documents: Path | None = None

    def upstream_urls(self) -> dict[str, str]:
        """The base URL of each service by name: ideas, reflection, analytics."""
        return {
            "ideas": self.ideas_url,
            "reflection": self.reflection_url,
            "analytics": self.analytics_url,
        }
