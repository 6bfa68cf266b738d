"""Places are never oversold, and search sees every change, in any worker."""

import html
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlmodel import Session, select

from catalogue import places
from prescription import demandes
from prescription.modeles import Notification, Prescription, Transition
from tests.navigateur.conftest import servir
from tests.prescription.conftest import (
    PERSONNE,
    REGLAGES,
    poster,
    prenom_de,
    se_connecter,
)

ROOT = Path(__file__).resolve().parents[2]
DEMANDEURS = 50


def test_50_demandes_simultanees_pour_les_3_dernieres_places(creer_app_prescription):
    app = creer_app_prescription(
        PRESCRIPTION_LIMITE_INSCRIPTION="1000 per hour",
        PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE="1000 per hour",
        PROPAGATE_EXCEPTIONS=False,
    )
    depart = threading.Barrier(DEMANDEURS)

    def demander(i: int) -> requests.Response:
        with requests.Session() as navigateur:
            page = navigateur.get(url, timeout=60).text
            jeton = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
            depart.wait(timeout=60)
            return navigateur.post(
                url,
                data={
                    **PERSONNE,
                    "prenom": prenom_de(i),
                    "consentement": "oui",
                    "csrf_token": jeton,
                },
                allow_redirects=False,
                timeout=120,
            )

    with servir(app) as base:
        url = f"{base}/fiches/velos-alencon/inscription"
        with ThreadPoolExecutor(DEMANDEURS) as groupe:
            reponses = list(groupe.map(demander, range(DEMANDEURS)))
    codes = sorted(r.status_code for r in reponses)
    assert codes == [200] * 47 + [303] * 3
    complets = [html.unescape(r.text) for r in reponses if r.status_code == 200]
    assert all("C'est complet" in t for t in complets)
    assert all("M'inscrire sur la liste d'attente" in t for t in complets)
    with Session(app.extensions["db"]) as db:
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 0
        tenues = db.exec(select(Prescription).where(Prescription.place_tenue)).all()
        assert len(tenues) == 3
        assert len(db.exec(select(Prescription)).all()) == 3


def _formulaire_rempli(navigateur, url: str) -> dict:
    """Awa's answers, with the tokens of the one form this browser got."""
    page = navigateur.get(url, timeout=60).text
    return {
        **PERSONNE,
        "consentement": "oui",
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1],
        "envoi": re.search(r'name="envoi" value="([^"]+)"', page)[1],
    }


def test_le_meme_formulaire_envoye_trois_fois_a_la_fois_fait_une_demande(
    creer_app_prescription,
):
    """Three copies of one form at the same instant (a phone resending on a
    bad network): one request, one place, and each copy leads to it."""
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    depart = threading.Barrier(3)
    with servir(app) as base, requests.Session() as navigateur:
        url = f"{base}/fiches/velos-alencon/inscription"
        donnees = _formulaire_rempli(navigateur, url)

        def envoyer(_i):
            depart.wait(timeout=60)
            return navigateur.post(
                url, data=donnees, allow_redirects=False, timeout=120
            )

        with ThreadPoolExecutor(3) as groupe:
            reponses = list(groupe.map(envoyer, range(3)))
    assert [r.status_code for r in reponses] == [303] * 3
    assert all("/suivi/" in r.headers["Location"] for r in reponses)
    with Session(app.extensions["db"]) as db:
        assert len(db.exec(select(Prescription)).all()) == 1
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 2


def test_un_formulaire_envoye_a_la_fois_pour_deux_personnes_fait_deux_demandes(
    creer_app_prescription,
):
    """One form's token, two names typed in two tabs, sent at the same
    instant: the unique token made the second a 500; each gets its request."""
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    depart = threading.Barrier(2)
    with servir(app) as base, requests.Session() as navigateur:
        url = f"{base}/fiches/velos-alencon/inscription"
        commun = _formulaire_rempli(navigateur, url)

        def envoyer(prenom):
            donnees = {**commun, "prenom": prenom, "courriel": f"{prenom}@exemple.fr"}
            depart.wait(timeout=60)
            return navigateur.post(
                url, data=donnees, allow_redirects=False, timeout=120
            )

        with ThreadPoolExecutor(2) as groupe:
            reponses = list(groupe.map(envoyer, ["Awa", "Binta"]))
    assert [r.status_code for r in reponses] == [303, 303]
    with Session(app.extensions["db"]) as db:
        assert len(db.exec(select(Prescription)).all()) == 2


def places_vues_par_un_autre_processus(app) -> int | None:
    """Another worker process: its own app on the same database and index."""
    config = {
        **REGLAGES,
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SEARCH_PATH": app.config["SEARCH_PATH"],
    }
    code = (
        "import json, sys\n"
        "from app import create_app\n"
        f"app = create_app(json.loads({json.dumps(json.dumps(config))}))\n"
        "r = app.test_client().get('/api/v1/fiches?q=velos').get_json()\n"
        "print(json.dumps([x['places_restantes'] for x in r['resultats']"
        " if x['id'] == 'velos-alencon']))\n"
    )
    sortie = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=ROOT,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(sortie.strip().splitlines()[-1])[0]


def places_vues(client) -> int | None:
    r = client.get("/api/v1/fiches?q=velos").get_json()
    return next(
        x["places_restantes"] for x in r["resultats"] if x["id"] == "velos-alencon"
    )


def test_une_place_prise_ou_rendue_se_voit_a_la_recherche_suivante(
    creer_app_prescription,
):
    app = creer_app_prescription()
    autre_worker = creer_app_prescription()  # same database, same index
    personne = app.test_client()
    assert places_vues(autre_worker.test_client()) == 3
    reponse = poster(
        personne,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    suivi = reponse.headers["Location"]
    assert places_vues(autre_worker.test_client()) == 2
    assert places_vues_par_un_autre_processus(app) == 2
    poster(personne, suivi + "/annuler", {"confirmer": "oui"})
    assert places_vues(autre_worker.test_client()) == 3
    assert places_vues_par_un_autre_processus(app) == 3


def test_le_prestataire_change_ses_places_et_la_recherche_le_voit(
    creer_app_prescription,
):
    app = creer_app_prescription()
    prestataire = se_connecter(
        app.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(prestataire, "/pro/places/velos-alencon", {"ecart": "+1"})
    assert places_vues(app.test_client()) == 4
    poster(prestataire, "/pro/places/velos-alencon", {"places": "0"})
    assert places_vues_par_un_autre_processus(app) == 0


def en_meme_temps(app, structure: str, envois: list[tuple[str, dict]]) -> list:
    """Each (address, form) sent at the same instant by one logged-in
    prestataire, over real HTTP: what a double tap or two tabs do."""
    depart = threading.Barrier(len(envois))

    def envoyer(envoi) -> requests.Response:
        adresse, donnees = envoi
        with requests.Session() as navigateur:
            navigateur.cookies.update(cookies)
            depart.wait(timeout=60)
            return navigateur.post(
                f"{base}{adresse}",
                data={**donnees, "csrf_token": jeton},
                allow_redirects=False,
                timeout=120,
            )

    with servir(app) as base, requests.Session() as prestataire:
        page = prestataire.get(f"{base}/connexion", timeout=60).text
        jeton = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        prestataire.post(
            f"{base}/connexion/demo",
            data={"role": "prestataire", "structure": structure, "csrf_token": jeton},
            timeout=60,
        )
        # Logging in starts a new session: its forms carry a new token.
        page = prestataire.get(f"{base}/pro/places", timeout=60).text
        jeton = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        cookies = prestataire.cookies.get_dict()
        with ThreadPoolExecutor(len(envois)) as groupe:
            return list(groupe.map(envoyer, envois))


def test_cinq_changements_de_session_simultanes_pour_la_derniere_place(
    creer_app_prescription,
):
    """Five people moved at once into a session with one place: one gets it."""
    from tests.prescription.test_sessions import FICHE, JUIN, MARS, prescrire

    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    pids = [prescrire(app, prenom_de(i), MARS) for i in range(5)]  # March full
    envois = [
        (f"/pro/prescriptions/{pid}/changer_session", {"session": JUIN}) for pid in pids
    ]
    reponses = en_meme_temps(app, "atelier-orne", envois)
    assert sorted(r.status_code for r in reponses) == [303] + [422] * 4
    refus = [html.unescape(r.text) for r in reponses if r.status_code == 422]
    assert all("Plus de place libre dans la session du 01/06/2099" in t for t in refus)
    with Session(app.extensions["db"]) as db:
        lignes = places.par_session(db, FICHE)
        assert (lignes[MARS].places_restantes, lignes[JUIN].places_restantes) == (1, 0)
        tenues = db.exec(select(Prescription).where(Prescription.place_tenue)).all()
        assert sorted(p.session for p in tenues) == [MARS] * 4 + [JUIN]


def _transitions(app, pid: int) -> list[str]:
    with Session(app.extensions["db"]) as db:
        return list(
            db.exec(select(Transition.vers).where(Transition.prescription_id == pid))
        )


def test_trois_appuis_sur_accepter_n_acceptent_qu_une_fois(creer_app_prescription):
    """Accepted into June from March, tapped three times: one place moves,
    one message leaves, the March place goes back once."""
    from tests.prescription.test_sessions import FICHE, JUIN, MARS, prescrire

    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    berthe = prescrire(app, "Berthe", MARS)
    accepter = (f"/pro/prescriptions/{berthe}/accepter", {"session": JUIN})
    reponses = en_meme_temps(app, "atelier-orne", [accepter] * 3)
    assert sorted(r.status_code for r in reponses) == [303, 422, 422]
    refus = [html.unescape(r.text) for r in reponses if r.status_code == 422]
    assert all("la demande vient de changer" in t or "acceptée" in t for t in refus)
    assert _transitions(app, berthe).count("acceptee") == 1
    with Session(app.extensions["db"]) as db:
        lignes = places.par_session(db, FICHE)
        assert (lignes[MARS].places_restantes, lignes[JUIN].places_restantes) == (5, 0)
        acceptee = db.exec(
            select(Notification).where(
                Notification.destinataire == "berthe@exemple.fr",
                Notification.sujet.contains("acceptée"),
            )
        ).all()
    assert len(acceptee) == 1


def test_trois_appuis_sur_retirer_de_la_liste_ne_retirent_qu_une_fois(
    creer_app_prescription,
):
    from tests.prescription.test_sessions import FICHE, JUIN, prescrire

    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    prescrire(app, "Awa", JUIN)  # June's last place
    chloe = prescrire(app, "Chloe", JUIN, liste_attente="oui")
    retirer = (
        f"/pro/fiches/{FICHE}/attente/{chloe}/retirer",
        {"confirmer": "oui", "motif_refus": "desistement"},
    )
    reponses = en_meme_temps(app, "atelier-orne", [retirer] * 3)
    # A tap arriving after the first one's commit is sent back to the list
    # (303, « n'est plus sur la liste »), one arriving during it is refused
    # (422): either way, she is removed once.
    assert {r.status_code for r in reponses} <= {303, 422}
    assert _transitions(app, chloe).count("refusee") == 1
    with Session(app.extensions["db"]) as db:
        messages = db.exec(
            select(Notification).where(Notification.destinataire == "chloe@exemple.fr")
        ).all()
    # Her waiting-list message, then one removal: never three.
    assert len(messages) == 2


def test_six_appuis_simultanes_sur_plus_un_comptent_six_places(
    creer_app_prescription,
):
    """A double tap, two tabs: each +1 counts, none overwrites another; past
    the capacity (10), the extra taps are refused and the count stays 10."""
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    plus_un = ("/pro/places/velos-alencon", {"ecart": "+1"})  # 3 places left
    reponses = en_meme_temps(app, "atelier-orne", [plus_un] * 6)
    assert [r.status_code for r in reponses] == [303] * 6
    with Session(app.extensions["db"]) as db:
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 9
    reponses = en_meme_temps(app, "atelier-orne", [plus_un] * 3)
    assert sorted(r.status_code for r in reponses) == [303, 422, 422]
    refus = [html.unescape(r.text) for r in reponses if r.status_code == 422]
    assert all("Au plus 10 places : c'est la capacité de l'action." in t for t in refus)
    with Session(app.extensions["db"]) as db:
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 10


def test_cinq_premiers_appuis_simultanes_sur_plus_un_comptent_cinq_places(
    creer_app_prescription,
):
    """The garage did not count its places yet: five « +1 » at once (two
    tabs, a double tap) start the count once and add the four others."""
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    plus_un = ("/pro/places/garage-evry", {"ecart": "+1"})
    reponses = en_meme_temps(app, "garage-essonne", [plus_un] * 5)
    assert [r.status_code for r in reponses] == [303] * 5
    with Session(app.extensions["db"]) as db:
        assert places.par_session(db, "garage-evry")[""].places_restantes == 5
        journal = db.exec(
            select(places.JournalPlaces).where(
                places.JournalPlaces.fiche_id == "garage-evry"
            )
        ).all()
    assert sorted((j.avant, j.apres) for j in journal if j.avant is not None) == [
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),
    ]
    assert [(j.avant, j.apres) for j in journal if j.avant is None] == [(None, 1)]


def test_une_place_ajoutee_pendant_une_inscription_va_a_la_personne_qui_attend(
    creer_app_prescription, monkeypatch
):
    """The +1 was committed, then offered in a second transaction: a booking
    sent in between took the place, and Bruno, waiting, was passed over (3
    times in 5 for an outside tester). Here the booking is sent exactly
    then: the offer waits for it (at most a second)."""
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    with Session(app.extensions["db"]) as db:
        places.fixer(db, "velos-alencon", 0, "essai")
        db.commit()
    bruno = {**PERSONNE, "prenom": "Bruno", "consentement": "oui"}
    attente = {**bruno, "liste_attente": "oui"}
    assert poster(app.test_client(), "/fiches/velos-alencon/inscription", attente)
    ajoutee, inscrite = threading.Event(), threading.Event()
    offrir = demandes.donner_a_la_liste_d_attente

    def offrir_apres_l_inscription(*args, **kwargs):
        ajoutee.set()
        inscrite.wait(timeout=1)  # with the place held, she waits for it
        return offrir(*args, **kwargs)

    monkeypatch.setattr(
        demandes, "donner_a_la_liste_d_attente", offrir_apres_l_inscription
    )
    with servir(app) as base:
        nouvelle = requests.Session()
        page = nouvelle.get(f"{base}/fiches/velos-alencon/inscription", timeout=60)
        jeton = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]

        def s_inscrire() -> requests.Response:
            ajoutee.wait(timeout=60)
            donnees = {**bruno, "prenom": "Nouvelle", "telephone": "06 11 22 33 44"}
            try:
                return nouvelle.post(
                    f"{base}/fiches/velos-alencon/inscription",
                    data={**donnees, "csrf_token": jeton},
                    allow_redirects=False,
                    timeout=120,
                )
            finally:
                inscrite.set()

        with ThreadPoolExecutor(1) as fil:
            reponse = fil.submit(s_inscrire)
            prestataire = se_connecter(
                app.test_client(), "prestataire", structure="atelier-orne"
            )
            poster(prestataire, "/pro/places/velos-alencon", {"ecart": "+1"})
            assert reponse.result().status_code == 200  # « C'est complet »
    with Session(app.extensions["db"]) as db:
        tenues = db.exec(select(Prescription).where(Prescription.place_tenue)).all()
        assert [p.id for p in tenues] == [1]  # Bruno's, the first request
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 0
