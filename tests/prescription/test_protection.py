"""CSRF, signed links that expire or are revoked, rate limits, the demo login."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import itsdangerous
import pytest
from sqlmodel import Session, func, select

from catalogue import places
from prescription import liens
from prescription.modeles import Audit, Beneficiaire, LienSigne, Prescription
from tests.prescription.conftest import (
    PERSONNE,
    envoyer_resultats,
    poster,
    se_connecter,
    texte,
)
from web.pilotage import TAILLE_CSV_MAX


def test_sans_jeton_csrf_une_demande_est_refusee_et_rien_n_est_enregistre(app_p):
    client = app_p.test_client()
    reponse = client.post(
        "/fiches/velos-alencon/inscription", data={**PERSONNE, "consentement": "oui"}
    )
    # Her session lost (browser closed): nothing sent, nothing she typed lost.
    assert reponse.status_code == 400
    page = texte(reponse)
    assert "Rien n'est encore envoyé : la page avait expiré" in page
    assert 'value="Diallo"' in page and 'value="06 12 34 56 78"' in page
    with Session(app_p.extensions["db"]) as db:
        assert db.exec(select(Prescription)).all() == []
    # The form it gives back carries a new token: sent again, it is recorded.
    jeton = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    envoi = re.search(r'name="envoi" value="([^"]+)"', page)[1]
    donnees = {**PERSONNE, "consentement": "oui", "csrf_token": jeton, "envoi": envoi}
    reponse = client.post("/fiches/velos-alencon/inscription", data=donnees)
    assert reponse.status_code == 303
    assert reponse.headers["Location"].startswith("/suivi/")
    # A professional's expired form sends them back to their space.
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    expire = texte(prestataire.post("/pro/places/velos-alencon", data={"places": "2"}))
    assert "Ce formulaire a expiré" in expire
    assert 'href="/pro/">Retour à mon espace professionnel' in expire
    assert "Si vous avez fait une demande" not in expire


def test_un_formulaire_rempli_lentement_s_envoie_encore_deux_heures_apres(
    app_p, client_p, monkeypatch
):
    page = texte(client_p.get("/fiches/velos-alencon/inscription"))
    jeton = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    # Two hours later: Flask-WTF's default hour refused it, all typed lost.
    plus_tard = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.TimestampSigner,
        "get_timestamp",
        lambda self: plus_tard(self) + 2 * 3600,
    )
    donnees = {**PERSONNE, "consentement": "oui", "csrf_token": jeton}
    reponse = client_p.post("/fiches/velos-alencon/inscription", data=donnees)
    assert reponse.status_code == 303, texte(reponse)


def test_sans_jeton_csrf_un_fragment_htmx_est_refuse(app_p):
    client = se_connecter(app_p.test_client(), "prestataire", structure="atelier-orne")
    reponse = client.post(
        "/pro/places/velos-alencon",
        data={"ecart": "+1"},
        headers={"HX-Request": "true"},
    )
    assert reponse.status_code == 400
    # The header htmx sends (static/js/csrf.js) is accepted.
    page = texte(client.get("/pro/places"))
    jeton = page.split('name="csrf-token" content="')[1].split('"')[0]
    reponse = client.post(
        "/pro/places/velos-alencon",
        data={"ecart": "+1"},
        headers={"HX-Request": "true", "X-CSRFToken": jeton},
    )
    assert reponse.status_code == 200
    assert "4 places restantes" in texte(reponse)


def suivre(client) -> str:
    reponse = poster(
        client, "/fiches/velos-alencon/inscription", {**PERSONNE, "consentement": "oui"}
    )
    return reponse.headers["Location"]


def test_un_lien_revoque_est_refuse_avec_une_page_en_francais(app_p, client_p):
    suivi = suivre(client_p)
    with Session(app_p.extensions["db"]) as db:
        p = db.exec(select(Prescription)).one()
        assert liens.revoquer(db, "prescription", str(p.id)) >= 1
        db.commit()
    reponse = client_p.get(suivi)
    assert reponse.status_code == 410
    assert "Ce lien a été désactivé." in texte(reponse)
    assert "Si vous avez fait une demande, la structure peut vous" in texte(reponse)
    assert poster(client_p, suivi + "/annuler").status_code == 410


def test_un_lien_expire_est_refuse_avec_une_page_en_francais(app_p, client_p):
    suivi = suivre(client_p)
    with Session(app_p.extensions["db"]) as db:
        for lien in db.exec(select(LienSigne)):
            lien.expire_le = lien.cree_le - timedelta(seconds=1)
            db.add(lien)
        db.commit()
    reponse = client_p.get(suivi)
    assert reponse.status_code == 410
    assert "Ce lien a expiré." in texte(reponse)


def test_un_lien_signe_avec_une_autre_cle_est_refuse(creer_app_prescription):
    app = creer_app_prescription()
    with Session(app.extensions["db"]) as db:
        jeton = liens.creer(
            db, "autre-cle", "places", "velos-alencon", timedelta(days=1)
        )
        db.commit()
    reponse = app.test_client().get(f"/places/{jeton}")
    assert reponse.status_code == 410
    assert "Ce lien n'est pas valide" in texte(reponse)


def test_le_lien_des_places_marche_sans_connexion(app_p):
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    page = texte(
        poster(prestataire, "/pro/places/velos-alencon/lien", follow_redirects=True)
    )
    adresse = page.split('aria-label="Lien de mise à jour des places"')[0]
    adresse = adresse.rsplit('value="', 1)[1].split('"')[0]
    assert adresse.startswith(app_p.config["URL_PUBLIQUE"])  # never the Host header
    adresse = urlsplit(adresse).path
    inconnu = app_p.test_client()
    assert "Places restantes" in texte(inconnu.get(adresse))
    reponse = poster(inconnu, adresse, {"places": "9"})
    assert reponse.status_code == 303
    assert "9 places restantes" in texte(inconnu.get(adresse))
    assert "Au plus 10 places" in texte(poster(inconnu, adresse, {"places": "11"}))


def test_les_limites_sont_partagees_par_tous_les_workers(creer_app_prescription):
    reglages = {
        "PRESCRIPTION_LIMITE_INSCRIPTION": "3 per hour",
        "PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE": "3 per hour",
    }
    worker_1 = creer_app_prescription(reglages).test_client()
    worker_2 = creer_app_prescription(reglages).test_client()
    adresse = "/fiches/velos-alencon/inscription"
    # Reading the form costs nothing: only sending it is counted.
    for _ in range(5):
        assert worker_1.get(adresse).status_code == 200
    for client in (worker_1, worker_2, worker_1):
        assert poster(client, adresse, PERSONNE).status_code == 422  # no consent
    reponse = poster(worker_2, adresse, PERSONNE)
    assert reponse.status_code == 429
    assert "Attendez un peu, puis réessayez" in texte(reponse)
    assert worker_2.get(adresse).status_code == 200


def _liens_ouverts(app, *adresses: dict) -> list[int]:
    """Statuses of a bad personal link opened from each client address."""
    return [
        app.test_client().get("/suivi/inconnu", **adresse).status_code
        for adresse in adresses
    ]


def test_une_adresse_ipv6_compte_pour_son_reseau(creer_app_prescription):
    """Each address of one subscriber's /64 counted alone: no limit at all."""
    app = creer_app_prescription(PRESCRIPTION_LIMITE_LIENS="2 per minute")
    voisines = [
        {"environ_base": {"REMOTE_ADDR": f"2001:db8:1:2::{i}"}} for i in range(1, 4)
    ]
    assert _liens_ouverts(app, *voisines) == [410, 410, 429]
    ailleurs = {"environ_base": {"REMOTE_ADDR": "2001:db8:1:3::1"}}
    assert _liens_ouverts(app, ailleurs) == [410]


@pytest.mark.parametrize("proxies, attendus", [(0, [410, 410, 429]), (1, [410] * 3)])
def test_derriere_un_proxy_chaque_visiteur_a_sa_limite(
    creer_app_prescription, proxies, attendus
):
    app = creer_app_prescription(
        PRESCRIPTION_LIMITE_LIENS="2 per minute", PROXIES_DEVANT=proxies
    )
    # Everyone comes from the proxy; it names each visitor in a header.
    visiteurs = [
        {
            "environ_base": {"REMOTE_ADDR": "10.0.0.1"},
            "headers": {"X-Forwarded-For": f"203.0.113.{i}"},
        }
        for i in range(1, 4)
    ]
    # Without the setting, the header (anyone can write it) is not read.
    assert _liens_ouverts(app, *visiteurs) == attendus


@pytest.mark.parametrize(
    "suite",
    ["//ailleurs.example", "/\t/ailleurs.example", "/\\ailleurs.example",
     "https://ailleurs.example/", "/\n/ailleurs.example"],
)  # fmt: skip
def test_apres_la_connexion_on_ne_quitte_jamais_le_site(client_p, suite):
    reponse = poster(
        client_p, "/connexion/demo", {"role": "departement", "suite": suite}
    )
    assert reponse.status_code == 303
    assert urlsplit(reponse.headers["Location"]).netloc in ("", "localhost")
    assert "ailleurs" not in reponse.headers["Location"]


def test_apres_la_connexion_on_revient_a_la_page_demandee(client_p):
    reponse = poster(
        client_p, "/connexion/demo", {"role": "departement", "suite": "/pro"}
    )
    assert reponse.headers["Location"] == "/pro"


def test_l_export_csv_ne_lance_aucune_formule(app_p, client_p):
    # The form takes letters only in names now; a name kept from before (or
    # any text of the export) must still never run in a spreadsheet.
    piege = {**PERSONNE, "nom": '=HYPERLINK("http://ailleurs","x")',
             "prenom": "+33 tricheur", "consentement": "oui"}  # fmt: skip
    assert (
        poster(client_p, "/fiches/velos-alencon/inscription", piege).status_code == 422
    )
    with Session(app_p.extensions["db"]) as db:
        elle = Beneficiaire(prenom=piege["prenom"], nom=piege["nom"])
        db.add(elle)
        db.flush()
        maintenant = places.maintenant_utc()
        db.add(
            Prescription(
                fiche_id="velos-alencon",
                structure_catalogue="atelier-orne",
                beneficiaire_id=elle.id,
                origine="auto-prescription",
                statut="demandee",
                cree_le=maintenant,
                maj_le=maintenant,
            )
        )
        db.commit()
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    csv = texte(prestataire.get("/pro/demandes.csv"))
    assert "'=HYPERLINK" in csv and ";=HYPERLINK" not in csv
    assert "'+33 tricheur" in csv


@pytest.mark.parametrize(
    ("valeur", "message"),
    [
        ("abc", "« abc » n'est pas un nombre entier"),
        ("²", "« ² » n'est pas un nombre entier"),
        ("1e9", "« 1e9 » n'est pas un nombre entier"),
        ("-5", "Il ne peut pas rester moins de zéro place."),
        ("9999999999", "Au plus 100 000 places par action."),
        ("99999999999999999999999", "Au plus 100 000 places par action."),
        ("9" * 5000, "Au plus 100 000 places par action."),
        ("-" + "9" * 5000, "Il ne peut pas rester moins de zéro place."),
        ("11", "Au plus 10 places : c'est la capacité de l'action."),
    ],
)
@pytest.mark.parametrize("avec_htmx", [False, True])
def test_un_nombre_de_places_etrange_recoit_son_message(
    app_p, valeur, message, avec_htmx
):
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(
        prestataire,
        "/pro/places/velos-alencon",
        {"places": valeur},
        headers={"HX-Request": "true"} if avec_htmx else {},
    )
    assert reponse.status_code == 422
    assert message in texte(reponse)
    assert "Places mises à jour" not in texte(reponse)
    with Session(app_p.extensions["db"]) as db:
        assert (
            places.par_session(db, "velos-alencon")[places.ACTION].places_restantes == 3
        )


def test_un_numero_de_demande_demesure_est_introuvable(app_p):
    referent = se_connecter(app_p.test_client(), "referent")
    assert referent.get("/pro/prescriptions/99999999999999999999").status_code == 404


def test_un_numero_demesure_est_introuvable_a_chaque_adresse_qui_en_prend_un(app_p):
    admin = se_connecter(app_p.test_client(), "departement")
    enorme = str(2**63)  # beyond SQLite's INTEGER, let alone PostgreSQL's
    adresses = [
        (re.sub(r"<[^>]+>", "valider", re.sub(r"<int:[^>]+>", enorme, r.rule)), m)
        for r in app_p.url_map.iter_rules()
        if "<int:" in r.rule
        for m in r.methods & {"GET", "POST"}
    ]
    assert ("/pro/modifications/9223372036854775808/valider", "POST") in adresses
    assert ("/pro/structures/9223372036854775808/membres", "POST") in adresses
    for adresse, methode in adresses:
        reponse = poster(admin, adresse) if methode == "POST" else admin.get(adresse)
        assert reponse.status_code == 404, (methode, adresse)
        assert "Cette page n'existe pas" in texte(reponse)
    assert admin.get(f"/pro/prescriptions/{2**31 - 1}").status_code == 404


def test_la_connexion_de_demonstration_est_refusee_en_production(
    creer_app_prescription,
):
    app = creer_app_prescription(
        TESTING=False,
        WTF_CSRF_ENABLED=False,
        URL_PUBLIQUE="https://offre.exemple.fr",
        ENVOI_CONSOLE_AUTORISE=True,
    )
    client = app.test_client()
    assert "Connexion de démonstration" not in texte(client.get("/connexion"))
    reponse = client.post("/connexion/demo", data={"role": "departement"})
    assert reponse.status_code == 403
    assert "désactivée" in texte(reponse)
    avec_drapeau = creer_app_prescription(
        TESTING=False,
        DEMO=True,
        URL_PUBLIQUE="http://localhost",
        ENVOI_CONSOLE_AUTORISE=True,
    ).test_client()
    assert se_connecter(avec_drapeau, "departement")


def test_chaque_consultation_et_changement_est_audite_sans_donnee_dans_l_adresse(
    app_p, client_p
):
    suivi = suivre(client_p)
    client_p.get(suivi)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    prestataire.get("/pro/prescriptions/1")
    poster(prestataire, "/pro/prescriptions/1/accepter")
    with Session(app_p.extensions["db"]) as db:
        quoi = [
            (a.qui.split()[0], a.quoi)
            for a in db.exec(select(Audit).order_by(Audit.id))
        ]
    assert quoi == [
        ("la", "création"),
        ("la", "consultation"),
        ("utilisateur", "consultation"),
        ("utilisateur", "transition : accepter"),
    ]
    # A random identifier and its signature, nothing of the person. (Not
    # « 06 »: two random characters of the link meet it about once in 80.)
    assert re.fullmatch(r"/suivi/[\w-]{16}\.[\w-]+", suivi), suivi
    for donnee in ("Awa", "Diallo", "0612345678", "Alençon", "Alen%C3%A7on"):
        assert donnee not in suivi


def test_le_prestataire_desactive_le_lien_des_places_depuis_son_tableau(app_p):
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    cree = poster(prestataire, "/pro/places/velos-alencon/lien")
    # Shown after a redirect, once: reloading the board makes no other link.
    assert cree.status_code == 303
    page = texte(prestataire.get(cree.headers["Location"]))
    lien = re.search(r'class="lien-copie" value="([^"]+)"', page)[1]
    assert "lien-copie" not in texte(prestataire.get("/pro/places"))
    with Session(app_p.extensions["db"]) as db:
        assert db.exec(select(func.count(LienSigne.id))).one() == 1
    chemin = lien.removeprefix(app_p.config["URL_PUBLIQUE"])
    collegue = app_p.test_client()
    assert collegue.get(chemin).status_code == 200
    tableau = texte(prestataire.get("/pro/places"))
    assert "1 lien de mise à jour sans connexion en service." in tableau
    # Another structure cannot switch it off; nor can a forged form.
    autre = se_connecter(app_p.test_client(), "prestataire", structure="garage-essonne")
    assert poster(autre, "/pro/places/velos-alencon/lien/revoquer").status_code == 403
    sans_jeton = prestataire.post("/pro/places/velos-alencon/lien/revoquer")
    assert sans_jeton.status_code == 400
    assert collegue.get(chemin).status_code == 200
    reponse = poster(
        prestataire, "/pro/places/velos-alencon/lien/revoquer", follow_redirects=True
    )
    assert "Lien désactivé pour « Prêt de vélos à Alençon » : il ne marche plus." in (
        texte(reponse)
    )
    assert "en service" not in texte(reponse)
    refuse = collegue.get(chemin)
    assert refuse.status_code == 410
    assert "Ce lien a été désactivé." in texte(refuse)
    # Written for the prestataire's colleague, not for a person who asked.
    assert "Ce lien de mise à jour ne marche plus" in texte(refuse)
    assert 'href="/pro/places">Aller à « Mes places »' in texte(refuse)
    assert "Si vous avez fait une demande" not in texte(refuse)
    assert poster(collegue, chemin, {"places": "9"}).status_code == 410


def test_un_lien_personnel_envoye_avant_le_format_court_marche_encore(app_p):
    """Links already sent by SMS keep working after the links got shorter."""
    from itsdangerous import URLSafeTimedSerializer

    client = app_p.test_client()
    suivi = poster(
        client, "/fiches/velos-alencon/inscription", {**PERSONNE, "consentement": "oui"}
    ).headers["Location"]
    with Session(app_p.extensions["db"]) as db:
        identifiant = db.exec(select(LienSigne.id)).first()
    ancien = URLSafeTimedSerializer(
        app_p.config["SECRET_KEY"], salt="offre-insertion-lien-prescription"
    ).dumps(identifiant)
    assert len(suivi.rsplit("/", 1)[1]) < len(ancien)
    page = client.get(f"/suivi/{ancien}")
    assert page.status_code == 200, texte(page)[-900:]
    assert "Prêt de vélos à Alençon" in texte(page)


@pytest.mark.parametrize(
    ("champs", "message"),
    [
        (
            {"prenom": "A" * 3000},
            "Le prénom dépasse la limite : 3000 caractères, 100 au plus",
        ),
        ({"nom": "Dia\x00llo"}, "Le nom contient un caractère invisible"),
        ({"prenom": "\u202eawA"}, "Le prénom contient un caractère invisible"),
        ({"nom": "Diallo\u200b"}, "Le nom contient un caractère invisible"),
        ({"nom": "\u3164"}, "Le nom contient un caractère invisible"),
        ({"prenom": "A\u2028wa"}, "Le prénom contient un caractère invisible"),
        ({"commune": "Alen\x07çon"}, "La commune contient un caractère invisible"),
        (
            {"telephone": "06 12\x00 34 56 78"},
            "Le téléphone contient un caractère invisible",
        ),
    ],
    ids=[
        "prenom-3000",
        "nom-nul",
        "prenom-ecrit-a-l-envers",
        "nom-espace-sans-largeur",
        "nom-remplissage-hangul",
        "prenom-separateur-de-ligne",
        "commune-sonnette",
        "telephone-nul",
    ],
)
def test_un_texte_trop_long_ou_invisible_est_refuse_et_le_reste_est_garde(
    app_p, client_p, champs, message
):
    donnees = {**PERSONNE, "consentement": "oui", **champs}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", donnees)
    assert reponse.status_code == 422
    assert message in texte(reponse)
    # Nothing stored, nothing cut: the other fields are still filled in.
    for cle, valeur in PERSONNE.items():
        if cle not in champs:
            assert f'value="{valeur}"' in texte(reponse)
    with Session(app_p.extensions["db"]) as db:
        assert db.exec(select(Prescription)).all() == []
        assert db.exec(select(Beneficiaire)).all() == []


def test_la_limite_de_longueur_est_dite_dans_le_formulaire(client_p):
    page = texte(client_p.get("/fiches/velos-alencon/inscription"))
    assert "100 caractères au plus" in page
    assert "maxlength" not in page


def test_un_motif_de_referent_garde_ses_retours_a_la_ligne_mais_pas_le_nul(
    app_p, client_p
):
    se_connecter(client_p, "referent", prescripteur="referent-rsa")
    donnees = {**PERSONNE, "engagement": "oui", "motif": "Reprend\nun emploi\x00"}
    reponse = poster(client_p, "/fiches/velos-alencon/prescrire", donnees)
    assert reponse.status_code == 422
    assert "L'explication contient un caractère invisible" in texte(reponse)
    donnees["motif"] = "Reprend\r\nun emploi à 6 km."
    assert (
        poster(client_p, "/fiches/velos-alencon/prescrire", donnees).status_code == 303
    )
    with Session(app_p.extensions["db"]) as db:
        [p] = db.exec(select(Prescription)).all()
    assert p.motif == "Reprend\nun emploi à 6 km."  # one line break, as typed


def test_la_limite_rend_le_formulaire_rempli_et_epargne_la_personne_suivante(
    creer_app_prescription,
):
    """A France Services computer: one visitor retries a lot, the next signs up."""
    app = creer_app_prescription({
        "PRESCRIPTION_LIMITE_INSCRIPTION": "2 per hour",
        "PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE": "8 per hour",
    })  # fmt: skip
    adresse = "/fiches/velos-alencon/inscription"
    premiere = app.test_client()
    # Fixing her typos is never held against her: a form sent back to be
    # corrected creates nothing, and does not count for her visit.
    for _ in range(3):
        assert poster(premiere, adresse, PERSONNE).status_code == 422  # no consent
    awa = {**PERSONNE, "consentement": "oui"}
    assert poster(premiere, adresse, awa).status_code == 303
    # Sending the same again and again does count.
    for _ in range(2):
        assert poster(premiere, adresse, awa).status_code == 409
    reponse = poster(premiere, adresse, awa)
    assert reponse.status_code == 429
    page = texte(reponse)
    assert "Attendez un peu, puis réessayez dans 60 minutes." in page
    assert "Ce que vous avez écrit est gardé" in page
    for valeur in PERSONNE.values():
        assert f'value="{valeur}"' in page
    assert 'name="consentement" value="oui" checked' in page
    # The next person on the same computer (same address, new browser visit).
    suivante = app.test_client()
    fatou = {**PERSONNE, "prenom": "Fatou", "consentement": "oui"}
    assert poster(suivante, adresse, fatou).status_code == 303
    # After a request sent, the visit starts again for whoever comes next.
    bruno = {**PERSONNE, "prenom": "Bruno", "consentement": "oui"}
    assert poster(suivante, adresse, bruno).status_code == 303
    # The whole address still has its ceiling, where every try counts: 8 in
    # the hour (the one refused for the visit's limit was not counted).
    reponse = poster(app.test_client(), adresse, {**bruno, "prenom": "Chloé"})
    assert reponse.status_code == 429
    with Session(app.extensions["db"]) as db:
        assert sorted(b.prenom for b in db.exec(select(Beneficiaire)).all()) == [
            "Awa",
            "Bruno",
            "Fatou",
        ]


def test_aucune_page_professionnelle_n_est_gardee_par_un_cache(app_p):
    """Staff e-mails, people, the admin log: no shared cache may keep them."""
    departement = se_connecter(app_p.test_client(), "departement")
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="garage-essonne"
    )
    for client, url in [
        (departement, "/pro/structures"),
        (departement, "/pro/modifications"),
        (departement, "/pro/pilotage"),
        (departement, "/pro/rgpd"),
        (prestataire, "/pro/fiches/garage-evry/modifier"),
        (prestataire, "/pro/places"),
    ]:
        reponse = client.get(url)
        assert reponse.status_code == 200, url
        assert "no-store" in reponse.headers["Cache-Control"], url


def test_une_demande_demesuree_est_refusee_en_francais_sans_etre_renvoyee(app_p):
    personne = app_p.test_client()
    enorme = {**PERSONNE, "prenom": "Awa" * 1_000_000}  # 3 Mo
    reponse = poster(personne, "/fiches/velos-alencon/inscription", enorme)
    assert reponse.status_code == 413
    page = texte(reponse)
    assert "La demande est trop volumineuse : au plus 2,1 Mo" in page
    assert "AwaAwa" not in page
    api = personne.post("/api/v1/fiches", data=enorme)
    assert api.status_code == 413
    assert api.get_json()["erreur"].startswith("La demande est trop volumineuse")
    # The largest legitimate upload, a 2 Mo results CSV, still goes through.
    departement = se_connecter(app_p.test_client(), "departement")
    entete = b"annee;structure;fiche;indicateur;valeur;nombre\n"
    csv_2_mo = entete + b"\n" * (TAILLE_CSV_MAX - len(entete))
    reponse = envoyer_resultats(departement, csv_2_mo)
    assert reponse.status_code == 200
    assert "0 chiffre" in texte(reponse)


def test_moins_un_sur_des_places_non_suivies_dit_d_ecrire_le_nombre(app_p):
    # The garage does not count its places: « −1 » (greyed on the board,
    # sent by an old page) is not « below zero », there is no number yet.
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="garage-essonne"
    )
    reponse = poster(prestataire, "/pro/places/garage-evry", {"ecart": "-1"})
    assert reponse.status_code == 422
    assert "Les places ne sont pas suivies : écrivez le nombre" in texte(reponse)
    # The typed number is kept in the box after an error.
    trop = poster(prestataire, "/pro/places/garage-evry", {"places": "51"})
    assert 'value="51"' in trop.get_data(as_text=True)


def test_choisir_la_commune_proposee_ne_compte_pas_comme_un_envoi(
    creer_app_prescription,
):
    # Each tap on « Vouliez-vous dire » (the form back filled, not sent)
    # counted: after two, her real request was « Trop de demandes ».
    app = creer_app_prescription({"PRESCRIPTION_LIMITE_INSCRIPTION": "2 per hour"})
    adresse = "/fiches/velos-alencon/inscription"
    elle = app.test_client()
    awa = {**PERSONNE, "commune": "Alenzon", "consentement": "oui"}
    for _ in range(3):
        choix = poster(elle, adresse, {**awa, "commune_choisie": "Alençon (61000)"})
        assert choix.status_code == 200
    assert (
        poster(elle, adresse, {**awa, "commune": "Alençon (61000)"}).status_code == 303
    )


@pytest.mark.parametrize(
    "donnees",
    [{"ecart": "+2"}, {"ecart": "0"}, {"places[]": "3"}, {}, {"session": "2020-01-01",
     "ecart": "+1"}],
)  # fmt: skip
def test_un_envoi_que_le_tableau_ne_fait_pas_ne_cesse_pas_de_compter(app_p, donnees):
    # A missing number, an unknown step or session read as « left empty »:
    # the count stopped and the search lost « 3 places libres ».
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(prestataire, "/pro/places/velos-alencon", donnees)
    assert reponse.status_code == 422
    assert "Formulaire incomplet : rechargez la page, rien n'a changé." in texte(
        reponse
    )
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 3
    htmx = poster(
        prestataire,
        "/pro/places/velos-alencon",
        donnees,
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code in (400, 422)


def test_un_geste_inconnu_dans_l_adresse_est_une_adresse_inconnue(app_p):
    # « L'action « nimportequoi » n'existe pas » read as an insertion action.
    demande = {**PERSONNE, "consentement": "oui"}
    assert poster(app_p.test_client(), "/fiches/velos-alencon/inscription", demande)
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    reponse = poster(prestataire, "/pro/prescriptions/1/nimportequoi")
    assert reponse.status_code == 404
    assert "Cette page n'existe pas" in texte(reponse)
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Prescription, 1).statut == "demandee"
