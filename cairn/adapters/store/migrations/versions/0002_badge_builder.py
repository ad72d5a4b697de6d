"""The badge builder: the version of the class each credential was awarded under (so earlier
versions list who holds them). Its preview reads the activity history of revision 0005.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds what is missing (a database made by create_all of these models has it already)."""
    held = sa.inspect(op.get_bind())
    if "badge_class_version" not in {c["name"] for c in held.get_columns("credentials")}:
        with op.batch_alter_table("credentials") as batch:
            batch.add_column(sa.Column("badge_class_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("badge_class_version")
