"""Meilisearch first, the embedded index always ready behind it.

Every write goes to both. The embedded index is the one that never misses a
write, so it holds the true places; when Meilisearch fails, the fiche is
noted and the next sync sends it again. Searches fall back to the embedded
index with a notice the user sees.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from catalogue.recherche import (
    MoteurRecherche,
    RechercheIndisponible,
    Requete,
    Resultats,
)
from catalogue.recherche.moteur_tantivy import MoteurTantivy

logger = logging.getLogger(__name__)
# Fingerprint of a fiche Meilisearch missed: never equal to a real one.
EN_RETARD = "a-resynchroniser"


class MoteurAvecSecours:
    def __init__(self, principal: MoteurRecherche, secours: MoteurTantivy):
        self.principal, self.secours = principal, secours

    def _essayer(self, ecrire: Callable[[], None], fiche_ids: list[str]) -> None:
        try:
            ecrire()
        except RechercheIndisponible:
            logger.exception("Meilisearch n'a pas reçu %d fiche(s)", len(fiche_ids))
            self.secours.noter_a_resynchroniser(fiche_ids)
        else:
            self.secours.resynchronisees(fiche_ids)

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
            empreintes = self.principal.empreintes()
        except RechercheIndisponible:
            logger.exception("Meilisearch injoignable : empreintes de l'index embarqué")
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
            return self.principal.rechercher(requete)
        except RechercheIndisponible:
            logger.exception("Recherche servie par l'index embarqué")
            resultats = self.secours.rechercher(requete)
            return replace(resultats, degrade=True)
