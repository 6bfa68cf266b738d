"""Benchmark: the everyday queries' hit rate in the top 3 (demo catalogue).

Reads bench/requetes_quotidiennes.yaml, indexes the demo catalogue in a
temporary embedded index, prints each miss and the hit rate; asserts nothing.

    .venv/bin/python bench/bench_pertinence.py
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalogue.chargement import charger_catalogue  # noqa: E402
from catalogue.recherche.documents import documents  # noqa: E402
from catalogue.recherche.moteur_tantivy import MoteurTantivy  # noqa: E402
from catalogue.recherche.pertinence import evaluer, lire_essais  # noqa: E402

REQUETES = ROOT / "bench" / "requetes_quotidiennes.yaml"


def main() -> None:
    catalogue = charger_catalogue(
        ROOT / "data" / "fiches", ROOT / "data" / "structures", racine=ROOT
    )
    essais = lire_essais(REQUETES)
    with tempfile.TemporaryDirectory() as dossier:
        moteur = MoteurTantivy(Path(dossier) / "index")
        moteur.reconstruire(documents(catalogue))
        bilan = evaluer(moteur, essais)
    for essai, ids in bilan.manques:
        lieu = f" [{essai.commune}]" if essai.commune else ""
        print(f"manqué : « {essai.q} »{lieu} -> {essai.attendue} ; trouvés : {ids}")
    print(
        f"{len(bilan.trouves)}/{len(essais)} requêtes trouvent leur fiche dans les "
        f"3 premiers : {bilan.taux:.0%}"
    )


if __name__ == "__main__":
    main()
