"""Embedded search engine on tantivy (Rust, BM25, French stemming).

The index is a directory shared by every worker process. tantivy allows one
writer at a time across processes: a write waits briefly for the lock, then
gives up with RechercheIndisponible (the places outbox keeps the change for
the next drain). Readers reload before each search, so a place taken in any
process shows in the very next search.

Ranking, like Meilisearch's rules: open actions before full ones, then BM25
on the words as typed (stemmed, weighted by field), synonyms a little lower,
typos and word beginnings lowest. When all the words cannot match together,
the least useful ones are dropped in turn and reported (``mots_ignores``).

A synonym expression of several words ("bénéficiaires du RSA") is indexed
as one term where a fiche holds it, so it is found without reading the
positions of every fiche holding its words.

A word alone, with no filter (the commonest search, and the broadest), is
scored as a plain sum of terms: tantivy then finds the best results without
scoring every match, and the page is checked active and open afterwards.

A missing, damaged or read-only index never stops a worker from booting:
it is set aside and rebuilt, or kept in memory, and the problem is logged.
"""

import hashlib
import json
import logging
import math
import os
import re
import shutil
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property, lru_cache, partial
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from tantivy import Filter, Occur, Query, TextAnalyzerBuilder, Tokenizer

from catalogue.recherche import (
    CHAMPS_SURLIGNES,
    CHAMPS_TEXTE,
    FACETTES,
    MOTS_MAX,
    RechercheIndisponible,
    Requete,
    Resultat,
    Resultats,
)
from catalogue.recherche.documents import champs_places, places_les_plus_recentes
from catalogue.recherche.langue import (
    DEBUT_MARQUE,
    FIN_MARQUE,
    expressions_equivalentes,
    formes_connues,
    mots_vides,
    surligner,
)
from catalogue.territoires import distance_km

logger = logging.getLogger(__name__)

# Bumped when the layout changes: a new subdirectory is built from scratch.
VERSION_SCHEMA = 10
# Weight of each searchable field (CHAMPS_TEXTE, most important first).
POIDS = {
    "nom": 8.0,
    "thematiques_libelles": 5.0,
    "publics_libelles": 4.0,
    "publics_precisions": 3.0,
    "structure_nom": 3.0,
    "communes": 3.0,
    "resume": 2.0,
    "description": 1.0,
}
POIDS_SYNONYME = 4.0
POIDS_THEMATIQUE = 6.0
POIDS_FAUTE = 0.5
# Found as typed (or by synonym) outranks any typo, word beginning or
# thématique: those words' weights are multiplied by this, a product no sum
# of the others reaches. A multiplied weight rather than a constant bonus:
# the query stays a plain sum of words, which tantivy ranks without scoring
# every match (block-max WAND).
ECHELLE_JUSTE = 10_000.0
TOUT = "tout"  # every searchable text, words folded but not stemmed
# Each synonym or thesaurus expression of several words a fiche holds, as
# one term ("beneficiaires+_+rsa"): a phrase of common words reads the
# positions of thousands of fiches (7 ms at 100 000 fiches), a term does not.
# Filled up to as many words as TOUT, so that BM25 scores the term as the
# phrase (same length, same average length).
EXPRESSIONS = "expressions"
REMPLISSAGE = "."
CLES_INDEXEES = "expressions_indexees.txt"
# Words of this many bytes or more, as written, are not indexed (their
# place is kept).
OCTETS_MAX = 40
DEBUTS = "debuts"  # the beginnings of every word, for search as you type
DEBUT_MAX = 12
TERMES_DUREE_S = 600
TOUTES_FACETTES = "facettes"  # "facette=valeur" for each value of each facet
PLACES = "_places"  # "_places=libres" (places left), "_places=complet" (full)
ATTENTE_VERROU_S = 3.0
# Beside the index while it is filled again after being deleted: every
# process then answers « unavailable », not « nothing found ».
A_REMPLIR = "a_remplir"
TAS_ECRITURE = 50_000_000  # per indexing thread
# A rebuild's budget per thread: 100 000 fiches fit in one segment each.
# Fewer segments, quicker searches; with less, the few segments left below
# tantivy's merge threshold (8) are never merged and every search reads them
# all (6 segments: tri=nom 16 ms at p95 instead of 10).
TAS_RECONSTRUCTION = 200_000_000
FILS_RECONSTRUCTION = 2
FICHES_POUR_COMPTER_A_COTE = 20_000
# Sorts by a fast field: tri=places (most places first, full ones are -1
# after the untracked ones) and tri=nom (the folded name).
TRIS_PAR_CHAMP = {
    "places": ("places_tri", tantivy.Order.Desc),
    "nom": ("nom_tri", tantivy.Order.Asc),
}
# A single word, no filter: the page is looked for among this many times
# its results by score alone (then checked to be active and open), before
# going through every match. Deep pages go through every match at once:
# the best k costs more than counting them all when k is large.
CANDIDATS_PAR_RESULTAT = 2
CANDIDATS_MIN = 60
FIN_RAPIDE = 200
# Counts by column when at most 1/PART_PEU of the index, or PEU documents,
# may match.
PART_PEU = 16
PEU = 2_000
CHAMPS_CARTE = ("id", "lieux", "places_restantes", "places_maj_le", *CHAMPS_SURLIGNES)


@cache
def _analyseur(racinisation: bool):
    constructeur = (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(OCTETS_MAX))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
    )
    if racinisation:
        constructeur = constructeur.filter(Filter.stemmer("french"))
    return constructeur.build()


@cache
def _analyseur_sans_limite():
    """TOUT's words with the too-long ones kept: each word at its place."""
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


@cache
def _analyseur_brut():
    """The words as written, to measure them as tantivy does."""
    return TextAnalyzerBuilder(Tokenizer.simple()).build()


def plier(texte: str) -> list[str]:
    """Words folded as the index holds them (lower case, no accents)."""
    return _analyseur(False).analyze(texte)


@lru_cache(maxsize=50_000)
def _plier_mot(mot: str) -> str:
    return "".join(plier(mot))


@lru_cache(maxsize=50_000)
def raciner(mot: str) -> str:
    racines = _analyseur(True).analyze(mot)
    return racines[0] if racines else mot


@cache
def _racines_vides() -> frozenset[str]:
    """Stems of stop words: « sées » stems to « se », as « se » and « ses »
    do, which every text holds."""
    return frozenset(map(raciner, mots_vides()))


def _racine_utile(mot: str) -> str | None:
    """The word's stem, unless a stop word has it too (then only the word
    itself, as written, can find what was meant)."""
    racine = raciner(mot)
    return None if racine in _racines_vides() and mot not in mots_vides() else racine


@lru_cache(maxsize=100_000)
def _debuts_texte(mot: str) -> str:
    return " ".join(_debuts(mot))


# In the words of a text as TOUT places them: a word too long to be indexed
# (it keeps its place), and the place tantivy leaves between two values.
TROP_LONG, ENTRE_DEUX = "\x00", ""


class _Jeton(NamedTuple):
    """What each field takes of a chunk of text between spaces."""

    racines: str  # its stems, as the stemmed fields index them
    mots: tuple[str, ...]  # its words as TOUT places them (too long: TROP_LONG)
    debuts: str  # the beginnings of its words, for search as you type


class _Jetons(dict):
    """A chunk of text between spaces -> its _Jeton, worked out once per
    process: the same chunks recur from fiche to fiche, so a fiche's words
    are stemmed and folded by looking them up, and tantivy only splits the
    stems at spaces (the French stemmer was half of its indexing time)."""

    TAILLE_MAX = 200_000

    def __missing__(self, jeton: str) -> _Jeton:
        if len(self) >= self.TAILLE_MAX:
            self.clear()
        ecrits = _analyseur_brut().analyze(jeton)
        plies = _analyseur_sans_limite().analyze(jeton)
        mots = tuple(
            plie if len(ecrit.encode()) < OCTETS_MAX else TROP_LONG
            for ecrit, plie in zip(ecrits, plies, strict=True)
        )
        infos = self[jeton] = _Jeton(
            " ".join(_analyseur(True).analyze(jeton)),
            mots,
            " ".join(filter(None, (_debuts_texte(m) for m in mots if m != TROP_LONG))),
        )
        return infos


_JETONS = _Jetons()
_DE_RACINES, _DE_MOTS, _DE_DEBUTS = map(itemgetter, range(3))


class _Valeur(NamedTuple):
    """What each field takes of one value of a text field."""

    racines: str
    mots: tuple[str, ...]
    debuts: frozenset[str]  # its chunks' beginnings


class _Valeurs(dict):
    """The short values (labels of a vocabulary, communes, structure names)
    -> their _Valeur: they recur from fiche to fiche as whole values."""

    TAILLE_MAX = 50_000
    COURTE = 80  # characters: a longer one is a fiche's own text

    def lire(self, valeur: str) -> _Valeur:
        infos = self.get(valeur)
        if infos is None:
            jetons = list(map(_JETONS.__getitem__, valeur.split()))
            infos = _Valeur(
                " ".join(map(_DE_RACINES, jetons)),
                tuple(chain.from_iterable(map(_DE_MOTS, jetons))),
                frozenset(map(_DE_DEBUTS, jetons)),
            )
            if len(valeur) <= self.COURTE:
                if len(self) >= self.TAILLE_MAX:
                    self.clear()
                self[valeur] = infos
        return infos


_VALEURS = _Valeurs()


def _expressions(valeurs: list[tuple[str, ...]]) -> tuple[list[str], int]:
    """The known expressions TOUT values hold (their _Valeur.mots), once per
    occurrence, exactly where a phrase query on TOUT finds them, and how many
    words TOUT indexes (tests/catalogue/test_expressions.py compares them).

    tantivy ends a value after its last word indexed, leaves one empty
    place, then starts the next; a word too long keeps its place."""
    connues = _expressions_connues()
    mots: list[str] = []
    for mots_de_la_valeur in valeurs:
        while mots and mots[-1] == TROP_LONG:
            mots.pop()
        if mots:
            mots.append(ENTRE_DEUX)
        mots += mots_de_la_valeur
    indexes = len(mots) - mots.count(ENTRE_DEUX) - mots.count(TROP_LONG)
    presents = set(mots)
    n, trouvees = len(mots), []
    for premier in connues.keys() & presents:
        # Only those whose every word is in the text are looked for.
        motifs = [(c, m) for c, m, besoin in connues[premier] if besoin <= presents]
        if not motifs:
            continue
        i = mots.index(premier)
        while True:
            trouvees += [
                cle
                for cle, motif in motifs
                if all(i + d < n and mots[i + d] == m for d, m in motif)
            ]
            try:
                i = mots.index(premier, i + 1)
            except ValueError:
                break
    return trouvees, indexes


def _cle_expression(places: list[tuple[int, str]]) -> str:
    """An expression's term: its words at their places, "_" for a stop word
    (one word for the whitespace tokenizer: "beneficiaires+_+rsa")."""
    debut = places[0][0]
    mots = {i - debut: m for i, m in places}
    return "+".join(mots.get(i, "_") for i in range(places[-1][0] - debut + 1))


@cache
def _expressions_connues() -> dict[str, list[tuple[str, tuple, frozenset[str]]]]:
    """Synonym and thesaurus expressions of several words, by their first
    word: (term, (place, word) after the first, all its words)."""
    par_premier: dict[str, dict[str, tuple[tuple[int, str], ...]]] = {}
    for forme in formes_connues():
        places = _places_des_mots(forme)
        if len(places) >= 2:
            debut, premier = places[0]
            motif = tuple((i - debut, m) for i, m in places[1:])
            par_premier.setdefault(premier, {})[_cle_expression(places)] = motif
    return {
        premier: [
            (cle, motif, frozenset([premier, *(m for _d, m in motif)]))
            for cle, motif in sorted(motifs.items())
        ]
        for premier, motifs in par_premier.items()
    }


@cache
def _cles_connues() -> frozenset[str]:
    return frozenset(e[0] for liste in _expressions_connues().values() for e in liste)


def _idf(nombre_docs: int, n: int) -> float:
    """tantivy's BM25 idf of a term in n of the documents."""
    return math.log(1 + (nombre_docs - n + 0.5) / (n + 0.5))


def _debuts(mot: str) -> tuple[str, ...]:
    """The beginnings of a word, from 2 letters to all but its last one
    (asked once per word: _debuts_texte keeps them)."""
    if mot.isdigit():
        return ()
    return tuple(mot[:n] for n in range(2, min(len(mot) - 1, DEBUT_MAX) + 1))


def _schema() -> tantivy.Schema:
    s = tantivy.SchemaBuilder()
    s.add_text_field("id", stored=True, tokenizer_name="raw")
    s.add_bytes_field("source", stored=True)
    s.add_bytes_field("carte", stored=True)  # what a result shows: small, quick to read
    # Fields are searched word by word (BM25 needs frequencies); phrases
    # read positions in TOUT alone.
    for champ in CHAMPS_TEXTE:  # given stemmed (_Jetons)
        s.add_text_field(champ, tokenizer_name="espaces", index_option="freq")
    s.add_text_field(TOUT, tokenizer_name="fr_mots")
    s.add_text_field(DEBUTS, tokenizer_name="espaces", index_option="basic")
    s.add_text_field(EXPRESSIONS, tokenizer_name="espaces", index_option="freq")
    # Filters and counts only read which documents hold a value: no
    # frequencies or positions (and a column for counting few documents).
    s.add_text_field(
        TOUTES_FACETTES, tokenizer_name="raw", index_option="basic", fast=True
    )
    s.add_text_field("nom_tri", tokenizer_name="raw", fast=True)
    for facette in (*FACETTES, "zone"):
        s.add_text_field(facette, tokenizer_name="raw", index_option="basic")
    for booleen in ("complet", "disponible", "a_distance"):
        s.add_boolean_field(booleen, indexed=True)
    s.add_integer_field("places_tri", indexed=True, fast=True)
    # 1 for an active action: read for the candidates of a single word.
    s.add_integer_field("actif", fast=True)
    s.add_float_field("lat", indexed=True, fast=True)
    s.add_float_field("lng", indexed=True, fast=True)
    # Each lieu as "lat,lng": counted by an aggregation, the distinct points
    # in a box are measured without reading a single document.
    s.add_text_field("geo", tokenizer_name="raw", fast=True)
    return s.build()


def typos_permises(mot: str) -> int:
    """Meilisearch's defaults: 1 typo from 5 letters, 2 from 9, none on numbers."""
    if mot.isdigit():
        return 0
    return 2 if len(mot) >= 9 else 1 if len(mot) >= 5 else 0


def proches(mot: str, termes: Iterable[str]) -> list[str]:
    """Terms within the allowed typos, never on the first letter."""
    k = typos_permises(mot)
    if not k:
        return []
    trouves = process.extract(
        mot, termes, scorer=Levenshtein.distance, score_cutoff=k, limit=None
    )
    return [
        t
        for t, _d, _i in sorted(trouves, key=lambda e: e[1])
        if t[:1] == mot[:1] and t != mot
    ][:12]


# --- The typed text ---------------------------------------------------------


@dataclass
class Unite:
    """A typed word (or synonym expression), and what finds it."""

    ecrit: str
    requete: Query
    # The same documents, what counts and facets run on.
    critere: Query | None = None
    # What it is scored by: words alone (a plain sum, tantivy skips the
    # documents that cannot reach the page), then phrases.
    termes: list[Query] = field(default_factory=list)
    phrases: list[Query] = field(default_factory=list)
    # At most this many documents match its phrases.
    plafond_phrases: int = 0
    # At most this many documents match (the sum of its terms' postings).
    plafond: int = 0
    exacts: set[str] = field(default_factory=set)
    # Synonyms of several words, each word at its place from the first:
    # marked only where they stand together (« RSA » marks « revenu de
    # solidarité active », not every « activité »).
    expressions: list[tuple[tuple[int, str], ...]] = field(default_factory=list)
    prefixes: set[str] = field(default_factory=set)
    corrections: list[str] = field(default_factory=list)


# Accented letters -> their base letter, to compare words without accents.
_PLIAGE = str.maketrans(
    {
        code: base
        for code in range(0xC0, 0x250)
        if (base := unicodedata.normalize("NFKD", chr(code))[0]).isascii()
    }
)
_MOTS = re.compile(r"(\w+)")


@lru_cache(maxsize=100_000)
def _mot_plie(mot: str) -> str:
    return mot.lower().translate(_PLIAGE)


@dataclass
class Texte:
    unites: list[Unite]

    @cached_property
    def _cibles(self) -> tuple[set[str], list[int]]:
        """Every word to mark, by how it begins: as found, by its stem, or
        as a beginning being typed (a regular expression would cost more
        to compile than marking a page takes)."""
        exacts = {m for u in self.unites for m in u.exacts if m}
        debuts = {r for m in exacts if (r := _racine_utile(m))} | {
            p for u in self.unites for p in u.prefixes
        }
        cibles = exacts | debuts
        return cibles, sorted({len(c) for c in cibles})

    @cached_property
    def _vus(self) -> dict[str, bool]:
        return {}  # word as written -> marked (the same words recur on a page)

    @cached_property
    def _expressions(self) -> dict[str, list[tuple[tuple[int, str], ...]]]:
        par_premier: dict[str, list[tuple[tuple[int, str], ...]]] = {}
        for unite in self.unites:
            for places in unite.expressions:
                par_premier.setdefault(places[0][1], []).append(places)
        return par_premier

    def _dans_une_expression(self, mots: list[str]) -> set[int]:
        """The places of the words that stand in one of the expressions."""
        places: set[int] = set()
        if not self._expressions:
            return places
        plies = [_mot_plie(m) for m in mots]
        for i, mot in enumerate(plies):
            for expression in self._expressions.get(mot, ()):
                if all(i + d < len(plies) and plies[i + d] == m for d, m in expression):
                    places.update(i + d for d, _m in expression)
        return places

    def marquer(self, texte: str) -> str:
        """HTML-escaped text with <mark> around each word found."""
        cibles, longueurs = self._cibles
        vus = self._vus
        morceaux = _MOTS.split(texte)  # text, word, text, word, …, text
        ensemble = self._dans_une_expression(morceaux[1::2])
        for i in range(1, len(morceaux), 2):
            mot = morceaux[i]
            marque = vus.get(mot)
            if marque is None:
                marque = vus[mot] = _commence_par(_mot_plie(mot), cibles, longueurs)
            if marque or i // 2 in ensemble:
                morceaux[i] = DEBUT_MARQUE + mot + FIN_MARQUE
        return surligner("".join(morceaux))


def _commence_par(mot: str, debuts: set[str], longueurs: list[int]) -> bool:
    """Whether the word begins with one of these (of these lengths, sorted)."""
    for n in longueurs:
        if n > len(mot):
            return False
        if mot[:n] in debuts:
            return True
    return False


def _mots_utiles(texte: str) -> list[str]:
    tous = plier(texte)
    vides = mots_vides()
    return [m for m in tous if m not in vides] or tous


# --- The engine ---------------------------------------------------------------


class MoteurTantivy:
    """One tantivy index in ``path`` (a directory), shared by processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.dossier = self.path / f"v{VERSION_SCHEMA}"
        self.schema = _schema()
        self._verrou = threading.Lock()
        self._pid = os.getpid()
        self._carnet = _Carnet(self.path / "a_resynchroniser.sqlite3")
        self.en_memoire = False
        # Why it is in memory, in French (for the commands' message).
        self.cause_en_memoire: str | None = None
        self._anciens_retires = False
        self._termes_cache: dict = {}
        self._cles_indexees: frozenset[str] = frozenset()
        # Every fiche's document (set by the app): an index deleted while
        # serving is filled again from it, in the background.
        self.source: Callable[[], Iterable[dict]] | None = None
        self._remplissage = threading.Lock()
        self._remplisseur: threading.Thread | None = None
        self._ouvrir()
        # Left by a process stopped while filling: this one starts afresh.
        with suppress(OSError):
            (self.path / A_REMPLIR).unlink(missing_ok=True)

    # --- Opening: never fails ------------------------------------------------

    def _ouvrir(self) -> None:
        self._version_lue = None
        try:
            self.index = self._ouvrir_sur_disque()
        except BaseException as e:
            if not (isinstance(e, Exception) or _erreur_d_index(e)):
                raise
            self.cause_en_memoire = _cause(e, self.path)
            # A known cause is said in one line; anything else with its trace.
            connue = isinstance(e, IndexNonModifiable)
            journal = logger.error if connue else logger.exception
            journal(
                "Index de recherche inutilisable dans %s (%s) : index en mémoire, "
                "rempli au démarrage",
                self.path,
                self.cause_en_memoire,
            )
            self.index = self._preparer(tantivy.Index(self.schema))
            self.en_memoire = True

    def _ouvrir_sur_disque(self) -> tantivy.Index:
        self.dossier.mkdir(parents=True, exist_ok=True)
        try:
            index = self._preparer(tantivy.Index(self.schema, str(self.dossier)))
            index.searcher().search(Query.all_query(), 1)
            return index
        except BaseException as e:
            # A Rust panic (a segment file cut short) is damage too.
            if not (isinstance(e, Exception) or _erreur_d_index(e)):
                raise
            if _refuse(e) or not os.access(self.dossier, os.R_OK | os.W_OK | os.X_OK):
                # Not damaged: not ours to read or write (owner, mode). It
                # stays as it is; _ouvrir says so and serves from memory.
                raise IndexNonModifiable(
                    f"droits insuffisants sur {self.dossier} (lecture et écriture)"
                ) from None
            if _plus_de_place(e, self.path):
                # Not damaged either: setting it aside would leave a copy
                # of it at every start on a disk already full.
                raise IndexNonModifiable(_cause(e, self.path)) from None
            logger.exception("Index de recherche abîmé dans %s : reconstruit", self)
        self._mettre_de_cote()
        self.dossier.mkdir()
        return self._preparer(tantivy.Index(self.schema, str(self.dossier)))

    def _mettre_de_cote(self) -> None:
        """The damaged index set aside for a look, the previous ones removed:
        a disk that keeps failing must not fill up with copies of it."""
        for ancien in self.path.glob("abime-*"):
            shutil.rmtree(ancien, ignore_errors=True)
        self.dossier.rename(self.path / f"abime-{int(time.time())}")

    def _abime(self) -> bool:
        """Opened afresh from the disk, the index still fails: damage (its
        files overwritten while serving), not a search's blip nor rights."""
        if self.en_memoire:
            return False
        try:
            index = self._preparer(tantivy.Index(self.schema, str(self.dossier)))
            index.searcher().search(Query.all_query(), 1)
        except BaseException as e:
            if not (isinstance(e, Exception) or _erreur_d_index(e)):
                raise
            return not (
                _refuse(e)
                or _plus_de_place(e, self.path)
                or not (self.dossier / "meta.json").exists()  # deleted: refilled
            )
        return False

    def _reparer(self) -> None:
        """Damaged while serving: set aside, then made again and refilled
        in the background, as an index deleted is (RechercheIndisponible)."""
        # Never waits: while this process writes (a refill, a rebuild), the
        # search says « indisponible » at once rather than hang behind it.
        if self._en_remplissage() or not self._verrou.acquire(blocking=False):
            return
        try:
            if not self._abime():
                return
            logger.error("Index de recherche abîmé pendant le service dans %s", self)
            self._mettre_de_cote()
        finally:
            self._verrou.release()
        self._remplir_de_nouveau(None)

    def _retirer_les_anciens(self) -> None:
        """Older layouts go once this one is written to, not on opening: a
        read-only command (`fiches verifier`) leaves the index the previous
        version still serves. Never a newer one: it belongs to the processes
        of an upgrade under way."""
        self._anciens_retires = True
        for ancien in self.path.glob("v*"):
            if ancien.is_dir() and _version(ancien.name) < VERSION_SCHEMA:
                shutil.rmtree(ancien, ignore_errors=True)

    def _preparer(self, index: tantivy.Index) -> tantivy.Index:
        index.register_tokenizer("fr_mots", _analyseur(False))
        index.register_tokenizer(
            "espaces", TextAnalyzerBuilder(Tokenizer.whitespace()).build()
        )
        index.config_reader("manual")
        return index

    def __str__(self) -> str:
        return str(self.path)

    def version(self) -> bytes | None:
        """What every commit changes, from any process (None for an index in
        memory): a digest of meta.json, which holds the commit number and
        the segments' random ids, so an index deleted and rebuilt to the
        same number still differs. What was worked out from the index can
        be kept while it stays the same."""
        if self.en_memoire:
            return None
        try:
            meta = (self.dossier / "meta.json").read_bytes()
        except OSError:
            return None
        return hashlib.blake2b(meta, digest_size=16).digest()

    def _searcher(self):
        if self._pid != os.getpid():  # forked: open our own copy
            self._pid = os.getpid()
            self._ouvrir()
        # Reload when a commit, from any process, replaced meta.json (written
        # to a new file then renamed: a new inode each time). Reloading at
        # every search would cost more than the search itself.
        try:
            meta = os.stat(self.dossier / "meta.json")
            version = (meta.st_ino, meta.st_mtime_ns, meta.st_size)
        except OSError:
            version = None
        if not self.en_memoire and (version is None or self._en_remplissage()):
            self._remplir_de_nouveau(version)
        if version is None or self.en_memoire or version != self._version_lue:
            self.index.reload()
            self._version_lue = version
            self._cles_indexees = self._lire_cles()
        return self.index.searcher()

    def _en_remplissage(self) -> bool:
        return (self.path / A_REMPLIR).exists()

    def _remplir_de_nouveau(self, version) -> None:
        """The index was deleted while serving (an operator's ``rm``): made
        again and filled from ``source`` in the background; meanwhile every
        process says the search is unavailable."""
        if threading.current_thread() is self._remplisseur:
            return
        if version is not None or self.source is None:
            if self._en_remplissage():
                raise RechercheIndisponible("index embarqué en cours de remplissage")
            return
        if self._remplissage.acquire(blocking=False):
            logger.error("Index de recherche effacé dans %s : il est refait", self)
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                (self.path / A_REMPLIR).touch()
                self._carnet = _Carnet(self.path / "a_resynchroniser.sqlite3")
                self._ouvrir()
            except BaseException:
                self._remplissage.release()
                raise
            self._remplisseur = threading.Thread(target=self._remplir, daemon=True)
            self._remplisseur.start()
        raise RechercheIndisponible("index embarqué effacé : il est refait")

    def _remplir(self) -> None:
        try:
            self.reconstruire(self.source())
            logger.warning("Index de recherche refait dans %s", self)
        except Exception:
            logger.exception("Index de recherche effacé et pas refait dans %s", self)
        finally:
            (self.path / A_REMPLIR).unlink(missing_ok=True)
            self._remplissage.release()

    # --- Writing ---------------------------------------------------------------

    def _ecrire(
        self,
        operation: Callable,
        fils: int = 1,
        tas: int = TAS_ECRITURE,
        apres: Callable[[], None] | None = None,
    ) -> None:
        """Run ``operation(writer)`` then commit, then ``apres()``, holding
        the index lock.

        ``fils``: tantivy's indexing threads, each with its share of the
        heap (a rebuild keeps them busy while Python prepares documents)."""
        with self._verrou:
            if not (self._anciens_retires or self.en_memoire):
                self._retirer_les_anciens()
            # Written with the synonyms this process knows: an expression
            # noted but unknown here (an older version still running, a
            # synonym removed) is no longer carried by every fiche.
            notees = self._lire_cles()
            if notees - _cles_connues():
                self._noter_cles(notees & _cles_connues())
            limite = time.monotonic() + ATTENTE_VERROU_S
            while True:
                try:
                    ecrivain = self.index.writer(tas * fils, fils)
                    break
                except ValueError as e:
                    if "LockBusy" not in str(e) or time.monotonic() > limite:
                        raise RechercheIndisponible(
                            f"index embarqué non modifiable : {e}"
                        ) from e
                    time.sleep(0.02)
                except OSError as e:
                    raise RechercheIndisponible(
                        f"index embarqué non modifiable : {e}"
                    ) from e
            try:
                operation(ecrivain)
                ecrivain.commit()
                if apres:
                    apres()
                ecrivain.wait_merging_threads()
            except BaseException as e:
                # A writer killed by the disk cannot roll back either.
                with suppress(ValueError, OSError):
                    ecrivain.rollback()
                # The lock goes now, not with the traceback that holds the
                # writer (a command's error, a test's result).
                with suppress(ValueError, OSError):
                    ecrivain.wait_merging_threads()
                if _ecriture_impossible(e):
                    raise RechercheIndisponible(
                        f"l'index embarqué n'a pas pu être écrit dans {self.path} "
                        f"({_cause(e, self.path)})"
                    ) from e
                raise

    def _document(self, doc: dict) -> tantivy.Document:
        # Older documents have no "places_illimitees": read as limited.
        illimitees = bool(doc.get("places_illimitees"))
        if illimitees:  # a count given with it means nothing (champs_places)
            doc = doc | champs_places(None, doc.get("places_maj_le"), illimitees)
        d = tantivy.Document()
        d.add_text("id", doc["id"])
        d.add_text("nom_tri", doc["nom_tri"])
        # Escaped JSON: a third quicker to write than with accents as such.
        d.add_bytes("source", json.dumps(doc).encode())
        d.add_bytes("carte", json.dumps({c: doc.get(c) for c in CHAMPS_CARTE}).encode())
        mots, debuts = [], set()
        lire = _VALEURS.lire
        for champ in CHAMPS_TEXTE:
            ecrites = _valeurs(doc.get(champ))
            if not ecrites:
                continue
            lues = list(map(lire, ecrites))
            # One value: only TOUT reads the places between values.
            d.add_text(champ, " ".join([v.racines for v in lues]))
            for valeur, lue in zip(ecrites, lues, strict=True):
                d.add_text(TOUT, valeur)
                mots.append(lue.mots)
                debuts |= lue.debuts
        # The beginnings words share repeat, still one posting per fiche.
        d.add_text(DEBUTS, " ".join(debuts))
        cles, nombre = _expressions(mots)
        cles += [REMPLISSAGE] * (nombre - len(cles))
        d.add_text(EXPRESSIONS, " ".join(cles))
        for facette in FACETTES:
            for valeur in _valeurs(doc[facette]):
                d.add_text(facette, valeur)
                d.add_text(TOUTES_FACETTES, f"{facette}={valeur}")
        for code in doc["zone"]:
            d.add_text("zone", code)
        places = doc.get("places_restantes")
        d.add_boolean("complet", places == 0)
        # An open session vouches for places only where none are counted:
        # counted and all taken, the action is full (it was listed).
        ouverte = places is None and bool(doc["session_ouverte"])
        disponible = bool(places) or ouverte or illimitees
        d.add_boolean("disponible", disponible)
        if disponible:  # counted with the facets, for the "places left" box
            d.add_text(TOUTES_FACETTES, f"{PLACES}=libres")
        if places == 0:  # and the full ones, shown after the open ones
            d.add_text(TOUTES_FACETTES, f"{PLACES}=complet")
        d.add_boolean("a_distance", bool(doc["a_distance"]))
        d.add_integer(
            "places_tri", champs_places(places, None, illimitees)["places_tri"]
        )
        d.add_integer("actif", int(doc["statut"] == "active"))
        for point in doc["lieux"]:
            d.add_float("lat", point["lat"])
            d.add_float("lng", point["lng"])
            d.add_text("geo", f"{point['lat']!r},{point['lng']!r}")
        return d

    def indexer(self, documents: Iterable[dict]) -> None:
        docs = list(documents)
        vide = []

        def ecrire(ecrivain):
            with _illisible():
                vide.append(not self._searcher().num_docs)
            # Read under the lock: no other process writes in between.
            anciens = self._sources([d["id"] for d in docs])
            for doc in docs:
                doc = places_les_plus_recentes(doc, anciens.get(doc["id"]))
                ecrivain.delete_documents_by_term("id", doc["id"])
                ecrivain.add_document(self._document(doc))

        # Noted before another process can write: it may know fewer.
        self._ecrire(ecrire, apres=lambda: vide[0] and self._noter_cles())

    def maj_places(
        self, fiche_id: str, places_restantes: int | None, maj_le: datetime
    ) -> None:
        def ecrire(ecrivain):
            source = self._sources([fiche_id]).get(fiche_id)
            if source is None:
                raise KeyError(fiche_id)
            doc = source | champs_places(
                places_restantes,
                maj_le.isoformat(timespec="seconds"),
                bool(source.get("places_illimitees")),
            )
            ecrivain.delete_documents_by_term("id", fiche_id)
            ecrivain.add_document(self._document(doc))

        self._ecrire(ecrire)

    def supprimer(self, fiche_ids: Iterable[str]) -> None:
        ids = list(fiche_ids)

        def ecrire(ecrivain):
            for fiche_id in ids:
                ecrivain.delete_documents_by_term("id", fiche_id)

        self._ecrire(ecrire)

    def reconstruire(
        self,
        documents: Iterable[dict],
        progression: Callable[[int], None] | None = None,
    ) -> None:
        """Everything replaced in one commit; places taken meanwhile are kept.

        The documents are read as they come (never all held at once) and
        indexed by several threads while Python prepares the next ones."""

        def ecrire(ecrivain):
            anciens = self._places_de_toutes()
            ecrivain.delete_all_documents()
            n = 0
            for n, doc in enumerate(documents, 1):
                doc = places_les_plus_recentes(doc, anciens.get(doc["id"]))
                ecrivain.add_document(self._document(doc))
                if progression and n % 1000 == 0:
                    progression(1000)
            if progression and n % 1000:
                progression(n % 1000)

        self._ecrire(
            ecrire,
            fils=FILS_RECONSTRUCTION,
            tas=TAS_RECONSTRUCTION,
            apres=self._noter_cles,
        )

    def _noter_cles(self, cles: frozenset[str] | None = None) -> None:
        """Every fiche carries these expressions (default: those this
        version of the synonyms knows) where it holds them: they can be
        searched by their term. After a rebuild, written after the commit
        (until then, the fiches carry the keys noted before) and before the
        writer's lock is let go."""
        cles = _cles_connues() if cles is None else cles
        if not self.en_memoire:
            provisoire = self.dossier / f"{CLES_INDEXEES}.{os.getpid()}"
            try:
                provisoire.write_text("\n".join(sorted(cles)), encoding="utf-8")
                provisoire.replace(self.dossier / CLES_INDEXEES)
            except OSError:
                logger.exception("Expressions indexées non notées : lues en phrases")
                provisoire.unlink(missing_ok=True)
                if not self._lire_cles() <= cles:
                    # Some keys noted are no longer carried: with none, every
                    # expression is read as a phrase, slower but never wrong.
                    self._effacer_cles()
                return
        self._cles_indexees = cles

    def _effacer_cles(self) -> None:
        try:
            (self.dossier / CLES_INDEXEES).unlink(missing_ok=True)
        except OSError:
            logger.exception("Expressions indexées : la liste n'a pu être effacée")
        self._cles_indexees = frozenset()

    def _lire_cles(self) -> frozenset[str]:
        """The expressions every fiche carries: those known when the index
        was last filled from nothing. One added to the synonyms since is
        searched as a phrase until the next rebuild."""
        if self.en_memoire:
            return self._cles_indexees
        try:
            texte = (self.dossier / CLES_INDEXEES).read_text(encoding="utf-8")
        except (OSError, ValueError):  # unreadable: read them as phrases
            return frozenset()
        return frozenset(texte.split("\n")) - {""}

    # --- Reading documents -------------------------------------------------------

    def _sources(self, fiche_ids: list[str] | None) -> dict[str, dict]:
        """The stored documents of these fiches (None: of every fiche)."""
        if fiche_ids == []:
            return {}
        with _illisible():
            searcher = self._searcher()
            if fiche_ids is None:
                requete, n = Query.all_query(), searcher.num_docs
            else:
                requete = Query.term_set_query(self.schema, "id", fiche_ids)
                n = len(fiche_ids)
            if not n:
                return {}
            return {
                s["id"]: s
                for s in (
                    _source(searcher.doc(a))
                    for a in _adresses(searcher.search(requete, n, count=False))
                )
            }

    def _toutes_les_sources(self) -> dict[str, dict]:
        return self._sources(None)

    def _places_de_toutes(self) -> dict[str, dict]:
        """The place fields of every fiche, read from the small cartes."""
        with _illisible():
            searcher = self._searcher()
            if not searcher.num_docs:
                return {}
            tous = searcher.search(Query.all_query(), searcher.num_docs, count=False)
            return {
                carte["id"]: champs_places(
                    carte["places_restantes"], carte["places_maj_le"]
                )
                for carte in _cartes(searcher, tous)
            }

    def empreintes(self) -> dict[str, str]:
        return {i: s["empreinte"] for i, s in self._toutes_les_sources().items()}

    def places(self, fiche_ids: Iterable[str]) -> dict[str, dict]:
        return {
            i: champs_places(
                s["places_restantes"],
                s["places_maj_le"],
                bool(s.get("places_illimitees")),
            )
            for i, s in self._sources(list(fiche_ids)).items()
        }

    # --- Resynchronisation bookkeeping (for the Meilisearch fallback) ---

    def noter_a_resynchroniser(self, fiche_ids: Iterable[str]) -> None:
        self._carnet.noter(fiche_ids)

    def a_resynchroniser(self) -> set[str]:
        return self._carnet.lire()

    def resynchronisees(self, fiche_ids: Iterable[str]) -> None:
        self._carnet.retirer(fiche_ids)

    # --- Searching -------------------------------------------------------------

    def rechercher(self, requete: Requete) -> Resultats:
        try:
            with _illisible():
                return self._rechercher(requete, self._searcher())
        except RechercheIndisponible:
            if self.source is not None and not self.en_memoire:
                self._reparer()  # raises RechercheIndisponible once under way
            raise

    def _rechercher(self, requete: Requete, searcher) -> Resultats:
        filtres = self._filtres(requete)
        if requete.rayon_km is not None and requete.point:
            filtres.append(self._rayon(searcher, filtres, requete))
        texte, ignores = None, []
        unites = self._analyser(requete.texte, searcher)
        en_trop = [u.ecrit for u in unites[MOTS_MAX:]]
        unites = unites[:MOTS_MAX]
        if unites:
            texte = Texte(unites)
        clauses = [*filtres, *_requetes(unites)]
        criteres = [*filtres, *(u.critere for u in unites)]
        # The counts as if the words matched together: on a large index in
        # another thread (tantivy lets go of the GIL) while this one looks
        # for the page; on a small one, handing over would cost more.
        plafond_filtres = self._plafond_filtres(searcher, requete)
        plafond = min([plafond_filtres, *(u.plafond for u in unites)])
        compter = partial(
            self._compter, searcher, _et(criteres), requete.facettes, plafond
        )
        a_cote = searcher.num_docs >= FICHES_POUR_COMPTER_A_COTE
        if a_cote:
            attendre = _fond().submit(compter).result
        else:
            attendre = partial(lambda comptes: comptes, compter())
        # Built once: each query wrapped in another is copied whole.
        devance, requete_t = None, _et(clauses)
        par_distance = requete.tri == "distance" and requete.point
        if not par_distance:
            devance = self._devancer(searcher, requete, requete_t, unites)
        elif a_cote and plafond > requete.page * requete.par_page <= FIN_RAPIDE:
            # Meanwhile, the page as for a total beyond it (kept only then):
            # first pages only, where a page thrown away costs little.
            devance = self._page_par_distance(searcher, requete, clauses, criteres)
        comptes = attendre()
        if not comptes["total"] and len(unites) > 1:
            devance = None
            gardees, ignores, comptes_gardees = self._assouplir(
                unites, filtres, searcher, requete.facettes, plafond_filtres
            )
            if gardees:
                texte, comptes = Texte(gardees), comptes_gardees
                clauses = [*filtres, *_requetes(gardees)]
                criteres = [*filtres, *(u.critere for u in gardees)]
                requete_t = _et(clauses)
        if (requete.page - 1) * requete.par_page >= comptes["total"]:
            page, distances = [], {}  # past the end: nothing to read or sort
        elif par_distance:
            if devance is None or comptes["total"] <= requete.page * requete.par_page:
                devance = self._page_par_distance(
                    searcher, requete, clauses, criteres, comptes["total"]
                )
            page, distances = devance
        else:
            page = self._page(searcher, requete, requete_t, comptes, devance)
            distances = {}
        resultats = []
        for source in page:
            distance = distances.get(source["id"])
            if distance is None and requete.point and source["lieux"]:
                distance = _plus_proche(requete.point, source["lieux"])
            resultats.append(
                Resultat(
                    id=source["id"],
                    distance_km=round(distance, 1) if distance is not None else None,
                    places_restantes=source["places_restantes"],
                    places_maj_le=source["places_maj_le"],
                    surlignage={c: texte.marquer(source[c]) for c in CHAMPS_SURLIGNES}
                    if texte
                    else {},
                )
            )
        return Resultats(
            comptes["total"],
            requete.page,
            requete.par_page,
            resultats,
            comptes["facettes"],
            mots_ignores=(*ignores, *en_trop),
            places_libres=comptes["libres"],
            places_completes=comptes["total"] - comptes["ouvertes"],
        )

    def _compter(self, searcher, requete: Query, noms, plafond=None) -> dict:
        """Facet counts, and how many open and full actions, in one pass.

        One field holds every facet's values. When many documents may match
        (``plafond``: at most this many), each of its terms is counted
        against them, read once as a set; a column aggregation reads every
        value of every match, 5 times slower on a broad search, but quicker
        on a few hundred documents than going through every term. Every
        match has one statut: the statut filter is always there
        (``_filtres``), so their sum is the total."""
        valeurs: dict[str, dict[str, int]] = {f: {} for f in (*noms, "statut", PLACES)}
        for terme, nombre in self._comptes_des_valeurs(
            searcher, requete, valeurs, plafond
        ):
            facette, _, valeur = terme.partition("=")
            if nombre and facette in valeurs:
                valeurs[facette][valeur] = nombre
        places = valeurs.pop(PLACES)
        total = sum(valeurs["statut"].values())
        facettes = {
            f: dict(sorted(valeurs[f].items(), key=lambda e: (-e[1], e[0])))
            for f in noms
        }
        return {
            "total": total,
            "ouvertes": total - places.get("complet", 0),
            "libres": places.get("libres", 0),
            "facettes": facettes,
        }

    def _comptes_des_valeurs(self, searcher, requete, valeurs, plafond):
        """(facette=valeur, documents) of the matching documents."""
        peu = max(searcher.num_docs // PART_PEU, PEU)
        if plafond is not None and plafond <= peu:
            agregat = searcher.aggregate(
                requete,
                {"v": {"terms": {"field": TOUTES_FACETTES, "size": 65_000}}},
            )
            return [(s["key"], s["doc_count"]) for s in agregat["v"]["buckets"]]
        # Every term when most facets are asked for; else only their own
        # (each term costs, even on a small index).
        debuts = [""] if len(valeurs) > len(FACETTES) else [f"{f}=" for f in valeurs]
        return [
            compte
            for debut in debuts
            for compte in searcher.terms_with_prefix(
                TOUTES_FACETTES, debut, filter_query=requete
            )
        ]

    def _plafond_filtres(self, searcher, requete: Requete) -> int:
        """At most this many documents pass the filters (statut, facets, zone)."""
        filtres = {"statut": ("active",), **requete.filtres}
        if requete.zone:
            filtres["zone"] = requete.zone
        return min(
            sum(searcher.doc_freq(champ, v) for v in valeurs)
            for champ, valeurs in filtres.items()
        )

    def _rayon(self, searcher, filtres: list[Query], requete: Requete) -> Query:
        """Actions with a lieu within the radius, done at a distance, or with
        no address known (the zone filter says whom those serve).

        The box around the circle narrows the lieux; the distinct points in
        it are measured, and those inside the circle become the filter."""
        boite = _et([*filtres, self._boite(requete.point, requete.rayon_km)])
        dedans = [
            cle
            for d, cle, _n in self._points(searcher, boite, requete.point)
            if d <= requete.rayon_km
        ]
        # "Not (with a lieu, neither at a distance nor inside)": exclusions
        # are checked document by document, where a union with the many
        # actions done at a distance would be read in bulk around every
        # candidate.
        loin = _sauf(
            Query.exists_query("geo"),
            [
                self._vrai("a_distance"),
                Query.term_set_query(self.schema, "geo", dedans),
            ],
        )
        return _sauf(Query.all_query(), [loin])

    def _points(self, searcher, requete: Query, point) -> list[tuple]:
        """(distance, point, number of actions) of each distinct lieu the
        matching actions have, nearest first."""
        seaux = searcher.aggregate(
            requete, {"geo": {"terms": {"field": "geo", "size": 65_000}}}
        )["geo"]["buckets"]
        points = []
        for seau in seaux:
            lat, lng = map(float, seau["key"].split(","))
            points.append(
                (distance_km(*point, lat, lng), seau["key"], seau["doc_count"])
            )
        return sorted(points)

    def _vrai(self, champ: str) -> Query:
        return Query.term_query(self.schema, champ, True)

    def _parmi(self, champ: str, valeurs: list[str]) -> Query:
        """A filter on many values at once (read up front, as a set)."""
        return Query.const_score_query(
            Query.term_set_query(self.schema, champ, valeurs), 0.0
        )

    def _un_de(self, champ: str, valeurs: Iterable) -> Query:
        """A filter: one of these values, adding nothing to the score.

        Term queries rather than a term set: a set reads every posting of
        its terms up front ("active" holds most of the index), while term
        postings skip ahead to the documents the words match."""
        termes = [Query.term_query(self.schema, champ, v) for v in valeurs]
        return Query.const_score_query(
            _ou(termes) if termes else Query.empty_query(), 0.0
        )

    def _filtres(self, requete: Requete) -> list[Query]:
        filtres = dict(requete.filtres)
        filtres.setdefault("statut", ("active",))
        clauses = [
            self._un_de(facette, valeurs) for facette, valeurs in filtres.items()
        ]
        if requete.zone:
            clauses.append(self._un_de("zone", requete.zone))
        if requete.places_disponibles:
            clauses.append(self._vrai("disponible"))
        return clauses

    def _devancer(self, searcher, requete: Requete, requete_t, unites) -> list:
        """The addresses the page's first search finds, before the counts
        are known: by a fast field for tri=places and tri=nom, else the
        open actions in order of relevance."""
        if requete.tri in TRIS_PAR_CHAMP:
            return self._par_champ(searcher, requete, requete_t)
        n, debut = requete.par_page, (requete.page - 1) * requete.par_page
        if len(unites) == 1 and _sans_filtre(requete) and debut + n <= FIN_RAPIDE:
            page = self._par_les_mots(searcher, unites[0], debut, debut + n)
            if page is not None:
                return page
        ouvertes = self._ouvertes(requete_t)
        return _adresses(searcher.search(ouvertes, n, count=False, offset=debut))

    def _par_les_mots(self, searcher, unite: Unite, debut: int, fin: int):
        """The open, active results from ``debut`` to ``fin`` by relevance,
        without scoring every match; None when that cannot be sure.

        The unit's words alone are a plain sum: tantivy finds its best k
        by skipping the documents that cannot reach them (block-max WAND);
        two fast fields then tell which are active and open. Its phrases,
        when they match few fiches, are scored in full beside them. A
        document outside the best k scores at most the k-th: the
        candidates above it are in their final order."""
        if unite.plafond_phrases > PEU:
            return None
        exprimees = {}
        if unite.phrases:
            par_phrase = Query.boolean_query(
                [
                    (Occur.Must, Query.const_score_query(_ou(unite.phrases), 0.0)),
                    (Occur.Must, unite.requete),
                ]
            )
            trouvees = searcher.search(
                par_phrase, max(unite.plafond_phrases, 1), count=False
            )
            exprimees = {_cle(a): (score, a) for score, a in trouvees.hits}
        k = max(CANDIDATS_MIN, CANDIDATS_PAR_RESULTAT * fin)
        for _essai in range(2):
            hits = (
                searcher.search(_ou(unite.termes), k, count=False).hits
                if unite.termes
                else []
            )
            seuil = hits[-1][0] if len(hits) == k else None  # None: all seen
            candidats = {_cle(a): (score, a) for score, a in hits} | exprimees
            ordre = sorted(candidats.values(), key=lambda e: (-e[0], _cle(e[1])))
            adresses = [a for score, a in ordre if seuil is None or score > seuil]
            actifs = searcher.fast_field_values("actif", adresses)
            places = searcher.fast_field_values("places_tri", adresses)
            ouvertes = [
                a
                for a, actif, tri in zip(adresses, actifs, places, strict=True)
                if actif == 1 and tri != -1
            ]
            if len(ouvertes) >= fin or seuil is None:
                return ouvertes[debut:fin]
            k *= 4
        return None

    def _par_champ(self, searcher, requete: Requete, requete_t) -> list:
        """The page's addresses in the order of a fast field (TRIS_PAR_CHAMP)."""
        champ, ordre = TRIS_PAR_CHAMP[requete.tri]
        n, debut = requete.par_page, (requete.page - 1) * requete.par_page
        return _adresses(
            searcher.search(
                requete_t,
                n,
                count=False,
                order_by_field=champ,
                order=ordre,
                offset=debut,
            )
        )

    def _ouvertes(self, requete_t) -> Query:
        return Query.boolean_query(
            [(Occur.Must, requete_t), (Occur.MustNot, self._vrai("complet"))]
        )

    def _page(
        self, searcher, requete: Requete, requete_t, comptes, devance=None
    ) -> list[dict]:
        """The cartes of the page's results (``devance``: the addresses
        _devancer found for the same words)."""
        n, debut = requete.par_page, (requete.page - 1) * requete.par_page
        if requete.tri in TRIS_PAR_CHAMP:
            if devance is None:
                devance = self._par_champ(searcher, requete, requete_t)
            return [_carte(searcher.doc(a)) for a in devance]
        # Relevance: open actions first, full ones after.
        if not comptes["total"]:
            return []
        if comptes["total"] <= n:  # all of them in the first page: one search
            cartes = _cartes(
                searcher, searcher.search(requete_t, comptes["total"], count=False)
            )
            ouvertes = [c for c in cartes if c["places_restantes"] != 0]
            return (ouvertes + [c for c in cartes if c["places_restantes"] == 0])[
                debut:
            ]
        ouvertes = self._ouvertes(requete_t)
        page = []
        if debut < comptes["ouvertes"]:
            page = (
                devance
                if devance is not None
                else _adresses(searcher.search(ouvertes, n, count=False, offset=debut))
            )
        if len(page) < n and comptes["total"] > comptes["ouvertes"]:
            completes = _et([requete_t, self._vrai("complet")])
            decalage = max(debut - comptes["ouvertes"], 0)
            page += _adresses(
                searcher.search(completes, n - len(page), count=False, offset=decalage)
            )
        return [_carte(searcher.doc(a)) for a in page]

    def _page_par_distance(
        self, searcher, requete: Requete, clauses, criteres, total=None
    ) -> tuple:
        """Nearest first, without measuring every match: the distinct lieux
        in a growing box around the person, until the page is surely inside
        the circle the box holds; actions with no lieu come last.

        ``total`` (None: not known yet, taken as beyond this page)."""
        n, debut = requete.par_page, (requete.page - 1) * requete.par_page
        fin = debut + n
        if total is not None and total <= fin:  # all up to this page: measure them
            cartes = (
                _cartes(searcher, searcher.search(_et(criteres), total, count=False))
                if total
                else []
            )
            distances = {
                c["id"]: _plus_proche(requete.point, c["lieux"])
                for c in cartes
                if c["lieux"]
            }
            # Those without a lieu keep their order, as in the other branch.
            ordre = sorted(
                cartes,
                key=lambda c: (0, distances[c["id"]], c["id"])
                if c["id"] in distances
                else (1, 0, ""),
            )
            return ordre[debut:], distances
        avec_lieu = _et([*criteres, Query.exists_query("lat")])
        nb_avec_lieu = _nombre(searcher, avec_lieu)
        rayon = 10.0
        while True:
            if nb_avec_lieu <= 500 or rayon > 2500:  # few: measure them all
                ordre = self._plus_proches(
                    searcher,
                    criteres,
                    self._points(searcher, avec_lieu, requete.point),
                    requete.point,
                    fin,
                )
                break
            dedans = _et([*criteres, self._boite(requete.point, rayon)])
            points = self._points(searcher, dedans, requete.point)
            ordre = self._plus_proches(searcher, criteres, points, requete.point, fin)
            # Sure only inside the circle the box holds: beyond it, a lieu
            # outside the box may be nearer.
            if len(ordre) >= fin and ordre[fin - 1][1][0] <= rayon:
                break
            rayon *= 3
        cartes = [carte for _i, (_d, carte) in ordre[debut:fin]]
        if len(cartes) < n:
            # Then the actions without a lieu (done at a distance), in index order.
            restants = Query.boolean_query(
                [
                    *((Occur.Must, c) for c in clauses),
                    (Occur.MustNot, Query.exists_query("lat")),
                ]
            )
            decalage = max(debut - nb_avec_lieu, 0)
            cartes += _cartes(
                searcher,
                searcher.search(
                    restants, n - len(cartes), count=False, offset=decalage
                ),
            )
        return cartes, {i: d for i, (d, _c) in ordre}

    def _plus_proches(self, searcher, clauses, points, point, fin) -> list:
        """The actions of the nearest lieux, until they hold ``fin`` of them,
        each at the distance of its nearest lieu, nearest first."""
        distances, pris = {}, 0
        while pris < len(points) and len(distances) < fin:
            total = 0
            while pris < len(points) and total < fin - len(distances):
                total += points[pris][2]
                pris += 1
            proches = _et(
                [*clauses, self._parmi("geo", [c for _d, c, _n in points[:pris]])]
            )
            nb = sum(nb for _d, _c, nb in points[:pris])
            for carte in _cartes(searcher, searcher.search(proches, nb, count=False)):
                distances[carte["id"]] = (_plus_proche(point, carte["lieux"]), carte)
        return sorted(distances.items(), key=lambda e: (e[1][0], e[0]))

    def _boite(self, point, rayon_km: float) -> Query:
        lat, lng = point
        dlat = rayon_km / 111.0
        dlng = rayon_km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
        return _et(
            [
                Query.range_query(
                    self.schema, "lat", tantivy.FieldType.Float, lat - dlat, lat + dlat
                ),
                Query.range_query(
                    self.schema, "lng", tantivy.FieldType.Float, lng - dlng, lng + dlng
                ),
            ]
        )

    # --- Words -------------------------------------------------------------------

    def _analyser(self, texte: str, searcher) -> list[Unite]:
        """Each useful word, or synonym expression, becomes one unit that
        must match: as typed (stemmed), by synonym, with a typo or, for the
        last word, as the beginning of a longer word (search as you type)."""
        mots = _mots_utiles(texte)
        ecrits = {_plier_mot(m): m for m in re.findall(r"\w+", texte)}
        unites, i = [], 0
        while i < len(mots):
            n, alternatives, thematiques = expressions_equivalentes(mots[i:])
            n = max(n, 1)
            dernier = i + n == len(mots)
            unite = self._unite(
                mots[i : i + n], alternatives, thematiques, dernier, searcher
            )
            # Reported as typed, accents and all ("vélo", not "velo").
            unite.ecrit = " ".join(ecrits.get(m, m) for m in mots[i : i + n])
            unites.append(unite)
            i += n
        return unites

    def _unite(self, mots, alternatives, thematiques, dernier, searcher) -> Unite:
        """Fewer typos first, as Meilisearch ranks: a unit found as typed
        (or by synonym) weighs ECHELLE_JUSTE times more, which no typo,
        word beginning or thématique reaches, then BM25 by field decides."""
        unite = Unite(" ".join(mots), Query.empty_query())
        frequence = searcher.doc_freq
        # Scored as about ``poids``, whatever the term's rarity: a word
        # beginning or a thématique is only indexed as present.
        a_peu_pres = partial(_poids_constant, searcher.num_docs)
        termes, phrases = unite.termes, unite.phrases
        if len(mots) == 1:
            mot = mots[0]
            racine = _racine_utile(mot)
            unite.exacts.add(mot)
            if racine is None:
                # « sées »: its stem « se » would find every fiche. The word
                # as written, singular or plural, finds what was meant.
                nombre = mot[:-1] if mot.endswith("s") else mot + "s"
                for forme in (mot, nombre):
                    termes.append(
                        Query.boost_query(
                            Query.term_query(self.schema, TOUT, forme),
                            POIDS["nom"] * ECHELLE_JUSTE,
                        )
                    )
                    unite.plafond += frequence(TOUT, forme)
            else:
                termes += [
                    Query.boost_query(
                        Query.term_query(self.schema, c, racine),
                        POIDS[c] * ECHELLE_JUSTE,
                    )
                    for c in CHAMPS_TEXTE
                ]
                unite.plafond += sum(frequence(c, racine) for c in CHAMPS_TEXTE)
            if typos_permises(mot):
                unite.corrections = proches(mot, self._termes(searcher, mot))
                unite.exacts.update(unite.corrections)
                for variante in unite.corrections:
                    unite.plafond += frequence(TOUT, variante)
                    unite.plafond += frequence("nom", raciner(variante))
                    termes += [
                        Query.boost_query(
                            Query.term_query(self.schema, TOUT, variante), POIDS_FAUTE
                        ),
                        Query.boost_query(
                            Query.term_query(self.schema, "nom", raciner(variante)),
                            POIDS_FAUTE,
                        ),
                    ]
            if dernier and len(mot) > 1 and not mot.isdigit():
                # Search as you type: the words it begins, indexed as such
                # (one posting list, not hundreds); past DEBUT_MAX letters,
                # the words sharing its first DEBUT_MAX.
                unite.prefixes.add(mot)
                n = frequence(DEBUTS, mot[:DEBUT_MAX])
                unite.plafond += n
                termes.append(
                    Query.boost_query(
                        Query.term_query(self.schema, DEBUTS, mot[:DEBUT_MAX]),
                        a_peu_pres(n, POIDS_FAUTE),
                    )
                )
        # A phrase holding one of the unit's single words only finds fiches
        # that word finds already (in TOUT, so in a field, stemmed): it is
        # left out, as a phrase of common words ("bénéficiaires du RSA") is
        # the dearest clause of all.
        seuls = set()
        for forme in (mots, *alternatives):
            places = _places_des_mots(forme)
            if len(places) == 1:
                seuls.add(places[0][1])
        couverte = partial(_couverte, seuls)
        if len(mots) > 1:
            if not couverte(mots):
                self._expression(mots, POIDS["nom"] * ECHELLE_JUSTE, unite, searcher)
            unite.plafond += _plafond_expression(searcher, mots)
            unite.exacts.update(mots)
        for forme in alternatives:
            if tuple(forme) == tuple(mots) or couverte(forme):
                continue
            self._expression(
                list(forme), POIDS_SYNONYME * ECHELLE_JUSTE, unite, searcher
            )
            unite.plafond += _plafond_expression(searcher, forme)
            places = _places_des_mots(forme)
            if len(places) == 1:
                unite.exacts.add(places[0][1])
            else:
                debut = places[0][0]
                unite.expressions.append(tuple((i - debut, m) for i, m in places))
        for thematique in thematiques:
            n = frequence("thematiques", thematique)
            unite.plafond += n
            termes.append(
                Query.boost_query(
                    Query.term_query(self.schema, "thematiques", thematique),
                    a_peu_pres(n, POIDS_THEMATIQUE),
                )
            )
        unite.requete = _ou([*termes, *phrases])
        unite.critere = unite.requete
        return unite

    def _expression(
        self, mots: list[str], poids: float, unite: Unite, searcher
    ) -> None:
        """An expression of the unit: a word, a known expression (both
        terms) or a phrase."""
        places = _places_des_mots(mots)
        if len(places) == 1:
            requete = Query.term_query(self.schema, TOUT, places[0][1])
            unite.termes.append(Query.boost_query(requete, poids))
        elif (cle := _cle_expression(places)) in self._cles_indexees and (
            cle in _cles_connues()
        ):
            # Scored as the phrase would be: BM25 weighs a phrase by the sum
            # of its words' idf, the term by its own.
            idf = partial(_idf, searcher.num_docs)
            rapport = sum(idf(searcher.doc_freq(TOUT, m)) for _i, m in places) / idf(
                searcher.doc_freq(EXPRESSIONS, cle)
            )
            requete = Query.term_query(self.schema, EXPRESSIONS, cle)
            unite.termes.append(Query.boost_query(requete, poids * rapport))
        else:
            requete = Query.phrase_query(self.schema, TOUT, places)
            unite.phrases.append(Query.boost_query(requete, poids))
            unite.plafond_phrases += _plafond_expression(searcher, mots)

    def _termes(self, searcher, mot: str) -> list[str]:
        """Words of the index that could be this word with its typos: same
        first letter, a length within reach.

        The vocabulary is read in one pass and kept while the index holds
        the same number of fiches, for TERMES_DUREE_S at most: a new place
        count changes no word, and a stale list only misses a rare new
        word's typos for a while."""
        cle = (searcher.num_docs, int(time.monotonic() // TERMES_DUREE_S))
        if self._termes_cache.get("") != cle:
            par_initiale: dict[tuple[str, int], list[str]] = {}
            for terme, _n in searcher.terms_with_prefix(TOUT, "", limit=None):
                if not terme.isdigit():
                    par_initiale.setdefault((terme[0], len(terme)), []).append(terme)
            self._termes_cache = {"": cle, "vocabulaire": par_initiale}
        proches_de = self._termes_cache.setdefault("proches", {})
        if (mot[0], len(mot)) not in proches_de:
            k = typos_permises(mot)
            proches_de[mot[0], len(mot)] = [
                terme
                for longueur in range(len(mot) - k, len(mot) + k + 1)
                for terme in self._termes_cache["vocabulaire"].get(
                    (mot[0], longueur), ()
                )
            ]
        return proches_de[mot[0], len(mot)]

    def _assouplir(self, unites: list[Unite], filtres, searcher, facettes, plafond):
        """All the words if they match together; else drop the least useful
        in turn: those found nowhere, then the last ones (Meilisearch's
        "last" matching strategy). Called once all of them found nothing.

        Built from the first word on, each one kept while the kept ones
        still match together: the same words as dropping from the end, with
        fewer passes (two words: one, when the first is found). Each try
        counts the facets too, so the words kept come with their counts.
        Returns the units kept (none: nothing matches, drop nothing), the
        words ignored, and the counts."""
        gardees, ignores, comptes = [], [], None
        for i, unite in enumerate(unites):
            dernier = i == len(unites) - 1
            essai = None
            if not (dernier and len(gardees) == i):  # all of them: nothing
                requete = _et([*filtres, *(u.critere for u in [*gardees, unite])])
                essai = self._compter(
                    searcher,
                    requete,
                    facettes,
                    min([plafond, *(u.plafond for u in [*gardees, unite])]),
                )
            if essai and essai["total"]:
                gardees.append(unite)
                comptes = essai
            elif not gardees or dernier or not self._trouve(searcher, filtres, [unite]):
                ignores.append(unite.ecrit)  # found nowhere (the last: either way)
            else:  # found, but not with the words before it: it and the rest go
                ignores += [u.ecrit for u in unites[i:]]
                break
        return gardees, (ignores if gardees else []), comptes

    def _trouve(self, searcher, filtres, unites: list[Unite]) -> bool:
        return bool(_nombre(searcher, _et([*filtres, *(u.critere for u in unites)])))


# --- Helpers --------------------------------------------------------------------


@contextmanager
def _illisible():
    """A damaged or unreadable index becomes RechercheIndisponible."""
    try:
        yield
    except BaseException as e:
        if not _erreur_d_index(e):
            raise
        raise RechercheIndisponible(f"index embarqué illisible : {e}") from e


def _refuse(e: BaseException) -> bool:
    """The system refused access (a file of the index owned by another user)."""
    return isinstance(e, PermissionError) or any(
        m in str(e) for m in ("PermissionDenied", "Permission denied")
    )


class IndexNonModifiable(PermissionError):
    """The index folder cannot be written (rights, full disk): not damage."""


# Below this, a failed write is put down to the disk being full: tantivy's
# writer threads often die with only « An index writer was killed ».
PLACE_MINIMUM = 64 * 1024 * 1024


def _plus_de_place(e: BaseException, chemin: Path) -> bool:
    texte = str(e)
    if "No space left" in texte or "os error 28" in texte:
        return True
    for dossier in (chemin, *chemin.parents):
        if dossier.exists():
            try:
                return shutil.disk_usage(dossier).free < PLACE_MINIMUM
            except OSError:
                return False
    return False


def _ecriture_impossible(e: BaseException) -> bool:
    """tantivy failing to write (disk, I/O), not a bug of ours: its own errors
    only, the other ValueErrors keep their traceback."""
    texte = str(e)
    return isinstance(e, OSError) or (
        isinstance(e, ValueError)
        and any(m in texte for m in ("IO error", "io::Error", "writer was killed"))
    )


def _cause(e: BaseException, chemin: Path) -> str:
    """Why the index could not be opened or written, in French."""
    if isinstance(e, IndexNonModifiable):
        return str(e)
    if _plus_de_place(e, chemin):
        return "plus de place sur le disque"
    if _refuse(e):
        return "droits insuffisants"
    return str(e) or type(e).__name__


def _erreur_d_index(e: BaseException) -> bool:
    """A damaged or unreadable index: tantivy raises ValueError or OSError,
    and its Rust panics surface as pyo3's PanicException (a BaseException)."""
    return isinstance(e, ValueError | OSError) or type(e).__name__ == "PanicException"


_FONDS: dict[int, ThreadPoolExecutor] = {}


def _fond() -> ThreadPoolExecutor:
    """This process's threads for counting (a forked worker makes its own)."""
    pid = os.getpid()
    if pid not in _FONDS:
        _FONDS.clear()
        _FONDS[pid] = ThreadPoolExecutor(4, thread_name_prefix="comptes")
    return _FONDS[pid]


def _version(nom: str) -> int:
    """The layout number of an index folder ("v4" -> 4; not a layout: never older)."""
    return int(nom[1:]) if nom[1:].isascii() and nom[1:].isdigit() else VERSION_SCHEMA


def _places_des_mots(mots) -> list[tuple[int, str]]:
    """The words an expression is searched by, each at its place. Stop
    words keep their place but are not read: "du" is in every fiche, its
    positions cost more than the rest of the phrase."""
    plies = [plie for mot in mots for plie in plier(mot)]  # "cœur" -> "coeur"
    utiles = [(i, m) for i, m in enumerate(plies) if m not in mots_vides()]
    return utiles if len(utiles) >= 2 else list(enumerate(plies))


def _couverte(seuls: set[str], forme) -> bool:
    """Whether an expression of several words holds one of these words."""
    places = _places_des_mots(forme)
    return len(places) > 1 and any(m in seuls for _i, m in places)


def _plafond_expression(searcher, mots) -> int:
    """At most as many documents as its rarest word is in."""
    return min(
        (searcher.doc_freq(TOUT, m) for _i, m in _places_des_mots(mots)), default=0
    )


def _requetes(unites: list[Unite]) -> list[Query]:
    return [u.requete for u in unites]


def _poids_constant(documents: int, frequence: int, poids: float) -> float:
    """The boost that scores a term present once in a document of average
    length about ``poids``: BM25 gives it its idf (k1 = 1.2, b = 0.75)."""
    idf = math.log(1 + (documents - frequence + 0.5) / (frequence + 0.5))
    return poids / max(idf, 1e-3)


def _sans_filtre(requete: Requete) -> bool:
    """Only words: active actions, anywhere, with or without places."""
    return not (
        requete.filtres
        or requete.zone
        or requete.places_disponibles
        or (requete.rayon_km is not None and requete.point)
    )


def _cle(adresse) -> tuple[int, int]:
    """A document's place in the index: the order of equal scores."""
    return adresse.segment_ord, adresse.doc


def _nombre(searcher, requete: Query) -> int:
    return searcher.search(requete, 1, count=True).count


def _adresses(resultat) -> list:
    return [adresse for _score, adresse in resultat.hits]


def _valeurs(valeur) -> list[str]:
    if valeur is None:
        return []
    return [v for v in valeur if v] if isinstance(valeur, list) else [valeur]


def _source(document) -> dict:
    return json.loads(bytes(document["source"][0]))


def _carte(document) -> dict:
    return json.loads(bytes(document["carte"][0]))


def _cartes(searcher, resultat) -> list[dict]:
    return [_carte(searcher.doc(a)) for a in _adresses(resultat)]


def _et(clauses: list[Query]) -> Query:
    if not clauses:
        return Query.all_query()
    if len(clauses) == 1:
        return clauses[0]
    return Query.boolean_query([(Occur.Must, c) for c in clauses])


def _sauf(requete: Query, exclues: list[Query]) -> Query:
    return Query.boolean_query(
        [(Occur.Must, requete), *((Occur.MustNot, e) for e in exclues)]
    )


def _ou(clauses: list[Query]) -> Query:
    if len(clauses) == 1:
        return clauses[0]
    return Query.boolean_query([(Occur.Should, c) for c in clauses])


def _plus_proche(point, lieux: list[dict]) -> float:
    return min(distance_km(*point, p["lat"], p["lng"]) for p in lieux)


class _Carnet:
    """Fiches Meilisearch missed, noted for the next sync (a tiny SQLite file;
    in memory when the file cannot be written)."""

    def __init__(self, chemin: Path):
        self.chemin = chemin
        self._memoire: set[str] | None = None
        try:
            chemin.parent.mkdir(parents=True, exist_ok=True)
            with self._cnx() as cnx:
                cnx.execute(
                    "CREATE TABLE IF NOT EXISTS a_resynchroniser (id TEXT PRIMARY KEY)"
                )
        except (OSError, sqlite3.Error):
            logger.exception("Carnet de resynchronisation gardé en mémoire")
            self._memoire = set()

    def _cnx(self) -> sqlite3.Connection:
        return sqlite3.connect(self.chemin, timeout=30)

    def noter(self, fiche_ids: Iterable[str]) -> None:
        if self._memoire is not None:
            self._memoire.update(fiche_ids)
            return
        with self._cnx() as cnx:
            cnx.executemany(
                "INSERT OR IGNORE INTO a_resynchroniser VALUES (?)",
                [(i,) for i in fiche_ids],
            )

    def lire(self) -> set[str]:
        if self._memoire is not None:
            return set(self._memoire)
        with self._cnx() as cnx:
            return {i for (i,) in cnx.execute("SELECT id FROM a_resynchroniser")}

    def retirer(self, fiche_ids: Iterable[str]) -> None:
        if self._memoire is not None:
            self._memoire.difference_update(fiche_ids)
            return
        with self._cnx() as cnx:
            cnx.executemany(
                "DELETE FROM a_resynchroniser WHERE id = ?", [(i,) for i in fiche_ids]
            )
