"""pilotage : le territoire des personnes dans le résumé des comptes

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTE = sqlmodel.sql.sqltypes.AutoString


def _creer(avec_territoire: bool) -> None:
    territoire = ["territoire"] if avec_territoire else []
    colonne = [sa.Column("territoire", TEXTE(length=10), nullable=False)]
    op.create_table(
        "pilotage_comptes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mois", TEXTE(length=7), nullable=False),
        sa.Column("fiche_id", TEXTE(length=100), nullable=False),
        sa.Column("session", TEXTE(length=10), nullable=False),
        sa.Column("structure", TEXTE(length=100), nullable=False),
        *(colonne if avec_territoire else []),
        sa.Column("dimension", TEXTE(length=10), nullable=False),
        sa.Column("valeur", TEXTE(length=40), nullable=False),
        sa.Column("sexe", TEXTE(length=20), nullable=False),
        sa.Column("nombre", sa.Integer(), nullable=False),
        sa.Column("somme", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "mois",
            "fiche_id",
            "session",
            "structure",
            *territoire,
            "dimension",
            "valeur",
            "sexe",
            name="uq_pilotage_comptes" if avec_territoire else None,
        ),
    )
    op.create_index(
        "ix_pilotage_comptes_lecture",
        "pilotage_comptes",
        ["fiche_id", *territoire, "structure", "mois"],
    )
    op.create_index(
        "ix_pilotage_comptes_dimension",
        "pilotage_comptes",
        [*territoire, "dimension", "mois"],
    )


def upgrade() -> None:
    # The summary is derived from the requests: rebuilt rather than altered,
    # now with each person's commune, EPCI and département.
    op.drop_table("pilotage_comptes")
    _creer(avec_territoire=True)
    # One commune's requests are counted from its people (see pilotage.py).
    op.create_index(
        "ix_prescriptions_beneficiaire_id", "prescriptions", ["beneficiaire_id"]
    )
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM prescriptions")).scalar():
        from sqlmodel import Session

        from prescription.pilotage import recalculer

        with Session(bind=bind) as db:
            recalculer(db)
            db.flush()


def downgrade() -> None:
    op.drop_index("ix_prescriptions_beneficiaire_id", table_name="prescriptions")
    # The older summary comes back empty: `flask --app app pilotage
    # recalculer` of the older version fills it again.
    op.drop_table("pilotage_comptes")
    _creer(avec_territoire=False)
