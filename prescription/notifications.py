"""Messages through an outbox: written with the change, sent after the commit.

A request is never lost because a mail server is down: its messages stay in
the ``notifications`` table and the next drain (after the next request, or
the scheduler's run) sends them.
"""

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import requests
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, select

from catalogue.places import maintenant_utc
from prescription import telephones
from prescription.modeles import AvisResume, Notification

logger = logging.getLogger(__name__)
ESSAIS_MAX = 20


class Expediteur(Protocol):
    def envoyer(self, destinataire: str, sujet: str, corps: str) -> None: ...


def mettre_en_file(
    db: Session,
    canal: str,
    destinataire: str,
    sujet: str,
    corps: str,
    maintenant: datetime | None = None,
    prescription_id: int | None = None,
) -> None:
    db.add(
        Notification(
            canal=canal,
            destinataire=destinataire,
            sujet=sujet[:200],
            corps=corps[:4000],
            cree_le=maintenant or maintenant_utc(),
            prescription_id=prescription_id,
        )
    )


def masquer(destinataire: str) -> str:
    """« 06•••••78 », « m•••@exemple.fr »: tells messages apart, names nobody."""
    if "@" in destinataire:
        nom, _, domaine = destinataire.rpartition("@")
        return f"{nom[:1]}•••@{domaine}"
    chiffres = "".join(c for c in destinataire if c.isdigit())
    return f"{chiffres[:2]}•••••{chiffres[-2:]}" if len(chiffres) >= 6 else "•••"


class Console:
    """Local runs: the message goes to the log, not to anybody.

    The recipient is always masked. ``discret`` (production, when an operator
    allowed console senders there): no subject, no body either, only a length.
    """

    canal = "Message"

    def __init__(self, discret: bool = False):
        self.discret = discret

    def envoyer(self, destinataire: str, sujet: str, corps: str) -> None:
        if self.discret:
            logger.info(
                "%s (console, non envoyé) à %s : %d caractères",
                self.canal,
                masquer(destinataire),
                len(corps),
            )
        else:
            # Every line of the message indented: words typed by a
            # prestataire never start a line that reads as a log entry.
            logger.info(
                "%s (console) à %s : %s\n%s",
                self.canal,
                masquer(destinataire),
                " ".join(sujet.split()),
                "\n".join(f"    | {ligne}" for ligne in corps.splitlines()),
            )


class CourrielConsole(Console):
    canal = "Courriel"


class CourrielSMTP:
    def __init__(
        self,
        hote: str,
        port: int,
        expediteur: str,
        utilisateur=None,
        mot_de_passe=None,
        starttls: bool = False,
        delai: float = 10,
    ):
        self.hote, self.port, self.expediteur = hote, port, expediteur
        self.utilisateur, self.mot_de_passe = utilisateur, mot_de_passe
        self.starttls, self.delai = starttls, delai

    def envoyer(self, destinataire: str, sujet: str, corps: str) -> None:
        message = EmailMessage()
        message["From"] = self.expediteur
        message["To"] = destinataire
        message["Subject"] = sujet
        message.set_content(corps)
        with smtplib.SMTP(self.hote, self.port, timeout=self.delai) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.utilisateur:
                smtp.login(self.utilisateur, self.mot_de_passe or "")
            smtp.send_message(message)


class SMSConsole(Console):
    canal = "SMS"


class SMSBrevo:
    """Brevo's transactional SMS API (French provider, ex-Sendinblue)."""

    def __init__(self, url: str, cle_api: str, expediteur: str, delai: float = 10):
        self.url, self.cle_api, self.expediteur = url, cle_api, expediteur
        self.delai = delai

    def envoyer(self, destinataire: str, sujet: str, corps: str) -> None:
        reponse = requests.post(
            self.url,
            json={
                "sender": self.expediteur,
                "recipient": telephones.international(destinataire),
                "content": corps,
                "type": "transactional",
            },
            headers={"api-key": self.cle_api, "accept": "application/json"},
            timeout=self.delai,
        )
        reponse.raise_for_status()


def envoyer_en_attente(
    engine: Engine, expediteurs: dict[str, Expediteur], limite: int = 200
) -> tuple[int, int]:
    """Send what waits in the outbox; (sent, failed). Failures stay queued."""
    envoyes = echecs = 0
    with Session(engine) as db:
        ids = db.exec(
            select(Notification.id)
            .where(Notification.envoye_le.is_(None), Notification.essais < ESSAIS_MAX)
            .order_by(Notification.id)
            .limit(limite)
        ).all()
        for nid in ids:
            n = _reserver(db, nid)
            if n is None:
                continue
            expediteur = expediteurs.get(n.canal)
            try:
                if expediteur is None:
                    raise RuntimeError(f"aucun expéditeur pour le canal {n.canal}")
                expediteur.envoyer(n.destinataire, n.sujet, n.corps)
            except (
                OSError,
                smtplib.SMTPException,
                requests.RequestException,
                RuntimeError,
            ) as erreur:
                n.essais += 1
                # The error's class only: its text may carry an address.
                n.derniere_erreur = type(erreur).__name__
                echecs += 1
                logger.warning(
                    "Message %s non envoyé (%s) : nouvel essai plus tard",
                    n.id,
                    type(erreur).__name__,
                )
            else:
                n.envoye_le = maintenant_utc()
                envoyes += 1
            n.reserve_jusqu_a = None
            db.add(n)
            db.commit()
    return envoyes, echecs


def _reserver(db: Session, nid: int) -> Notification | None:
    """Hold one message for this worker (one conditional UPDATE), or None."""
    maintenant = maintenant_utc()
    pris = db.execute(
        update(Notification)
        .where(
            Notification.id == nid,
            Notification.envoye_le.is_(None),
            or_(
                Notification.reserve_jusqu_a.is_(None),
                Notification.reserve_jusqu_a < maintenant,
            ),
        )
        .values(reserve_jusqu_a=maintenant + timedelta(minutes=2))
    ).rowcount
    db.commit()
    return db.get(Notification, nid) if pris else None


def expediteurs_depuis_config(
    config: dict, discret: bool = False
) -> dict[str, Expediteur]:
    """The senders the configuration names; ``discret``: console logs no text."""
    fabriques: dict[str, Callable[[], Expediteur]] = {
        "console": lambda: CourrielConsole(discret),
        "smtp": lambda: CourrielSMTP(
            config["SMTP_HOTE"],
            int(config["SMTP_PORT"]),
            config["COURRIEL_EXPEDITEUR"],
            config.get("SMTP_UTILISATEUR"),
            config.get("SMTP_MOT_DE_PASSE"),
            bool(config.get("SMTP_STARTTLS")),
        ),
    }
    sms: dict[str, Callable[[], Expediteur]] = {
        "console": lambda: SMSConsole(discret),
        "brevo": lambda: SMSBrevo(
            config["SMS_URL"], config["SMS_CLE_API"], config["SMS_EXPEDITEUR"]
        ),
    }
    return {
        "courriel": fabriques[config["COURRIEL_ENVOI"]](),
        "sms": sms[config["SMS_ENVOI"]](),
    }


def envoyer_les_resumes(db: Session, maintenant: datetime | None = None) -> int:
    """Each member's waiting digest lines become one e-mail in the outbox.

    Run once a day by the scheduler; not committed (the caller commits, so
    a line is either in one digest or still waiting, never in two).
    """
    maintenant = maintenant or maintenant_utc()
    lignes = db.exec(
        select(AvisResume)
        .where(AvisResume.resume_le.is_(None))
        .order_by(AvisResume.destinataire, AvisResume.id)
        .with_for_update(skip_locked=True)
    ).all()
    par_destinataire: dict[str, list[AvisResume]] = {}
    for ligne in lignes:
        par_destinataire.setdefault(ligne.destinataire, []).append(ligne)
    for destinataire, siennes in par_destinataire.items():
        n = len(siennes)
        sujet = f"Résumé du jour : {n} nouveauté{'s' if n > 1 else ''} sur vos actions"
        corps = "\n".join(
            [f"Bonjour,\n\nDepuis le dernier résumé ({n}) :\n"]
            + [f"- {ligne.ligne}\n  {ligne.lien}" for ligne in siennes]
            + ["\nPour répondre, connectez-vous et ouvrez chaque demande."]
        )
        mettre_en_file(db, "courriel", destinataire, sujet, corps, maintenant)
        for ligne in siennes:
            ligne.resume_le = maintenant
            db.add(ligne)
    return len(par_destinataire)
