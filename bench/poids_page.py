"""Benchmark: what the search page costs a phone, and the server.

1. Weight of the first load of the search page with results, and of a fiche
   opened from a text message: the HTML and every stylesheet, script and
   image it references, as the app serves them to a phone's browser (it
   compresses: flask-compress). Budgets: 60 KB for the search, 10 KB for a
   fiche.
2. Server render time of the search page on the seeded catalogue, full page
   and htmx fragment, over a mix of searches: p50 / p95. Budget: 30 ms p95.

Prints the figures; exits 1 when a budget is exceeded.

    .venv/bin/python bench/poids_page.py [N renders per search, default 200]
"""

import statistics
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from catalogue.stockage import migrer  # noqa: E402

# A typical search, and the page a person lands on (20 results, every filter).
PAGES = ["/?q=francais&commune=Alen%C3%A7on+(61000)", "/"]
# A fiche opened from an SMS: the longest one of the demo catalogue.
FICHES = ["/fiches/61-atelier-mob-pret-deux-roues", "/fiches/72-tarmac-tapaj-iod"]
RECHERCHES = [
    "/",
    "/?q=fracais",
    "/?q=permis&commune=Alen%C3%A7on+(61000)",
    "/?q=logement&publics=beneficiaires-rsa&places_disponibles=1",
    "/?categories_thematiques=mobilite&frais=gratuit&tri=nom",
    "/?commune=%C3%89vry-Courcouronnes+(91000)&tri=distance",
]
# What Chrome on Android sends; the app picks the best it supports.
NAVIGATEUR = {"Accept-Encoding": "gzip, deflate, br, zstd"}
HTMX = {"HX-Request": "true", "HX-Target": "resultats", **NAVIGATEUR}
BUDGET_POIDS_KO = 60
BUDGET_FICHE_KO = 10
BUDGET_RENDU_MS = 30


class Ressources(HTMLParser):
    """The URLs a browser fetches to show the page (same-site only)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") in ("stylesheet", "icon"):
            url = a.get("href", "")
        elif tag in ("script", "img"):
            url = a.get("src", "")
        else:
            return
        if url.startswith("/"):
            self.urls.append(url)


def servi(client, url: str) -> tuple[int, int, str]:
    """Bytes on the wire, bytes once decoded, and the encoding used."""
    compresse = client.get(url, headers=NAVIGATEUR)
    brut = client.get(url)
    encodage = compresse.headers.get("Content-Encoding", "aucune")
    return len(compresse.get_data()), len(brut.get_data()), encodage


def poids(client, page: str, budget: int = BUDGET_POIDS_KO) -> int:
    html = client.get(page).get_data()
    analyse = Ressources()
    analyse.feed(html.decode())
    lignes = [(url, *servi(client, url)) for url in [page, *analyse.urls]]
    print(f"Poids du premier chargement de {page}")
    for url, envoye, brut, encodage in lignes:
        print(
            f"  {envoye / 1024:6.1f} Ko envoyés ({encodage:4}, {brut / 1024:6.1f} Ko "
            f"décodés)  {url}"
        )
    total = sum(envoye for _, envoye, _, _ in lignes)
    print(f"  {total / 1024:6.1f} Ko au total (budget {budget} Ko)\n")
    return total


def rendus(client, n: int) -> dict[str, list[float]]:
    durees: dict[str, list[float]] = {"page": [], "fragment htmx": []}
    for url in RECHERCHES:  # warm the caches once
        client.get(url)
    for _ in range(n):
        for url in RECHERCHES:
            for nom, entetes in (("page", NAVIGATEUR), ("fragment htmx", HTMX)):
                debut = time.perf_counter()
                reponse = client.get(url, headers=entetes)
                durees[nom].append((time.perf_counter() - debut) * 1000)
                assert reponse.status_code == 200, url
    return durees


def centile(valeurs: list[float], p: float) -> float:
    return statistics.quantiles(valeurs, n=100, method="inclusive")[int(p) - 1]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as dossier:
        base = f"sqlite:///{dossier}/b.sqlite3"
        migrer(base)
        app = create_app(
            {
                "TESTING": True,
                "SEARCH_PATH": str(Path(dossier) / "r"),
                "DATABASE_URL": base,
            }
        )
        client = app.test_client()
        nb_fiches = len(app.extensions["catalogue"].fiches)
        total = max(poids(client, page) for page in PAGES)
        fiche = max(poids(client, page, BUDGET_FICHE_KO) for page in FICHES)
        durees = rendus(client, n)
    print(
        f"\nRendu serveur de la recherche ({nb_fiches} fiches, "
        f"{len(RECHERCHES)} recherches × {n})"
    )
    pire = 0.0
    for nom, valeurs in durees.items():
        p50, p95 = centile(valeurs, 50), centile(valeurs, 95)
        pire = max(pire, p95)
        print(f"  {nom:14} p50 {p50:5.1f} ms   p95 {p95:5.1f} ms")
    print(f"  budget p95 : {BUDGET_RENDU_MS} ms")
    trop_lourd = total > BUDGET_POIDS_KO * 1024 or fiche > BUDGET_FICHE_KO * 1024
    return int(trop_lourd or pire > BUDGET_RENDU_MS)


if __name__ == "__main__":
    sys.exit(main())
