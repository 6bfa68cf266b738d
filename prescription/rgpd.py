"""Personal data as the law asks: kept for a while, then anonymised; shown and
erased on request.

A person's identity and contact (prénom, nom, téléphone, courriel), the free
text written about them (motif, reasons in the log) and the messages sent to
them are wiped ``conservation_mois`` months after their last request closed
(a terminal status of the workflow). What the département counts stays:
sexe, tranche d'âge, public, commune, origine, statut, dates, motif de refus,
type de sortie — the figures do not move. Every anonymisation, export and
erasure writes a line in the audit log, and the audit log itself is purged
after ``audit_mois`` months. Nothing here commits: the caller does.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func
from sqlmodel import Session, select

from catalogue import places
from catalogue.fiche import Fiche
from catalogue.territoires import normalise
from prescription import demandes, liens, telephones
from prescription.modeles import (
    Audit,
    Beneficiaire,
    Notification,
    Prescription,
    StructurePro,
    Transition,
    Utilisateur,
)
from prescription.workflow import BENEFICIAIRE, PAR_ACTION, TERMINES

CONSERVATION_MOIS = 24
AUDIT_MOIS = 12
PAR_LE_PLANIFICATEUR = "planificateur (durée de conservation)"
ANONYMISATION = "anonymisation : conservation dépassée"
RECHERCHE = "recherche des données de la personne"
EXPORT = "export des données de la personne"
EFFACEMENT = "effacement à la demande de la personne"
# What lists show instead of the name (the column cannot be empty).
ANONYME = "Personne anonymisée"


@dataclass(frozen=True)
class Bilan:
    personnes_anonymisees: int
    audits_supprimes: int


def mois_avant(moment: datetime, mois: int) -> datetime:
    """The same day ``mois`` months earlier (the last day if it has none)."""
    annee, m = divmod(moment.year * 12 + moment.month - 1 - mois, 12)
    m += 1
    if annee < 1:  # further back than the calendar: nothing is that old
        return moment.replace(year=1, month=1, day=1)
    jour = moment.day
    while jour > 28:  # the 31st of a month of 30 days: its last day
        try:
            return moment.replace(year=annee, month=m, day=jour)
        except ValueError:
            jour -= 1
    return moment.replace(year=annee, month=m, day=jour)


def a_anonymiser(db: Session, limite: datetime) -> list[int]:
    """People whose requests are all closed, the last one before ``limite``."""
    ouvertes = func.sum(case((Prescription.statut.in_(TERMINES), 0), else_=1))
    requete = (
        select(Prescription.beneficiaire_id)
        .join(Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id)
        .where(Beneficiaire.anonymise_le.is_(None))
        .group_by(Prescription.beneficiaire_id)
        .having(ouvertes == 0, func.max(Prescription.maj_le) < limite)
        .order_by(Prescription.beneficiaire_id)
    )
    return list(db.exec(requete))


def purger(
    db: Session,
    maintenant: datetime | None = None,
    conservation_mois: int = CONSERVATION_MOIS,
    audit_mois: int = AUDIT_MOIS,
) -> Bilan:
    """The scheduler's pass: anonymise who is due, drop the old audit lines."""
    maintenant = maintenant or places.maintenant_utc()
    ids = a_anonymiser(db, mois_avant(maintenant, conservation_mois))
    for beneficiaire in db.exec(select(Beneficiaire).where(Beneficiaire.id.in_(ids))):
        anonymiser(db, beneficiaire, PAR_LE_PLANIFICATEUR, ANONYMISATION, maintenant)
    # Flushed first: the new lines are recent, the purge never takes them.
    db.flush()
    supprimes = db.exec(
        delete(Audit).where(Audit.le < mois_avant(maintenant, audit_mois))
    ).rowcount
    return Bilan(len(ids), supprimes or 0)


def _prescriptions(db: Session, beneficiaire_id: int) -> list[Prescription]:
    return list(
        db.exec(
            select(Prescription)
            .where(Prescription.beneficiaire_id == beneficiaire_id)
            .order_by(Prescription.id)
        )
    )


def anonymiser(
    db: Session,
    beneficiaire: Beneficiaire,
    qui: str,
    quoi: str,
    maintenant: datetime | None = None,
) -> None:
    """Wipe identity, contact and free text; keep what is counted; log it."""
    maintenant = maintenant or places.maintenant_utc()
    contacts = [c for c in (beneficiaire.telephone, beneficiaire.courriel) if c]
    if contacts:
        # Messages carry the first name and personal links.
        db.exec(delete(Notification).where(Notification.destinataire.in_(contacts)))
    prescriptions = _prescriptions(db, beneficiaire.id)
    # And those about her to others: the référent's name her (« Awa D. »).
    db.exec(
        delete(Notification).where(
            Notification.prescription_id.in_([p.id for p in prescriptions])
        )
    )
    for p in prescriptions:
        p.motif = ""
        db.add(p)
        for t in db.exec(select(Transition).where(Transition.prescription_id == p.id)):
            t.pourquoi = t.message = ""
            db.add(t)
        liens.revoquer(db, "prescription", str(p.id))
        demandes.auditer(db, p, qui, quoi, maintenant)
    beneficiaire.prenom, beneficiaire.nom = "", ANONYME
    beneficiaire.telephone = beneficiaire.courriel = None
    beneficiaire.anonymise_le = maintenant
    db.add(beneficiaire)


# --- On request: find, export, erase ------------------------------------------


def trouver(db: Session, nom: str, contact: str) -> list[Beneficiaire]:
    """The records of a person known by their nom and a phone or e-mail.

    The contact is matched in SQL, the name here: SQLite's lower() leaves
    « É » as it is, so « élodie » would never meet « Élodie » there."""
    nom, contact = normalise(nom), contact.strip()
    if not nom or not contact:
        return []
    if "@" in contact:
        par_contact = func.lower(Beneficiaire.courriel) == contact.lower()
    else:
        par_contact = Beneficiaire.telephone.in_(sorted(telephones.formes(contact)))
    candidats = db.exec(
        select(Beneficiaire)
        .where(par_contact, Beneficiaire.anonymise_le.is_(None))
        .order_by(Beneficiaire.id)
    )
    # Accents and case aside (« elodie » is « Élodie »): the contact must
    # match too.
    return [b for b in candidats if normalise(b.nom) == nom]


def noter_la_recherche(
    db: Session, beneficiaires: list[Beneficiaire], qui: str
) -> None:
    """Seeing who a person is, is itself logged."""
    for b in beneficiaires:
        for p in _prescriptions(db, b.id):
            demandes.auditer(db, p, qui, RECHERCHE)


def _date(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def exporter(
    db: Session,
    beneficiaires: list[Beneficiaire],
    fiches: dict[str, Fiche],
    qui: str,
    maintenant: datetime | None = None,
) -> dict:
    """Everything held on these records, as plain JSON; the export is logged."""
    maintenant = maintenant or places.maintenant_utc()
    personnes = []
    for b in beneficiaires:
        contacts = [c for c in (b.telephone, b.courriel) if c]
        demandes_ = []
        for p in _prescriptions(db, b.id):
            demandes_.append(_demande(db, p, fiches))
            demandes.auditer(db, p, qui, EXPORT, maintenant)
        messages = db.exec(
            select(Notification)
            .where(Notification.destinataire.in_(contacts))
            .order_by(Notification.id)
        )
        personnes.append(
            {
                "personne": {
                    "prenom": b.prenom,
                    "nom": b.nom,
                    "telephone": b.telephone,
                    "courriel": b.courriel,
                    "commune_code": b.commune_code,
                    "commune_nom": b.commune_nom,
                    "public": b.public,
                    "sexe": b.sexe,
                    "tranche_age": b.tranche_age,
                },
                "demandes": demandes_,
                "messages": [
                    {
                        "canal": m.canal,
                        "destinataire": m.destinataire,
                        "sujet": m.sujet,
                        "corps": m.corps,
                        "cree_le": _date(m.cree_le),
                        "envoye_le": _date(m.envoye_le),
                    }
                    for m in messages
                ],
            }
        )
    return {"exporte_le": maintenant.isoformat(), "personnes": personnes}


def _demande(db: Session, p: Prescription, fiches: dict[str, Fiche]) -> dict:
    fiche = fiches.get(p.fiche_id)
    referent = db.get(Utilisateur, p.prescripteur_id) if p.prescripteur_id else None
    service = (
        db.get(StructurePro, p.structure_prescriptrice_id)
        if p.structure_prescriptrice_id
        else None
    )
    transitions = db.exec(
        select(Transition)
        .where(Transition.prescription_id == p.id)
        .order_by(Transition.id)
    )
    audits = db.exec(
        select(Audit).where(Audit.prescription_id == p.id).order_by(Audit.id)
    )
    return {
        "numero": p.id,
        "fiche_id": p.fiche_id,
        "fiche": fiche.nom if fiche else None,
        "session": p.session or None,
        "origine": p.origine,
        "statut": p.statut,
        "motif": p.motif,
        "motif_refus": p.motif_refus,
        "type_sortie": p.type_sortie,
        "hors_zone": p.hors_zone,
        "referent": (
            f"{referent.prenom} {referent.nom} <{referent.courriel}>".strip()
            if referent
            else None
        ),
        "service_prescripteur": service.nom if service else None,
        "cree_le": _date(p.cree_le),
        "maj_le": _date(p.maj_le),
        "historique": [
            {
                "de": t.de,
                "vers": t.vers,
                "action": t.action,
                "par": t.par,
                "le": _date(t.le),
                "pourquoi": t.pourquoi,
                "message": t.message,
            }
            for t in transitions
        ],
        "consultations": [
            {"qui": a.qui, "quoi": a.quoi, "le": _date(a.le)} for a in audits
        ],
    }


def effacer(
    db: Session,
    beneficiaires: list[Beneficiaire],
    fiches: dict[str, Fiche],
    liens_: demandes.Liens,
    qui: str,
    maintenant: datetime | None = None,
) -> int:
    """Erase on request: requests still open are cancelled (their place goes
    back, to the first person waiting), then the person is anonymised.

    A person already in the action (« entrée ») keeps that status: only the
    prestataire notes an exit; they lose the contact, the figures stay.
    Returns how many requests were cancelled.
    """
    maintenant = maintenant or places.maintenant_utc()
    annuler = PAR_ACTION["annuler"]
    annulees = 0
    for b in beneficiaires:
        for p in _prescriptions(db, b.id):
            fiche = fiches.get(p.fiche_id)
            if fiche is None or p.statut not in annuler.depuis:
                continue
            demandes.appliquer(
                db,
                p,
                "annuler",
                demandes.Acteur(BENEFICIAIRE, qui),
                fiche,
                liens_,
                maintenant=maintenant,
            )
            annulees += 1
        db.flush()
        anonymiser(db, b, qui, EFFACEMENT, maintenant)
    return annulees
