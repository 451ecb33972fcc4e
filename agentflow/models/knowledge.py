"""Knowledge bases for retrieval (spec §3.2, with ARCHITECTURE.md's fix).

`document_chunks.embedding` is an untyped `vector`: each knowledge base records its embedding
dimension, each chunk repeats it in `dims`, and the migration builds one partial HNSW expression
index per supported dimension, so local and non-OpenAI embedding models work too.
"""

from __future__ import annotations

import uuid
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agentflow.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin

# Dimensions that get an HNSW index; pgvector's HNSW on `vector` allows at most 2,000.
INDEXED_EMBEDDING_DIMENSIONS = (384, 768, 1024, 1536)


class KnowledgeBase(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "knowledge_bases"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    embedding_model: Mapped[str] = mapped_column(String(100), server_default="text-embedding-3-small")
    embedding_dimensions: Mapped[int] = mapped_column(Integer, server_default="1536")
    chunk_size: Mapped[int] = mapped_column(Integer, server_default="1000")
    chunk_overlap: Mapped[int] = mapped_column(Integer, server_default="200")
    status: Mapped[str] = mapped_column(String(50), server_default="active")


class Document(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "documents"

    knowledge_base_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    source_type: Mapped[str | None] = mapped_column(String(50))
    source_url: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(Text)
    file_type: Mapped[str | None] = mapped_column(String(50))
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(50), server_default="processing")
    chunk_count: Mapped[int] = mapped_column(Integer, server_default="0")


class DocumentChunk(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "document_chunks"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    knowledge_base_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    content: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=text("'{}'::jsonb"))
    embedding: Mapped[Any] = mapped_column(Vector(), nullable=True)
    dims: Mapped[int | None] = mapped_column(Integer)
    chunk_index: Mapped[int | None] = mapped_column(Integer)
