"""Settings of the analytics service, read from `ANALYTICS_*` environment variables and `.env`."""

from pydantic_settings import SettingsConfigDict

from kit.settings import DatabaseServiceSettings

SERVICE = "analytics"


class AnalyticsSettings(DatabaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", env_file=".env", extra="ignore")

    port: int = 8003

    @property
    def database(self) -> str:
        return self.resolved_database_url(SERVICE)
