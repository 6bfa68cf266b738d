"""The département's figures: counts only, never a person."""

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, select

from catalogue import places
from catalogue.fiche import Fiche
from prescription.modeles import Beneficiaire, Prescription
from prescription.workflow import SORTIE, tient_une_place


@dataclass
class Indicateurs:
    total: int
    par_origine: Counter
    par_statut: Counter
    par_sexe: Counter
    par_tranche_age: Counter
    sorties: Counter
    places_suivies: float
    places_occupees: float

    @property
    def taux_remplissage(self) -> float | None:
        if not self.places_suivies:
            return None
        return self.places_occupees / self.places_suivies


def calculer(db: Session, fiches: dict[str, Fiche]) -> Indicateurs:
    lignes = db.exec(
        select(Prescription, Beneficiaire).join(
            Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id
        )
    ).all()
    # Occupied: the requests holding a place (entries included), never the
    # counter staff type, which says what is free, not who came.
    tenues = Counter(p.fiche_id for p, _ in lignes if tient_une_place(p.statut))
    suivies = occupees = 0.0
    for fiche_id, etat in places.etats(db, list(fiches)).items():
        fiche = fiches[fiche_id]
        if etat.places_restantes is None or not fiche.capacite.nombre:
            continue
        capacite = fiche.capacite.nombre
        if fiche.sessions:
            capacite = (
                sum(
                    s.places or 0
                    for s in fiche.sessions
                    if places.cle_session(s.debut) in places.par_session(db, fiche_id)
                )
                or capacite
            )
        suivies += capacite
        occupees += min(capacite, tenues[fiche_id])
    return Indicateurs(
        total=len(lignes),
        par_origine=Counter(p.origine for p, _ in lignes),
        par_statut=Counter(p.statut for p, _ in lignes),
        par_sexe=Counter(b.sexe for _, b in lignes),
        par_tranche_age=Counter(b.tranche_age for _, b in lignes),
        sorties=Counter(p.type_sortie for p, _ in lignes if p.statut == SORTIE),
        places_suivies=suivies,
        places_occupees=occupees,
    )
