"""The same person asked twice for the same action: shown the first request."""

import re
from datetime import date

from sqlmodel import Session, select

from catalogue import places
from prescription.modeles import Beneficiaire, Notification, Prescription
from tests.prescription.conftest import PERSONNE, poster, se_connecter, texte
from web import prescription as prescription_web
from web.affichage import date_fr


class FausseHorloge:
    """``time`` for the form tokens: the seconds the test says."""

    def __init__(self, maintenant: float):
        self.maintenant = maintenant

    def time(self) -> float:
        return self.maintenant


def demandes(app) -> list[Prescription]:
    with Session(app.extensions["db"]) as db:
        return list(db.exec(select(Prescription).order_by(Prescription.id)))


def messages_a(app, destinataire: str) -> list[Notification]:
    with Session(app.extensions["db"]) as db:
        return list(
            db.exec(
                select(Notification).where(Notification.destinataire == destinataire)
            )
        )


def test_la_personne_qui_se_reinscrit_recoit_son_lien_et_rien_n_est_double(
    app_p, client_p
):
    donnees = {**PERSONNE, "consentement": "oui"}
    assert (
        poster(client_p, "/fiches/velos-alencon/inscription", donnees).status_code
        == 303
    )
    premiere = demandes(app_p)
    # The same person, written another way, from another device.
    autre = app_p.test_client()
    encore = {**donnees, "prenom": "AWA ", "nom": "diallo", "telephone": "0612345678"}
    reponse = poster(autre, "/fiches/velos-alencon/inscription", encore)
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "Une demande pour « Prêt de vélos à Alençon » existe déjà à ce nom" in page
    assert "Rien de nouveau n'a été enregistré" in page
    # Neither its date nor its state: whoever typed may not be her.
    assert date_fr(date.today()) not in page and "Demandée" not in page
    assert "sur le numéro 06•••••78" in page
    # Never the follow-up link on screen: only on the person's own phone.
    assert "/suivi/" not in page
    assert demandes(app_p) == premiere
    sms = messages_a(app_p, "06 12 34 56 78")
    assert len(sms) == 2 and "/suivi/" in sms[1].corps
    # Her link again, in words that do not announce a second request.
    assert "est déjà en cours. Rien de nouveau." in sms[1].corps
    assert "Demande envoyée" not in sms[1].corps


def test_une_adresse_e_mail_accentuee_est_la_meme_en_majuscules(app_p, client_p):
    # SQLite folded ASCII only: « Élodie@ » and « élodie@ » were two people
    # there (and a way around the limits), one on PostgreSQL.
    sans_telephone = {k: v for k, v in PERSONNE.items() if k != "telephone"}
    donnees = {**sans_telephone, "consentement": "oui"}
    premiere = {**donnees, "courriel": "Élodie.Diallo@exemple.fr"}
    envoi = poster(client_p, "/fiches/velos-alencon/inscription", premiere)
    assert envoi.status_code == 303
    encore = {**donnees, "courriel": "élodie.diallo@exemple.fr"}
    reponse = poster(app_p.test_client(), "/fiches/velos-alencon/inscription", encore)
    assert reponse.status_code == 409
    assert "existe déjà à ce nom" in texte(reponse)
    assert len(demandes(app_p)) == 1


def test_le_meme_formulaire_envoye_deux_fois_donne_la_meme_demande(
    app_p, client_p, monkeypatch
):
    """A double tap on a slow network: the second copy used to answer « une
    demande existe déjà… rien de nouveau n'a été enregistré » and send a
    second SMS; she never saw her confirmation. Now both lead to it."""
    horloge = FausseHorloge(1_900_000_000)
    monkeypatch.setattr(prescription_web, "time", horloge)
    page = texte(client_p.get("/fiches/velos-alencon/inscription"))
    envoi = re.search(r'name="envoi" value="([^"]+)"', page)[1]
    donnees = {**PERSONNE, "consentement": "oui", "envoi": envoi}
    # Both taps leave before the first answer: they carry the same cookie.
    cookie = client_p.get_cookie("session")
    premier = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    client_p.set_cookie("session", cookie.value)
    second = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert (premier.status_code, second.status_code) == (303, 303)
    assert second.headers["Location"].startswith("/suivi/")
    assert "C'est envoyé" in texte(client_p.get(second.headers["Location"]))
    assert len(demandes(app_p)) == 1
    assert len(messages_a(app_p, "06 12 34 56 78")) == 1
    # A second tap once the first answer set the cookie (the next page is
    # still loading): the same request again, not « déjà en cours ».
    horloge.maintenant += 590
    troisieme = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert troisieme.status_code == 303
    assert "C'est envoyé" in texte(client_p.get(troisieme.headers["Location"]))
    assert len(demandes(app_p)) == 1
    assert len(messages_a(app_p, "06 12 34 56 78")) == 1
    # Back, then « Envoyer » again (the page reloads: a new form token): this
    # browser made that request a moment ago. Said calmly, no second SMS,
    # and never her link on screen (the next person at a shared computer
    # could type her name and number too).
    horloge.maintenant += 20
    page = texte(client_p.get("/fiches/velos-alencon/inscription"))
    autre = re.search(r'name="envoi" value="([^"]+)"', page)[1]
    assert autre != envoi
    encore = poster(
        client_p, "/fiches/velos-alencon/inscription", {**donnees, "envoi": autre}
    )
    assert encore.status_code == 409
    page = texte(encore)
    assert "a déjà été envoyée depuis ce navigateur" in page
    assert "Le lien pour la suivre ou l'annuler est dans le message envoyé" in page
    assert "/suivi/" not in page and 'class="alerte"' not in page
    assert len(demandes(app_p)) == 1
    assert len(messages_a(app_p, "06 12 34 56 78")) == 1
    # Hours later (the next person on a shared computer): a new request,
    # told « déjà », never her link on screen.
    horloge.maintenant += 2 * 3600
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 409 and "/suivi/" not in texte(reponse)


def test_un_numero_garde_par_l_ancienne_version_se_reconnait(app_p, client_p):
    # An older version kept « +262 692… » as « 0692 12 34 56 »: the same
    # person, typing her number today, is still the same person.
    donnees = {**PERSONNE, "telephone": "+262 692 12 34 56", "consentement": "oui"}
    poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    with Session(app_p.extensions["db"]) as db:
        personne = db.exec(select(Beneficiaire)).one()
        personne.telephone = "0692 12 34 56"
        db.add(personne)
        db.commit()
    reponse = poster(app_p.test_client(), "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 409
    assert len(demandes(app_p)) == 1


def test_taper_encore_le_nom_et_le_numero_d_une_autre_n_inonde_pas_son_telephone(
    app_p, client_p
):
    donnees = {**PERSONNE, "consentement": "oui"}
    poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    for _ in range(5):
        autre = app_p.test_client()
        reponse = poster(autre, "/fiches/velos-alencon/inscription", donnees)
        assert reponse.status_code == 409
    assert "a déjà été envoyé aujourd'hui sur le numéro 06•••••78" in texte(reponse)
    # The request's own message, then one link sent again: two in a day.
    assert len(messages_a(app_p, "06 12 34 56 78")) == 2


def test_un_meme_numero_ne_sert_pas_a_plus_de_cinq_demandes_par_jour(app_p):
    """Anyone could type someone else's number under new names: a text to
    her each time, and the action's places held in her name."""
    with Session(app_p.extensions["db"]) as db:
        places.fixer(db, "velos-alencon", 20, "essai")
        db.commit()
    prenoms = ["Awa", "Binta", "Chloé", "Dina", "Emma"]
    for prenom in prenoms:  # a family: one phone for five
        donnees = {**PERSONNE, "prenom": prenom, "consentement": "oui"}
        reponse = poster(
            app_p.test_client(), "/fiches/velos-alencon/inscription", donnees
        )
        assert reponse.status_code == 303
    sixieme = {**PERSONNE, "prenom": "Fatou", "consentement": "oui"}
    # An extension made a new number each time (« ext 1 », « #2 »), and every
    # text still went to her phone.
    for poste in (
        "06 12 34 56 78 ext 1",
        "0612345678#2",
        "+33 6 12 34 56 78 x3",
        "06 12 34 56 78 poste 4",
        "06 12 34 56 78 poste : 4",
    ):
        avec_poste = {**sixieme, "telephone": poste}
        reponse = poster(
            app_p.test_client(), "/fiches/velos-alencon/inscription", avec_poste
        )
        assert reponse.status_code == 422
        assert "Ce numéro a déjà servi à 5 demandes en 24 heures" in texte(reponse)
    reponse = poster(app_p.test_client(), "/fiches/velos-alencon/inscription", sixieme)
    assert reponse.status_code == 422
    page = texte(reponse)
    assert "Ce numéro a déjà servi à 5 demandes en 24 heures" in page
    assert 'value="Fatou"' in page  # nothing she typed is lost
    assert len(demandes(app_p)) == 5
    assert len(messages_a(app_p, "06 12 34 56 78")) == 5
    # A référent, who knows the person, is not held by it.
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {**sixieme, "motif": "Reprend un emploi.", "engagement": "oui"}
    assert (
        poster(referent, "/fiches/velos-alencon/prescrire", donnees).status_code == 303
    )


def test_le_referent_voit_la_demande_existante_avec_son_lien(app_p):
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {**PERSONNE, "motif": "Reprend un emploi.", "engagement": "oui"}
    assert (
        poster(referent, "/fiches/velos-alencon/prescrire", donnees).status_code == 303
    )
    [p] = demandes(app_p)
    reponse = poster(referent, "/fiches/velos-alencon/prescrire", donnees)
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "Cette personne a déjà une demande pour « Prêt de vélos à Alençon" in page
    assert "Statut : Demandée" in page
    assert f'href="/pro/prescriptions/{p.id}"' in page
    assert len(demandes(app_p)) == 1


def test_le_referent_d_un_autre_service_n_apprend_ni_date_ni_statut(app_p):
    """A name and a phone number must not tell another service where someone
    is followed, since when, nor how it went."""
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {**PERSONNE, "motif": "Reprend un emploi.", "engagement": "oui"}
    poster(referent, "/fiches/velos-alencon/prescrire", donnees)
    [p] = demandes(app_p)
    autre = se_connecter(app_p.test_client(), "referent", prescripteur="siao")
    reponse = poster(autre, "/fiches/velos-alencon/prescrire", donnees)
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "déjà une demande en cours pour « Prêt de vélos à Alençon »" in page
    assert "n'a pas été faite par votre service" in page
    for dit in ("Statut", "Demandée", "Origine", date_fr(date.today()), "n°"):
        assert dit not in page, dit
    assert f"/pro/prescriptions/{p.id}" not in page
    assert len(demandes(app_p)) == 1


def test_un_homonyme_ou_la_meme_famille_n_est_pas_un_doublon(app_p, client_p):
    donnees = {**PERSONNE, "consentement": "oui"}
    poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    # Same name, another phone: a namesake.
    homonyme = {**donnees, "telephone": "06 98 76 54 32"}
    assert (
        poster(client_p, "/fiches/velos-alencon/inscription", homonyme).status_code
        == 303
    )
    # Same phone, another first name: her daughter.
    fille = {**donnees, "prenom": "Fatou"}
    assert (
        poster(client_p, "/fiches/velos-alencon/inscription", fille).status_code == 303
    )
    assert len(demandes(app_p)) == 3


def test_apres_une_annulation_on_peut_redemander(app_p, client_p):
    donnees = {**PERSONNE, "consentement": "oui"}
    suivi = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    jeton = suivi.headers["Location"].rsplit("/", 1)[1]
    poster(client_p, f"/suivi/{jeton}/annuler", {"confirmer": "oui"})
    assert [p.statut for p in demandes(app_p)] == ["annulee"]
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 303
    assert [p.statut for p in demandes(app_p)] == ["annulee", "demandee"]


def test_une_seconde_inscription_ne_montre_pas_un_contact_qu_on_n_a_pas_tape(
    app_p, client_p
):
    """Same name and phone, another e-mail: the first one's stays unknown."""
    zoe = {**PERSONNE, "courriel": "zoe@example.org", "consentement": "oui"}
    poster(client_p, "/fiches/velos-alencon/inscription", zoe)
    autre = {**zoe, "courriel": "autre@example.org"}
    reponse = poster(app_p.test_client(), "/fiches/velos-alencon/inscription", autre)
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "example.org" not in page and "z•••" not in page
    assert "donnés lors de la première demande" in page


def test_un_formulaire_renvoye_pour_une_autre_personne_fait_sa_demande(app_p):
    """The référent goes back to the form she sent for Awa and types Binta:
    the same form token, another person. Binta's request is made; it is not
    taken for a second copy of Awa's."""
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    page = texte(referent.get("/fiches/velos-alencon/prescrire"))
    envoi = re.search(r'name="envoi" value="([^"]+)"', page)[1]
    donnees = {**PERSONNE, "motif": "Emploi", "engagement": "oui", "envoi": envoi}
    poster(referent, "/fiches/velos-alencon/prescrire", donnees)
    binta = {**donnees, "prenom": "Binta", "nom": "Sow", "telephone": "06 98 76 54 32"}
    assert poster(referent, "/fiches/velos-alencon/prescrire", binta).status_code == 303
    with Session(app_p.extensions["db"]) as db:
        noms = sorted(b.prenom for b in db.exec(select(Beneficiaire)))
    assert noms == ["Awa", "Binta"]


def test_le_jeton_d_un_formulaire_ne_sert_qu_au_navigateur_qui_l_a_recu(
    app_p, client_p
):
    """Read in her page (a shared computer, someone beside her), the token
    used to give anyone a new follow link to her request, and the right to
    cancel it; on another action it gave a 500."""
    page = texte(client_p.get("/fiches/velos-alencon/inscription"))
    envoi = re.search(r'name="envoi" value="([^"]+)"', page)[1]
    donnees = {**PERSONNE, "consentement": "oui", "envoi": envoi}
    assert (
        poster(client_p, "/fiches/velos-alencon/inscription", donnees).status_code
        == 303
    )
    autre = app_p.test_client()
    vole = poster(autre, "/fiches/velos-alencon/inscription", donnees)
    assert vole.status_code == 409 and "/suivi/" not in texte(vole)
    seul = poster(autre, "/fiches/velos-alencon/inscription", {"envoi": envoi})
    assert seul.status_code == 422
    # Her browser, another action, with the same token: a request of its own.
    a_evry = {**donnees, "commune": "Évry-Courcouronnes"}
    ailleurs = poster(client_p, "/fiches/garage-evry/inscription", a_evry)
    assert ailleurs.status_code == 303, texte(ailleurs)
    assert [p.fiche_id for p in demandes(app_p)] == ["velos-alencon", "garage-evry"]
