"""Search fixtures: a small catalogue of its own, and each search engine."""

import os
import uuid
from pathlib import Path

import pytest
import requests

from catalogue.chargement import charger_catalogue
from catalogue.recherche.documents import documents
from catalogue.recherche.moteur_tantivy import MoteurTantivy

RECHERCHE = Path(__file__).resolve().parent.parent / "fixtures" / "recherche"


@pytest.fixture(scope="session")
def catalogue_recherche():
    """Mobility and French-language actions in the Orne and the Essonne."""
    catalogue = charger_catalogue(RECHERCHE / "fiches", RECHERCHE / "structures")
    assert not catalogue.erreurs
    return catalogue


@pytest.fixture
def docs(catalogue_recherche):
    return documents(catalogue_recherche)


def _meilisearch(nom_index: str):
    from catalogue.recherche.moteur_meilisearch import MoteurMeilisearch

    return MoteurMeilisearch(
        os.environ["MEILI_URL"], os.environ.get("MEILI_API_KEY"), nom_index
    )


@pytest.fixture(
    params=["embarque", pytest.param("meilisearch", marks=pytest.mark.meilisearch)]
)
def fabrique(request, tmp_path):
    """Opens an engine on one shared index; call it twice for two instances."""
    if request.param == "embarque":
        yield lambda: MoteurTantivy(tmp_path / "recherche")
        return
    if not os.environ.get("MEILI_URL"):
        pytest.skip("MEILI_URL n'est pas défini : pas de serveur Meilisearch à tester")
    nom_index = f"test-{uuid.uuid4().hex[:8]}"
    yield lambda: _meilisearch(nom_index)
    _meilisearch(nom_index).detruire()


@pytest.fixture
def moteur(fabrique, docs):
    """An engine (each backend in turn) holding the small catalogue."""
    moteur = fabrique()
    moteur.reconstruire(docs)
    return moteur


@pytest.fixture
def creer_app_recherche(creer_app):
    """Build an app on the small search catalogue (config mapping on top)."""

    def fabrique(config: dict | None = None, **autres):
        return creer_app(
            {
                "FICHES_DIR": str(RECHERCHE / "fiches"),
                "STRUCTURES_DIR": str(RECHERCHE / "structures"),
                **(config or {}),
                **autres,
            }
        )

    return fabrique


@pytest.fixture
def app_recherche(creer_app_recherche):
    return creer_app_recherche()


@pytest.fixture
def client_recherche(app_recherche):
    return app_recherche.test_client()


@pytest.fixture
def runner_recherche(app_recherche):
    return app_recherche.test_cli_runner()


@pytest.fixture
def delais(monkeypatch):
    """The timeout of every HTTP request made during the test, in order."""
    vus = []
    envoyer = requests.Session.request

    def noter(session, method, url, **kwargs):
        vus.append(kwargs.get("timeout"))
        return envoyer(session, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", noter)
    return vus
