"""Search parameters of the page and the API: query string -> Requete."""

from flask import current_app, has_app_context

from catalogue.recherche import (
    FACETTES,
    PAR_PAGE_MAX,
    RAYON_MAX_KM,
    TRIS,
    Requete,
    valeurs_connues,
)
from catalogue.territoires import (
    Referentiel,
    Resolution,
    departements_des_zones,
    referentiel,
)

# Query-string parameters of the search page and of GET /api/v1/fiches.
PARAMETRES = (
    "q",
    *FACETTES,
    "commune",
    "rayon_km",
    "places_disponibles",
    "tri",
    "page",
    "par_page",
)


class ParametreInvalide(ValueError):
    """A search parameter the user can fix; the message is French, for them."""


NOMS_DES_FACETTES = {
    "categories_thematiques": "catégorie de thématique",
    "thematiques": "thématique",
    "publics": "public",
    "categorie": "catégorie",
    "type": "type d'action",
    "frais": "frais",
    "modes_accueil": "mode d'accueil",
    "mobilisable_par": "mobilisable par",
    "statut": "statut",
}
OUI = {"1", "true", "oui", "on"}


def _liste(args, nom: str) -> list[str]:
    """Repeated (?a=1&a=2) or comma-separated (?a=1,2) values."""
    brutes = args.getlist(nom) if hasattr(args, "getlist") else [args.get(nom) or ""]
    return [v.strip() for brute in brutes for v in brute.split(",") if v.strip()]


def _entier(args, nom: str, defaut: int, mini: int, maxi: int) -> int:
    brut = (args.get(nom) or "").strip()
    if not brut:
        return defaut
    if not brut.isdigit() or not mini <= int(brut) <= maxi:
        raise ParametreInvalide(
            f"« {nom} » doit être un nombre entier entre {mini} et {maxi} "
            f"(reçu : « {brut} »)."
        )
    return int(brut)


def _rayon(args) -> float | None:
    brut = (args.get("rayon_km") or "").strip().replace(",", ".")
    if not brut:
        return None
    try:
        rayon = float(brut)
    except ValueError:
        rayon = -1.0
    if not 0 < rayon <= RAYON_MAX_KM:
        raise ParametreInvalide(
            f"Le rayon doit être un nombre de kilomètres entre 1 et {RAYON_MAX_KM} "
            f"(reçu : « {brut} »)."
        )
    return rayon


def _filtres(args) -> dict[str, tuple[str, ...]]:
    filtres = {}
    for facette in FACETTES:
        valeurs = _liste(args, facette)
        inconnues = [v for v in valeurs if v not in valeurs_connues(facette)]
        if inconnues:
            raise ParametreInvalide(
                f"Valeur inconnue pour le filtre « {NOMS_DES_FACETTES[facette]} » : "
                f"« {inconnues[0]} »."
            )
        if valeurs:
            filtres[facette] = tuple(dict.fromkeys(valeurs))
    return filtres


def resoudre_lieu(texte: str, ref: Referentiel | None = None) -> Resolution:
    """The typed place, resolved toward where the catalogue has actions."""
    return (ref or referentiel()).lieux.resoudre(texte, _departements_du_catalogue())


def _departements_du_catalogue() -> frozenset[str]:
    if not has_app_context():
        return frozenset()
    extensions = current_app.extensions
    if "departements_du_catalogue" not in extensions:
        catalogue = extensions["catalogue"]
        codes = {
            code
            for fiche in catalogue.fiches.values()
            for code in (
                *fiche.zone_eligibilite,
                *(lieu.code_insee for lieu in fiche.lieux if lieu.code_insee),
            )
        }
        extensions["departements_du_catalogue"] = frozenset(
            departements_des_zones(codes, referentiel())
        )
    return extensions["departements_du_catalogue"]


def requete_depuis_args(args, ref: Referentiel | None = None) -> Requete:
    """Read ?q=&thematiques=&commune=&rayon_km=&tri=&page=… into a Requete.

    ``args`` is any mapping (werkzeug's MultiDict gives repeated values).
    Raises ParametreInvalide with a French message the user can act on.
    """
    zone, point, rayon = (), None, _rayon(args)
    nom_commune = (args.get("commune") or "").strip()
    if nom_commune:
        lieu = resoudre_lieu(nom_commune, ref).lieu
        if lieu is None:
            raise ParametreInvalide(
                f"Lieu introuvable : « {nom_commune} ». Tapez une commune, un code "
                "postal, une intercommunalité ou un département."
            )
        zone, point = lieu.codes_zone, lieu.point
    tri = (args.get("tri") or "pertinence").strip()
    if tri not in TRIS:
        raise ParametreInvalide(
            f"Tri inconnu : « {tri} » (possibles : {', '.join(TRIS)})."
        )
    if (rayon or tri == "distance") and point is None:
        raise ParametreInvalide(
            "Indiquez une commune pour chercher autour d'elle ou trier par distance."
        )
    return Requete(
        texte=(args.get("q") or "").strip()[:200],
        filtres=_filtres(args),
        zone=zone,
        point=point,
        rayon_km=rayon,
        places_disponibles=(args.get("places_disponibles") or "").lower() in OUI,
        tri=tri,
        page=_entier(args, "page", 1, 1, 1000),
        par_page=_entier(args, "par_page", 20, 1, PAR_PAGE_MAX),
    )
