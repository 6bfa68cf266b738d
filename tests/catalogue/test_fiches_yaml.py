"""The fiches written back as YAML stay the reviewable source."""

from catalogue.chargement import charger_catalogue
from tests.conftest import ROOT


def test_exporter_yaml_reecrit_chaque_fiche_que_le_chargeur_relit_a_l_identique(
    app, runner, tmp_path
):
    resultat = runner.invoke(args=["fiches", "exporter-yaml", "--sortie", tmp_path])
    assert resultat.exit_code == 0, resultat.output
    originales = app.extensions["catalogue"].fiches
    assert f"{len(originales)} fiches écrites" in resultat.output
    assert len(originales) == len(list((ROOT / "data" / "fiches").glob("*.yaml")))

    relu = charger_catalogue(tmp_path, ROOT / "data" / "structures", racine=ROOT)

    assert relu.erreurs == []
    assert sorted(relu.fiches) == sorted(originales)
    for fiche_id, fiche in originales.items():
        assert relu.fiches[fiche_id] == fiche, fiche_id
