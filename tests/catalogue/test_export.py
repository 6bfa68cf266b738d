"""The data·inclusion export says what the catalogue says: every place, every
public, and only the actions running now."""

import json
import os
import subprocess
import sys

from data_inclusion.schema import v1

from catalogue.chargement import charger_catalogue
from catalogue.export import exporter_catalogue, services_data_inclusion
from catalogue.fiche import Lieu
from tests.conftest import ROOT


def valides(services):
    for service in services:
        v1.Service.model_validate(json.loads(json.dumps(service)))
    return services


def test_une_action_en_deux_lieux_donne_deux_services(catalogue_recherche):
    fiche = catalogue_recherche.fiches["fle-alencon"]
    structure = catalogue_recherche.structures[fiche.structure]
    deux_lieux = fiche.model_copy(
        update={
            "lieux": [
                Lieu.model_validate({"code_insee": "61001", "commune": "Alençon"}),
                Lieu.model_validate({"code_insee": "61006", "commune": "Argentan"}),
            ]
        }
    )
    services = valides(services_data_inclusion(deux_lieux, structure))
    assert [s["id"] for s in services] == [
        "offre-insertion--fle-alencon",
        "offre-insertion--fle-alencon--2",
    ]
    assert [s["commune"] for s in services] == ["Alençon", "Argentan"]
    assert [s["code_insee"] for s in services] == ["61001", "61006"]
    assert services[1]["nom"] == "Ateliers de français langue étrangère (Argentan)"


def test_les_publics_sans_equivalent_national_restent_dans_les_precisions(
    catalogue_recherche,
):
    fiche = catalogue_recherche.fiches["fle-alencon"]
    structure = catalogue_recherche.structures[fiche.structure]
    hommes = fiche.model_copy(
        update={"publics": ["hommes", "personnes-isolees", "jeunes"]}
    )
    (service,) = valides(services_data_inclusion(hommes, structure))
    assert service["publics"] == ["jeunes"]
    assert service["publics_precisions"] == (
        "Publics visés : hommes, personnes isolées."
    )


def test_une_action_suspendue_ou_terminee_n_est_pas_exportee(catalogue_recherche):
    _, services = exporter_catalogue(catalogue_recherche)
    ids = {s["id"] for s in valides(services)}
    assert "offre-insertion--mob-conseil-orne-suspendu" not in ids
    assert "offre-insertion--fle-alencon" in ids


EXPORTER = """
import json
from catalogue.chargement import charger_catalogue
from catalogue.export import exporter_catalogue
catalogue = charger_catalogue("data/fiches", "data/structures")
print(json.dumps(exporter_catalogue(catalogue), ensure_ascii=False))
"""


def test_deux_exports_du_meme_catalogue_sont_identiques():
    # The national schema reads its lists as sets: their order changed from
    # one run to the next (each process hashes strings its own way), so a
    # republished export showed changes nobody made.
    sorties = [
        subprocess.run(
            [sys.executable, "-c", EXPORTER],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": graine},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for graine in ("1", "2")
    ]
    assert sorties[0] == sorties[1]
    _structures, services = json.loads(sorties[0])
    catalogue = charger_catalogue(
        ROOT / "data" / "fiches", ROOT / "data" / "structures"
    )
    for service in services:
        fiche = catalogue.fiches.get(service["id"].split("--")[1])
        if service["thematiques"]:
            assert service["thematiques"] == fiche.thematiques  # the YAML's order
