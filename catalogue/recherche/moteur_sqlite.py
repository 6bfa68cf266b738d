"""Embedded search engine: SQLite in one file, no server to run.

Every worker process opens the same file (WAL mode). What the YAML decides
(facets, zones, places on the map, the word list) is cached per process and
reloaded when another process re-indexes. Which actions are full or have
places left is reloaded whenever any process changes places, so a place
taken anywhere shows in the very next search.

Everything is a bitset (a Python int, one bit per row): facet values, and
the postings written at index time, one per word and searchable field. A
search is ANDs and ORs of bitsets, ranked in tiers like Meilisearch's rules
(open before full, fewer typos, then the best field the words are in, then
index order), and only the rows of the page asked for are ever listed.
Measured with bench/bench_recherche.py at 100 000 fiches: p95 7 ms, where
FTS5 took 30-40 ms to match and bm25-rank the thousands of rows a common
word finds.
"""

import json
import os
import re
import sqlite3
import threading
import uuid
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from catalogue.recherche import (
    CHAMPS_SURLIGNES,
    CHAMPS_TEXTE,
    FACETTES,
    RechercheIndisponible,
    Requete,
    Resultat,
    Resultats,
)
from catalogue.recherche.documents import champs_places, places_les_plus_recentes
from catalogue.recherche.langue import (
    DEBUT_MARQUE,
    FIN_MARQUE,
    mots,
    mots_vides,
    sans_accents,
    surligner,
    synonymes,
)
from catalogue.territoires import distance_km

LOT = 2000  # rows per write transaction when rebuilding
VERSION_SCHEMA = 3
# Tables of older layouts, dropped when the layout changes.
TABLES = ("termes", "textes", "postings", "fiches", "meta")
APRES_TOUT = "\U0010ffff"  # sorts after every term: the end of a prefix range

SCHEMA_FICHES = """
CREATE TABLE IF NOT EXISTS fiches{s} (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    empreinte TEXT NOT NULL,
    donnees TEXT NOT NULL,
    textes TEXT NOT NULL,
    places_restantes INTEGER,
    places_maj_le TEXT
);
CREATE INDEX IF NOT EXISTS fiches{s}_places ON fiches{s}(places_restantes);
CREATE TABLE IF NOT EXISTS postings{s} (
    terme TEXT NOT NULL,
    champ INTEGER NOT NULL,
    bits BLOB NOT NULL,
    PRIMARY KEY (terme, champ)
) WITHOUT ROWID;
"""
SCHEMA_COMMUN = """
CREATE TABLE IF NOT EXISTS meta (cle TEXT PRIMARY KEY, valeur TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS a_resynchroniser (id TEXT PRIMARY KEY);
"""
# Stored per row for filters, facets and distance (texts are stored apart).
CHAMPS_DONNEES = ("zone", "lieux", "a_distance", "session_ouverte", "nom_tri")


# --- Bitsets ----------------------------------------------------------------

_POSITIONS = [tuple(j for j in range(8) if octet >> j & 1) for octet in range(256)]
_NON_NUL = re.compile(rb"[^\x00]")


def _bits(rowids: Iterable[int]) -> int:
    rowids = list(rowids)
    if not rowids:
        return 0
    # One "0"/"1" digit per row, read as a base-2 number: 4x faster than ORs.
    chiffres = bytearray(b"0") * (max(rowids) + 1)
    for r in rowids:
        chiffres[r] = 49  # "1"
    chiffres.reverse()
    return int(chiffres, 2)


def _membres(bits: int) -> Iterator[int]:
    """Rowids in a bitset, in increasing order (lazily: pages stop early)."""
    octets = _octets(bits)
    for m in _NON_NUL.finditer(octets):
        i = m.start()
        yield from (i * 8 + j for j in _POSITIONS[octets[i]])


def _contient(octets: bytes, r: int) -> bool:
    return (r >> 3) < len(octets) and bool(octets[r >> 3] >> (r & 7) & 1)


def _octets(bits: int) -> bytes:
    return bits.to_bytes((bits.bit_length() + 7) // 8, "little")


def _encoder(bits: int) -> bytes:
    return zlib.compress(_octets(bits), 1)  # a rare word's bitset is mostly 0


def _decoder(blob: bytes) -> int:
    return int.from_bytes(zlib.decompress(blob), "little")


def _union(bitsets: Iterable[int]) -> int:
    tout = 0
    for bits in bitsets:
        tout |= bits
    return tout


# --- What each process keeps from the file ----------------------------------


@dataclass
class _Cache:
    """The YAML-derived part of the index, for one version; and which rows
    are full or have places left, for one state of places."""

    version: str
    tous: int = 0
    valeurs: dict[str, dict[str, int]] = field(default_factory=dict)
    zones: dict[str, list[int]] = field(default_factory=dict)
    lieux: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    a_distance: int = 0
    session_ouverte: int = 0
    ids: dict[int, str] = field(default_factory=dict)
    noms: dict[int, str] = field(default_factory=dict)
    termes: list[str] = field(default_factory=list)
    prefixes: dict[int, list[str]] = field(default_factory=dict)
    places: str = ""
    complets: int = 0
    disponibles: int = 0

    @classmethod
    def lire(cls, cnx: sqlite3.Connection, version: str) -> "_Cache":
        c = cls(version)
        listes: dict[tuple[str, str], list[int]] = {}
        a_distance, session = [], []
        for rowid, fiche_id, donnees in cnx.execute(
            "SELECT rowid, id, donnees FROM fiches"
        ):
            d = json.loads(donnees)
            c.ids[rowid], c.noms[rowid] = fiche_id, d["nom_tri"]
            for facette in FACETTES:
                valeurs = d[facette] if isinstance(d[facette], list) else [d[facette]]
                for v in valeurs:
                    listes.setdefault((facette, v), []).append(rowid)
            for code in d["zone"]:
                c.zones.setdefault(code, []).append(rowid)
            if d["lieux"]:
                c.lieux[rowid] = [(p["lat"], p["lng"]) for p in d["lieux"]]
            (a_distance if d["a_distance"] else []).append(rowid)
            (session if d["session_ouverte"] else []).append(rowid)
        for (facette, v), rowids in listes.items():
            c.valeurs.setdefault(facette, {})[v] = _bits(rowids)
        c.tous, c.a_distance, c.session_ouverte = (
            _bits(c.ids),
            _bits(a_distance),
            _bits(session),
        )
        c.termes = [
            t
            for (t,) in cnx.execute("SELECT DISTINCT terme FROM postings")
            # Numbers get no typo, and expressions are not typed word by word.
            if not t.isdigit() and " " not in t
        ]
        return c

    def lire_places(self, cnx: sqlite3.Connection, etat: str) -> None:
        complets, disponibles = [], []
        for rowid, places in cnx.execute(
            "SELECT rowid, places_restantes FROM fiches "
            "WHERE places_restantes IS NOT NULL"
        ):
            (disponibles if places else complets).append(rowid)
        self.places = etat
        self.complets, self.disponibles = _bits(complets), _bits(disponibles)

    def prefixes_de_longueur(self, n: int) -> list[str]:
        if n not in self.prefixes:
            self.prefixes[n] = list({t[:n] for t in self.termes if len(t) > n})
        return self.prefixes[n]


# --- Words: typos, synonyms, postings ---------------------------------------


def typos_permises(mot: str) -> int:
    """Meilisearch's defaults: 1 typo from 5 letters, 2 from 9, none on numbers."""
    if mot.isdigit():
        return 0
    return 2 if len(mot) >= 9 else 1 if len(mot) >= 5 else 0


def proches(mot: str, termes: list[str], limite: int = 12) -> list[str]:
    """Terms within the allowed typos; a wrong first letter counts as two."""
    k = typos_permises(mot)
    if not k:
        return []
    trouves = process.extract(
        mot, termes, scorer=Levenshtein.distance, score_cutoff=k, limit=None
    )
    couts = sorted(
        (d + (t[0] != mot[0]), t) for t, d, _ in trouves if d + (t[0] != mot[0]) <= k
    )
    return [t for _, t in couts[:limite]]


@dataclass(frozen=True)
class _Groupes:
    """Synonym groups as word tuples, longest expressions first."""

    expressions: dict[tuple[str, ...], set[tuple[str, ...]]]
    # Expressions of several words, by their first word.
    longues: dict[str, list[tuple[str, ...]]]

    @classmethod
    def charger(cls) -> "_Groupes":
        expressions: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for groupe in synonymes():
            formes = {tuple(mots(e)) for e in groupe}
            for forme in formes:
                expressions.setdefault(forme, set()).update(formes)
        longues: dict[str, list[tuple[str, ...]]] = {}
        for forme in expressions:
            if len(forme) > 1:
                longues.setdefault(forme[0], []).append(forme)
        return cls(dict(sorted(expressions.items(), key=lambda e: -len(e[0]))), longues)

    def au_debut(self, mots_: list[str]) -> tuple[int, set[tuple[str, ...]]]:
        for forme, formes in self.expressions.items():
            if tuple(mots_[: len(forme)]) == forme:
                return len(forme), formes
        return 0, set()

    def a_indexer(self, textes: list[str]) -> set[tuple[str, int]]:
        """(term, field) pairs of a document: its words, and each synonym
        expression of several words it contains, as one term (a phrase).
        So a new expression finds fiches after `flask index reconstruire`,
        as with Meilisearch, which gets its synonyms on a rebuild."""
        termes = set()
        for champ, texte in enumerate(textes):
            mots_ = mots(texte)
            termes.update((m, champ) for m in mots_)
            for i, mot in enumerate(mots_):
                for forme in self.longues.get(mot, ()):
                    if tuple(mots_[i : i + len(forme)]) == forme:
                        termes.add((" ".join(forme), champ))
        return termes


@dataclass
class Mot:
    """A typed word: the terms finding it as typed (or by synonym), and with
    a typo. A term marked True also finds the words it begins."""

    justes: set[tuple[str, bool]]
    fautes: set[tuple[str, bool]]


@dataclass
class Texte:
    """A typed text: its words, and the words to highlight."""

    mots: list[Mot] = field(default_factory=list)
    exacts: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    def marquer(self, texte: str) -> str:
        """HTML-escaped text with <mark> around each word found."""

        prefixes = tuple(self.prefixes)

        def marque(m: re.Match) -> str:
            mot = _sans_accents(m.group())
            trouve = mot in self.exacts or mot.startswith(prefixes)
            return f"{DEBUT_MARQUE}{m.group()}{FIN_MARQUE}" if trouve else m.group()

        return surligner(re.sub(r"\w+", marque, texte))


def analyser(texte: str, cache: _Cache, groupes: _Groupes) -> Texte | None:
    """All words must match (AND); each word may match a synonym, a typo of
    itself or, for the last word, anything it begins (search as you type)."""
    tous = mots(texte)
    vides = mots_vides()
    utiles = [m for m in tous if m not in vides] or tous
    trouve, i = Texte(), 0
    while i < len(utiles):
        n, formes = groupes.au_debut(utiles[i:])
        mot, dernier = utiles[i], i + max(n, 1) == len(utiles)
        justes = {(" ".join(f), False) for f in formes if n > 1 or f != (mot,)}
        trouve.exacts.update(m for f in formes for m in f if m not in vides)
        fautes = set()
        if n <= 1:
            n, prefixe = 1, dernier and len(mot) > 1
            variantes = set(proches(mot, cache.termes))
            if prefixe:
                variantes.update(proches(mot, cache.prefixes_de_longueur(len(mot))))
            (trouve.prefixes if prefixe else trouve.exacts).update({mot, *variantes})
            justes.add((mot, prefixe))
            fautes = {(v, prefixe) for v in variantes - {mot}}
        trouve.mots.append(Mot(justes, fautes))
        i += n
    return trouve if trouve.mots else None


_sans_accents = lru_cache(maxsize=50_000)(sans_accents)


def _postings(cnx, termes: Iterable[tuple[str, bool]]) -> list[int]:
    """Per field, the rows holding any of these terms (or a word they begin)."""
    par_champ = [0] * len(CHAMPS_TEXTE)
    for terme, prefixe in termes:
        for champ, bits in cnx.execute(
            "SELECT champ, bits FROM postings WHERE terme BETWEEN ? AND ?",
            (terme, terme + APRES_TOUT if prefixe else terme),
        ):
            par_champ[champ] |= _decoder(bits)
    return par_champ


class _Postings:
    """Rows to add to and remove from postings, gathered, then written once."""

    def __init__(self):
        self.changes: dict[tuple[str, int], tuple[array, array]] = {}

    def noter(self, rowid: int, termes: Iterable[tuple[str, int]], ajout=True):
        for cle in termes:
            if cle not in self.changes:
                self.changes[cle] = (array("I"), array("I"))
            self.changes[cle][0 if ajout else 1].append(rowid)

    def ecrire(self, cnx, suffixe: str = "") -> None:
        for (terme, champ), (ajouts, retraits) in self.changes.items():
            ligne = cnx.execute(
                f"SELECT bits FROM postings{suffixe} WHERE terme = ? AND champ = ?",
                (terme, champ),
            ).fetchone()
            bits = (_decoder(ligne[0]) if ligne else 0) & ~_bits(retraits)
            bits |= _bits(ajouts)
            if bits:
                cnx.execute(
                    f"INSERT OR REPLACE INTO postings{suffixe} VALUES (?, ?, ?)",
                    (terme, champ, _encoder(bits)),
                )
            else:
                cnx.execute(
                    f"DELETE FROM postings{suffixe} WHERE terme = ? AND champ = ?",
                    (terme, champ),
                )
        self.changes.clear()


# --- Ranking: tiers of bitsets, like Meilisearch's ranking rules -------------


def _par_fautes(justes: list[int]) -> list[int]:
    """Rows by how many words they hold only with a typo: none, 1, 2…"""
    niveaux = [-1]  # every row (tiers are ANDed with the candidates later)
    for bits in justes:
        niveaux = [
            (niveau & bits) | (precedent & ~bits)
            for niveau, precedent in zip([*niveaux, 0], [0, *niveaux], strict=True)
        ]
    return niveaux


def _par_champ(par_mot: list[list[int]]) -> list[int]:
    """Rows by the field of their worst-placed word, most important first
    (CHAMPS_TEXTE order): every word in the name beats one in the summary."""
    niveaux, deja, cumuls = [], 0, [0] * len(par_mot)
    for champ in range(len(CHAMPS_TEXTE)):
        tous = -1
        for i, par_champ in enumerate(par_mot):
            cumuls[i] |= par_champ[champ]
            tous &= cumuls[i]
        niveaux.append(tous & ~deja)
        deja |= tous
    return niveaux


def _affiner(parties: Iterable[int], niveaux: list[int]) -> Iterator[int]:
    """Each part split by tier, first tier first (lazily, empty pieces left out)."""
    return (morceau for p in parties for n in niveaux if (morceau := p & n))


# --- The engine -------------------------------------------------------------


class MoteurSQLite:
    """Embedded engine: needs no server; several processes share one file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._cache: _Cache | None = None
        self._groupes = _Groupes.charger()
        with self._ecriture() as cnx:
            if cnx.execute("PRAGMA user_version").fetchone()[0] != VERSION_SCHEMA:
                # The index is derived data: an old layout is dropped, then refilled.
                for table in TABLES:
                    cnx.execute(f"DROP TABLE IF EXISTS {table}")
                cnx.execute(f"PRAGMA user_version = {VERSION_SCHEMA}")
            _executer(cnx, SCHEMA_FICHES.format(s="") + SCHEMA_COMMUN)
            for cle in ("version", "places"):
                cnx.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (cle, _neuve()))

    # Connections: one per thread and per process (never shared after fork).
    def _cnx(self) -> sqlite3.Connection:
        cnx = getattr(self._local, "cnx", None)
        if cnx is None or self._local.pid != os.getpid():
            cnx = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            cnx.execute("PRAGMA journal_mode=WAL")
            cnx.execute("PRAGMA synchronous=NORMAL")
            self._local.cnx, self._local.pid = cnx, os.getpid()
        return cnx

    @contextmanager
    def _ecriture(self):
        cnx = self._cnx()
        cnx.execute("BEGIN IMMEDIATE")
        try:
            yield cnx
        except BaseException:
            cnx.execute("ROLLBACK")
            raise
        cnx.execute("COMMIT")

    @contextmanager
    def _lecture(self):
        """One snapshot for all the reads of a search."""
        cnx = self._cnx()
        cnx.execute("BEGIN")
        try:
            yield cnx
        finally:
            cnx.execute("COMMIT")

    def _a_jour(self, cnx) -> _Cache:
        meta = dict(cnx.execute("SELECT cle, valeur FROM meta"))
        cache = self._cache
        if cache is None or cache.version != meta["version"]:
            cache = self._cache = _Cache.lire(cnx, meta["version"])
        if cache.places != meta["places"]:
            cache.lire_places(cnx, meta["places"])
        return cache

    # --- Writing ---

    def indexer(self, documents: Iterable[dict]) -> None:
        postings = _Postings()
        with self._ecriture() as cnx:
            for doc in documents:
                self._ecrire(cnx, "", doc, postings)
            postings.ecrire(cnx)
            _changer_version(cnx)

    def _ecrire(self, cnx, suffixe: str, doc: dict, postings: _Postings) -> None:
        ligne = cnx.execute(
            f"SELECT rowid, places_restantes, places_maj_le, textes FROM "
            f"fiches{suffixe} WHERE id = ?",
            (doc["id"],),
        ).fetchone()
        if ligne:
            ancien = {"places_restantes": ligne[1], "places_maj_le": ligne[2]}
            doc = places_les_plus_recentes(doc, ancien)
            anciens = self._groupes.a_indexer(json.loads(ligne[3]))
            postings.noter(ligne[0], anciens, ajout=False)
        donnees = {k: doc[k] for k in (*CHAMPS_DONNEES, *FACETTES)}
        textes = [_texte(doc[c]) for c in CHAMPS_TEXTE]
        rowid = cnx.execute(
            f"INSERT INTO fiches{suffixe} (rowid, id, empreinte, donnees, textes, "
            "places_restantes, places_maj_le) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET empreinte = excluded.empreinte, "
            "donnees = excluded.donnees, textes = excluded.textes, "
            "places_restantes = excluded.places_restantes, "
            "places_maj_le = excluded.places_maj_le RETURNING rowid",
            (
                ligne[0] if ligne else None,
                doc["id"],
                doc["empreinte"],
                json.dumps(donnees, ensure_ascii=False),
                json.dumps(textes, ensure_ascii=False),
                doc["places_restantes"],
                doc["places_maj_le"],
            ),
        ).fetchone()[0]
        postings.noter(rowid, self._groupes.a_indexer(textes))

    def maj_places(
        self, fiche_id: str, places_restantes: int | None, maj_le: datetime
    ) -> None:
        with self._ecriture() as cnx:
            modifiees = cnx.execute(
                "UPDATE fiches SET places_restantes = ?, places_maj_le = ? "
                "WHERE id = ?",
                (places_restantes, maj_le.isoformat(timespec="seconds"), fiche_id),
            ).rowcount
            if not modifiees:
                raise KeyError(fiche_id)
            # Every process re-reads which actions are full at its next search.
            cnx.execute("UPDATE meta SET valeur = ? WHERE cle = 'places'", (_neuve(),))

    def supprimer(self, fiche_ids: Iterable[str]) -> None:
        postings = _Postings()
        with self._ecriture() as cnx:
            for fiche_id in fiche_ids:
                for rowid, textes in cnx.execute(
                    "DELETE FROM fiches WHERE id = ? RETURNING rowid, textes",
                    (fiche_id,),
                ).fetchall():
                    termes = self._groupes.a_indexer(json.loads(textes))
                    postings.noter(rowid, termes, ajout=False)
            postings.ecrire(cnx)
            _changer_version(cnx)

    def empreintes(self) -> dict[str, str]:
        return dict(self._cnx().execute("SELECT id, empreinte FROM fiches"))

    def places(self, fiche_ids: Iterable[str]) -> dict[str, dict]:
        """Current places of these fiches (the fallback wrapper copies them)."""
        cnx, ids = self._cnx(), list(fiche_ids)
        lignes = cnx.execute(
            "SELECT id, places_restantes, places_maj_le FROM fiches "
            f"WHERE id IN ({', '.join('?' * len(ids))})",
            ids,
        )
        return {i: champs_places(p, m) for i, p, m in lignes}

    def reconstruire(
        self,
        documents: Iterable[dict],
        progression: Callable[[int], None] | None = None,
    ) -> None:
        """Build new tables in small transactions, then swap them in one."""
        with self._ecriture() as cnx:
            cnx.execute("DROP TABLE IF EXISTS fiches_neuf")
            cnx.execute("DROP TABLE IF EXISTS postings_neuf")
            _executer(cnx, SCHEMA_FICHES.format(s="_neuf"))
        lot: list[dict] = []
        postings = _Postings()  # written once, at the end
        for doc in documents:
            lot.append(doc)
            if len(lot) == LOT:
                self._ecrire_lot(lot, postings, progression)
        self._ecrire_lot(lot, postings, progression)
        with self._ecriture() as cnx:
            postings.ecrire(cnx, "_neuf")
        with self._ecriture() as cnx:
            # Places taken while we were building are kept.
            for fiche_id, places, maj_le in cnx.execute(
                "SELECT id, places_restantes, places_maj_le FROM fiches "
                "WHERE places_maj_le IS NOT NULL"
            ).fetchall():
                cnx.execute(
                    "UPDATE fiches_neuf SET places_restantes = ?, places_maj_le = ? "
                    "WHERE id = ? AND (places_maj_le IS NULL OR places_maj_le < ?)",
                    (places, maj_le, fiche_id, maj_le),
                )
            cnx.execute("DROP TABLE fiches")
            cnx.execute("DROP TABLE postings")
            cnx.execute("ALTER TABLE fiches_neuf RENAME TO fiches")
            cnx.execute("ALTER TABLE postings_neuf RENAME TO postings")
            cnx.execute("DROP INDEX fiches_neuf_places")
            cnx.execute("CREATE INDEX fiches_places ON fiches(places_restantes)")
            _changer_version(cnx)

    def _ecrire_lot(self, lot: list[dict], postings: _Postings, progression) -> None:
        if not lot:
            return
        with self._ecriture() as cnx:
            for doc in lot:
                self._ecrire(cnx, "_neuf", doc, postings)
        if progression:
            progression(len(lot))
        lot.clear()

    # --- Resynchronisation bookkeeping (for the Meilisearch fallback) ---

    def noter_a_resynchroniser(self, fiche_ids: Iterable[str]) -> None:
        with self._ecriture() as cnx:
            cnx.executemany(
                "INSERT OR IGNORE INTO a_resynchroniser VALUES (?)",
                [(i,) for i in fiche_ids],
            )

    def a_resynchroniser(self) -> set[str]:
        return {i for (i,) in self._cnx().execute("SELECT id FROM a_resynchroniser")}

    def resynchronisees(self, fiche_ids: Iterable[str]) -> None:
        with self._ecriture() as cnx:
            cnx.executemany(
                "DELETE FROM a_resynchroniser WHERE id = ?", [(i,) for i in fiche_ids]
            )

    # --- Searching ---

    def rechercher(self, requete: Requete) -> Resultats:
        try:
            return self._rechercher(requete)
        except sqlite3.Error as e:
            raise RechercheIndisponible(f"index embarqué illisible : {e}") from e

    def _rechercher(self, requete: Requete) -> Resultats:
        with self._lecture() as cnx:
            cache = self._a_jour(cnx)
            candidats = _filtrer(cache, requete)
            texte = analyser(requete.texte, cache, self._groupes)
            niveaux = []
            if texte:
                justes = [_postings(cnx, m.justes) for m in texte.mots]
                fautes = [_postings(cnx, m.fautes) for m in texte.mots]
                par_mot = [
                    [j | f for j, f in zip(js, fs, strict=True)]
                    for js, fs in zip(justes, fautes, strict=True)
                ]
                for par_champ in par_mot:
                    candidats &= _union(par_champ)
                niveaux = [_par_fautes(list(map(_union, justes))), _par_champ(par_mot)]
            if requete.places_disponibles:
                candidats &= cache.disponibles | cache.session_ouverte
            distances = {}
            if requete.point:
                distances = _distances(cache, candidats, requete.point)
            if requete.rayon_km is not None:
                pres = (r for r, d in distances.items() if d <= requete.rayon_km)
                candidats &= _bits(pres) | cache.a_distance
            facettes = {
                f: _compter(cache.valeurs.get(f, {}), candidats)
                for f in requete.facettes
            }
            ordre = _ordonner(cnx, cache, requete, candidats, niveaux, distances)
            debut = (requete.page - 1) * requete.par_page
            page = list(islice(ordre, debut, debut + requete.par_page))
            resultats = _resultats(cnx, cache, page, distances, texte)
        return Resultats(
            candidats.bit_count(), requete.page, requete.par_page, resultats, facettes
        )


def _filtrer(cache: _Cache, requete: Requete) -> int:
    """Filters are ANDs and ORs of the cached bitsets (statut: active by default)."""
    candidats = cache.tous
    filtres = dict(requete.filtres)
    filtres.setdefault("statut", ("active",))
    for facette, valeurs in filtres.items():
        bits = 0
        for v in valeurs:
            bits |= cache.valeurs.get(facette, {}).get(v, 0)
        candidats &= bits
    if requete.zone:
        zones = cache.zones
        candidats &= _bits(r for code in requete.zone for r in zones.get(code, ()))
    return candidats


def _ordonner(cnx, cache, requete, candidats, niveaux, distances) -> Iterator[int]:
    """Rowids in display order (lazily for relevance: pages stop early)."""
    parties = [candidats]
    if requete.tri == "pertinence":
        # Full actions go after open ones; relevance (or index order) inside.
        complets = cache.complets
        parties = [candidats & ~complets, candidats & complets]
    for tiers in niveaux:
        parties = _affiner(parties, tiers)
    membres = chain.from_iterable(map(_membres, parties))
    if requete.tri == "pertinence":
        return membres
    if requete.tri == "nom":
        return iter(sorted(membres, key=lambda r: cache.noms[r]))
    if requete.tri == "distance":
        return iter(sorted(membres, key=lambda r: distances.get(r, float("inf"))))
    places = _places(cnx, candidats)
    return iter(
        sorted(membres, key=lambda r: -champs_places(places.get(r), None)["places_tri"])
    )


def _resultats(cnx, cache, page: list[int], distances, texte) -> list[Resultat]:
    lignes = {
        r: ligne
        for r, *ligne in cnx.execute(
            "SELECT rowid, places_restantes, places_maj_le, textes FROM fiches "
            f"WHERE rowid IN ({', '.join('?' * len(page))})",
            page,
        )
    }
    resultats = []
    for r in page:
        places, maj_le, textes = lignes[r]
        surlignage = {}
        if texte:
            textes = dict(zip(CHAMPS_TEXTE, json.loads(textes), strict=True))
            surlignage = {c: texte.marquer(textes[c]) for c in CHAMPS_SURLIGNES}
        resultats.append(
            Resultat(
                id=cache.ids[r],
                distance_km=round(distances[r], 1) if r in distances else None,
                places_restantes=places,
                places_maj_le=maj_le,
                surlignage=surlignage,
            )
        )
    return resultats


def _texte(valeur) -> str:
    return " ; ".join(valeur) if isinstance(valeur, list) else valeur or ""


def _executer(cnx, script: str) -> None:
    # executescript() would commit the transaction we are in.
    for instruction in script.split(";"):
        if instruction.strip():
            cnx.execute(instruction)


def _neuve() -> str:
    return uuid.uuid4().hex


def _changer_version(cnx) -> None:
    """Tell every process its cached copy of the YAML-derived data is stale."""
    cnx.execute("UPDATE meta SET valeur = ? WHERE cle = 'version'", (_neuve(),))


def _compter(valeurs: dict[str, int], candidats: int) -> dict[str, int]:
    comptes = ((v, (bits & candidats).bit_count()) for v, bits in valeurs.items())
    return dict(sorted(((v, n) for v, n in comptes if n), key=lambda e: (-e[1], e[0])))


def _places(cnx, candidats: int) -> dict[int, int]:
    """Tracked places of these rows, read now: places are never cached."""
    if candidats.bit_count() < 20_000:
        lignes = cnx.execute(
            "SELECT rowid, places_restantes FROM fiches WHERE places_restantes "
            "IS NOT NULL AND rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(list(_membres(candidats))),),
        )
        return dict(lignes)
    octets = _octets(candidats)
    lignes = cnx.execute(
        "SELECT rowid, places_restantes FROM fiches WHERE places_restantes IS NOT NULL"
    )
    return {r: p for r, p in lignes if _contient(octets, r)}


def _distances(cache: _Cache, candidats: int, point) -> dict[int, float]:
    """Distance from the person's commune to the nearest lieu of each fiche."""
    return {
        r: min(distance_km(*point, lat, lng) for lat, lng in cache.lieux[r])
        for r in _membres(candidats)
        if r in cache.lieux
    }
