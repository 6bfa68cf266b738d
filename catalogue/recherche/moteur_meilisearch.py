"""Meilisearch engine (production), with the official client.

Meilisearch answers writes with a task and never raises when the task later
fails: every write here waits for its task and raises RechercheIndisponible
unless it succeeded. Every client error becomes that one typed error.
"""

import threading
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
    MOTS_MAX,
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
    UniteTapee,
    mots_vides,
    mots_vides_ecrits,
    surligner,
    synonymes,
    thesaurus,
    unites_tapees,
)
from catalogue.territoires import distance_km
from catalogue.vocabulaires import vocabulaire

LOT = 1000
CHAMPS_PLACES = ("places_restantes", "places_maj_le")
ATTENTE_MS = 30_000
# Searches wait this long (connect, then read) before the fallback answers;
# writes may take longer to be accepted (large batches).
DELAI_S = 0.5
ECRITURE_PLUS_LENTE = 10
TRI = {
    "pertinence": ["complet:asc"],
    # The flag first: a place update sends places_tri without knowing it.
    "places": ["places_illimitees:desc", "places_tri:desc"],
    "nom": ["nom_tri:asc"],
}


def cite(valeur: str) -> str:
    """A filter value in double quotes, with backslashes and quotes escaped."""
    return '"' + str(valeur).replace("\\", "\\\\").replace('"', '\\"') + '"'


def filtre_ids(ids: Iterable[str]) -> list:
    return [[f"id = {cite(i)}" for i in ids]]


def synonymes_meilisearch() -> dict[str, list[str]]:
    """Our groups and thesaurus as Meilisearch wants them: each expression ->
    the others (the thesaurus one way, its thématiques by their labels,
    which are searchable)."""
    table: dict[str, list[str]] = {}
    for groupe in synonymes():
        for expression in groupe:
            autres = [e for e in groupe if e != expression]
            table.setdefault(expression, []).extend(autres)
    libelle = vocabulaire("thematiques").libelle
    for entree in thesaurus():
        cibles = [*entree["cherche"], *map(libelle, entree["thematiques"])]
        for dit in entree["dit"]:
            autres = table.setdefault(dit, [])
            autres.extend(c for c in cibles if c != dit and c not in autres)
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
            "places_illimitees",
            "a_distance",
            "sans_lieu",
            "_geo",
        ],
        "sortableAttributes": [
            "complet",
            "places_illimitees",
            "places_tri",
            "nom_tri",
            "_geo",
        ],
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
            "places_illimitees",  # read back when places change
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
        clauses.append(
            [
                "places_restantes > 0",
                # Only where no places are counted (see moteur_tantivy).
                "(session_ouverte = true AND places_restantes IS NULL)",
                "places_illimitees = true",
            ]
        )
    if requete.rayon_km is not None and requete.point:
        lat, lng = requete.point
        metres = round(requete.rayon_km * 1000)
        clauses.append(
            [
                f"_geoRadius({lat:.6f}, {lng:.6f}, {metres})",
                "a_distance = true",
                # With no address, its zone (above) says whom it serves.
                "sans_lieu = true",
            ]
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
        # Every word; when they cannot all match, the engine chooses which
        # to drop as the embedded one does (MoteurMeilisearch._assouplir).
        "matchingStrategy": "all",
        "locales": ["fra"],
        "attributesToRetrieve": ["id", "lieux", *CHAMPS_PLACES],
        "attributesToHighlight": list(CHAMPS_SURLIGNES) if requete.texte else [],
        "highlightPreTag": DEBUT_MARQUE,
        "highlightPostTag": FIN_MARQUE,
    }


def compte(requete: Requete, texte: str) -> dict:
    """The body of a count-only search (exhaustive ``totalHits``, no hit)."""
    return {
        "q": texte,
        "filter": filtre(requete),
        "matchingStrategy": "all",
        "locales": ["fra"],
        "page": 1,
        "hitsPerPage": 0,
    }


def texte_des_unites(texte: str, unites: list[UniteTapee], gardees) -> str:
    """The typed text reduced to these units. Meilisearch takes the last word
    as a beginning unless something follows it: only the last unit typed
    keeps what followed it, as in the embedded engine."""
    q = " ".join(texte[unites[i].debut : unites[i].fin] for i in gardees)
    if gardees[-1] == len(unites) - 1:
        return q + texte[unites[-1].fin :]
    return q + " "


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
        self._prudence = threading.local()

    @contextmanager
    def delais_courts(self) -> Iterator[None]:
        """Writes in this thread wait no longer than searches: for when the
        server has just failed to answer (a hung one then costs a booting
        worker or a booking a search's timeout, not a write's)."""
        self._prudence.active = True
        try:
            yield
        finally:
            self._prudence.active = False

    @contextmanager
    def _erreurs(self, quoi: str, lecture=False) -> Iterator[meilisearch.Client]:
        court = lecture or getattr(self._prudence, "active", False)
        client = self._client if court else self._client_ecriture
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
        with self._erreurs("mise à jour des places") as client:
            # They depend on the fiche's limit, which only the index knows here.
            ancien = self._places(client, [fiche_id]).get(fiche_id, {})
            champs = champs_places(
                places_restantes,
                maj_le.isoformat(timespec="seconds"),
                bool(ancien.get("places_illimitees")),
            )
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
        return self._rechercher(requete, [])

    def rechercher_avec_facettes_ouvertes(self, requete: Requete) -> Resultats:
        """The page and each ticked facet's counts in one multi-search request."""
        return self._rechercher(requete, requetes_des_facettes_ouvertes(requete))

    def _rechercher(self, requete: Requete, ouvertes) -> Resultats:
        """One round trip when the words match together; otherwise words are
        dropped as the embedded engine drops them (see ``_assouplir``)."""
        unites = unites_tapees(requete.texte)
        en_trop = [u.ecrit for u in unites[MOTS_MAX:]]
        if en_trop:
            requete = replace(
                requete, texte=texte_des_unites(requete.texte, unites, range(MOTS_MAX))
            )
            unites = unites_tapees(requete.texte)  # positions in the shorter text
            ouvertes = requetes_des_facettes_ouvertes(requete) if ouvertes else []
        requetes = [requete, *(sans for _, sans in ouvertes)]
        reponses = self._envoyer([self._corps(r, r.texte) for r in requetes])
        ignores: list[str] = []
        if not reponses[0].get("totalHits") and len(unites) > 1:
            reponses, ignores = self._assouplir(requete, unites, requetes, reponses)
        resultats = self._resultats(requete, reponses[0])
        facettes = dict(resultats.facettes)
        for (facette, sans), reponse in zip(ouvertes, reponses[1:], strict=True):
            facettes[facette] = self._resultats(sans, reponse).facettes[facette]
        return replace(resultats, facettes=facettes, mots_ignores=(*ignores, *en_trop))

    def _assouplir(self, requete, unites, requetes, reponses):
        """The responses with the units kept, and the units dropped in the
        order typed: those found nowhere, and the last ones in turn until
        the rest match together (the embedded engine's rule, filters applied).

        Counts travel in batches: one round trip of each unit alone and of
        the text's beginnings, then the page with the units kept, which
        carries the counts still unknown. One unknown word, or words found
        apart, thus cost two round trips more; a third is rarely needed.
        """
        n = len(unites)
        tout = tuple(range(n))
        ensembles = [(i,) for i in tout] + [tout[:k] for k in range(n - 1, 1, -1)]
        comptes = self._compter(requete, unites, ensembles) | {tout: 0}
        gardees = tuple(i for i in tout if comptes[(i,)])
        if not gardees:
            return reponses, []  # nothing matches: say so, drop nothing
        debuts = [gardees[:k] for k in range(len(gardees), 0, -1)]
        # A ticked facet's counts found with every word stay, as when the
        # embedded engine counts each of them on its own.
        a_refaire = [0] + [j for j, r in enumerate(reponses) if j and not _total(r)]
        while True:
            # The longest beginning known to match, or the longest not yet
            # counted: its page, with the shorter ones' counts, in one trip.
            choix = [(i, d) for i, d in enumerate(debuts) if comptes.get(d, 1)]
            if not choix:  # counts and pages disagree (index changing)
                return reponses, []
            i, debut = choix[0]
            inconnus = [] if debut in comptes else debuts[i + 1 :]
            inconnus = [d for d in inconnus if d not in comptes]
            texte = texte_des_unites(requete.texte, unites, debut)
            corps = [self._corps(requetes[j], texte) for j in a_refaire]
            corps += [self._corps_compte(requete, unites, d) for d in inconnus]
            nouvelles = self._envoyer(corps)
            pages, nombres = nouvelles[: len(a_refaire)], nouvelles[len(a_refaire) :]
            comptes |= {d: _total(r) for d, r in zip(inconnus, nombres, strict=True)}
            comptes[debut] = _total(pages[0])
            if comptes[debut]:
                break
        reponses = list(reponses)
        for j, reponse in zip(a_refaire, pages, strict=True):
            reponses[j] = reponse
        return reponses, [unites[j].ecrit for j in tout if j not in debut]

    def _compter(self, requete, unites, ensembles) -> dict[tuple, int]:
        corps = [self._corps_compte(requete, unites, e) for e in ensembles]
        reponses = self._envoyer(corps)
        return {e: _total(r) for e, r in zip(ensembles, reponses, strict=True)}

    def _corps(self, requete: Requete, texte: str) -> dict:
        return {"indexUid": self.nom_index, "q": texte, **parametres(requete)}

    def _corps_compte(self, requete: Requete, unites, ensemble) -> dict:
        texte = texte_des_unites(requete.texte, unites, ensemble)
        return {"indexUid": self.nom_index, **compte(requete, texte)}

    def _envoyer(self, corps: list[dict]) -> list[dict]:
        with self._erreurs("recherche", lecture=True) as client:
            return client.multi_search(corps)["results"]

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
                    "fields": ["id", *CHAMPS_PLACES, "places_illimitees"],
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


def _total(reponse: dict) -> int:
    return reponse.get("totalHits", 0)


def _lots(docs: list[dict]) -> Iterator[list[dict]]:
    for debut in range(0, len(docs), LOT):
        yield docs[debut : debut + LOT]
