"""Open data export in the national data·inclusion schema (v1).

Our extensions (places, sessions, prescription rules…) have no place there;
our own public slugs are mapped to their national equivalent.
"""

from data_inclusion.schema import v1

from catalogue.chargement import Catalogue
from catalogue.fiche import Fiche, Structure
from catalogue.vocabulaires import vocabulaire

SOURCE = "offre-insertion"


def _telephone_e164(numero: str | None) -> str | None:
    if not numero:
        return None
    chiffres = "".join(c for c in numero if c.isdigit() or c == "+")
    return "+33" + chiffres[1:] if chiffres.startswith("0") else chiffres


def _adresse(obj) -> dict:
    return {
        "adresse": obj.adresse,
        "complement_adresse": obj.complement_adresse,
        "code_postal": obj.code_postal,
        "commune": obj.commune,
        "code_insee": obj.code_insee,
        "latitude": obj.latitude,
        "longitude": obj.longitude,
    }


def structure_data_inclusion(structure: Structure) -> dict:
    data = {
        "source": SOURCE,
        "id": f"{SOURCE}--{structure.id}",
        "nom": structure.nom,
        "date_maj": structure.date_maj,
        "description": structure.description,
        "siret": structure.siret,
        "telephone": _telephone_e164(structure.telephone),
        "courriel": structure.courriel,
        "site_web": structure.site_web,
        "horaires_accueil": structure.horaires_accueil,
        **_adresse(structure),
    }
    return v1.Structure.model_validate(data).model_dump(mode="json")


def _publics(fiche: Fiche) -> list[str] | None:
    voc = vocabulaire("publics")
    nationaux = {voc.export_data_inclusion(p) for p in fiche.publics} - {None}
    if "tous-publics" in nationaux and len(nationaux) > 1:
        nationaux.discard("tous-publics")
    return sorted(nationaux) or None


def _conditions(fiche: Fiche) -> str | None:
    parties = [fiche.conditions_acces] if fiche.conditions_acces else []
    if fiche.documents:
        parties.append("Documents à fournir : " + " ; ".join(fiche.documents) + ".")
    return "\n".join(parties) or None


def service_data_inclusion(fiche: Fiche, structure: Structure) -> dict:
    lieu = fiche.lieux[0] if fiche.lieux else structure
    data = {
        "source": SOURCE,
        "structure_id": f"{SOURCE}--{structure.id}",
        "id": f"{SOURCE}--{fiche.id}",
        "nom": fiche.nom,
        "description": fiche.description,
        "date_maj": fiche.date_maj,
        "type": fiche.type,
        "thematiques": fiche.thematiques,
        "frais": fiche.frais,
        "frais_precisions": fiche.frais_precisions,
        "publics": _publics(fiche),
        "publics_precisions": fiche.publics_precisions,
        "conditions_acces": _conditions(fiche),
        "telephone": _telephone_e164(fiche.telephone or structure.telephone),
        "courriel": fiche.courriel or structure.courriel,
        "modes_accueil": fiche.modes_accueil,
        "zone_eligibilite": fiche.zone_eligibilite,
        "mobilisable_par": fiche.mobilisable_par,
        "modes_mobilisation": fiche.modes_mobilisation or None,
        "mobilisation_precisions": fiche.mobilisation_precisions,
        "volume_horaire_hebdomadaire": fiche.volume_horaire_hebdomadaire,
        "nombre_semaines": fiche.nombre_semaines,
        "horaires_accueil": fiche.horaires_accueil,
        **_adresse(lieu),
    }
    return v1.Service.model_validate(data).model_dump(mode="json")


def exporter_catalogue(catalogue: Catalogue) -> tuple[list[dict], list[dict]]:
    structures = [structure_data_inclusion(s) for s in catalogue.structures.values()]
    services = [
        service_data_inclusion(f, catalogue.structures[f.structure])
        for f in catalogue.fiches.values()
    ]
    return structures, services
