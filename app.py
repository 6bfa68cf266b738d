"""Offre d'insertion: the application factory (the only one)."""

import logging
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from flask_htmx import HTMX

from catalogue import cli as catalogue_cli
from catalogue import recherche
from catalogue.chargement import charger_catalogue

ROOT = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, catalogue, search engine, blueprints, commands."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",
        FICHES_DIR=str(ROOT / "data" / "fiches"),
        STRUCTURES_DIR=str(ROOT / "data" / "structures"),
        SEARCH_BACKEND="embarque",
        SEARCH_PATH=str(Path(app.instance_path) / "recherche.sqlite3"),
        MEILI_URL=None,
        MEILI_API_KEY=None,
        MEILI_INDEX="fiches",
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
        ],
        DEPARTEMENT_NOM="Département de démonstration",
        DEPARTEMENT_CODE=None,
        THEME_COULEUR="#1f4e79",
        THEME_COULEUR_ACCENT="#b34700",
        THEME_LOGO=None,
    )
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    if app.config["SECRET_KEY"] == "dev" and not (app.debug or app.testing):
        app.logger.warning(
            "SECRET_KEY n'est pas défini : ne pas utiliser cette instance en production"
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    HTMX(app)
    Compress(app)

    # Fiches read best in their own field order, with accents as they are.
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    catalogue = charger_catalogue(
        Path(app.config["FICHES_DIR"]), Path(app.config["STRUCTURES_DIR"]), racine=ROOT
    )
    for erreur in catalogue.erreurs:
        app.logger.error("Fiche ignorée : %s", erreur)
    app.extensions["catalogue"] = catalogue
    moteur = app.extensions["recherche"] = recherche.moteur_depuis_config(app.config)
    recherche.remplir_si_vide(moteur, recherche.documents(catalogue), app.logger)

    from catalogue import api, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    catalogue_cli.register(app)
    return app
