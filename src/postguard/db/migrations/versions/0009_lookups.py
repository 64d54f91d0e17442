"""private lookups: bucket key and OPRF output on intel indicators; one intelligence store
(partner indicators are imported as reports, the separate shared_indicators table goes)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intel_indicators", sa.Column("lookup_bucket", sa.BigInteger(), nullable=True))
    op.add_column("intel_indicators", sa.Column("lookup_output", sa.LargeBinary(length=16), nullable=True))
    op.create_index(op.f("ix_intel_indicators_lookup_bucket"), "intel_indicators", ["lookup_bucket"], unique=False)
    op.drop_table("shared_indicators")


def downgrade() -> None:
    op.create_table(
        "shared_indicators",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("tlp", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_indicators")),
        sa.UniqueConstraint("type", "value", name="uq_shared_indicators_type_value"),
    )
    with op.batch_alter_table("intel_indicators") as batch:
        batch.drop_index(batch.f("ix_intel_indicators_lookup_bucket"))
        batch.drop_column("lookup_output")
        batch.drop_column("lookup_bucket")
