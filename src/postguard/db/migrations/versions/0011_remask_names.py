"""mask again the stored masked names: masks made before names were checked kept digits (a phone
number typed after the name) and whole names written without spaces

No schema change. Each stored mask is replaced by ``mask_name`` of itself, which keeps a sound mask
as it is and narrows any other to initials and at most one short given name, without digits or
invisible characters (the plaintext stays sealed; it is not needed).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    from postguard.vault.masking import mask_name

    bind = op.get_bind()
    t = sa.table("shipments", sa.column("id", sa.BigInteger), sa.column("sender_name_masked", sa.String),
                 sa.column("recipient_name_masked", sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(t.c.id, t.c.sender_name_masked, t.c.recipient_name_masked)
                            .where(t.c.id > last).order_by(t.c.id).limit(_BATCH)).all()
        if not rows:
            break
        last = rows[-1].id
        changed = []
        for row in rows:
            sender = None if row.sender_name_masked is None else mask_name(row.sender_name_masked)
            recipient = None if row.recipient_name_masked is None else mask_name(row.recipient_name_masked)
            if (sender, recipient) != (row.sender_name_masked, row.recipient_name_masked):
                changed.append({"b_id": row.id, "s": sender, "r": recipient})
        if changed:
            bind.execute(t.update().where(t.c.id == sa.bindparam("b_id"))
                         .values(sender_name_masked=sa.bindparam("s"), recipient_name_masked=sa.bindparam("r")),
                         changed)


def downgrade() -> None:
    pass  # the masks revealed too much; they are not restored
