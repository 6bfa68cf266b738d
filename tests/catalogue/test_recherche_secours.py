"""When Meilisearch is down or misconfigured, people still find actions."""

import logging
from datetime import datetime

import pytest

from catalogue.recherche import Requete
from catalogue.recherche.documents import synchroniser
from catalogue.recherche.moteur_meilisearch import MoteurMeilisearch
from catalogue.recherche.moteur_secours import MoteurAvecSecours
from catalogue.recherche.moteur_tantivy import MoteurTantivy
from tests.catalogue.faux_meilisearch import FauxMeilisearch
from web.affichage import AVERTISSEMENT_SECOURS


@pytest.fixture
def faux(httpserver):
    faux = FauxMeilisearch(reponse_recherche={"hits": [], "totalHits": 0})
    faux.url = faux.installer(httpserver)
    return faux


@pytest.fixture
def secours(faux, tmp_path, docs):
    moteur = MoteurAvecSecours(
        MoteurMeilisearch(faux.url, None, "fiches"),
        MoteurTantivy(tmp_path / "recherche"),
    )
    moteur.indexer(docs)
    return moteur


def test_meilisearch_en_marche_repond_sans_avertissement(faux, secours):
    resultats = secours.rechercher(Requete(texte="velo"))
    assert not resultats.degrade
    assert faux.envoyes("POST", "/multi-search")


def test_juste_apres_une_panne_les_ecritures_n_attendent_pas_plus_qu_une_recherche(
    faux, secours, delais
):
    secours.maj_places("mob-velos-alencon", 2, datetime(2030, 1, 1, 9, 0))
    assert set(delais) == {(0.5, 5.0)}  # Meilisearch answers: writes may take long
    faux.en_panne = True
    assert secours.rechercher(Requete(texte="velo")).degrade
    faux.en_panne = False
    delais.clear()
    secours.maj_places("mob-velos-alencon", 1, datetime(2030, 1, 1, 9, 5))
    assert set(delais) == {(0.5, 0.5)}  # it has just failed: a search's wait
    assert faux.index["fiches"]["mob-velos-alencon"]["places_restantes"] == 1
    delais.clear()
    secours.maj_places("mob-velos-alencon", 0, datetime(2030, 1, 1, 9, 10))
    assert set(delais) == {(0.5, 5.0)}  # it answered again: back to normal


def test_une_panne_pendant_le_choix_des_mots_a_ignorer_passe_a_l_embarque(
    faux, secours
):
    def rien_puis_panne(corps):
        faux.en_panne = True  # the round trip that counts each word fails
        return {"hits": [], "totalHits": 0}

    faux.chercher = rien_puis_panne
    resultats = secours.rechercher(Requete(texte="vélo astrophysique"))
    assert len(faux.envoyes("POST", "/multi-search")) == 2
    assert resultats.degrade
    assert resultats.mots_ignores == ("astrophysique",)
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    assert secours.disjoncteur.echecs == 1


def test_meilisearch_en_panne_l_index_embarque_repond_avec_un_avertissement(
    faux, secours, caplog
):
    faux.en_panne = True
    resultats = secours.rechercher(Requete(texte="velo"))
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    assert resultats.degrade
    assert "Recherche servie par l'index embarqué" in caplog.text


def test_une_place_prise_pendant_la_panne_n_est_pas_perdue(faux, secours, docs):
    faux.en_panne = True
    secours.maj_places("mob-velos-alencon", 0, datetime(2030, 1, 1, 9, 0))
    (velos,) = secours.rechercher(Requete(texte="velo")).resultats
    assert velos.complet

    faux.en_panne = False
    bilan = synchroniser(secours, docs)
    assert (bilan.ajoutees, bilan.modifiees, bilan.supprimees) == (0, 1, 0)
    assert faux.index["fiches"]["mob-velos-alencon"]["places_restantes"] == 0
    # Repaired: the next sync has nothing left to send.
    assert synchroniser(secours, docs) == type(bilan)(0, 0, 0)


def test_une_fiche_retiree_pendant_la_panne_est_retiree_ensuite(faux, secours, docs):
    faux.en_panne = True
    restantes = [d for d in docs if d["id"] != "fle-evry"]
    synchroniser(secours, restantes)
    faux.en_panne = False
    assert "fle-evry" in faux.index["fiches"]
    synchroniser(secours, restantes)
    assert "fle-evry" not in faux.index["fiches"]


@pytest.mark.parametrize("url", [None, "http://127.0.0.1:9"])
def test_l_api_repond_meme_si_meilisearch_est_absent(creer_app_recherche, url, caplog):
    caplog.set_level(logging.WARNING)
    app = creer_app_recherche(SEARCH_BACKEND="meilisearch", MEILI_URL=url)
    reponse = app.test_client().get("/api/v1/fiches?q=velo")
    assert reponse.status_code == 200
    corps = reponse.get_json()
    assert [r["id"] for r in corps["resultats"]] == ["mob-velos-alencon"]
    assert corps["avertissement"] == AVERTISSEMENT_SECOURS
    assert "Meilisearch" in caplog.text


@pytest.mark.parametrize("commande", ["reconstruire", "synchroniser"])
def test_une_commande_d_index_sans_meilisearch_echoue_en_le_disant(
    creer_app_recherche, commande
):
    # « Index reconstruit : 75 fiches », exit 0, while Meilisearch got
    # nothing: the Procfile's release step passed a deployment without search.
    app = creer_app_recherche(
        SEARCH_BACKEND="meilisearch", MEILI_URL="http://127.0.0.1:9"
    )
    resultat = app.test_cli_runner().invoke(args=["index", commande])
    assert resultat.exit_code == 1, resultat.output
    assert "Meilisearch n'a pas reçu" in resultat.output
    assert "seul l'index embarqué de secours est à jour" in resultat.output


def test_la_synchronisation_echoue_si_meilisearch_n_a_pas_pu_etre_lu(
    creer_app_recherche,
):
    # The embedded index was already up to date: compared with it, the sync
    # found nothing to send, said « Index synchronisé » and exited 0 while
    # Meilisearch was never reached (the release step passed).
    creer_app_recherche().test_cli_runner().invoke(args=["index", "reconstruire"])
    app = creer_app_recherche(
        SEARCH_BACKEND="meilisearch", MEILI_URL="http://127.0.0.1:9"
    )
    resultat = app.test_cli_runner().invoke(args=["index", "synchroniser"])
    assert resultat.exit_code == 1, resultat.output
    assert "Erreur : Meilisearch ne répond pas" in resultat.output
    assert "seul l'index embarqué de secours est à jour" in resultat.output
    assert "Vérifiez MEILI_URL" in resultat.output
    assert "Traceback" not in resultat.output


def test_sans_meilisearch_la_synchronisation_de_l_index_embarque_reussit(
    creer_app_recherche,
):
    runner = creer_app_recherche().test_cli_runner()
    runner.invoke(args=["index", "reconstruire"])
    resultat = runner.invoke(args=["index", "synchroniser"])
    assert resultat.exit_code == 0, resultat.output
    assert "Index synchronisé : 0 ajoutée(s)" in resultat.output
