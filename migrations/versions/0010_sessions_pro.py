"""sessions des professionnels gardées en base (déconnexion et expiration réelles) ;
dernière version valide de chaque fiche (un fichier cassé ne la retire pas)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions_pro",
        sa.Column(
            "empreinte", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("utilisateur_id", sa.Integer(), nullable=False),
        sa.Column("cree_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expire_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["utilisateur_id"], ["utilisateurs.id"]),
        sa.PrimaryKeyConstraint("empreinte"),
    )
    with op.batch_alter_table("sessions_pro", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_pro_utilisateur_id"), ["utilisateur_id"]
        )
        batch_op.create_index(batch_op.f("ix_sessions_pro_expire_le"), ["expire_le"])
    op.create_table(
        "fiches_dernieres_versions",
        sa.Column(
            "fiche_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False
        ),
        sa.Column(
            "fichier", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False
        ),
        sa.Column(
            "empreinte", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("contenu", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("lue_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fiche_id"),
    )


def downgrade() -> None:
    op.drop_table("fiches_dernieres_versions")
    op.drop_table("sessions_pro")
