"""operators' message templates and the keyed digests of the notifications they sent

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-15 10:00:00

``sender_templates``: the wording of an operator's notifications (public text with placeholders),
pending until an administrator verifies it; one wording per organisation (its normalised
fingerprint). ``sender_notifications``: one keyed digest per notification an operator sent (of the
operator, the template, the recipient's number and the filled message; no text, number or waybill),
unique, with when it was sent. The downgrade drops both tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('sender_templates',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_by', sa.String(length=80), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_sender_templates_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sender_templates')),
    sa.UniqueConstraint('org_id', 'fingerprint', name='uq_sender_templates_org_fingerprint')
    )
    op.create_index('ix_sender_templates_status', 'sender_templates', ['status'], unique=False)
    op.create_index(op.f('ix_sender_templates_org_id'), 'sender_templates', ['org_id'], unique=False)
    op.create_table('sender_notifications',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('template_id', BIG_ID, nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_sender_notifications_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['sender_templates.id'], name=op.f('fk_sender_notifications_template_id_sender_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sender_notifications')),
    sa.UniqueConstraint('digest', name=op.f('uq_sender_notifications_digest'))
    )
    op.create_index(op.f('ix_sender_notifications_org_id'), 'sender_notifications', ['org_id'], unique=False)
    op.create_index(op.f('ix_sender_notifications_template_id'), 'sender_notifications', ['template_id'], unique=False)


def downgrade() -> None:
    op.drop_table('sender_notifications')
    op.drop_table('sender_templates')
