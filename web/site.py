"""What every page shares: the département's look, and the error pages."""

from flask import Flask, current_app, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from web import affichage, theme


def contexte_site() -> dict:
    """The département's look and the acronym explainer, for every template."""
    return {
        "site": theme.site(current_app.config, lambda f: url_for("static", filename=f)),
        "sigles": affichage.Sigles(),
        # A new explainer for each card or section, which explains again.
        "nouveaux_sigles": affichage.Sigles,
        "aff": affichage,
    }


def page_introuvable(_erreur: HTTPException):
    if request.path.startswith("/api/"):
        from web.api import erreur_json

        return erreur_json(404, "Cette adresse de l'API n'existe pas.")
    return render_template("errors/404.html"), 404


def erreur_serveur(_erreur: Exception):
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    app.context_processor(contexte_site)
    app.register_error_handler(404, page_introuvable)
    app.register_error_handler(500, erreur_serveur)
