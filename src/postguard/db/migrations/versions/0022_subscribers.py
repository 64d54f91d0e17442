"""subscribers, subscriber_cases and subscriber_case_events: carriers' SIM records and their re-verification

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-21 10:00:00

Three new tables and nothing else: no existing table is touched. A subscriber holds its number, ID
number, name and date of birth as vault ciphertext under a wrapped record key, with truncated blind
indexes for lookups, keyed digests for grouping and the findings decided at import; a case is a SIM
in the re-verification queue, its events the case's history. The downgrade drops the three tables.
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('subscribers',
    sa.Column('id', BigId, nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('iccid', sa.String(length=22), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_activity_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('point_of_sale', sa.String(length=40), nullable=True),
    sa.Column('id_type', sa.String(length=8), nullable=True),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('verified', sa.String(length=8), nullable=False),
    sa.Column('has_guardian', sa.Boolean(), nullable=False),
    sa.Column('calls_out_24h', sa.Integer(), nullable=True),
    sa.Column('distinct_callees_24h', sa.Integer(), nullable=True),
    sa.Column('sms_out_24h', sa.Integer(), nullable=True),
    sa.Column('local_flags', sa.Integer(), nullable=False),
    sa.Column('age_years', sa.Integer(), nullable=True),
    sa.Column('dek', sa.LargeBinary(), nullable=True),
    sa.Column('dek_key_version', sa.Integer(), nullable=True),
    sa.Column('msisdn_ct', sa.LargeBinary(), nullable=True),
    sa.Column('id_number_ct', sa.LargeBinary(), nullable=True),
    sa.Column('full_name_ct', sa.LargeBinary(), nullable=True),
    sa.Column('date_of_birth_ct', sa.LargeBinary(), nullable=True),
    sa.Column('msisdn_bidx', sa.Integer(), nullable=True),
    sa.Column('id_bidx', sa.Integer(), nullable=True),
    sa.Column('id_link', sa.BigInteger(), nullable=True),
    sa.Column('holder_link', sa.BigInteger(), nullable=True),
    sa.Column('dob_link', sa.BigInteger(), nullable=True),
    sa.Column('msisdn_last3', sa.String(length=3), nullable=True),
    sa.Column('name_masked', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_subscribers_org_id_organisations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('org_id', 'iccid', name='uq_subscribers_org_iccid')
    )
    op.create_index('ix_subscribers_msisdn_bidx', 'subscribers', ['org_id', 'msisdn_bidx'], unique=False)
    op.create_index('ix_subscribers_id_bidx', 'subscribers', ['org_id', 'id_bidx'], unique=False)
    op.create_table('subscriber_cases',
    sa.Column('id', BigId, nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('subscriber_id', BigId, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.String(length=400), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('scam', sa.String(length=16), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('suspended_digest', sa.LargeBinary(length=32), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_subscriber_cases_org_id_organisations'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'],
                            name=op.f('fk_subscriber_cases_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_cases')),
    sa.UniqueConstraint('subscriber_id', name=op.f('uq_subscriber_cases_subscriber_id'))
    )
    op.create_index('ix_subscriber_cases_queue', 'subscriber_cases', ['org_id', 'state', 'priority'], unique=False)
    op.create_index(op.f('ix_subscriber_cases_suspended_digest'), 'subscriber_cases', ['suspended_digest'],
                    unique=False)
    op.create_table('subscriber_case_events',
    sa.Column('id', BigId, nullable=False),
    sa.Column('case_id', BigId, nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['subscriber_cases.id'],
                            name=op.f('fk_subscriber_case_events_case_id_subscriber_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_case_events'))
    )
    op.create_index(op.f('ix_subscriber_case_events_case_id'), 'subscriber_case_events', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_table('subscriber_case_events')
    op.drop_table('subscriber_cases')
    op.drop_table('subscribers')
