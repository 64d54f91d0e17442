"""takedown_requests and takedown_events: takedown requests for confirmed scam sites and their history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00

Two new tables and nothing else: no existing table is touched, so the step can be renumbered after
any other without change (only ``revision`` and ``down_revision`` name its place). The downgrade
drops both tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('takedown_requests',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ref', sa.String(length=24), nullable=False),
    sa.Column('indicator_id', BigId, nullable=False),
    sa.Column('site', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('recipient_kind', sa.String(length=16), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_url', sa.String(length=500), nullable=True),
    sa.Column('contact_source', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('selection', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('pack_sha256', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.String(length=250), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'],
                            name=op.f('fk_takedown_requests_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takedown_requests')),
    sa.UniqueConstraint('indicator_id', 'recipient_kind', name='uq_takedown_requests_indicator_kind'),
    sa.UniqueConstraint('ref', name=op.f('uq_takedown_requests_ref'))
    )
    with op.batch_alter_table('takedown_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takedown_requests_host'), ['host'], unique=False)
        batch_op.create_index(batch_op.f('ix_takedown_requests_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index('ix_takedown_requests_status_sent', ['status', 'sent_at'], unique=False)

    op.create_table('takedown_events',
    sa.Column('id', BigId, nullable=False),
    sa.Column('request_id', BigId, nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['takedown_requests.id'],
                            name=op.f('fk_takedown_events_request_id_takedown_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takedown_events'))
    )
    with op.batch_alter_table('takedown_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takedown_events_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('takedown_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takedown_events_request_id'))
    op.drop_table('takedown_events')
    with op.batch_alter_table('takedown_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_takedown_requests_status_sent')
        batch_op.drop_index(batch_op.f('ix_takedown_requests_indicator_id'))
        batch_op.drop_index(batch_op.f('ix_takedown_requests_host'))
    op.drop_table('takedown_requests')
