"""Benchmark: load a catalogue of N generated fiches (default 10 000).

The fiches are copies of the real ones under new ids, so they exercise the
same fields, vocabularies and referential checks. Prints the figures; asserts
nothing.

    .venv/bin/python bench/bench_chargement.py [N ...]
"""

import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalogue.chargement import charger_catalogue  # noqa: E402
from catalogue.territoires import referentiel  # noqa: E402

ID_LINE = re.compile(r"^id: .*$", re.MULTILINE)


def generer(dossier: Path, n: int) -> None:
    modeles = [
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "data/fiches").glob("*.yaml"))
    ]
    for i in range(n):
        texte = ID_LINE.sub(f"id: bench-{i:06d}", modeles[i % len(modeles)], count=1)
        (dossier / f"bench-{i:06d}.yaml").write_text(texte, encoding="utf-8")


def main(tailles: list[int]) -> None:
    t0 = time.perf_counter()
    referentiel()  # loaded once per process, not per catalogue
    print(f"référentiel des communes : {time.perf_counter() - t0:.2f} s")
    for n in tailles:
        with tempfile.TemporaryDirectory() as tmp:
            generer(Path(tmp), n)
            t0 = time.perf_counter()
            catalogue = charger_catalogue(Path(tmp), ROOT / "data/structures")
            duree = time.perf_counter() - t0
        # ru_maxrss is in KiB on Linux: the whole process, referential included.
        pic = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(
            f"{n:>7} fiches : {duree:.2f} s ({duree / n * 1000:.2f} ms/fiche), "
            f"{len(catalogue.fiches)} valides, {len(catalogue.erreurs)} erreurs, "
            f"mémoire max du processus {pic / 1e6:.0f} Mo"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000])
