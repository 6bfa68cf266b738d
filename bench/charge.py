"""Load test: gunicorn on loopback (2 workers, as the Procfile), driven by many
concurrent clients with a realistic mix of what people do:

- 80 % searches (the HTML page, everyday words, with or without a commune and
  filters),
- 15 % fiche views,
- 5 % bookings by the person herself: the form first (session cookie and CSRF
  token), then the answers; a full action answers « C'est complet ».

Prints requests per second, p50/p95 per kind, errors, and the places oversold
(places counter against the requests holding a place: must be 0). With
``--comparer``, also the search page's throughput against a bare Flask
endpoint served by the same gunicorn settings, and their ratio.

Outside the test suite; nothing here asserts a time.

    .venv/bin/python bench/charge.py [--duree 30] [--clients 32]
        [--base sqlite|postgresql] [--places 15] [--comparer]
"""

import argparse
import http.client
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlmodel import Session, create_engine, func, select  # noqa: E402

from catalogue import places  # noqa: E402
from catalogue.stockage import migrer  # noqa: E402
from prescription.modeles import Prescription  # noqa: E402

# The demo actions a person books alone (`usagers` in mobilisable_par), and a
# commune inside each one's zone.
RESERVABLES = {
    "61-boite-aux-lettres-point-accueil-fle": "Alençon",
    "61-edith-bonnem-velo-ecole": "Alençon",
    "72-siao-conseil-insertion-professionnelle": "Le Mans",
}
FILTRES = [
    "",
    "&places_disponibles=1",
    "&frais=gratuit",
    "&categories_thematiques=mobilite",
    "&tri=nom",
]
MELANGE = (("recherche", 80), ("fiche", 15), ("reservation", 5))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BARE = """from flask import Flask

app = Flask(__name__)


@app.get("/")
def bonjour():
    return "Bonjour"
"""


def recherches() -> list[str]:
    lues = yaml.safe_load((ROOT / "bench" / "requetes_quotidiennes.yaml").read_text())
    urls = []
    for i, r in enumerate(lues):
        parametres = {"q": r["q"]}
        if r.get("commune"):
            parametres["commune"] = r["commune"]
        urls.append("/?" + urllib.parse.urlencode(parametres) + FILTRES[i % 5])
    return urls + ["/", "/?commune=Alen%C3%A7on"]


def recherches_toutes_differentes(graine: int = 3) -> list[str]:
    """The everyday words at many communes, shuffled: nearly every address
    is asked once, so nearly every page is worked out afresh (none of the
    pages a worker keeps can serve)."""
    from catalogue.chargement import charger_catalogue
    from catalogue.territoires import referentiel

    lues = yaml.safe_load((ROOT / "bench" / "requetes_quotidiennes.yaml").read_text())
    catalogue = charger_catalogue(ROOT / "data/fiches", ROOT / "data/structures")
    # Communes of the départements the catalogue serves: pages as people get.
    departements = {
        lieu.code_insee[:2]
        for fiche in catalogue.fiches.values()
        for lieu in fiche.lieux
        if lieu.code_insee
    }
    communes = sorted(
        c.nom for c in referentiel().communes.values() if c.departement in departements
    )
    rng = random.Random(graine)
    urls = {
        "/?" + urllib.parse.urlencode({"q": r["q"], "commune": commune})
        for r in lues
        for commune in rng.sample(communes, min(300, len(communes)))
    }
    return sorted(urls, key=lambda _u: rng.random())


def fiches() -> list[str]:
    return [
        f"/fiches/{p.stem}" for p in sorted((ROOT / "data" / "fiches").glob("*.yaml"))
    ]


@contextmanager
def base_de_donnees(nature: str, dossier: Path):
    if nature == "sqlite":
        yield f"sqlite:///{dossier / 'charge.sqlite3'}"
        return
    from tests.postgres import Grappe

    grappe = Grappe()
    try:
        grappe.executer("CREATE DATABASE charge")
        yield grappe.url("charge")
    finally:
        grappe.arreter()


@contextmanager
def gunicorn(cible: str, env: dict, cwd: Path, journaux: Path):
    """gunicorn as the Procfile starts it, on a free loopback port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    journal = open(journaux / f"gunicorn-{port}.log", "w")  # noqa: SIM115
    processus = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--workers", "2",
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", cible,
        ],
        cwd=cwd,
        env={**os.environ, **env, "FLASK_URL_PUBLIQUE": f"http://127.0.0.1:{port}"},
        stdout=journal,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        limite = time.monotonic() + 120
        while True:
            try:
                cnx = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                cnx.request("GET", "/")
                if cnx.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > limite or processus.poll() is not None:
                journal.flush()
                print(Path(journal.name).read_text()[-3000:], file=sys.stderr)
                raise SystemExit("gunicorn n'a pas démarré")
            time.sleep(0.2)  # a bench script, not a test: polling is fine here
        yield port
    finally:
        processus.terminate()
        processus.wait(timeout=30)
        journal.close()


class Client:
    """One person's browser: one connection, its cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cnx = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def envoyer(self, methode: str, url: str, corps: dict | None = None):
        entetes = {"Accept-Encoding": "identity"}
        if self.cookies:
            entetes["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        donnees = None
        if corps is not None:
            donnees = urllib.parse.urlencode(corps)
            entetes["Content-Type"] = "application/x-www-form-urlencoded"
        for essai in (1, 2):
            try:
                self.cnx.request(methode, url, body=donnees, headers=entetes)
                reponse = self.cnx.getresponse()
                texte = reponse.read().decode()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError):
                # gunicorn's sync workers close after each answer: reconnect.
                self.cnx.close()
                if essai == 2:
                    raise
        for cookie in reponse.msg.get_all("Set-Cookie") or []:
            nom, _, valeur = cookie.split(";", 1)[0].partition("=")
            self.cookies[nom.strip()] = valeur
        return reponse.status, texte


def conduire(port, fin, rng, resultats, verrou, urls_recherche, urls_fiche):
    client = Client(port)
    genres = [g for g, _ in MELANGE]
    poids = [p for _, p in MELANGE]
    while time.monotonic() < fin:
        genre = rng.choices(genres, poids)[0]
        lignes = []
        try:
            if genre == "recherche":
                url = rng.choice(urls_recherche)
                # A place typed in the words sends to its search (303).
                lignes.append(
                    _mesurer(client, "recherche", "GET", url, attendus=(200, 303))[:3]
                )
            elif genre == "fiche":
                url = rng.choice(urls_fiche)
                lignes.append(_mesurer(client, "fiche", "GET", url)[:3])
            else:
                lignes += _reserver(client, rng)
        except OSError as erreur:
            lignes.append((genre, 0.0, f"connexion : {type(erreur).__name__}"))
        with verrou:
            for g, duree, erreur in lignes:
                resultats[g].append((duree, erreur))


def _mesurer(client, genre, methode, url, corps=None, attendus=(200,)):
    debut = time.perf_counter()
    statut, texte = client.envoyer(methode, url, corps)
    duree = (time.perf_counter() - debut) * 1000
    erreur = None if statut in attendus else f"{statut} sur {url}"
    return genre, duree, erreur, statut, texte


def _reserver(client, rng):
    fiche, commune = rng.choice(list(RESERVABLES.items()))
    url = f"/fiches/{fiche}/inscription"
    g1, d1, e1, _, page = _mesurer(client, "formulaire", "GET", url)
    lignes = [(g1, d1, e1)]
    jeton = CSRF.search(page)
    if e1 or not jeton:
        return lignes
    corps = {
        "csrf_token": jeton[1],
        "prenom": "Awa",
        "nom": f"Charge{rng.randrange(10**6)}",
        # One person each: a number serves at most 5 self-bookings a day.
        "telephone": f"06 12 {rng.randrange(10**6):06d}",
        "commune": commune,
        "consentement": "oui",
    }
    g2, d2, e2, statut, texte = _mesurer(
        client, "reservation", "POST", url, corps, attendus=(303, 200)
    )
    if statut == 200 and "complet" not in texte:
        e2 = f"200 sans réservation ni « complet » sur {url}"
    lignes.append((g2, d2, e2))
    return lignes


def centile(valeurs: list[float], p: int) -> float:
    if len(valeurs) < 2:
        return valeurs[0] if valeurs else float("nan")
    return statistics.quantiles(valeurs, n=100, method="inclusive")[p - 1]


def charger(port, duree, clients, graine, urls_recherche, urls_fiche):
    resultats = defaultdict(list)
    verrou = threading.Lock()
    fin = time.monotonic() + duree
    fils = [
        threading.Thread(
            target=conduire,
            args=(port, fin, random.Random(graine + i), resultats, verrou,
                  urls_recherche, urls_fiche),
        )
        for i in range(clients)
    ]  # fmt: skip
    debut = time.perf_counter()
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    return resultats, time.perf_counter() - debut


def imprimer(resultats, ecoule) -> int:
    total = sum(len(v) for v in resultats.values())
    erreurs = sum(1 for v in resultats.values() for _, e in v if e)
    print(f"  {total} requêtes en {ecoule:.1f} s : {total / ecoule:.1f} req/s")
    for genre in ("recherche", "fiche", "formulaire", "reservation"):
        lignes = resultats.get(genre, [])
        durees = [d for d, e in lignes if not e]
        if not lignes:
            continue
        en_erreur = sum(1 for _, e in lignes if e)
        print(
            f"  {genre:12} {len(lignes):6} req  p50 {centile(durees, 50):7.1f} ms  "
            f"p95 {centile(durees, 95):7.1f} ms  erreurs {en_erreur}"
        )
    vues = sorted({e for v in resultats.values() for _, e in v if e})
    for e in vues[:5]:
        print(f"    erreur : {e}")
    print(f"  erreurs : {erreurs}")
    return erreurs


def survendues(url: str, initiales: int) -> tuple[int, int, int, int]:
    """(oversold, counter/requests mismatches, places taken)."""
    engine = create_engine(url)
    survente = ecarts = prises = 0
    with Session(engine) as db:
        for fiche in RESERVABLES:
            restantes = places.par_session(db, fiche)[places.ACTION].places_restantes
            tenues = db.exec(
                select(func.count()).where(
                    Prescription.fiche_id == fiche, Prescription.place_tenue
                )
            ).one()
            survente += max(0, tenues - initiales) + max(0, -restantes)
            ecarts += abs(restantes + tenues - initiales)
            prises += tenues
    engine.dispose()
    return survente, ecarts, prises


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duree", type=float, default=30, help="secondes de charge")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--base", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--places", type=int, default=15, help="par action réservable")
    parser.add_argument("--comparer", action="store_true")
    parser.add_argument("--graine", type=int, default=1)
    args = parser.parse_args()
    urls_recherche, urls_fiche = recherches(), fiches()
    with tempfile.TemporaryDirectory() as dossier:
        dossier = Path(dossier)
        with base_de_donnees(args.base, dossier) as url:
            migrer(url)
            engine = create_engine(url)
            with Session(engine) as db:
                for fiche in RESERVABLES:
                    places.fixer(db, fiche, args.places, "banc de charge")
                db.commit()
            engine.dispose()
            env = {
                "FLASK_SECRET_KEY": secrets.token_hex(32),
                "FLASK_DATABASE_URL": url,
                "FLASK_SEARCH_PATH": str(dossier / "recherche"),
                "FLASK_ENVOI_CONSOLE_AUTORISE": "true",
                # Every client comes from 127.0.0.1: the per-IP limit would
                # refuse nearly all bookings.
                "FLASK_PRESCRIPTION_LIMITE_INSCRIPTION": "1000000 per hour",
                "FLASK_PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE": "1000000 per hour",
            }
            with gunicorn("app:create_app()", env, ROOT, dossier) as port:
                print(
                    f"Charge : {args.clients} clients, {args.duree:g} s, gunicorn "
                    f"2 workers, base {args.base}, {len(os.sched_getaffinity(0))} "
                    f"cœurs ; {args.places} places sur chacune des "
                    f"{len(RESERVABLES)} actions réservables"
                )
                resultats, ecoule = charger(
                    port, args.duree, args.clients, args.graine,
                    urls_recherche, urls_fiche,
                )  # fmt: skip
                erreurs = imprimer(resultats, ecoule)
                survente, ecarts, prises = survendues(url, args.places)
                print(
                    f"  places prises : {prises} sur {args.places * len(RESERVABLES)}"
                    f" ; places survendues : {survente} ; écarts compteur/demandes :"
                    f" {ecarts}"
                )
                if args.comparer:
                    comparer(port, args, env, dossier, urls_recherche)
    return 1 if erreurs or survente or ecarts else 0


def comparer(port, args, env, dossier, urls_recherche) -> None:
    """Issue 16: the search page against a bare Flask endpoint, same gunicorn."""
    duree = max(5.0, args.duree / 3)
    resultats, ecoule = _seulement(port, duree, args.clients, urls_recherche)
    page = len(resultats) / ecoule
    differentes, ecoule_d = _seulement(
        port, duree, args.clients, recherches_toutes_differentes()
    )
    page_d = len(differentes) / ecoule_d
    (dossier / "nu.py").write_text(BARE)
    with gunicorn("nu:app", {}, dossier, dossier) as port_nu:
        resultats_nu, ecoule_nu = _seulement(port_nu, duree, args.clients, ["/"])
    nu = len(resultats_nu) / ecoule_nu
    print(f"Comparaison ({args.clients} clients, {duree:g} s chacun) :")
    print(
        f"  page de recherche, adresses de tous les jours (déjà faites, resservies) : "
        f"{page:7.1f} req/s (p95 {centile(resultats, 95):.1f} ms)"
    )
    print(
        f"  page de recherche, adresses toutes différentes (chaque page refaite)  : "
        f"{page_d:7.1f} req/s (p95 {centile(differentes, 95):.1f} ms)"
    )
    p95_nu = centile(resultats_nu, 95)
    print(f"  Flask nu : {nu:7.1f} req/s (p95 {p95_nu:.1f} ms)")
    print(
        f"  rapport : la page de recherche sert {page / nu:.1%} du débit nu "
        f"(adresses de tous les jours), {page_d / nu:.1%} (toutes différentes)"
    )


def _seulement(port, duree, clients, urls) -> tuple[list[float], float]:
    durees, verrou = [], threading.Lock()
    fin = time.monotonic() + duree

    def conduire_un(i):
        client, rng = Client(port), random.Random(i)
        while time.monotonic() < fin:
            debut = time.perf_counter()
            statut, _ = client.envoyer("GET", rng.choice(urls))
            # A place typed in the words answers with its address (303).
            if statut in (200, 303):
                with verrou:
                    durees.append((time.perf_counter() - debut) * 1000)

    fils = [threading.Thread(target=conduire_un, args=(i,)) for i in range(clients)]
    debut = time.perf_counter()
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    return durees, time.perf_counter() - debut


if __name__ == "__main__":
    raise SystemExit(main())
