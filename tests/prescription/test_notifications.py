"""Messages: SMTP down then back (a real SMTP server), SMS through an HTTP API."""

import email
import email.policy
import logging
import re
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from catalogue import places
from prescription.modeles import (
    Adhesion,
    Beneficiaire,
    Notification,
    Prescription,
    StructurePro,
    Utilisateur,
)
from tests.prescription.conftest import PERSONNE, poster, se_connecter, texte
from web.securite import ConfigurationInvalide


class Boite:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    boite, port = Boite(), port_libre()
    serveur = Controller(boite, hostname="127.0.0.1", port=port)
    yield boite, serveur, port
    if getattr(serveur, "_thread", None) is not None:
        serveur.stop()


def test_smtp_en_panne_la_demande_est_gardee_et_le_message_part_au_retour(
    creer_app_prescription, smtp
):
    boite, serveur, port = smtp
    app = creer_app_prescription(
        COURRIEL_ENVOI="smtp", SMTP_HOTE="127.0.0.1", SMTP_PORT=port
    )
    personne = app.test_client()
    donnees = {
        **PERSONNE,
        "telephone": "",
        "courriel": "awa@exemple.fr",
        "consentement": "oui",
    }
    reponse = poster(personne, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 303  # the server is down: the request is saved
    with Session(app.extensions["db"]) as db:
        assert db.exec(select(Prescription)).one().statut == "demandee"
        en_attente = db.exec(select(Notification)).all()
        assert {n.destinataire for n in en_attente} == {
            "awa@exemple.fr",
            "accueil@atelier-orne.example",
        }
        assert all(n.envoye_le is None and n.essais == 1 for n in en_attente)
    serveur.start()
    sortie = app.test_cli_runner().invoke(args=["prescriptions", "relancer"]).output
    assert "2 message(s) envoyé(s), 0 en échec" in sortie
    destinataires = sorted(d for rcpt, _ in boite.messages for d in rcpt)
    assert destinataires == ["accueil@atelier-orne.example", "awa@exemple.fr"]
    corps = next(c for rcpt, c in boite.messages if rcpt == ["awa@exemple.fr"])
    lu = email.message_from_string(corps, policy=email.policy.default)
    assert "Demande envoyée pour « Prêt de vélos à Alençon »" in lu.get_content()
    # Sent once: the next run sends nothing again.
    sortie = app.test_cli_runner().invoke(args=["prescriptions", "relancer"]).output
    assert "0 message(s) envoyé(s)" in sortie
    assert len(boite.messages) == 2


def test_la_personne_sans_courriel_recoit_un_sms_par_l_api(
    creer_app_prescription, httpserver
):
    httpserver.expect_request(
        "/v3/transactionalSMS/sms", method="POST", headers={"api-key": "cle-essai"}
    ).respond_with_json({"messageId": 1}, status=201)
    app = creer_app_prescription(
        SMS_ENVOI="brevo",
        SMS_URL=httpserver.url_for("/v3/transactionalSMS/sms"),
        SMS_CLE_API="cle-essai",
    )
    poster(
        app.test_client(),
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    [(requete, _)] = httpserver.log
    corps = requete.get_json()
    assert corps["recipient"] == "33612345678"
    assert corps["type"] == "transactional"
    assert corps["content"].startswith('Demande envoyée pour "Pret de vélos')
    assert "/suivi/" in corps["content"]


@pytest.mark.parametrize(
    ("tape", "garde", "envoye"),
    [
        ("0692 12 34 56", "+262 692 12 34 56", "262692123456"),  # La Réunion
        ("+262 692 12 34 56", "+262 692 12 34 56", "262692123456"),
        ("0690 12 34 56", "+590 690 12 34 56", "590690123456"),  # Guadeloupe
        ("+213 551 23 45 67", "+213 551 23 45 67", "213551234567"),  # Algérie
        ("00 44 7911 123456", "+44 7911 123456", "447911123456"),
        ("+33 6 12 34 56 78", "06 12 34 56 78", "33612345678"),
    ],
)
def test_un_numero_d_outre_mer_ou_de_l_etranger_garde_son_pays(
    creer_app_prescription, httpserver, tape, garde, envoye
):
    # The SMS carries the personal follow-up link: sent to the same digits
    # in metropolitan France, it would reach a stranger.
    httpserver.expect_request("/sms", method="POST").respond_with_json({}, 201)
    app = creer_app_prescription(
        SMS_ENVOI="brevo", SMS_URL=httpserver.url_for("/sms"), SMS_CLE_API="cle"
    )
    reponse = poster(
        app.test_client(),
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "telephone": tape, "consentement": "oui"},
    )
    assert reponse.status_code == 303
    with Session(app.extensions["db"]) as db:
        assert db.exec(select(Beneficiaire.telephone)).one() == garde
    [(requete, _)] = httpserver.log
    assert requete.get_json()["recipient"] == envoye


def test_sms_refuse_par_l_api_il_reste_en_file(creer_app_prescription, httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_data(
        "non", status=503
    )
    app = creer_app_prescription(
        SMS_ENVOI="brevo", SMS_URL=httpserver.url_for("/sms"), SMS_CLE_API="x"
    )
    poster(
        app.test_client(),
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    with Session(app.extensions["db"]) as db:
        sms = db.exec(select(Notification).where(Notification.canal == "sms")).one()
        assert sms.envoye_le is None and sms.derniere_erreur == "HTTPError"


def test_le_planificateur_relance_puis_expire_et_rend_la_place(app_p):
    referent = se_connecter(
        app_p.test_client(), "referent", prescripteur="referent-rsa"
    )
    poster(
        referent,
        "/fiches/velos-alencon/prescrire",
        {**PERSONNE, "motif": "Emploi", "engagement": "oui"},
    )
    runner = app_p.test_cli_runner()

    def vieillir(jours: int):
        with Session(app_p.extensions["db"]) as db:
            p = db.exec(select(Prescription)).one()
            p.maj_le = places.maintenant_utc() - timedelta(days=jours)
            db.add(p)
            db.commit()

    assert (
        "0 relance(s), 0 demande(s) expirée(s)"
        in runner.invoke(args=["prescriptions", "relancer"]).output
    )
    vieillir(6)
    assert (
        "1 relance(s), 0 demande(s) expirée(s)"
        in runner.invoke(args=["prescriptions", "relancer"]).output
    )
    assert "0 relance(s)" in runner.invoke(args=["prescriptions", "relancer"]).output
    vieillir(22)
    assert (
        "0 relance(s), 1 demande(s) expirée(s)"
        in runner.invoke(args=["prescriptions", "relancer"]).output
    )
    with Session(app_p.extensions["db"]) as db:
        p = db.exec(select(Prescription)).one()
        assert (p.statut, p.place_tenue) == ("expiree", False)
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 3
        sujets = [n.sujet for n in db.exec(select(Notification))]
    assert any(
        s.startswith("Rappel : une demande attend votre réponse") for s in sujets
    )
    # The référent who asked learns it too, in words of the trade.
    assert "Demande fermée faute de réponse – Prêt de vélos à Alençon" in sujets


def test_une_place_sur_la_liste_d_attente_n_expire_pas_faute_de_reponse(app_p):
    """Put on the waiting list is an answer: after 3 weeks she still waits,
    in her turn (she expired as « sans réponse » and the list emptied)."""
    with Session(app_p.extensions["db"]) as db:
        places.fixer(db, "velos-alencon", 0, "essai")
        db.commit()
    envoi = {**PERSONNE, "consentement": "oui", "liste_attente": "oui"}
    poster(app_p.test_client(), "/fiches/velos-alencon/inscription", envoi)
    with Session(app_p.extensions["db"]) as db:
        p = db.exec(select(Prescription)).one()
        assert p.statut == "liste_attente"
        p.maj_le = p.cree_le = places.maintenant_utc() - timedelta(days=60)
        db.add(p)
        db.commit()
    sortie = app_p.test_cli_runner().invoke(args=["prescriptions", "relancer"]).output
    assert "0 relance(s), 0 demande(s) expirée(s)" in sortie
    with Session(app_p.extensions["db"]) as db:
        assert db.exec(select(Prescription)).one().statut == "liste_attente"


EN_PRODUCTION = {
    "TESTING": False,
    "SECRET_KEY": "une-longue-cle-aleatoire",
    "URL_PUBLIQUE": "http://offre.exemple.fr",
}
# Real sending, with what each sender needs.
ENVOI_REEL = {
    "COURRIEL_ENVOI": "smtp",
    "COURRIEL_EXPEDITEUR": "ne-pas-repondre@exemple.fr",
    "SMS_ENVOI": "brevo",
    "SMS_CLE_API": "cle-essai",
}


def test_en_production_les_envoyeurs_console_sont_refuses_sauf_accord_explicite(
    creer_app_prescription,
):
    with pytest.raises(
        ConfigurationInvalide, match="^COURRIEL_ENVOI et SMS_ENVOI valent « console »"
    ):
        creer_app_prescription(EN_PRODUCTION)
    with pytest.raises(ConfigurationInvalide, match="^COURRIEL_ENVOI vaut « console »"):
        creer_app_prescription(
            EN_PRODUCTION, **{**ENVOI_REEL, "COURRIEL_ENVOI": "console"}
        )
    assert creer_app_prescription(EN_PRODUCTION, **ENVOI_REEL)
    assert creer_app_prescription(EN_PRODUCTION, ENVOI_CONSOLE_AUTORISE=True)


@pytest.mark.parametrize(
    ("manque", "message"),
    [
        ({"SMS_CLE_API": None}, "SMS_ENVOI vaut « brevo » mais SMS_CLE_API"),
        (
            {"COURRIEL_EXPEDITEUR": "ne-pas-repondre@offre-insertion.invalid"},
            "COURRIEL_ENVOI vaut « smtp » mais COURRIEL_EXPEDITEUR",
        ),
        ({"COURRIEL_EXPEDITEUR": ""}, "COURRIEL_EXPEDITEUR n'est pas une vraie"),
    ],
)
def test_en_production_un_envoi_reel_sans_son_reglage_est_refuse(
    creer_app_prescription, manque, message
):
    with pytest.raises(ConfigurationInvalide, match=message):
        creer_app_prescription(EN_PRODUCTION, **{**ENVOI_REEL, **manque})


def test_le_journal_de_production_ne_garde_ni_le_message_ni_la_personne(
    creer_app_prescription, caplog
):
    caplog.set_level(logging.INFO, logger="prescription.notifications")
    app = creer_app_prescription(EN_PRODUCTION, ENVOI_CONSOLE_AUTORISE=True)
    personne = app.test_client()
    for donnees in (
        PERSONNE,
        {**PERSONNE, "telephone": "", "courriel": "awa.diallo@exemple.fr"},
    ):
        formulaire = personne.get("/fiches/velos-alencon/inscription")
        jeton = re.search(r'name="csrf_token" value="([^"]+)"', texte(formulaire))[1]
        reponse = personne.post(
            "/fiches/velos-alencon/inscription",
            data={**donnees, "consentement": "oui", "csrf_token": jeton},
        )
        assert reponse.status_code == 303
    journal = caplog.text
    assert "SMS (console, non envoyé) à 06•••••78 :" in journal
    assert "Courriel (console, non envoyé) à a•••@exemple.fr :" in journal
    for personnel in ("12 34", "0612", "awa.diallo", "Awa", "Diallo", "/suivi/"):
        assert personnel not in journal
    assert "Demande envoyée" not in journal and "vélos" not in journal


def test_en_developpement_la_console_montre_le_message_mais_masque_le_numero(
    app_p, caplog
):
    caplog.set_level(logging.INFO, logger="prescription.notifications")
    poster(
        app_p.test_client(),
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    assert "SMS (console) à 06•••••78 : Demande envoyée" in caplog.text
    assert "/suivi/" in caplog.text  # to follow the link on a local run
    assert "06 12 34 56 78" not in caplog.text


def test_chaque_membre_de_la_structure_est_prevenu_a_chaque_etape(
    creer_app_prescription, smtp
):
    boite, serveur, port = smtp
    serveur.start()
    app = creer_app_prescription(
        COURRIEL_ENVOI="smtp", SMTP_HOTE="127.0.0.1", SMTP_PORT=port
    )
    prestataire = se_connecter(
        app.test_client(), "prestataire", structure="atelier-orne"
    )
    with Session(app.extensions["db"]) as db:
        structure = db.exec(
            select(StructurePro).where(
                StructurePro.structure_catalogue == "atelier-orne"
            )
        ).one()
        structure_id = structure.id
        for sub in ("ines", "marc"):
            collegue = Utilisateur(
                idp="essai", sub=sub, courriel=f"{sub}@atelier-orne.example",
                cree_le=places.maintenant_utc(),
            )  # fmt: skip
            db.add(collegue)
            db.flush()
            db.add(
                Adhesion(
                    utilisateur_id=collegue.id,
                    structure_id=structure_id,
                    role="prestataire_membre",
                )
            )
        db.commit()
    membres = [
        "ines@atelier-orne.example",
        "marc@atelier-orne.example",
        "prestataire-atelier-orne@demo.invalid",
    ]

    def recus(trier: bool = True) -> list[tuple[str, str, str]]:
        """(recipient, subject, body) of what the SMTP server got (sorted, or
        in the order received), then forget."""
        app.test_cli_runner().invoke(args=["prescriptions", "relancer"])
        lus = [
            (rcpt, email.message_from_bytes(c.encode(), policy=email.policy.default))
            for rcpts, c in boite.messages
            for rcpt in rcpts
        ]
        boite.messages.clear()
        lus = [(r, m["Subject"], m.get_content()) for r, m in lus]
        return sorted(lus) if trier else lus

    awa = app.test_client()
    donnees = {**PERSONNE, "telephone": "", "courriel": "awa@exemple.fr"}
    suivi = poster(
        awa, "/fiches/velos-alencon/inscription", {**donnees, "consentement": "oui"}
    ).headers["Location"]
    [pid] = [p.id for p in Session(app.extensions["db"]).exec(select(Prescription))]
    lus = recus()
    assert [r for r, s, _ in lus if s.startswith("Nouvelle demande")] == membres
    _, _, corps = next(x for x in lus if x[0] == "ines@atelier-orne.example")
    assert "À faire : l'accepter ou la refuser." in corps
    assert f"/pro/prescriptions/{pid}" in corps
    assert [r for r, _, _ in lus if r not in membres] == ["awa@exemple.fr"]

    # Full: the next person goes on the waiting list; the members hear of it.
    with Session(app.extensions["db"]) as db:
        places.fixer(db, "velos-alencon", 0, "essai")
        db.commit()
    bruno = {
        **donnees, "prenom": "Bruno", "courriel": "bruno@exemple.fr",
        "consentement": "oui", "liste_attente": "oui",
    }  # fmt: skip
    poster(app.test_client(), "/fiches/velos-alencon/inscription", bruno)
    lus = recus()
    assert [r for r, s, _ in lus if "liste d'attente" in s] == membres
    assert len(lus) == len(membres) + 1  # and Bruno himself

    # Awa cancels: she and each member are told; Bruno gets her place.
    poster(awa, suivi + "/annuler", {"confirmer": "oui"})
    dans_l_ordre = recus(trier=False)
    lus = sorted(dans_l_ordre)
    annulee = "Demande annulée – Prêt de vélos à Alençon"
    assert [r for r, s, _ in lus if s == annulee and r != "awa@exemple.fr"] == membres
    assert ("awa@exemple.fr", annulee) in [(r, s) for r, s, _ in lus]
    assert "bruno@exemple.fr" in [r for r, _, _ in lus]
    # Bruno's request now waits for an answer: the members get its link.
    [pid_bruno] = [
        p.id
        for p in Session(app.extensions["db"]).exec(select(Prescription))
        if p.id != pid
    ]
    donnee = (
        "Place proposée à la première personne en attente – Prêt de vélos à Alençon"
    )
    assert [r for r, s, _ in lus if s == donnee] == membres
    # Each member reads them in the order they happened.
    for membre in membres:
        sujets = [s for r, s, _ in dans_l_ordre if r == membre]
        assert sujets == [annulee, donnee]
    _, _, corps = next(x for x in lus if x[:2] == (membres[0], donnee))
    assert "À faire : l'accepter ou la refuser." in corps
    assert f"/pro/prescriptions/{pid_bruno}" in corps

    # The structure chooses one daily digest: nothing at once, one e-mail later.
    reponse = poster(prestataire, f"/pro/avis/{structure_id}", {"avis": "resume"})
    assert "un seul e-mail par jour" in texte(
        prestataire.get(reponse.headers["Location"])
    )
    for prenom in ("Chloé", "Dan"):
        poster(
            app.test_client(),
            "/fiches/velos-alencon/inscription",
            {**bruno, "prenom": prenom, "courriel": f"{prenom}@exemple.fr"},
        )
    assert [r for r, _, _ in recus() if r in membres] == []
    sortie = app.test_cli_runner().invoke(args=["prescriptions", "resumer"]).output
    assert "3 résumé(s) mis en file\n3 message(s) envoyé(s)" in sortie
    lus = recus()
    assert [r for r, _, _ in lus] == membres
    _, sujet, corps = lus[0]
    assert sujet == "Résumé du jour : 2 nouveautés sur vos actions"
    assert corps.count("Nouvelle inscription sur la liste d'attente") == 2
    # Each line is in one digest only.
    sortie = app.test_cli_runner().invoke(args=["prescriptions", "resumer"]).output
    assert "0 résumé(s) mis en file" in sortie


def test_un_message_sur_plusieurs_lignes_ne_fabrique_pas_de_ligne_de_journal(caplog):
    # A prestataire's words « …\nINFO:werkzeug:… » would read as a log entry.
    from prescription.notifications import Console

    caplog.set_level(logging.INFO, logger="prescription.notifications")
    Console().envoyer("0612345678", "Sujet\nINFO:faux", "Bonjour\nINFO:werkzeug:faux")
    assert "\nINFO:" not in caplog.text
    assert "    | INFO:werkzeug:faux" in caplog.text
