"""Benchmark: search latency and index build time, per catalogue size and engine.

Generates catalogues of N fiches from the real vocabularies, communes and
texts of the real fiches, builds the index, then runs a fixed mix of
queries (a word with a typo, sometimes a second word being typed, two
filters, every facet counted). Prints p50 / p95 per size and engine (a
warm pass; the first, cold pass's p95 beside it), and the
process's resident memory after the searches (with what searching added to it,
e.g. per-process caches); asserts nothing. Meilisearch runs only when MEILI_URL is set.

    .venv/bin/python bench/bench_recherche.py [N ...]   # default 1000 10000 100000
"""

import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalogue.chargement import charger_catalogue  # noqa: E402
from catalogue.fiche import Capacite, Fiche, Lieu, Structure  # noqa: E402
from catalogue.recherche import Requete  # noqa: E402
from catalogue.recherche.documents import document  # noqa: E402
from catalogue.recherche.langue import mots  # noqa: E402
from catalogue.recherche.moteur_tantivy import MoteurTantivy  # noqa: E402
from catalogue.territoires import referentiel  # noqa: E402
from catalogue.vocabulaires import vocabulaire  # noqa: E402

REQUETES = 300
FILTRES = ("categories_thematiques", "publics", "type", "mobilisable_par")


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
            # Mostly active actions, the other statuts shared out evenly.
            statut=h.choice(
                ["active"] * 17 + [s for s in _voc("statuts") if s != "active"]
            ),
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

    def requetes(self, docs: list[dict]) -> dict[str, list[Requete]]:
        """The query mixes: typo'd words from the indexed text with two
        filters and every facet; then the same with a commune, with a
        radius, sorted by places, sorted by distance."""
        h = random.Random(7)
        mots_longs = sorted(
            {
                m
                for d in docs[:2000]
                for m in mots(d["nom"] + " " + d["resume"])
                if len(m) >= 6 and not m.isdigit()
            }
        )
        base = []
        for _ in range(REQUETES):
            mot = h.choice(mots_longs)
            j = h.randrange(1, len(mot) - 1)
            texte = mot[:j] + mot[j + 1 :]  # one letter forgotten
            if h.random() < 0.3:
                texte += " " + h.choice(mots_longs)[:4]  # still typing
            filtres = {}
            for nom in h.sample(FILTRES, 2):
                valeurs = [v for d in docs[:50] for v in _liste(d[nom])]
                filtres[nom] = (h.choice(valeurs),)
            base.append(Requete(texte=texte, filtres=filtres))

        def ici(requete: Requete, **autres) -> Requete:
            commune = h.choice(self.communes)
            point = (commune.latitude, commune.longitude)
            return replace(requete, zone=commune.codes_zone, point=point, **autres)

        return {
            "texte + 2 filtres": base,
            "+ commune": [ici(r) for r in base],
            "+ rayon 20 km": [ici(r, rayon_km=20) for r in base],
            "tri=places": [replace(r, tri="places") for r in base],
            "tri=distance": [ici(r, tri="distance") for r in base],
        }


def _liste(valeur) -> list:
    return valeur if isinstance(valeur, list) else [valeur]


def rss_mo() -> float:
    """Resident memory of this process, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def pic_memoire_mo() -> float:
    """Peak resident memory of this process, in MB (Linux: ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def construire(moteur, docs: list[dict]) -> float:
    t0 = time.perf_counter()
    moteur.reconstruire(docs)
    return time.perf_counter() - t0


def _passe(moteur, requetes: list[Requete]) -> tuple[list[float], int]:
    durees, trouves = [], 0
    for requete in requetes:
        t0 = time.perf_counter()
        resultats = moteur.rechercher(requete)
        durees.append((time.perf_counter() - t0) * 1000)
        trouves += resultats.total > 0
    return durees, trouves


def mesurer(moteur, requetes: list[Requete]) -> dict:
    """Two passes over the mix: the first one, cold (index pages not yet
    mapped, per-process caches empty, as a worker just started), then the
    one measured, as a worker that has been serving for a while."""
    froides, _ = _passe(moteur, requetes)
    durees, trouves = _passe(moteur, requetes)
    return {
        "p50": statistics.median(durees),
        "p95": statistics.quantiles(durees, n=100)[94],
        "p95_froid": statistics.quantiles(froides, n=100)[94],
        "trouves": trouves,
    }


def part_emploi(moteur, n: int) -> float:
    """Share of the corpus the single word "emploi" finds (typo breadth)."""
    return moteur.rechercher(Requete(texte="emploi", par_page=1)).total / n


def moteurs(dossier: Path):
    yield "embarqué", MoteurTantivy(dossier / "recherche")
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
        f"{REQUETES} requêtes par mélange : un mot avec une faute (+ un mot en "
        "cours de frappe pour 30 %), deux filtres, toutes les facettes\n"
    )
    print(
        f"{'moteur':<12}{'fiches':>8}{'mélange':>20}{'p50':>10}{'p95':>10}"
        f"{'avec résultats':>16}{'p95 1re passe':>15}"
    )
    for n in tailles:
        t0 = time.perf_counter()
        docs = generateur.documents(n)
        melanges = generateur.requetes(docs)
        print(f"(génération de {n} fiches : {time.perf_counter() - t0:.1f} s)")
        with tempfile.TemporaryDirectory() as tmp:
            for nom, moteur in moteurs(Path(tmp)):
                duree = construire(moteur, docs)
                print(
                    f"{nom:<12}{n:>8}   construction de l'index : {duree:.1f} s ; "
                    f"« emploi » trouve {part_emploi(moteur, n):.0%} du corpus"
                )
                for melange, requetes in melanges.items():
                    m = mesurer(moteur, requetes)
                    print(
                        f"{nom:<12}{n:>8}{melange:>20}{m['p50']:>7.1f} ms"
                        f"{m['p95']:>7.1f} ms{m['trouves']:>11}/{len(requetes)}"
                        f"{m['p95_froid']:>12.1f} ms"
                    )
                print(f"pic de mémoire du processus : {pic_memoire_mo():.0f} Mo")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
