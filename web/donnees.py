"""The database session of a request, and the index update after a commit."""

from flask import current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from catalogue import places
from catalogue.recherche import RechercheIndisponible
from catalogue.recherche.documents import documents


def db() -> Session:
    """This request's session, closed when the request ends."""
    if "db" not in g:
        g.db = Session(current_app.extensions["db"])
    return g.db


def fermer(_exc=None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def tous_les_documents() -> list[dict]:
    """Every fiche's search document, with the places the database holds."""
    with Session(current_app.extensions["db"]) as session:
        etat = places.places_des_documents(places.etats(session))
    return documents(current_app.extensions["catalogue"], etat)


def publier() -> None:
    """After a commit: send changed places to the search index.

    A failure leaves the changes in the outbox for the next drain; the
    database already holds them, so the request itself has succeeded.
    """
    try:
        places.publier(
            current_app.extensions["db"],
            current_app.extensions["recherche"],
            documents=current_app.extensions["publication"].documents,
        )
    except RechercheIndisponible:
        current_app.logger.warning(
            "Index de recherche non mis à jour : nouvel essai plus tard"
        )


# The public pages (search, fiche) are most of the traffic: asking the
# database on each one was a third of a kept search page's cost. A change
# the département validates reaches them within this delay.
RELECTURE_PUBLIQUE_S = 1.0


def fiches_a_jour(publique: bool = False) -> None:
    """Before a request: this worker's fiches as the database has validated
    them (``publique``: read at most every RELECTURE_PUBLIQUE_S)."""
    publication = current_app.extensions.get("publication")
    if publication is None:
        return
    try:
        publication.a_jour(
            current_app.extensions["db"], RELECTURE_PUBLIQUE_S if publique else 0.0
        )
    except SQLAlchemyError:
        # Not migrated yet, or the database is down: the YAML fiches serve.
        current_app.logger.warning("Modifications validées des fiches non relues")
