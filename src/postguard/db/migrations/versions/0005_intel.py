"""scam intelligence: indicators, official channels, reports, appeals

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intel_indicators',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('display', sa.String(length=300), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('value_ct', sa.LargeBinary(), nullable=True),
    sa.Column('domain', sa.String(length=253), nullable=True),
    sa.Column('qualifier', sa.String(length=32), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('graded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_source', sa.String(length=16), nullable=True),
    sa.Column('decision_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('review_reason', sa.String(length=40), nullable=True),
    sa.Column('lookups', sa.BigInteger(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_report_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_indicators')),
    sa.UniqueConstraint('digest', name=op.f('uq_intel_indicators_digest'))
    )
    with op.batch_alter_table('intel_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_indicators_domain'), ['domain'], unique=False)
        batch_op.create_index('ix_intel_indicators_review', ['needs_review', 'verdict'], unique=False)

    op.create_table('intel_reporters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('upheld', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_reporters')),
    sa.UniqueConstraint('key', name=op.f('uq_intel_reporters_key'))
    )
    op.create_table('intel_appeals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('statement_ct', sa.LargeBinary(), nullable=True),
    sa.Column('contact_ct', sa.LargeBinary(), nullable=True),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'], name=op.f('fk_intel_appeals_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_intel_appeals_org_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_appeals')),
    sa.UniqueConstraint('public_id', name=op.f('uq_intel_appeals_public_id'))
    )
    with op.batch_alter_table('intel_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_appeals_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('intel_official_channels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered_by', sa.String(length=80), nullable=False),
    sa.Column('verified_by', sa.String(length=80), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'], name=op.f('fk_intel_official_channels_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_intel_official_channels_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_official_channels')),
    sa.UniqueConstraint('indicator_id', name=op.f('uq_intel_official_channels_indicator_id'))
    )
    with op.batch_alter_table('intel_official_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_official_channels_org_id'), ['org_id'], unique=False)

    op.create_table('intel_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.Column('reporter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reporter_kind', sa.String(length=16), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('amount_lost_vnd', sa.BigInteger(), nullable=True),
    sa.Column('occurred_on', sa.String(length=10), nullable=True),
    sa.Column('description_ct', sa.LargeBinary(), nullable=True),
    sa.Column('contact_ct', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('fingerprint', sa.LargeBinary(length=32), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['intel_reports.id'], name=op.f('fk_intel_reports_merged_into_id_intel_reports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_intel_reports_org_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_id'], ['intel_reporters.id'], name=op.f('fk_intel_reports_reporter_id_intel_reporters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_reports')),
    sa.UniqueConstraint('public_id', name=op.f('uq_intel_reports_public_id'))
    )
    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.create_index('ix_intel_reports_fingerprint', ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_intel_reports_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('intel_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('appeal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_verdict', sa.String(length=16), nullable=True),
    sa.Column('to_verdict', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['intel_appeals.id'], name=op.f('fk_intel_decisions_appeal_id_intel_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'], name=op.f('fk_intel_decisions_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['intel_reports.id'], name=op.f('fk_intel_decisions_report_id_intel_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_decisions'))
    )
    with op.batch_alter_table('intel_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_decisions_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('intel_evidence',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['intel_reports.id'], name=op.f('fk_intel_evidence_report_id_intel_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intel_evidence'))
    )
    with op.batch_alter_table('intel_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_evidence_report_id'), ['report_id'], unique=False)

    op.create_table('intel_report_indicators',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['intel_indicators.id'], name=op.f('fk_intel_report_indicators_indicator_id_intel_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['intel_reports.id'], name=op.f('fk_intel_report_indicators_report_id_intel_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'indicator_id', name=op.f('pk_intel_report_indicators'))
    )
    with op.batch_alter_table('intel_report_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intel_report_indicators_indicator_id'), ['indicator_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('intel_report_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_report_indicators_indicator_id'))

    op.drop_table('intel_report_indicators')
    with op.batch_alter_table('intel_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_evidence_report_id'))

    op.drop_table('intel_evidence')
    with op.batch_alter_table('intel_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_decisions_indicator_id'))

    op.drop_table('intel_decisions')
    with op.batch_alter_table('intel_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_reports_reporter_id'))
        batch_op.drop_index('ix_intel_reports_fingerprint')

    op.drop_table('intel_reports')
    with op.batch_alter_table('intel_official_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_official_channels_org_id'))

    op.drop_table('intel_official_channels')
    with op.batch_alter_table('intel_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intel_appeals_indicator_id'))

    op.drop_table('intel_appeals')
    op.drop_table('intel_reporters')
    with op.batch_alter_table('intel_indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_indicators_review')
        batch_op.drop_index(batch_op.f('ix_intel_indicators_domain'))

    op.drop_table('intel_indicators')
