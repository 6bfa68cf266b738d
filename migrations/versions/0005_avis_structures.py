"""avis des structures : chaque demande ou résumé du jour

Revision ID: 0005
Revises: 0004_rgpd
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004_rgpd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("structures_pro", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "avis",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                server_default="chaque",
                nullable=False,
            )
        )
    op.create_table(
        "avis_resume",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "destinataire", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False
        ),
        sa.Column(
            "ligne", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False
        ),
        sa.Column("lien", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("cree_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resume_le", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("avis_resume", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_avis_resume_resume_le"), ["resume_le"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("avis_resume", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_avis_resume_resume_le"))
    op.drop_table("avis_resume")
    with op.batch_alter_table("structures_pro", schema=None) as batch_op:
        batch_op.drop_column("avis")
