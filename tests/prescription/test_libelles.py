"""Words on the pages: who is spoken to, and what really happens next."""

import re

from sqlmodel import Session, select

from catalogue import places
from prescription.modeles import Prescription
from tests.prescription.conftest import PERSONNE, poster, se_connecter, texte
from web import affichage as aff


def lu(reponse) -> str:
    """The words the user reads: tags dropped, spaces joined."""
    return " ".join(re.sub(r"<[^>]+>", " ", texte(reponse)).split()).replace(" .", ".")


def plus_de_place(app, fiche_id: str) -> None:
    with Session(app.extensions["db"]) as db:
        places.fixer(db, fiche_id, 0, "essai")
        db.commit()


def test_le_referent_inscrit_la_personne_sur_la_liste_d_attente(app_p):
    plus_de_place(app_p, "velos-alencon")
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {**PERSONNE, "motif": "Reprise d'emploi", "engagement": "oui"}
    complet = lu(poster(referent, "/fiches/velos-alencon/prescrire", donnees))
    assert "C'est complet" in complet
    assert "Vous pouvez inscrire Awa Diallo sur la liste d'attente" in complet
    assert "Inscrire sur la liste d'attente Chercher une autre action" in complet
    assert "M'inscrire" not in complet and "vous inscrire" not in complet
    poster(
        referent, "/fiches/velos-alencon/prescrire", {**donnees, "liste_attente": "oui"}
    )
    with Session(app_p.extensions["db"]) as db:
        p = db.exec(select(Prescription)).one()
        assert (p.statut, p.origine) == ("liste_attente", "referent")


def test_la_personne_seule_s_inscrit_elle_meme_sur_la_liste_d_attente(app_p):
    plus_de_place(app_p, "velos-alencon")
    complet = lu(
        poster(
            app_p.test_client(),
            "/fiches/velos-alencon/inscription",
            {**PERSONNE, "consentement": "oui"},
        )
    )
    assert "M'inscrire sur la liste d'attente Chercher une autre action" in complet
    assert "Vous pouvez vous inscrire sur la liste d'attente" in complet
    assert "Awa Diallo" not in complet


def test_le_rappel_dit_que_la_structure_repond_avant_de_commencer(app_p):
    seule = lu(app_p.test_client().get("/fiches/velos-alencon/inscription"))
    assert "reçoit votre demande et vous répond par SMS ou par e-mail." in seule
    assert "si la réponse est oui, vous pouvez commencer" in seule
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    pro = lu(referent.get("/fiches/velos-alencon/prescrire"))
    assert "reçoit la demande et répond ; on vous prévient par e-mail" in pro
    assert "si la réponse est oui, la personne peut commencer" in pro
    for page in (seule, pro):
        assert "l'entrée est directe" not in page and "Pas de validation" not in page
    chantier = lu(referent.get("/fiches/chantier-orne/prescrire"))
    assert "Avant de répondre : un comité étudie la demande." in chantier
    assert "si la réponse est oui" not in chantier


def test_le_titre_d_une_demande_fait_l_elision():
    assert aff.de("Élodie Martin") == "d'Élodie Martin"
    assert aff.de("Bruno Leroy") == "de Bruno Leroy"
