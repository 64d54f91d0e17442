"""policy_versions and policy_acknowledgements: staff confidentiality duties

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-21 10:00:00

Two new tables and nothing else: no existing table is touched, so the step can be renumbered after
any other without change (only ``revision`` and ``down_revision`` name its place). A policy version is
an operator's confidentiality policy text with when it takes effect, how long an acknowledgement lasts
and whether training is required; an acknowledgement records one member of staff's acknowledgement
and training for one version. The downgrade drops both tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('policy_versions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('training_required', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_policy_versions_org_id_organisations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions')),
    sa.UniqueConstraint('org_id', 'version', name='uq_policy_versions_org_version')
    )
    op.create_index('ix_policy_versions_org_effective', 'policy_versions', ['org_id', 'effective_at'], unique=False)
    op.create_table('policy_acknowledgements',
    sa.Column('id', BigId, nullable=False),
    sa.Column('policy_id', BigId, nullable=False),
    sa.Column('staff_id', BigId, nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('how', sa.String(length=16), nullable=True),
    sa.Column('body_sha256', sa.String(length=64), nullable=True),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('training', sa.String(length=200), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policy_versions.id'],
                            name=op.f('fk_policy_acknowledgements_policy_id_policy_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_policy_acknowledgements_staff_id_staff'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_acknowledgements')),
    sa.UniqueConstraint('policy_id', 'staff_id', name='uq_policy_acknowledgements_policy_staff')
    )
    op.create_index(op.f('ix_policy_acknowledgements_staff_id'), 'policy_acknowledgements', ['staff_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_policy_acknowledgements_staff_id'), table_name='policy_acknowledgements')
    op.drop_table('policy_acknowledgements')
    op.drop_index('ix_policy_versions_org_effective', table_name='policy_versions')
    op.drop_table('policy_versions')
