"""courier call identification

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scam_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('asked', sa.String(length=80), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=True),
    sa.Column('claimed_operator', sa.String(length=32), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('verdict', sa.String(length=24), nullable=False),
    sa.Column('client_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scam_reports'))
    )
    with op.batch_alter_table('scam_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scam_reports_number'), ['number'], unique=False)

    op.create_table('call_certificates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('certificate_pem', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_call_certificates_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_certificates')),
    sa.UniqueConstraint('org_id', 'version', name='uq_call_certificates_org_version')
    )
    op.create_table('proxy_numbers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_proxy_numbers_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_numbers')),
    sa.UniqueConstraint('number', name=op.f('uq_proxy_numbers_number'))
    )
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_numbers_org_id'), ['org_id'], unique=False)

    op.create_table('courier_phones',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('phone_ct', sa.LargeBinary(), nullable=False),
    sa.Column('phone_last3', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_courier_phones_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_courier_phones_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courier_phones')),
    sa.UniqueConstraint('staff_id', 'phone_digest', name='uq_courier_phones_staff_digest')
    )
    with op.batch_alter_table('courier_phones', schema=None) as batch_op:
        batch_op.create_index('ix_courier_phones_digest', ['phone_digest', 'status'], unique=False)

    op.create_table('masked_calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proxy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('courier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assignment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('courier_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('recipient_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('courier_phone_ct', sa.LargeBinary(), nullable=False),
    sa.Column('recipient_phone_ct', sa.LargeBinary(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_masked_calls_assignment_id_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['courier_id'], ['staff.id'], name=op.f('fk_masked_calls_courier_id_staff'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_masked_calls_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proxy_id'], ['proxy_numbers.id'], name=op.f('fk_masked_calls_proxy_id_proxy_numbers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_masked_calls_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_masked_calls'))
    )
    with op.batch_alter_table('masked_calls', schema=None) as batch_op:
        batch_op.create_index('ix_masked_calls_proxy_live', ['proxy_id', 'ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_masked_calls_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('call_intents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('origid', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('courier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('masked_call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recipient_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('passport', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['courier_id'], ['staff.id'], name=op.f('fk_call_intents_courier_id_staff'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['masked_call_id'], ['masked_calls.id'], name=op.f('fk_call_intents_masked_call_id_masked_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_call_intents_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_call_intents_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_intents')),
    sa.UniqueConstraint('origid', name=op.f('uq_call_intents_origid'))
    )
    with op.batch_alter_table('call_intents', schema=None) as batch_op:
        batch_op.create_index('ix_call_intents_shipment', ['shipment_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_intents', schema=None) as batch_op:
        batch_op.drop_index('ix_call_intents_shipment')

    op.drop_table('call_intents')
    with op.batch_alter_table('masked_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_masked_calls_shipment_id'))
        batch_op.drop_index('ix_masked_calls_proxy_live')

    op.drop_table('masked_calls')
    with op.batch_alter_table('courier_phones', schema=None) as batch_op:
        batch_op.drop_index('ix_courier_phones_digest')

    op.drop_table('courier_phones')
    with op.batch_alter_table('proxy_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_numbers_org_id'))

    op.drop_table('proxy_numbers')
    op.drop_table('call_certificates')
    with op.batch_alter_table('scam_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scam_reports_number'))

    op.drop_table('scam_reports')
