"""le jeton d'envoi du formulaire de demande : le même formulaire envoyé deux
fois (double appui, réseau lent, deux onglets) n'enregistre qu'une demande ;
la demande dont parle un message (effacé avec la personne, RGPD) ; la raison
d'un refus de modification de fiche, pour la structure

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "jeton_envoi",
                sqlmodel.sql.sqltypes.AutoString(length=43),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_prescriptions_jeton_envoi"), ["jeton_envoi"], unique=True
        )
    with op.batch_alter_table("fiches_revisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "motif_refus",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prescription_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notifications_prescription_id"),
            ["prescription_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("fiches_revisions", schema=None) as batch_op:
        batch_op.drop_column("motif_refus")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_prescription_id"))
        batch_op.drop_column("prescription_id")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescriptions_jeton_envoi"))
        batch_op.drop_column("jeton_envoi")
