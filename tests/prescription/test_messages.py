"""What the person reads at each step: plain French, one SMS when possible."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from prescription.messages import (
    GSM,
    GSM_EXTENSION,
    SMS_MAX,
    Message,
    longueur_sms,
    sms,
)
from prescription.modeles import Notification, Prescription, Utilisateur
from tests.prescription.conftest import PERSONNE, poster, prenom_de, se_connecter, texte


def sms_recus(app, telephone="06 12 34 56 78") -> list[str]:
    with Session(app.extensions["db"]) as db:
        return [
            n.corps
            for n in db.exec(
                select(Notification)
                .where(Notification.canal == "sms")
                .where(Notification.destinataire == telephone)
                .order_by(Notification.id)
            )
        ]


def courriels_recus(app, adresse: str) -> list[tuple[str, str]]:
    with Session(app.extensions["db"]) as db:
        return [
            (n.sujet, n.corps)
            for n in db.exec(
                select(Notification)
                .where(Notification.destinataire == adresse)
                .order_by(Notification.id)
            )
        ]


def tient_dans_un_sms(texte: str) -> bool:
    return longueur_sms(texte) <= SMS_MAX and set(texte) <= GSM | GSM_EXTENSION


def derniere_demande(app) -> Prescription:
    with Session(app.extensions["db"]) as db:
        return db.exec(select(Prescription).order_by(Prescription.id.desc())).first()


def test_la_personne_seule_lit_un_sms_clair_a_chaque_reponse(app_p):
    personne = app_p.test_client()
    poster(
        personne,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    p = derniere_demande(app_p)
    poster(prestataire, f"/pro/prescriptions/{p.id}/accepter")
    envoye, accepte = sms_recus(app_p)
    assert envoye.startswith(
        'Demande envoyée pour "Pret de vélos à Alencon". '
        "La structure va vous répondre. http://127.0.0.1:5000/suivi/"
    )
    assert accepte.startswith(
        'Demande acceptée pour "Pret de vélos à Alencon" ! '
        "La structure vous dira quand venir. http://127.0.0.1:5000/suivi/"
    )
    assert "/suivi/" in accepte  # she may still cancel
    for texte_sms in (envoye, accepte):
        assert tient_dans_un_sms(texte_sms), (len(texte_sms), texte_sms)
        assert "Statut" not in texte_sms and "demandée" not in texte_sms


def prescrite_par_un_referent(app_p):
    """A référent asks a place at the vélos for Awa: (référent, prestataire,
    the request), each logged in."""
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    poster(
        referent,
        "/fiches/velos-alencon/prescrire",
        {**PERSONNE, "motif": "Reprise d'emploi", "engagement": "oui"},
    )
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    p = derniere_demande(app_p)
    return referent, prestataire, p


def test_un_refus_dit_la_raison_et_qui_peut_aider(app_p):
    referent, prestataire, p = prescrite_par_un_referent(app_p)
    poster(
        prestataire, f"/pro/prescriptions/{p.id}/refuser", {"motif_refus": "complet"}
    )
    demande, refus = sms_recus(app_p)
    assert demande.startswith(
        'Votre conseiller a demandé "Pret de vélos à Alencon" pour vous. '
        "La structure répondra."
    )
    assert refus == (
        'Votre demande pour "Pret de vélos à Alencon" est refusée : '
        "il n'y a plus de place. Votre conseiller peut vous aider."
    )
    assert tient_dans_un_sms(demande) and tient_dans_un_sms(refus)
    # The référent who asked learns it too, in words of the trade.
    with Session(app_p.extensions["db"]) as db:
        adresse = db.get(Utilisateur, p.prescripteur_id).courriel
    ((sujet, corps),) = courriels_recus(app_p, adresse)
    assert sujet == "Demande refusée : plus de place – Prêt de vélos à Alençon"
    assert f"/pro/prescriptions/{p.id}" in corps


def test_un_refus_pour_autre_raison_dit_laquelle_a_la_personne_et_au_referent(app_p):
    referent, prestataire, p = prescrite_par_un_referent(app_p)
    page = texte(prestataire.get(f"/pro/prescriptions/{p.id}"))
    assert "Message à la personne et à son référent" in page
    assert "obligatoire pour « Autre raison »" in page
    # « Autre raison » alone would tell them nothing: asked, nothing changes.
    sans_mot = poster(
        prestataire, f"/pro/prescriptions/{p.id}/refuser", {"motif_refus": "autre"}
    )
    assert sans_mot.status_code == 422
    assert "« Autre raison » : écrivez-la en quelques mots" in texte(sans_mot)
    assert (
        'name="message" rows="3" aria-invalid="true" '
        'aria-describedby="erreur-demande"' in texte(sans_mot)
    )
    assert derniere_demande(app_p).statut == "demandee"
    poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/refuser",
        {"motif_refus": "autre", "message": "Les vélos sont en réparation."},
    )
    assert derniere_demande(app_p).statut == "refusee"
    refus = sms_recus(app_p)[-1]
    assert refus == (
        'Votre demande pour "Pret de vélos à Alencon" est refusée. Votre '
        "conseiller peut vous aider. Message de la structure : Les vélos sont "
        "en réparation."
    )
    with Session(app_p.extensions["db"]) as db:
        adresse = db.get(Utilisateur, p.prescripteur_id).courriel
    ((sujet, corps),) = courriels_recus(app_p, adresse)
    assert sujet == "Demande refusée – Prêt de vélos à Alençon"
    assert "Message de la structure : Les vélos sont en réparation." in corps
    historique = texte(referent.get(f"/pro/prescriptions/{p.id}"))
    assert (
        "(Autre raison) – message à la personne : "
        '<span class="lignes">« Les vélos sont en réparation. »' in historique
    )


def test_liste_d_attente_puis_place_liberee_en_mots_simples(app_p):
    personne = app_p.test_client()
    for i in range(3):
        poster(
            personne,
            "/fiches/velos-alencon/inscription",
            {**PERSONNE, "prenom": prenom_de(i), "consentement": "oui",
             "telephone": f"06 12 34 56 0{i}"},
        )  # fmt: skip
    premiere = derniere_demande(app_p).id - 2
    poster(
        personne,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui", "liste_attente": "oui"},
    )
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(prestataire, f"/pro/prescriptions/{premiere}/annuler", {"confirmer": "oui"})
    attente, place = sms_recus(app_p)
    assert attente.startswith(
        'Liste d\'attente pour "Pret de vélos à Alencon" : '
        "on vous dira si une place se libère."
    )
    assert place.startswith(
        'Une place est libre pour vous à "Pret de vélos à Alencon". '
        "On va vous contacter."
    )
    assert tient_dans_un_sms(attente) and tient_dans_un_sms(place)
    # The person cancelled by her référent or the structure is told, in one line.
    [annule] = sms_recus(app_p, "06 12 34 56 00")[-1:]
    assert annule == 'Votre demande pour "Pret de vélos à Alencon" est annulée.'


def test_le_courriel_garde_les_accents_et_le_lien_pour_suivre(app_p):
    poster(
        app_p.test_client(),
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "telephone": "", "courriel": "awa@exemple.fr",
         "consentement": "oui"},
    )  # fmt: skip
    [(sujet, corps)] = courriels_recus(app_p, "awa@exemple.fr")
    assert sujet == "Demande envoyée – Prêt de vélos à Alençon"
    assert corps.startswith(
        "Bonjour Awa,\n\nDemande envoyée pour « Prêt de vélos à Alençon ». "
        "La structure va vous répondre.\n\n"
        "Pour suivre ou annuler votre demande :\nhttp://127.0.0.1:5000/suivi/"
    )


def test_un_nom_d_action_tres_long_est_raccourci_pour_tenir_dans_un_sms():
    from prescription.messages import pour_la_personne, sms

    nom = "Accompagnement renforcé vers l'emploi durable des bénéficiaires du RSA"
    lien = "https://offre.departement.fr/suivi/" + "x" * 44
    texte = sms(pour_la_personne("acceptee", nom, "auto"), nom, lien)
    assert tient_dans_un_sms(texte), (len(texte), texte)
    assert texte.startswith('Demande acceptée pour "Accompagnement..." !')
    assert texte.endswith(lien)


def test_l_euro_et_les_crochets_restent_dans_le_sms_et_comptent_double():
    from prescription.messages import pour_la_personne, sms

    nom = "Aide de 50 € [permis] {code}"
    texte = sms(pour_la_personne("acceptee", nom, "auto"), nom, "")
    assert "50 € [permis] {code}" in texte
    assert "?" not in texte
    assert longueur_sms(texte) == len(texte) + 5


def test_une_acceptation_datee_ne_dit_pas_qu_on_dira_quand_venir(app_p):
    # « La structure vous dira quand venir. Début le 04/01/2027. » said two
    # things at once; and « Formation au... » cut the name mid-word although
    # the structure's long message made two SMS anyway.
    _referent, prestataire, p = prescrite_par_un_referent(app_p)
    debut = (datetime.now(UTC) + timedelta(days=20)).date()
    mot = "Venez au 12 rue des Lilas, bâtiment B, avec une pièce d'identité. " * 2
    poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/accepter",
        {"le": debut.isoformat(), "message": mot.strip()},
    )
    accepte = sms_recus(app_p)[-1]
    assert accepte.startswith(
        f'Demande acceptée pour "Pret de vélos à Alencon" ! Début le {debut:%d/%m/%Y}.'
    )
    assert "vous dira quand venir" not in accepte
    # The référent reads whom it is about and when it starts.
    with Session(app_p.extensions["db"]) as db:
        adresse = db.get(Utilisateur, p.prescripteur_id).courriel
    (_sujet, corps), *_ = courriels_recus(app_p, adresse)
    assert "Demande acceptée (Awa D.) pour « Prêt de vélos à Alençon »." in corps
    assert f"Début le {debut:%d/%m/%Y}." in corps


def test_une_acceptation_avec_un_mot_de_la_structure_ne_dit_pas_qu_elle_le_dira(app_p):
    # « La structure vous dira quand venir. Message de la structure : Venez le
    # lundi 14 à 10 h… » said both.
    _referent, prestataire, p = prescrite_par_un_referent(app_p)
    mot = "Venez le lundi 14 décembre à 10 h, 59 rue Saint-Blaise."
    poster(prestataire, f"/pro/prescriptions/{p.id}/accepter", {"message": mot})
    accepte = sms_recus(app_p)[-1]
    assert "vous dira quand venir" not in accepte
    assert mot in accepte


def test_un_nom_raccourci_dans_un_sms_l_est_entre_deux_mots():
    message = Message(
        "Demande acceptée", "Demande acceptée pour «{nom}» ! Merci.", True
    )
    nom = "Formation au permis de conduire pour les jeunes du territoire rural"
    texte = sms(message, nom, "https://exemple.fr/suivi/" + "x" * 60)
    assert tient_dans_un_sms(texte)
    cite = texte.split('"')[1]
    assert cite.endswith("...") and nom.startswith(cite.removesuffix("..."))
    assert nom[len(cite) - 3] == " "  # cut where a word ends


def test_une_action_avec_etude_demande_a_la_structure_de_l_etudier(app_p):
    # The chantier checks each request in committee: its first step is
    # « Étudier la demande », not « accept or refuse ».
    se_connecter(app_p.test_client(), "prestataire", structure="atelier-orne")
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    reponse = poster(
        referent,
        "/fiches/chantier-orne/prescrire",
        {**PERSONNE, "motif": "Reprise d'emploi", "engagement": "oui"},
    )
    assert reponse.status_code == 303, texte(reponse)
    with Session(app_p.extensions["db"]) as db:
        corps = [
            n.corps
            for n in db.exec(select(Notification))
            if n.sujet.startswith("Nouvelle demande")
        ]
    assert corps and all("À faire : l'étudier." in c for c in corps)


def test_une_sortie_autre_se_precise_et_le_referent_lit_comment_elle_sort(app_p):
    """« Autre » with nothing said was counted in the département's exits
    by type, never explained; the référent's e-mail never said how."""
    _referent, prestataire, p = prescrite_par_un_referent(app_p)
    poster(prestataire, f"/pro/prescriptions/{p.id}/accepter")
    poster(prestataire, f"/pro/prescriptions/{p.id}/entrer")
    sans = poster(
        prestataire, f"/pro/prescriptions/{p.id}/sortir", {"type_sortie": "autre"}
    )
    assert sans.status_code == 422
    page = texte(sans)
    assert "« Autre » : dites en quelques mots comment la personne sort" in page
    assert 'id="pourquoi-sortir" name="pourquoi" rows="2" aria-invalid="true"' in page
    precise = {"type_sortie": "autre", "pourquoi": "Service civique à Caen."}
    reponse = poster(prestataire, f"/pro/prescriptions/{p.id}/sortir", precise)
    assert reponse.status_code == 303
    with Session(app_p.extensions["db"]) as db:
        adresse = db.get(Utilisateur, p.prescripteur_id).courriel
    sujet, _corps = courriels_recus(app_p, adresse)[-1]
    assert sujet.startswith("La personne a terminé l'action : autre")
