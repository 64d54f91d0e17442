"""otp_challenges.challenge_digest: a code is checked only with the handle returned to whoever asked for it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00

Each challenge now keeps the SHA-256 of a random handle that only the requester received; checking a
code needs that handle, so a stranger's wrong guesses no longer spend the attempts of the owner's code.
Challenges sent before this step have no handle anyone knows: each gets the digest of fresh random
bytes (unique, matching no handle), so it can no longer be answered; it expires within five minutes
and the retention run deletes it. Its row is kept, so the step loses nothing. The downgrade drops the
column.
"""

import os

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('otp_challenges') as batch:
        batch.add_column(sa.Column('challenge_digest', sa.LargeBinary(length=32), nullable=True))
    bind = op.get_bind()
    challenges = sa.table('otp_challenges', sa.column('id', sa.Integer),
                          sa.column('challenge_digest', sa.LargeBinary(32)))
    for (row_id,) in bind.execute(sa.select(challenges.c.id)).all():
        bind.execute(sa.update(challenges).where(challenges.c.id == row_id).values(challenge_digest=os.urandom(32)))
    with op.batch_alter_table('otp_challenges') as batch:
        batch.alter_column('challenge_digest', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch.create_index(batch.f('ix_otp_challenges_challenge_digest'), ['challenge_digest'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('otp_challenges') as batch:
        batch.drop_index(batch.f('ix_otp_challenges_challenge_digest'))
        batch.drop_column('challenge_digest')
