"""The three journeys through the web pages, and the fiche's own rules."""

import csv
import io
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlmodel import Session, select

from catalogue import places
from catalogue.territoires import referentiel
from prescription.modeles import Beneficiaire, Notification, Prescription, Transition
from tests.prescription.conftest import PERSONNE, poster, prenom_de, se_connecter, texte
from web import affichage as aff


def prescriptions(app) -> list[Prescription]:
    with Session(app.extensions["db"]) as db:
        return list(db.exec(select(Prescription).order_by(Prescription.id)))


def restantes(app, fiche_id: str, session: str = places.ACTION):
    with Session(app.extensions["db"]) as db:
        return places.par_session(db, fiche_id)[session].places_restantes


def test_la_personne_s_inscrit_seule_et_suit_sa_demande(app_p, client_p):
    reponse = poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    assert reponse.status_code == 303
    suivi = client_p.get(reponse.headers["Location"])
    assert "C'est envoyé. Vous allez recevoir un SMS avec le lien" in texte(suivi)
    assert "Statut : Demandée" in texte(suivi)
    # Whom to call about it, on her page.
    assert "Une question ?" in texte(suivi)
    assert 'href="mailto:accueil@atelier-orne.example"' in texte(suivi)
    assert "C'est envoyé" not in texte(client_p.get(reponse.headers["Location"]))
    # Her name is not in the address (« Awa » could be in its random token).
    assert "Diallo" not in reponse.headers["Location"]
    [p] = prescriptions(app_p)
    assert (p.origine, p.statut, p.place_tenue) == (
        "auto-prescription",
        "demandee",
        True,
    )
    assert restantes(app_p, "velos-alencon") == 2


def test_sans_consentement_rien_n_est_enregistre(app_p, client_p):
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", PERSONNE)
    assert reponse.status_code == 422
    assert "Cochez la case pour dire que vous êtes d'accord" in texte(reponse)
    assert prescriptions(app_p) == []


def test_un_numero_incomplet_est_explique_avec_un_exemple_d_ici(app_p, client_p):
    donnees = {**PERSONNE, "telephone": "06 12 34 56 7", "consentement": "oui"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    page = texte(reponse)
    assert "écrivez ses 10 chiffres (par exemple 06 12 34 56 78)" in page
    # The page's title says it too (read first by a screen reader).
    assert "<title>1 point à corriger – M'inscrire" in page
    # An overseas example on every site puzzled people in the Orne.
    assert "+262" not in page
    assert prescriptions(app_p) == []


def test_un_numero_de_10_chiffres_qui_n_existe_pas_le_dit(app_p, client_p):
    # « 07 11 … » has its 10 digits; « écrivez ses 10 chiffres » puzzled.
    donnees = {**PERSONNE, "telephone": "07 11 22 33 44", "consentement": "oui"}
    page = texte(poster(client_p, "/fiches/velos-alencon/inscription", donnees))
    assert "Ce numéro n'existe pas (il n'est donné à personne) : vérifiez" in page
    assert "écrivez ses 10 chiffres" not in page
    assert prescriptions(app_p) == []


@pytest.mark.parametrize(
    ("telephone", "attendu"),
    [
        ("+33 7 11 22 33 44", "Ce numéro n'existe pas"),
        ("0033 7 11 22 33 44", "Ce numéro n'existe pas"),
        ("+33 (0)7 11 22 33 44", "Ce numéro n'existe pas"),
        # Its digits are right: the words around them are the problem.
        ("07 11 22 33 44 (maman)", "écrivez ses 10 chiffres"),
        ("06 12 34 56 7", "écrivez ses 10 chiffres"),
    ],
)
def test_le_message_du_numero_dit_ce_qui_ne_va_pas(app_p, client_p, telephone, attendu):
    donnees = {**PERSONNE, "telephone": telephone, "consentement": "oui"}
    page = texte(poster(client_p, "/fiches/velos-alencon/inscription", donnees))
    assert attendu in page


@pytest.mark.parametrize(
    "prenom",
    [
        "Votre dossier est suspendu : appelez le 08 99 00 00 00",
        "caf-regul.fr",
        "Awa2",
        "⁰⁶ ¹² ³⁴ ⁵⁶ ⁷⁸",  # digits of another kind are digits too
        "t.me",  # an address is no initial
        "x.com",
    ],
)
def test_un_prenom_n_envoie_ni_numero_ni_adresse_dans_nos_messages(
    app_p, client_p, prenom
):
    # Messages greet the person by her first name: typed with someone else's
    # e-mail, a number or a web address went out in the département's mail.
    donnees = {
        **PERSONNE,
        "prenom": prenom,
        "courriel": "victime@exemple.fr",
        "consentement": "oui",
    }
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    assert (
        "Le prénom ne peut contenir que des lettres, des espaces, des tirets, des "
        "apostrophes et des points d'initiales."
    ) in texte(reponse)
    assert prescriptions(app_p) == []


@pytest.mark.parametrize(
    "prenom",
    [
        "N'Diaye",
        "Nguyễn Thị",
        "J.-P.",
        "Zoë-Anne",
        "Zoe\u0308",  # ë typed as e and a combining diaeresis
        "Anne\u00a0Marie",  # a non-breaking space, pasted
        "Ахмед",
        "சுப்பிரமணியம்",  # letters and their vowel signs (marks)
        "J.P.",
        "Jean–Pierre",
        "علی\u200cنژاد",  # Persian, with the joiner its keyboards type
        "D´Angelo",  # the apostrophe of Spanish keyboards
        "Gal·la",
        "ジャン・ピエール",
        "ג׳ורג׳",
        "Jean\u00adPierre",  # a soft hyphen, pasted
    ],
)
def test_les_prenoms_de_partout_passent(app_p, client_p, prenom):
    donnees = {**PERSONNE, "prenom": prenom, "consentement": "oui"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 303


def test_il_faut_un_telephone_ou_un_courriel(app_p, client_p):
    donnees = {**PERSONNE, "telephone": "", "consentement": "oui"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    assert "Indiquez un numéro de téléphone ou une adresse e-mail" in texte(reponse)


@pytest.mark.parametrize("fixe", ["02 33 26 58 51", "0800 123 456", "09 70 00 00 00"])
def test_seule_avec_un_fixe_la_personne_donne_un_portable_ou_un_courriel(
    app_p, client_p, fixe
):
    """Her link goes by text message: a landline would never receive it."""
    donnees = {**PERSONNE, "telephone": fixe, "consentement": "oui"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    page = texte(reponse)
    assert "Ce numéro ne reçoit pas de SMS : donnez un numéro de portable" in page
    assert f'value="{fixe}"' in page  # kept, to be corrected
    assert prescriptions(app_p) == []
    # With an e-mail beside it, the landline is fine (the structure may call).
    avec_courriel = {**donnees, "courriel": "awa@exemple.fr"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", avec_courriel)
    assert reponse.status_code == 303


def test_hors_zone_l_inscription_seule_est_refusee_avec_une_explication(
    app_p, client_p
):
    donnees = {**PERSONNE, "commune": "Argentan", "consentement": "oui"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    assert "Argentan n'en fait pas partie" in texte(reponse)
    assert prescriptions(app_p) == []
    # Beside her commune, which is marked: not a box the focus never reaches.
    soupe = BeautifulSoup(texte(reponse), "html.parser")
    assert soupe.find(id="erreurs").find("a")["href"] == "#commune"
    assert soupe.find("input", id="commune")["aria-invalid"] == "true"
    assert "n'en fait pas partie" in soupe.find(id="commune-erreur").text
    assert soupe.find("input", id="commune")["value"] == "Argentan"
    # Not a dead end: the actions open to where she lives.
    ici = soupe.find("a", string="Voir les actions pour Argentan")
    assert ici["href"] == "/?commune=Argentan"
    # With another mistake, both are said at once, not in two rounds.
    deux = poster(
        client_p, "/fiches/velos-alencon/inscription", {**donnees, "telephone": "0612"}
    )
    liens = BeautifulSoup(texte(deux), "html.parser").find(id="erreurs").find_all("a")
    assert sorted(a["href"] for a in liens) == ["#commune", "#telephone"]


def test_une_action_reservee_aux_professionnels_refuse_l_inscription_seule(client_p):
    reponse = client_p.get("/fiches/chantier-orne/inscription")
    assert reponse.status_code == 403
    assert "c'est un référent ou un conseiller qui fait" in texte(reponse)


def test_le_referent_prescrit_et_le_hors_zone_lui_est_signale(app_p, client_p):
    se_connecter(client_p, "referent", prescripteur="referent-rsa")
    assert "Prescrire" in texte(client_p.get("/fiches/velos-alencon/prescrire"))
    donnees = {
        **PERSONNE,
        "commune": "Argentan",
        "motif": "Reprend un emploi à 6 km.",
        "engagement": "oui",
        "sexe": "femme",
        "tranche_age": "26-44",
    }
    # Asked before a place is held, not said afterwards.
    reponse = poster(client_p, "/fiches/velos-alencon/prescrire", donnees)
    assert reponse.status_code == 422
    assert "Argentan est hors de la zone de l'action : vérifiez la commune" in texte(
        reponse
    )
    assert 'value="Argentan"' in texte(reponse)
    assert prescriptions(app_p) == [] and restantes(app_p, "velos-alencon") == 3
    reponse = poster(
        client_p, "/fiches/velos-alencon/prescrire", {**donnees, "hors_zone": "oui"}
    )
    assert reponse.status_code == 303
    detail = texte(client_p.get(reponse.headers["Location"]))
    assert "Argentan est hors de la zone" in detail
    [p] = prescriptions(app_p)
    assert (p.origine, p.hors_zone, p.statut) == ("referent", True, "demandee")
    liste = texte(client_p.get("/pro/prescriptions?statut=demandee"))
    assert "Awa Diallo" in liste and "hors zone" in liste
    assert "Awa Diallo" not in texte(client_p.get("/pro/prescriptions?statut=entree"))
    # An old or edited link with a statut no list offers: said, all listed.
    liste = texte(client_p.get("/pro/prescriptions?statut=en-cours"))
    assert "Statut inconnu : « en-cours ». Toutes les demandes sont affichées." in liste
    assert "Awa Diallo" in liste


@pytest.mark.parametrize(
    ("tape", "code"),
    [
        ("Evry", "91228"),  # not Évry in the Yonne
        ("Corbeil", "91174"),  # Corbeil-Essonnes, not Corbeil in the Marne
        ("Evry 91000", "91228"),
        ("91000 Évry", "91228"),  # as on an envelope
        ("Evry (91000)", "91228"),
        ("Corbeil 91000", "91174"),  # Évry's postcode: still the Essonne's Corbeil
    ],
)
def test_la_commune_tapee_se_lit_comme_dans_la_recherche(app_p, client_p, tape, code):
    # A person of Évry asks for an Essonne action: never « hors zone ».
    reponse = poster(
        client_p,
        "/fiches/garage-evry/inscription",
        {**PERSONNE, "commune": tape, "consentement": "oui"},
    )
    assert reponse.status_code == 303, texte(reponse)
    [p] = prescriptions(app_p)
    assert p.hors_zone is False
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Beneficiaire, p.beneficiaire_id).commune_code == code


@pytest.mark.parametrize(
    ("tape", "message"),
    [
        ("Essonne", "« Essonne (91) » n'est pas une commune"),
        ("Evry Courcouronne", "Vouliez-vous dire Évry-Courcouronnes (91000) ?"),
        ("Xqzwv", "Commune inconnue : écrivez son nom ou son code postal."),
    ],
)
def test_un_lieu_qui_n_est_pas_une_commune_est_explique(client_p, tape, message):
    reponse = poster(
        client_p,
        "/fiches/garage-evry/inscription",
        {**PERSONNE, "commune": tape, "consentement": "oui"},
    )
    assert reponse.status_code == 422
    assert message in texte(reponse)


def test_la_commune_proposee_se_choisit_d_un_geste(app_p, client_p):
    # « Evry Courcouronne » typed on a phone: she taps the proposal instead
    # of typing the name again, accents and hyphens included.
    donnees = {**PERSONNE, "commune": "Evry Courcouronne", "consentement": "oui"}
    erreur = poster(client_p, "/fiches/garage-evry/inscription", donnees)
    [bouton] = BeautifulSoup(erreur.text, "html.parser").select(
        "button[name=commune_choisie]"
    )
    assert bouton.get_text() == "Évry-Courcouronnes (91000)"
    choisie = poster(
        client_p,
        "/fiches/garage-evry/inscription",
        {**donnees, "commune_choisie": bouton["value"]},
    )
    # Back to her, filled in and not sent: she checks, then sends.
    assert choisie.status_code == 200
    page = BeautifulSoup(choisie.text, "html.parser")
    assert page.select_one("#commune")["value"] == "Évry-Courcouronnes (91000)"
    assert "Commune : Évry-Courcouronnes. Vérifiez votre demande" in texte(choisie)
    assert page.select_one("#consentement").has_attr("checked")
    assert prescriptions(app_p) == []
    envoyee = poster(
        client_p,
        "/fiches/garage-evry/inscription",
        {**donnees, "commune": page.select_one("#commune")["value"]},
    )
    assert envoyee.status_code == 303
    [p] = prescriptions(app_p)
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Beneficiaire, p.beneficiaire_id).commune_code == "91228"


def test_une_commune_proposee_hors_de_la_zone_le_dit_sur_son_bouton(client_p):
    # « Alenzon » for the vélos of Alençon: Valenton was proposed beside
    # Alençon, and she learnt it was out of the zone only after sending.
    donnees = {**PERSONNE, "commune": "Alenzon", "consentement": "oui"}
    erreur = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    boutons = BeautifulSoup(erreur.text, "html.parser").select(
        "button[name=commune_choisie]"
    )
    assert [(b.get_text(), b["value"]) for b in boutons] == [
        ("Alençon (61000)", "Alençon (61000)"),
        ("Valenton (94460), hors de la zone de l'action", "Valenton (94460)"),
    ]


@pytest.mark.parametrize(
    "tape, premiere",
    [
        ("Saint Germain", "Saint-Germain-du-Corbéis (61000)"),
        ("61000", "Alençon (61000)"),
    ],
)
def test_une_commune_que_le_texte_ne_departage_pas_est_demandee(
    app_p, client_p, tape, premiere
):
    # « Saint Germain » went through as Saint-Germain-du-Corbéis, the biggest
    # of the seven of the Orne; « 61000 » as Alençon (two others share it).
    donnees = {**PERSONNE, "commune": tape, "consentement": "oui"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    assert f"Plusieurs communes répondent à « {tape} » : choisissez la vôtre" in (
        texte(reponse)
    )
    boutons = BeautifulSoup(reponse.text, "html.parser").select(
        "button[name=commune_choisie]"
    )
    assert len(boutons) > 1 and boutons[0]["value"] == premiere
    assert prescriptions(app_p) == []
    # Her commune's button, then « Envoyer »: recorded as that commune.
    sa_commune = "Saint-Germain-du-Corbéis (61000)"
    assert sa_commune in [b["value"] for b in boutons]
    choisie = {**donnees, "commune": sa_commune}
    envoyee = poster(client_p, "/fiches/velos-alencon/inscription", choisie)
    assert envoyee.status_code == 303
    [p] = prescriptions(app_p)
    with Session(app_p.extensions["db"]) as db:
        code = db.get(Beneficiaire, p.beneficiaire_id).commune_code
    assert referentiel().communes[code].nom == "Saint-Germain-du-Corbéis"


@pytest.mark.parametrize(
    "tape, premiere",
    [
        # « Commune inconnue », and nothing to tap.
        ("Saint-Germain-du-Corb", "Saint-Germain-du-Corbéis (61000)"),
        # Alès and Agen, far away and out of the zone, and not Alençon.
        ("Alen", "Alençon (61000)"),
    ],
)
def test_un_nom_de_commune_coupe_court_est_propose(client_p, tape, premiere):
    donnees = {**PERSONNE, "commune": tape, "consentement": "oui"}
    erreur = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert erreur.status_code == 422
    boutons = BeautifulSoup(erreur.text, "html.parser").select(
        "button[name=commune_choisie]"
    )
    assert boutons[0]["value"] == premiere
    assert f"Vouliez-vous dire {premiere}" in texte(erreur)


def test_une_commune_proposee_changee_en_route_est_relue(app_p, client_p):
    # The value comes back from the browser: read again as if typed.
    donnees = {**PERSONNE, "consentement": "oui", "commune_choisie": "Xqzwv"}
    reponse = poster(client_p, "/fiches/garage-evry/inscription", donnees)
    assert reponse.status_code == 422
    assert "Commune inconnue" in texte(reponse)
    assert prescriptions(app_p) == []


def test_seuls_les_prescripteurs_listes_prescrivent(app_p, client_p):
    se_connecter(client_p, "referent", prescripteur="mission-locale")
    # Said when the form opens, before anything is typed.
    formulaire = client_p.get("/fiches/chantier-orne/prescrire")
    assert "ne fait pas partie des prescripteurs" in texte(formulaire)
    # Nothing to fill in that could only be refused: no form, a way out.
    assert 'class="formulaire"' not in texte(formulaire)
    assert "Chercher une autre action" in texte(formulaire)
    donnees = {**PERSONNE, "motif": "Projet espaces verts", "engagement": "oui"}
    reponse = poster(client_p, "/fiches/chantier-orne/prescrire", donnees)
    assert reponse.status_code == 422
    assert "ne fait pas partie des prescripteurs" in texte(reponse)
    assert prescriptions(app_p) == []


def test_le_referent_lit_sur_chaque_carte_s_il_peut_prescrire(client_p):
    def inscription(nom_de_l_action: str, client=client_p) -> str:
        page = BeautifulSoup(client.get("/").text, "html.parser")
        [carte] = [c for c in page.select("li.carte") if nom_de_l_action in c.h3.text]
        [dd] = [
            d.dd for d in carte.select("dl.faits > div") if d.dt.text == "Inscription"
        ]
        return dd.get_text()

    # Anonymous: words for the person.
    assert inscription("Chantier d'insertion") == (
        "Il faut passer par votre référent ou un conseiller."
    )
    se_connecter(client_p, "referent", prescripteur="mission-locale")
    # Not « passer par votre référent »: he is one; can his service?
    assert inscription("Chantier d'insertion") == (
        "Votre service ne fait pas partie des prescripteurs de cette action."
    )
    assert inscription("Prêt de vélos") == (
        "Vous pouvez prescrire cette action ; la personne peut aussi s'inscrire "
        "elle-même."
    )
    # The page kept for the next visitors is never his.
    anonyme = client_p.application.test_client()
    assert inscription("Prêt de vélos", anonyme) == (
        "Vous pouvez vous inscrire vous-même, ou passer par votre référent."
    )


def test_reservation_par_session(app_p, client_p):
    donnees = {**PERSONNE, "consentement": "oui", "session": "2099-06-01"}
    assert (
        poster(client_p, "/fiches/cv-sessions-alencon/inscription", donnees).status_code
        == 303
    )
    assert restantes(app_p, "cv-sessions-alencon", "2099-06-01") == 0
    assert restantes(app_p, "cv-sessions-alencon", "2099-03-01") == 5
    [p] = prescriptions(app_p)
    assert p.session == "2099-06-01"
    autre = {**donnees, "prenom": "Fatou", "telephone": "06 98 76 54 32"}
    complet = poster(client_p, "/fiches/cv-sessions-alencon/inscription", autre)
    assert "C'est complet" in texte(complet)
    # The structure answering reads her session as hers, not « 0 place
    # libre » (which pushed it to move her or refuse).
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    demande = texte(prestataire.get(f"/pro/prescriptions/{p.id}"))
    assert "Du 1er juin 2099 – sa place y est réservée" in demande
    assert "Du 1er mars 2099 – 5 places libres" in demande
    assert "0 place libre" not in demande


def test_le_prestataire_inscrit_une_personne_venue_seule_et_repond(app_p, client_p):
    se_connecter(client_p, "prestataire", structure="atelier-orne")
    reponse = poster(client_p, "/pro/fiches/velos-alencon/inscrire", PERSONNE)
    assert reponse.status_code == 303
    [p] = prescriptions(app_p)
    assert (p.origine, p.statut) == ("prestataire", "acceptee")
    poster(client_p, f"/pro/prescriptions/{p.id}/entrer")
    reponse = poster(
        client_p, f"/pro/prescriptions/{p.id}/sortir", {"type_sortie": "emploi-durable"}
    )
    assert reponse.status_code == 303
    [p] = prescriptions(app_p)
    assert (p.statut, p.type_sortie, p.place_tenue) == (
        "sortie",
        "emploi-durable",
        False,
    )
    assert restantes(app_p, "velos-alencon") == 3
    with Session(app_p.extensions["db"]) as db:
        journal = db.exec(select(Transition).where(Transition.prescription_id == p.id))
        assert [(t.de, t.vers) for t in journal] == [
            (None, "acceptee"),
            ("acceptee", "entree"),
            ("entree", "sortie"),
        ]


def test_le_prestataire_confirme_avant_d_annuler_une_demande(app_p, client_p):
    poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    [p] = prescriptions(app_p)
    se_connecter(client_p, "prestataire", structure="atelier-orne")
    page = texte(client_p.get(f"/pro/prescriptions/{p.id}"))
    assert "Je confirme l'annulation" in page
    # A slip on « Annuler », next to « Refuser »: nothing happens.
    reponse = poster(client_p, f"/pro/prescriptions/{p.id}/annuler")
    assert reponse.status_code == 422
    assert "Cochez « Je confirme l'annulation »" in texte(reponse)
    assert prescriptions(app_p)[0].statut == "demandee"
    # That page's address opened again (history, a link kept): the request's
    # page, not « Method Not Allowed », and still nothing done.
    relue = client_p.get(f"/pro/prescriptions/{p.id}/annuler")
    assert relue.status_code == 303
    assert relue.headers["Location"] == f"/pro/prescriptions/{p.id}"
    assert prescriptions(app_p)[0].statut == "demandee"
    assert restantes(app_p, "velos-alencon") == 2
    reponse = poster(
        client_p, f"/pro/prescriptions/{p.id}/annuler", {"confirmer": "oui"}
    )
    assert reponse.status_code == 303
    assert prescriptions(app_p)[0].statut == "annulee"
    assert restantes(app_p, "velos-alencon") == 3


def test_le_referent_n_est_pas_prevenu_de_ce_qu_il_vient_de_faire(app_p):
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {**PERSONNE, "motif": "Reprend un emploi.", "engagement": "oui"}
    for prenom in ("Awa", "Binta"):
        poster(
            referent, "/fiches/velos-alencon/prescrire", {**donnees, "prenom": prenom}
        )
    awa, binta = prescriptions(app_p)

    def annonces() -> list[str]:
        with Session(app_p.extensions["db"]) as db:
            return [
                n.sujet
                for n in db.exec(select(Notification))
                if n.sujet.startswith("Demande annulée")
                and n.destinataire.endswith("demo.invalid")
            ]

    # She cancels hers: no e-mail to herself about it.
    annuler = {"confirmer": "oui"}
    poster(referent, f"/pro/prescriptions/{awa.id}/annuler", annuler)
    assert prescriptions(app_p)[0].statut == "annulee"
    assert annonces() == []
    # The structure cancels the other: she is told.
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(prestataire, f"/pro/prescriptions/{binta.id}/annuler", annuler)
    assert annonces() == ["Demande annulée – Prêt de vélos à Alençon"]


def test_la_validation_ajoute_l_etape_a_valider(app_p):
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {**PERSONNE, "motif": "Projet", "engagement": "oui"}
    assert (
        poster(referent, "/fiches/chantier-orne/prescrire", donnees).status_code == 303
    )
    [p] = prescriptions(app_p)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    refus = poster(prestataire, f"/pro/prescriptions/{p.id}/accepter")
    assert refus.status_code == 422
    assert "demande une validation avant l'entrée" in texte(refus)
    poster(prestataire, f"/pro/prescriptions/{p.id}/etudier")
    poster(prestataire, f"/pro/prescriptions/{p.id}/valider")
    assert prescriptions(app_p)[0].statut == "acceptee"


def test_complet_puis_liste_d_attente_puis_place_liberee(app_p):
    personne = app_p.test_client()
    for i in range(3):
        donnees = {**PERSONNE, "prenom": prenom_de(i), "consentement": "oui"}
        assert (
            poster(personne, "/fiches/velos-alencon/inscription", donnees).status_code
            == 303
        )
    donnees = {**PERSONNE, "prenom": "Quatrième", "consentement": "oui"}
    complet = poster(personne, "/fiches/velos-alencon/inscription", donnees)
    assert "C'est complet" in texte(complet)
    assert "M'inscrire sur la liste d'attente" in texte(complet)
    attente = poster(
        personne,
        "/fiches/velos-alencon/inscription",
        {**donnees, "liste_attente": "oui"},
    )
    suivi = attente.headers["Location"]
    assert "Sur liste d'attente" in texte(personne.get(suivi))
    premier = prescriptions(app_p)[0]
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(
        prestataire,
        f"/pro/prescriptions/{premier.id}/refuser",
        {"motif_refus": "public-non-concerne"},
    )
    # The freed place went straight to the person waiting.
    assert "Statut : Demandée" in texte(personne.get(suivi))
    assert restantes(app_p, "velos-alencon") == 0
    with Session(app_p.extensions["db"]) as db:
        quatrieme = db.exec(
            select(Beneficiaire).where(Beneficiaire.prenom == "Quatrième")
        ).one()
        p = db.exec(
            select(Prescription).where(Prescription.beneficiaire_id == quatrieme.id)
        ).one()
        assert p.place_tenue


def test_la_personne_annule_par_son_lien_et_la_place_revient(app_p, client_p):
    reponse = poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    suivi = reponse.headers["Location"]
    assert restantes(app_p, "velos-alencon") == 2
    assert 'href="' + suivi + '/annuler"' in texte(client_p.get(suivi))
    question = texte(client_p.get(suivi + "/annuler"))
    assert "Annuler ma demande ?" in question
    assert "Votre place sera donnée à quelqu'un d'autre" in question
    assert f'href="{suivi}">Non, garder ma demande' in question
    # Sent without the confirmation (an old page, a double tap): only asks.
    assert "Annuler ma demande ?" in texte(poster(client_p, suivi + "/annuler"))
    assert restantes(app_p, "velos-alencon") == 2
    annulation = poster(client_p, suivi + "/annuler", {"confirmer": "oui"})
    assert annulation.status_code == 303
    page = texte(client_p.get(annulation.headers["Location"]))
    assert "Votre demande est annulée." in page
    assert "Statut : Annulée" in page
    assert 'href="/">Chercher une autre action' in page
    assert "Annuler ma demande" not in page
    assert restantes(app_p, "velos-alencon") == 3
    # Once cancelled, the cancel address leads back to the follow-up page.
    assert client_p.get(suivi + "/annuler").headers["Location"].endswith(suivi)
    # A second tap on « Oui, annuler » (a slow phone): the same page, no error.
    encore = poster(client_p, suivi + "/annuler", {"confirmer": "oui"})
    assert encore.status_code == 303 and encore.headers["Location"].endswith(suivi)
    assert restantes(app_p, "velos-alencon") == 3


def remplir(app, fiche_id: str = "velos-alencon", n: int = 3) -> None:
    client = app.test_client()
    for i in range(n):
        donnees = {**PERSONNE, "prenom": prenom_de(i), "consentement": "oui"}
        assert (
            poster(client, f"/fiches/{fiche_id}/inscription", donnees).status_code
            == 303
        )


def test_une_action_complete_le_dit_avant_qu_on_ecrive_et_offre_la_liste(app_p):
    remplir(app_p)
    personne = app_p.test_client()
    fiche = texte(personne.get("/fiches/velos-alencon"))
    assert "C'est complet pour le moment." in fiche
    assert ">M'inscrire sur la liste d'attente</a>" in fiche
    assert "M'inscrire en ligne" not in fiche
    formulaire = texte(personne.get("/fiches/velos-alencon/inscription"))
    assert "C'est complet pour le moment." in formulaire
    assert 'name="liste_attente" value="oui"' in formulaire
    assert "Envoyer ma demande" not in formulaire
    # One send puts her on the list, no second screen.
    donnees = {**PERSONNE, "prenom": "Quatrième", "consentement": "oui"}
    attente = poster(
        personne,
        "/fiches/velos-alencon/inscription",
        {**donnees, "liste_attente": "oui"},
    )
    assert attente.status_code == 303
    assert "Sur liste d'attente" in texte(personne.get(attente.headers["Location"]))


def test_la_liste_d_attente_demandee_quand_une_place_s_est_liberee_donne_la_place(
    app_p,
):
    personne = app_p.test_client()
    donnees = {**PERSONNE, "consentement": "oui", "liste_attente": "oui"}
    reponse = poster(personne, "/fiches/velos-alencon/inscription", donnees)
    assert "Statut : Demandée" in texte(personne.get(reponse.headers["Location"]))
    assert restantes(app_p, "velos-alencon") == 2


def test_un_referent_d_un_service_non_prescripteur_le_lit_sur_la_fiche(app_p):
    """The button led to a page that only said « Votre service ne fait pas
    partie des prescripteurs » : said on the fiche, with whom to call."""
    referent = se_connecter(app_p.test_client(), "referent", prescripteur="siao")
    page = texte(referent.get("/fiches/chantier-orne"))
    debut = page.index("Je veux y participer")
    section = page[debut : page.index("Vous êtes référent ou conseiller", debut)]
    assert "Votre service ne fait pas partie des prescripteurs" in section
    assert ">Prescrire<" not in section


def test_le_referent_connecte_voit_prescrire_en_premier(app_p):
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    page = texte(referent.get("/fiches/chantier-orne"))
    debut = page.index("Je veux y participer")
    section = page[debut : page.index("Vous êtes référent ou conseiller", debut)]
    assert "Vous êtes connecté comme référent" in section
    assert ">Prescrire<" in section
    assert "Parlez-en à votre référent" not in section
    # The person without a login still reads what is written for her.
    anonyme = texte(app_p.test_client().get("/fiches/chantier-orne"))
    assert "Parlez-en à votre référent" in anonyme
    assert "Vous êtes connecté comme référent" not in anonyme


def test_le_prestataire_accepte_avec_une_date_et_un_message_puis_date_entree_et_sortie(
    app_p,
):
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    donnees = {
        **PERSONNE,
        "courriel": "awa@exemple.fr",
        "motif": "Reprend un emploi.",
        "engagement": "oui",
    }
    assert (
        poster(referent, "/fiches/velos-alencon/prescrire", donnees).status_code == 303
    )
    [p] = prescriptions(app_p)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    page = texte(prestataire.get(f"/pro/prescriptions/{p.id}"))
    # Who asked, to call them back.
    assert "Prescrit par" in page and "Référente Démo" in page
    assert "Service de démonstration" in page
    debut = places.maintenant_utc().date() + timedelta(days=7)
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/accepter",
        {"le": debut.isoformat(), "message": "Venez à 9 h avec une pièce d'identité."},
    )
    assert reponse.status_code == 303
    with Session(app_p.extensions["db"]) as db:
        courriel = db.exec(
            select(Notification).where(
                Notification.destinataire == "awa@exemple.fr",
                Notification.sujet.startswith("Demande acceptée"),
            )
        ).one()
    assert f"Début le {debut:%d/%m/%Y}." in courriel.corps
    assert "Message de la structure : Venez à 9 h avec une pièce" in courriel.corps
    # An entry in the future, or before the request, is refused; nothing changes.
    demain = (places.maintenant_utc().date() + timedelta(days=1)).isoformat()
    refus = poster(prestataire, f"/pro/prescriptions/{p.id}/entrer", {"le": demain})
    assert refus.status_code == 422
    assert "La date ne peut pas être dans le futur" in texte(refus)
    refus = poster(
        prestataire, f"/pro/prescriptions/{p.id}/entrer", {"le": "2020-01-01"}
    )
    assert "La date ne peut pas être avant la demande" in texte(refus)
    refus = poster(prestataire, f"/pro/prescriptions/{p.id}/entrer", {"le": "lundi"})
    assert "« lundi » n'est pas une date" in texte(refus)
    # The date field sends AAAA-MM-JJ: a day out of the calendar is said so,
    # not « write it JJ/MM/AAAA ».
    refus = poster(
        prestataire, f"/pro/prescriptions/{p.id}/entrer", {"le": "2027-02-30"}
    )
    assert "Le 30/02/2027 n'existe pas dans le calendrier." in texte(refus)
    assert prescriptions(app_p)[0].statut == "acceptee"
    # Entered today, exited today (the earliest day allowed: the request's).
    aujourd_hui = places.maintenant_utc().date()
    poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/entrer",
        {"le": aujourd_hui.strftime("%d/%m/%Y")},
    )
    # Before the start day she was told (in a week): allowed, and said.
    assert (
        f"Entrée notée le {aujourd_hui:%d/%m/%Y}, avant le début annoncé à la "
        f"personne (le {debut:%d/%m/%Y})."
    ) in texte(prestataire.get(f"/pro/prescriptions/{p.id}"))
    # The day comes before the closing words, not after « Bon courage ! ».
    with Session(app_p.extensions["db"]) as db:
        bienvenue = db.exec(
            select(Notification).where(Notification.sujet.startswith("Bienvenue"))
        ).one()
    assert f"». Le {aujourd_hui:%d/%m/%Y}. Bon courage !\n" in bienvenue.corps, (
        bienvenue.corps
    )
    poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/sortir",
        {"le": aujourd_hui.isoformat(), "type_sortie": "formation"},
    )
    with Session(app_p.extensions["db"]) as db:
        journal = db.exec(
            select(Transition)
            .where(Transition.prescription_id == p.id)
            .order_by(Transition.id)
        ).all()
    assert [(t.action, t.effet_le) for t in journal] == [
        ("demander", None),
        ("accepter", debut),
        ("entrer", aujourd_hui),
        ("sortir", aujourd_hui),
    ]
    page = texte(prestataire.get(f"/pro/prescriptions/{p.id}"))
    assert f"Acceptée – début le {aff.date_fr(debut)}" in page


def test_le_fichier_du_prestataire_nomme_l_action_et_date_l_entree_et_la_sortie(
    app_p, client_p
):
    # The prestataire signs a person in, notes her entry, then her exit; a
    # second one is only accepted. Her spreadsheet names the action (not
    # only its code) and says when each one entered and left.
    se_connecter(client_p, "prestataire", structure="atelier-orne")
    poster(client_p, "/pro/fiches/velos-alencon/inscrire", PERSONNE)
    poster(
        client_p,
        "/pro/fiches/chantier-orne/inscrire",
        {**PERSONNE, "prenom": "Fatou", "telephone": "06 98 76 54 32"},
    )
    [p] = [x for x in prescriptions(app_p) if x.fiche_id == "velos-alencon"]
    aujourd_hui = places.maintenant_utc().date()
    poster(client_p, f"/pro/prescriptions/{p.id}/entrer", {"le": str(aujourd_hui)})
    poster(
        client_p,
        f"/pro/prescriptions/{p.id}/sortir",
        {"le": str(aujourd_hui), "type_sortie": "formation"},
    )
    corps = client_p.get("/pro/demandes.csv").get_data(as_text=True)
    lignes = list(csv.DictReader(io.StringIO(corps.lstrip("\ufeff")), delimiter=";"))
    par_action = {x["action_id"]: x for x in lignes}
    velos, chantier = par_action["velos-alencon"], par_action["chantier-orne"]
    assert velos["action"] == "Prêt de vélos à Alençon"
    assert (velos["entree_le"], velos["sortie_le"], velos["type_sortie"]) == (
        aujourd_hui.isoformat(),
        aujourd_hui.isoformat(),
        "Formation qualifiante",
    )
    assert chantier["action"] == "Chantier d'insertion espaces verts"
    assert (chantier["entree_le"], chantier["sortie_le"]) == ("", "")


def test_la_personne_lit_la_raison_d_un_refus_dite_a_elle(app_p, client_p):
    reponse = poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    suivi = reponse.headers["Location"]
    [p] = prescriptions(app_p)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/refuser",
        {"motif_refus": "injoignable"},
    )
    # The prestataire reads what is now true, not the button's verb.
    apres = texte(prestataire.get(reponse.headers["Location"]))
    assert "C'est noté. La demande est « Refusée »." in apres
    assert "C'est noté : refuser" not in apres
    page = texte(client_p.get(suivi))
    assert "Raison : la structure n'a pas pu vous joindre." in page
    assert "La personne" not in page


def test_une_action_terminee_ne_montre_aucun_formulaire(app):
    """The référent reads at once that nobody enters, instead of a form."""
    referent = se_connecter(app.test_client(), "referent", prescripteur="siao")
    page = texte(referent.get("/fiches/44-trajet-coach/prescrire"))
    assert "Cette action n'accueille personne en ce moment" in page
    assert 'class="formulaire"' not in page


def _inscrite_et_sa_structure(app_p, client_p):
    """She booked the bikes herself: her follow page, her request, and the
    structure that answers."""
    suivi = poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    ).headers["Location"]
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    return suivi, prescriptions(app_p)[-1], prestataire


def test_la_page_de_suivi_dit_ce_que_la_structure_a_repondu(app_p, client_p):
    # The SMS said when to come and what to bring; her page said only
    # « Acceptée ». It keeps the day and the structure's words now.
    suivi, p, prestataire = _inscrite_et_sa_structure(app_p, client_p)
    debut = (places.maintenant_utc() + timedelta(days=10)).date()
    poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/accepter",
        {"le": debut.isoformat(), "message": "Venez avec une pièce d'identité."},
    )
    page = texte(client_p.get(suivi))
    assert f"Vous commencez le {aff.date_fr(debut)}." in page  # under the status
    assert f"Acceptée – début le {aff.date_fr(debut)}" in page
    assert (
        "Message de la structure : "
        '<span class="lignes">«\xa0Venez avec une pièce d\'identité.\xa0»' in page
    )
    # Once she has entered, an old « annuler » link says why it no longer can.
    poster(prestataire, f"/pro/prescriptions/{p.id}/entrer", {})
    for envoi in (client_p.get, lambda u: poster(client_p, u, {"confirmer": "oui"})):
        reponse = envoi(suivi + "/annuler")
        assert reponse.status_code == 303
        page = texte(client_p.get(reponse.headers["Location"]))
        assert (
            "Votre entrée dans l'action est notée : la demande ne s'annule plus" in page
        )
        assert "plus_annulable" not in page  # the code is never shown
        assert "Vous êtes dans l'action depuis le" in page
        assert "Vous commencez le" not in page  # the planned day is past news
        assert "Annuler ma demande" not in page
    assert prescriptions(app_p)[-1].statut == "entree"


def test_acceptee_sans_date_ni_mot_la_page_dit_la_suite_et_le_lieu(app_p, client_p):
    # « Statut : Acceptée », and nothing about what comes next or where.
    suivi, p, prestataire = _inscrite_et_sa_structure(app_p, client_p)
    poster(prestataire, f"/pro/prescriptions/{p.id}/accepter", {})
    page = texte(client_p.get(suivi))
    assert "va vous contacter pour vous dire quand et où venir." in page
    assert "<dt>Où</dt><dd>" in page and "Alençon" in page


def test_un_refus_pour_autre_raison_montre_les_mots_de_la_structure(app_p, client_p):
    suivi = poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    ).headers["Location"]
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(
        prestataire,
        f"/pro/prescriptions/{prescriptions(app_p)[-1].id}/refuser",
        {"motif_refus": "autre", "message": "L'atelier ferme en décembre."},
    )
    page = client_p.get(suivi).get_data(as_text=True)
    assert "Raison : ." not in texte(client_p.get(suivi))
    assert '<div class="encadre" role="status">' in page  # not a green success
    assert "Un conseiller peut vous aider à trouver autre chose." in texte(
        client_p.get(suivi)
    )
    assert "Chercher une autre action" in page
    assert (
        "Message de la structure : "
        '<span class="lignes">«\xa0L\'atelier ferme en décembre.\xa0»'
        in texte(client_p.get(suivi))
    )


def test_refusee_faute_de_place_la_place_ne_se_remet_pas_en_vente(app_p, client_p):
    """« L'action est complète »: the place she held does not exist. Given
    back, the fiche showed « 1 place libre » at once."""
    poster(
        client_p,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    [p] = prescriptions(app_p)
    assert restantes(app_p, "velos-alencon") == 2
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(
        prestataire,
        f"/pro/prescriptions/{p.id}/refuser",
        {"motif_refus": "complet"},
        follow_redirects=True,
    )
    [p] = prescriptions(app_p)
    assert (p.statut, p.place_tenue) == ("refusee", False)
    assert restantes(app_p, "velos-alencon") == 2
    # Said, with the way back when the count was right (a seat vanished
    # without a word), and what the count now says.
    assert (
        "Sa place n'est pas remise en ligne : l'action affiche encore 2 places "
        "restantes. Si sa place est en fait libre, ajoutez-la dans « Mes places » "
        "(+1)."
    ) in texte(reponse)
