"""Read-only JSON API: /api/v1/…"""

from dataclasses import asdict
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, request

from catalogue import heure, places
from catalogue.recherche import RechercheIndisponible, Resultats
from catalogue.territoires import referentiel
from web.affichage import AVERTISSEMENT_SECOURS
from web.donnees import db
from web.openapi import document_openapi
from web.pages import lieu_tape_dans_les_mots
from web.parametres import PARAMETRES, ParametreInvalide, requete_depuis_args
from web.securite import url_absolue
from web.site import erreur_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/fiches")
def fiches():
    """Search the catalogue: the same parameters as the search page."""
    inconnus = sorted(set(request.args) - set(PARAMETRES))
    try:
        if inconnus:
            raise ParametreInvalide(
                f"Paramètre inconnu : « {inconnus[0]} » (voir /api/v1/openapi.json)."
            )
        requete = requete_depuis_args(request.args)
    except ParametreInvalide as e:
        return erreur_json(400, str(e))
    try:
        resultats = current_app.extensions["recherche"].rechercher(requete)
    except RechercheIndisponible:
        current_app.logger.warning("Recherche impossible : moteur indisponible")
        return erreur_json(503, "La recherche est momentanément indisponible.")
    corps = _en_json(resultats)
    # « permis à 10 km de Massy »: the page goes there; the API says it,
    # and gives the same search there.
    if lieu := lieu_tape_dans_les_mots(request.args, resultats):
        rayon = lieu["args"].get("rayon_km")
        corps["lieu_propose"] = {
            "libelle": lieu["libelle"],
            "mots": lieu["mots"],
            "rayon_km": float(rayon) if rayon else None,
            "url": url_absolue("api.fiches")
            + "?"
            + urlencode(list(lieu["args"].items(multi=True))),
        }
    return jsonify(corps)


def _en_json(resultats: Resultats) -> dict:
    catalogue = current_app.extensions["catalogue"]
    lignes = []
    for r in resultats.resultats:
        fiche = catalogue.fiches.get(r.id)
        structure = catalogue.structures.get(fiche.structure) if fiche else None
        lignes.append(
            {
                "id": r.id,
                "nom": fiche.nom if fiche else None,
                "resume": fiche.resume if fiche else None,
                "structure": structure.nom if structure else None,
                "url": url_absolue("api.fiche", fiche_id=r.id),
                **asdict(r),
                "complet": r.complet,
            }
        )
    corps = {
        "total": resultats.total,
        "page": resultats.page,
        "par_page": resultats.par_page,
        "resultats": lignes,
        "facettes": resultats.facettes,
        "mots_ignores": list(resultats.mots_ignores),
    }
    if resultats.degrade:
        corps["avertissement"] = AVERTISSEMENT_SECOURS
    return corps


@bp.get("/fiches/<fiche_id>")
def fiche(fiche_id: str):
    catalogue = current_app.extensions["catalogue"]
    fiche = catalogue.fiches.get(fiche_id)
    if fiche is None:
        return erreur_json(
            404, f"Aucune fiche action ne porte l'identifiant « {fiche_id} »."
        )
    corps = fiche.model_dump(mode="json")
    # Places come from the database (the prestataire's last figure), not the YAML.
    etat = places.etats(db(), [fiche.id]).get(fiche.id)
    if etat is not None:
        corps["places_restantes"] = etat.places_restantes
        corps["places_maj_le"] = (
            heure.jour(etat.maj_le).isoformat() if etat.maj_le else None
        )
    # Each session's too, as the fiche's page shows them.
    par_session = places.par_session(db(), fiche.id)
    for session in corps.get("sessions") or []:
        ligne = par_session.get(session["debut"])
        if ligne is not None:
            session["places_restantes"] = ligne.places_restantes
    return jsonify(corps)


@bp.get("/communes")
def communes():
    """Autocomplete: communes whose name or postal code starts with ?q=."""
    texte = request.args.get("q", "")[:100]
    return jsonify(
        [
            {
                "code_insee": c.code_insee,
                "nom": c.nom,
                "codes_postaux": list(c.codes_postaux),
                "departement": c.departement,
                "libelle": referentiel().libelle_suggere(c, texte),
            }
            for c in referentiel().suggerer(texte)
        ]
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(document_openapi())
