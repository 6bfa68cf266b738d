"""Offre d'insertion: the application factory (the only one)."""

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import click
from flask import Flask
from flask_compress import Compress
from flask_htmx import HTMX
from sqlmodel import Session
from werkzeug.middleware.proxy_fix import ProxyFix

import web
from catalogue import heure, places, revisions, stockage
from catalogue.chargement import charger_catalogue
from catalogue.recherche import RechercheIndisponible
from catalogue.recherche.documents import documents
from catalogue.recherche.fabrique import moteur_depuis_config, remplir_si_vide
from web import donnees, securite
from web.pilotage import TAILLE_CSV_MAX

ROOT = Path(__file__).resolve().parent
# A preparation that failed (database down while workers boot) is tried
# again at a request, no sooner than this: an outage then costs one round
# trip per worker every half-minute, not one per request.
PAUSE_PREPARATION_S = 30.0


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, catalogue, search engine, blueprints, commands."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",
        FICHES_DIR=str(ROOT / "data" / "fiches"),
        STRUCTURES_DIR=str(ROOT / "data" / "structures"),
        SEARCH_BACKEND="embarque",
        SEARCH_PATH=str(Path(app.instance_path) / "recherche-index"),
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'offre.sqlite3'}",
        MEILI_URL=None,
        MEILI_API_KEY=None,
        MEILI_INDEX="fiches",
        MEILI_TIMEOUT=0.5,
        MEILI_PANNES_AVANT_SECOURS=3,
        MEILI_PAUSE_SECOURS=30,
        URL_PUBLIQUE="http://127.0.0.1:5000",
        # Bytes a request may send: the largest upload (the pilotage CSV) and
        # its form; anything bigger gets a 413 before it is read.
        MAX_CONTENT_LENGTH=TAILLE_CSV_MAX + 64 * 1024,
        SESSION_COOKIE_SAMESITE="Lax",
        # Reverse proxies in front (README, « Déploiement »): their
        # X-Forwarded-For gives each visitor's address to the rate limits.
        PROXIES_DEVANT=0,
        # A form's token lasts as long as the browser's session (Flask-WTF's
        # default hour threw away a booking typed slowly, or left open).
        WTF_CSRF_TIME_LIMIT=None,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
        ],
        DEPARTEMENT_NOM="Département de démonstration",
        DEPARTEMENT_CODE=None,
        # Days and months as the département lives them (README).
        FUSEAU_HORAIRE=heure.FUSEAU_DEFAUT,
        THEME_COULEUR="#1f4e79",
        THEME_COULEUR_ACCENT="#b34700",
        THEME_LOGO=None,
        # --- Prescription (voir le README, « Configuration ») ---
        DEMO=False,
        PROCONNECT_CLIENT_ID=None,
        PROCONNECT_CLIENT_SECRET=None,
        PROCONNECT_DISCOVERY_URL="https://fca.integ01.dev-agentconnect.fr/api/v2/.well-known/openid-configuration",
        PROCONNECT_SCOPES="openid email given_name usual_name siret uid idp_id",
        PRESCRIPTION_LIEN_JOURS=90,
        PLACES_LIEN_JOURS=30,
        # A professional logs in again after a working day (or at logout).
        SESSION_PRO_HEURES=12,
        PRESCRIPTION_RELANCE_JOURS=5,
        PRESCRIPTION_EXPIRATION_JOURS=21,
        PRESCRIPTION_LIMITE_INSCRIPTION="10 per hour",
        PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE="60 per hour",
        PRESCRIPTION_LIMITE_LIENS="60 per minute",
        RATELIMIT_STORAGE_URI="offre+base://",
        COURRIEL_ENVOI="console",
        COURRIEL_EXPEDITEUR="ne-pas-repondre@offre-insertion.invalid",
        SMTP_HOTE="localhost",
        SMTP_PORT=25,
        SMTP_UTILISATEUR=None,
        SMTP_MOT_DE_PASSE=None,
        SMTP_STARTTLS=False,
        SMS_ENVOI="console",
        SMS_URL="https://api.brevo.com/v3/transactionalSMS/sms",
        SMS_CLE_API=None,
        SMS_EXPEDITEUR="Insertion",
        # Console senders in production: refused unless allowed (see README).
        ENVOI_CONSOLE_AUTORISE=False,
        # Personal data: months kept after the last request closed, and the
        # audit log's own period (see README, « Données personnelles »).
        # Pilotage figures from 1 to this − 1 show « < 5 » (README).
        PILOTAGE_SEUIL=5,
        RGPD_CONSERVATION_MOIS=24,
        RGPD_AUDIT_CONSERVATION_MOIS=12,
        # The scheduler's intervals, in seconds (`flask planificateur`).
        PLANIFICATEUR_RELANCES_S=3600,
        PLANIFICATEUR_MESSAGES_S=60,
        PLANIFICATEUR_INDEX_S=60,
        PLANIFICATEUR_RESUMES_S=86400,
        PLANIFICATEUR_RGPD_S=86400,
    )
    defauts = dict(app.config)
    app.config.from_prefixed_env()
    # As typed: JSON would make « FLASK_SMTP_MOT_DE_PASSE=true » "True".
    tapes = {
        cle.removeprefix("FLASK_"): valeur
        for cle, valeur in os.environ.items()
        if cle.startswith("FLASK_")
        and cle.removeprefix("FLASK_") not in (test_config or {})
    }
    if test_config:
        app.config.update(test_config)
    securite.lire_les_types(app.config, defauts, tapes)
    securite.verifier_configuration(app)
    try:
        heure.regler(app.config["FUSEAU_HORAIRE"])
    except ValueError as e:
        raise securite.ConfigurationInvalide(
            f"FUSEAU_HORAIRE : {e} (exemples : Europe/Paris, Indian/Reunion, "
            "America/Guadeloupe)."
        ) from None
    if app.config["PROXIES_DEVANT"]:
        n = app.config["PROXIES_DEVANT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    HTMX(app)
    Compress(app)

    # Fiches read best in their own field order, with accents as they are.
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    catalogue = app.config.get("CATALOGUE") or charger_catalogue(
        *_dossiers_du_catalogue(app.config), racine=ROOT
    )
    # This app's own fiches: validated revisions replace entries in it, and a
    # catalogue passed in the config may be shared with other apps.
    catalogue = dataclasses.replace(catalogue, fiches=dict(catalogue.fiches))
    app.extensions["catalogue"] = catalogue
    app.extensions["publication"] = revisions.Publication(catalogue)
    engine = app.extensions["db"] = stockage.creer_moteur(app.config["DATABASE_URL"])
    moteur = app.extensions["recherche"] = moteur_depuis_config(
        app.config, source=partial(_dans_l_app, app, donnees.tous_les_documents)
    )
    preparer = app.extensions["preparer"] = JusquAReussir(
        partial(_preparer, app, engine, moteur, catalogue)
    )
    if click.get_current_context(silent=True) is None:
        preparer()  # a worker (gunicorn) or a test: ready before serving
    # `flask …`: only the commands that need places call it, and `flask run`
    # at its first request. `fiches verifier` does not: a verification reads
    # the files and writes nothing. A worker whose preparation failed tries
    # again at a later request.
    app.before_request(preparer)

    web.init_app(app)
    return app


def _dossiers_du_catalogue(config) -> tuple[Path, Path]:
    """The fiches and structures folders; a wrong path is refused, never served
    as an empty catalogue."""
    dossiers = []
    for reglage, quoi in (("FICHES_DIR", "fiches"), ("STRUCTURES_DIR", "structures")):
        dossier = Path(config[reglage])
        if not dossier.is_dir():
            raise securite.ConfigurationInvalide(
                f"{reglage} : le dossier des {quoi} « {dossier} » n'existe pas. "
                f"Donnez son chemin (FLASK_{reglage}) ou laissez le défaut "
                f"(data/{quoi})."
            )
        dossiers.append(dossier)
    return dossiers[0], dossiers[1]


def _dans_l_app(app: Flask, fonction):
    """``fonction()`` in an app context (from a thread of the app's own)."""
    with app.app_context():
        return fonction()


class JusquAReussir:
    """``fonction(premier_essai)`` run by the first caller, then, while it
    returns False, again by a later caller at most every ``pause_s`` seconds
    (threads included); once it returned True, never again.

    The first call waits for a call under way (a command or a worker needs
    the result); a later one never does: its request goes on meanwhile."""

    def __init__(
        self,
        fonction: Callable[[bool], bool],
        pause_s: float = PAUSE_PREPARATION_S,
        horloge: Callable[[], float] = time.monotonic,
    ):
        self.fonction, self.pause_s, self.horloge = fonction, pause_s, horloge
        self.fait = False
        self.essais = 0
        self.prochain_essai = 0.0
        self._verrou = threading.Lock()

    def __call__(self) -> None:
        if self.fait or (self.essais and self.horloge() < self.prochain_essai):
            return
        if not self._verrou.acquire(blocking=not self.essais):
            return
        try:
            if self.fait or (self.essais and self.horloge() < self.prochain_essai):
                return
            self.essais += 1
            try:
                self.fait = bool(self.fonction(self.essais == 1))
            finally:
                self.prochain_essai = self.horloge() + self.pause_s
        finally:
            self._verrou.release()


def _preparer(app: Flask, engine, moteur, catalogue, premier_essai: bool) -> bool:
    """Places from the database into the index; never stops a worker booting.
    False when it must be tried again (database down or not migrated)."""
    if premier_essai:
        for erreur in catalogue.erreurs:
            app.logger.error("Fiche ignorée : %s", erreur)
    try:
        if not stockage.schema_a_jour(engine):
            app.logger.warning(
                "Base de données pas encore à jour : places et demandes indisponibles "
                "tant que `flask --app app db migrer` n'a pas tourné"
            )
            return False
        with Session(engine) as db:
            # A fiche whose file broke keeps its last valid version online.
            for fiche_id, lue_le in app.extensions["publication"].reprendre(db):
                app.logger.error(
                    "Fiche « %s » : son fichier a une erreur, la version lue le %s "
                    "reste publiée jusqu'à ce qu'il soit corrigé",
                    fiche_id,
                    lue_le.strftime("%d/%m/%Y"),
                )
            places.importer_des_fiches(db, catalogue.fiches.values())
            # Validated changes from the prestataires win over the YAML.
            app.extensions["publication"].synchroniser(db)
            etat = places.places_des_documents(places.etats(db))
        remplir_si_vide(moteur, documents(catalogue, etat), app.logger)
        places.publier(
            engine, moteur, documents=app.extensions["publication"].documents
        )
    except RechercheIndisponible:
        # The database part is done; the outbox keeps what the index missed.
        app.logger.warning("Index de recherche non mis à jour au démarrage")
    except Exception:  # noqa: BLE001 - a worker must boot and serve pages anyway
        app.logger.exception(
            "Préparation des places et de l'index interrompue : nouvel essai à une "
            "prochaine requête, dans %d s au plus tôt",
            PAUSE_PREPARATION_S,
        )
        return False
    if not premier_essai:
        app.logger.warning("Préparation des places et de l'index faite")
    return True
