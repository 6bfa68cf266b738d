"""Benchmark: what keeping every worker's fiches in line with the database costs.

Each request first reads the publication number (one row); only when it moved
are the fiches with a newly validated revision laid over their YAML again.
Prints the figures; asserts nothing.

    .venv/bin/python bench/bench_revisions.py [nombre de revisions validees ...]
"""

import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from catalogue import revisions, stockage  # noqa: E402
from catalogue.chargement import charger_catalogue  # noqa: E402

REPETITIONS = 2000


def main(tailles: list[int]) -> None:
    logging.disable(logging.WARNING)
    catalogue = charger_catalogue(
        ROOT / "data" / "fiches", ROOT / "data" / "structures", racine=ROOT
    )
    fiches = list(catalogue.fiches.values())
    with tempfile.TemporaryDirectory() as dossier:
        url = f"sqlite:///{Path(dossier) / 'bench.sqlite3'}"
        stockage.migrer(url)
        engine = stockage.creer_moteur(url)
        publication = revisions.Publication(catalogue)
        faites = 0
        for taille in tailles:
            with Session(engine) as db:
                for i in range(faites, taille + 1):
                    if i == taille:  # the last one alone, after a first read
                        publication.a_jour(engine)
                        t0 = time.perf_counter()
                    fiche = fiches[i % len(fiches)]
                    base = revisions.dernier_numero(db, fiche.id)
                    champs = {"horaires_accueil": f"Version {i}"}
                    r = revisions.proposer(db, fiche, champs, "bench", base).revision
                    revisions.decider(db, r, revisions.VALIDEE, "bench")
                    db.commit()
            validation = time.perf_counter() - t0
            faites = taille + 1
            t0 = time.perf_counter()
            publication.a_jour(engine)
            relecture = time.perf_counter() - t0
            t0 = time.perf_counter()
            for _ in range(REPETITIONS):
                publication.a_jour(engine)
            rien = (time.perf_counter() - t0) / REPETITIONS
            print(
                f"{faites:>6} modifications validées : une validation "
                f"{validation * 1000:.1f} ms, sa relecture par un autre worker "
                f"{relecture * 1000:.1f} ms ; requête sans rien de neuf "
                f"{rien * 1e6:.0f} µs"
            )
        engine.dispose()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 1000, 5000])
