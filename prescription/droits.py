"""Who may see and do what: one place, asked by every view and fragment."""

from dataclasses import dataclass, field

from sqlmodel import Session, select

from prescription.modeles import (
    DEPARTEMENT_ADMIN,
    PRESTATAIRE_ADMIN,
    PRESTATAIRE_MEMBRE,
    REFERENT,
    Adhesion,
    Prescription,
    StructurePro,
    Utilisateur,
)


@dataclass
class Droits:
    """A professional's memberships, read once per request."""

    utilisateur: Utilisateur
    # role -> structures where the user holds it.
    structures: dict[str, list[StructurePro]] = field(default_factory=dict)

    @classmethod
    def lire(cls, db: Session, utilisateur: Utilisateur) -> "Droits":
        droits = cls(utilisateur)
        for adhesion, structure in db.exec(
            select(Adhesion, StructurePro)
            .join(StructurePro, StructurePro.id == Adhesion.structure_id)
            .where(Adhesion.utilisateur_id == utilisateur.id)
            .order_by(StructurePro.nom)
        ):
            droits.structures.setdefault(adhesion.role, []).append(structure)
        return droits

    @property
    def referent(self) -> bool:
        return bool(self.structures.get(REFERENT))

    @property
    def service(self) -> StructurePro | None:
        """The prescribing service the référent acts for: one only, since
        ``structures.rattacher`` refuses a second (older data: the first)."""
        services = self.structures.get(REFERENT, [])
        return services[0] if services else None

    @property
    def structures_prestataires(self) -> set[str]:
        """Catalogue structures whose requests this user answers."""
        return {
            s.structure_catalogue
            for role in (PRESTATAIRE_MEMBRE, PRESTATAIRE_ADMIN)
            for s in self.structures.get(role, [])
            if s.structure_catalogue
        }

    @property
    def prestataire(self) -> bool:
        return bool(self.structures_prestataires)

    @property
    def departement(self) -> bool:
        return bool(self.structures.get(DEPARTEMENT_ADMIN))

    def repond_pour(self, structure_catalogue: str) -> bool:
        return structure_catalogue in self.structures_prestataires

    def a_prescrit(self, prescription: Prescription) -> bool:
        services = {s.id for s in self.structures.get(REFERENT, [])}
        return prescription.prescripteur_id == self.utilisateur.id or (
            prescription.structure_prescriptrice_id in services
        )

    def peut_voir(self, prescription: Prescription) -> bool:
        # The département sees figures, not people.
        return self.a_prescrit(prescription) or self.repond_pour(
            prescription.structure_catalogue
        )
