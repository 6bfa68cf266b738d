"""The flat document every engine indexes, and keeping an index in line."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from catalogue import heure
from catalogue.fiche import PLACES_MAX, Fiche, Structure
from catalogue.recherche import MoteurRecherche
from catalogue.recherche.langue import mots
from catalogue.vocabulaires import vocabulaire

# The "places" sort key of an action with no limit: above any count.
PLACES_ILLIMITEES_TRI = PLACES_MAX + 1


def document(
    fiche: Fiche, structure: Structure | None, places: tuple | None = None
) -> dict:
    """The flat document every engine indexes for one fiche.

    ``places`` is (places_restantes, ISO date) from the database, the source
    of truth; without it the fiche's own YAML figures are used.
    """
    libelle = vocabulaire("thematiques").libelle
    points = [
        {"lat": lieu.latitude, "lng": lieu.longitude}
        for lieu in fiche.lieux
        if lieu.latitude is not None
    ]
    if not points and structure and structure.latitude is not None:
        # Without a lieu the action happens at the porteur's address.
        points = [{"lat": structure.latitude, "lng": structure.longitude}]
    if fiche.modes_accueil == ["a-distance"]:
        points = []
    communes = {lieu.commune for lieu in fiche.lieux if lieu.commune}
    doc = {
        "id": fiche.id,
        "nom": fiche.nom,
        "nom_tri": " ".join(mots(fiche.nom)),
        "resume": fiche.resume,
        "description": fiche.description,
        "structure_nom": structure.nom if structure else "",
        # Category slugs read as words too: "mobilite" finds every mobility fiche.
        "thematiques_libelles": [
            *(c.replace("-", " ") for c in fiche.categories_thematiques),
            *(libelle(t) for t in fiche.thematiques),
        ],
        "publics_libelles": [vocabulaire("publics").libelle(p) for p in fiche.publics],
        "publics_precisions": fiche.publics_precisions or "",
        "communes": sorted(communes),
        "thematiques": fiche.thematiques,
        "categories_thematiques": fiche.categories_thematiques,
        "publics": fiche.publics,
        "categorie": fiche.categorie,
        "type": fiche.type,
        "frais": fiche.frais,
        "modes_accueil": fiche.modes_accueil,
        "mobilisable_par": fiche.mobilisable_par,
        "statut": fiche.statut,
        "zone": fiche.zone_eligibilite,
        "lieux": points,
        "_geo": points[0] if points else None,
        "a_distance": "a-distance" in fiche.modes_accueil,
        # No address known: a radius keeps it where its zone covers the town.
        "sans_lieu": not points,
        "session_ouverte": any(
            (s.places_restantes if s.places_restantes is not None else s.places or 0)
            > 0
            and s.debut >= heure.aujourd_hui()
            for s in fiche.sessions
        ),
        # No limit: there is always room, whatever is counted.
        "places_illimitees": fiche.capacite.illimitee,
    }
    doc["empreinte"] = empreinte(doc)
    if places is None:
        maj_le = fiche.places_maj_le.isoformat() if fiche.places_maj_le else None
        places = (fiche.places_restantes, maj_le)
    return doc | champs_places(*places, illimitees=fiche.capacite.illimitee)


def empreinte(doc: dict) -> str:
    """Fingerprint of what the YAML decides (places are live, so left out)."""
    contenu = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(contenu.encode()).hexdigest()[:16]


def champs_places(
    places_restantes: int | None, maj_le: str | None, illimitees: bool = False
) -> dict:
    """The place fields of a document, also sent alone when places change.

    With no limit a count means nothing (the pages say « Pas de limite »):
    never full, and first when most places come first."""
    if illimitees:
        places_restantes, tri = None, PLACES_ILLIMITEES_TRI
    else:
        # Untracked ones before full ones.
        tri = -1 if places_restantes == 0 else places_restantes or 0
    return {
        "places_restantes": places_restantes,
        "places_maj_le": maj_le,
        "complet": places_restantes == 0,
        "places_tri": tri,
    }


def places_les_plus_recentes(doc: dict, ancien: Mapping | None) -> dict:
    """Keep the index's places when they were updated after the YAML's."""
    if not ancien or not ancien.get("places_maj_le"):
        return doc
    if doc.get("places_maj_le") and doc["places_maj_le"] >= ancien["places_maj_le"]:
        return doc
    return doc | champs_places(
        ancien["places_restantes"],
        ancien["places_maj_le"],
        illimitees=bool(doc.get("places_illimitees")),
    )


def documents(catalogue, places: Mapping[str, tuple] | None = None) -> list[dict]:
    """Every fiche of a loaded catalogue as an indexed document.

    ``places``: fiche id -> (places_restantes, ISO date), read from the
    database; a fiche absent from it has no tracked places.
    """
    return [
        document(
            fiche,
            catalogue.structures.get(fiche.structure),
            (places or {}).get(fiche.id, (None, None)) if places is not None else None,
        )
        for fiche in catalogue.fiches.values()
    ]


@dataclass(frozen=True)
class Bilan:
    ajoutees: int
    modifiees: int
    supprimees: int


def synchroniser(
    moteur: MoteurRecherche, docs: list[dict], retirer: bool = True
) -> Bilan:
    """Bring the index in line with the YAML: add, update and remove fiches.

    ``retirer=False`` (at start-up) only adds and updates: a process started
    on another fiches folder must not empty the index the others share.
    """
    actuelles = moteur.empreintes()
    nouveaux = [d for d in docs if d["id"] not in actuelles]
    changes = [
        d for d in docs if d["id"] in actuelles and actuelles[d["id"]] != d["empreinte"]
    ]
    partis = set(actuelles) - {d["id"] for d in docs} if retirer else set()
    if nouveaux or changes:
        moteur.indexer(nouveaux + changes)
    if partis:
        moteur.supprimer(sorted(partis))
    return Bilan(len(nouveaux), len(changes), len(partis))
