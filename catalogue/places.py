"""Remaining places: stored in the database, changed atomically, logged.

One row per action (``session = ""``) or per session (``session`` = the ISO
date it starts). Every change writes a line in the journal and a line in the
outbox (``index_a_faire``) in the same transaction; ``publier`` then brings
the search index up to date after the commit. A crash in between loses
nothing: the outbox is drained at the next start or the next change.
"""

import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, select

from catalogue import heure
from catalogue.fiche import Fiche

logger = logging.getLogger(__name__)

ACTION = ""  # the session key of places counted for the whole action
AUTEUR_FICHE = "fiche YAML"


class Places(SQLModel, table=True):
    __tablename__ = "places"

    fiche_id: str = Field(primary_key=True, max_length=100)
    session: str = Field(default=ACTION, primary_key=True, max_length=10)
    # None: the prestataire does not track places for this action.
    places_restantes: int | None = Field(default=None, ge=0)
    maj_le: datetime
    maj_par: str = Field(max_length=200)


class JournalPlaces(SQLModel, table=True):
    """Who changed which number, when, and why."""

    __tablename__ = "places_journal"

    id: int | None = Field(default=None, primary_key=True)
    fiche_id: str = Field(index=True, max_length=100)
    session: str = Field(default=ACTION, max_length=10)
    avant: int | None = None
    apres: int | None = None
    maj_le: datetime
    maj_par: str = Field(max_length=200)
    motif: str = Field(max_length=200)


class IndexAFaire(SQLModel, table=True):
    """Outbox: fiches whose places changed and the search index must learn."""

    __tablename__ = "index_a_faire"

    id: int | None = Field(default=None, primary_key=True)
    fiche_id: str = Field(max_length=100)
    cree_le: datetime


class Prise(enum.Enum):
    PRISE = "prise"  # one place taken
    COMPLET = "complet"  # none left: nothing changed
    NON_SUIVIES = "non-suivies"  # places not tracked: nothing to count


@dataclass(frozen=True)
class Etat:
    """What search and pages show: remaining places of an action, if tracked."""

    places_restantes: int | None
    maj_le: datetime | None


def cle_session(debut: date | None) -> str:
    return debut.isoformat() if debut else ACTION


def _noter(
    db: Session,
    fiche_id: str,
    session: str,
    avant: int | None,
    apres: int | None,
    auteur: str,
    motif: str,
    maintenant: datetime,
) -> None:
    db.add(
        JournalPlaces(
            fiche_id=fiche_id,
            session=session,
            avant=avant,
            apres=apres,
            maj_le=maintenant,
            maj_par=auteur,
            motif=motif,
        )
    )
    db.add(IndexAFaire(fiche_id=fiche_id, cree_le=maintenant))


def fixer(
    db: Session,
    fiche_id: str,
    places_restantes: int | None,
    auteur: str,
    *,
    session: str = ACTION,
    motif: str = "mise à jour",
    maintenant: datetime | None = None,
) -> None:
    """Set the number of remaining places (None: stop tracking). Not committed."""
    if places_restantes is not None and places_restantes < 0:
        raise ValueError("le nombre de places restantes ne peut pas être négatif")
    maintenant = maintenant or maintenant_utc()
    ligne = db.get(Places, (fiche_id, session))
    avant = ligne.places_restantes if ligne else None
    if ligne is None:
        ligne = Places(
            fiche_id=fiche_id, session=session, maj_le=maintenant, maj_par=""
        )
    ligne.places_restantes = places_restantes
    ligne.maj_le, ligne.maj_par = maintenant, auteur
    db.add(ligne)
    _noter(db, fiche_id, session, avant, places_restantes, auteur, motif, maintenant)


def ajuster(
    db: Session,
    fiche_id: str,
    ecart: int,
    auteur: str,
    *,
    session: str = ACTION,
    motif: str = "places de la session changées",
    maintenant: datetime | None = None,
    maximum: int | None = None,
) -> bool:
    """A session got ``ecart`` more (or fewer) places: the remaining ones move
    by as much, never below zero nor above ``maximum`` (its capacity less the
    places held: 5 seats cut to 1 then back to 5, with 3 held, leave 2 free,
    not 4); False if its places are not tracked.

    Written only if the number read is still there (compare and set): a
    booking at the same moment is counted, never overwritten, on SQLite as
    on PostgreSQL; the journal says the exact before and after. Not committed.
    """
    maintenant = maintenant or maintenant_utc()
    ici = (Places.fiche_id == fiche_id, Places.session == session)
    while True:
        avant = db.exec(select(Places.places_restantes).where(*ici)).first()
        if avant is None:
            return False  # no row, or places not tracked
        apres = max(0, avant + ecart)
        if maximum is not None:
            apres = max(0, min(apres, maximum))
        if apres == avant:
            return True  # nothing to write, nor to journal
        fait = db.execute(
            update(Places)
            .where(*ici, Places.places_restantes == avant)
            .values(places_restantes=apres, maj_le=maintenant, maj_par=auteur)
            .execution_options(synchronize_session=False)
        )
        if fait.rowcount == 1:
            _noter(db, fiche_id, session, avant, apres, auteur, motif, maintenant)
            return True


def decaler(
    db: Session,
    fiche_id: str,
    ecart: int,
    auteur: str,
    *,
    session: str = ACTION,
    maximum: float | None = None,
    motif: str = "correction",
    maintenant: datetime | None = None,
) -> int | None:
    """Move the remaining places by ``ecart`` in one conditional UPDATE,
    within 0 and ``maximum``: two taps at once both count, and a place taken
    meanwhile is not handed back. The new number; None if tracking is off
    or it would leave those bounds. Not committed."""
    maintenant = maintenant or maintenant_utc()
    condition = [
        Places.fiche_id == fiche_id,
        Places.session == session,
        Places.places_restantes + ecart >= 0,
    ]
    if maximum is not None:
        condition.append(Places.places_restantes + ecart <= maximum)
    resultat = db.execute(
        update(Places)
        .where(*condition)
        .values(
            places_restantes=Places.places_restantes + ecart,
            maj_le=maintenant,
            maj_par=auteur,
        )
        .returning(Places.places_restantes)
    ).first()
    if resultat is None:
        return None
    apres = resultat[0]
    _noter(db, fiche_id, session, apres - ecart, apres, auteur, motif, maintenant)
    return apres


def commencer(
    db: Session,
    fiche_id: str,
    nombre: int,
    auteur: str,
    *,
    session: str = ACTION,
    motif: str = "correction",
    maintenant: datetime | None = None,
) -> bool:
    """Start counting at ``nombre`` places if they are not tracked, in one
    conditional statement: of two first taps at once, one starts the count
    and the other is told False (it then moves the count). Not committed."""
    maintenant = maintenant or maintenant_utc()
    valeurs = {"places_restantes": nombre, "maj_le": maintenant, "maj_par": auteur}
    # RETURNING, not rowcount: psycopg tells -1 for an insert left undone.
    fait = db.execute(
        update(Places)
        .where(
            Places.fiche_id == fiche_id,
            Places.session == session,
            Places.places_restantes.is_(None),
        )
        .values(**valeurs)
        .returning(Places.fiche_id)
    ).first()
    if fait is None:  # no row yet: the first insert wins, the others do nothing
        dialecte = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        fait = db.execute(
            dialecte.insert(Places)
            .values(fiche_id=fiche_id, session=session, **valeurs)
            .on_conflict_do_nothing()
            .returning(Places.fiche_id)
        ).first()
    if fait is not None:
        _noter(db, fiche_id, session, None, nombre, auteur, motif, maintenant)
    return fait is not None


def prendre(
    db: Session,
    fiche_id: str,
    auteur: str,
    *,
    session: str = ACTION,
    motif: str = "place prise",
    maintenant: datetime | None = None,
) -> Prise:
    """Take one place in a single conditional UPDATE: never below zero.

    Two requests for the last place both run the UPDATE; the database lets
    exactly one of them see ``places_restantes > 0``. Not committed.
    """
    maintenant = maintenant or maintenant_utc()
    resultat = db.execute(
        update(Places)
        .where(
            Places.fiche_id == fiche_id,
            Places.session == session,
            Places.places_restantes > 0,
        )
        .values(
            places_restantes=Places.places_restantes - 1,
            maj_le=maintenant,
            maj_par=auteur,
        )
        .returning(Places.places_restantes)
    ).first()
    if resultat is not None:
        apres = resultat[0]
        _noter(db, fiche_id, session, apres + 1, apres, auteur, motif, maintenant)
        return Prise.PRISE
    ligne = db.get(Places, (fiche_id, session))
    if ligne is None or ligne.places_restantes is None:
        return Prise.NON_SUIVIES
    return Prise.COMPLET


def rendre(
    db: Session,
    fiche_id: str,
    auteur: str,
    *,
    session: str = ACTION,
    maximum: float | None = None,
    motif: str = "place rendue",
    maintenant: datetime | None = None,
) -> bool:
    """Give one place back (never above ``maximum``); False if not tracked
    (or already at ``maximum``)."""
    apres = decaler(
        db,
        fiche_id,
        1,
        auteur,
        session=session,
        maximum=maximum,
        motif=motif,
        maintenant=maintenant,
    )
    return apres is not None


def lignes(db: Session, fiche_ids: Iterable[str] | None = None) -> list[Places]:
    requete = select(Places)
    if fiche_ids is not None:
        requete = requete.where(Places.fiche_id.in_(list(fiche_ids)))
    return list(db.exec(requete))


def resumer(lignes_: Iterable[Places], aujourd_hui: date | None = None) -> Etat:
    """One action's state: its own count, else the sum over coming sessions."""
    jour = (aujourd_hui or heure.aujourd_hui()).isoformat()
    action, sessions = None, []
    for ligne in lignes_:
        if ligne.session == ACTION:
            action = ligne
        elif ligne.session >= jour and ligne.places_restantes is not None:
            sessions.append(ligne)
    if action is not None and action.places_restantes is not None:
        return Etat(action.places_restantes, action.maj_le)
    if sessions:
        return Etat(
            sum(s.places_restantes for s in sessions), max(s.maj_le for s in sessions)
        )
    return Etat(None, action.maj_le if action else None)


def etats(db: Session, fiche_ids: Iterable[str] | None = None) -> dict[str, Etat]:
    """fiche id -> state, for the fiches that have any row."""
    par_fiche: dict[str, list[Places]] = {}
    for ligne in lignes(db, fiche_ids):
        par_fiche.setdefault(ligne.fiche_id, []).append(ligne)
    return {fiche_id: resumer(ls) for fiche_id, ls in par_fiche.items()}


def par_session(db: Session, fiche_id: str) -> dict[str, Places]:
    """session key -> row, for one fiche (ACTION for the whole action)."""
    return {ligne.session: ligne for ligne in lignes(db, [fiche_id])}


def importer_des_fiches(db: Session, fiches: Iterable[Fiche]) -> int:
    """Copy places written in the YAML into the database.

    A YAML figure only wins when it is newer than the database's (someone
    edited the file on purpose); otherwise the live figure stays. Committed.
    """
    existantes = {(ligne.fiche_id, ligne.session): ligne for ligne in lignes(db)}
    changees = 0
    for fiche in fiches:
        for session, nombre, maj_le in _places_ecrites(fiche):
            ligne = existantes.get((fiche.id, session))
            if ligne is not None and ligne.maj_le >= maj_le:
                continue
            fixer(
                db,
                fiche.id,
                nombre,
                AUTEUR_FICHE,
                session=session,
                motif="fiche YAML",
                maintenant=maj_le,
            )
            changees += 1
    db.commit()
    return changees


def _places_ecrites(fiche: Fiche) -> Iterable[tuple[str, int, datetime]]:
    jour = fiche.places_maj_le or fiche.date_maj
    maj_le = datetime(jour.year, jour.month, jour.day, tzinfo=UTC)
    if fiche.places_restantes is not None:
        yield ACTION, fiche.places_restantes, maj_le
    for s in fiche.sessions:
        nombre = s.places_restantes if s.places_restantes is not None else s.places
        if nombre is not None:
            yield cle_session(s.debut), nombre, maj_le


def publier(engine: Engine, moteur, limite: int = 500, documents=None) -> int:
    """Drain the outbox into the search index; what fails stays for next time.

    Any worker may drain: each one sends the database's current figures, so
    sending the same fiche twice is harmless. ``documents(db, ids, etat)``,
    when given, returns the whole documents of those fiches (a validated
    change of a fiche goes through this outbox too); otherwise only places
    are sent.
    """
    total = 0
    while True:
        with Session(engine) as db:
            a_faire = list(
                db.exec(select(IndexAFaire).order_by(IndexAFaire.id).limit(limite))
            )
            if not a_faire:
                return total
            ids = sorted({a.fiche_id for a in a_faire})
            etat = etats(db, ids)
            if documents is not None:
                docs = documents(db, ids, etat)
                moteur.indexer(docs)
                ids = sorted(set(ids) - {d["id"] for d in docs})
            for fiche_id in ids:
                e = etat.get(fiche_id, Etat(None, None))
                try:
                    moteur.maj_places(
                        fiche_id, e.places_restantes, e.maj_le or maintenant_utc()
                    )
                except KeyError:
                    # Not in the index (yet): it will carry the database's
                    # places when it is indexed, so this change is done.
                    logger.warning("Fiche %s absente de l'index de recherche", fiche_id)
            db.execute(
                delete(IndexAFaire).where(IndexAFaire.id.in_([a.id for a in a_faire]))
            )
            db.commit()
            total += len(a_faire)


def maintenant_utc() -> datetime:
    return datetime.now(UTC)


def en_attente(db: Session) -> int:
    """How many changes the search index has not received yet."""
    return len(list(db.exec(select(IndexAFaire.id))))


def places_des_documents(etat: Mapping[str, Etat]) -> dict[str, tuple]:
    """fiche id -> (places_restantes, ISO maj_le) as documents carry them."""
    return {
        fiche_id: (e.places_restantes, e.maj_le.isoformat() if e.maj_le else None)
        for fiche_id, e in etat.items()
    }
