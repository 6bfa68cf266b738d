"""Structures and memberships (who is référent or prestataire where).

Used by the département admin's pages and by the command line alike; every
change is written in the administration journal with who did it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Field, Session, SQLModel, select

from catalogue import saisie
from prescription.modeles import (
    DEPARTEMENT,
    DEPARTEMENT_ADMIN,
    PRESTATAIRE,
    PRESTATAIRE_ADMIN,
    PRESTATAIRE_MEMBRE,
    REFERENT,
    ROLES,
    SERVICE_PRESCRIPTEUR,
    TYPES_STRUCTURE,
    Adhesion,
    StructurePro,
    Utilisateur,
)

# A role only means something in its kind of structure (rights read it so).
ROLES_PAR_TYPE = {
    SERVICE_PRESCRIPTEUR: (REFERENT,),
    PRESTATAIRE: (PRESTATAIRE_MEMBRE, PRESTATAIRE_ADMIN),
    DEPARTEMENT: (DEPARTEMENT_ADMIN,),
}


class JournalAdmin(SQLModel, table=True):
    """Who created a structure, gave or took back a role, and when."""

    __tablename__ = "journal_admin"

    id: int | None = Field(default=None, primary_key=True)
    qui: str = Field(max_length=200)
    quoi: str = Field(max_length=500)
    le: datetime


class Refus(ValueError):
    """A change that cannot be made; the message is French, for the admin."""


@dataclass(frozen=True)
class Membre:
    adhesion: Adhesion
    utilisateur: Utilisateur


def noter(db: Session, qui: str, quoi: str, maintenant: datetime | None = None):
    db.add(JournalAdmin(qui=qui, quoi=quoi[:500], le=maintenant or datetime.now(UTC)))


def journal(db: Session, limite: int = 50) -> list[JournalAdmin]:
    return list(
        db.exec(select(JournalAdmin).order_by(JournalAdmin.id.desc()).limit(limite))
    )


def structures(db: Session) -> list[tuple[StructurePro, list[Membre]]]:
    membres: dict[int, list[Membre]] = {}
    for adhesion, utilisateur in db.exec(
        select(Adhesion, Utilisateur)
        .join(Utilisateur, Utilisateur.id == Adhesion.utilisateur_id)
        .order_by(Utilisateur.nom, Utilisateur.prenom)
    ):
        membres.setdefault(adhesion.structure_id, []).append(
            Membre(adhesion, utilisateur)
        )
    return [
        (s, membres.get(s.id, []))
        for s in db.exec(select(StructurePro).order_by(StructurePro.nom))
    ]


def creer_structure(
    db: Session,
    nom: str,
    type_: str,
    qui: str,
    structure_catalogue: str | None = None,
    type_prescripteur: str | None = None,
) -> StructurePro:
    """A new structure (not committed)."""
    nom = nom.strip()
    if not 2 <= len(nom) <= 200:
        raise Refus("Donnez un nom de 2 à 200 caractères.")
    if saisie.caractere_invisible(nom):
        raise Refus("Le nom contient un caractère invisible : retapez-le.")
    if type_ not in TYPES_STRUCTURE:
        raise Refus("Choisissez le type de la structure.")
    if db.exec(select(StructurePro).where(StructurePro.nom == nom)).first():
        raise Refus(f"Une structure s'appelle déjà « {nom} ».")
    s = StructurePro(
        nom=nom,
        type=type_,
        structure_catalogue=structure_catalogue or None,
        type_prescripteur=type_prescripteur or None,
    )
    db.add(s)
    db.flush()
    noter(db, qui, f"structure créée : « {nom} » ({type_})")
    return s


def rattacher(
    db: Session, courriel: str, structure: StructurePro, role: str, qui: str
) -> Adhesion:
    """Give ``role`` in ``structure`` to an existing account (not committed)."""
    if role not in ROLES:
        raise Refus("Choisissez un rôle.")
    if role not in ROLES_PAR_TYPE.get(structure.type, ()):
        permis = " ou ".join(f"« {ROLES[r]} »" for r in ROLES_PAR_TYPE[structure.type])
        raise Refus(f"Ce rôle ne se donne pas dans « {structure.nom} » : {permis}.")
    # Addresses are compared without case: « Camille@X.fr » is camille@x.fr.
    utilisateur = db.exec(
        select(Utilisateur).where(
            func.lower(Utilisateur.courriel) == courriel.strip().lower()
        )
    ).first()
    if utilisateur is None:
        raise Refus(
            "Aucun compte avec cette adresse : la personne doit se connecter une fois."
        )
    deja = db.exec(
        select(Adhesion).where(
            Adhesion.utilisateur_id == utilisateur.id,
            Adhesion.structure_id == structure.id,
            Adhesion.role == role,
        )
    ).first()
    if deja is not None:
        raise Refus(f"{courriel} a déjà ce rôle dans « {structure.nom} ».")
    adhesion = Adhesion(
        utilisateur_id=utilisateur.id, structure_id=structure.id, role=role
    )
    db.add(adhesion)
    db.flush()
    noter(
        db,
        qui,
        f"rôle « {ROLES[role]} » donné à {utilisateur.courriel} "
        f"dans « {structure.nom} »",
    )
    return adhesion


def retirer(db: Session, adhesion: Adhesion, qui: str) -> None:
    """Take a role back (not committed)."""
    utilisateur = db.get(Utilisateur, adhesion.utilisateur_id)
    structure = db.get(StructurePro, adhesion.structure_id)
    noter(
        db,
        qui,
        f"rôle « {ROLES.get(adhesion.role, adhesion.role)} » retiré à "
        f"{utilisateur.courriel} dans « {structure.nom} »",
    )
    db.delete(adhesion)
