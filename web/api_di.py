"""Open data: the catalogue in the data·inclusion schema, for the aggregator.

``GET /api/v1/data-inclusion/structures`` and ``…/services`` serve what
``make exporter`` writes (same mapping: ``catalogue.export``), page by page.
Each service carries our places extension in ``extra`` (data·inclusion keeps
unknown producer data there): the places the database holds now, the
capacity, and the coming sessions with their own places.
"""

import math

from flask import current_app, jsonify, request

from catalogue import heure, places
from catalogue.export import (
    fiches_exportees,
    services_data_inclusion,
    structure_data_inclusion,
)
from catalogue.territoires import departements_des_zones, referentiel
from catalogue.vocabulaires import categorie_thematique
from web.api import bp
from web.donnees import db
from web.openapi import ExtensionPlaces, SessionPlaces
from web.parametres import (
    ParametreInvalide,
    ParametresPagination,
    ParametresServices,
    lire_pagination,
)
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
        p = lire_pagination(request.args, ParametresServices)
    except ParametreInvalide as e:
        return erreur_json(400, str(e))
    catalogue = current_app.extensions["catalogue"]
    par_fiche: dict[str, list[places.Places]] = {}
    for ligne in places.lignes(db()):
        par_fiche.setdefault(ligne.fiche_id, []).append(ligne)
    services = []
    fiches = [f for f in fiches_exportees(catalogue) if _retenue(f, p)]
    for fiche in sorted(fiches, key=lambda f: f.id):
        lignes = par_fiche.get(fiche.id, [])
        extra = _extension(fiche, lignes)
        for service in services_data_inclusion(
            fiche, catalogue.structures[fiche.structure], lien_de_la_fiche(fiche)
        ):
            if _service_retenu(service, p):
                services.append({**service, "extra": extra})
    return _paginer(services, p)


def _service_retenu(service: dict, p) -> bool:
    """Thématiques and publics as the service carries them (each filter AND,
    its values OR)."""
    if p.thematiques and not any(
        t in p.thematiques or categorie_thematique(t) in p.thematiques
        for t in service["thematiques"] or ()
    ):
        return False
    return not p.publics or bool(set(service["publics"] or ()) & set(p.publics))


def _retenue(fiche, p) -> bool:
    """Whether the fiche's place or zone is in the territory asked for."""
    ref = referentiel()
    if p.code_departement:
        codes = [*fiche.zone_eligibilite, *(lieu.code_insee for lieu in fiche.lieux)]
        if p.code_departement not in departements_des_zones(filter(None, codes), ref):
            return False
    if p.code_insee:
        commune = ref.communes.get(p.code_insee)
        if commune is None or not set(commune.codes_zone) & set(fiche.zone_eligibilite):
            return False
    return True


def lien_de_la_fiche(fiche) -> str:
    """The fiche's public page, from URL_PUBLIQUE (the API and the export)."""
    return url_absolue("catalogue.fiche", fiche_id=fiche.id)


def _extension(fiche, lignes: list[places.Places]) -> dict:
    """Places from the database (the prestataire's last figure), not the YAML."""
    etat = places.resumer(lignes)
    par_session = {ligne.session: ligne for ligne in lignes}
    aujourd_hui = heure.aujourd_hui()
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
        places_maj_le=heure.jour(etat.maj_le) if lignes and etat.maj_le else None,
        sessions=sessions,
    ).model_dump(mode="json")
