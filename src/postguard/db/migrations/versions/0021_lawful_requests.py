"""lawful_requests: authorities' requests for personal data, their approvals and disclosures

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-21 11:00:00

One new table and nothing else: no existing table is touched, so the step can be renumbered after any
other without change (only ``revision`` and ``down_revision`` name its place). The downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('lawful_requests',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('authority_kind', sa.String(length=16), nullable=False),
    sa.Column('authority_name', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.String(length=500), nullable=False),
    sa.Column('case_number', sa.String(length=100), nullable=False),
    sa.Column('scope_waybills', sa.Text(), nullable=False),
    sa.Column('scope_phones_ct', sa.LargeBinary(), nullable=True),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dpo_approved_by', sa.String(length=80), nullable=True),
    sa.Column('dpo_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('admin_approved_by', sa.String(length=80), nullable=True),
    sa.Column('admin_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disclosed_by', sa.String(length=80), nullable=True),
    sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disclosed_count', sa.Integer(), nullable=True),
    sa.Column('disclosure_index', sa.BigInteger(), nullable=True),
    sa.Column('refused_reason', sa.Text(), nullable=True),
    sa.Column('notice', sa.String(length=16), nullable=True),
    sa.Column('notice_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notice_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_lawful_requests_org_id_organisations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lawful_requests')),
    sa.UniqueConstraint('ref', name=op.f('uq_lawful_requests_ref'))
    )
    op.create_index('ix_lawful_requests_org_received', 'lawful_requests', ['org_id', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lawful_requests_org_received', table_name='lawful_requests')
    op.drop_table('lawful_requests')
