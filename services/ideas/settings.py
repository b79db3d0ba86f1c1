"""Settings of the ideas service, read from `IDEAS_*` environment variables and `.env`."""

from pydantic_settings import SettingsConfigDict

from kit.settings import DatabaseServiceSettings

SERVICE = "ideas"


class IdeasSettings(DatabaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDEAS_", env_file=".env", extra="ignore")

    port: int = 8001

    @property
    def database(self) -> str:
        return self.resolved_database_url(SERVICE)
