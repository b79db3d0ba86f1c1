"""REST routes of the reflection service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kit.auth import PrincipalDep
from services.reflection.embeddings import Embedder

router = APIRouter(prefix="/v1", tags=["embeddings"])

EmbeddingText = Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[EmbeddingText] = Field(min_length=1, max_length=64)
    kind: Literal["query", "passage"] = Field(
        description="`query` for what someone searches with, `passage` for what is searched."
    )


class EmbeddingResponse(BaseModel):
    model: str
    dimensions: int
    vectors: list[list[float]]


@router.post(
    "/embeddings",
    response_model=EmbeddingResponse,
    summary="Dense vectors of texts, from the platform's embedding model",
)
async def embed(body: EmbeddingRequest, request: Request, _: PrincipalDep) -> EmbeddingResponse:
    embedder: Embedder = request.app.state.embedder
    if body.kind == "query":
        vectors = await embedder.embed_queries(body.texts)
    else:
        vectors = await embedder.embed_passages(body.texts)
    return EmbeddingResponse(
        model=embedder.model, dimensions=embedder.dimensions, vectors=vectors.round(6).tolist()
    )
