"""les mois du résumé de pilotage sont ceux du département (fuseau
FUSEAU_HORAIRE), plus ceux de l'UTC : une demande faite à 0 h 30 à Paris le
1er décembre compte en décembre

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recalculer() -> None:
    # The summary is derived from the requests: counted again with the
    # zone this process was given (catalogue.heure, default Europe/Paris).
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM prescriptions")).scalar():
        from sqlmodel import Session

        from prescription.pilotage import recalculer

        with Session(bind=bind) as db:
            recalculer(db)
            db.flush()


def upgrade() -> None:
    _recalculer()


def downgrade() -> None:
    # The older version counts UTC months: `flask --app app pilotage
    # recalculer` of that version counts them again.
    pass
