"""Fixtures shared by every test: a fresh database, the app built from a config.

The database is SQLite by default; ``pytest --base postgresql`` runs the same
suite on a throwaway PostgreSQL cluster started for the run. Each app gets
a database of its own, copied from one migrated once per run.
"""

import itertools
import shutil
from pathlib import Path

import pytest

from app import create_app
from catalogue import stockage
from catalogue.chargement import charger_catalogue

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECHERCHE = FIXTURES / "recherche"


def pytest_addoption(parser):
    parser.addoption(
        "--base",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="base de données des tests (PostgreSQL : une grappe jetable)",
    )


def pytest_report_header(config):
    return f"base de données : {config.getoption('--base')}"


@pytest.fixture(scope="session")
def base_de_donnees(request, tmp_path_factory):
    """Call it for the URL of a new, migrated, empty database."""
    compteur = itertools.count()
    if request.config.getoption("--base") == "postgresql":
        from tests.postgres import Grappe

        grappe = Grappe()
        grappe.executer("CREATE DATABASE modele")
        stockage.migrer(grappe.url("modele"))

        def nouvelle() -> str:
            nom = f"essai_{next(compteur)}"
            grappe.executer(f"CREATE DATABASE {nom} TEMPLATE modele")
            return grappe.url(nom)

        yield nouvelle
        grappe.arreter()
        return
    dossier = tmp_path_factory.mktemp("bases")
    modele = dossier / "modele.sqlite3"
    stockage.migrer(f"sqlite:///{modele}")

    def nouvelle() -> str:
        copie = dossier / f"essai_{next(compteur)}.sqlite3"
        shutil.copyfile(modele, copie)
        return f"sqlite:///{copie}"

    yield nouvelle


@pytest.fixture(scope="session")
def catalogues():
    """Catalogues read once per run: (fiches dir, structures dir) -> Catalogue."""
    lus = {}

    def lire(fiches: Path, structures: Path):
        cle = (Path(fiches).resolve(), Path(structures).resolve())
        if cle not in lus:
            lus[cle] = charger_catalogue(*cle, racine=ROOT)
        return lus[cle]

    return lire


@pytest.fixture
def creer_app(tmp_path, base_de_donnees, catalogues):
    """Build an app from a config mapping.

    Apps built in one test share that test's database and search index, as
    the workers of one deployment do; pass ``DATABASE_URL`` or ``SEARCH_PATH``
    to part them. ``FICHES_DIR``/``STRUCTURES_DIR`` under ``tmp_path`` are read
    afresh; the demo and fixture catalogues are read once per run.
    """
    apps = []
    base = []

    def fabrique(config: dict | None = None, **autres):
        config = {**(config or {}), **autres}
        reglages = {
            "TESTING": True,
            "SECRET_KEY": "cle-des-tests-assez-longue",
            "SEARCH_PATH": str(tmp_path / "recherche"),
            **config,
        }
        if "DATABASE_URL" not in reglages:
            if not base:
                base.append(base_de_donnees())
            reglages["DATABASE_URL"] = base[0]
        fiches = Path(reglages.get("FICHES_DIR", ROOT / "data" / "fiches"))
        structures = Path(reglages.get("STRUCTURES_DIR", ROOT / "data" / "structures"))
        if "CATALOGUE" not in reglages and not fiches.is_relative_to(tmp_path):
            reglages["CATALOGUE"] = catalogues(fiches, structures)
        app = create_app(reglages)
        apps.append(app)
        return app

    yield fabrique
    for app in apps:
        app.extensions["db"].dispose()


@pytest.fixture
def app(creer_app):
    """The app on the real seeded catalogue."""
    return creer_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
