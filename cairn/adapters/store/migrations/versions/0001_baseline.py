"""The baseline: the schema as it was when Cairn took up migrations (tables.py at that time).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 20:32:04.309627
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_TIME = sa.DateTime(timezone=True)  # cairn.adapters.store.tables.UtcDateTime stores this

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates what is missing, so a database an older Cairn made (before migrations) is
    brought to this schema too: its tables are kept, and the columns added since are added."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "organisations" not in existing:
        op.create_table(
            "organisations",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("slug", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("url", sa.String(length=500), nullable=True),
            sa.Column("email", sa.String(length=320), nullable=True),
            sa.Column("image_url", sa.String(length=500), nullable=True),
            sa.Column("colour", sa.String(length=7), nullable=False),
            sa.Column("timezone", sa.String(length=64), nullable=False),
            sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", UTC_TIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("slug"),
        )
    if "sign_in_tokens" not in existing:
        op.create_table(
            "sign_in_tokens",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("email", sa.String(length=320), nullable=False),
            sa.Column("expires_at", UTC_TIME, nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
        )
    if "api_keys" not in existing:
        op.create_table(
            "api_keys",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.Column("key_hash", sa.String(length=64), nullable=False),
            sa.Column("scopes", sa.String(length=200), nullable=False),
            sa.Column("created_at", UTC_TIME, nullable=False),
            sa.Column("revoked_at", UTC_TIME, nullable=True),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("key_hash"),
        )
        with op.batch_alter_table("api_keys", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_api_keys_org_id"), ["org_id"], unique=False)
    if "award_questions" not in existing:
        op.create_table(
            "award_questions",
            sa.Column("award_id", sa.String(length=36), nullable=False),
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("badge_class_id", sa.String(length=64), nullable=False),
            sa.Column("recipient_key", sa.String(length=64), nullable=False),
            sa.Column("reason", sa.String(length=500), nullable=False),
            sa.Column("evidence", sa.JSON(), nullable=False),
            sa.Column("questioned_at", UTC_TIME, nullable=False),
            sa.Column("decision", sa.String(length=20), nullable=True),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("award_id"),
        )
        with op.batch_alter_table("award_questions", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_award_questions_org_id"), ["org_id"], unique=False)
    if "badge_classes" not in existing:
        op.create_table(
            "badge_classes",
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("definition", sa.JSON(), nullable=False),
            sa.Column("created_at", UTC_TIME, nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("org_id", "id", "version"),
        )
    if "badge_images" not in existing:
        op.create_table(
            "badge_images",
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("badge_class_id", sa.String(length=64), nullable=False),
            sa.Column("content_type", sa.String(length=50), nullable=False),
            sa.Column("data", sa.LargeBinary(), nullable=False),
            sa.Column("updated_at", UTC_TIME, nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("org_id", "badge_class_id"),
        )
    if "credentials" not in existing:
        op.create_table(
            "credentials",
            sa.Column("id", sa.String(length=100), nullable=False),
            sa.Column("award_id", sa.String(length=36), nullable=False),
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("badge_class_id", sa.String(length=64), nullable=False),
            sa.Column("recipient_key", sa.String(length=64), nullable=False),
            sa.Column("document", sa.JSON(), nullable=False),
            sa.Column("issued_at", UTC_TIME, nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("status_reason", sa.String(length=500), nullable=True),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("award_id", name="uq_credentials_award_id"),
        )
        with op.batch_alter_table("credentials", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_credentials_org_id"), ["org_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_credentials_recipient_key"), ["recipient_key"], unique=False)
    if "issuer_keys" not in existing:
        op.create_table(
            "issuer_keys",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("algorithm", sa.String(length=10), nullable=False),
            sa.Column("public_multibase", sa.String(length=100), nullable=False),
            sa.Column("public_jwk", sa.JSON(), nullable=True),
            sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", UTC_TIME, nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_issuer_keys_org_id"), ["org_id"], unique=False)
    if "progress_views" not in existing:
        op.create_table(
            "progress_views",
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("recipient_key", sa.String(length=64), nullable=False),
            sa.Column("as_of", UTC_TIME, nullable=False),
            sa.Column("badges", sa.JSON(), nullable=False),
            sa.Column("pending_voids", sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("org_id", "recipient_key"),
        )
    if "recipients" not in existing:
        op.create_table(
            "recipients",
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("recipient_key", sa.String(length=64), nullable=False),
            sa.Column("email", sa.String(length=320), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=True),
            sa.Column("salt", sa.String(length=64), nullable=False),
            sa.Column("unsubscribed_at", UTC_TIME, nullable=True),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("org_id", "recipient_key"),
        )
    if "status_entries" not in existing:
        op.create_table(
            "status_entries",
            sa.Column("credential_id", sa.String(length=100), nullable=False),
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("status_index", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("credential_id"),
            sa.UniqueConstraint("org_id", "status_index", name="uq_status_entries_index"),
        )
    if "status_lists" not in existing:
        op.create_table(
            "status_lists",
            sa.Column("org_id", sa.String(length=36), nullable=False),
            sa.Column("purpose", sa.String(length=20), nullable=False),
            sa.Column("bits", sa.LargeBinary(), nullable=False),
            sa.Column("document", sa.JSON(), nullable=False),
            sa.Column("updated_at", UTC_TIME, nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"],
                ["organisations.id"],
            ),
            sa.PrimaryKeyConstraint("org_id", "purpose"),
        )
    if "claim_tokens" not in existing:
        op.create_table(
            "claim_tokens",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("credential_id", sa.String(length=100), nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.Column("expires_at", UTC_TIME, nullable=False),
            sa.Column("claimed_at", UTC_TIME, nullable=True),
            sa.ForeignKeyConstraint(
                ["credential_id"],
                ["credentials.id"],
            ),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        with op.batch_alter_table("claim_tokens", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_claim_tokens_credential_id"), ["credential_id"], unique=False
            )
    if "notifications" not in existing:
        op.create_table(
            "notifications",
            sa.Column("credential_id", sa.String(length=100), nullable=False),
            sa.Column("message_id", sa.String(length=200), nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_error", sa.String(length=500), nullable=True),
            sa.Column("sent_at", UTC_TIME, nullable=True),
            sa.ForeignKeyConstraint(
                ["credential_id"],
                ["credentials.id"],
            ),
            sa.PrimaryKeyConstraint("credential_id"),
        )
    if "wallet_exchanges" not in existing:
        op.create_table(
            "wallet_exchanges",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("credential_id", sa.String(length=100), nullable=False),
            sa.Column("challenge", sa.String(length=64), nullable=False),
            sa.Column("expires_at", UTC_TIME, nullable=False),
            sa.Column("holder", sa.String(length=200), nullable=True),
            sa.ForeignKeyConstraint(
                ["credential_id"],
                ["credentials.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
    _add_missing_columns(existing)


def _add_missing_columns(existing: set[str]) -> None:
    """Columns that databases made before migrations may lack (added in the weeks before),
    with the value rows made then mean: UTC, and no pending voids."""
    inspector = sa.inspect(op.get_bind())
    late = {
        "organisations": sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC"),
        "progress_views": sa.Column("pending_voids", sa.JSON(), nullable=False, server_default="[]"),
    }
    for table, column in late.items():
        if table in existing and column.name not in {c["name"] for c in inspector.get_columns(table)}:
            # a plain ADD COLUMN (no table copy, which SQLite's foreign keys would refuse); the
            # default stays, harmless, as the models set the value on every new row
            op.add_column(table, column)


def downgrade() -> None:
    op.drop_table("wallet_exchanges")
    op.drop_table("notifications")
    with op.batch_alter_table("claim_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_tokens_credential_id"))

    op.drop_table("claim_tokens")
    op.drop_table("status_lists")
    op.drop_table("status_entries")
    op.drop_table("recipients")
    op.drop_table("progress_views")
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuer_keys_org_id"))

    op.drop_table("issuer_keys")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_recipient_key"))
        batch_op.drop_index(batch_op.f("ix_credentials_org_id"))

    op.drop_table("credentials")
    op.drop_table("badge_images")
    op.drop_table("badge_classes")
    with op.batch_alter_table("award_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_questions_org_id"))

    op.drop_table("award_questions")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_org_id"))

    op.drop_table("api_keys")
    op.drop_table("sign_in_tokens")
    op.drop_table("organisations")
