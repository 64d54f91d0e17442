"""organisations.masked_only: an operator's couriers reach recipients only through masked calling

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('masked_only', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('masked_only')
