"""What `link` has to look at is ``documents.linked_at IS NULL``, one index lookup.

Until now a document re-extracted after its last link was found by ``linked_at < extracted_at``,
a comparison of two columns that no index serves: every `link` read the whole ``documents``
table (full texts included), a cost that grows with the corpus instead of with the night.
An extraction now clears ``linked_at`` itself; this revision clears it on the documents that
were waiting under the old rule.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE documents SET linked_at = NULL "
               "WHERE linked_at IS NOT NULL AND extracted_at IS NOT NULL AND linked_at < extracted_at")


def downgrade() -> None:
    pass  # the old rule finds the same documents (NULL is pending under both)
