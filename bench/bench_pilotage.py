"""Benchmark: the pilotage page and its CSV on a national year of requests.

Fills a fresh database (SQLite file, and a throwaway PostgreSQL cluster) with
N requests spread over two years on the demo catalogue's actions, by bulk
INSERT (never the ORM one by one): people, requests, their first log line and
the prestataire's answer. Then renders, as the département, the page for the
last year, for one département's people, for one commune's, for one
action, and the origins CSV: p50 / p95 of each. Target: p95 under 200 ms at 1 000 000.

Prints the figures (no budget enforced: this machine is shared).

    .venv/bin/python bench/bench_pilotage.py [--tailles 100000 1000000]
        [--bases sqlite postgresql] [--rendus 20]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from app import create_app  # noqa: E402
from catalogue.chargement import charger_catalogue  # noqa: E402
from catalogue.stockage import creer_moteur, migrer  # noqa: E402
from prescription.modeles import (  # noqa: E402
    Beneficiaire,
    Prescription,
    Transition,
)
from prescription.pilotage import recalculer  # noqa: E402
from tests.prescription.conftest import poster  # noqa: E402

PAQUET = 20_000
DEBUT = datetime(2025, 1, 1, tzinfo=UTC)
JOURS = 730
STATUTS = [
    ("demandee", 8),
    ("acceptee", 10),
    ("entree", 25),
    ("sortie", 30),
    ("refusee", 12),
    ("annulee", 6),
    ("expiree", 4),
    ("liste_attente", 5),
]
ORIGINES = [("referent", 60), ("prestataire", 25), ("auto-prescription", 15)]
SEXES = [("femme", 45), ("homme", 45), ("non-renseigne", 10)]
AGES = ["moins-26", "26-44", "45-54", "55-plus", "non-renseigne"]
SORTIES = ["emploi-durable", "emploi-transition", "formation", "relais", "abandon"]
MOTIFS = ["complet", "hors-zone", "injoignable", "autre"]


def tirage(hasard, poids):
    valeurs = [v for v, _ in poids]
    return hasard.choices(valeurs, weights=[p for _, p in poids])[0]


def remplir(url: str, n: int, catalogue) -> tuple[float, float, int]:
    """n requests by bulk INSERT, then the summary rebuilt: (seconds to insert,
    seconds to rebuild, summary rows)."""
    hasard = random.Random(42)
    fiches = sorted(catalogue.fiches.values(), key=lambda f: f.id)
    communes = {}
    from catalogue.territoires import referentiel

    ref = referentiel()
    for f in fiches:
        dep = f.id[:2]
        communes[f.id] = [
            c.code_insee for c in ref.lieux.communes_du_departement.get(dep, [])
        ][:200] or ["61001"]
    moteur = creer_moteur(url)
    debut = time.perf_counter()
    tables = SQLModel.metadata.tables
    b_table = tables[Beneficiaire.__tablename__]
    p_table = tables[Prescription.__tablename__]
    t_table = tables[Transition.__tablename__]
    ident = 1
    with moteur.begin() as cnx:
        while ident <= n:
            fin = min(ident + PAQUET, n + 1)
            personnes, demandes, transitions = [], [], []
            for i in range(ident, fin):
                fiche = hasard.choice(fiches)
                statut = tirage(hasard, STATUTS)
                le = DEBUT + timedelta(
                    days=hasard.randrange(JOURS), seconds=hasard.randrange(86400)
                )
                personnes.append(
                    {
                        "id": i,
                        "prenom": "P",
                        "nom": "N",
                        "commune_code": hasard.choice(communes[fiche.id]),
                        "sexe": tirage(hasard, SEXES),
                        "tranche_age": hasard.choice(AGES),
                    }
                )
                demandes.append(
                    {
                        "id": i,
                        "fiche_id": fiche.id,
                        "session": "",
                        "structure_catalogue": fiche.structure,
                        "beneficiaire_id": i,
                        "origine": tirage(hasard, ORIGINES),
                        "statut": statut,
                        "motif": "",
                        "place_tenue": statut in ("demandee", "acceptee", "entree"),
                        "hors_zone": False,
                        "motif_refus": hasard.choice(MOTIFS)
                        if statut == "refusee"
                        else None,
                        "type_sortie": hasard.choice(SORTIES)
                        if statut == "sortie"
                        else None,
                        "cree_le": le,
                        "maj_le": le,
                    }
                )
                transitions.append(
                    {
                        "prescription_id": i,
                        "de": None,
                        "vers": "demandee",
                        "action": "demander",
                        "par": "banc",
                        "le": le,
                        "pourquoi": "",
                    }
                )
                if statut not in ("demandee", "liste_attente", "expiree"):
                    transitions.append(
                        {
                            "prescription_id": i,
                            "de": "demandee",
                            "vers": "acceptee",
                            "action": "refuser" if statut == "refusee" else "accepter",
                            "par": "banc",
                            "le": le + timedelta(hours=hasard.randrange(1, 400)),
                            "pourquoi": "",
                        }
                    )
            cnx.execute(insert(b_table), personnes)
            cnx.execute(insert(p_table), demandes)
            cnx.execute(insert(t_table), transitions)
            ident = fin
        if moteur.dialect.name == "postgresql":
            for table in ("beneficiaires", "prescriptions"):
                cnx.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
                )
    insertion = time.perf_counter() - debut
    # Bulk rows skip the ORM: the summary is rebuilt once, as after an import.
    debut = time.perf_counter()
    with Session(moteur) as db:
        lignes = recalculer(db)
        db.commit()
    resume = time.perf_counter() - debut
    with moteur.connect() as cnx:
        cnx.execute(text("ANALYZE"))
        cnx.commit()
    moteur.dispose()
    return insertion, resume, lignes


def mesurer(client, url: str, rendus: int) -> tuple[float, float, float]:
    """p50 and p95 of the wall time, and the p50 of this process's CPU time
    (on a shared machine, less sensitive to the others' load; it leaves
    PostgreSQL's own work out)."""
    client.get(url)  # cold pass, not counted
    durees, cpu = [], []
    for _ in range(rendus):
        debut, debut_cpu = time.perf_counter(), time.process_time()
        reponse = client.get(url)
        durees.append((time.perf_counter() - debut) * 1000)
        cpu.append((time.process_time() - debut_cpu) * 1000)
        assert reponse.status_code == 200, (url, reponse.status_code)
    durees.sort()
    p95 = durees[max(0, round(0.95 * len(durees)) - 1)]
    return statistics.median(durees), p95, statistics.median(cpu)


PAGES = {
    "page, dernière année": "/pro/pilotage?du=2026-01&au=2026-12",
    "page, deux ans, personnes de l'Orne": (
        "/pro/pilotage?du=2025-01&au=2026-12&territoire=Orne"
    ),
    "page, deux ans, personnes d'Alençon": (
        "/pro/pilotage?du=2025-01&au=2026-12&territoire=61001"
    ),
    "page, une action": (
        "/pro/pilotage?du=2025-01&au=2026-12&fiche=61-atelier-mob-pret-deux-roues"
    ),
    "CSV origines, dernière année": "/pro/pilotage/origines.csv?du=2026-01&au=2026-12",
    "API, dernière année": "/api/v1/pilotage?du=2026-01&au=2026-12",
}


def banc(base: str, url: str, n: int, rendus: int, catalogue, dossier: Path):
    insertion, resume, lignes = remplir(url, n, catalogue)
    print(
        f"\n{base}, {n:,} demandes (insertion : {insertion:.0f} s ; résumé recompté "
        f"en {resume:.1f} s : {lignes:,} lignes)".replace(",", " ")
    )
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "banc",
            "DATABASE_URL": url,
            "CATALOGUE": catalogue,
            "SEARCH_PATH": str(dossier / f"index-{base}-{n}"),
        }
    )
    # Last years' results beside this period, as a département has them.
    resultats = ROOT / "tests/fixtures/pilotage/resultats.csv"
    app.test_cli_runner().invoke(args=["pilotage", "importer", str(resultats)])
    client = app.test_client()
    poster(client, "/connexion/demo", {"role": "departement"})
    print(f"  (charge de la machine : {', '.join(map(str, os.getloadavg()))})")
    for nom, adresse in PAGES.items():
        p50, p95, cpu = mesurer(client, adresse, rendus)
        print(
            f"  {nom:<40} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
            f"(CPU p50 {cpu:6.1f} ms)"
        )
    app.extensions["db"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tailles", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--bases",
        nargs="+",
        default=["sqlite", "postgresql"],
        choices=["sqlite", "postgresql"],
    )
    parser.add_argument("--rendus", type=int, default=20)
    args = parser.parse_args()
    catalogue = charger_catalogue(
        ROOT / "data" / "fiches", ROOT / "data" / "structures", racine=ROOT
    )
    with tempfile.TemporaryDirectory() as tmp:
        dossier = Path(tmp)
        grappe = None
        try:
            for n in args.tailles:
                for base in args.bases:
                    if base == "sqlite":
                        url = f"sqlite:///{dossier / f'banc-{n}.sqlite3'}"
                    else:
                        if grappe is None:
                            from tests.postgres import Grappe

                            grappe = Grappe()
                        grappe.executer(f"CREATE DATABASE banc_{n}")
                        url = grappe.url(f"banc_{n}")
                    migrer(url)
                    banc(base, url, n, args.rendus, catalogue, dossier)
        finally:
            if grappe is not None:
                grappe.arreter()


if __name__ == "__main__":
    main()
