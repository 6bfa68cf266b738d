"""Command line of prescriptions: the scheduler's run, memberships."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session, select

from catalogue import places
from prescription import demandes, notifications
from prescription.modeles import (
    ROLES,
    TYPES_STRUCTURE,
    Adhesion,
    StructurePro,
    Utilisateur,
)
from web.prescription import LiensWeb
from web.securite import en_production

prescriptions_cli = AppGroup("prescriptions", help="Relances, expirations, comptes.")


@prescriptions_cli.command("relancer")
def relancer():
    """Relance les demandes sans réponse, expire les vieilles, envoie les messages."""
    app = current_app
    app.extensions["preparer"]()  # the fiches' places into the database
    with app.test_request_context(base_url=app.config["URL_PUBLIQUE"]):
        with Session(app.extensions["db"]) as db:
            relances, expirees = demandes.relancer_et_expirer(
                db,
                app.extensions["catalogue"].fiches,
                LiensWeb(db),
                app.config["PRESCRIPTION_RELANCE_JOURS"],
                app.config["PRESCRIPTION_EXPIRATION_JOURS"],
            )
            db.commit()
    places.publier(app.extensions["db"], app.extensions["recherche"])
    envoyes, echecs = notifications.envoyer_en_attente(
        app.extensions["db"],
        notifications.expediteurs_depuis_config(app.config, discret=en_production(app)),
    )
    click.echo(
        f"{relances} relance(s), {expirees} demande(s) expirée(s), "
        f"{envoyes} message(s) envoyé(s), {echecs} en échec (nouvel essai plus tard)."
    )


@prescriptions_cli.command("resumer")
def resumer():
    """Envoie à chaque membre qui l'a choisi le résumé du jour de ses demandes."""
    app = current_app
    with Session(app.extensions["db"]) as db:
        resumes = notifications.envoyer_les_resumes(db)
        db.commit()
    envoyes, echecs = notifications.envoyer_en_attente(
        app.extensions["db"],
        notifications.expediteurs_depuis_config(app.config, discret=en_production(app)),
    )
    click.echo(
        f"{resumes} résumé(s) mis en file, {envoyes} message(s) envoyé(s), "
        f"{echecs} en échec (nouvel essai plus tard)."
    )


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
    with Session(current_app.extensions["db"]) as db:
        utilisateur = db.exec(
            select(Utilisateur).where(Utilisateur.courriel == courriel)
        ).first()
        if utilisateur is None:
            raise click.ClickException(
                "Aucun compte avec cette adresse : "
                "la personne doit se connecter une fois."
            )
        s = db.exec(select(StructurePro).where(StructurePro.nom == structure)).first()
        if s is None:
            s = StructurePro(
                nom=structure,
                type=type_,
                structure_catalogue=structure_catalogue,
                type_prescripteur=type_prescripteur,
            )
            db.add(s)
            db.flush()
        db.add(Adhesion(utilisateur_id=utilisateur.id, structure_id=s.id, role=role))
        db.commit()
    click.echo(f"Rôle « {ROLES[role]} » donné dans « {structure} ».")
