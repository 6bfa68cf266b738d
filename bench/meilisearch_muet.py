"""Benchmark: what a hung Meilisearch costs (accepts connections, never answers).

Starts the app on the demo catalogue with SEARCH_BACKEND=meilisearch pointed
at a silent socket, with the default timeouts and circuit breaker, and
prints the boot time, then the time of each API search and of each search
page with six filter groups ticked. Budget (issue 7): under 1 s each.

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


def serveur_muet() -> str:
    ecoute = socket.create_server(("127.0.0.1", 0))
    gardees = []

    def accepter():
        while True:
            gardees.append(ecoute.accept()[0])

    threading.Thread(target=accepter, daemon=True).start()
    return f"http://127.0.0.1:{ecoute.getsockname()[1]}"


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as dossier:
        base = f"sqlite:///{dossier}/offre.sqlite3"
        stockage.migrer(base)
        debut = time.perf_counter()
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": base,
                "SEARCH_PATH": f"{dossier}/r.sqlite3",
                "SEARCH_BACKEND": "meilisearch",
                "MEILI_URL": serveur_muet(),
            }
        )
        print(f"Démarrage avec Meilisearch muet : {time.perf_counter() - debut:.2f} s")
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
    print(f"  budget : {BUDGET_S:.0f} s par requête")
    return int(pire > BUDGET_S)


if __name__ == "__main__":
    sys.exit(main())
