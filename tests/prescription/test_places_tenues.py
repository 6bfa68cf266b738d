"""Places that mean what they say: one rule of which requests hold a place."""

import shutil

from sqlmodel import Session, select

from catalogue import places
from catalogue.places import JournalPlaces
from prescription.modeles import Beneficiaire, Prescription
from tests.prescription.conftest import (
    PERSONNE,
    PRESCRIPTION,
    figures,
    poster,
    se_connecter,
    texte,
)


def des_demandes(app, fiche_id: str, statuts: list[str]) -> None:
    """Requests already answered, as months of work leave them."""
    with Session(app.extensions["db"]) as db:
        for i, statut in enumerate(statuts):
            b = Beneficiaire(
                prenom=f"Personne {i}", nom="Martin", telephone="0612345678"
            )
            db.add(b)
            db.flush()
            maintenant = places.maintenant_utc()
            db.add(
                Prescription(
                    fiche_id=fiche_id,
                    structure_catalogue="atelier-orne",
                    beneficiaire_id=b.id,
                    origine="referent",
                    statut=statut,
                    place_tenue=statut in ("acceptee", "entree"),
                    cree_le=maintenant,
                    maj_le=maintenant,
                )
            )
        db.commit()


def remplissage_des_velos(app) -> tuple[int, float, float | None]:
    """The vélos action's fill rate on the département's pilotage page:
    places taken, places funded, rate in %."""
    r = figures(app, seuil=1)
    velos = next(x for x in r.remplissage_fiches if x.cle.startswith("velos-alencon"))
    return velos.prises.valeur, velos.financees, velos.taux()


def test_le_remplissage_vient_des_places_tenues_jamais_du_compteur_tape(app_p):
    # Vélos: 10 places suivies; 3 personnes entrées, 2 acceptées, 1 refusée.
    des_demandes(
        app_p, "velos-alencon", ["entree"] * 3 + ["acceptee"] * 2 + ["refusee"]
    )
    assert remplissage_des_velos(app_p) == (5, 10, 50.0)

    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(prestataire, "/pro/places/velos-alencon", {"places": "1"})
    assert reponse.status_code == 303
    # The typed counter says what is free, not who came: the rate stays.
    assert remplissage_des_velos(app_p) == (5, 10, 50.0)
    with Session(app_p.extensions["db"]) as db:
        correction = db.exec(
            select(JournalPlaces)
            .where(JournalPlaces.fiche_id == "velos-alencon")
            .order_by(JournalPlaces.id.desc())
        ).first()
    assert (correction.avant, correction.apres) == (3, 1)
    assert correction.motif == "correction (tableau de bord)"
    assert correction.maj_par.startswith("utilisateur ")


def test_suivre_les_places_compte_les_demandes_qui_en_tiennent_deja_une(app_p):
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    # Places not tracked: the person signed up holds none.
    poster(prestataire, "/pro/places/velos-alencon", {"places": ""})
    inscrite = poster(prestataire, "/pro/fiches/velos-alencon/inscrire", PERSONNE)
    detail = inscrite.headers["Location"]
    assert "Pas de place réservée" in texte(prestataire.get(detail))

    poster(prestataire, "/pro/places/velos-alencon", {"places": "5"})
    assert "Une place est réservée pour cette demande" in texte(prestataire.get(detail))
    # Once she leaves, her place comes back to the counter.
    pid = detail.rsplit("/", 1)[1]
    poster(prestataire, f"/pro/prescriptions/{pid}/entrer")
    poster(
        prestataire,
        f"/pro/prescriptions/{pid}/sortir",
        {"type_sortie": "emploi-durable"},
    )
    with Session(app_p.extensions["db"]) as db:
        assert (
            places.par_session(db, "velos-alencon")[places.ACTION].places_restantes == 6
        )


def test_les_places_libres_et_tenues_ne_depassent_pas_la_capacite(app_p):
    """Vélos: 10 places, 5 held by people in progress. Typing 9 free places
    made 14 on 10 (the figures read 140 %): refused, and said why."""
    des_demandes(app_p, "velos-alencon", ["entree"] * 3 + ["acceptee"] * 2)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    refus = poster(prestataire, "/pro/places/velos-alencon", {"places": "9"})
    assert refus.status_code == 422
    assert (
        "Au plus 5 places : la capacité est de 10, et 5 demandes en cours en "
        "tiennent déjà." in texte(refus)
    )
    assert (
        poster(prestataire, "/pro/places/velos-alencon", {"places": "5"}).status_code
        == 303
    )
    # « +1 » at the bound is refused the same way; « −1 » still counts.
    refus = poster(prestataire, "/pro/places/velos-alencon", {"ecart": "+1"})
    assert "Au plus 5 places" in texte(refus)
    poster(prestataire, "/pro/places/velos-alencon", {"ecart": "-1"})
    with Session(app_p.extensions["db"]) as db:
        assert (
            places.par_session(db, "velos-alencon")[places.ACTION].places_restantes == 4
        )
    assert remplissage_des_velos(app_p) == (5, 10, 50.0)


def _prestataire_avec_la_capacite(
    creer_app_prescription, tmp_path, fiche, avant, apres
):
    """The atelier's prestataire, logged in, one fiche's capacity rewritten."""
    shutil.copytree(PRESCRIPTION, tmp_path / "catalogue")
    chemin = tmp_path / "catalogue" / "fiches" / f"{fiche}.yaml"
    texte_ = chemin.read_text(encoding="utf-8")
    assert avant in texte_
    chemin.write_text(texte_.replace(avant, apres), encoding="utf-8")
    app = creer_app_prescription(
        FICHES_DIR=str(tmp_path / "catalogue" / "fiches"),
        STRUCTURES_DIR=str(tmp_path / "catalogue" / "structures"),
    )
    return se_connecter(app.test_client(), "prestataire", structure="atelier-orne")


def test_des_vehicules_pretes_en_meme_temps_bornent_les_places(
    creer_app_prescription, tmp_path
):
    # 5 vehicles lent at a time are 5 places: 99 999 was accepted once ETP
    # stopped bounding the board.
    prestataire = _prestataire_avec_la_capacite(
        creer_app_prescription,
        tmp_path,
        "velos-alencon",
        "{nombre: 10, unite: beneficiaires, periode: an}",
        "{nombre: 5, unite: vehicules, periode: simultane}",
    )
    assert "3 places restantes sur 5." in texte(prestataire.get("/pro/places"))
    reponse = poster(prestataire, "/pro/places/velos-alencon", {"places": "99999"})
    assert reponse.status_code == 422
    assert "Au plus 5 places" in texte(reponse)


def test_le_tableau_dit_la_capacite_dans_son_unite(creer_app_prescription, tmp_path):
    # A chantier counted in full-time posts a year read « 2 places restantes
    # sur 11,2 »: a figure of posts, not of places, beside the places.
    prestataire = _prestataire_avec_la_capacite(
        creer_app_prescription,
        tmp_path,
        "chantier-orne",
        "{nombre: 8, unite: places, periode: an}",
        "{nombre: 11.2, unite: etp, periode: an}",
    )
    tableau = texte(prestataire.get("/pro/places"))
    assert (
        "2 places restantes (l'action est prévue pour 11,2 postes en équivalent "
        "temps plein par an)." in tableau
    )
    assert "sur 11,2" not in tableau
    # 10 people a year are not 10 places at a time; a session's seats are.
    assert "3 places restantes (l'action est prévue pour 10 personnes par an)." in (
        tableau
    )
    assert "5 places restantes sur 10." in tableau
    # A refused number's page (its address is the form's), opened again:
    # the board, not « Method Not Allowed ».
    assert (
        poster(prestataire, "/pro/places/chantier-orne", {"places": "abc"}).status_code
        == 422
    )
    relue = prestataire.get("/pro/places/chantier-orne")
    assert relue.status_code == 303
    assert relue.headers["Location"] == "/pro/places#places-chantier-orne"
    # Full-time posts bound no headcount: 15 part-timers may share 11.2.
    reponse = poster(prestataire, "/pro/places/chantier-orne", {"places": "15"})
    assert reponse.status_code == 303
    assert "15 places restantes (l'action est prévue pour 11,2" in texte(
        prestataire.get("/pro/places")
    )
