"""Languages (issue 13): an organisation's default language and each recipient's own.

Revision ID: 0006
Revises: 0001
Create Date: 2026-12-01 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Existing organisations read English, as every email and page did before; recipients'
    languages are not known until an event or a page gives one."""
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("language", sa.String(length=35), nullable=False, server_default="en"))
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("language")
