"""A Meilisearch that accepts connections and never answers costs nothing twice.

The server below listens, accepts and stays silent, as a hung process does.
Every request to it waits at most the short timeout, the circuit breaker
stops the calls after a few failures, searches answer from the embedded
index with the notice, each page in one round trip, and the outage is
logged once. How long it all takes is printed by bench/meilisearch_muet.py.
"""

import logging
import socket
import time
from dataclasses import dataclass, field

import pytest

from catalogue.recherche import Requete, rechercher_avec_facettes_ouvertes
from catalogue.recherche.moteur_meilisearch import MoteurMeilisearch
from catalogue.recherche.moteur_secours import Disjoncteur, MoteurAvecSecours
from catalogue.recherche.moteur_tantivy import MoteurTantivy
from tests.catalogue.faux_meilisearch import FauxMeilisearch
from web.affichage import AVERTISSEMENT_SECOURS

# The six checkbox groups of the search page, one value ticked in each.
SIX_GROUPES = (
    "/?q=velo&categories_thematiques=mobilite&publics=demandeurs-emploi"
    "&type=aide-materielle&frais=gratuit&modes_accueil=en-presentiel"
    "&mobilisable_par=professionnels"
)
DELAI_S = 0.2
PANNES = 3


@dataclass
class ServeurMuet:
    url: str
    ecoute: socket.socket
    ouvertes: list = field(default_factory=list)

    def connexions(self) -> int:
        """Connections received so far. The kernel completes each handshake
        and queues it, accepted or not, so they are simply taken from the
        queue here: no thread accepts them (one holding a lock around a
        blocking accept once starved this check for 7 minutes in CI)."""
        try:
            while True:
                self.ouvertes.append(self.ecoute.accept()[0])
        except BlockingIOError:
            pass
        return len(self.ouvertes)


@pytest.fixture
def serveur_muet():
    """A socket that accepts connections and never sends a byte."""
    ecoute = socket.create_server(("127.0.0.1", 0), backlog=64)
    ecoute.setblocking(False)
    serveur = ServeurMuet(f"http://127.0.0.1:{ecoute.getsockname()[1]}", ecoute)
    yield serveur
    serveur.connexions()
    for connexion in serveur.ouvertes:
        connexion.close()
    ecoute.close()


@pytest.fixture
def app_muette(creer_app_recherche, serveur_muet, delais):
    return creer_app_recherche(
        SEARCH_BACKEND="meilisearch",
        MEILI_URL=serveur_muet.url,
        MEILI_TIMEOUT=DELAI_S,
        MEILI_PANNES_AVANT_SECOURS=PANNES,
        # Long enough that the breaker cannot close again during the test,
        # however slow the machine (the pause itself is tested with a clock
        # of its own).
        MEILI_PAUSE_SECOURS=3600,
    )


def test_l_api_et_la_page_a_six_filtres_repondent_sans_redemander_a_meilisearch(
    app_muette, serveur_muet, delais, caplog
):
    caplog.set_level(logging.WARNING)
    client = app_muette.test_client()
    for _ in range(2):
        reponse = client.get("/api/v1/fiches?q=velo")
        assert reponse.status_code == 200
        corps = reponse.get_json()
        assert [r["id"] for r in corps["resultats"]] == ["mob-velos-alencon"]
        assert corps["avertissement"] == AVERTISSEMENT_SECOURS

        page = client.get(SIX_GROUPES)
        assert page.status_code == 200
        assert AVERTISSEMENT_SECOURS in page.text
        assert 'href="/fiches/mob-velos-alencon"' in page.text
    # Boot and searches together knocked at most PANNES times: then the
    # breaker answers from the embedded index without asking.
    assert 1 <= serveur_muet.connexions() <= PANNES
    disjoncteur = app_muette.extensions["recherche"].disjoncteur
    # Said in full if it ever fails.
    assert disjoncteur.ouvert(), (
        f"disjoncteur fermé : {disjoncteur.echecs} échec(s) comptés, ouvert "
        f"jusqu'à {disjoncteur.ouvert_jusqu_a - time.monotonic():+.1f} s, "
        f"appels {delais}, connexions {serveur_muet.connexions()}"
    )
    client.get("/api/v1/fiches?q=velo")
    client.get(SIX_GROUPES)
    assert serveur_muet.connexions() == len(delais)
    assert len(delais) <= PANNES
    # Each of them, the writes at boot included, waited the short timeout.
    assert delais and set(delais) == {(DELAI_S, DELAI_S)}
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
        MoteurTantivy(tmp_path / "recherche"),
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
