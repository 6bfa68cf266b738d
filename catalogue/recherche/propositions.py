"""Never a needless empty page: what to offer when nothing matched.

Every proposal is a search that finds something: the same words without
the place, the place without the words, without the filters, the words
spelt as the catalogue writes them, and the closest themes. Each one says
how many actions it finds; the web layer turns it into a link.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from catalogue.recherche import MoteurRecherche, Requete, Resultats
from catalogue.recherche.langue import mots, mots_vides, sans_accents

THEMES_PROPOSES = 3


@dataclass(frozen=True)
class Proposition:
    # "sans_lieu", "sans_mots", "sans_filtres", "sans_places", "orthographe"
    # or "theme"
    genre: str
    total: int
    # For "orthographe": the corrected text; for "theme": the category.
    valeur: str = ""


@dataclass(frozen=True)
class Propositions:
    propositions: list[Proposition] = field(default_factory=list)
    # Each found without « places left » (nothing was, with it).
    sans_places: bool = False

    def __bool__(self) -> bool:
        return bool(self.propositions)

    def du_genre(self, genre: str) -> list[Proposition]:
        return [p for p in self.propositions if p.genre == genre]


def _total(moteur: MoteurRecherche, requete: Requete) -> int:
    return moteur.rechercher(replace(requete, page=1, par_page=1, facettes=())).total


def proposer(
    moteur: MoteurRecherche, requete: Requete, mots_connus: "Vocabulaire"
) -> Propositions:
    """Searches close to ``requete`` (which found nothing) that find something.

    Without filters (the commonest empty page), the words anywhere and the
    place without words are also what the themes are counted from: two
    searches instead of four."""
    propositions = []
    correction = mots_connus.corriger(requete.texte)
    if correction:
        n = _total(moteur, replace(requete, texte=correction))
        if n:
            propositions.append(Proposition("orthographe", n, correction))
        elif requete.places_disponibles and _total(
            moteur, replace(requete, texte=correction, places_disponibles=False)
        ):
            # A misspelt word first: its actions, even without a place left,
            # before « the place without the words » (other actions).
            sans = proposer(
                moteur, replace(requete, places_disponibles=False), mots_connus
            )
            return replace(sans, sans_places=True)
    themes = ("categories_thematiques",)
    ailleurs = replace(requete, zone=(), point=None, rayon_km=None)
    # The words anywhere, without filters; the place, without words or filters.
    partout = None
    if requete.texte:
        partout = moteur.rechercher(
            replace(ailleurs, filtres={}, page=1, par_page=1, facettes=themes)
        )
    ici = moteur.rechercher(
        replace(requete, texte="", filtres={}, page=1, par_page=1, facettes=themes)
    )
    if requete.zone:
        n = (
            partout.total
            if partout is not None and not requete.filtres
            else _total(moteur, ailleurs)
        )
        if n:
            propositions.append(Proposition("sans_lieu", n))
    if requete.texte:
        n = (
            ici.total
            if not requete.filtres
            else _total(moteur, replace(requete, texte=""))
        )
        if n:
            propositions.append(Proposition("sans_mots", n))
    if requete.filtres and (n := _total(moteur, replace(requete, filtres={}))):
        propositions.append(Proposition("sans_filtres", n))
    if requete.places_disponibles and (
        n := _total(moteur, replace(requete, places_disponibles=False))
    ):
        # Full actions keep a waiting list: worth showing.
        propositions.append(Proposition("sans_places", n))
    propositions += _themes_proches(partout, ici)
    if not propositions and requete.places_disponibles:
        # The words, the place and « places left » together leave nothing:
        # the same ways out, the box unticked too.
        sans = proposer(moteur, replace(requete, places_disponibles=False), mots_connus)
        return replace(sans, sans_places=bool(sans))
    return Propositions(propositions)


def _themes_proches(partout: Resultats | None, ici: Resultats) -> list[Proposition]:
    """Themes of what the words find anywhere, counted where the person is;
    without words, the biggest themes there."""
    themes: Iterable[str] = ()
    if partout is not None:
        themes = partout.facettes.get("categories_thematiques", {})
    comptes = ici.facettes.get("categories_thematiques", {})
    choisis = [t for t in themes if comptes.get(t)] or list(comptes)
    return [Proposition("theme", comptes[t], t) for t in choisis[:THEMES_PROPOSES]]


@dataclass(frozen=True, eq=False)
class Vocabulaire:
    """The words the catalogue writes, to suggest a spelling: the word
    without accents -> as written (lower case, with its accents)."""

    mots: dict[str, str]

    @classmethod
    def depuis(cls, docs: Iterable[dict]) -> "Vocabulaire":
        trouves: dict[str, str] = {}
        for doc in docs:
            for champ in ("nom", "resume", "description", "thematiques_libelles"):
                valeur = doc.get(champ) or ""
                for texte in valeur if isinstance(valeur, list) else [valeur]:
                    for ecrit in re.findall(r"\w+", texte.lower()):
                        mot = sans_accents(ecrit)
                        # Never « Vouliez-vous dire « cette » ? » for « dette ».
                        if len(mot) > 2 and mot not in mots_vides():
                            trouves.setdefault(mot, ecrit)
        return cls(trouves)

    @cached_property
    def _tries(self) -> tuple[str, ...]:
        return tuple(sorted(self.mots))

    def corriger(self, texte: str) -> str | None:
        """The text with each unknown word replaced by the closest known one
        (1 letter from 4 letters, 2 from 8); None when nothing changes."""
        corriges, change = [], False
        for mot in mots(texte):
            proche = None
            if mot not in self.mots and mot not in mots_vides() and len(mot) >= 4:
                proche = _plus_proche(mot, self._tries)
            corriges.append(self.mots[proche] if proche else mot)
            change |= proche is not None
        return " ".join(corriges) if change else None


def _plus_proche(mot: str, connus: tuple[str, ...]) -> str | None:
    limite = 2 if len(mot) >= 8 else 1
    trouve = process.extractOne(
        mot, connus, scorer=Levenshtein.distance, score_cutoff=limite
    )
    return trouve[0] if trouve else None
