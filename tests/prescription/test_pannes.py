"""The database drops the connection in the middle of a booking: no place is
taken without its request, no request stands without its place, and the
person reads what happened, with her answers kept to try again.

On PostgreSQL the connection is really killed (``pg_terminate_backend`` from
another connection) at a step of the booking; on SQLite the driver raises the
error a dropped connection gives.
"""

import re
import sqlite3

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from catalogue import places
from prescription.modeles import Beneficiaire, Prescription
from tests.prescription.conftest import PERSONNE, poster, texte

# Steps of the booking, in order: the place is decremented first (UPDATE
# places), then the person, the request, its log, and the commit.
ETAPES = [
    "INSERT INTO beneficiaires",
    "INSERT INTO prescriptions ",
    "INSERT INTO prescriptions_audit",
    "COMMIT",
]


def couper_a(app, etape: str) -> dict:
    """Drop the booking's connection once, just before ``etape``."""
    engine = app.extensions["db"]
    etat = {"coupe": False}

    def couper(conn) -> None:
        if etat["coupe"]:
            return
        etat["coupe"] = True
        if engine.dialect.name == "postgresql":
            import psycopg

            pid = conn.connection.dbapi_connection.info.backend_pid
            url = app.config["DATABASE_URL"].replace("+psycopg", "")
            with psycopg.connect(url, autocommit=True) as autre:
                # Waits (up to 10 s) until the backend is really gone.
                autre.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        else:
            # What SQLAlchemy raises when the driver loses the file.
            raise OperationalError(
                etape, {}, sqlite3.OperationalError("disk I/O error")
            )

    if etape == "COMMIT":
        event.listen(engine, "commit", couper)
    else:

        def avant(conn, _curseur, instruction, *_):
            if instruction.startswith(etape):
                couper(conn)

        event.listen(engine, "before_cursor_execute", avant)
    return etat


def bilan(app) -> tuple[int, int, int]:
    """(places left, requests holding a place, people recorded)."""
    with Session(app.extensions["db"]) as db:
        restantes = places.par_session(db, "velos-alencon")[""].places_restantes
        tenues = len(
            db.exec(select(Prescription).where(Prescription.place_tenue)).all()
        )
        personnes = len(db.exec(select(Beneficiaire)).all())
    return restantes, tenues, personnes


@pytest.mark.parametrize("etape", ETAPES)
def test_connexion_coupee_en_pleine_reservation(creer_app_prescription, etape):
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    assert bilan(app) == (3, 0, 0)
    etat = couper_a(app, etape)

    reponse = poster(
        client,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )

    assert etat["coupe"], "la réservation est passée par cette étape"
    assert reponse.status_code == 503
    page = texte(reponse)
    assert "Votre demande n'a pas été enregistrée" in page
    assert "aucune place n'a été prise" in page
    assert "Désolé, le site a un problème" not in page
    # Nothing half done: 3 places, nobody holding one, nobody recorded.
    assert bilan(app) == (3, 0, 0)

    # Her answers are kept: one button sends them again.
    formulaire = BeautifulSoup(reponse.get_data(as_text=True), "html.parser").find(
        "form", action="/fiches/velos-alencon/inscription"
    )
    champs = {
        c["name"]: c.get("value", "")
        for c in formulaire.find_all("input", type="hidden")
    }
    assert champs["prenom"] == "Awa" and champs["telephone"] == "06 12 34 56 78"
    assert re.fullmatch(r"[\w.-]+", champs["csrf_token"])
    encore = client.post(formulaire["action"], data=champs)
    assert encore.status_code == 303, texte(encore)
    assert bilan(app) == (2, 1, 1)


def test_base_arretee_la_personne_le_lit_et_la_recherche_continue(
    creer_app_prescription,
):
    # Nothing listens there: PostgreSQL stopped.
    app = creer_app_prescription(
        DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:9/arretee",
        PROPAGATE_EXCEPTIONS=False,
    )
    client = app.test_client()
    reponse = poster(
        client,
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    assert reponse.status_code == 503
    page = texte(reponse)
    assert "Votre demande n'a pas été enregistrée et aucune place n'a été prise" in page
    assert 'name="prenom" value="Awa"' in page
    formulaire = texte(client.get("/fiches/velos-alencon/inscription"))
    assert "Notre base de données ne répond pas" in formulaire
    # Search reads the index, not the database.
    assert client.get("/?q=velo").status_code == 200
    api = client.get("/api/v1/fiches/velos-alencon")
    assert api.status_code == 503
    assert api.get_json()["erreur"].startswith("Le service est momentanément")


def test_base_en_lecture_seule_l_exploitant_lit_la_vraie_cause(
    creer_app_prescription, caplog
):
    # A database file the server may not write: the log said « injoignable »,
    # which sends the operator to the network instead of the file's rights.
    app = creer_app_prescription(PROPAGATE_EXCEPTIONS=False)
    engine = app.extensions["db"]

    def refuser(_conn, _curseur, instruction, *_):
        if instruction.startswith("INSERT INTO beneficiaires"):
            raise OperationalError(
                instruction, {}, sqlite3.OperationalError(
                    "attempt to write a readonly database")
            )  # fmt: skip

    event.listen(engine, "before_cursor_execute", refuser)
    reponse = poster(
        app.test_client(),
        "/fiches/velos-alencon/inscription",
        {**PERSONNE, "consentement": "oui"},
    )
    assert reponse.status_code == 503
    assert "Base de données en lecture seule pendant POST" in caplog.text
    assert "vérifiez les droits du fichier et de son dossier" in caplog.text
    assert "injoignable" not in caplog.text
