"""Sessions at acceptance and after: the prestataire chooses the session,
places move atomically from one session to the other, the person is told
her session's dates, the log keeps the move."""

import itertools
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from catalogue import places
from prescription import demandes, workflow
from prescription.demandes import Acteur
from prescription.modeles import Notification, Prescription
from tests.prescription.conftest import PERSONNE, poster, se_connecter, texte
from tests.prescription.test_attente import (
    courriel_du_referent,
    demande,
    journal,
    messages_a,
)
from tests.prescription.test_parcours import restantes
from tests.prescription.test_workflow import ROLES, Liens, une_demande
from web import affichage as aff

FICHE = "cv-sessions-alencon"  # 01/03/2099: 5 places left; 01/06/2099: 1
MARS, JUIN = "2099-03-01", "2099-06-01"


def prescrire(app, prenom: str, session: str, **en_plus) -> int:
    referent = se_connecter(app.test_client(), "referent", prescripteur="referent-rsa")
    donnees = {
        **PERSONNE,
        "prenom": prenom,
        "courriel": f"{prenom.lower()}@exemple.fr",
        "motif": "Prépare ses entretiens.",
        "engagement": "oui",
        "session": session,
        **en_plus,
    }
    reponse = poster(referent, f"/fiches/{FICHE}/prescrire", donnees)
    assert reponse.status_code == 303, texte(reponse)
    return int(reponse.headers["Location"].rsplit("/", 1)[1])


def test_le_prestataire_accepte_dans_une_autre_session_avec_un_message(app_p):
    awa = prescrire(app_p, "Awa", MARS)
    assert restantes(app_p, FICHE, MARS) == 4
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    page = texte(prestataire.get(f"/pro/prescriptions/{awa}"))
    # The request's session is chosen already, her place in it; each other
    # one says its free places.
    assert (
        f'<option value="{MARS}" selected>Du 1er mars 2099 – sa place y est réservée'
        in page
    )
    assert f'<option value="{JUIN}">Du 1er juin 2099 – 1 place libre' in page
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{awa}/accepter",
        {"session": JUIN, "message": "Venez à 9 h, salle 2."},
    )
    assert reponse.status_code == 303
    p = demande(app_p, awa)
    assert (p.statut, p.session, p.place_tenue) == ("acceptee", JUIN, True)
    # The place moved: taken in June, given back in March.
    assert (restantes(app_p, FICHE, MARS), restantes(app_p, FICHE, JUIN)) == (5, 0)
    acceptation = messages_a(app_p, "awa@exemple.fr")[-1]
    assert acceptation.sujet.startswith("Demande acceptée")
    assert "Session du 01/06/2099. Message de la structure : Venez à 9 h" in (
        acceptation.corps
    )
    dernier = journal(app_p, awa)[-1]
    assert (dernier.action, dernier.vers) == ("accepter", "acceptee")
    assert dernier.pourquoi == "session du 01/06/2099 ; avant : session du 01/03/2099"
    assert dernier.message == "Venez à 9 h, salle 2."
    assert "Acceptée (session du 01/06/2099 ; avant" in texte(
        prestataire.get(f"/pro/prescriptions/{awa}")
    )


def test_une_session_complete_est_refusee_et_rien_ne_change(app_p):
    prescrire(app_p, "Awa", JUIN)  # the last place of June
    fatou = prescrire(app_p, "Fatou", MARS)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    for action in ("accepter", "changer_session"):
        refus = poster(
            prestataire, f"/pro/prescriptions/{fatou}/{action}", {"session": JUIN}
        )
        assert refus.status_code == 422
        assert (
            "Plus de place libre dans la session du 01/06/2099 : rien n'a changé. "
            "Choisissez une autre session." in texte(refus)
        )
    p = demande(app_p, fatou)
    assert (p.statut, p.session, p.place_tenue) == ("demandee", MARS, True)
    assert (restantes(app_p, FICHE, MARS), restantes(app_p, FICHE, JUIN)) == (4, 0)
    assert [t.action for t in journal(app_p, fatou)] == ["demander"]
    # A session that does not exist, or the one she is in, changes nothing.
    inconnue = poster(
        prestataire,
        f"/pro/prescriptions/{fatou}/changer_session",
        {"session": "2099-12-25"},
    )
    assert "Choisissez une des sessions à venir." in texte(inconnue)
    meme = poster(
        prestataire, f"/pro/prescriptions/{fatou}/changer_session", {"session": MARS}
    )
    assert "La demande est déjà dans la session du 01/03/2099." in texte(meme)
    vide = poster(prestataire, f"/pro/prescriptions/{fatou}/changer_session")
    assert "Choisissez la nouvelle session." in texte(vide)


def test_changer_de_session_rend_la_place_au_premier_qui_attend(app_p):
    awa = prescrire(app_p, "Awa", JUIN)  # June is now full
    bruno = prescrire(app_p, "Bruno", JUIN, liste_attente="oui")
    assert demande(app_p, bruno).statut == "liste_attente"
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(prestataire, f"/pro/prescriptions/{awa}/accepter")
    page = texte(prestataire.get(f"/pro/prescriptions/{awa}"))
    assert ">Changer de session</button>" in page
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{awa}/changer_session",
        {"session": MARS, "message": "La session de juin est reportée."},
    )
    assert reponse.status_code == 303
    p = demande(app_p, awa)
    assert (p.statut, p.session, p.place_tenue) == ("acceptee", MARS, True)
    # June's place went straight to Bruno, who waited for it.
    b = demande(app_p, bruno)
    assert (b.statut, b.session, b.place_tenue) == ("demandee", JUIN, True)
    assert (restantes(app_p, FICHE, MARS), restantes(app_p, FICHE, JUIN)) == (4, 0)
    changement = messages_a(app_p, "awa@exemple.fr")[-1]
    assert changement.sujet.startswith("Changement de date")
    assert "Session du 01/03/2099. Message de la structure : La session" in (
        changement.corps
    )
    with Session(app_p.extensions["db"]) as db:
        au_referent = db.exec(
            select(Notification)
            .where(Notification.destinataire == courriel_du_referent(app_p))
            .where(Notification.sujet.startswith("La personne change de session"))
        ).all()
    assert len(au_referent) == 1
    dernier = journal(app_p, awa)[-1]
    assert (dernier.action, dernier.de, dernier.vers) == (
        "changer_session",
        "acceptee",
        "acceptee",
    )
    assert "Session changée (session du 01/03/2099 ; avant : session du 01/06/2099" in (
        texte(prestataire.get(f"/pro/prescriptions/{awa}"))
    )
    # Once the person has entered, her session stays.
    poster(prestataire, f"/pro/prescriptions/{awa}/entrer")
    apres = poster(
        prestataire, f"/pro/prescriptions/{awa}/changer_session", {"session": JUIN}
    )
    assert apres.status_code == 422
    assert "n'est pas possible : la demande est « entrée dans l'action »" in texte(
        apres
    )
    assert demande(app_p, awa).session == MARS


def test_la_fiche_sans_sessions_ne_propose_pas_de_changer_de_session(app_p):
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(
        prestataire,
        "/pro/fiches/velos-alencon/inscrire",
        {**PERSONNE, "courriel": "awa@exemple.fr"},
    )
    pid = int(reponse.headers["Location"].rsplit("/", 1)[1])
    page = texte(prestataire.get(f"/pro/prescriptions/{pid}"))
    assert "Changer de session" not in page and 'name="session"' not in page
    refus = poster(
        prestataire, f"/pro/prescriptions/{pid}/changer_session", {"session": MARS}
    )
    assert "Choisissez une des sessions à venir." in texte(refus)
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Prescription, pid).session == ""


def test_une_erreur_garde_le_formulaire_et_la_sortie_suit_l_entree(app_p):
    awa = prescrire(app_p, "Awa", MARS)
    with Session(app_p.extensions["db"]) as db:
        p = db.get(Prescription, awa)
        p.cree_le -= timedelta(days=20)  # asked three weeks ago
        db.add(p)
        db.commit()
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    trop_long = "x" * 501
    refus = poster(
        prestataire,
        f"/pro/prescriptions/{awa}/accepter",
        {"session": JUIN, "message": trop_long},
    )
    assert refus.status_code == 422
    page = texte(refus)
    assert "Le message dépasse la limite : 501 caractères, 500 au plus." in page
    # What was typed and chosen comes back, in the form it was typed in.
    assert f">{trop_long}</textarea>" in page
    assert f'<option value="{JUIN}" selected>' in page
    poster(prestataire, f"/pro/prescriptions/{awa}/accepter", {"session": MARS})
    il_y_a_dix_jours = places.maintenant_utc().date() - timedelta(days=10)
    poster(
        prestataire,
        f"/pro/prescriptions/{awa}/entrer",
        {"le": il_y_a_dix_jours.isoformat()},
    )
    page = texte(prestataire.get(f"/pro/prescriptions/{awa}"))
    assert f'min="{il_y_a_dix_jours.isoformat()}"' in page
    avant = (il_y_a_dix_jours - timedelta(days=1)).isoformat()
    refus = poster(
        prestataire,
        f"/pro/prescriptions/{awa}/sortir",
        {"le": avant, "type_sortie": "formation"},
    )
    assert refus.status_code == 422
    assert (
        f"La sortie ne peut pas être avant l'entrée, notée le "
        f"{il_y_a_dix_jours:%d/%m/%Y}." in texte(refus)
    )
    assert '<option value="formation" selected>' in texte(refus)
    assert demande(app_p, awa).statut == "entree"


def test_la_liste_d_attente_se_lit_session_par_session(app_p):
    prescrire(app_p, "Awa", JUIN)  # the last place of June
    bruno = prescrire(app_p, "Bruno", JUIN, liste_attente="oui")
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    page = texte(prestataire.get(f"/pro/fiches/{FICHE}/attente"))
    mars = page[
        page.index("Session du 1er mars 2099") : page.index("Session du 1er juin")
    ]
    assert "5 places libres · 0 personne en attente" in mars
    assert "Personne n'attend pour cette session." in mars
    juin = page[page.index("Session du 1er juin 2099") :]
    assert "Aucune place libre · 1 personne en attente" in juin
    assert "Bruno Diallo" in juin
    refus = poster(prestataire, f"/pro/fiches/{FICHE}/attente/{bruno}/proposer")
    assert "Plus de place libre dans la session du 01/06/2099" in texte(refus)
    # From her request's page, the place can be offered in another session.
    detail = texte(prestataire.get(f"/pro/prescriptions/{bruno}"))
    assert "Voir toute la liste d'attente de cette action" in detail
    offre = poster(
        prestataire, f"/pro/prescriptions/{bruno}/proposer", {"session": MARS}
    )
    assert offre.status_code == 303
    p = demande(app_p, bruno)
    assert (p.statut, p.session, p.place_tenue) == ("demandee", MARS, True)
    assert (restantes(app_p, FICHE, MARS), restantes(app_p, FICHE, JUIN)) == (4, 0)
    assert "Session du 01/03/2099." in messages_a(app_p, "bruno@exemple.fr")[-1].corps


def test_changer_de_session_suit_la_table_pour_chaque_statut_et_chaque_role(app_p):
    fiche = app_p.extensions["catalogue"].fiches[FICHE]
    r = workflow.PAR_ACTION["changer_session"]
    with Session(app_p.extensions["db"]) as db:
        for statut, role in itertools.product(workflow.STATUTS, ROLES):
            p = une_demande(db, statut, place_tenue=workflow.tient_une_place(statut))
            p.fiche_id, p.session = FICHE, MARS
            db.commit()
            if statut in r.depuis and role in r.par:
                demandes.appliquer(
                    db, p, "changer_session", Acteur(role, role), fiche, Liens(),
                    session=JUIN,
                )  # fmt: skip
                db.commit()
                assert (p.statut, p.session) == (statut, JUIN)
                # Back to March, leaving June's one place for the next status.
                demandes.appliquer(
                    db, p, "changer_session", Acteur(role, role), fiche, Liens(),
                    session=MARS,
                )  # fmt: skip
                db.commit()
            else:
                with pytest.raises(workflow.TransitionRefusee):
                    demandes.appliquer(
                        db, p, "changer_session", Acteur(role, role), fiche, Liens(),
                        session=JUIN,
                    )  # fmt: skip
                db.rollback()
                db.refresh(p)
                assert (p.statut, p.session) == (statut, MARS)
            assert restantes(app_p, FICHE, JUIN) == 1


def test_apres_un_changement_de_session_sa_page_dit_le_nouveau_debut(app_p):
    """Accepted in June's session with a start day, then moved to the March
    session: her page still said « Vous commencez le » the old day, and the
    old words (she would have come on the wrong day)."""
    personne = app_p.test_client()
    envoi = {**PERSONNE, "consentement": "oui", "session": JUIN}
    suivi = poster(personne, f"/fiches/{FICHE}/inscription", envoi).headers["Location"]
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    with Session(app_p.extensions["db"]) as db:
        pid = db.exec(select(Prescription.id)).one()
    debut = places.maintenant_utc().date() + timedelta(days=30)
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{pid}/accepter",
        {"le": debut.isoformat(), "message": "Venez le 2 juin à 14 h."},
    )
    assert reponse.status_code == 303, texte(reponse)
    assert f"Vous commencez le {aff.date_fr(debut)}" in texte(personne.get(suivi))
    poster(prestataire, f"/pro/prescriptions/{pid}/changer_session", {"session": MARS})
    page = texte(personne.get(suivi))
    assert "Vous commencez le 1er mars 2099" in page
    assert "Venez le 2 juin" not in page.split("Ce qui s'est passé")[0]
    assert "<dd>du 01/03/2099" in page
    assert "Session changée (session du 01/03/2099" in page
    # An entry today is before what she was told now (1 March), not the
    # old day: the prestataire's warning says the same.
    poster(prestataire, f"/pro/prescriptions/{pid}/entrer")
    assert "avant le début annoncé à la personne (le 01/03/2099)" in texte(
        prestataire.get(f"/pro/prescriptions/{pid}")
    )


def _demande_d_avant_les_sessions(app, statut: str):
    """A request made when the action was counted as a whole: (its number,
    the structure's logged-in client)."""
    with Session(app.extensions["db"]) as db:
        p = une_demande(db, statut, place_tenue=False)
        p.fiche_id, p.session = FICHE, places.ACTION
        db.commit()
        pid = p.id
    return pid, se_connecter(app.test_client(), "prestataire", structure="atelier-orne")


def test_une_demande_d_avant_les_sessions_se_refuse(app_p):
    """Made before the action had sessions: the refusal form sent the first
    session of its list, and « Cette étape ne change pas la session »
    refused every try."""
    pid, prestataire = _demande_d_avant_les_sessions(app_p, "demandee")
    page = texte(prestataire.get(f"/pro/prescriptions/{pid}"))
    refuser = page[page.index(f"/pro/prescriptions/{pid}/refuser") :]
    refuser = refuser[: refuser.index("</form>")]
    assert 'name="session"' not in refuser
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{pid}/refuser",
        {"motif_refus": "public-non-concerne"},
    )
    assert reponse.status_code == 303
    assert demande(app_p, pid).statut == "refusee"


def test_complet_a_une_session_l_autre_session_libre_est_proposee(app_p):
    """June is full, March has places: the « complet » page only offered
    June's waiting list."""
    prescrire(app_p, "Awa", JUIN)  # the last place of June
    personne = app_p.test_client()
    donnees = {**PERSONNE, "prenom": "Bruno", "consentement": "oui", "session": JUIN}
    complet = texte(poster(personne, f"/fiches/{FICHE}/inscription", donnees))
    assert "C'est complet" in complet
    assert "La session du 1er mars 2099 a encore 5 places." in complet
    assert "Choisir la session du 1er mars 2099" in complet
    mars = poster(
        personne, f"/fiches/{FICHE}/inscription", {**donnees, "session": MARS}
    )
    assert mars.status_code == 303
    assert restantes(app_p, FICHE, MARS) == 4


def test_une_place_ne_se_propose_pas_hors_session_a_une_action_qui_en_a(app_p):
    """Waiting since before the action had sessions: « Proposer une place »
    told her « une place est libre » for a place that did not exist."""
    pid, prestataire = _demande_d_avant_les_sessions(app_p, "liste_attente")
    refus = poster(prestataire, f"/pro/fiches/{FICHE}/attente/{pid}/proposer")
    assert refus.status_code == 422
    assert "Sa demande date d'avant les sessions : choisissez-lui une session" in (
        texte(refus)
    )
    assert demande(app_p, pid).statut == "liste_attente"
    # From her request's page, in a session with a place: offered there.
    offre = poster(prestataire, f"/pro/prescriptions/{pid}/proposer", {"session": MARS})
    assert offre.status_code == 303
    assert (demande(app_p, pid).session, demande(app_p, pid).place_tenue) == (
        MARS,
        True,
    )
