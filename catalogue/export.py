"""Open data export in the national data·inclusion schema (v1).

Our extensions (places, sessions, prescription rules…) have no place there;
our own public slugs are mapped to their national equivalent, and those with
none are spelled out in ``publics_precisions``.

A data·inclusion service has one address. An action held in several places
becomes one service per place: the first keeps the action's id
(``offre-insertion--<fiche>``), the others add ``--2``, ``--3``… and the
commune to the name. Only actions running now (statut ``active``) are
exported: a suspended or ended action is not an offer.
"""

from collections.abc import Callable

from data_inclusion.schema import v1

from catalogue import horaires
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
        "horaires_accueil": horaires.en_osm(structure.horaires_accueil),
        **_adresse(structure),
    }
    return _valide(v1.Structure, data)


def _publics(fiche: Fiche) -> list[str] | None:
    voc = vocabulaire("publics")
    nationaux = {voc.export_data_inclusion(p) for p in fiche.publics} - {None}
    if "tous-publics" in nationaux and len(nationaux) > 1:
        nationaux.discard("tous-publics")
    return sorted(nationaux) or None


def _publics_precisions(fiche: Fiche) -> str | None:
    """Our precisions, plus the publics the national list cannot say."""
    voc = vocabulaire("publics")
    texte = fiche.publics_precisions or ""
    sans_equivalent = [
        voc.libelle(p)
        for p in fiche.publics
        if voc.export_data_inclusion(p) is None
        and voc.libelle(p).casefold() not in texte.casefold()
    ]
    if sans_equivalent:
        ajout = "Publics visés : " + ", ".join(sans_equivalent).lower() + "."
        texte = f"{texte}\n{ajout}" if texte else ajout
    return texte or None


def _conditions(fiche: Fiche) -> str | None:
    parties = [fiche.conditions_acces] if fiche.conditions_acces else []
    if fiche.documents:
        parties.append("Documents à fournir : " + " ; ".join(fiche.documents) + ".")
    return "\n".join(parties) or None


def services_data_inclusion(
    fiche: Fiche, structure: Structure, lien_source: str | None = None
) -> list[dict]:
    """One service per place the action is held in (the porteur's if none);
    ``lien_source`` is the fiche's public page."""
    lieux = fiche.lieux or [structure]
    services = []
    for rang, lieu in enumerate(lieux, start=1):
        identifiant, nom = f"{SOURCE}--{fiche.id}", fiche.nom
        if rang > 1:
            identifiant += f"--{rang}"
        if len(lieux) > 1 and lieu.commune and len(nom) + len(lieu.commune) < 147:
            nom = f"{nom} ({lieu.commune})"
        services.append(_service(fiche, structure, lieu, identifiant, nom, lien_source))
    return services


def _service(
    fiche: Fiche, structure: Structure, lieu, identifiant, nom, lien_source
) -> dict:
    data = {
        "source": SOURCE,
        "structure_id": f"{SOURCE}--{structure.id}",
        "id": identifiant,
        "nom": nom,
        "description": fiche.description,
        "date_maj": fiche.date_maj,
        "type": fiche.type,
        "thematiques": fiche.thematiques,
        "frais": fiche.frais,
        "frais_precisions": fiche.frais_precisions,
        "publics": _publics(fiche),
        "publics_precisions": _publics_precisions(fiche),
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
        "horaires_accueil": horaires.en_osm(fiche.horaires_accueil),
        "lien_source": lien_source,
        **_adresse(lieu),
    }
    return _valide(v1.Service, data)


def _valide(modele, data: dict) -> dict:
    """Checked by the national schema, its lists in our order: the schema
    reads them as sets, which have none (two exports of one catalogue
    differed, and so did the API and the file)."""
    sortie = modele.model_validate(data).model_dump(mode="json")
    for cle, valeur in sortie.items():
        if isinstance(valeur, list) and isinstance(data.get(cle), list | tuple):
            rang = {v: i for i, v in enumerate(data[cle])}
            sortie[cle] = sorted(valeur, key=lambda v: (rang.get(v, len(rang)), v))
    return sortie


def fiches_exportees(catalogue: Catalogue) -> list[Fiche]:
    """The actions running now: the only ones that are an offer."""
    return [f for f in catalogue.fiches.values() if f.statut == "active"]


def exporter_catalogue(
    catalogue: Catalogue, lien: Callable[[Fiche], str] | None = None
) -> tuple[list[dict], list[dict]]:
    """Structures and services; ``lien`` gives each fiche's public page."""
    structures = [structure_data_inclusion(s) for s in catalogue.structures.values()]
    services = [
        service
        for f in fiches_exportees(catalogue)
        for service in services_data_inclusion(
            f, catalogue.structures[f.structure], lien(f) if lien else None
        )
    ]
    return structures, services
