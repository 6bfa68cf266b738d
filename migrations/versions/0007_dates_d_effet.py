"""date d'effet des transitions (entrée, sortie, début)

Revision ID: 0007
Revises: 0006_fiches_revisions
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006_fiches_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prescriptions_transitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effet_le", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prescriptions_transitions", schema=None) as batch_op:
        batch_op.drop_column("effet_le")
