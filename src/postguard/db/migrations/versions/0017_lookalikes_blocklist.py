"""lookalike-website hits from the scanner; the published blocklist and its version

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 10:00:00

``intel_lookalike_hits``: one row per host the lookalike scanner reported (plain hostnames from
public certificate-transparency logs and zone feeds), tied to the host's domain indicator.
``blocklist_entries``: confirmed domains and links as published; ``blocklist_version``: one row whose
serial goes up with every change of the entries. Indicators confirmed before this step are
published by the server's blocklist reconcile job (or ``postguard blocklist reconcile``); the
downgrade drops the three tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('intel_lookalike_hits',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('indicator_id', BIG_ID, nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=False),
    sa.Column('technique', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('campaign', sa.String(length=200), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('times_seen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'],
                            name=op.f('fk_intel_lookalike_hits_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_lookalike_hits')),
    sa.UniqueConstraint('host', name=op.f('uq_intel_lookalike_hits_host'))
    )
    with op.batch_alter_table('intel_lookalike_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_lookalike_hits_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_lookalike_hits_campaign'), ['campaign'], unique=False)
        batch_op.create_index('ix_intel_lookalike_hits_status', ['status', 'last_seen'], unique=False)

    op.create_table('blocklist_entries',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('indicator_id', BIG_ID, nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'],
                            name=op.f('fk_blocklist_entries_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocklist_entries')),
    sa.UniqueConstraint('indicator_id', name=op.f('uq_blocklist_entries_indicator_id'))
    )
    op.create_table('blocklist_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocklist_version'))
    )


def downgrade() -> None:
    op.drop_table('blocklist_version')
    op.drop_table('blocklist_entries')
    with op.batch_alter_table('intel_lookalike_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_lookalike_hits_status')
        batch_op.drop_index(batch_op.f('ix_intel_lookalike_hits_campaign'))
        batch_op.drop_index(batch_op.f('ix_intel_lookalike_hits_indicator_id'))
    op.drop_table('intel_lookalike_hits')
