"""The OpenAPI 3.1 description of /api/v1, generated from the pydantic models.

Parameters come from ``ParametresRecherche`` (the model that validates them),
the fiche from ``Fiche``, answers and errors from the models below: the
document cannot drift from the code.
"""

from functools import cache

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from catalogue.fiche import Fiche
from catalogue.recherche import FACETTES
from web.parametres import ParametresRecherche
from web.pilotage import ParametresPilotage, PilotageJson

REF = "#/components/schemas/{model}"


class Erreur(BaseModel):
    """Every API error, whatever its status."""

    erreur: str = Field(description="Ce qui ne va pas, en français.")
    statut: int = Field(description="Le code HTTP de la réponse.")


class ResultatJson(BaseModel):
    id: str
    nom: str | None
    resume: str | None
    structure: str | None
    url: str = Field(description="Adresse de la fiche dans l'API.")
    distance_km: float | None
    places_restantes: int | None = Field(description="null : places non suivies.")
    places_maj_le: str | None
    surlignage: dict[str, str] = Field(
        description="Texte échappé (HTML) avec <mark> autour des mots trouvés."
    )
    complet: bool


class ResultatsJson(BaseModel):
    total: int
    page: int
    par_page: int
    resultats: list[ResultatJson]
    facettes: dict[str, dict[str, int]] = Field(
        description=f"Nombre de fiches par valeur de filtre ({', '.join(FACETTES)})."
    )
    avertissement: str | None = Field(
        None, description="Présent quand l'index de secours a répondu."
    )
    mots_ignores: list[str] = Field(
        default_factory=list,
        description="Mots laissés de côté pour que les autres trouvent des fiches.",
    )


class CommuneJson(BaseModel):
    code_insee: str
    nom: str
    codes_postaux: list[str]
    departement: str | None
    libelle: str


def _reponse(description: str, modele: str | None = None, tableau=False) -> dict:
    if modele is None:
        return {"description": description}
    schema: dict = {"$ref": REF.format(model=modele)}
    if tableau:
        schema = {"type": "array", "items": schema}
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _parametres(modele=ParametresRecherche) -> list[dict]:
    """Each field of the model (ParametresRecherche by default) as a query
    parameter."""
    schema = modele.model_json_schema(ref_template=REF)
    parametres = []
    for nom, propriete in schema["properties"].items():
        propriete = dict(propriete)
        description = propriete.pop("description", "")
        propriete.pop("title", None)
        parametre = {
            "name": nom,
            "in": "query",
            "description": description,
            "schema": propriete,
        }
        if propriete.get("type") == "array":
            parametre |= {"style": "form", "explode": True}
        parametres.append(parametre)
    return parametres


ERREURS = {
    "404": _reponse("Adresse inconnue.", "Erreur"),
    "405": _reponse("Méthode non acceptée.", "Erreur"),
    "414": _reponse("Adresse trop longue.", "Erreur"),
    "500": _reponse("Erreur du serveur.", "Erreur"),
}


@cache
def document_openapi() -> dict:
    _, schemas = models_json_schema(
        [
            (m, "serialization")
            for m in (Fiche, ResultatsJson, CommuneJson, Erreur, PilotageJson)
        ],
        ref_template=REF,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Offre d'insertion : API de lecture",
            "version": "1",
            "description": "Chaque erreur répond en JSON, en français (schéma Erreur).",
        },
        "paths": {
            "/api/v1/fiches": {
                "get": {
                    "summary": "Chercher des fiches actions",
                    "operationId": "chercher",
                    "parameters": _parametres(),
                    "responses": {
                        "200": _reponse(
                            "Une page de résultats et le nombre de fiches par filtre.",
                            "ResultatsJson",
                        ),
                        "400": _reponse(
                            "Paramètre invalide (message en français).", "Erreur"
                        ),
                        "503": _reponse(
                            "La recherche est momentanément indisponible.", "Erreur"
                        ),
                        **ERREURS,
                    },
                }
            },
            "/api/v1/fiches/{fiche_id}": {
                "get": {
                    "summary": "Lire une fiche action",
                    "operationId": "lire_fiche",
                    "parameters": [
                        {
                            "name": "fiche_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _reponse("La fiche complète.", "Fiche"),
                        **ERREURS,
                    },
                }
            },
            "/api/v1/communes": {
                "get": {
                    "summary": "Suggérer des communes (nom ou code postal)",
                    "operationId": "suggerer_communes",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "description": "Début du nom ou du code postal.",
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _reponse(
                            "Jusqu'à 8 communes.", "CommuneJson", tableau=True
                        ),
                        **ERREURS,
                    },
                }
            },
            "/api/v1/pilotage": {
                "get": {
                    "summary": "Chiffres de pilotage (département, prestataires)",
                    "description": "Réservé aux professionnels connectés (cookie "
                    "de session de l'espace professionnel) : le département voit "
                    "toutes les actions, un prestataire les siennes. De 1 à "
                    "seuil - 1, un nombre est masqué (null), avec d'autres pour "
                    "qu'aucun total ne le redonne.",
                    "operationId": "pilotage",
                    "parameters": _parametres(ParametresPilotage),
                    "responses": {
                        "200": _reponse("Les chiffres de la période.", "PilotageJson"),
                        "400": _reponse(
                            "Paramètre invalide (message en français).", "Erreur"
                        ),
                        "401": _reponse("Connexion nécessaire.", "Erreur"),
                        "403": _reponse(
                            "Réservé au département et aux prestataires.", "Erreur"
                        ),
                        **ERREURS,
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "Ce document",
                    "operationId": "openapi",
                    "responses": {"200": _reponse("Le document OpenAPI 3.1.")},
                }
            },
        },
        "components": {"schemas": schemas["$defs"]},
    }
