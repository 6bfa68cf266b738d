"""The embedded engine: one file shared by every worker process."""

import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from catalogue.recherche import Requete
from catalogue.recherche.langue import surligner
from catalogue.recherche.moteur_sqlite import MoteurSQLite, proches, typos_permises
from tests.catalogue.conftest import RECHERCHE

ROOT = Path(__file__).resolve().parents[2]


def dans_un_autre_processus(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


@pytest.fixture
def embarque(tmp_path, docs):
    moteur = MoteurSQLite(tmp_path / "recherche.sqlite3")
    moteur.indexer(docs)
    return moteur


def test_une_place_prise_dans_un_autre_processus_se_voit_aussitot(embarque):
    assert not embarque.rechercher(Requete(texte="velo")).resultats[0].complet
    dans_un_autre_processus(
        "from datetime import datetime\n"
        "from catalogue.recherche.moteur_sqlite import MoteurSQLite\n"
        f"MoteurSQLite({str(embarque.path)!r}).maj_places("
        "'mob-velos-alencon', 0, datetime(2030, 1, 1))"
    )
    (velos,) = embarque.rechercher(Requete(texte="velo")).resultats
    assert velos.complet
    assert velos.places_maj_le == "2030-01-01T00:00:00"


def test_une_fiche_retiree_par_un_autre_processus_disparait(embarque):
    assert embarque.rechercher(Requete(texte="fle")).total == 2
    dans_un_autre_processus(
        "from catalogue.recherche.moteur_sqlite import MoteurSQLite\n"
        f"MoteurSQLite({str(embarque.path)!r}).supprimer(['fle-evry'])"
    )
    assert [r.id for r in embarque.rechercher(Requete(texte="fle")).resultats] == [
        "fle-alencon"
    ]


def test_le_fichier_est_en_mode_wal(embarque):
    with sqlite3.connect(embarque.path) as cnx:
        assert cnx.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_une_place_sur_une_fiche_inconnue_est_refusee(embarque):
    with pytest.raises(KeyError):
        embarque.maj_places("inconnue", 1, datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("mot", "typos"),
    [("velo", 0), ("garde", 1), ("mobilite", 1), ("formation", 2), ("61000", 0)],
)
def test_fautes_permises_selon_la_longueur_comme_meilisearch(mot, typos):
    assert typos_permises(mot) == typos


def test_une_faute_sur_la_premiere_lettre_compte_double():
    assert proches("mobilte", ["mobilite", "nobilite"]) == ["mobilite"]
    assert proches("nobilite", ["mobilite"]) == []
    assert proches("formaiton", ["formation"]) == ["formation"]  # 9 letters: 2


def test_le_surlignage_echappe_le_html():
    assert surligner("a < b \x02c\x03 & d") == "a &lt; b <mark>c</mark> &amp; d"


def test_la_synchronisation_suit_les_modifications_du_yaml(
    tmp_path, creer_app_recherche
):
    fiches = tmp_path / "fiches"
    shutil.copytree(RECHERCHE / "fiches", fiches)
    creer_app_recherche(FICHES_DIR=str(fiches))  # indexes the fiches as they are
    (fiches / "fle-evry.yaml").unlink()
    garage = fiches / "mob-garage-evry.yaml"
    garage.write_text(
        garage.read_text().replace("Garage solidaire\n", "Garage pour tous\n")
    )
    copie = (
        (fiches / "fle-alencon.yaml")
        .read_text()
        .replace("id: fle-alencon", "id: fle-argentan")
    )
    (fiches / "fle-argentan.yaml").write_text(copie)

    app = creer_app_recherche(FICHES_DIR=str(fiches))
    sortie = app.test_cli_runner().invoke(args=["index", "synchroniser"]).output
    assert "1 ajoutée(s), 1 modifiée(s), 1 retirée(s)" in sortie
    moteur = app.extensions["recherche"]
    assert moteur.rechercher(Requete(texte="garage pour tous")).total == 1
    assert moteur.rechercher(Requete(texte="fle")).total == 2  # Alençon, Argentan


def test_reconstruire_affiche_sa_progression(runner_recherche):
    resultat = runner_recherche.invoke(args=["index", "reconstruire"])
    assert resultat.exit_code == 0, resultat.output
    assert "Indexation des fiches" in resultat.output
    assert "Index reconstruit : 9 fiches." in resultat.output


def test_le_classement_moins_de_fautes_puis_le_meilleur_champ(tmp_path, docs):
    def fiche(fiche_id: str, **textes) -> dict:
        vide = {"nom": "", "resume": "", "description": "", "structure_nom": ""}
        listes = {"thematiques_libelles": [], "publics_libelles": [], "communes": []}
        return docs[0] | vide | listes | {"id": fiche_id, **textes}

    moteur = MoteurSQLite(tmp_path / "recherche.sqlite3")
    moteur.indexer(
        [
            fiche("faute-dans-le-nom", nom="Garage et mobilte"),
            fiche("description", nom="Garage", description="Pour la mobilité"),
            fiche("resume", nom="Garage", resume="Pour la mobilité"),
            fiche("nom", nom="Garage mobilité"),
        ]
    )
    resultats = moteur.rechercher(Requete(texte="mobilite garag")).resultats
    assert [r.id for r in resultats] == [
        "nom",
        "resume",
        "description",
        "faute-dans-le-nom",
    ]


def test_une_fiche_modifiee_ne_se_trouve_plus_par_ses_anciens_mots(embarque, docs):
    def trouvees(texte: str) -> list[str]:
        return [r.id for r in embarque.rechercher(Requete(texte=texte)).resultats]

    assert trouvees("voiture") == ["mob-garage-evry"]
    (garage,) = (d for d in docs if d["id"] == "mob-garage-evry")
    embarque.indexer([garage | {"resume": "Faire réparer sa camionnette."}])
    assert trouvees("voiture") == []
    assert trouvees("camionnette") == ["mob-garage-evry"]
