"""ProConnect login: the real authorization-code flow against a local provider.

oidc-provider-mock runs in a thread; Authlib is not patched: it fetches the
discovery document, exchanges the code and checks the id_token over HTTP.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.flask_client import OAuthError
from oidc_provider_mock import run_server_in_thread
from sqlmodel import Session, select

from prescription.modeles import Utilisateur
from tests.prescription.conftest import poster, texte

SUB = "agent-123@proconnect"
# The provider (not our code) calls an Authlib API that Authlib deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def fournisseur():
    with run_server_in_thread() as serveur:
        url = f"http://localhost:{serveur.server_port}"
        reponse = requests.put(
            f"{url}/users/{SUB}",
            json={
                "email": "claire.martin@cd61.example",
                "given_name": "Claire",
                "usual_name": "Martin",
                "siret": "22610001700019",
            },
            timeout=10,
        )
        reponse.raise_for_status()
        yield url


@pytest.fixture
def app_oidc(creer_app_prescription, fournisseur):
    return creer_app_prescription(
        PROCONNECT_CLIENT_ID="offre-insertion",
        PROCONNECT_CLIENT_SECRET="secret-essai",
        PROCONNECT_DISCOVERY_URL=f"{fournisseur}/.well-known/openid-configuration",
        PROCONNECT_SCOPES="openid email given_name usual_name siret",
    )


def se_connecter_par_proconnect(client, suite: str = "") -> str:
    depart = client.get("/connexion/proconnect" + (f"?suite={suite}" if suite else ""))
    assert depart.status_code == 302
    autorisation = depart.headers["Location"]
    parametres = parse_qs(urlsplit(autorisation).query)
    # ProConnect wants 32 characters or more for both.
    assert len(parametres["state"][0]) >= 32 and len(parametres["nonce"][0]) >= 32
    assert parametres["scope"] == ["openid email given_name usual_name siret"]
    # The agent picks their account on the provider's page.
    choix = requests.post(
        autorisation, data={"sub": SUB}, allow_redirects=False, timeout=10
    )
    assert choix.status_code == 302
    retour = urlsplit(choix.headers["Location"])
    assert retour.path == "/connexion/retour"
    return client.get(f"{retour.path}?{retour.query}")


def test_un_agent_se_connecte_par_proconnect(app_oidc):
    client = app_oidc.test_client()
    assert "S'identifier avec ProConnect" in texte(client.get("/connexion"))
    reponse = se_connecter_par_proconnect(client)
    assert reponse.status_code == 302
    assert reponse.headers["Location"] == "/pro/"
    accueil = texte(client.get("/pro/"))
    assert "rattaché à aucune structure" in accueil
    with Session(app_oidc.extensions["db"]) as db:
        agent = db.exec(select(Utilisateur)).one()
    assert (agent.idp, agent.sub) == ("proconnect", SUB)
    assert (agent.courriel, agent.nom, agent.siret) == (
        "claire.martin@cd61.example",
        "Martin",
        "22610001700019",
    )


def test_rattache_par_la_commande_l_agent_prescrit(app_oidc):
    client = app_oidc.test_client()
    se_connecter_par_proconnect(client)
    sortie = (
        app_oidc.test_cli_runner()
        .invoke(
            args=[
                "prescriptions",
                "rattacher",
                "claire.martin@cd61.example",
                "Service RSA de l'Orne",
                "referent",
                "--type",
                "service-prescripteur",
                "--type-prescripteur",
                "referent-rsa",
            ]
        )
        .output
    )
    assert "Rôle « Référent » donné" in sortie
    assert "Prescrire" in texte(client.get("/fiches/chantier-orne/prescrire"))


def test_une_seconde_connexion_retrouve_le_meme_compte(app_oidc):
    se_connecter_par_proconnect(app_oidc.test_client())
    reponse = se_connecter_par_proconnect(
        app_oidc.test_client(), suite="/pro/prescriptions"
    )
    assert reponse.headers["Location"] == "/pro/prescriptions"
    with Session(app_oidc.extensions["db"]) as db:
        assert len(db.exec(select(Utilisateur)).all()) == 1


def test_apres_la_connexion_la_page_demandee_revient_avec_ses_filtres(app_p):
    client = app_p.test_client()
    demandee = "/pro/pilotage?du=2026-01&au=2026-03"
    vers = client.get(demandee).headers["Location"]
    page = texte(client.get(vers))
    assert f'name="suite" value="{demandee}"' in page
    reponse = poster(
        client, "/connexion/demo", {"role": "departement", "suite": demandee}
    )
    assert reponse.headers["Location"] == demandee


def test_un_retour_sans_etat_valide_est_refuse(app_oidc):
    reponse = app_oidc.test_client().get("/connexion/retour?code=abc&state=" + "x" * 40)
    assert reponse.status_code == 401
    assert "La connexion n'a pas abouti" in texte(reponse)


def test_une_reponse_userinfo_signee_est_verifiee(creer_app_prescription, httpserver):
    """ProConnect signs userinfo (application/jwt): checked against its keys."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    from web.connexion import _client, _userinfo

    cle, intrus = RSAKey.generate_key(2048), RSAKey.generate_key(2048)
    emetteur = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(
        {
            "issuer": emetteur,
            "authorization_endpoint": f"{emetteur}/authorize",
            "token_endpoint": f"{emetteur}/token",
            "userinfo_endpoint": f"{emetteur}/userinfo",
            "jwks_uri": f"{emetteur}/jwks",
            "userinfo_signing_alg_values_supported": ["RS256"],
        }
    )
    httpserver.expect_request("/jwks").respond_with_json(
        {"keys": [{**cle.as_dict(private=False), "kid": "k1", "alg": "RS256"}]}
    )
    app = creer_app_prescription(
        PROCONNECT_CLIENT_ID="offre-insertion",
        PROCONNECT_CLIENT_SECRET="s",
        PROCONNECT_DISCOVERY_URL=f"{emetteur}/.well-known/openid-configuration",
    )

    def signe(par, **claims):
        corps = {"sub": SUB, "iss": emetteur, "aud": "offre-insertion", **claims}
        return jwt.encode({"alg": "RS256", "kid": "k1"}, corps, par)

    reponses = iter([signe(cle, usual_name="Martin"), signe(intrus, usual_name="X")])
    httpserver.expect_request("/userinfo").respond_with_handler(
        lambda _r: __import__("werkzeug").Response(
            next(reponses), content_type="application/jwt"
        )
    )
    jeton = {"access_token": "a", "token_type": "Bearer"}
    with app.test_request_context():
        assert _userinfo(_client(), jeton)["usual_name"] == "Martin"
        with pytest.raises(OAuthError, match="signature"):
            _userinfo(_client(), jeton)


# --- Logins kept on the server --------------------------------------------------


def _pro(app, role="departement"):
    from tests.prescription.conftest import se_connecter

    return se_connecter(app.test_client(), role)


def _avec_le_cookie(app, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def _renvoye_a_la_connexion(client) -> bool:
    reponse = client.get("/pro/")
    return reponse.status_code == 302 and "/connexion" in reponse.location


def test_apres_la_deconnexion_l_ancien_cookie_n_ouvre_plus_rien(app_p):
    """A cookie copied before logout (a shared computer) opens nothing after."""
    from tests.prescription.conftest import poster

    client = _pro(app_p)
    copie = client.get_cookie("session").value
    assert client.get("/pro/").status_code == 200
    assert poster(client, "/deconnexion").status_code == 303
    assert _renvoye_a_la_connexion(_avec_le_cookie(app_p, copie))


def test_une_connexion_se_ferme_apres_une_journee(app_p):
    from prescription.modeles import SessionPro

    client = _pro(app_p)
    assert client.get("/pro/").status_code == 200
    with Session(app_p.extensions["db"]) as db:
        [ligne] = db.exec(select(SessionPro)).all()
        assert (ligne.expire_le - ligne.cree_le).total_seconds() == 12 * 3600
        ligne.expire_le = ligne.cree_le  # the working day is over
        db.add(ligne)
        db.commit()
    assert _renvoye_a_la_connexion(client)


def test_le_cookie_d_une_autre_base_n_ouvre_aucun_compte(
    creer_app_prescription, base_de_donnees
):
    """The database rebuilt: the old cookie must not name its new user 1."""
    ancienne = creer_app_prescription()
    copie = _pro(ancienne).get_cookie("session").value
    nouvelle = creer_app_prescription(DATABASE_URL=base_de_donnees())
    _pro(nouvelle, "referent")  # user 1 of the new database
    assert _renvoye_a_la_connexion(_avec_le_cookie(nouvelle, copie))


def test_la_base_ne_garde_que_l_empreinte_du_jeton(app_p):
    from prescription.modeles import SessionPro

    client = _pro(app_p)
    with Session(app_p.extensions["db"]) as db:
        [ligne] = db.exec(select(SessionPro)).all()
    with client.session_transaction() as session:
        jeton = session["jeton_pro"]
    assert len(ligne.empreinte) == 64 and jeton not in ligne.empreinte
