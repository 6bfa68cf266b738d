"""Professionals' logins kept on the server: logout and expiry really end them.

A signed cookie alone stays valid after logout, and after the database is
rebuilt it would name whoever now has the same id; a row per login does not.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session

from catalogue.places import maintenant_utc
from prescription.modeles import SessionPro


def _empreinte(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


def ouvrir(db: Session, utilisateur_id: int, duree: timedelta, maintenant=None) -> str:
    """A new login: the token the cookie will carry. Not committed."""
    maintenant = maintenant or maintenant_utc()
    # Expired logins of anyone go now: the table holds live ones only.
    db.exec(delete(SessionPro).where(SessionPro.expire_le < maintenant))
    jeton = secrets.token_urlsafe(32)
    db.add(
        SessionPro(
            empreinte=_empreinte(jeton),
            utilisateur_id=utilisateur_id,
            cree_le=maintenant,
            expire_le=maintenant + duree,
        )
    )
    return jeton


def utilisateur(db: Session, jeton: object, maintenant=None) -> int | None:
    """Who this token logs in, if the login is still open."""
    if not isinstance(jeton, str) or not jeton:
        return None
    ligne = db.get(SessionPro, _empreinte(jeton))
    if ligne is None or ligne.expire_le <= (maintenant or maintenant_utc()):
        return None
    return ligne.utilisateur_id


def fermer(db: Session, jeton: object) -> None:
    """Logout: this device's login ends. Not committed."""
    if isinstance(jeton, str) and jeton:
        db.exec(delete(SessionPro).where(SessionPro.empreinte == _empreinte(jeton)))
