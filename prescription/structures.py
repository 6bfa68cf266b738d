"""Structures and memberships (who is référent or prestataire where).

Used by the département admin's pages and by the command line alike; every
change is written in the administration journal with who did it.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Field, Session, SQLModel, select

from catalogue import saisie
from catalogue.vocabulaires import vocabulaire
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
    """A change that cannot be made; the message is French, for the admin.

    ``erreurs`` gives each message its form field, when there is one.
    """

    def __init__(self, message: str, erreurs: dict[str, str] | None = None):
        super().__init__(message)
        self.erreurs = erreurs or {}


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


def _erreurs_des_liens(
    structure_catalogue: str, type_prescripteur: str, structures_du_catalogue
) -> dict[str, str]:
    """What the catalogue and vocabularies say of the structure's links."""
    erreurs = {}
    if structure_catalogue and structure_catalogue not in structures_du_catalogue:
        erreurs["structure_catalogue"] = (
            f"Aucune structure « {structure_catalogue} » dans les fiches : recopiez "
            "l'identifiant écrit dans ses fiches (champ structure)."
        )
    if type_prescripteur and type_prescripteur not in vocabulaire("prescripteurs"):
        erreurs["type_prescripteur"] = (
            f"Type de prescripteur inconnu : « {type_prescripteur} » (par exemple "
            "referent-rsa)."
        )
    return erreurs


def creer_structure(
    db: Session,
    nom: str,
    type_: str,
    qui: str,
    structures_du_catalogue: Collection[str],
    structure_catalogue: str | None = None,
    type_prescripteur: str | None = None,
) -> StructurePro:
    """A new structure (not committed); every mistake in one Refus.

    ``structures_du_catalogue``: the catalogue's structure ids, the only ones
    a structure may answer for.
    """
    nom = nom.strip()
    structure_catalogue = (structure_catalogue or "").strip()
    type_prescripteur = (type_prescripteur or "").strip()
    erreurs = _erreurs_des_liens(
        structure_catalogue, type_prescripteur, structures_du_catalogue
    )
    if not 2 <= len(nom) <= 200:
        erreurs["nom_structure"] = "Donnez un nom de 2 à 200 caractères."
    elif saisie.caractere_invisible(nom):
        erreurs["nom_structure"] = (
            "Le nom contient un caractère invisible : retapez-le."
        )
    elif db.exec(select(StructurePro).where(StructurePro.nom == nom)).first():
        erreurs["nom_structure"] = f"Une structure s'appelle déjà « {nom} »."
    if type_ not in TYPES_STRUCTURE:
        erreurs["type"] = "Choisissez le type de la structure."
    if erreurs:
        raise Refus(" ".join(erreurs.values()), erreurs)
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
    if role == REFERENT:
        # A référent prescribes for one service: which one would a request name?
        autre = db.exec(
            select(StructurePro)
            .join(Adhesion, Adhesion.structure_id == StructurePro.id)
            .where(Adhesion.utilisateur_id == utilisateur.id, Adhesion.role == REFERENT)
        ).first()
        if autre is not None:
            raise Refus(
                f"{courriel} est déjà référent dans « {autre.nom} » : un référent "
                "prescrit pour un seul service ; retirez d'abord ce rôle-là."
            )
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
