"""call_intents.passport: erase PASSporTs that older versions stored in clear text

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:00:00

Before PASSporTs were sealed under the operator's data key, ``call_intents.passport`` held the signed
token itself (a compact JWS: three base64url parts joined by dots), and its payload names the
recipient's full number (``dest.tn``). A migration cannot reach the vault (the keys live outside the
database), so these tokens cannot be sealed here: they are erased (set to ''), which is what shredding
does and what ``recorded_passport`` already answers None for. A sealed value is plain base64 of a vault
ciphertext and never contains a dot, so every value holding a dot is a clear-text token and only
those are erased; sealed values are left untouched. The call intent row itself (origid,
window, digests) stays, so a citizen's call check still matches the call. The erasure cannot be undone:
the downgrade does nothing.
"""

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A compact JWS (header.payload.signature, or with ";info=..." appended) always has a dot; base64
    # of a vault ciphertext never has one (its alphabet is A-Z a-z 0-9 + / =), and neither has ''.
    intents = sa.table('call_intents', sa.column('passport', sa.Text))
    op.get_bind().execute(sa.update(intents).where(intents.c.passport.like('%.%')).values(passport=''))


def downgrade() -> None:
    pass  # the clear-text tokens are gone for good; nothing to restore
