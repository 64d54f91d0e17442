"""message_feedback_cases and message_feedback_submissions: messages people said the check judged wrongly

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-20 10:00:00

Two new tables and nothing else: no existing table is touched, so the step can be renumbered after
any other without change (only ``revision`` and ``down_revision`` name its place). A case holds one
message as vault ciphertext with a keyed digest of it (unique); each submission what the person said,
what the check answered and an optional sealed comment. The downgrade drops both tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('message_feedback_cases',
    sa.Column('id', BigId, nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('system_label', sa.String(length=16), nullable=False),
    sa.Column('system_score', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=True),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('final_label', sa.String(length=16), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.String(length=80), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_feedback_cases')),
    sa.UniqueConstraint('digest', name=op.f('uq_message_feedback_cases_digest')),
    sa.UniqueConstraint('public_id', name=op.f('uq_message_feedback_cases_public_id'))
    )
    op.create_index('ix_message_feedback_cases_status_last', 'message_feedback_cases',
                    ['status', 'last_submitted_at'], unique=False)
    op.create_index('ix_message_feedback_cases_last_submitted_at', 'message_feedback_cases',
                    ['last_submitted_at'], unique=False)
    op.create_table('message_feedback_submissions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('case_id', BigId, nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('expected', sa.String(length=16), nullable=False),
    sa.Column('system_label', sa.String(length=16), nullable=False),
    sa.Column('system_score', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=True),
    sa.Column('comment_ct', sa.LargeBinary(), nullable=True),
    sa.Column('submitted_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['message_feedback_cases.id'],
                            name=op.f('fk_message_feedback_submissions_case_id_message_feedback_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_feedback_submissions'))
    )
    op.create_index(op.f('ix_message_feedback_submissions_case_id'), 'message_feedback_submissions', ['case_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_table('message_feedback_submissions')
    op.drop_table('message_feedback_cases')
