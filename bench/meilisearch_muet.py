"""Benchmark: what a hung Meilisearch costs (accepts connections, never answers).

Starts the app on the demo catalogue with SEARCH_BACKEND=meilisearch pointed
at a silent socket, with the default timeouts and circuit breaker, and
prints the boot time (next to a boot on the embedded engine alone) and the
connections the socket received, then the time of each API search and of
each search page with six filter groups ticked. Budget (issue 7): under 1 s
each.

    .venv/bin/python bench/meilisearch_muet.py [N requests, default 10]
"""

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from catalogue import stockage  # noqa: E402

API = "/api/v1/fiches?q=velo"
PAGE = (
    "/?q=velo&categories_thematiques=mobilite&publics=demandeurs-emploi"
    "&type=aide-materielle&frais=gratuit&modes_accueil=en-presentiel"
    "&mobilisable_par=professionnels"
)
BUDGET_S = 1.0


def serveur_muet() -> tuple[str, list]:
    """Its address, and the connections it accepted (kept open, unanswered)."""
    ecoute = socket.create_server(("127.0.0.1", 0))
    gardees = []

    def accepter():
        while True:
            gardees.append(ecoute.accept()[0])

    threading.Thread(target=accepter, daemon=True).start()
    return f"http://127.0.0.1:{ecoute.getsockname()[1]}", gardees


def demarrer(dossier: str, **config):
    """A fresh database and index, then the app: (app, boot time in s)."""
    base = f"sqlite:///{dossier}/offre.sqlite3"
    stockage.migrer(base)
    debut = time.perf_counter()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": base,
            "SEARCH_PATH": f"{dossier}/recherche",
            **config,
        }
    )
    return app, time.perf_counter() - debut


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for _ in range(2):  # the first boot also pays the imports and caches
        with tempfile.TemporaryDirectory() as seul:
            _, duree = demarrer(seul)
    print(f"Démarrage, index embarqué seul : {duree:.2f} s")
    url, connexions = serveur_muet()
    with tempfile.TemporaryDirectory() as dossier:
        app, duree = demarrer(dossier, SEARCH_BACKEND="meilisearch", MEILI_URL=url)
        print(
            f"Démarrage avec Meilisearch muet : {duree:.2f} s, "
            f"{len(connexions)} connexion(s) restées sans réponse"
        )
        client = app.test_client()
        pire = 0.0
        for nom, adresse in (("API", API), ("page, 6 filtres", PAGE)):
            durees = []
            for _ in range(n):
                debut = time.perf_counter()
                reponse = client.get(adresse)
                durees.append(time.perf_counter() - debut)
                assert reponse.status_code == 200
            pire = max(pire, *durees)
            print(
                f"  {nom:16} première {durees[0] * 1000:6.1f} ms   "
                f"pire {max(durees) * 1000:6.1f} ms   "
                f"médiane {sorted(durees)[n // 2] * 1000:6.1f} ms"
            )
    print(f"  connexions au serveur muet en tout : {len(connexions)}")
    print(f"  budget : {BUDGET_S:.0f} s par requête")
    return int(pire > BUDGET_S)


if __name__ == "__main__":
    sys.exit(main())
