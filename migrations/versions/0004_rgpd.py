"""rgpd : date d'anonymisation des personnes

Revision ID: 0004_rgpd
Revises: 0002
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_rgpd"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("beneficiaires") as batch:
        batch.add_column(
            sa.Column(
                "anonymise_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("beneficiaires") as batch:
        batch.drop_column("anonymise_le")
