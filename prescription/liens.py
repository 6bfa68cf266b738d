"""Signed links that need no account: expiring, and revocable in the database.

The link carries only a random identifier, signed with the app's secret:
no personal data in the address. The row says what it opens, until when,
and whether someone revoked it.
"""

import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session, select

from catalogue.places import maintenant_utc
from prescription.modeles import LienSigne


class LienInvalide(Exception):
    """The link cannot be used; the message says why, in French."""


def _signeur(secret: str, objet: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"offre-insertion-lien-{objet}")


def creer(
    db: Session,
    secret: str,
    objet: str,
    cible: str,
    duree: timedelta,
    maintenant: datetime | None = None,
) -> str:
    maintenant = maintenant or maintenant_utc()
    ligne = LienSigne(
        id=secrets.token_urlsafe(24),
        objet=objet,
        cible=cible,
        cree_le=maintenant,
        expire_le=maintenant + duree,
    )
    db.add(ligne)
    return _signeur(secret, objet).dumps(ligne.id)


def lire(
    db: Session, secret: str, objet: str, jeton: str, duree: timedelta
) -> LienSigne:
    try:
        identifiant = _signeur(secret, objet).loads(
            jeton, max_age=int(duree.total_seconds())
        )
    except SignatureExpired as erreur:
        raise LienInvalide("Ce lien a expiré.") from erreur
    except BadSignature as erreur:
        raise LienInvalide(
            "Ce lien n'est pas valide : vérifiez qu'il est complet."
        ) from erreur
    ligne = db.get(LienSigne, identifiant)
    if ligne is None or ligne.objet != objet:
        raise LienInvalide("Ce lien n'est pas valide : vérifiez qu'il est complet.")
    if ligne.revoque_le is not None:
        raise LienInvalide("Ce lien a été désactivé.")
    expire = (
        ligne.expire_le
        if ligne.expire_le.tzinfo
        else ligne.expire_le.replace(tzinfo=UTC)
    )
    if expire <= maintenant_utc():
        raise LienInvalide("Ce lien a expiré.")
    return ligne


def revoquer(db: Session, objet: str, cible: str) -> int:
    """Revoke every live link to this target (not committed)."""
    n = 0
    for ligne in db.exec(
        select(LienSigne).where(
            LienSigne.objet == objet,
            LienSigne.cible == cible,
            LienSigne.revoque_le.is_(None),
        )
    ):
        ligne.revoque_le = maintenant_utc()
        db.add(ligne)
        n += 1
    return n
