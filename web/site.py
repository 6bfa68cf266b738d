"""What every page shares: the département's look, and the error pages."""

import hashlib

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, InternalServerError

from web import affichage, securite, theme

# What each HTTP error means to the person who met it (pages and API alike).
MESSAGES = {
    400: "La demande est mal formée.",
    404: "Cette adresse n'existe pas.",
    405: "Cette méthode HTTP n'est pas acceptée à cette adresse.",
    413: "La demande est trop volumineuse.",
    414: "L'adresse demandée est trop longue.",
    429: "Trop de demandes : réessayez dans quelques instants.",
    500: "Le site a un problème. Réessayez dans quelques minutes.",
    503: "Le service est momentanément indisponible.",
}


def contexte_site() -> dict:
    """The département's look and the acronym explainer, for every template."""
    return {
        "site": theme.site(current_app.config, lambda f: url_for("static", filename=f)),
        "sigles": affichage.Sigles(),
        # A new explainer for each card or section, which explains again.
        "nouveaux_sigles": affichage.Sigles,
        "aff": affichage,
    }


# A page reader is not a programmer: the same errors in their words.
MESSAGES_PAGES = {
    405: "Cette adresse ne s'ouvre pas de cette façon (lien ou formulaire).",
}


def erreur_json(status: int, message: str):
    response = jsonify({"erreur": message, "statut": status})
    response.status_code = status
    return response


def _api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def erreur_http(erreur: HTTPException):
    """Every HTTP error: French JSON for the API, a French page otherwise."""
    code = erreur.code or 500
    message = MESSAGES.get(code, "La demande n'a pas abouti.")
    limite = current_app.config.get("MAX_CONTENT_LENGTH")
    if code == 413 and limite:
        mo = f"{limite / 2**20:.1f}".replace(".", ",")
        message = f"{message[:-1]} : au plus {mo} Mo (fichiers compris)."
    if _api():
        reponse = erreur_json(code, message)
    elif code == 404:
        reponse = current_app.make_response((render_template("errors/404.html"), 404))
    elif code >= 500:
        reponse = current_app.make_response((render_template("errors/500.html"), code))
    else:
        message = MESSAGES_PAGES.get(code, message)
        corps = render_template("errors/erreur.html", code=code, message=message)
        reponse = current_app.make_response((corps, code))
    if getattr(erreur, "valid_methods", None):
        reponse.headers["Allow"] = ", ".join(erreur.valid_methods)
    return reponse


def erreur_serveur(erreur: Exception):
    """An unexpected exception: logged by Flask, answered in French."""
    return erreur_http(
        erreur if isinstance(erreur, HTTPException) else InternalServerError()
    )


def css_du_theme(config) -> str:
    """The département's colours as a stylesheet (no inline style: see the CSP)."""
    site = theme.site(config, lambda f: f)
    return (
        f":root{{--theme:{site['couleur']};--theme-texte:{site['couleur_texte']};"
        f"--theme-lien:{site['couleur_lien']};--accent:{site['accent']};"
        f"--accent-texte:{site['accent_texte']}}}\n"
    )


def feuille_du_theme():
    css = css_du_theme(current_app.config)
    reponse = Response(css, mimetype="text/css")
    if request.args.get("v") == _version(css):
        reponse.cache_control.public = True
        reponse.cache_control.max_age = securite.UN_AN
        reponse.cache_control.immutable = True
    else:
        reponse.cache_control.no_cache = True
    return reponse


def _version(css: str) -> str:
    return hashlib.sha256(css.encode()).hexdigest()[:12]


def _versionner_le_theme(endpoint: str, values: dict) -> None:
    if endpoint == "theme_css" and "v" not in values:
        values["v"] = _version(css_du_theme(current_app.config))


class RequeteDuSite(Request):
    """Forms with their line breaks as one character: browsers send a
    textarea's as CRLF, so 10 lines counted 10 characters too many against
    the limit, and « \\r » reached the API, the exports and the YAML."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any("\r" in v for _cle, v in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict(
                (cle, valeur.replace("\r\n", "\n").replace("\r", "\n"))
                for cle, valeur in form.items(multi=True)
            )


def init_app(app: Flask) -> None:
    app.request_class = RequeteDuSite
    app.context_processor(contexte_site)
    app.register_error_handler(HTTPException, erreur_http)
    app.register_error_handler(500, erreur_serveur)
    app.add_url_rule("/theme.css", "theme_css", feuille_du_theme)
    app.url_defaults(_versionner_le_theme)
    securite.init_app(app)
