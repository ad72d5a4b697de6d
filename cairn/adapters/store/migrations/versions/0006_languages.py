"""Languages (issue 13): an organisation's default language and each recipient's own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Existing organisations read English, as every email and page did before; recipients'
    languages are not known until an event or a page gives one. A column already there (a
    database made by this code's create_all) is kept."""
    inspector = sa.inspect(op.get_bind())
    wanted = {
        "organisations": sa.Column("language", sa.String(length=35), nullable=False, server_default="en"),
        "recipients": sa.Column("language", sa.String(length=35), nullable=True),
    }
    for table, column in wanted.items():
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column)


def downgrade() -> None:
    for table in ("recipients", "organisations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("language")
