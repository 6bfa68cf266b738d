"""le message de la structure à la personne, gardé à part de la raison de
chaque étape (la page de suivi de la personne le montre)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prescriptions_transitions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "message",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("prescriptions_transitions", schema=None) as batch_op:
        batch_op.drop_column("message")
