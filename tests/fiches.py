"""A small factory for fiches: a valid fiche YAML, with overrides, in a folder.

    dossier = ecrire_fiche(tmp_path, "atelier", courriel="contact@exemple.fr")
    ecrire_fiche(tmp_path, "cassee", date_maj=None, brut="date_maj: 2024-02-30")

Overrides replace fields (``None`` removes one); ``brut`` is YAML text added
at the end as written, for what a dict cannot express (a date the calendar
refuses, 300 brackets, a complex key). Fiches cite the structures of the
fixture catalogue ``tests/fixtures/recherche/structures``.
"""

from pathlib import Path

import yaml

STRUCTURES = Path(__file__).resolve().parent / "fixtures" / "recherche" / "structures"


def fiche_valide(identifiant: str, **surcharges) -> dict:
    fiche = {
        "id": identifiant,
        "nom": f"Atelier {identifiant}",
        "resume": "Un atelier pour reprendre confiance et préparer un projet.",
        "description": "Atelier collectif animé par une conseillère en insertion.",
        "categorie": "emploi",
        "thematiques": ["remobilisation--bien-etre-confiance-en-soi"],
        "type": "atelier",
        "date_maj": "2025-01-15",
        "publics": ["demandeurs-emploi"],
        "structure": "langues-solidaires",
        "lieux": [{"code_insee": "61001"}],
        "zone_eligibilite": ["61"],
        "capacite": {"nombre": 10, "unite": "places", "periode": "session"},
        "mobilisable_par": ["professionnels"],
    }
    for cle, valeur in surcharges.items():
        if valeur is None:
            fiche.pop(cle, None)
        else:
            fiche[cle] = valeur
    return fiche


def ecrire_fiche(dossier: Path, identifiant: str, brut: str = "", **surcharges) -> Path:
    """Write ``<dossier>/fiches/<identifiant>.yaml``; returns the fiches folder."""
    fiches = Path(dossier) / "fiches"
    fiches.mkdir(parents=True, exist_ok=True)
    texte = yaml.safe_dump(
        fiche_valide(identifiant, **surcharges), allow_unicode=True, sort_keys=False
    )
    (fiches / f"{identifiant}.yaml").write_text(
        texte + (brut + "\n" if brut else ""), encoding="utf-8"
    )
    return fiches


def derniere_ligne(dossier: Path, identifiant: str) -> int:
    """The line number of the last line of a written fiche (where ``brut`` ends)."""
    chemin = Path(dossier) / "fiches" / f"{identifiant}.yaml"
    return len(chemin.read_text(encoding="utf-8").splitlines())


def ecrire_structure(dossier: Path, identifiant: str, **champs) -> Path:
    """Write ``<dossier>/structures/<identifiant>.yaml``; returns that folder."""
    structures = Path(dossier) / "structures"
    structures.mkdir(parents=True, exist_ok=True)
    donnees = {
        "id": identifiant,
        "nom": f"Structure {identifiant}",
        "date_maj": "2025-01-01",
        **champs,
    }
    texte = yaml.safe_dump(donnees, allow_unicode=True, sort_keys=False)
    (structures / f"{identifiant}.yaml").write_text(texte, encoding="utf-8")
    return structures
