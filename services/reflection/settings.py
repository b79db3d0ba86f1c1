"""Settings of the reflection service, read from `REFLECTION_*` environment variables and `.env`."""

from pydantic_settings import SettingsConfigDict

from kit.settings import DatabaseServiceSettings

SERVICE = "reflection"


class ReflectionSettings(DatabaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFLECTION_", env_file=".env", extra="ignore")

    port: int = 8002

    @property
    def database(self) -> str:
        return self.resolved_database_url(SERVICE)
