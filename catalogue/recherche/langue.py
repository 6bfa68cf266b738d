"""Language shared by every engine: accents, words, synonyms, stop words."""

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import NamedTuple

import yaml

from catalogue.vocabulaires import DATA_DIR

# Control characters around matches; escaped text then gets real <mark> tags.
DEBUT_MARQUE, FIN_MARQUE = "\x02", "\x03"


def sans_accents(texte: str) -> str:
    decompose = unicodedata.normalize("NFKD", texte)
    return "".join(c for c in decompose if not unicodedata.combining(c)).lower()


def mots(texte: str) -> list[str]:
    """Words as both engines see them: lower case, no accents, split on signs."""
    return re.findall(r"\w+", sans_accents(texte))


@cache
def synonymes() -> tuple[tuple[str, ...], ...]:
    """Groups of expressions that find each other, as written in the YAML."""
    with open(DATA_DIR / "recherche" / "synonymes.yaml", encoding="utf-8") as f:
        return tuple(tuple(groupe) for groupe in yaml.safe_load(f))


@cache
def thesaurus() -> tuple[dict, ...]:
    """The words people use -> the catalogue's words and thématiques (one way)."""
    with open(DATA_DIR / "recherche" / "thesaurus.yaml", encoding="utf-8") as f:
        return tuple(
            {
                # str(): YAML reads "115" as a number
                "dit": _au_singulier_et_au_pluriel(map(str, entree["dit"])),
                "cherche": tuple(map(str, entree.get("cherche", ()))),
                "thematiques": tuple(entree.get("thematiques", ())),
            }
            for entree in yaml.safe_load(f)
        )


def _au_singulier_et_au_pluriel(expressions: Iterable[str]) -> tuple[str, ...]:
    """People type « dette » as well as « dettes »: a word alone is also
    looked for with or without its final s (both engines read this list)."""
    formes = list(expressions)
    for forme in list(formes):
        if re.fullmatch(r"[^\W\d_]{4,}", forme):
            autre = forme[:-1] if forme.endswith("s") else forme + "s"
            if autre not in formes:
                formes.append(autre)
    return tuple(formes)


@cache
def _equivalences() -> dict[tuple[str, ...], tuple[set, set]]:
    """Typed expression (as words) -> (expressions it also finds, thématiques)."""
    table: dict[tuple[str, ...], tuple[set, set]] = {}
    for groupe in synonymes():
        formes = {tuple(mots(e)) for e in groupe}
        for forme in formes:
            table.setdefault(_tape(forme), (set(), set()))[0].update(formes)
    for entree in thesaurus():
        cibles = {tuple(mots(e)) for e in entree["cherche"]}
        for dit in entree["dit"]:
            alternatives, thematiques = table.setdefault(
                _tape(tuple(mots(dit))), (set(), set())
            )
            alternatives.update(cibles)
            thematiques.update(entree["thematiques"])
    # Longest expressions first: "creer ma boite" before "creer".
    return dict(sorted(table.items(), key=lambda e: -len(e[0])))


def formes_connues() -> set[tuple[str, ...]]:
    """Every synonym and thesaurus expression, as typed and as found."""
    return {
        forme
        for tapee, (autres, _thematiques) in _equivalences().items()
        for forme in (tapee, *autres)
    }


def _tape(forme: tuple[str, ...]) -> tuple[str, ...]:
    """An expression as searched: stop words are dropped from typed text."""
    return tuple(m for m in forme if m not in mots_vides()) or forme


def expressions_equivalentes(
    mots_: list[str],
) -> tuple[int, set[tuple[str, ...]], set[str]]:
    """The synonym or thesaurus expression the words begin with: how many
    words it takes, the expressions it also finds, and its thématiques."""
    for forme in _par_premier_mot().get(mots_[0] if mots_ else "", ()):
        if tuple(mots_[: len(forme)]) == forme:
            return len(forme), *_equivalences()[forme]
    return 0, set(), set()


class UniteTapee(NamedTuple):
    """One unit of a search: a useful word, or a synonym or thesaurus
    expression, which must match as a whole and is dropped as a whole."""

    ecrit: str  # its useful words as typed, accents kept ("vélo")
    debut: int  # its span in the typed text, stop words inside included
    fin: int


def unites_tapees(texte: str) -> list[UniteTapee]:
    """The units of a typed search, in order: stop words are left out
    (unless there is nothing else) and an expression counts as one unit."""
    jetons = [
        (m.group(), m.start(), m.end(), mot)
        for m in re.finditer(r"\w+", texte)
        for mot in mots(m.group())
    ]
    utiles = [j for j in jetons if j[3] not in mots_vides()] or jetons
    unites, i = [], 0
    while i < len(utiles):
        n = max(1, expressions_equivalentes([j[3] for j in utiles[i:]])[0])
        groupe = utiles[i : i + n]
        ecrit = " ".join(j[0] for j in groupe)
        unites.append(UniteTapee(ecrit, groupe[0][1], groupe[-1][2]))
        i += n
    return unites


@cache
def _par_premier_mot() -> dict[str, list[tuple[str, ...]]]:
    """Expressions by their first word, longest first."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for forme in _equivalences():
        index.setdefault(forme[0], []).append(forme)
    return index


@cache
def mots_vides_ecrits() -> tuple[str, ...]:
    """Stop words as written in the YAML (with accents)."""
    with open(DATA_DIR / "recherche" / "mots_vides.yaml", encoding="utf-8") as f:
        return tuple(yaml.safe_load(f))


@cache
def mots_vides() -> frozenset[str]:
    return frozenset(mot for m in mots_vides_ecrits() for mot in mots(m))


def surligner(texte: str) -> str:
    """Escape text marked with DEBUT/FIN_MARQUE, then turn marks into <mark>."""
    sur = html.escape(texte, quote=False)
    return sur.replace(DEBUT_MARQUE, "<mark>").replace(FIN_MARQUE, "</mark>")
