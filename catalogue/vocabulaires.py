"""Controlled vocabularies: stored values are ASCII slugs, labels are French.

Each vocabulary is a YAML file in data/vocabulaires/ mapping a slug to at least
a ``libelle``. Most come verbatim from the data·inclusion schema (v1); our
extensions carry the data·inclusion value they export to.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
VOCAB_DIR = DATA_DIR / "vocabulaires"


@dataclass(frozen=True)
class Vocabulaire:
    nom: str
    entrees: dict[str, dict] = field(repr=False)

    def __contains__(self, slug: object) -> bool:
        return slug in self.entrees

    def __iter__(self):
        return iter(self.entrees)

    def libelle(self, slug: str) -> str:
        entree = self.entrees.get(slug)
        return entree["libelle"] if entree else slug

    def definition(self, slug: str) -> str | None:
        return (self.entrees.get(slug) or {}).get("definition")

    def export_data_inclusion(self, slug: str) -> str | None:
        """The data·inclusion value for one of our slugs (itself when national)."""
        entree = self.entrees[slug]
        return entree["data_inclusion"] if "data_inclusion" in entree else slug


@cache
def vocabulaire(nom: str) -> Vocabulaire:
    with open(VOCAB_DIR / f"{nom}.yaml", encoding="utf-8") as f:
        return Vocabulaire(nom, yaml.safe_load(f))


def categorie_thematique(slug: str) -> str:
    """« mobilite--preparer-un-permis » belongs to the « mobilite » category."""
    return slug.split("--", 1)[0]
