"""The badge builder: the activity log its preview dry-runs criteria over, and the version of
the class each credential was awarded under (so earlier versions list who holds them).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_TIME = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds what is missing (a database made by create_all of these models has it already)."""
    held = sa.inspect(op.get_bind())
    if not held.has_table("activity_log"):
        _create_activity_log()
    if "badge_class_version" not in {c["name"] for c in held.get_columns("credentials")}:
        with op.batch_alter_table("credentials") as batch:
            batch.add_column(sa.Column("badge_class_version", sa.Integer(), nullable=True))


def _create_activity_log() -> None:
    op.create_table(
        "activity_log",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("org_id", "recipient_key", "event_id"),
    )


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("badge_class_version")
    op.drop_table("activity_log")
