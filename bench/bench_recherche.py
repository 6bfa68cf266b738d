"""Benchmark: search latency and index build time, per catalogue size and engine.

Generates catalogues of N fiches from the real vocabularies, communes and
texts of the real fiches, builds the index, then runs a fixed mix of
queries (a word with a typo, sometimes a second word being typed, two
filters, every facet counted). Prints p50 / p95 per size and engine, and the
process's resident memory after the searches (with what searching added to it,
e.g. per-process caches); asserts nothing. Meilisearch runs only when MEILI_URL is set.

    .venv/bin/python bench/bench_recherche.py [N ...]   # default 1000 10000 100000
"""

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalogue.chargement import charger_catalogue  # noqa: E402
from catalogue.fiche import Capacite, Fiche, Lieu, Structure  # noqa: E402
from catalogue.recherche import Requete  # noqa: E402
from catalogue.recherche.documents import document  # noqa: E402
from catalogue.recherche.langue import mots  # noqa: E402
from catalogue.recherche.moteur_sqlite import MoteurSQLite  # noqa: E402
from catalogue.territoires import referentiel  # noqa: E402
from catalogue.vocabulaires import vocabulaire  # noqa: E402

REQUETES = 300
FILTRES = ("categories_thematiques", "publics", "type", "mobilisable_par", "commune")


def _voc(nom: str) -> list[str]:
    return list(vocabulaire(nom))


class Generateur:
    """Random but reproducible fiches that look like the real ones."""

    def __init__(self, graine: int = 42):
        self.hasard = random.Random(graine)
        reels = charger_catalogue(ROOT / "data/fiches", ROOT / "data/structures")
        self.textes = [(f.nom, f.resume, f.description) for f in reels.fiches.values()]
        self.structures = list(reels.structures.values()) or [
            Structure.model_construct(id="s", nom="Structure", latitude=None)
        ]
        ref = referentiel()
        self.communes = [c for c in ref.communes.values() if c.latitude is not None]
        self.par_departement: dict[str, list] = {}
        for c in self.communes:
            self.par_departement.setdefault(c.departement, []).append(c)

    def fiche(self, i: int) -> Fiche:
        h = self.hasard
        nom, resume, description = h.choice(self.textes)
        commune = h.choice(self.communes)
        zone = h.choices(
            [
                [commune.departement],
                [commune.epci or commune.departement],
                [commune.code_insee],
            ],
            weights=[6, 3, 1],
        )[0]
        places = h.choice([None, None, 0, *range(1, 15)])
        return Fiche.model_construct(
            id=f"bench-{i:06d}",
            nom=nom,
            resume=resume,
            description=description,
            categorie=h.choice(_voc("categories")),
            thematiques=h.sample(_voc("thematiques"), h.randint(1, 3)),
            type=h.choice(_voc("types")),
            statut=h.choices(_voc("statuts"), weights=[17, 1, 1, 1])[0],
            publics=h.sample(_voc("publics"), h.randint(1, 3)),
            structure="s",
            lieux=[
                Lieu.model_construct(
                    code_insee=c.code_insee,
                    commune=c.nom,
                    latitude=c.latitude,
                    longitude=c.longitude,
                )
                for c in h.sample(self.par_departement[commune.departement], 1)
            ],
            modes_accueil=h.choice(
                [["en-presentiel"], ["en-presentiel", "a-distance"], ["a-distance"]]
            ),
            zone_eligibilite=zone,
            capacite=Capacite.model_construct(nombre=20, unite="places"),
            places_restantes=places,
            places_maj_le=None,
            sessions=[],
            mobilisable_par=h.choice(
                [["professionnels"], ["usagers"], ["professionnels", "usagers"]]
            ),
            frais=h.choice(_voc("frais")),
        )

    def documents(self, n: int) -> list[dict]:
        structure = self.structures[0]
        return [document(self.fiche(i), structure) for i in range(n)]

    def requetes(self, docs: list[dict]) -> list[Requete]:
        """Typo'd words from the indexed text, two filters, all facets."""
        h = random.Random(7)
        mots_longs = sorted(
            {
                m
                for d in docs[:2000]
                for m in mots(d["nom"] + " " + d["resume"])
                if len(m) >= 6 and not m.isdigit()
            }
        )
        requetes = []
        for _ in range(REQUETES):
            mot = h.choice(mots_longs)
            j = h.randrange(1, len(mot) - 1)
            texte = mot[:j] + mot[j + 1 :]  # one letter forgotten
            if h.random() < 0.3:
                texte += " " + h.choice(mots_longs)[:4]  # still typing
            filtres, zone = {}, ()
            for nom in h.sample(FILTRES, 2):
                if nom == "commune":
                    zone = h.choice(self.communes).codes_zone
                else:
                    valeurs = [v for d in docs[:50] for v in _liste(d[nom])]
                    filtres[nom] = (h.choice(valeurs),)
            requetes.append(Requete(texte=texte, filtres=filtres, zone=zone))
        return requetes


def _liste(valeur) -> list:
    return valeur if isinstance(valeur, list) else [valeur]


def rss_mo() -> float:
    """Resident memory of this process, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def mesurer(moteur, docs: list[dict], requetes: list[Requete]) -> dict:
    t0 = time.perf_counter()
    moteur.reconstruire(docs)
    construction = time.perf_counter() - t0
    avant = rss_mo()
    t0 = time.perf_counter()
    moteur.rechercher(requetes[0])  # loads the per-process cache
    premiere = time.perf_counter() - t0
    durees, trouves = [], 0
    for requete in requetes:
        t0 = time.perf_counter()
        resultats = moteur.rechercher(requete)
        durees.append((time.perf_counter() - t0) * 1000)
        trouves += resultats.total > 0
    quantiles = statistics.quantiles(durees, n=100)
    return {
        "construction": construction,
        "premiere": premiere * 1000,
        "p50": statistics.median(durees),
        "p95": quantiles[94],
        "max": max(durees),
        "trouves": trouves,
        "rss": rss_mo(),
        "rss_recherche": rss_mo() - avant,
    }


def moteurs(dossier: Path):
    yield "embarqué", MoteurSQLite(dossier / "recherche.sqlite3")
    if os.environ.get("MEILI_URL"):
        from catalogue.recherche.moteur_meilisearch import MoteurMeilisearch

        yield (
            "meilisearch",
            MoteurMeilisearch(
                os.environ["MEILI_URL"], os.environ.get("MEILI_API_KEY"), "bench"
            ),
        )
    else:
        print("meilisearch : ignoré (MEILI_URL n'est pas défini)")


def main(tailles: list[int]) -> None:
    generateur = Generateur()
    print(
        f"{REQUETES} requêtes : un mot avec une faute (+ un mot en cours de frappe "
        "pour 30 %), deux filtres, toutes les facettes\n"
    )
    print(
        f"{'moteur':<12}{'fiches':>8}{'construction':>14}{'1re requête':>13}"
        f"{'p50':>9}{'p95':>9}{'max':>9}{'avec résultats':>16}"
        f"{'RSS (dont recherche)':>23}"
    )
    for n in tailles:
        t0 = time.perf_counter()
        docs = generateur.documents(n)
        requetes = generateur.requetes(docs)
        print(f"(génération de {n} fiches : {time.perf_counter() - t0:.1f} s)")
        with tempfile.TemporaryDirectory() as tmp:
            for nom, moteur in moteurs(Path(tmp)):
                m = mesurer(moteur, docs, requetes)
                print(
                    f"{nom:<12}{n:>8}{m['construction']:>12.1f} s"
                    f"{m['premiere']:>10.0f} ms{m['p50']:>6.1f} ms{m['p95']:>6.1f} ms"
                    f"{m['max']:>6.1f} ms{m['trouves']:>11}/{len(requetes)}"
                    f"{m['rss']:>10.0f} Mo (+{m['rss_recherche']:.0f} Mo)"
                )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
