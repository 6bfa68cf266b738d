"""Search: one small interface, several engines.

The web layer holds one engine and only uses the names defined here. Every
engine indexes the same flat document (``documents.py``) and reads the same
language data (``langue.py``); ``fabrique.py`` builds the configured one.
This module imports no engine, so engines can import it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from catalogue.vocabulaires import categorie_thematique, vocabulaire

# Facets shown to users, in display order. OR within a facet, AND across.
FACETTES = (
    "categories_thematiques",
    "thematiques",
    "publics",
    "categorie",
    "type",
    "frais",
    "modes_accueil",
    "mobilisable_par",
    "statut",
)
TRIS = ("pertinence", "places", "distance", "nom")
# Searchable fields, most important first (both engines weigh them this way).
CHAMPS_TEXTE = (
    "nom",
    "thematiques_libelles",
    "publics_libelles",
    "publics_precisions",
    "structure_nom",
    "communes",
    "resume",
    "description",
)
CHAMPS_SURLIGNES = ("nom", "resume")
PAR_PAGE_MAX = 100
# Words (or expressions) of a search taken into account, as Meilisearch does;
# the following ones are ignored, and said so.
MOTS_MAX = 10
RAYON_MAX_KM = 200
# Facet -> the vocabulary its values come from (categories_thematiques aside).
VOCABULAIRE_DES_FACETTES = {
    "thematiques": "thematiques",
    "publics": "publics",
    "categorie": "categories",
    "type": "types",
    "frais": "frais",
    "modes_accueil": "modes_accueil",
    "mobilisable_par": "mobilisable_par",
    "statut": "statuts",
}


class RechercheIndisponible(Exception):
    """The search engine cannot answer (server down, misconfigured, task failed)."""


@dataclass(frozen=True)
class Requete:
    texte: str = ""
    # facet name -> accepted values (OR); facets combine with AND
    filtres: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # zone_eligibilite codes that cover the person's commune (commune, EPCI, dept)
    zone: tuple[str, ...] = ()
    # (latitude, longitude) of the person's commune, for distance
    point: tuple[float, float] | None = None
    rayon_km: float | None = None
    places_disponibles: bool = False
    tri: str = "pertinence"
    page: int = 1
    par_page: int = 20
    facettes: tuple[str, ...] = FACETTES


@dataclass(frozen=True)
class Resultat:
    id: str
    distance_km: float | None = None
    places_restantes: int | None = None
    places_maj_le: str | None = None  # ISO date or datetime
    # field -> HTML-escaped text with <mark>…</mark> around matches
    surlignage: dict[str, str] = field(default_factory=dict)

    @property
    def complet(self) -> bool:
        return self.places_restantes == 0


@dataclass(frozen=True)
class Resultats:
    total: int
    page: int
    par_page: int
    resultats: list[Resultat]
    facettes: dict[str, dict[str, int]]
    # Served by the fallback engine: results may lag a few minutes behind.
    degrade: bool = False
    # Typed words left out so that the others could find something.
    mots_ignores: tuple[str, ...] = ()
    # Among all the results: actions with places left, and full ones
    # (None: this engine does not count them; ask with more searches).
    places_libres: int | None = None
    places_completes: int | None = None


class MoteurRecherche(Protocol):
    def indexer(self, documents: Iterable[dict]) -> None:
        """Add or replace these documents; the most recent places win."""

    def maj_places(
        self, fiche_id: str, places_restantes: int | None, maj_le: datetime
    ) -> None:
        """Record a new number of remaining places; visible to the next search."""

    def places(self, fiche_ids: Iterable[str]) -> dict[str, dict]:
        """Current place fields (champs_places) of these fiches, read now."""

    def supprimer(self, fiche_ids: Iterable[str]) -> None: ...

    def empreintes(self) -> dict[str, str]:
        """Fiche id -> fingerprint of its indexed content (to sync changes)."""

    def rechercher(self, requete: Requete) -> Resultats: ...

    def reconstruire(
        self,
        documents: Iterable[dict],
        progression: Callable[[int], None] | None = None,
    ) -> None:
        """Rebuild the whole index from scratch, swapped in atomically."""


def requetes_des_facettes_ouvertes(requete: Requete) -> list[tuple[str, Requete]]:
    """For each ticked facet, the count-only query that leaves it unticked."""
    return [
        (
            facette,
            replace(
                requete,
                filtres={f: v for f, v in requete.filtres.items() if f != facette},
                facettes=(facette,),
                page=1,
                par_page=1,
            ),
        )
        for facette in requete.filtres
    ]


def rechercher_avec_facettes_ouvertes(
    moteur: MoteurRecherche, requete: Requete
) -> Resultats:
    """The results, with each ticked facet counted as if it were not ticked.

    Values of one facet combine with OR, so a box's count must say how many
    results ticking it would give: engines count within the current results,
    hence one cheap extra count per facet in use. An engine behind a network
    answers all of it in one round trip (its ``rechercher_avec_facettes_ouvertes``).
    """
    en_un_appel = getattr(moteur, "rechercher_avec_facettes_ouvertes", None)
    if en_un_appel is not None:
        return en_un_appel(requete)
    resultats = moteur.rechercher(requete)
    facettes = dict(resultats.facettes)
    for facette, sans in requetes_des_facettes_ouvertes(requete):
        facettes[facette] = moteur.rechercher(sans).facettes.get(facette, {})
    return replace(resultats, facettes=facettes)


def valeurs_connues(facette: str) -> set[str]:
    """The values a facet accepts."""
    if facette == "categories_thematiques":
        return {categorie_thematique(t) for t in vocabulaire("thematiques")}
    return set(vocabulaire(VOCABULAIRE_DES_FACETTES[facette]))
