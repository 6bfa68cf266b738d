"""Benchmark: where the "Rechercher" button sits on a phone (390 × 844).

Opens the search page on the demo catalogue in Debian's chromium, opens
"Plus de choix" (and every filter group, the worst case), then prints:
- the button's top in the page (px from the top of the document) when the
  page is scrolled to the top;
- whether it is inside the screen at that moment, and after scrolling to the
  middle of the filters (a sticky bar keeps it there).

    .venv/bin/python bench/bouton_telephone.py [capture-milieu.png [capture-haut.png]]
"""

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from catalogue.stockage import migrer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TELEPHONE = {"width": 390, "height": 844}


def mesurer(page) -> tuple[float, bool]:
    """The button's top in the document, and whether it is on screen."""
    return page.evaluate(
        """() => {
          const b = document.querySelector('#formulaire-recherche button[type=submit]');
          const r = b.getBoundingClientRect();
          return [r.top + window.scrollY, r.top >= 0 && r.bottom <= window.innerHeight];
        }"""
    )


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as dossier:
        migrer(f"sqlite:///{dossier}/b.sqlite3")
        app = create_app(
            {
                "TESTING": True,
                "SEARCH_PATH": str(Path(dossier) / "r.sqlite3"),
                "DATABASE_URL": f"sqlite:///{dossier}/b.sqlite3",
            }
        )
        serveur = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=serveur.serve_forever, daemon=True).start()
        adresse = f"http://127.0.0.1:{serveur.server_port}/"
        with sync_playwright() as p:
            navigateur = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
            )
            page = navigateur.new_page(viewport=TELEPHONE)
            page.goto(adresse)
            if len(sys.argv) > 2:
                page.screenshot(path=sys.argv[2])
            haut, visible = mesurer(page)
            print(f"Page fermée : « Rechercher » à {haut:.0f} px, visible : {visible}")
            page.locator("details.plus-de-filtres > summary").click()
            page.evaluate(
                "() => document.querySelectorAll('details').forEach(d => d.open = true)"
            )
            page.evaluate("() => window.scrollTo(0, 0)")
            haut, visible = mesurer(page)
            print(
                f"« Plus de choix » ouvert (tous les groupes dépliés) : « Rechercher » "
                f"à {haut:.0f} px du haut du document, à l'écran : {visible}"
            )
            page.evaluate(
                """() => {
                  const f = document.getElementById('formulaire-recherche');
                  const r = f.getBoundingClientRect();
                  window.scrollTo(0, window.scrollY + r.top + r.height / 2 - 400);
                }"""
            )
            _, visible = mesurer(page)
            print(f"Au milieu des filtres, « Rechercher » à l'écran : {visible}")
            if len(sys.argv) > 1:  # a screenshot of that moment, to look at
                page.screenshot(path=sys.argv[1])
            navigateur.close()
        serveur.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
