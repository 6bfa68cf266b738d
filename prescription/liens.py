"""Signed links that need no account: expiring, and revocable in the database.

The link carries only a random identifier, signed with the app's secret:
no personal data in the address. The row says what it opens, until when,
and whether someone revoked it.
"""

import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from sqlmodel import Session, select

from catalogue.places import maintenant_utc
from prescription.modeles import LienSigne


class LienInvalide(Exception):
    """The link cannot be used; the message says why, in French."""


INVALIDE = "Ce lien n'est pas valide : vérifiez qu'il est complet."


def _signeur(secret: str, objet: str) -> Signer:
    # The bare identifier, signed: short enough for a link in one SMS. Dates
    # live in the row (created, expires, revoked), not in the link.
    return Signer(secret, salt=f"offre-insertion-lien-{objet}")


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
        id=secrets.token_urlsafe(12),  # 96 random bits, and signed
        objet=objet,
        cible=cible,
        cree_le=maintenant,
        expire_le=maintenant + duree,
    )
    db.add(ligne)
    return _signeur(secret, objet).sign(ligne.id).decode()


def _ancien_format(secret: str, objet: str, jeton: str) -> str:
    """Links sent before the short format (JSON, dated) still open until they
    expire: they are in SMS and e-mails already."""
    ancien = URLSafeTimedSerializer(secret, salt=f"offre-insertion-lien-{objet}")
    try:
        identifiant = ancien.loads(jeton)
    except BadSignature as erreur:
        raise LienInvalide(INVALIDE) from erreur
    if not isinstance(identifiant, str):
        raise LienInvalide(INVALIDE)
    return identifiant


def lire(
    db: Session, secret: str, objet: str, jeton: str, duree: timedelta
) -> LienSigne:
    try:
        identifiant = _signeur(secret, objet).unsign(jeton).decode()
    except BadSignature as erreur:
        raise LienInvalide(INVALIDE) from erreur
    if "." in identifiant:  # signed "payload.date": the former format
        identifiant = _ancien_format(secret, objet, jeton)
    ligne = db.get(LienSigne, identifiant)
    if ligne is None or ligne.objet != objet:
        raise LienInvalide(INVALIDE)
    if ligne.revoque_le is not None:
        raise LienInvalide("Ce lien a été désactivé.")
    # The row's date, or a shorter duration set since the link was made.
    expire = min(_utc(ligne.expire_le), _utc(ligne.cree_le) + duree)
    if expire <= maintenant_utc():
        raise LienInvalide("Ce lien a expiré.")
    return ligne


def actifs(db: Session, objet: str, cible: str) -> int:
    """How many links to this target still open it (neither revoked nor expired)."""
    return len(
        db.exec(
            select(LienSigne.id).where(
                LienSigne.objet == objet,
                LienSigne.cible == cible,
                LienSigne.revoque_le.is_(None),
                LienSigne.expire_le > maintenant_utc(),
            )
        ).all()
    )


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


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
