"""data-subject requests and breach incidents

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('dsr_requests',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('subject_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('contact_ct', sa.LargeBinary(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=80), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=80), nullable=True),
    sa.Column('shredded', sa.Text(), nullable=True),
    sa.Column('receipt_index', sa.BigInteger(), nullable=True),
    sa.Column('deferred', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_dsr_requests_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dsr_requests')),
    sa.UniqueConstraint('ref', name=op.f('uq_dsr_requests_ref'))
    )
    with op.batch_alter_table('dsr_requests', schema=None) as batch_op:
        batch_op.create_index('ix_dsr_requests_org_status', ['org_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dsr_requests_subject_digest'), ['subject_digest'], unique=False)

    op.create_table('breach_incidents',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('affected_estimate', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_breach_incidents_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_incidents')),
    sa.UniqueConstraint('ref', name=op.f('uq_breach_incidents_ref'))
    )
    with op.batch_alter_table('breach_incidents', schema=None) as batch_op:
        batch_op.create_index('ix_breach_incidents_org_status', ['org_id', 'status'], unique=False)

    op.create_table('audit_mentions',
    sa.Column('org_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('waybill', sa.String(length=40), nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'waybill', 'idx', name=op.f('pk_audit_mentions'))
    )
    cursor = op.create_table('audit_mention_cursor',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_mention_cursor'))
    )
    op.bulk_insert(cursor, [{'id': 1, 'size': 0}])


def downgrade() -> None:
    op.drop_table('audit_mention_cursor')
    op.drop_table('audit_mentions')
    with op.batch_alter_table('breach_incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_breach_incidents_org_status')
    op.drop_table('breach_incidents')
    with op.batch_alter_table('dsr_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dsr_requests_subject_digest'))
        batch_op.drop_index('ix_dsr_requests_org_status')
    op.drop_table('dsr_requests')
