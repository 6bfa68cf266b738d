"""Read-only JSON API: /api/v1/…"""

from flask import Blueprint, current_app, jsonify

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def erreur_json(status: int, message: str):
    response = jsonify({"erreur": message, "statut": status})
    response.status_code = status
    return response


@bp.get("/fiches/<fiche_id>")
def fiche(fiche_id: str):
    catalogue = current_app.extensions["catalogue"]
    fiche = catalogue.fiches.get(fiche_id)
    if fiche is None:
        message = f"Aucune fiche action ne porte l'identifiant « {fiche_id} »."
        return erreur_json(404, message)
    return jsonify(fiche.model_dump(mode="json"))


@bp.errorhandler(404)
def introuvable(_error):
    return erreur_json(404, "Cette adresse de l'API n'existe pas.")
