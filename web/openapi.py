"""The OpenAPI 3.1 description of /api/v1, built from the search constants."""

from catalogue.recherche import (
    FACETTES,
    PAR_PAGE_MAX,
    RAYON_MAX_KM,
    TRIS,
    valeurs_connues,
)
from web.parametres import NOMS_DES_FACETTES


def _parametre(nom: str, description: str, schema: dict) -> dict:
    return {"name": nom, "in": "query", "description": description, "schema": schema}


def _facette(nom: str) -> dict:
    valeurs = {"type": "string", "enum": sorted(valeurs_connues(nom))}
    return {
        **_parametre(
            nom,
            f"Filtre « {NOMS_DES_FACETTES[nom]} » : une ou plusieurs valeurs "
            "(répétées ou séparées par des virgules), combinées par OU ; les "
            "filtres différents se combinent par ET.",
            {"type": "array", "items": valeurs},
        ),
        "style": "form",
        "explode": True,
    }


PARAMETRES_TEXTE = [
    _parametre(
        "q",
        "Texte cherché : casse, accents et fautes de frappe sont tolérés ; le "
        "dernier mot peut être incomplet.",
        {"type": "string", "maxLength": 200},
    ),
    _parametre(
        "commune",
        "Commune de la personne (code INSEE, code postal, nom ou « Nom (code "
        "postal) ») : garde les fiches dont la zone d'éligibilité la couvre.",
        {"type": "string"},
    ),
    _parametre(
        "rayon_km",
        "Avec « commune » : garde les actions sur place à moins de ce rayon, "
        "et les actions à distance.",
        {"type": "number", "exclusiveMinimum": 0, "maximum": RAYON_MAX_KM},
    ),
    _parametre(
        "places_disponibles",
        "1 : seulement les actions qui ont des places restantes.",
        {"type": "string", "enum": ["0", "1"]},
    ),
    _parametre("tri", "Ordre des résultats.", {"type": "string", "enum": list(TRIS)}),
    _parametre("page", "Page (à partir de 1).", {"type": "integer", "minimum": 1}),
    _parametre(
        "par_page",
        "Résultats par page.",
        {"type": "integer", "minimum": 1, "maximum": PAR_PAGE_MAX, "default": 20},
    ),
]

RESULTAT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "nom": {"type": "string"},
        "resume": {"type": "string"},
        "structure": {"type": ["string", "null"]},
        "url": {"type": "string", "format": "uri"},
        "distance_km": {"type": ["number", "null"]},
        "places_restantes": {
            "type": ["integer", "null"],
            "description": "null : places non suivies.",
        },
        "complet": {"type": "boolean"},
        "places_maj_le": {"type": ["string", "null"]},
        "surlignage": {
            "type": "object",
            "description": "Texte échappé (HTML) avec <mark> autour des mots trouvés.",
            "additionalProperties": {"type": "string"},
        },
    },
}
ERREUR = {
    "type": "object",
    "properties": {"erreur": {"type": "string"}, "statut": {"type": "integer"}},
}


def _reponse(description: str, schema: dict) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def document_openapi() -> dict:
    comptes = {"type": "object", "additionalProperties": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Offre d'insertion : API de lecture", "version": "1"},
        "paths": {
            "/api/v1/fiches": {
                "get": {
                    "summary": "Chercher des fiches actions",
                    "parameters": PARAMETRES_TEXTE[:1]
                    + [_facette(f) for f in FACETTES]
                    + PARAMETRES_TEXTE[1:],
                    "responses": {
                        "200": _reponse(
                            "Une page de résultats et le nombre de fiches par filtre.",
                            {
                                "type": "object",
                                "properties": {
                                    "total": {"type": "integer"},
                                    "page": {"type": "integer"},
                                    "par_page": {"type": "integer"},
                                    "resultats": {"type": "array", "items": RESULTAT},
                                    "facettes": {
                                        "type": "object",
                                        "properties": {f: comptes for f in FACETTES},
                                    },
                                    "avertissement": {"type": "string"},
                                    "mots_ignores": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "description": "Mots laissés de côté pour "
                                        "que les autres trouvent des fiches.",
                                    },
                                },
                            },
                        ),
                        "400": _reponse(
                            "Paramètre invalide (message en français).", ERREUR
                        ),
                    },
                }
            },
            "/api/v1/fiches/{fiche_id}": {
                "get": {
                    "summary": "Lire une fiche action",
                    "parameters": [
                        {
                            "name": "fiche_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _reponse("La fiche complète.", {"type": "object"}),
                        "404": _reponse("Fiche inconnue.", ERREUR),
                    },
                }
            },
            "/api/v1/communes": {
                "get": {
                    "summary": "Suggérer des communes (nom ou code postal)",
                    "parameters": [
                        _parametre(
                            "q", "Début du nom ou du code postal.", {"type": "string"}
                        )
                    ],
                    "responses": {
                        "200": _reponse("Jusqu'à 8 communes.", {"type": "array"})
                    },
                }
            },
        },
    }
