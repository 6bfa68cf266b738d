"""Does the search find what people mean? A set of everyday queries, scored.

Each query is written as a beneficiary or a référent types it, with the
fiche it should find in the first three results. Used by
bench/bench_pertinence.py (prints the figures) and by a test.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

from catalogue.recherche import MoteurRecherche, Requete
from catalogue.territoires import referentiel

RANG_MAX = 3


@dataclass(frozen=True)
class Essai:
    q: str
    attendue: str
    commune: str | None = None

    def requete(self) -> Requete:
        if not self.commune:
            return Requete(texte=self.q, par_page=RANG_MAX)
        commune = referentiel().trouver(self.commune)
        return Requete(
            texte=self.q,
            zone=commune.codes_zone,
            point=(commune.latitude, commune.longitude),
            par_page=RANG_MAX,
        )


@dataclass(frozen=True)
class Bilan:
    trouves: list[Essai]
    manques: list[tuple[Essai, list[str]]]

    @property
    def taux(self) -> float:
        return len(self.trouves) / max(len(self.trouves) + len(self.manques), 1)


def lire_essais(chemin: Path) -> list[Essai]:
    with open(chemin, encoding="utf-8") as f:
        return [Essai(**{k: str(v) for k, v in e.items()}) for e in yaml.safe_load(f)]


def evaluer(moteur: MoteurRecherche, essais: list[Essai]) -> Bilan:
    trouves, manques = [], []
    for essai in essais:
        ids = [r.id for r in moteur.rechercher(essai.requete()).resultats]
        if essai.attendue in ids[:RANG_MAX]:
            trouves.append(essai)
        else:
            manques.append((essai, ids))
    return Bilan(trouves, manques)
