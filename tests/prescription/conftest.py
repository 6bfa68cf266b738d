"""Prescription fixtures: a small catalogue of actions, logins, the CSRF token."""

import html
import io
import re
import string
from pathlib import Path

import pytest

PRESCRIPTION = Path(__file__).resolve().parent.parent / "fixtures" / "prescription"
REGLAGES = {
    "FICHES_DIR": str(PRESCRIPTION / "fiches"),
    "STRUCTURES_DIR": str(PRESCRIPTION / "structures"),
}


@pytest.fixture
def creer_app_prescription(creer_app):
    """Apps on the prescription catalogue: vélos (3 places), chantier, CV, garage."""

    def fabrique(config: dict | None = None, **autres):
        return creer_app({**REGLAGES, **(config or {}), **autres})

    return fabrique


@pytest.fixture
def app_p(creer_app_prescription):
    return creer_app_prescription()


@pytest.fixture
def client_p(app_p):
    return app_p.test_client()


def jeton_csrf(client) -> str:
    """The session's CSRF token, as any page's form carries it."""
    page = client.get("/connexion").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def poster(client, url: str, donnees: dict | None = None, **kw):
    return client.post(
        url, data={"csrf_token": jeton_csrf(client), **(donnees or {})}, **kw
    )


def envoyer_resultats(client, contenu: bytes, nom: str = "resultats.csv"):
    """The département's upload of a results CSV on the pilotage page."""
    return poster(
        client,
        "/pro/pilotage/historique",
        {"fichier": (io.BytesIO(contenu), nom)},
        content_type="multipart/form-data",
    )


def se_connecter(client, role: str, **champs):
    reponse = poster(client, "/connexion/demo", {"role": role, **champs})
    assert reponse.status_code == 303, reponse.get_data(as_text=True)
    return client


PERSONNE = {
    "prenom": "Awa",
    "nom": "Diallo",
    "telephone": "06 12 34 56 78",
    "commune": "Alençon",
}


def prenom_de(i: int) -> str:
    """The i-th person of a story: letters only, as the forms ask (« Awa »,
    not « P0 »)."""
    lettres = string.ascii_uppercase[i // 26] + string.ascii_lowercase[i % 26]
    return f"Personne{lettres}"


def texte(reponse) -> str:
    """The page as the user reads it (entities decoded)."""
    return html.unescape(reponse.get_data(as_text=True))


def figures(app, filtres=None, seuil=5):
    """The département's pilotage figures, as its page computes them."""
    from sqlmodel import Session

    from prescription import pilotage

    with Session(app.extensions["db"]) as db:
        return pilotage.calculer(
            db,
            filtres or pilotage.Filtres(),
            pilotage.lire_sorties(),
            app.extensions["catalogue"].fiches,
            seuil,
        )
