"""A Meilisearch that accepts connections and never answers costs milliseconds.

The server below listens, accepts and stays silent, as a hung process does.
Searches must still answer quickly from the embedded index, with the notice,
each page in one round trip, and the outage logged once.
"""

import logging
import socket
import threading
import time

import pytest

from catalogue.recherche import Requete, rechercher_avec_facettes_ouvertes
from catalogue.recherche.moteur_meilisearch import MoteurMeilisearch
from catalogue.recherche.moteur_secours import Disjoncteur, MoteurAvecSecours
from catalogue.recherche.moteur_sqlite import MoteurSQLite
from tests.catalogue.faux_meilisearch import FauxMeilisearch
from web.affichage import AVERTISSEMENT_SECOURS

# The six checkbox groups of the search page, one value ticked in each.
SIX_GROUPES = (
    "/?q=velo&categories_thematiques=mobilite&publics=demandeurs-emploi"
    "&type=aide-materielle&frais=gratuit&modes_accueil=en-presentiel"
    "&mobilisable_par=professionnels"
)


@pytest.fixture
def serveur_muet():
    """A socket that accepts connections and never sends a byte."""
    ecoute = socket.create_server(("127.0.0.1", 0))
    ouvertes, fini = [], threading.Event()

    def accepter():
        ecoute.settimeout(0.1)
        while not fini.is_set():
            try:
                ouvertes.append(ecoute.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    fil = threading.Thread(target=accepter, daemon=True)
    fil.start()
    yield f"http://127.0.0.1:{ecoute.getsockname()[1]}"
    fini.set()
    fil.join()
    for connexion in ouvertes:
        connexion.close()
    ecoute.close()


@pytest.fixture
def app_muette(creer_app_recherche, serveur_muet):
    return creer_app_recherche(
        SEARCH_BACKEND="meilisearch", MEILI_URL=serveur_muet, MEILI_TIMEOUT=0.2
    )


def _chronometrer(client, adresse):
    debut = time.perf_counter()
    reponse = client.get(adresse)
    return reponse, time.perf_counter() - debut


def test_l_api_et_la_page_a_six_filtres_repondent_en_moins_d_une_seconde(
    app_muette, caplog
):
    caplog.set_level(logging.WARNING)
    client = app_muette.test_client()
    for _ in range(2):
        reponse, duree = _chronometrer(client, "/api/v1/fiches?q=velo")
        assert reponse.status_code == 200
        corps = reponse.get_json()
        assert [r["id"] for r in corps["resultats"]] == ["mob-velos-alencon"]
        assert corps["avertissement"] == AVERTISSEMENT_SECOURS
        assert duree < 1, f"l'API a mis {duree:.2f} s"

        page, duree = _chronometrer(client, SIX_GROUPES)
        assert page.status_code == 200
        assert AVERTISSEMENT_SECOURS in page.text
        assert 'href="/fiches/mob-velos-alencon"' in page.text
        assert duree < 1, f"la page a mis {duree:.2f} s"
    # One line for the outage, not one per call, and no traceback.
    journal = caplog.get_records("setup") + caplog.get_records("call")
    pannes = [r for r in journal if "Meilisearch ne répond pas" in r.getMessage()]
    assert len(pannes) == 1
    assert not any(r.exc_info for r in journal)


def test_le_disjoncteur_s_ouvre_apres_n_pannes_puis_reessaie(tmp_path, docs):
    maintenant = [0.0]
    disjoncteur = Disjoncteur(pannes=2, pause_s=30, horloge=lambda: maintenant[0])
    appels = []
    moteur = MoteurAvecSecours(
        MoteurMeilisearch("http://127.0.0.1:9", None, "fiches", delai_s=0.2),
        MoteurSQLite(tmp_path / "recherche.sqlite3"),
        disjoncteur,
    )
    moteur.secours.indexer(docs)
    original = moteur.principal.rechercher

    def compter(requete):
        appels.append(requete)
        return original(requete)

    moteur.principal.rechercher = compter
    for _ in range(5):
        assert moteur.rechercher(Requete(texte="velo")).degrade
    assert len(appels) == 2  # then straight to the embedded index
    maintenant[0] = 31.0
    assert moteur.rechercher(Requete(texte="velo")).degrade
    assert len(appels) == 3  # one try after the pause


def test_une_page_a_filtres_coches_fait_un_seul_aller_retour(httpserver):
    faux = FauxMeilisearch()
    url = faux.installer(httpserver)
    moteur = MoteurMeilisearch(url, None, "fiches")
    requete = Requete(
        texte="velo",
        filtres={"publics": ("demandeurs-emploi",), "frais": ("gratuit",)},
    )
    faux.index["fiches"] = {}
    faux.reponse_recherche = {
        "hits": [{"id": "mob-velos-alencon"}],
        "totalHits": 1,
        "facetDistribution": {
            "publics": {"demandeurs-emploi": 3},
            "frais": {"gratuit": 2},
        },
    }
    resultats = rechercher_avec_facettes_ouvertes(moteur, requete)
    (corps,) = faux.envoyes("POST", "/multi-search")
    assert len(faux.requetes) == 1
    requetes = corps["queries"]
    assert len(requetes) == 3  # the page, then one count per ticked group
    assert ['publics = "demandeurs-emploi"'] not in requetes[1]["filter"]
    assert requetes[1]["facets"] == ["publics"]
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    assert resultats.facettes["publics"] == {"demandeurs-emploi": 3}
