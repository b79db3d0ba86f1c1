"""Sections → chunks small enough to embed and precise enough to cite.

langchain-text-splitters cuts each section at paragraph, line and sentence boundaries; every
chunk keeps the section's heading path and its character offsets in the document text, and
gets an id that is stable for (version, ordinal), so re-running an ingestion overwrites rather
than duplicates.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

CHUNK_NAMESPACE = uuid.UUID("6f1c1d0e-9a51-4f0b-8d5e-5b7a0c2f9e10")


@dataclass(frozen=True)
class Chunk:
    """A piece of a section: its stable id and ordinal, heading path, text and character
    offsets (`start`, `end`) in the document's text."""

    id: str
    ordinal: int
    section: list[str]
    text: str
    start: int
    end: int

    @property
    def text_hash(self) -> str:
        """SHA-256 of the chunk's text, hex."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def embedding_text(self) -> str:
        """What the model sees: the heading path gives a chunk its context."""
        heading = " > ".join(self.section)
        return f"{heading}\n{self.text}" if heading else self.text


def chunk_sections(
    version_id: uuid.UUID, sections: list[dict[str, Any]], size: int, overlap: int
) -> list[Chunk]:
    """The sections cut into chunks of at most `size` characters overlapping by `overlap`, at
    paragraph, line and sentence boundaries; ids are uuid5 of (version, ordinal), so a re-run
    of the same version overwrites its chunks."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        add_start_index=True,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
    )
    chunks: list[Chunk] = []
    for section in sections:
        for piece in splitter.create_documents([section["text"]]):
            text = piece.page_content.strip()
            if not text:
                continue
            start = section["offset"] + int(piece.metadata.get("start_index", 0))
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    id=str(uuid.uuid5(CHUNK_NAMESPACE, f"{version_id}:{ordinal}")),
                    ordinal=ordinal,
                    section=list(section["path"]),
                    text=text,
                    start=start,
                    end=start + len(piece.page_content),
                )
            )
    return chunks
