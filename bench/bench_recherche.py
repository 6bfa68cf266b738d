"""Benchmark: search latency and index build time, per catalogue size and engine.

Two corpora. ``--corpus semences`` (the default): names, summaries and
descriptions cut from the seeds' real French text (../shared/seeds, reports
of insertion programmes), about one structure per 17 fiches (6 000 at
100 000), thématiques and publics from the data·inclusion vocabularies; the
mixes an everyday page sends: broad words, browsing everything, 2 letters
while typing, 8-word queries, typos, every sort, page 50, commune + radius.
Each size runs in its own process, so its build time and peak memory are its
own. ``--corpus fiches``: the demo fiches' texts, typo'd words with two
filters (the earlier bench).

Generates catalogues of N fiches from the real vocabularies, communes and
texts of the real fiches, builds the index, then runs a fixed mix of
queries (a word with a typo, sometimes a second word being typed, two
filters, every facet counted). Prints p50 / p95 per size and engine (a
warm pass; the first, cold pass's p95 beside it), and the
process's resident memory after the searches (with what searching added to it,
e.g. per-process caches); asserts nothing. Meilisearch runs only when MEILI_URL is set.

    .venv/bin/python bench/bench_recherche.py [--corpus semences|fiches] [N ...]
    # default sizes: 1000 10000 100000
"""

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
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


def construire_mesure(moteur, docs: list[dict]) -> tuple[float, float]:
    """(elapsed, processor time of every thread), in seconds."""
    c0 = cpu_s()
    duree = construire(moteur, docs)
    return duree, cpu_s() - c0


def _passe(moteur, requetes: list[Requete]) -> tuple[list[float], list[float], int]:
    durees, cpu, trouves = [], [], 0
    for requete in requetes:
        t0, c0 = time.perf_counter(), time.process_time()
        resultats = moteur.rechercher(requete)
        durees.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        trouves += resultats.total > 0
    return durees, cpu, trouves


def mesurer(moteur, requetes: list[Requete]) -> dict:
    """Two passes over the mix: the first one, cold (index pages not yet
    mapped, per-process caches empty, as a worker just started), then the
    one measured, as a worker that has been serving for a while.

    Beside the elapsed time, the processor time the search took (every
    thread of the process): on a shared machine, the elapsed time also
    counts the waits for a free core, the processor time does not."""
    froides, _, _ = _passe(moteur, requetes)
    durees, cpu, trouves = _passe(moteur, requetes)
    return {
        "p50": statistics.median(durees),
        "p95": statistics.quantiles(durees, n=100)[94],
        "p95_froid": statistics.quantiles(froides, n=100)[94],
        "cpu_p50": statistics.median(cpu),
        "cpu_p95": statistics.quantiles(cpu, n=100)[94],
        "trouves": trouves,
    }


def charge_machine() -> str:
    """The machine's load (1, 5, 15 minutes) and its cores, to read times by."""
    un, cinq, quinze = os.getloadavg()
    return f"charge {un:.2f} {cinq:.2f} {quinze:.2f} sur {os.cpu_count()} cœurs"


def cpu_s() -> float:
    """Processor time of this process, every thread (seconds)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


# --- The seeds' corpus ------------------------------------------------------------

SEMENCES = ROOT.parent / "shared" / "seeds"
REQUETES_SEMENCES = 100
GENRES = ("Association", "Centre", "Mission locale", "Atelier", "Maison", "Espace")
LARGES = (
    "accompagnement emploi",
    "mobilite",
    "formation",
    "insertion",
    "accompagnement",
    "emploi",
    "logement",
    "sante",
    "rsa",
    "permis de conduire",
    "francais",
    "numerique",
)


def phrases_des_semences(dossier: Path = SEMENCES) -> list[str]:
    """The seeds' sentences that read as French (OCR debris left out)."""
    phrases = []
    for fichier in sorted(dossier.glob("*.txt")):
        texte = fichier.read_text(encoding="utf-8", errors="replace")
        for bloc in re.split(r"\n\s*\n", texte):
            bloc = " ".join(bloc.split())
            for phrase in re.split(r"(?<=[.!?;:])\s+", bloc):
                mots_ = phrase.split()
                lettres = sum(c.isalpha() for c in phrase)
                if 4 <= len(mots_) <= 60 and lettres >= 0.7 * len(phrase):
                    phrases.append(phrase)
    return phrases


class GenerateurSemences(Generateur):
    """Fiches whose texts are cut from the seeds: every fiche its own mix of
    sentences, so words spread as in a real catalogue, not a few repeated."""

    def __init__(self, graine: int = 42):
        super().__init__(graine)
        self.phrases = phrases_des_semences()
        if not self.phrases:
            raise SystemExit(f"aucune phrase lisible dans {SEMENCES}")
        h = random.Random(graine + 1)
        self._hasard_textes = h
        courtes = [p for p in self.phrases if len(p.split()) <= 25]
        self.courtes = courtes or self.phrases
        self.structures = []
        for i in range(6_000):
            commune = h.choice(self.communes)
            self.structures.append(
                Structure.model_construct(
                    id=f"s{i:05d}",
                    nom=f"{h.choice(GENRES)} {self._morceau(h, 1, 3).title()} "
                    f"{commune.nom}",
                    latitude=commune.latitude,
                    longitude=commune.longitude,
                )
            )

    def _morceau(self, h, mini: int, maxi: int) -> str:
        mots_ = [m for m in h.choice(self.courtes).split() if m.isalpha()]
        if not mots_:
            return "insertion"
        debut = h.randrange(0, max(1, len(mots_) - mini))
        return " ".join(mots_[debut : debut + h.randint(mini, maxi)])

    def fiche(self, i: int) -> Fiche:
        h = self._hasard_textes
        j = h.randrange(len(self.phrases))
        fiche = super().fiche(i)
        fiche.nom = self._morceau(h, 3, 8).capitalize()
        fiche.resume = h.choice(self.courtes)
        fiche.description = " ".join(self.phrases[j : j + h.randint(3, 10)])
        fiche.structure = h.randrange(len(self.structures))
        return fiche

    def documents(self, n: int) -> list[dict]:
        docs = []
        for i in range(n):
            fiche = self.fiche(i)
            structure = self.structures[fiche.structure]
            fiche.structure = structure.id
            docs.append(document(fiche, structure))
        return docs

    def requetes(self, docs: list[dict]) -> dict[str, list[Requete]]:
        h = random.Random(11)
        n = REQUETES_SEMENCES
        mots_longs = sorted(
            {
                m
                for d in docs[:2000]
                for m in mots(d["nom"] + " " + d["resume"])
                if len(m) >= 6 and m.isalpha()
            }
        )
        debuts = sorted({m[:2] for m in mots_longs})
        valeurs = {
            f: sorted({v for d in docs[:500] for v in _liste(d[f])}) for f in FILTRES
        }

        def large(**autres) -> Requete:
            return Requete(texte=h.choice(LARGES), **autres)

        def ici(requete: Requete, **autres) -> Requete:
            commune = h.choice(self.communes)
            point = (commune.latitude, commune.longitude)
            return replace(requete, zone=commune.codes_zone, point=point, **autres)

        def huit_mots() -> Requete:
            while True:
                m = [x for x in h.choice(self.phrases).split() if x.isalpha()]
                if len(m) >= 8:
                    k = h.randrange(len(m) - 7)
                    return Requete(texte=" ".join(m[k : k + 8]))

        def faute() -> Requete:
            mot = h.choice(mots_longs)
            j = h.randrange(1, len(mot) - 1)
            return Requete(texte=mot[:j] + mot[j + 1 :])

        def tout() -> Requete:
            filtres = {}
            if h.random() < 0.5:
                f = h.choice(FILTRES)
                filtres[f] = (h.choice(valeurs[f]),)
            return Requete(filtres=filtres)

        def deux_filtres() -> Requete:
            filtres = {f: (h.choice(valeurs[f]),) for f in h.sample(FILTRES, 2)}
            return Requete(texte=h.choice(mots_longs), filtres=filtres)

        return {
            "larges": [large() for _ in range(n)],
            "tout parcourir": [tout() for _ in range(n)],
            "2 lettres": [Requete(texte=h.choice(debuts)) for _ in range(n)],
            "8 mots": [huit_mots() for _ in range(n)],
            "fautes": [faute() for _ in range(n)],
            "mot + 2 filtres": [deux_filtres() for _ in range(n)],
            "tri=places": [large(tri="places") for _ in range(n)],
            "tri=nom": [large(tri="nom") for _ in range(n)],
            "tri=distance": [ici(large(), tri="distance") for _ in range(n)],
            "page 50": [large(page=50) for _ in range(n)],
            "commune + 20 km": [ici(large(), rayon_km=20) for _ in range(n)],
        }


def mise_a_jour_visible_ms(moteur, doc: dict) -> float:
    """One fiche rewritten, until a search finds its new name."""
    nouveau = doc | {"nom": "Zygomatique inedite", "nom_tri": "zygomatique inedite"}
    t0 = time.perf_counter()
    moteur.indexer([nouveau])
    total = moteur.rechercher(Requete(texte="zygomatique", par_page=1)).total
    duree = (time.perf_counter() - t0) * 1000
    if total != 1:
        print(f"!! la fiche mise à jour n'est pas trouvée ({total})")
    return duree


def une_taille_semences(n: int) -> None:
    t0 = time.perf_counter()
    generateur = GenerateurSemences()
    docs = generateur.documents(n)
    melanges = generateur.requetes(docs)
    avant = rss_mo()
    print(
        f"{n} fiches tirées des semences ({len(generateur.phrases)} phrases) : "
        f"{time.perf_counter() - t0:.1f} s, {avant:.0f} Mo en Python ; "
        f"{charge_machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        moteur = MoteurTantivy(Path(tmp) / "recherche")
        duree, cpu = construire_mesure(moteur, docs)
        pic = pic_memoire_mo()
        print(
            f"{n:>8} construction de l'index : {duree:.1f} s ({cpu:.1f} s de "
            f"processeur) ; pic de mémoire {pic:.0f} Mo, dont {avant:.0f} Mo de "
            f"fiches en Python, {pic - avant:.0f} Mo pour construire ; "
            f"« emploi » trouve {part_emploi(moteur, n):.0%} du corpus"
        )
        for melange, requetes in melanges.items():
            m = mesurer(moteur, requetes)
            print(
                f"{n:>8}{melange:>18}{m['p50']:>7.1f} ms{m['p95']:>7.1f} ms"
                f"{m['cpu_p50']:>7.1f} ms{m['cpu_p95']:>7.1f} ms"
                f"{m['trouves']:>8}/{len(requetes)}{m['p95_froid']:>10.1f} ms"
            )
        print(
            f"{n:>8} une fiche modifiée visible en "
            f"{mise_a_jour_visible_ms(moteur, docs[n // 2]):.0f} ms ; "
            f"pic de mémoire du processus : {pic_memoire_mo():.0f} Mo ; "
            f"{charge_machine()}"
        )


def main_semences(tailles: list[int]) -> None:
    print(
        f"{REQUETES_SEMENCES} requêtes par mélange, toutes les facettes comptées ; "
        "p50, p95 de la passe mesurée (temps écoulé, puis temps de processeur "
        "de tous les fils), fiches trouvées, p95 écoulé de la 1re passe\n"
    )
    print(
        f"{'fiches':>8}{'mélange':>18}{'p50':>10}{'p95':>10}{'cpu p50':>10}"
        f"{'cpu p95':>10}{'trouvés':>12}{'froid':>13}"
    )
    for n in tailles:  # one process per size: its own build and peak memory
        subprocess.run([sys.executable, __file__, "--une-taille", str(n)], check=True)


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("tailles", nargs="*", type=int)
    arguments.add_argument(
        "--corpus", choices=("semences", "fiches"), default="semences"
    )
    arguments.add_argument("--une-taille", type=int, help=argparse.SUPPRESS)
    args = arguments.parse_args()
    tailles = args.tailles or [1_000, 10_000, 100_000]
    if args.une_taille:
        une_taille_semences(args.une_taille)
    elif args.corpus == "semences":
        main_semences(tailles)
    else:
        main(tailles)
