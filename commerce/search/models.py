"""One search document per searchable object: a video, a creator or a product."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow


class SearchDocument(db.Model):
    """The object's text, pre-segmented (commerce/search/rules.py), and its rank signal.

    The migration adds the matching index beside it: on PostgreSQL a generated tsvector column
    `tsv` ('simple' configuration over `body`) with a GIN index; on SQLite an FTS5 table
    `search_fts` over `body` kept in step by triggers. Results come in `rank` order (then id),
    read from ix_search_documents_rank.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_search_documents_kind_ref"),
        Index("ix_search_documents_rank", "kind", "rank", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # rules.KINDS
    ref_id: Mapped[int]  # videos.id, users.id or products.id
    owner_id: Mapped[int] = mapped_column(index=True)  # whose content: a ban hides it all
    body: Mapped[str] = mapped_column(Text)
    rank: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
