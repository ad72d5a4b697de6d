"""Volunteers at scale: the activity history, and what the volunteer list sorts by (the
natural-sort key of each name, each person's latest activity, closeness to a badge).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 00:01:50.714258
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cairn.domain.volunteers import closeness, natural_key
from schemas.awards import BadgeProgress

UTC_TIME = sa.DateTime(timezone=True)  # cairn.adapters.store.tables.UtcDateTime stores this

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds what is missing (as the baseline does), so a schema made by create_all is left as is."""
    inspector = sa.inspect(op.get_bind())
    if "activities" not in inspector.get_table_names():
        op.create_table(
            "activities",
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("recipient_key", sa.String(length=64), nullable=False),
            sa.Column("event_id", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=30), nullable=False),
            sa.Column("at", UTC_TIME, nullable=False),
            sa.Column("seconds", sa.Integer(), nullable=True),
            sa.Column("label", sa.String(length=320), nullable=False),
            sa.Column("voids", sa.String(length=200), nullable=True),
            sa.Column("reason", sa.String(length=500), nullable=True),
            sa.Column("voided_by", sa.String(length=200), nullable=True),
            sa.Column("void_reason", sa.String(length=500), nullable=True),
            sa.Column("data", sa.JSON(), nullable=True),  # the record, for the builder's dry run
            sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
            sa.PrimaryKeyConstraint("org_id", "recipient_key", "event_id"),
        )
        op.create_index("ix_activities_person", "activities", ["org_id", "recipient_key", "at"])
        op.create_index("ix_activities_voids", "activities", ["org_id", "voids"])
    views = {c["name"] for c in inspector.get_columns("progress_views")}
    if "closest" not in views:
        with op.batch_alter_table("progress_views") as batch_op:
            batch_op.add_column(sa.Column("closest", sa.Float(), nullable=False, server_default="0"))
            batch_op.create_index("ix_progress_views_org_closest", ["org_id", "closest"])
    people = {c["name"] for c in inspector.get_columns("recipients")}
    if "sort_name" not in people:
        with op.batch_alter_table("recipients") as batch_op:
            batch_op.add_column(
                sa.Column("sort_name", sa.String(length=200), nullable=False, server_default="")
            )
            batch_op.add_column(sa.Column("last_activity_at", UTC_TIME, nullable=True))
            batch_op.create_index("ix_recipients_org_last_activity", ["org_id", "last_activity_at"])
            batch_op.create_index("ix_recipients_org_sort_name", ["org_id", "sort_name"])
    _backfill()


def _backfill() -> None:
    """Sort keys and closeness for the rows already there (the history starts now)."""
    bind = op.get_bind()
    people = sa.table(
        "recipients", sa.column("org_id"), sa.column("recipient_key"), sa.column("email"),
        sa.column("name"), sa.column("sort_name"),
    )  # fmt: skip
    for org_id, key, email, name in bind.execute(
        sa.select(people.c.org_id, people.c.recipient_key, people.c.email, people.c.name)
    ).all():
        bind.execute(
            people.update()
            .where(people.c.org_id == org_id, people.c.recipient_key == key)
            .values(sort_name=natural_key(name or email))
        )
    views = sa.table(
        "progress_views", sa.column("org_id"), sa.column("recipient_key"), sa.column("badges", sa.JSON),
        sa.column("closest"),
    )  # fmt: skip
    for org_id, key, badges in bind.execute(
        sa.select(views.c.org_id, views.c.recipient_key, views.c.badges)
    ).all():
        near = closeness(BadgeProgress.model_validate(b) for b in badges or [])
        bind.execute(
            views.update().where(views.c.org_id == org_id, views.c.recipient_key == key).values(closest=near)
        )


def downgrade() -> None:
    with op.batch_alter_table("recipients") as batch_op:
        batch_op.drop_index("ix_recipients_org_sort_name")
        batch_op.drop_index("ix_recipients_org_last_activity")
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("sort_name")
    with op.batch_alter_table("progress_views") as batch_op:
        batch_op.drop_index("ix_progress_views_org_closest")
        batch_op.drop_column("closest")
    op.drop_index("ix_activities_voids", table_name="activities")
    op.drop_index("ix_activities_person", table_name="activities")
    op.drop_table("activities")
