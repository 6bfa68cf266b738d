"""The OpenAPI 3.1 description of /api/v1, generated from the pydantic models.

Parameters come from ``ParametresRecherche`` (the model that validates them),
the fiche from ``Fiche``, answers and errors from the models below: the
document cannot drift from the code.
"""

from datetime import date
from functools import cache

from data_inclusion.schema import v1
from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import models_json_schema

from catalogue.fiche import Fiche
from catalogue.recherche import FACETTES
from web.parametres import (
    ParametresPagination,
    ParametresRecherche,
    ParametresServices,
)
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
    places_restantes: int | None = Field(
        description="null : places non suivies, ou pas de limite de places."
    )
    places_maj_le: str | None
    surlignage: dict[str, str] = Field(
        description="Texte échappé (HTML) avec <mark> autour des mots trouvés."
    )
    complet: bool


class LieuProposeJson(BaseModel):
    libelle: str = Field(description="La commune, l'EPCI ou le département lu.")
    mots: str = Field(description="Les autres mots de la recherche.")
    rayon_km: float | None = Field(description="La distance tapée avec la commune.")
    url: str = Field(description="La même recherche à ce lieu (cette API).")


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
    lieu_propose: LieuProposeJson | None = Field(
        None,
        description="Présent quand des mots laissés de côté nomment un lieu "
        "(« permis à 10 km de Massy ») : la page de recherche y va d'elle-même, "
        "l'API le propose.",
    )


class CommuneJson(BaseModel):
    code_insee: str
    nom: str
    codes_postaux: list[str]
    departement: str | None
    libelle: str


# --- Open data (/api/v1/data-inclusion/…) ---


class SessionPlaces(BaseModel):
    debut: date
    fin: date | None
    places: int | None = Field(description="Capacité de la session.")
    places_restantes: int | None = Field(description="null : places non suivies.")


class ExtensionPlaces(BaseModel):
    """Ce que data·inclusion ne dit pas encore : les places."""

    capacite: float | None = Field(description="Nombre de places de l'action.")
    unite: str | None = Field(description="Ce que compte la capacité.")
    places_restantes: int | None = Field(
        description="Places libres maintenant (null : non suivies)."
    )
    places_maj_le: date | None = Field(description="Dernier changement des places.")
    sessions: list[SessionPlaces] = Field(description="Sessions à venir.")


class ServiceDI(v1.Service):
    """Un service data·inclusion v1, avec l'extension des places."""

    extra: ExtensionPlaces


def _page(nom: str, modele: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        nom,
        __doc__="Une page d'enregistrements (paramètres page et taille).",
        items=(list[modele], ...),
        total=(int, Field(description="Nombre d'enregistrements en tout.")),
        page=(int, ...),
        taille=(int, ...),
        pages=(int, Field(description="Nombre de pages à cette taille.")),
    )


PageStructures = _page("PageStructuresDI", v1.Structure)
PageServices = _page("PageServicesDI", ServiceDI)


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


def _parametres(modele: type[BaseModel] = ParametresRecherche) -> list[dict]:
    """Each field of the model as a query parameter."""
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


# Answers that read the database (places) when it does not answer.
INDISPONIBLE = _reponse(
    "Base de données momentanément injoignable (message en français).", "Erreur"
)
ERREURS = {
    "404": _reponse("Adresse inconnue.", "Erreur"),
    "405": _reponse("Méthode non acceptée.", "Erreur"),
    "414": _reponse("Adresse trop longue.", "Erreur"),
    "500": _reponse("Erreur du serveur.", "Erreur"),
}


PAGES_DI = {"structures": PageStructures, "services": PageServices}


def _chemin_di(quoi: str, modele: str) -> dict:
    return {
        "get": {
            "summary": f"Les {quoi} au schéma data·inclusion v1 (données ouvertes)",
            "description": "Source pour l'agrégateur national data·inclusion : "
            "parcourir les pages jusqu'à « pages »."
            + (
                " Chaque service porte l'extension des places dans « extra »."
                if quoi == "services"
                else ""
            ),
            "operationId": f"data_inclusion_{quoi}",
            "parameters": _parametres(
                ParametresServices if quoi == "services" else ParametresPagination
            ),
            "responses": {
                "200": _reponse(f"Une page de {quoi}.", modele),
                "400": _reponse("Paramètre invalide (message en français).", "Erreur"),
                **({"503": INDISPONIBLE} if quoi == "services" else {}),
                **ERREURS,
            },
        }
    }


@cache
def document_openapi() -> dict:
    _, schemas = models_json_schema(
        [
            (m, "serialization")
            for m in (
                Fiche,
                ResultatsJson,
                CommuneJson,
                Erreur,
                PilotageJson,
                *PAGES_DI.values(),
            )
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
                        "503": INDISPONIBLE,
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
            **{
                f"/api/v1/data-inclusion/{quoi}": _chemin_di(quoi, modele.__name__)
                for quoi, modele in PAGES_DI.items()
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
