"""Remaining places live in the database: the search index only mirrors them."""

import shutil
import threading

import pytest
from sqlmodel import Session, select

from catalogue import places
from catalogue.recherche import RechercheIndisponible, Requete
from catalogue.recherche import moteur_tantivy as moteur_embarque
from tests.catalogue.conftest import RECHERCHE


def _fixer(app, fiche_id, nombre, auteur="prestataire@exemple.fr"):
    with Session(app.extensions["db"]) as db:
        places.fixer(db, fiche_id, nombre, auteur)
        db.commit()
    places.publier(app.extensions["db"], app.extensions["recherche"])


def test_les_places_survivent_a_la_perte_de_l_index(
    creer_app_recherche, tmp_path, monkeypatch
):
    app = creer_app_recherche()
    _fixer(app, "fle-evry", 3)
    _fixer(app, "mob-velos-alencon", 0)

    # The index format changes: the next start builds a new index from the
    # YAML and the database, and drops the old one.
    ancien = app.extensions["recherche"].dossier
    monkeypatch.setattr(
        moteur_embarque, "VERSION_SCHEMA", moteur_embarque.VERSION_SCHEMA + 1
    )
    autre = creer_app_recherche(DATABASE_URL=app.config["DATABASE_URL"])
    assert autre.extensions["recherche"].dossier != ancien
    assert not ancien.exists()

    moteur = autre.extensions["recherche"]
    libres = moteur.rechercher(Requete(places_disponibles=True))
    assert "fle-evry" in [r.id for r in libres.resultats]
    assert "mob-velos-alencon" not in [r.id for r in libres.resultats]
    page = autre.test_client().get("/fiches/fle-evry").get_data(as_text=True)
    assert "3 places libres" in page
    page = autre.test_client().get("/fiches/mob-velos-alencon").get_data(as_text=True)
    assert "Complet pour le moment" in page


def test_chaque_changement_est_date_signe_et_journalise(app_recherche):
    _fixer(app_recherche, "fle-evry", 5, "a@exemple.fr")
    _fixer(app_recherche, "fle-evry", 4, "b@exemple.fr")
    with Session(app_recherche.extensions["db"]) as db:
        ligne = db.get(places.Places, ("fle-evry", places.ACTION))
        journal = db.exec(
            select(places.JournalPlaces)
            .where(places.JournalPlaces.fiche_id == "fle-evry")
            .order_by(places.JournalPlaces.id)
        ).all()
    assert (ligne.places_restantes, ligne.maj_par) == (4, "b@exemple.fr")
    assert [(j.avant, j.apres, j.maj_par) for j in journal] == [
        (None, 6, "fiche YAML"),  # the figure written in the fiche, imported
        (6, 5, "a@exemple.fr"),
        (5, 4, "b@exemple.fr"),
    ]


def test_une_panne_de_l_index_laisse_le_changement_dans_la_file(
    app_recherche, monkeypatch
):
    moteur = app_recherche.extensions["recherche"]
    with Session(app_recherche.extensions["db"]) as db:
        places.fixer(db, "fle-evry", 2, "prestataire")
        db.commit()

    def en_panne(*_args):
        raise RechercheIndisponible("index hors service")

    monkeypatch.setattr(moteur, "maj_places", en_panne)
    with pytest.raises(RechercheIndisponible):
        places.publier(app_recherche.extensions["db"], moteur)
    monkeypatch.undo()
    with Session(app_recherche.extensions["db"]) as db:
        assert places.en_attente(db) == 1  # kept for the next drain
    places.publier(app_recherche.extensions["db"], moteur)
    assert moteur.places(["fle-evry"])["fle-evry"]["places_restantes"] == 2
    with Session(app_recherche.extensions["db"]) as db:
        assert places.en_attente(db) == 0


def test_la_derniere_place_ne_se_prend_qu_une_fois(app_recherche):
    """20 threads want the last 3 places: 3 get one, 17 are told it's full."""
    _fixer(app_recherche, "fle-evry", 3)
    engine = app_recherche.extensions["db"]
    issues, verrou = [], threading.Lock()
    depart = threading.Barrier(20)

    def demander(n: int) -> None:
        depart.wait()
        with Session(engine) as db:
            issue = places.prendre(db, "fle-evry", f"personne-{n}")
            db.commit()
        with verrou:
            issues.append(issue)

    fils = [threading.Thread(target=demander, args=(n,)) for n in range(20)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    assert issues.count(places.Prise.PRISE) == 3
    assert issues.count(places.Prise.COMPLET) == 17
    with Session(engine) as db:
        assert db.get(places.Places, ("fle-evry", "")).places_restantes == 0


def test_rendre_une_place_ne_depasse_pas_la_capacite(app_recherche):
    _fixer(app_recherche, "fle-evry", 1)
    with Session(app_recherche.extensions["db"]) as db:
        assert places.rendre(db, "fle-evry", "prestataire", maximum=2)
        assert not places.rendre(db, "fle-evry", "prestataire", maximum=2)
        assert not places.rendre(db, "fle-alencon", "prestataire")  # untracked
        db.commit()
        assert db.get(places.Places, ("fle-evry", "")).places_restantes == 2


def test_les_places_du_yaml_n_ecrasent_pas_un_chiffre_plus_recent(
    app_recherche, creer_app_recherche
):
    # mob-velos-alencon says 4 places on 2025-01-10 in its YAML.
    _fixer(app_recherche, "mob-velos-alencon", 1)
    redemarree = creer_app_recherche()
    with Session(redemarree.extensions["db"]) as db:
        ligne = db.get(places.Places, ("mob-velos-alencon", ""))
    assert ligne.places_restantes == 1


def test_une_fiche_ajoutee_avec_des_places_est_trouvee_au_redemarrage(
    tmp_path, creer_app_recherche
):
    fiches = tmp_path / "fiches"
    shutil.copytree(RECHERCHE / "fiches", fiches)
    creer_app_recherche(FICHES_DIR=str(fiches))  # the index now holds the others
    nouvelle = (fiches / "fle-evry.yaml").read_text()
    nouvelle = nouvelle.replace("id: fle-evry", "id: fle-massy").replace(
        "places_restantes: 6", "places_restantes: 2"
    )
    (fiches / "fle-massy.yaml").write_text(nouvelle)

    redemarree = creer_app_recherche(FICHES_DIR=str(fiches))  # boots, no KeyError
    moteur = redemarree.extensions["recherche"]
    trouvees = moteur.rechercher(Requete(places_disponibles=True, par_page=50))
    assert "fle-massy" in [r.id for r in trouvees.resultats]
    assert moteur.places(["fle-massy"])["fle-massy"]["places_restantes"] == 2


def test_une_place_changee_sur_une_fiche_hors_index_ne_bloque_pas_la_file(
    app_recherche,
):
    with Session(app_recherche.extensions["db"]) as db:
        places.fixer(db, "fiche-retiree-depuis", 3, "prestataire")
        places.fixer(db, "fle-evry", 1, "prestataire")
        db.commit()
    places.publier(
        app_recherche.extensions["db"], app_recherche.extensions["recherche"]
    )
    moteur = app_recherche.extensions["recherche"]
    assert moteur.places(["fle-evry"])["fle-evry"]["places_restantes"] == 1
    with Session(app_recherche.extensions["db"]) as db:
        assert places.en_attente(db) == 0


def test_l_api_d_une_fiche_donne_les_places_de_la_base(app_recherche):
    _fixer(app_recherche, "fle-alencon", 3)  # no places in its YAML
    corps = app_recherche.test_client().get("/api/v1/fiches/fle-alencon").get_json()
    assert corps["places_restantes"] == 3
