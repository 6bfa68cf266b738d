"""The embedded engine: one tantivy index shared by every worker process."""

import logging
import random
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from catalogue.recherche import RechercheIndisponible, Requete, moteur_tantivy
from catalogue.recherche.documents import champs_places
from catalogue.recherche.langue import mots, surligner
from catalogue.recherche.moteur_tantivy import MoteurTantivy, proches, typos_permises
from catalogue.territoires import distance_km
from tests.catalogue.conftest import RECHERCHE

ROOT = Path(__file__).resolve().parents[2]


def dans_un_autre_processus(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


@pytest.fixture
def embarque(tmp_path, docs):
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer(docs)
    return moteur


def test_une_place_prise_dans_un_autre_processus_se_voit_aussitot(embarque):
    assert not embarque.rechercher(Requete(texte="velo")).resultats[0].complet
    dans_un_autre_processus(
        "from datetime import datetime\n"
        "from catalogue.recherche.moteur_tantivy import MoteurTantivy\n"
        f"MoteurTantivy({str(embarque.path)!r}).maj_places("
        "'mob-velos-alencon', 0, datetime(2030, 1, 1))"
    )
    (velos,) = embarque.rechercher(Requete(texte="velo")).resultats
    assert velos.complet
    assert velos.places_maj_le == "2030-01-01T00:00:00"


def test_une_fiche_retiree_par_un_autre_processus_disparait(embarque):
    assert embarque.rechercher(Requete(texte="fle")).total == 2
    dans_un_autre_processus(
        "from catalogue.recherche.moteur_tantivy import MoteurTantivy\n"
        f"MoteurTantivy({str(embarque.path)!r}).supprimer(['fle-evry'])"
    )
    assert [r.id for r in embarque.rechercher(Requete(texte="fle")).resultats] == [
        "fle-alencon"
    ]


def test_une_place_sur_une_fiche_inconnue_est_refusee(embarque):
    with pytest.raises(KeyError):
        embarque.maj_places("inconnue", 1, datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("mot", "typos"),
    [("velo", 0), ("garde", 1), ("mobilite", 1), ("formation", 2), ("61000", 0)],
)
def test_fautes_permises_selon_la_longueur_comme_meilisearch(mot, typos):
    assert typos_permises(mot) == typos


def test_pas_de_faute_sur_la_premiere_lettre():
    assert proches("mobilte", ["mobilite", "nobilite"]) == ["mobilite"]
    assert proches("nobilite", ["mobilite"]) == []
    assert proches("emploi", ["employe", "exploit", "emplois"]) == ["emplois"]
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

    # A worker that starts adds and updates; it never removes (another one may
    # run on another folder): removal is the release step's sync.
    app = creer_app_recherche(FICHES_DIR=str(fiches))
    moteur = app.extensions["recherche"]
    garage = moteur.rechercher(Requete(texte="garage pour tous")).resultats[0]
    assert garage.id == "mob-garage-evry"
    assert "fle-argentan" in [r.id for r in moteur.rechercher(Requete("fle")).resultats]
    assert "fle-evry" in moteur.empreintes()
    sortie = app.test_cli_runner().invoke(args=["index", "synchroniser"]).output
    assert "0 ajoutée(s), 0 modifiée(s), 1 retirée(s)" in sortie
    assert moteur.rechercher(Requete(texte="garage pour tous")).total == 1
    assert moteur.rechercher(Requete(texte="fle")).total == 2  # Alençon, Argentan


def test_reconstruire_affiche_sa_progression(runner_recherche):
    resultat = runner_recherche.invoke(args=["index", "reconstruire"])
    assert resultat.exit_code == 0, resultat.output
    assert "Indexation des fiches" in resultat.output
    assert "Index reconstruit : 9 fiches." in resultat.output


def test_le_classement_le_mot_juste_avant_la_faute_et_le_nom_avant_le_resume(
    tmp_path, docs
):
    def fiche(fiche_id: str, **textes) -> dict:
        vide = {"nom": "", "resume": "", "description": "", "structure_nom": ""}
        listes = {"thematiques_libelles": [], "publics_libelles": [], "communes": []}
        return docs[0] | vide | listes | {"id": fiche_id, **textes}

    moteur = MoteurTantivy(tmp_path / "recherche")
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


def test_deux_processus_ecrivent_tour_a_tour_sans_perdre_de_place(embarque):
    """tantivy allows one writer at a time: the other waits for the lock."""
    code = (
        "from datetime import datetime\n"
        "from catalogue.recherche.moteur_tantivy import MoteurTantivy\n"
        f"m = MoteurTantivy({str(embarque.path)!r})\n"
        "for n in range(5):\n"
        "    m.maj_places('fle-evry', n, datetime(2030, 1, 1, 9, n))\n"
    )
    autre = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    for n in range(5):
        embarque.maj_places("mob-velos-alencon", n, datetime(2030, 1, 1, 9, n))
    assert autre.wait(timeout=60) == 0
    places = embarque.places(["fle-evry", "mob-velos-alencon"])
    assert places["fle-evry"]["places_restantes"] == 4
    assert places["mob-velos-alencon"]["places_restantes"] == 4


def test_sans_le_verrou_d_ecriture_la_modification_attend_dans_la_file(
    embarque, monkeypatch
):
    monkeypatch.setattr(moteur_tantivy, "ATTENTE_VERROU_S", 0.1)
    ecrivain = embarque.index.writer(15_000_000, 1)  # another worker writes
    try:
        with pytest.raises(RechercheIndisponible):
            embarque.maj_places("fle-evry", 1, datetime(2030, 1, 1))
    finally:
        ecrivain.rollback()
        del ecrivain
    assert embarque.rechercher(Requete(texte="fle")).total == 2


# --- Index faults: the app boots, search answers, the problem is logged ----------


def _index_de(app):
    return app.extensions["recherche"]


def test_index_absent_l_app_demarre_et_le_reconstruit(creer_app_recherche, tmp_path):
    app = creer_app_recherche(SEARCH_PATH=str(tmp_path / "nulle-part" / "index"))
    reponse = app.test_client().get("/?q=velo")
    assert reponse.status_code == 200
    assert "/fiches/mob-velos-alencon" in reponse.get_data(as_text=True)


def test_index_abime_l_app_demarre_et_le_reconstruit(
    creer_app_recherche, tmp_path, caplog
):
    app = creer_app_recherche()
    dossier = _index_de(app).dossier
    (dossier / "meta.json").write_text("{ceci n'est plus un index")
    caplog.set_level(logging.ERROR)

    autre = creer_app_recherche()
    assert "Index de recherche abîmé" in caplog.text
    client = autre.test_client()
    assert "/fiches/mob-velos-alencon" in client.get("/?q=velo").get_data(as_text=True)
    assert client.get("/fiches/mob-velos-alencon").status_code == 200


def test_un_index_abime_souvent_ne_garde_que_la_derniere_copie(tmp_path, docs):
    chemin = tmp_path / "recherche"
    for _ in range(3):
        MoteurTantivy(chemin).indexer(docs)
        (chemin / f"v{moteur_tantivy.VERSION_SCHEMA}" / "meta.json").write_text("{")
    moteur = MoteurTantivy(chemin)
    assert len(list(chemin.glob("abime-*"))) == 1
    assert moteur.rechercher(Requete()).total == 0  # rebuilt empty, then filled


def test_un_segment_coupe_court_est_abime_et_reconstruit(tmp_path, docs, caplog):
    # A disk full during a write leaves a term file of a few bytes: tantivy
    # panics on opening it (a BaseException), the engine must still start.
    chemin = tmp_path / "recherche"
    MoteurTantivy(chemin).indexer(docs)
    dossier = chemin / f"v{moteur_tantivy.VERSION_SCHEMA}"
    for fichier in dossier.glob("*.term"):
        with open(fichier, "r+b") as f:
            f.truncate(5)
    caplog.set_level(logging.ERROR)
    moteur = MoteurTantivy(chemin)
    assert "Index de recherche abîmé" in caplog.text
    assert len(list(chemin.glob("abime-*"))) == 1
    moteur.indexer(docs)
    assert moteur.rechercher(Requete(texte="velo")).total


def test_mise_a_jour_en_cours_un_ancien_index_part_un_index_plus_recent_reste(
    tmp_path, docs
):
    # L'exploitant passe à la version suivante du schéma ; une tâche de cette
    # version-ci démarre pendant la bascule : elle retire les index plus
    # anciens, jamais celui que les nouveaux processus servent déjà.
    chemin = tmp_path / "recherche"
    plus_ancien = chemin / "v1"
    plus_recent = chemin / f"v{moteur_tantivy.VERSION_SCHEMA + 1}"
    for dossier in (plus_ancien, plus_recent):
        dossier.mkdir(parents=True)
        (dossier / "meta.json").write_text("{}")

    moteur = MoteurTantivy(chemin)
    moteur.indexer(docs)

    assert not plus_ancien.exists()
    assert (plus_recent / "meta.json").read_text() == "{}"
    assert moteur.rechercher(Requete(texte="velo")).total


def test_index_abime_pendant_le_service_la_fiche_s_affiche_et_la_recherche_previent(
    app_recherche, client_recherche, caplog
):
    # Damaged by replacing its list of segments: rewriting a segment in place
    # under the memory map would kill the process (SIGBUS), whatever the code.
    (_index_de(app_recherche).dossier / "meta.json").write_text("{abîmé")
    caplog.set_level(logging.WARNING)
    page = client_recherche.get("/?q=velo")
    assert page.status_code == 503
    assert "La recherche ne répond pas pour le moment" in page.get_data(as_text=True)
    assert "Recherche indisponible" in caplog.text
    assert client_recherche.get("/fiches/mob-velos-alencon").status_code == 200
    # Then set aside and refilled, as an index deleted is: every search said
    # « indisponible » until an operator ran `make index`.
    assert "Index de recherche abîmé pendant le service" in caplog.text
    assert len(list(_index_de(app_recherche).path.glob("abime-*"))) == 1
    fin = time.monotonic() + 60
    while "/fiches/mob-velos-alencon" not in page.get_data(as_text=True) and (
        time.monotonic() < fin
    ):
        page = client_recherche.get("/?q=velo")
        time.sleep(0.05)
    assert "/fiches/mob-velos-alencon" in page.get_data(as_text=True)


def test_une_recherche_pendant_une_ecriture_du_processus_ne_l_attend_pas(
    tmp_path, docs
):
    # The repair of a damaged index takes the write lock: a search arriving
    # while this process rebuilds (25 s at 100 000 fiches) waited behind it.
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer(docs)
    moteur.source = lambda: docs
    (moteur.dossier / "meta.json").write_text("{abîmé")
    reponses = []

    def chercher():
        try:
            moteur.rechercher(Requete(texte="velo"))
        except RechercheIndisponible as e:
            reponses.append(e)

    with moteur._verrou:  # a rebuild of this process, writing
        fil = threading.Thread(target=chercher)
        fil.start()
        fil.join(30)  # a guard against a hang, not a speed check
        assert not fil.is_alive()
    assert len(reponses) == 1  # « indisponible », at once
    assert list(moteur.path.glob("abime-*")) == []  # repaired later, not now


def test_index_efface_pendant_le_service_se_refait_seul(
    app_recherche, client_recherche, caplog
):
    # « rm -rf instance/recherche-index » while serving: every search said
    # « indisponible » until a restart. Now the first search finding it gone
    # has it refilled from the catalogue, in the background, and says so.
    caplog.set_level(logging.WARNING)
    shutil.rmtree(_index_de(app_recherche).path)
    page = client_recherche.get("/?q=velo").get_data(as_text=True)
    assert "La recherche ne répond pas pour le moment" in page
    assert "Essayez avec moins de mots" not in page  # not « nothing found »
    assert "Index de recherche effacé" in caplog.text
    # Waits on what the person sees, at most a minute: the refill's end.
    fin = time.monotonic() + 60
    while "/fiches/mob-velos-alencon" not in page and time.monotonic() < fin:
        page = client_recherche.get("/?q=velo").get_data(as_text=True)
        time.sleep(0.05)
    assert "/fiches/mob-velos-alencon" in page
    assert "Index de recherche refait" in caplog.text


def test_index_en_lecture_seule_l_app_demarre_et_cherche_en_memoire(
    creer_app_recherche, tmp_path, caplog, monkeypatch
):
    protege = tmp_path / "disque-en-lecture-seule"
    creer_dossier = Path.mkdir

    def mkdir(chemin, *args, **kwargs):
        if chemin.is_relative_to(protege):
            raise OSError(30, "Read-only file system", str(chemin))
        return creer_dossier(chemin, *args, **kwargs)

    caplog.set_level(logging.ERROR)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    app = creer_app_recherche(SEARCH_PATH=str(protege / "index"))
    monkeypatch.undo()
    assert "Index de recherche inutilisable" in caplog.text
    assert _index_de(app).en_memoire
    client = app.test_client()
    assert "/fiches/mob-velos-alencon" in client.get("/?q=velo").get_data(as_text=True)
    assert client.get("/fiches/mob-velos-alencon").status_code == 200
    # A rebuild there is lost with the command: said, and exit code 1 (the
    # Procfile's release step used to pass « Index reconstruit »).
    resultat = app.test_cli_runner().invoke(args=["index", "reconstruire"])
    assert resultat.exit_code == 1
    assert "l'index n'a pas pu être écrit dans" in resultat.output


# What tantivy says when the disk is full: the writer's threads die, and the
# writer then only says that it was killed.
ECRIVAIN_TUE = (
    "An error occurred in a thread: 'An index writer was killed.. A worker "
    "thread encountered an error (io::Error most likely) or panicked.'"
)


def _disque_plein(monkeypatch):
    libre = shutil.disk_usage(Path.cwd())
    monkeypatch.setattr(
        moteur_tantivy.shutil, "disk_usage", lambda chemin: libre._replace(free=0)
    )


def test_disque_plein_la_reconstruction_echoue_en_une_ligne(
    creer_app_recherche, monkeypatch
):
    # Used to end in a traceback (ValueError: An index writer was killed…).
    def ecrivain_tue(moteur, doc):
        raise ValueError(ECRIVAIN_TUE)

    _disque_plein(monkeypatch)
    monkeypatch.setattr(MoteurTantivy, "_document", ecrivain_tue)
    runner = creer_app_recherche().test_cli_runner()
    for commande, fait in (
        ("reconstruire", "reconstruit"),
        ("synchroniser", "synchronisé"),
    ):
        resultat = runner.invoke(args=["index", commande])
        assert resultat.exit_code == 1, resultat.output
        assert resultat.output.splitlines()[-1] == (
            f"Erreur : index non {fait} : l'index embarqué n'a pas pu être écrit "
            f"dans {_index_de(runner.app).path} (plus de place sur le disque). "
            "Libérez de la place ou réglez SEARCH_PATH, puis relancez la commande."
        )
        assert "Traceback" not in resultat.output
        assert "Index reconstruit" not in resultat.output
        assert "Index synchronisé" not in resultat.output


def test_disque_plein_un_dossier_vide_n_est_pas_pris_pour_un_index_abime(
    creer_app_recherche, tmp_path, monkeypatch
):
    # Each run set an « abime-… » copy aside and printed « Index reconstruit »
    # before saying that it was lost with the command.
    ouvrir = moteur_tantivy.tantivy.Index

    def index(schema, path=None, **kwargs):
        if path is not None:
            raise ValueError(
                "An IO error occurred: 'No space left on device (os error 28) "
                f'at path "{path}/.tmpznGqYu"\''
            )
        return ouvrir(schema, **kwargs)

    monkeypatch.setattr(moteur_tantivy.tantivy, "Index", index)
    app = creer_app_recherche(SEARCH_PATH=str(tmp_path / "plein"))
    resultat = app.test_cli_runner().invoke(args=["index", "reconstruire"])
    assert resultat.exit_code == 1
    assert "Index reconstruit" not in resultat.output
    assert "(plus de place sur le disque) : il était en mémoire" in resultat.output
    assert not list((tmp_path / "plein").glob("abime-*"))


@pytest.mark.parametrize("dossier_lisible", [False, True])
def test_un_index_d_un_autre_proprietaire_n_est_pas_pris_pour_abime(
    tmp_path, docs, caplog, monkeypatch, dossier_lisible
):
    # Deployed by another user (root) and served as nobody: tantivy cannot
    # open it, its folder or only its files. The index is not damaged: it
    # stays, the search goes to memory.
    chemin = tmp_path / "recherche"
    MoteurTantivy(chemin).indexer(docs)
    dossier = chemin / f"v{moteur_tantivy.VERSION_SCHEMA}"
    ouvrir = moteur_tantivy.tantivy.Index

    def index(schema, path=None, **kwargs):
        if path is not None:
            raise ValueError(f"Failed to open file for read: Permission denied {path}")
        return ouvrir(schema, **kwargs)

    monkeypatch.setattr(moteur_tantivy.tantivy, "Index", index)
    monkeypatch.setattr(
        moteur_tantivy.os,
        "access",
        lambda chemin, mode: dossier_lisible or chemin != dossier,
    )
    caplog.set_level(logging.ERROR)
    moteur = MoteurTantivy(chemin)
    assert moteur.en_memoire
    assert "droits insuffisants" in caplog.text
    assert "abîmé" not in caplog.text
    assert dossier.exists() and not list(chemin.glob("abime-*"))


def test_une_fiche_modifiee_ne_se_trouve_plus_par_ses_anciens_mots(embarque, docs):
    def trouvees(texte: str) -> list[str]:
        return [r.id for r in embarque.rechercher(Requete(texte=texte)).resultats]

    assert trouvees("petit prix") == ["mob-garage-evry"]
    (garage,) = (d for d in docs if d["id"] == "mob-garage-evry")
    embarque.indexer([garage | {"resume": "Faire réparer sa camionnette."}])
    assert "mob-garage-evry" not in trouvees("petit prix")
    assert trouvees("camionnette") == ["mob-garage-evry"]


@pytest.fixture(scope="module")
def grand_catalogue(tmp_path_factory):
    """1 500 actions around Évry, some with two lieux, some at a distance:
    enough for the engine to narrow its box instead of measuring all."""
    from catalogue.chargement import charger_catalogue
    from catalogue.recherche.documents import documents

    modele = documents(
        charger_catalogue(RECHERCHE / "fiches", RECHERCHE / "structures")
    )[0]
    hasard = random.Random(3)
    docs = []
    for i in range(1500):
        lieux = [
            {
                "lat": 48.63 + hasard.uniform(-1, 1),
                "lng": 2.44 + hasard.uniform(-1.5, 1.5),
            }
            for _ in range(hasard.choice([0, 1, 1, 1, 2]))
        ]
        docs.append(
            modele
            | {
                "id": f"action-{i:04d}",
                "lieux": lieux,
                "a_distance": not lieux,
                "statut": "active",
            }
        )
    moteur = MoteurTantivy(tmp_path_factory.mktemp("grand") / "recherche")
    moteur.indexer(docs)
    return moteur, docs


@pytest.fixture(params=[False, True], ids=["comptes-puis-page", "page-pendant-comptes"])
def comptes_a_cote(request, monkeypatch):
    """On a large index the counts run in another thread while the page is
    looked for (for tri=distance, as if beyond it, then kept or redone)."""
    if request.param:
        monkeypatch.setattr(moteur_tantivy, "FICHES_POUR_COMPTER_A_COTE", 0)
    return request.param


def _au_plus_pres(docs, point):
    return {
        d["id"]: min(distance_km(*point, p["lat"], p["lng"]) for p in d["lieux"])
        for d in docs
        if d["lieux"]
    }


@pytest.mark.parametrize("page", [1, 2, 7])
def test_tri_par_distance_dans_un_grand_catalogue_comme_en_mesurant_tout(
    grand_catalogue, page, comptes_a_cote
):
    moteur, docs = grand_catalogue
    evry = (48.6298, 2.4417)
    resultats = moteur.rechercher(Requete(point=evry, tri="distance", page=page))
    distances = _au_plus_pres(docs, evry)
    attendu = sorted(distances, key=lambda i: (distances[i], i))
    debut = (page - 1) * 20
    assert [r.id for r in resultats.resultats] == attendu[debut : debut + 20]
    assert resultats.resultats[0].distance_km == round(distances[attendu[debut]], 1)


EVRY = (48.6298, 2.4417)


@pytest.mark.parametrize(
    "requete",
    [
        Requete(point=EVRY, tri="distance", page=3, par_page=7),
        # Fewer results than the page's end: the page made meanwhile is redone.
        Requete(point=EVRY, tri="distance", rayon_km=2, page=15),
        Requete(point=EVRY, tri="distance", rayon_km=2, page=400),
        # Nothing matches all the words: the page is made from those kept.
        Requete(texte="astrophysique atelier", point=EVRY, tri="distance"),
        Requete(texte="astrophysique", point=EVRY, tri="distance"),
    ],
)
def test_la_page_par_distance_est_la_meme_faite_pendant_les_comptes(
    grand_catalogue, monkeypatch, requete
):
    moteur, _docs = grand_catalogue
    apres_les_comptes = moteur.rechercher(requete)
    monkeypatch.setattr(moteur_tantivy, "FICHES_POUR_COMPTER_A_COTE", 0)
    assert moteur.rechercher(requete) == apres_les_comptes


def test_tri_par_distance_les_actions_sans_lieu_a_la_fin(
    grand_catalogue, comptes_a_cote
):
    moteur, docs = grand_catalogue
    avec_lieu = sum(bool(d["lieux"]) for d in docs)
    derniere = avec_lieu // 20 + 1
    resultats = moteur.rechercher(
        Requete(point=(48.63, 2.44), tri="distance", page=derniere)
    )
    ids = [r.id for r in resultats.resultats]
    sans_lieu = {d["id"] for d in docs if not d["lieux"]}
    assert ids[: avec_lieu % 20] and not sans_lieu & set(ids[: avec_lieu % 20])
    assert set(ids[avec_lieu % 20 :]) <= sans_lieu


@pytest.mark.parametrize("rayon", [5, 20])
def test_le_rayon_garde_exactement_les_lieux_dans_le_cercle(grand_catalogue, rayon):
    moteur, docs = grand_catalogue
    point = (48.70, 2.30)
    resultats = moteur.rechercher(Requete(point=point, rayon_km=rayon, par_page=100))
    dedans = {i for i, d in _au_plus_pres(docs, point).items() if d <= rayon}
    a_distance = {d["id"] for d in docs if d["a_distance"]}
    assert resultats.total == len(dedans | a_distance)
    assert dedans  # the circle is not empty: the test means something


@pytest.mark.parametrize(
    "texte, trouvees, ignores",
    [
        # Every word matches together: nothing dropped.
        ("scooter vélo", {"mob-velos-alencon"}, ()),
        # A word found nowhere goes, the others still count.
        ("astrophysique scooter", {"mob-velos-alencon"}, ("astrophysique",)),
        ("scooter astrophysique vélo", {"mob-velos-alencon"}, ("astrophysique",)),
        # Found alone but not with the words before it: it goes, and the
        # rest with it (Meilisearch's "last" strategy), said in typed order.
        (
            "scooter ordinateur astrophysique",
            {"mob-velos-alencon"},
            ("ordinateur", "astrophysique"),
        ),
        ("ordinateur scooter", {"numerique-a-distance"}, ("scooter",)),
    ],
)
def test_les_mots_qui_ne_vont_pas_ensemble_sont_laisses_de_cote(
    embarque, texte, trouvees, ignores
):
    resultats = embarque.rechercher(Requete(texte=texte))
    assert {r.id for r in resultats.resultats} == trouvees
    assert resultats.mots_ignores == ignores


def test_en_tournant_les_pages_par_distance_chaque_action_parait_une_fois(
    grand_catalogue, comptes_a_cote
):
    moteur, docs = grand_catalogue
    vues = []
    for page in range(1, 17):
        resultats = moteur.rechercher(
            Requete(point=(48.63, 2.44), tri="distance", page=page, par_page=100)
        )
        vues += [r.id for r in resultats.resultats]
    assert len(vues) == len(set(vues)) == len(docs)


def test_tri_par_nom_page_apres_page_comme_l_alphabet(tmp_path, docs):
    hasard = random.Random(5)
    noms = ["Été", "atelier", "Zumba", "écrivain public", "Permis", "vélo"]
    lot = [
        docs[0]
        | {
            "id": f"action-{i:03d}",
            "nom": f"{hasard.choice(noms)} {i:03d}",
            "nom_tri": "",
            "statut": "active",
        }
        for i in range(45)
    ]
    for d in lot:
        d["nom_tri"] = " ".join(mots(d["nom"]))
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer(lot)
    vus = [
        r.id
        for page in (1, 2, 3)
        for r in moteur.rechercher(Requete(tri="nom", page=page)).resultats
    ]
    attendu = sorted(lot, key=lambda d: d["nom_tri"])
    assert vus == [d["id"] for d in attendu]


def test_page_apres_page_les_actions_ouvertes_d_abord_et_au_dela_de_la_fin_rien_a_lire(
    tmp_path, docs, monkeypatch
):
    # 130 actions, une sur trois complète : une personne tourne les pages ;
    # quelqu'un demande ensuite une page bien au-delà de la dernière.
    lot = [
        docs[0]
        | {"id": f"action-{i:03d}", "statut": "active"}
        | champs_places(0 if i % 3 == 0 else 5, "2030-01-01T00:00:00")
        for i in range(130)
    ]
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer(lot)
    pages = [moteur.rechercher(Requete(page=p)).resultats for p in range(1, 8)]
    vues = [r for page in pages for r in page]
    assert len(pages[-1]) == 130 - 6 * 20
    assert len({r.id for r in vues}) == len(vues) == 130
    assert [r.complet for r in vues] == sorted(r.complet for r in vues)

    lus = []
    lire = moteur_tantivy._carte
    monkeypatch.setattr(moteur_tantivy, "_carte", lambda d: lus.append(1) or lire(d))
    for tri in ("pertinence", "nom", "places"):
        loin = moteur.rechercher(Requete(page=1000, par_page=100, tri=tri))
        assert (loin.total, loin.resultats) == (130, [])
    loin = moteur.rechercher(
        Requete(page=1000, par_page=100, tri="distance", point=(48.43, 0.09))
    )
    assert (loin.total, loin.resultats) == (130, [])
    assert lus == []


@pytest.mark.parametrize("tape", ["profe", "professionnalis", "professionnalisati"])
def test_un_mot_en_cours_de_frappe_court_ou_long_trouve_la_fiche(tmp_path, docs, tape):
    fiche = docs[0] | {"id": "longue", "resume": "Un parcours de professionnalisation."}
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer([fiche, *docs[1:]])
    resultats = moteur.rechercher(Requete(texte=f"parcours {tape}"))
    assert "longue" in [r.id for r in resultats.resultats]
    assert resultats.mots_ignores == ()
    assert (
        "<mark>professionnalisation</mark>"
        in resultats.resultats[0].surlignage["resume"]
    )


@pytest.fixture(scope="module")
def catalogue_varie(tmp_path_factory):
    """2 500 actions with their own thématiques, publics, prix and places:
    enough that browsing everything counts by the index's terms, while a
    commune's few actions are counted by column."""
    from catalogue.chargement import charger_catalogue
    from catalogue.recherche.documents import documents
    from catalogue.vocabulaires import categorie_thematique, vocabulaire

    modele = documents(
        charger_catalogue(RECHERCHE / "fiches", RECHERCHE / "structures")
    )[0]
    hasard = random.Random(5)
    thematiques = sorted(vocabulaire("thematiques"))
    publics = sorted(vocabulaire("publics"))
    docs = []
    for i in range(2500):
        choisies = hasard.sample(thematiques, hasard.randint(1, 3))
        places = hasard.choice([None, 0, 0, 3, 12])
        docs.append(
            modele
            | {
                "id": f"action-{i:04d}",
                "thematiques": choisies,
                "categories_thematiques": sorted(
                    {categorie_thematique(t) for t in choisies}
                ),
                "publics": hasard.sample(publics, hasard.randint(1, 2)),
                "frais": hasard.choice(["gratuit", "payant"]),
                "statut": hasard.choice(["active"] * 9 + ["suspendue"]),
                "zone": [hasard.choice(["91", "91228"] + ["61"] * 40)],
                "session_ouverte": False,
            }
            | champs_places(places, None)
        )
    moteur = MoteurTantivy(tmp_path_factory.mktemp("varie") / "recherche")
    moteur.reconstruire(docs)
    return moteur, docs


def _comptes_attendus(docs, facette):
    comptes = {}
    for d in docs:
        valeurs = d[facette] if isinstance(d[facette], list) else [d[facette]]
        for v in valeurs:
            comptes[v] = comptes.get(v, 0) + 1
    return comptes


@pytest.mark.parametrize("zone", [(), ("91228", "91")])
def test_les_comptes_sont_exacts_que_la_recherche_trouve_beaucoup_ou_peu(
    catalogue_varie, zone
):
    moteur, docs = catalogue_varie
    resultats = moteur.rechercher(Requete(zone=zone))
    trouvees = [
        d
        for d in docs
        if d["statut"] == "active" and (not zone or set(d["zone"]) & set(zone))
    ]
    assert resultats.total == len(trouvees)
    # Browsing all of them and a commune's few go two different ways.
    assert (len(trouvees) > moteur_tantivy.PEU) == (not zone)
    for facette in ("thematiques", "categories_thematiques", "publics", "frais"):
        assert resultats.facettes[facette] == _comptes_attendus(trouvees, facette)
    assert resultats.places_libres == sum(bool(d["places_restantes"]) for d in trouvees)
    assert resultats.places_completes == sum(
        d["places_restantes"] == 0 for d in trouvees
    )


@pytest.fixture(scope="module")
def catalogue_de_mots(tmp_path_factory):
    """1 200 actions whose texts are the real fiches' own, one in ten
    suspended, one in three full: a word alone finds hundreds of them."""
    from catalogue.chargement import charger_catalogue
    from catalogue.recherche.documents import documents

    reels = documents(charger_catalogue(ROOT / "data/fiches", ROOT / "data/structures"))
    hasard = random.Random(8)
    docs = [
        hasard.choice(reels)
        | {"id": f"action-{i:04d}", "statut": "suspendue" if i % 10 == 0 else "active"}
        | champs_places(hasard.choice([None, 0, 4]), None)
        for i in range(1200)
    ]
    moteur = MoteurTantivy(tmp_path_factory.mktemp("mots") / "recherche")
    moteur.reconstruire(docs)
    return moteur


@pytest.mark.parametrize("texte", ["emploi", "rsa", "mobilte", "form", "logement"])
@pytest.mark.parametrize("page", [1, 2, 9])
def test_un_mot_seul_donne_la_meme_page_sans_noter_chaque_fiche(
    catalogue_de_mots, monkeypatch, texte, page
):
    # Un mot seul, sans filtre : le moteur ne note que les meilleures
    # candidates. La page doit être celle qu'on obtient en les notant toutes.
    moteur = catalogue_de_mots
    requete = Requete(texte=texte, page=page)
    vite = []
    chercher = MoteurTantivy._par_les_mots
    monkeypatch.setattr(
        MoteurTantivy,
        "_par_les_mots",
        lambda *a: vite.append(page := chercher(*a)) or page,
    )
    rapide = moteur.rechercher(requete)
    assert vite and vite[0] is not None  # the quick way was taken
    monkeypatch.setattr(moteur_tantivy, "_sans_filtre", lambda requete: False)
    complete = moteur.rechercher(requete)
    assert rapide.total > 100
    assert [r.id for r in rapide.resultats] == [r.id for r in complete.resultats]
    assert len(rapide.resultats) == min(20, rapide.total - 20 * (page - 1))


def test_un_synonyme_de_plusieurs_mots_n_est_surligne_que_tout_entier(tmp_path, docs):
    # « RSA » finds « revenu de solidarité active »: that phrase is marked,
    # not every « activité » or « revenu » met elsewhere in a fiche.
    fiche = docs[0] | {
        "id": "rsa",
        "resume": "Pour les personnes au revenu de solidarité active. Une activité "
        "sportive, un revenu d'appoint.",
    }
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer([fiche, *docs[1:]])
    resultat = next(
        r for r in moteur.rechercher(Requete(texte="RSA")).resultats if r.id == "rsa"
    )
    assert resultat.surlignage["resume"] == (
        "Pour les personnes au <mark>revenu</mark> de <mark>solidarité</mark> "
        "<mark>active</mark>. Une activité sportive, un revenu d'appoint."
    )
