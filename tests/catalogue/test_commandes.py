"""A département checks and publishes its catalogue from the command line."""

import json
import logging
import shutil

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup
from sqlalchemy import create_engine, text

from app import create_app
from tests.conftest import FIXTURES
from web.securite import ConfigurationInvalide

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


def test_un_dossier_de_fiches_vide_fait_echouer_la_verification(creer_app, tmp_path):
    (tmp_path / "vide").mkdir()
    app = creer_app(FICHES_DIR=str(tmp_path / "vide"))
    result = app.test_cli_runner().invoke(args=["fiches", "verifier"])
    assert result.exit_code == 1
    assert f"Erreur : aucune fiche valide dans le dossier « {tmp_path / 'vide'} »" in (
        result.output
    )


def test_un_dossier_de_fiches_absent_empeche_l_application_de_demarrer(creer_app):
    with pytest.raises(
        ConfigurationInvalide,
        match="FICHES_DIR : le dossier des fiches « /tmp/nexistepas » n'existe pas",
    ):
        creer_app(FICHES_DIR="/tmp/nexistepas", CATALOGUE=None)


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
    # The same link to the fiche as the API gives.
    assert mob["lien_source"] == (
        "http://127.0.0.1:5000/fiches/61-atelier-mob-pret-deux-roues"
    )
    api = app.test_client().get("/api/v1/data-inclusion/services?taille=1000")
    par_id = {s["id"]: s["lien_source"] for s in api.get_json()["items"]}
    assert all(par_id[s["id"]] == s["lien_source"] for s in services)
    # Links to this machine: said before the file is published as is.
    assert "les liens des services (lien_source) pointent vers http://127.0.0.1" in (
        result.output
    )


@pytest.mark.parametrize(
    ("url", "locale"),
    [
        ("http://192.168.1.10", True),
        ("http://intranet", True),
        ("http://offre.home.arpa", True),
        ("http://127.1", True),
        ("http://[fd00::1]", True),
        ("https://offre.cd61.fr", False),
        ("http://8.8.8.8", False),
    ],
)
def test_l_export_reconnait_une_adresse_que_personne_dehors_ne_suit(url, locale):
    from web.cli import _adresse_locale

    assert _adresse_locale(url) is locale


def test_exporter_avec_l_adresse_publique_n_avertit_pas(creer_app, tmp_path):
    app = creer_app(URL_PUBLIQUE="https://offre.cd61.fr")
    result = app.test_cli_runner().invoke(
        args=["fiches", "exporter", "--sortie", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    services = json.loads((tmp_path / "services.json").read_text(encoding="utf-8"))
    assert services[0]["lien_source"].startswith("https://offre.cd61.fr/fiches/")
    assert "Attention" not in result.output


def test_exporter_dans_un_dossier_impossible_le_dit_en_francais(runner):
    result = runner.invoke(args=["fiches", "exporter", "--sortie", "/proc/nope"])
    assert result.exit_code == 1
    assert result.output.startswith(
        "Erreur : impossible d'écrire dans le dossier « /proc/nope »"
    )
    assert "Traceback" not in result.output


def test_verifier_ne_dit_chaque_probleme_qu_une_fois_et_ne_touche_pas_la_base(
    tmp_path, base_de_donnees, caplog
):
    """An author changes a fiche's places and checks before publishing.

    Run as `flask --app app fiches verifier` runs it: the command line builds
    the app. The database keeps its figures until the real deployment.
    """
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CASSE, catalogue)
    fiche = catalogue / "fiches" / "valide-atelier-cv.yaml"
    fiche.write_text(
        fiche.read_text(encoding="utf-8")
        + "places_restantes: 4\nplaces_maj_le: 2026-01-01\n",
        encoding="utf-8",
    )
    url = base_de_donnees()
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": url,
        "SEARCH_PATH": str(tmp_path / "recherche"),
        "FICHES_DIR": str(catalogue / "fiches"),
        "STRUCTURES_DIR": str(catalogue / "structures"),
    }
    moteur = create_engine(url)

    def contenu() -> dict:
        with moteur.connect() as c:
            return {
                table: sorted(map(tuple, c.execute(text(f"SELECT * FROM {table}"))))
                for table in ("places", "places_journal", "index_a_faire")
            }

    avant = contenu()
    caplog.set_level(logging.INFO)
    cli = FlaskGroup(create_app=lambda: create_app(config))
    resultat = CliRunner().invoke(cli, ["fiches", "verifier"])
    assert resultat.exit_code == 1
    sortie = resultat.output + caplog.text
    for probleme in (
        "cle-inconnue.yaml:3 [resumé] : clé inconnue",
        "insee-inconnu.yaml:12 [lieux[0].code_insee]",
        "yaml-illisible.yaml:",
    ):
        assert sortie.count(probleme) == 1, sortie
    assert "Fiche ignorée" not in sortie
    assert contenu() == avant
    moteur.dispose()
    # The same files, served by a worker: the new figure reaches the database.
    servie = create_app(config)
    assert contenu() != avant
    servie.extensions["db"].dispose()


def test_verifier_pendant_une_mise_a_jour_laisse_l_index_de_l_ancienne_version(
    tmp_path, base_de_donnees
):
    """The operator checks the new release's fiches on the server while the
    previous release still serves its search from an older index folder."""
    index = tmp_path / "recherche"
    ancien = index / "v1"
    ancien.mkdir(parents=True)
    (ancien / "meta.json").write_text("{}")
    url = base_de_donnees()
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": url,
        "SEARCH_PATH": str(index),
    }
    cli = FlaskGroup(create_app=lambda: create_app(config))
    resultat = CliRunner().invoke(cli, ["fiches", "verifier"])
    assert resultat.exit_code == 0, resultat.output
    assert (ancien / "meta.json").read_text() == "{}"
    # The new release's first worker fills its own index: the old one goes.
    servie = create_app(config)
    assert not ancien.exists()
    client = servie.test_client()
    assert "actions trouvées" in client.get("/?q=emploi").get_data(as_text=True)
    servie.extensions["db"].dispose()


def test_migrer_une_base_injoignable_le_dit_en_francais(creer_app):
    # A PostgreSQL down (nothing listens on port 9): a raw traceback before.
    app = creer_app(DATABASE_URL="postgresql+psycopg://offre:secret@127.0.0.1:9/offre")
    resultat = app.test_cli_runner().invoke(args=["db", "migrer"])
    assert resultat.exit_code == 1
    assert resultat.output.startswith("Erreur : base de données injoignable")
    assert "Traceback" not in resultat.output
    assert "secret" not in resultat.output
