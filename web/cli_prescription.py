"""Command line of prescriptions: the scheduler's run, memberships."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session, select

from prescription import structures as domaine
from prescription.modeles import (
    ROLES,
    TYPES_STRUCTURE,
    StructurePro,
)
from web import planificateur
from web.cli import ErreurCommande

prescriptions_cli = AppGroup("prescriptions", help="Relances, expirations, comptes.")


@prescriptions_cli.command("relancer")
def relancer():
    """Relance les demandes sans réponse, expire les vieilles, envoie les messages.

    Le planificateur (`flask planificateur`) fait la même chose, à son rythme."""
    bilan = planificateur.relancer_et_expirer(current_app)
    envoi = planificateur.envoyer_les_messages(current_app)
    click.echo(f"{bilan}, {envoi}.")


@prescriptions_cli.command("resumer")
def resumer():
    """Envoie à chaque membre qui l'a choisi le résumé du jour de ses demandes."""
    click.echo(planificateur.envoyer_les_resumes(current_app))
    click.echo(planificateur.envoyer_les_messages(current_app))


@prescriptions_cli.command("rattacher")
@click.argument("courriel")
@click.argument("structure")
@click.argument("role", type=click.Choice(list(ROLES)))
@click.option(
    "--type", "type_", type=click.Choice(TYPES_STRUCTURE), default="prestataire"
)
@click.option(
    "--structure-catalogue",
    default=None,
    help="Identifiant de la structure des fiches.",
)
@click.option("--type-prescripteur", default=None)
def rattacher(courriel, structure, role, type_, structure_catalogue, type_prescripteur):
    """Donne un rôle dans une structure à un professionnel déjà connecté une fois."""
    # The same checks and journal as the département's page.
    with Session(current_app.extensions["db"]) as db:
        try:
            s = db.exec(
                select(StructurePro).where(StructurePro.nom == structure)
            ).first() or domaine.creer_structure(
                db,
                structure,
                type_,
                "ligne de commande",
                current_app.extensions["catalogue"].structures,
                structure_catalogue=structure_catalogue,
                type_prescripteur=type_prescripteur,
            )
            domaine.rattacher(db, courriel, s, role, "ligne de commande")
        except domaine.Refus as refus:
            raise ErreurCommande(str(refus)) from None
        db.commit()
    click.echo(f"Rôle « {ROLES[role]} » donné dans « {structure} ».")
