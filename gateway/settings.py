"""Gateway settings, read from `GATEWAY_*` environment variables and `.env`."""

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
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

    def upstream_urls(self) -> dict[str, str]:
        return {
            "ideas": self.ideas_url,
            "reflection": self.reflection_url,
            "analytics": self.analytics_url,
        }
