"""Command line: `flask --app app fiches verifier|exporter`, `index …`."""

import ipaddress
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from catalogue import places, stockage
from catalogue.recherche import RechercheIndisponible
from catalogue.recherche.documents import synchroniser as synchroniser_index
from web import donnees


class ErreurCommande(click.ClickException):
    """A command that cannot go on: its French message alone, exit code 1."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", file=file, err=True)


fiches_cli = AppGroup("fiches", help="Vérifier et exporter les fiches actions.")


@fiches_cli.command("verifier")
def verifier():
    """Liste chaque problème des fiches ; code de sortie 1 s'il y en a.

    Lecture seule : ni import des places des fiches en base, ni index.
    """
    catalogue = current_app.extensions["catalogue"]
    for erreur in catalogue.erreurs:
        click.echo(str(erreur), err=True)
    click.echo(
        f"{len(catalogue.fiches)} fiches valides, {len(catalogue.structures)} "
        f"structures, {len(catalogue.erreurs)} problème(s)."
    )
    if not catalogue.fiches:
        # The release step relies on this: an empty catalogue is never « valid ».
        raise ErreurCommande(
            f"aucune fiche valide dans le dossier « {current_app.config['FICHES_DIR']}"
            " » : vérifiez FICHES_DIR ; le catalogue serait vide."
        )
    if catalogue.erreurs:
        raise SystemExit(1)


@fiches_cli.command("exporter")
@click.option(
    "--sortie",
    type=click.Path(path_type=Path),
    default=Path("export"),
    show_default=True,
    help="Dossier où écrire structures.json et services.json.",
)
def exporter(sortie: Path):
    """Exporte le catalogue au format data·inclusion (structures et services)."""
    from catalogue.export import exporter_catalogue
    from web.api_di import lien_de_la_fiche
    from web.donnees import fiches_a_jour

    catalogue = current_app.extensions["catalogue"]
    # The API's catalogue: a fiche whose file broke keeps its last valid
    # version (as the server does at its start), then the validated changes.
    for erreur in catalogue.erreurs:
        click.echo(f"Fiche ignorée : {erreur}", err=True)
    try:
        with Session(current_app.extensions["db"]) as db:
            reprises = current_app.extensions["publication"].reprendre(db)
    except SQLAlchemyError:
        reprises = []  # not migrated yet: the YAML fiches serve, as on the site
    for fiche_id, lue_le in reprises:
        fiche = catalogue.fiches.get(fiche_id)
        # Only actions running now are exported: said so for the others.
        sort = (
            "est exportée, comme elle reste publiée"
            if fiche is not None and fiche.statut == "active"
            else "reste publiée, sans être exportée (l'action n'est pas en cours)"
        )
        click.echo(
            f"Fiche « {fiche_id} » : son fichier a une erreur, la version lue le "
            f"{lue_le:%d/%m/%Y} {sort}",
            err=True,
        )
    fiches_a_jour()
    # The same links as the API: URL_PUBLIQUE and the fiche's route.
    with current_app.test_request_context():
        structures, services = exporter_catalogue(catalogue, lien_de_la_fiche)
    try:
        sortie.mkdir(parents=True, exist_ok=True)
        for nom, donnees in (("structures", structures), ("services", services)):
            with open(sortie / f"{nom}.json", "w", encoding="utf-8") as f:
                json.dump(donnees, f, ensure_ascii=False, indent=2)
    except OSError:
        raise ErreurCommande(
            f"impossible d'écrire dans le dossier « {sortie} » (chemin impossible, "
            "droits ou disque plein) : choisissez un autre dossier avec --sortie."
        ) from None
    click.echo(f"{len(structures)} structures et {len(services)} services écrits")
    url = current_app.config.get("URL_PUBLIQUE") or ""
    if _adresse_locale(url):
        # `make exporter` runs in development mode: its links would send the
        # open data's readers to this machine (or a network they are not on).
        click.echo(
            f"Attention : les liens des services (lien_source) pointent vers {url}, "
            "une adresse locale. Pour publier ce fichier, relancez avec l'adresse "
            "publique du site : FLASK_URL_PUBLIQUE=https://offre.mon-departement.fr "
            "make exporter",
            err=True,
        )


# Names only a private network resolves (RFC 6761, 6762, 8375, 9476…).
NOMS_PRIVES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet")


def _adresse_locale(url: str) -> bool:
    """A link nobody outside can follow: this machine, a private network."""
    hote = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(hote)
    except ValueError:
        try:  # « 127.1 », « 0x7f000001 »: IPv4 as the C library reads it
            ip = ipaddress.ip_address(socket.inet_aton(hote))
        except OSError:
            # A name: public if it has a dot and no private suffix
            # (« intranet », « offre.home.arpa » are not).
            return "." not in hote or hote.endswith(NOMS_PRIVES) or hote == "localhost"
    return not ip.is_global


@fiches_cli.command("exporter-yaml")
@click.option(
    "--sortie",
    type=click.Path(path_type=Path),
    default=None,
    help="Dossier où écrire les fiches (par défaut : celui des fiches, FICHES_DIR).",
)
def exporter_yaml(sortie: Path | None):
    """Réécrit les fiches en YAML, avec les modifications validées des prestataires."""
    from catalogue.revisions import exporter_yaml as ecrire

    current_app.extensions["preparer"]()  # validated revisions over the YAML
    dossier = sortie or Path(current_app.config["FICHES_DIR"])
    export = ecrire(
        current_app.extensions["catalogue"],
        dossier,
        current_app.extensions["publication"].yaml,
    )
    click.echo(
        f"{len(export.ecrites)} fiches écrites dans {dossier}, "
        f"{export.inchangees} déjà à jour"
    )
    for nom in export.ecrites:
        click.echo(f"  écrite : {nom}")
    if export.cassees:
        click.echo(
            f"{len(export.cassees)} fichiers illisibles laissés tels quels (corrigez-"
            "les, puis relancez : leurs modifications validées y seront écrites) :",
            err=True,
        )
        for erreur in export.cassees:
            click.echo(f"  {erreur}", err=True)
    for erreur in export.non_ecrites:
        click.echo(f"Fiche non écrite : {erreur}", err=True)
    if export.cassees or export.non_ecrites:
        raise SystemExit(1)


index_cli = AppGroup("index", help="Construire et synchroniser l'index de recherche.")


def _documents() -> list[dict]:
    """The catalogue's documents, with the places the database holds."""
    current_app.extensions["preparer"]()  # the fiches' places into the database
    return donnees.tous_les_documents()


@index_cli.command("reconstruire")
def reconstruire():
    """Reconstruit tout l'index ; les recherches continuent sur l'ancien jusqu'à la
    bascule."""
    docs = _documents()
    moteur = current_app.extensions["recherche"]
    with click.progressbar(length=len(docs), label="Indexation des fiches") as barre:
        with _sinon_erreur("reconstruit"):
            moteur.reconstruire(docs, progression=barre.update)
    _rien_de_perdu(moteur)
    click.echo(f"Index reconstruit : {len(docs)} fiches.")


@contextmanager
def _sinon_erreur(fait: str) -> Iterator[None]:
    """The index could not be written (full disk, I/O): one French line."""
    try:
        yield
    except RechercheIndisponible as e:
        raise ErreurCommande(
            f"index non {fait} : {e}. Libérez de la place ou réglez SEARCH_PATH, "
            "puis relancez la commande."
        ) from None


def _rien_de_perdu(moteur) -> None:
    """Exit 1 when what was written will not last, or did not reach the
    engine asked for: the Procfile's `release` must not pass a deployment
    whose search is not there."""
    secours = getattr(moteur, "secours", None)
    if secours is not None and (en_retard := secours.a_resynchroniser()):
        raise ErreurCommande(
            f"Meilisearch n'a pas reçu {len(en_retard)} fiche(s) : seul l'index "
            "embarqué de secours est à jour. Vérifiez MEILI_URL et le serveur, "
            "puis relancez la commande."
        )
    if secours is not None and (erreur := moteur.injoignable()):
        raise ErreurCommande(
            f"Meilisearch ne répond pas ({erreur}) : seul l'index embarqué de "
            "secours est à jour. Vérifiez MEILI_URL et le serveur, puis relancez "
            "la commande."
        )
    embarque = secours or moteur
    if getattr(embarque, "en_memoire", False):
        cause = embarque.cause_en_memoire or "dossier non modifiable ?"
        raise ErreurCommande(
            f"l'index n'a pas pu être écrit dans {embarque.path} ({cause}) : il "
            "était en mémoire et se perd avec la commande. "
            "Réglez SEARCH_PATH sur un dossier où l'application peut écrire."
        )


@index_cli.command("synchroniser")
def synchroniser():
    """Ajoute, met à jour et retire les fiches modifiées depuis la dernière fois."""
    moteur = current_app.extensions["recherche"]
    with _sinon_erreur("synchronisé"):
        bilan = synchroniser_index(moteur, _documents())
        places.publier(
            current_app.extensions["db"],
            moteur,
            documents=current_app.extensions["publication"].documents,
        )
    _rien_de_perdu(moteur)
    click.echo(
        f"Index synchronisé : {bilan.ajoutees} ajoutée(s), {bilan.modifiees} "
        f"modifiée(s), {bilan.supprimees} retirée(s)."
    )


db_cli = AppGroup("db", help="Base de données.")


@db_cli.command("migrer")
def migrer():
    """Applique les migrations (crée la base si elle n'existe pas)."""
    try:
        stockage.migrer(current_app.config["DATABASE_URL"])
    except OperationalError as e:
        # A server down, a wrong password or host: said, not a traceback.
        raise ErreurCommande(
            "base de données injoignable (DATABASE_URL) : "
            f"{str(e.orig).strip().splitlines()[0] if e.orig else e}"
        ) from None
    click.echo("Base de données à jour.")


def register(app: Flask) -> None:
    app.cli.add_command(fiches_cli)
    app.cli.add_command(index_cli)
    app.cli.add_command(db_cli)
