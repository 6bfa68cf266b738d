"""Meilisearch engine (production), with the official client.

Meilisearch answers writes with a task and never raises when the task later
fails: every write here waits for its task and raises RechercheIndisponible
unless it succeeded. Every client error becomes that one typed error.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

import meilisearch
import requests
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from catalogue.recherche import (
    CHAMPS_SURLIGNES,
    CHAMPS_TEXTE,
    FACETTES,
    RechercheIndisponible,
    Requete,
    Resultat,
    Resultats,
    requetes_des_facettes_ouvertes,
)
from catalogue.recherche.documents import champs_places, places_les_plus_recentes
from catalogue.recherche.langue import (
    DEBUT_MARQUE,
    FIN_MARQUE,
    mots_vides,
    mots_vides_ecrits,
    surligner,
    synonymes,
)
from catalogue.territoires import distance_km

LOT = 1000
CHAMPS_PLACES = ("places_restantes", "places_maj_le")
ATTENTE_MS = 30_000
# Searches wait this long (connect, then read) before the fallback answers;
# writes may take longer to be accepted (large batches).
DELAI_S = 0.5
ECRITURE_PLUS_LENTE = 10
TRI = {
    "pertinence": ["complet:asc"],
    "places": ["places_tri:desc"],
    "nom": ["nom_tri:asc"],
}


def cite(valeur: str) -> str:
    """A filter value in double quotes, with backslashes and quotes escaped."""
    return '"' + str(valeur).replace("\\", "\\\\").replace('"', '\\"') + '"'


def filtre_ids(ids: Iterable[str]) -> list:
    return [[f"id = {cite(i)}" for i in ids]]


def synonymes_meilisearch() -> dict[str, list[str]]:
    """Our groups as Meilisearch wants them: each expression -> the others."""
    table: dict[str, list[str]] = {}
    for groupe in synonymes():
        for expression in groupe:
            autres = [e for e in groupe if e != expression]
            table.setdefault(expression, []).extend(autres)
    return table


def reglages() -> dict:
    """The index settings (sent at first write and on every rebuild)."""
    return {
        "searchableAttributes": list(CHAMPS_TEXTE),
        "filterableAttributes": [
            "id",
            *FACETTES,
            "zone",
            "places_restantes",
            "session_ouverte",
            "a_distance",
            "_geo",
        ],
        "sortableAttributes": ["complet", "places_tri", "nom_tri", "_geo"],
        # "sort" first: full actions go last, then relevance decides.
        "rankingRules": [
            "sort",
            "words",
            "typo",
            "proximity",
            "attribute",
            "exactness",
        ],
        "displayedAttributes": [
            "id",
            "nom",
            "resume",
            "lieux",
            "empreinte",
            *CHAMPS_PLACES,
        ],
        "faceting": {"maxValuesPerFacet": 200, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": 100_000},
        # As written and without accents: Meilisearch compares them as given.
        "stopWords": sorted(set(mots_vides_ecrits()) | mots_vides()),
        "synonyms": synonymes_meilisearch(),
        # Codes (zone, slugs) are filters, never searched; numbers get no typo.
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnNumbers": True,
        },
        "localizedAttributes": [
            {"attributePatterns": list(CHAMPS_TEXTE), "locales": ["fra"]}
        ],
    }


def filtre(requete: Requete) -> list:
    """Meilisearch's array form: the outer list is AND, inner lists are OR."""
    filtres = dict(requete.filtres)
    filtres.setdefault("statut", ("active",))
    clauses: list = [
        [f"{facette} = {cite(v)}" for v in valeurs]
        for facette, valeurs in filtres.items()
    ]
    if requete.zone:
        clauses.append([f"zone = {cite(code)}" for code in requete.zone])
    if requete.places_disponibles:
        clauses.append(["places_restantes > 0", "session_ouverte = true"])
    if requete.rayon_km is not None and requete.point:
        lat, lng = requete.point
        metres = round(requete.rayon_km * 1000)
        clauses.append(
            [f"_geoRadius({lat:.6f}, {lng:.6f}, {metres})", "a_distance = true"]
        )
    return clauses


def parametres(requete: Requete) -> dict:
    """The body of a search request."""
    tri = TRI.get(requete.tri, TRI["pertinence"])
    if requete.tri == "distance" and requete.point:
        tri = ["_geoPoint({:.6f}, {:.6f}):asc".format(*requete.point)]
    return {
        "filter": filtre(requete),
        "facets": list(requete.facettes),
        "sort": tri,
        "page": requete.page,
        "hitsPerPage": requete.par_page,
        "matchingStrategy": "all",
        "locales": ["fra"],
        "attributesToRetrieve": ["id", "lieux", *CHAMPS_PLACES],
        "attributesToHighlight": list(CHAMPS_SURLIGNES) if requete.texte else [],
        "highlightPreTag": DEBUT_MARQUE,
        "highlightPostTag": FIN_MARQUE,
    }


def resultat(hit: dict, point: tuple[float, float] | None) -> Resultat:
    distance = None
    if point and hit.get("lieux"):
        distance = min(distance_km(*point, p["lat"], p["lng"]) for p in hit["lieux"])
    formate = hit.get("_formatted") or {}
    return Resultat(
        id=hit["id"],
        distance_km=round(distance, 1) if distance is not None else None,
        places_restantes=hit.get("places_restantes"),
        places_maj_le=hit.get("places_maj_le"),
        surlignage={c: surligner(formate[c]) for c in CHAMPS_SURLIGNES if c in formate},
    )


class MoteurMeilisearch:
    def __init__(
        self,
        url: str | None,
        cle: str | None,
        nom_index: str,
        delai_s: float = DELAI_S,
    ):
        self.nom_index = nom_index
        self._client = self._client_ecriture = None
        if url:
            # requests' (connect, read) timeouts: a server that accepts and
            # never answers costs ``delai_s``, not a worker.
            self._client = meilisearch.Client(url, cle, timeout=(delai_s, delai_s))
            ecriture = (delai_s, delai_s * ECRITURE_PLUS_LENTE)
            self._client_ecriture = meilisearch.Client(url, cle, timeout=ecriture)
        self._pret = False

    @contextmanager
    def _erreurs(self, quoi: str, lecture=False) -> Iterator[meilisearch.Client]:
        client = self._client if lecture else self._client_ecriture
        if client is None:
            raise RechercheIndisponible("Meilisearch n'est pas configuré (MEILI_URL)")
        try:
            yield client
        except (MeilisearchError, requests.RequestException, ValueError) as e:
            raise RechercheIndisponible(f"Meilisearch, {quoi} : {e}") from e

    def _attendre(self, client, tache, sauf: str | None = None) -> None:
        fin = client.wait_for_task(tache.task_uid, timeout_in_ms=ATTENTE_MS)
        if fin.status != "succeeded" and (fin.error or {}).get("code") != sauf:
            message = (fin.error or {}).get("message", fin.status)
            raise RechercheIndisponible(
                f"Meilisearch, tâche {fin.uid} ({fin.type}) en échec : {message}"
            )

    def _preparer(self, client, nom: str) -> None:
        """Create the index if needed and apply the settings."""
        try:
            client.get_index(nom)
        except MeilisearchApiError as e:
            if e.code != "index_not_found":
                raise
            self._attendre(client, client.create_index(nom, {"primaryKey": "id"}))
        self._attendre(client, client.index(nom).update_settings(reglages()))

    # --- Writing ---

    def indexer(self, documents: Iterable[dict]) -> None:
        with self._erreurs("indexation") as client:
            if not self._pret:
                self._preparer(client, self.nom_index)
                self._pret = True
            for lot in _lots(list(documents)):
                anciens = self._places(client, [d["id"] for d in lot])
                lot = [places_les_plus_recentes(d, anciens.get(d["id"])) for d in lot]
                index = client.index(self.nom_index)
                self._attendre(client, index.add_documents(lot, primary_key="id"))

    def maj_places(
        self, fiche_id: str, places_restantes: int | None, maj_le: datetime
    ) -> None:
        # Only the place fields travel; skip_creation keeps a deleted fiche away.
        champs = champs_places(places_restantes, maj_le.isoformat(timespec="seconds"))
        with self._erreurs("mise à jour des places") as client:
            tache = client.index(self.nom_index).update_documents(
                [{"id": fiche_id, **champs}], skip_creation=True
            )
            self._attendre(client, tache)

    def supprimer(self, fiche_ids: Iterable[str]) -> None:
        ids = list(fiche_ids)
        with self._erreurs("suppression") as client:
            tache = client.index(self.nom_index).delete_documents(
                filter=filtre_ids(ids)
            )
            self._attendre(client, tache)

    def empreintes(self) -> dict[str, str]:
        with self._erreurs("lecture des empreintes", lecture=True) as client:
            return {
                d["id"]: d.get("empreinte", "")
                for d in self._tous(client, self.nom_index, ["id", "empreinte"])
            }

    def reconstruire(
        self,
        documents: Iterable[dict],
        progression: Callable[[int], None] | None = None,
    ) -> None:
        """Fill a new index, then swap it with the live one in one task."""
        neuf = f"{self.nom_index}_neuf"
        with self._erreurs("reconstruction") as client:
            anciens = {
                d["id"]: d
                for d in self._tous(client, self.nom_index, ["id", *CHAMPS_PLACES])
            }
            # A previous rebuild may have stopped half-way.
            self._attendre(client, client.delete_index(neuf), sauf="index_not_found")
            self._preparer(client, neuf)
            for lot in _lots(list(documents)):
                lot = [places_les_plus_recentes(d, anciens.get(d["id"])) for d in lot]
                index = client.index(neuf)
                self._attendre(client, index.add_documents(lot, primary_key="id"))
                if progression:
                    progression(len(lot))
            if not anciens:
                self._preparer(client, self.nom_index)
            tache = client.swap_indexes([{"indexes": [self.nom_index, neuf]}])
            self._attendre(client, tache)
            self._attendre(client, client.delete_index(neuf))
            self._pret = True

    def detruire(self) -> None:
        """Delete the index (tests clean up after themselves)."""
        with self._erreurs("suppression de l'index") as client:
            self._attendre(client, client.delete_index(self.nom_index))

    # --- Reading ---

    def rechercher(self, requete: Requete) -> Resultats:
        with self._erreurs("recherche", lecture=True) as client:
            reponse = client.index(self.nom_index).search(
                requete.texte, parametres(requete)
            )
        return self._resultats(requete, reponse)

    def rechercher_avec_facettes_ouvertes(self, requete: Requete) -> Resultats:
        """The page and each ticked facet's counts in one multi-search request."""
        ouvertes = requetes_des_facettes_ouvertes(requete)
        corps = [
            {"indexUid": self.nom_index, "q": r.texte, **parametres(r)}
            for r in [requete, *(sans for _, sans in ouvertes)]
        ]
        with self._erreurs("recherche", lecture=True) as client:
            reponses = client.multi_search(corps)["results"]
        resultats = self._resultats(requete, reponses[0])
        facettes = dict(resultats.facettes)
        for (facette, sans), reponse in zip(ouvertes, reponses[1:], strict=True):
            facettes[facette] = self._resultats(sans, reponse).facettes[facette]
        return replace(resultats, facettes=facettes)

    @staticmethod
    def _resultats(requete: Requete, reponse: dict) -> Resultats:
        return Resultats(
            total=reponse.get("totalHits", 0),
            page=requete.page,
            par_page=requete.par_page,
            resultats=[resultat(h, requete.point) for h in reponse["hits"]],
            facettes={
                f: dict(reponse.get("facetDistribution", {}).get(f, {}))
                for f in requete.facettes
            },
        )

    def places(self, fiche_ids: Iterable[str]) -> dict[str, dict]:
        with self._erreurs("lecture des places", lecture=True) as client:
            return self._places(client, list(fiche_ids))

    def _places(self, client, ids: list[str]) -> dict[str, dict]:
        try:
            reponse = client.index(self.nom_index).get_documents(
                {
                    "filter": filtre_ids(ids),
                    "fields": ["id", *CHAMPS_PLACES],
                    "limit": len(ids),
                }
            )
        except MeilisearchApiError as e:
            if e.code == "index_not_found":
                return {}
            raise
        return {d["id"]: d for d in map(dict, reponse.results)}

    @staticmethod
    def _tous(client, nom: str, champs: list[str]) -> list[dict]:
        """Every document of an index (only these fields); none if it is absent."""
        docs: list[dict] = []
        try:
            while True:
                page = client.index(nom).get_documents(
                    {"fields": champs, "limit": LOT, "offset": len(docs)}
                )
                docs += map(dict, page.results)
                if len(docs) >= page.total or not page.results:
                    return docs
        except MeilisearchApiError as e:
            if e.code == "index_not_found":
                return []
            raise


def _lots(docs: list[dict]) -> Iterator[list[dict]]:
    for debut in range(0, len(docs), LOT):
        yield docs[debut : debut + LOT]
