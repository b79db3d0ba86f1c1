"""Settings shared by every process, and the base each service extends with its own prefix.

Platform-wide facts (the mode, where `var/` lives, who issues tokens) are read once under the
`WERKVLOER_` prefix; each service adds its own prefix (`<SERVICE>_`) for what only
it needs (port, database URL, upstreams). Both read `.env` as well as the environment.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    """`development` (embedded defaults, development tokens) or `production` (refuses unsafe
    settings)."""

    development = "development"
    production = "production"


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings are unsafe or incomplete; the process must not start."""


class PlatformSettings(BaseSettings):
    """What all four processes must agree on."""

    model_config = SettingsConfigDict(env_prefix="WERKVLOER_", env_file=".env", extra="ignore")

    # `production` refuses development auth and small privacy groups, and turns off GraphiQL,
    # introspection and /docs.
    environment: Environment = Environment.development
    # SQLite files, the embedded index, the development token secret.
    var_dir: Path = PROJECT_ROOT / "var"
    # JSON logs on stdout; drivers stay at WARNING whatever this says.
    log_level: str = "INFO"
    # The address people and LMSs know the platform by; xAPI activity and account IRIs use it.
    public_url: str = "http://localhost:8000"

    # Production: an OIDC provider's tokens (issuer, audience, JWKS address), checked against its
    # keys; asymmetric algorithms only; leeway for clock skew; how long keys are cached.
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_jwks_url: str | None = None
    auth_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    auth_leeway_seconds: int = 30
    auth_jwks_cache_seconds: int = 3600
    # Claim names differ per identity provider (Keycloak nests roles, Entra uses "roles", ...).
    auth_claim_name: str = "name"
    auth_claim_roles: str = "roles"
    auth_claim_teams: str = "teams"

    @property
    def is_production(self) -> bool:
        """Whether the platform runs in production mode."""
        return self.environment is Environment.production

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> PlatformSettings:
        if self.is_production:
            missing = [
                name
                for name in ("auth_issuer", "auth_audience", "auth_jwks_url")
                if not getattr(self, name)
            ]
            if missing:
                names = ", ".join(f"WERKVLOER_{m.upper()}" for m in missing)
                raise ConfigurationError(f"production mode needs {names}")
            if any(
                alg.upper().startswith("HS") or alg.lower() == "none"
                for alg in self.auth_algorithms
            ):
                raise ConfigurationError("production mode accepts only asymmetric token algorithms")
        return self


class ServiceSettings(BaseSettings):
    """Base for one process's settings; subclasses set `env_prefix` and a default port."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    # Request bodies above this size are refused with 413 `payload_too_large`, before they are
    # read (routes with their own limit, such as uploads and xAPI statements, say so).
    max_body_kb: int = Field(default=1024, ge=1)
    # Bodies over 1 MB (xAPI batches, uploads) read at the same time by this process; more wait
    # up to `large_body_wait_seconds` for a turn, then get 503 `busy` with Retry-After. Bounds
    # the memory that many large requests at once can take (each may cost a few times its size).
    max_large_bodies: int = Field(default=4, ge=1)
    large_body_wait_seconds: float = Field(default=10.0, ge=0)
    # This process's own credential for another service's internal endpoints (e.g. an
    # embeddings endpoint): a bearer token with the `service` role, issued by the identity
    # provider to this process. Development: left empty, a development token is minted.
    service_token: str | None = None


def sqlite_url(platform: PlatformSettings, service: str) -> str:
    """The embedded default: one SQLite file per service under `var/`."""
    return f"sqlite+aiosqlite:///{platform.var_dir / f'{service}.db'}"


class DatabaseServiceSettings(ServiceSettings):
    """A service that owns a database: SQLite under `var/` unless a URL is given."""

    database_url: str | None = None
    # The service's name, set by each service's settings class: its SQLite file is
    # `var/<service_name>.db`.
    service_name: ClassVar[str]

    @property
    def database(self) -> str:
        """The SQLAlchemy URL of the service's database: `<PREFIX>_DATABASE_URL` when set, else
        the service's SQLite file under the platform's `var/`."""
        return self.database_url or sqlite_url(self.platform, self.service_name)


class OutboxRelaySettings(DatabaseServiceSettings):
    """A service whose outbox of xAPI statements is relayed to a learning record store (LRS,
    the xAPI standard's name for the receiver of statements). The service names where:
    `relay_url()`."""

    # The outbox relay: on or off (tests drive it by hand), statements per batch, attempts before
    # a message is dead-lettered, idle wait between rounds, and how long a sent batch is leased
    # before it is sent again when its outcome could not be recorded.
    relay_enabled: bool = True
    relay_batch_size: int = 50
    relay_max_attempts: int = 10
    relay_poll_seconds: float = 1.0
    relay_lease_seconds: float = 60.0
    # Production: a client key and secret the receiving LRS issued (HTTP Basic), or a bearer
    # token it accepts. Development: left empty, a development token is minted.
    lrs_key: str | None = None
    lrs_secret: str | None = None
    lrs_token: str | None = None

    def relay_url(self) -> str:
        """The URL the outbox relay POSTs batches of statements to. Raises NotImplementedError:
        each service that relays names its receiver in its own settings."""
        raise NotImplementedError(f"{type(self).__name__} names no relay receiver")
