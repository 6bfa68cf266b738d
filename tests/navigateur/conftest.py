"""Browser fixtures: the app served on 127.0.0.1, Debian's chromium, axe-core.

Playwright never downloads a browser here: it drives the system's /usr/bin/chromium.
Screenshots go to tests/captures/ (git-ignored) for a human to look at.
"""

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error as ErreurPlaywright
from sqlmodel import Session
from werkzeug.serving import make_server

from app import create_app
from catalogue import places

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
CAPTURES = Path(__file__).resolve().parent.parent / "captures"
# The browser tests run on their own small catalogue, not the demo one.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "recherche"
PLACES_EN_DIRECT = {
    "fle-alencon": 4,
    "mob-velos-alencon": 0,
    "garde-enfants-argentan": 2,
}
TELEPHONE = {"width": 390, "height": 844}
PETIT_TELEPHONE = {"width": 320, "height": 640}
ORDINATEUR = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items):
    for item in items:
        if "navigateur" in str(item.fspath):
            item.add_marker(pytest.mark.navigateur)


@pytest.fixture(scope="session")
def serveur(tmp_path_factory, base_de_donnees):
    """Base URL of the app on the fixture catalogue, in a thread."""
    app = create_app(
        {
            "TESTING": True,
            "FICHES_DIR": str(FIXTURES / "fiches"),
            "STRUCTURES_DIR": str(FIXTURES / "structures"),
            "PROPAGATE_EXCEPTIONS": False,
            "SECRET_KEY": "test",
            "SEARCH_PATH": str(tmp_path_factory.mktemp("index") / "r"),
            "DATABASE_URL": base_de_donnees(),
        }
    )

    # Opérateurs have reported places on a few actions (live data, not YAML).
    with Session(app.extensions["db"]) as db:
        for fiche_id, nombre in PLACES_EN_DIRECT.items():
            places.fixer(db, fiche_id, nombre, "opérateur de test")
        db.commit()
    places.publier(app.extensions["db"], app.extensions["recherche"])

    @app.get("/essai-erreur-500")
    def essai_erreur_500():
        raise RuntimeError("erreur volontaire pour la page 500")

    with servir(app) as url:
        yield url
    app.extensions["db"].dispose()


@contextmanager
def servir(app):
    """Serve ``app`` on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def navigateur():
    if not Path(CHROMIUM).exists():
        # `make test` installs it; in CI a missing browser is a failure, not a skip.
        message = "chromium absent : lancez `make test` ou apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def telephone(navigateur):
    """A phone-sized page with JavaScript on."""
    context = navigateur.new_context(viewport=TELEPHONE, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def telephone_sans_js(navigateur):
    context = navigateur.new_context(
        viewport=TELEPHONE, locale="fr-FR", java_script_enabled=False
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def captures():
    shutil.rmtree(CAPTURES, ignore_errors=True)
    CAPTURES.mkdir(parents=True)
    return CAPTURES


def capturer(page, chemin: Path) -> None:
    """The whole page, kept for a look. Starved of CPU (a CI machine running
    two suites), Chromium may have no frame to copy yet and refuses: « Unable
    to capture screenshot ». Once the page has drawn its next frames, it has
    one."""
    try:
        page.screenshot(path=chemin, full_page=True)
    except ErreurPlaywright as erreur:
        if "Unable to capture screenshot" not in str(erreur):
            raise
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() =>"
            " requestAnimationFrame(() => r())))"
        )
        page.screenshot(path=chemin, full_page=True)
