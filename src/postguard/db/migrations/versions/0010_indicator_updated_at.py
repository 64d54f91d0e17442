"""index intel_indicators.updated_at: every worker reads its maximum each second to learn that
verdicts changed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 20:00:00
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_intel_indicators_updated_at"), "intel_indicators", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_intel_indicators_updated_at"), table_name="intel_indicators")
