"""Professionals log in with ProConnect (OpenID Connect, through Authlib).

ProConnect wants ``state`` and ``nonce`` of 32 characters or more (Authlib's
defaults are shorter), the client secret in the form body, and may sign the
userinfo answer (``application/jwt``): all three are handled here. Accounts
are keyed on (identity provider, ``sub``), never on the e-mail address.

A demo login exists for local runs only: refused unless the app runs in
debug or testing mode, or ``DEMO`` is set on purpose.
"""

import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import select

from catalogue.places import maintenant_utc
from catalogue.vocabulaires import vocabulaire
from prescription import sessions_pro
from prescription.modeles import (
    DEPARTEMENT,
    DEPARTEMENT_ADMIN,
    PRESTATAIRE,
    PRESTATAIRE_ADMIN,
    REFERENT,
    SERVICE_PRESCRIPTEUR,
    Adhesion,
    StructurePro,
    Utilisateur,
)
from web.donnees import db
from web.securite import url_absolue

bp = Blueprint("connexion", __name__)

# The session cookie's key for the login's token (see prescription.sessions_pro).
JETON = "jeton_pro"
IDP = "proconnect"


def init_app(app) -> None:
    oauth = OAuth(app)
    if app.config.get("PROCONNECT_CLIENT_ID"):
        oauth.register(
            IDP,
            client_id=app.config["PROCONNECT_CLIENT_ID"],
            client_secret=app.config["PROCONNECT_CLIENT_SECRET"],
            server_metadata_url=app.config["PROCONNECT_DISCOVERY_URL"],
            client_kwargs={
                "scope": app.config["PROCONNECT_SCOPES"],
                "token_endpoint_auth_method": "client_secret_post",
            },
        )
    app.extensions["oauth_offre"] = oauth


def demo_permise() -> bool:
    app = current_app
    return bool(app.config.get("DEMO") or app.debug or app.testing)


def _client():
    return current_app.extensions["oauth_offre"].create_client(IDP)


def _suite() -> str:
    """Where to go after login: a path of this site only, never an open redirect.

    Browsers drop tabs and newlines and read "\\" as "/", so "/\t/x" or
    "/\\x" would leave the site: any such character refuses the value.
    """
    suite = request.values.get("suite", "")
    morceaux = urlsplit(suite)
    if (
        not suite.startswith("/")
        or suite.startswith("//")
        or morceaux.scheme
        or morceaux.netloc
        or any(c in suite for c in "\\\t\r\n")
        or not suite.isprintable()
    ):
        return ""
    return suite


@bp.get("/connexion")
def connexion():
    structures = current_app.extensions["catalogue"].structures
    return render_template(
        "prescription/connexion.html",
        proconnect=_client() is not None,
        demo=demo_permise(),
        structures=sorted(structures.values(), key=lambda s: s.nom),
        prescripteurs=vocabulaire("prescripteurs"),
        suite=_suite(),
    )


@bp.get("/connexion/proconnect")
def proconnect():
    client = _client()
    if client is None:
        return render_template(
            "prescription/interdit.html",
            message="La connexion ProConnect n'est pas configurée.",
        ), 404
    session["suite"] = _suite()
    return client.authorize_redirect(
        url_absolue("connexion.retour"),
        state=secrets.token_urlsafe(36),
        nonce=secrets.token_urlsafe(36),
    )


@bp.get("/connexion/retour")
def retour():
    client = _client()
    if client is None:
        return redirect(url_for("connexion.connexion"))
    try:
        jeton = client.authorize_access_token()
        infos = dict(jeton.get("userinfo") or {})
        infos.update(_userinfo(client, jeton))
    except OAuthError as erreur:
        current_app.logger.warning("Connexion ProConnect refusée : %s", erreur.error)
        return render_template(
            "prescription/interdit.html",
            message="La connexion n'a pas abouti. Réessayez.",
        ), 401
    utilisateur = _utilisateur(IDP, infos)
    suite = session.get("suite", "")
    # A new session on login: nothing from before survives (fixation).
    session.clear()
    ouvrir_la_session(utilisateur)
    session["id_token"] = jeton.get("id_token")
    return redirect(suite or url_for("prescription.accueil"))


def _userinfo(client, jeton) -> dict:
    """The userinfo answer, verified when it comes as a signed JWT."""
    metadonnees = client.load_server_metadata()
    reponse = client.get(metadonnees["userinfo_endpoint"], token=jeton)
    reponse.raise_for_status()
    if reponse.headers.get("content-type", "").startswith("application/jwt"):
        cles = KeySet.import_key_set(client.fetch_jwk_set())
        algos = metadonnees.get("userinfo_signing_alg_values_supported") or [
            "RS256",
            "ES256",
        ]
        try:
            claims = jwt.decode(reponse.text, cles, algorithms=algos).claims
        except JoseError as erreur:
            raise OAuthError("invalid_userinfo", erreur.error) from erreur
        if claims.get("iss") != metadonnees["issuer"] or claims.get("aud") not in (
            client.client_id,
            [client.client_id],
        ):
            raise OAuthError("invalid_userinfo", "réponse userinfo d'un autre émetteur")
        return dict(claims)
    return reponse.json()


def _utilisateur(idp: str, infos: dict) -> Utilisateur:
    existant = (
        db()
        .exec(
            select(Utilisateur).where(
                Utilisateur.idp == idp, Utilisateur.sub == infos["sub"]
            )
        )
        .first()
    )
    utilisateur = existant or Utilisateur(
        idp=idp, sub=infos["sub"], courriel="", cree_le=maintenant_utc()
    )
    utilisateur.courriel = infos.get("email") or utilisateur.courriel
    utilisateur.prenom = infos.get("given_name") or utilisateur.prenom
    utilisateur.nom = (
        infos.get("usual_name") or infos.get("family_name") or utilisateur.nom
    )
    utilisateur.siret = infos.get("siret") or utilisateur.siret
    db().add(utilisateur)
    db().commit()
    return utilisateur


@bp.post("/connexion/demo")
def demo():
    if not demo_permise():
        return render_template(
            "prescription/interdit.html",
            message="La connexion de démonstration est désactivée sur ce site.",
        ), 403
    role = request.form.get("role", "")
    catalogue = current_app.extensions["catalogue"]
    if role == "referent":
        genre = request.form.get("prescripteur") or "referent-rsa"
        if genre not in vocabulaire("prescripteurs"):
            genre = "referent-rsa"
        structure = _structure_demo(
            f"Service de démonstration ({vocabulaire('prescripteurs').libelle(genre)})",
            SERVICE_PRESCRIPTEUR,
            type_prescripteur=genre,
        )
        utilisateur = _utilisateur_demo(f"referent-{genre}", "Référente", "Démo")
        _adherer(utilisateur, structure, REFERENT)
    elif role == "prestataire":
        cle = request.form.get("structure", "")
        fiche_structure = catalogue.structures.get(cle)
        if fiche_structure is None:
            return connexion(), 422
        structure = _structure_demo(
            fiche_structure.nom, PRESTATAIRE, structure_catalogue=cle
        )
        utilisateur = _utilisateur_demo(f"prestataire-{cle}", "Prestataire", "Démo")
        _adherer(utilisateur, structure, PRESTATAIRE_ADMIN)
    elif role == "departement":
        structure = _structure_demo(current_app.config["DEPARTEMENT_NOM"], DEPARTEMENT)
        utilisateur = _utilisateur_demo("departement", "Admin", "Démo")
        _adherer(utilisateur, structure, DEPARTEMENT_ADMIN)
    else:
        return connexion(), 422
    session.clear()
    ouvrir_la_session(utilisateur)
    return redirect(_suite() or url_for("prescription.accueil"), 303)


def _structure_demo(nom: str, type_: str, **champs) -> StructurePro:
    requete = select(StructurePro).where(
        StructurePro.nom == nom, StructurePro.type == type_
    )
    structure = db().exec(requete).first() or StructurePro(
        nom=nom, type=type_, **champs
    )
    db().add(structure)
    db().flush()
    return structure


def _utilisateur_demo(sub: str, prenom: str, nom: str) -> Utilisateur:
    requete = select(Utilisateur).where(
        Utilisateur.idp == "demo", Utilisateur.sub == sub
    )
    utilisateur = db().exec(requete).first() or Utilisateur(
        idp="demo",
        sub=sub,
        courriel=f"{sub}@demo.invalid",
        prenom=prenom,
        nom=nom,
        cree_le=maintenant_utc(),
    )
    db().add(utilisateur)
    db().flush()
    return utilisateur


def _adherer(utilisateur: Utilisateur, structure: StructurePro, role: str) -> None:
    existe = (
        db()
        .exec(
            select(Adhesion).where(
                Adhesion.utilisateur_id == utilisateur.id,
                Adhesion.structure_id == structure.id,
                Adhesion.role == role,
            )
        )
        .first()
    )
    if existe is None:
        db().add(
            Adhesion(
                utilisateur_id=utilisateur.id, structure_id=structure.id, role=role
            )
        )


def ouvrir_la_session(utilisateur: Utilisateur) -> None:
    """A new login, kept on the server; the cookie only carries its token.
    Commits (with whatever the login wrote)."""
    duree = timedelta(hours=current_app.config["SESSION_PRO_HEURES"])
    session[JETON] = sessions_pro.ouvrir(db(), utilisateur.id, duree)
    db().commit()


@bp.post("/deconnexion")
def deconnexion():
    id_token = session.get("id_token")
    sessions_pro.fermer(db(), session.get(JETON))
    db().commit()
    session.clear()
    client = _client()
    if id_token and client is not None:
        fin = client.load_server_metadata().get("end_session_endpoint")
        if fin:
            retour = url_absolue("catalogue.index")
            return redirect(
                f"{fin}?"
                + urlencode(
                    {
                        "id_token_hint": id_token,
                        "state": secrets.token_urlsafe(36),
                        "post_logout_redirect_uri": retour,
                    }
                ),
                303,
            )
    return redirect(url_for("catalogue.index"), 303)
