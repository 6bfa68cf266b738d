"""Meilisearch first, the embedded index always ready behind it.

Every write goes to both. The embedded index is the one that never misses a
write, so it holds the true places; when Meilisearch fails, the fiche is
noted and the next sync sends it again. Searches fall back to the embedded
index with a notice the user sees. After a few failures in a row a circuit
breaker sends everything straight to the embedded index for a while, so an
outage costs each request nothing, and is logged once.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime

from catalogue.recherche import (
    MoteurRecherche,
    RechercheIndisponible,
    Requete,
    Resultats,
    rechercher_avec_facettes_ouvertes,
)
from catalogue.recherche.moteur_tantivy import MoteurTantivy

logger = logging.getLogger(__name__)
# Fingerprint of a fiche Meilisearch missed: never equal to a real one.
EN_RETARD = "a-resynchroniser"


class Disjoncteur:
    """Closed while Meilisearch answers; open for ``pause_s`` after ``pannes``
    failures in a row; then one call tries again (and reopens it if it fails).

    Logs one line when an outage starts and one when it ends, never a
    traceback: an unreachable server is expected, not a bug.
    """

    def __init__(self, pannes: int = 3, pause_s: float = 30.0, horloge=None):
        self.pannes, self.pause_s = max(1, pannes), pause_s
        self.horloge = horloge or time.monotonic
        self.echecs = 0
        self.ouvert_jusqu_a = 0.0
        # Why the last call failed; None once Meilisearch answers again.
        self.derniere_erreur: Exception | None = None
        self._verrou = threading.Lock()

    def ouvert(self) -> bool:
        return self.horloge() < self.ouvert_jusqu_a

    def echec(self, erreur: Exception) -> None:
        with self._verrou:
            self.echecs += 1
            self.derniere_erreur = erreur
            if self.echecs == 1:
                logger.warning(
                    "Meilisearch ne répond pas (%s). Recherche servie par l'index "
                    "embarqué jusqu'à son retour",
                    erreur,
                )
            if self.echecs >= self.pannes:
                if not self.ouvert():
                    logger.debug("Disjoncteur ouvert pour %s s", self.pause_s)
                self.ouvert_jusqu_a = self.horloge() + self.pause_s

    def succes(self) -> None:
        with self._verrou:
            if self.echecs:
                logger.warning(
                    "Meilisearch répond de nouveau après %d échec(s)", self.echecs
                )
            self.echecs, self.ouvert_jusqu_a = 0, 0.0
            self.derniere_erreur = None


class MoteurAvecSecours:
    def __init__(
        self,
        principal: MoteurRecherche,
        secours: MoteurTantivy,
        disjoncteur: Disjoncteur | None = None,
    ):
        self.principal, self.secours = principal, secours
        self.disjoncteur = disjoncteur or Disjoncteur()

    def injoignable(self) -> Exception | None:
        """Why Meilisearch did not answer the last call, if it did not.

        A sync that could not read Meilisearch compares the fiches with the
        embedded index and may find nothing to send: only this says that
        Meilisearch was never reached."""
        return self.disjoncteur.derniere_erreur

    def _essayer(self, ecrire: Callable[[], None], fiche_ids: list[str]) -> None:
        try:
            if self.disjoncteur.ouvert():
                raise RechercheIndisponible("Meilisearch en panne : écriture différée")
            with self._prudence():
                ecrire()
        except RechercheIndisponible as e:
            if not self.disjoncteur.ouvert():
                self.disjoncteur.echec(e)
            logger.debug("Meilisearch n'a pas reçu %d fiche(s)", len(fiche_ids))
            self.secours.noter_a_resynchroniser(fiche_ids)
        else:
            self.disjoncteur.succes()
            self.secours.resynchronisees(fiche_ids)

    def _prudence(self) -> AbstractContextManager:
        """Right after a failure, writes wait no longer than searches: a hung
        server then costs each of them a search's timeout until the breaker
        opens. While Meilisearch answers, writes keep their longer wait."""
        courts = getattr(self.principal, "delais_courts", None)
        return courts() if courts and self.disjoncteur.echecs else nullcontext()

    def _principal(self, appel: Callable[[], object]):
        """Call Meilisearch unless the breaker is open; RechercheIndisponible
        says the fallback must answer."""
        if self.disjoncteur.ouvert():
            raise RechercheIndisponible("Meilisearch en panne")
        try:
            reponse = appel()
        except RechercheIndisponible as e:
            self.disjoncteur.echec(e)
            raise
        self.disjoncteur.succes()
        return reponse

    def _avec_places_du_secours(self, docs: list[dict]) -> list[dict]:
        places = self.secours.places(d["id"] for d in docs)
        return [d | places.get(d["id"], {}) for d in docs]

    def indexer(self, documents: Iterable[dict]) -> None:
        docs = list(documents)
        self.secours.indexer(docs)
        docs = self._avec_places_du_secours(docs)
        self._essayer(lambda: self.principal.indexer(docs), [d["id"] for d in docs])

    def maj_places(
        self, fiche_id: str, places_restantes: int | None, maj_le: datetime
    ) -> None:
        self.secours.maj_places(fiche_id, places_restantes, maj_le)
        self._essayer(
            lambda: self.principal.maj_places(fiche_id, places_restantes, maj_le),
            [fiche_id],
        )

    def supprimer(self, fiche_ids: Iterable[str]) -> None:
        ids = list(fiche_ids)
        self.secours.supprimer(ids)
        self._essayer(lambda: self.principal.supprimer(ids), ids)

    def empreintes(self) -> dict[str, str]:
        """Meilisearch's, with missed fiches marked so a sync sends them again."""
        try:
            empreintes = self._principal(self.principal.empreintes)
        except RechercheIndisponible:
            return self.secours.empreintes()
        en_retard = self.secours.a_resynchroniser()
        return {i: EN_RETARD if i in en_retard else e for i, e in empreintes.items()}

    def reconstruire(
        self,
        documents: Iterable[dict],
        progression: Callable[[int], None] | None = None,
    ) -> None:
        docs = list(documents)
        self.secours.reconstruire(docs, progression)
        docs = self._avec_places_du_secours(docs)
        self._essayer(
            lambda: self.principal.reconstruire(docs), [d["id"] for d in docs]
        )

    def places(self, fiche_ids: Iterable[str]) -> dict[str, dict]:
        """The embedded index never misses a place update: it holds the truth."""
        return self.secours.places(fiche_ids)

    def rechercher(self, requete: Requete) -> Resultats:
        try:
            return self._principal(lambda: self.principal.rechercher(requete))
        except RechercheIndisponible:
            return replace(self.secours.rechercher(requete), degrade=True)

    def rechercher_avec_facettes_ouvertes(self, requete: Requete) -> Resultats:
        """One round trip to Meilisearch, or the embedded index at once."""
        try:
            return self._principal(
                lambda: rechercher_avec_facettes_ouvertes(self.principal, requete)
            )
        except RechercheIndisponible:
            resultats = rechercher_avec_facettes_ouvertes(self.secours, requete)
            return replace(resultats, degrade=True)
