"""Language shared by every engine: accents, words, synonyms, stop words."""

import html
import re
import unicodedata
from functools import cache

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
