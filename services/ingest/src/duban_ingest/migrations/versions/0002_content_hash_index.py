"""Look duplicate content up by its fingerprint alone.

Ingest now finds the accepted submissions of a whole batch's fingerprints in one query
(`content_hash IN (…)`), which the `(unit_id, content_hash)` index cannot serve: its leading column is
the unit. The fingerprint covers the unit already (and is a sha256), so an index on it alone is as
selective, and it still serves a lookup by unit and fingerprint.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_submissions_content_hash", "submissions", ["content_hash"])
    op.drop_index("ix_submissions_content", table_name="submissions")


def downgrade() -> None:
    op.create_index("ix_submissions_content", "submissions", ["unit_id", "content_hash"])
    op.drop_index("ix_submissions_content_hash", table_name="submissions")
