"""The database unreachable (stopped, connection killed): a clear French answer,
never the 500 page. A form sent at that moment comes back with its answers in
hidden fields, one button away from being sent again.

Nothing is half written: a booking (place decrement, person, request, log)
is one transaction, which the database rolls back when the connection drops.
"""

import traceback

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError

from web.journal_gunicorn import masquer_les_jetons
from web.site import _api, erreur_json, erreur_serveur

# Forms that take a place: the page says none was taken.
RESERVATIONS = {
    "prescription.inscription",
    "prescription.prescrire",
    "prescription.inscrire",
}
MESSAGE = "Le service est momentanément indisponible : réessayez dans un instant."


def _oublier_la_transaction() -> None:
    session = g.pop("db", None)
    if session is None:
        return
    try:
        session.rollback()
        session.close()
    except DBAPIError:
        pass  # the connection is gone already: the pool drops it


def base_injoignable(erreur: DBAPIError):
    if not (isinstance(erreur, OperationalError) or erreur.connection_invalidated):
        # A bug, not an outage: logged (a handled error is not, by Flask),
        # with where it happened but not the query's values (people's data).
        current_app.logger.error(
            "Erreur de la base pendant %s %s (%s), appelée depuis :\n%s",
            request.method,
            masquer_les_jetons(request.path),
            type(erreur.orig).__name__,
            "".join(traceback.format_tb(erreur.__traceback__)),
        )
        return erreur_serveur(erreur)
    # The error's class only: its text may carry a query's values.
    if _en_lecture_seule(erreur):
        # Not a blip: it lasts until someone changes the rights.
        current_app.logger.error(
            "Base de données en lecture seule pendant %s %s (%s) : rien n'est "
            "enregistré ; vérifiez les droits du fichier et de son dossier (SQLite) "
            "ou le mode de la base (PostgreSQL)",
            request.method,
            masquer_les_jetons(request.path),
            type(erreur.orig).__name__,
        )
    else:
        current_app.logger.warning(
            "Base de données injoignable pendant %s %s (%s) : rien n'est enregistré",
            request.method,
            masquer_les_jetons(request.path),
            type(erreur.orig).__name__,
        )
    _oublier_la_transaction()
    if _api():
        return erreur_json(503, MESSAGE)
    envoye = request.method == "POST"
    champs = (
        [
            (nom, valeur)
            for nom in request.form
            if nom != "csrf_token"
            for valeur in request.form.getlist(nom)
        ]
        if envoye
        else []
    )
    reponse = current_app.make_response(
        (
            render_template(
                "errors/base_injoignable.html",
                envoye=envoye,
                reservation=request.endpoint in RESERVATIONS,
                champs=champs,
                action=request.path,
            ),
            503,
        )
    )
    reponse.headers["Cache-Control"] = "no-store, private"
    reponse.headers["Retry-After"] = "30"
    return reponse


def _en_lecture_seule(erreur: DBAPIError) -> bool:
    """SQLite's « readonly database », PostgreSQL's read-only transaction."""
    return (
        "readonly database" in str(erreur.orig)
        or getattr(erreur.orig, "sqlstate", None) == "25006"
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(DBAPIError, base_injoignable)
