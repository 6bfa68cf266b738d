"""`flask rgpd purger`: the retention periods (the scheduler runs it too)."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from prescription import rgpd

rgpd_cli = AppGroup("rgpd", help="Données personnelles : durées de conservation.")


def purger_maintenant(app) -> rgpd.Bilan:
    with Session(app.extensions["db"]) as db:
        bilan = rgpd.purger(
            db,
            conservation_mois=app.config["RGPD_CONSERVATION_MOIS"],
            audit_mois=app.config["RGPD_AUDIT_CONSERVATION_MOIS"],
        )
        db.commit()
    return bilan


@rgpd_cli.command("purger")
def purger():
    """Anonymise les personnes dont la dernière demande est close depuis la durée
    de conservation ; efface les lignes d'audit plus anciennes que la leur."""
    bilan = purger_maintenant(current_app)
    click.echo(
        f"{bilan.personnes_anonymisees} personne(s) anonymisée(s), "
        f"{bilan.audits_supprimes} ligne(s) d'audit effacée(s)."
    )
