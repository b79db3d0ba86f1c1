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

    max_upload_mb: float = 20
    # Unset: Qdrant Edge in-process under var/. Set: a Qdrant server or cluster.
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_collection: str = "werkvloer_chunks"
    # Any OpenAI-compatible embeddings endpoint (TEI, vLLM, Ollama, Azure) instead of the
    # bundled model; the index must then be rebuilt, since vectors of two models don't mix.
    embeddings_url: str | None = None
    embeddings_model: str = "multilingual-e5-small"
    embeddings_query_model: str | None = None  # when queries use another model name
    embeddings_api_key: str | None = None
    embeddings_dimensions: int = 384
    chunk_size: int = 1200
    chunk_overlap: int = 150
    embed_batch_size: int = 16
    retired_grace_seconds: float = 60
    ingest_poll_seconds: float = 2.0
    ingest_worker_enabled: bool = True
