"""fiches_revisions (changes proposed by prestataires), fiches_version, journal_admin

Revision ID: 0006_fiches_revisions
Revises: 0005
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_fiches_revisions"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fiches_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "fiche_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False
        ),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column(
            "auteur", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("cree_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("contenu", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "statut", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column(
            "decide_par", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
        sa.Column("decide_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fiche_id", "numero"),
    )
    op.create_index(
        op.f("ix_fiches_revisions_fiche_id"),
        "fiches_revisions",
        ["fiche_id"],
        unique=False,
    )
    version = op.create_table(
        "fiches_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(version, [{"id": 1, "numero": 0}])

    op.create_table(
        "journal_admin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("qui", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("quoi", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("journal_admin")
    op.drop_table("fiches_version")
    op.drop_index(op.f("ix_fiches_revisions_fiche_id"), table_name="fiches_revisions")
    op.drop_table("fiches_revisions")
