"""A département checks and publishes its catalogue from the command line."""

import json

from tests.conftest import FIXTURES

CASSE = FIXTURES / "catalogue_casse"


def test_verifier_le_catalogue_reel_reussit(runner, app):
    result = runner.invoke(args=["fiches", "verifier"])
    assert result.exit_code == 0, result.output
    assert f"{len(app.extensions['catalogue'].fiches)} fiches valides" in result.output
    assert "0 problème(s)" in result.output


def test_verifier_liste_chaque_probleme_et_echoue(creer_app):
    app = creer_app(
        FICHES_DIR=str(CASSE / "fiches"), STRUCTURES_DIR=str(CASSE / "structures")
    )
    result = app.test_cli_runner().invoke(args=["fiches", "verifier"])
    assert result.exit_code == 1
    assert "2 fiches valides" in result.output
    assert "cle-inconnue.yaml:3 [resumé] : clé inconnue" in result.output
    assert "insee-inconnu.yaml:12 [lieux[0].code_insee]" in result.output


def test_exporter_ecrit_structures_et_services(runner, app, tmp_path):
    result = runner.invoke(args=["fiches", "exporter", "--sortie", str(tmp_path)])
    assert result.exit_code == 0, result.output
    services = json.loads((tmp_path / "services.json").read_text(encoding="utf-8"))
    structures = json.loads((tmp_path / "structures.json").read_text(encoding="utf-8"))
    actives = [
        f for f in app.extensions["catalogue"].fiches.values() if f.statut == "active"
    ]
    assert {s["id"].split("--")[1] for s in services} == {f.id for f in actives}
    assert len(structures) == len(app.extensions["catalogue"].structures)
    mob = next(
        s for s in services if s["id"].endswith("61-atelier-mob-pret-deux-roues")
    )
    assert mob["code_insee"] == "61001"
    assert mob["telephone"] == "+33233294644"
    assert mob["publics"] == ["tous-publics"]
