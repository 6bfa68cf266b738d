"""Open data: the catalogue in the data·inclusion schema, for the aggregator.

``GET /api/v1/data-inclusion/structures`` and ``…/services`` serve what
``make exporter`` writes (same mapping: ``catalogue.export``), page by page.
Each service carries our places extension in ``extra`` (data·inclusion keeps
unknown producer data there): the places the database holds now, the
capacity, and the coming sessions with their own places.
"""

import math
from datetime import date

from flask import current_app, jsonify, request

from catalogue import places
from catalogue.export import (
    fiches_exportees,
    services_data_inclusion,
    structure_data_inclusion,
)
from web.api import bp
from web.donnees import db
from web.openapi import ExtensionPlaces, SessionPlaces
from web.parametres import ParametreInvalide, ParametresPagination, lire_pagination
from web.securite import url_absolue
from web.site import erreur_json


def _paginer(enregistrements: list[dict], p: ParametresPagination):
    debut = (p.page - 1) * p.taille
    return jsonify(
        {
            "items": enregistrements[debut : debut + p.taille],
            "total": len(enregistrements),
            "page": p.page,
            "taille": p.taille,
            "pages": max(1, math.ceil(len(enregistrements) / p.taille)),
        }
    )


@bp.get("/data-inclusion/structures")
def di_structures():
    try:
        p = lire_pagination(request.args)
    except ParametreInvalide as e:
        return erreur_json(400, str(e))
    catalogue = current_app.extensions["catalogue"]
    structures = [
        structure_data_inclusion(s)
        for s in sorted(catalogue.structures.values(), key=lambda s: s.id)
    ]
    return _paginer(structures, p)


@bp.get("/data-inclusion/services")
def di_services():
    try:
        p = lire_pagination(request.args)
    except ParametreInvalide as e:
        return erreur_json(400, str(e))
    catalogue = current_app.extensions["catalogue"]
    par_fiche: dict[str, list[places.Places]] = {}
    for ligne in places.lignes(db()):
        par_fiche.setdefault(ligne.fiche_id, []).append(ligne)
    services = []
    for fiche in sorted(fiches_exportees(catalogue), key=lambda f: f.id):
        lignes = par_fiche.get(fiche.id, [])
        extra = _extension(fiche, lignes)
        for service in services_data_inclusion(
            fiche, catalogue.structures[fiche.structure], lien_de_la_fiche(fiche)
        ):
            services.append({**service, "extra": extra})
    return _paginer(services, p)


def lien_de_la_fiche(fiche) -> str:
    """The fiche's public page, from URL_PUBLIQUE (the API and the export)."""
    return url_absolue("catalogue.fiche", fiche_id=fiche.id)


def _extension(fiche, lignes: list[places.Places]) -> dict:
    """Places from the database (the prestataire's last figure), not the YAML."""
    etat = places.resumer(lignes)
    par_session = {ligne.session: ligne for ligne in lignes}
    aujourd_hui = date.today()
    sessions = [
        SessionPlaces(
            debut=s.debut,
            fin=s.fin,
            places=s.places,
            places_restantes=getattr(
                par_session.get(places.cle_session(s.debut)), "places_restantes", None
            ),
        )
        for s in sorted(fiche.sessions, key=lambda s: s.debut)
        if s.debut >= aujourd_hui
    ]
    return ExtensionPlaces(
        capacite=fiche.capacite.nombre,
        unite=fiche.capacite.unite,
        places_restantes=etat.places_restantes if lignes else None,
        places_maj_le=etat.maj_le.date() if lignes and etat.maj_le else None,
        sessions=sessions,
    ).model_dump(mode="json")
