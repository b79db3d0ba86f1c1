"""Settings of the reflection service, read from `REFLECTION_*` environment variables and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ConfigurationError, OutboxRelaySettings

SERVICE = "reflection"


class ReflectionSettings(OutboxRelaySettings):
    """The reflection service's settings (`REFLECTION_*`); docs/configuration.md lists them."""

    model_config = SettingsConfigDict(env_prefix="REFLECTION_", env_file=".env", extra="ignore")

    port: int = 8002

    service_name: ClassVar[str] = SERVICE

    # Uploads above this size are refused with 413.
    max_upload_mb: float = 20
    # Unset: Qdrant Edge in-process under var/. Set: a Qdrant server or cluster.
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_collection: str = "werkvloer_chunks"
    # For a new collection on a Qdrant cluster: shards, and copies of each shard.
    qdrant_shards: int = 1
    qdrant_replicas: int = 1
    # Any OpenAI-compatible embeddings endpoint (TEI, vLLM, Ollama, Azure) instead of the
    # bundled model; the index must then be rebuilt, since vectors of two models don't mix.
    embeddings_url: str | None = None
    embeddings_model: str = "multilingual-e5-small"
    embeddings_query_model: str | None = None  # when queries use another model name
    embeddings_api_key: str | None = None
    embeddings_dimensions: int = 384
    # `/v1/embeddings` is internal (the `service` role only; docs/authentication.md) and
    # capped: texts per request, characters per text, characters per request. Above a cap: 413.
    # The bundled model embeds about 4,500 characters a second on two cores.
    embeddings_max_texts: int = 32
    embeddings_max_chars: int = 2000
    embeddings_max_total_chars: int = 32000
    chunk_size: int = 1200
    chunk_overlap: int = 150
    embed_batch_size: int = 16
    retired_grace_seconds: float = 60
    ingest_poll_seconds: float = 2.0
    ingest_worker_enabled: bool = True
    # A job running longer than this is taken to be orphaned (its process died) and re-queued.
    ingest_stale_minutes: float = 30

    # Guided reflection. `guided` is the built-in offline engine; `llm` uses a LangChain chat
    # model and falls back to `guided` (with a notice) when the provider fails or is too slow.
    guide_engine: str = "guided"
    llm_model: str = "gpt-4o-mini"
    llm_provider: str = "openai"  # any init_chat_model provider: openai, azure_openai, ollama
    llm_base_url: str | None = None  # an OpenAI-compatible server (vLLM, Ollama, LiteLLM ...)
    llm_api_key: str | None = None
    llm_timeout_seconds: float = 30.0
    # Extra reflection models (YAML files) an organisation adds next to the built-in ones.
    reflection_models_dir: Path | None = None
    # Below this dense similarity nothing retrieved is relevant: the question is a knowledge
    # gap (calibrated on the demo documents, docs/reflection.md).
    gap_threshold: float = 0.83
    # Knowledge gaps are listed only when at least this many different people met them.
    min_group_size: int = 5
    # Idea drafts made from a reflection's action go to the ideas service.
    ideas_url: str = "http://127.0.0.1:8001"

    # Where the analytics service (the LRS) answers; the outbox relay sends it statements. An
    # admin makes the LRS client key and secret there; development tokens carry `lrs-client`.
    analytics_url: str = "http://127.0.0.1:8003"

    def relay_url(self) -> str:
        """The analytics LRS's statements resource: where the outbox relay sends statements."""
        return f"{self.analytics_url.rstrip('/')}/xapi/statements"

    @model_validator(mode="after")
    def _refuse_small_groups(self) -> ReflectionSettings:
        if self.platform.is_production and self.min_group_size < 5:
            raise ConfigurationError("REFLECTION_MIN_GROUP_SIZE may not be below 5 in production")
        if self.guide_engine not in ("guided", "llm"):
            raise ConfigurationError("REFLECTION_GUIDE_ENGINE is `guided` or `llm`")
        return self

    # Keys the pseudonyms that count distinct people per knowledge gap. At least 32 characters;
    # production refuses to start without it.
    pseudonym_key: str | None = None
