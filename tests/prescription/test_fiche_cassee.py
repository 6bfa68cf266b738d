"""A fiche's file broken by a typo: the action and its requests stay online."""

import json
import shutil
import sqlite3
import time

import click
from sqlalchemy.exc import OperationalError

from catalogue import stockage
from tests.prescription.conftest import PERSONNE, PRESCRIPTION, poster, texte


def test_une_faute_dans_le_fichier_laisse_la_derniere_version_en_ligne(
    creer_app_prescription, tmp_path, caplog
):
    fiches, structures = tmp_path / "fiches", tmp_path / "structures"
    shutil.copytree(PRESCRIPTION / "fiches", fiches)
    shutil.copytree(PRESCRIPTION / "structures", structures)
    reglages = {"FICHES_DIR": str(fiches), "STRUCTURES_DIR": str(structures)}
    avant = creer_app_prescription(reglages)
    personne = avant.test_client()
    envoi = {**PERSONNE, "consentement": "oui"}
    suivi = poster(personne, "/fiches/velos-alencon/inscription", envoi)
    lien = suivi.headers["Location"]

    # Someone edits the file by hand and leaves a 30 February in it.
    fichier = fiches / "velos-alencon.yaml"
    texte_yaml = fichier.read_text(encoding="utf-8")
    fichier.write_text(
        texte_yaml.replace("date_maj: 2025-01-15", "date_maj: 2025-02-30"),
        encoding="utf-8",
    )
    apres = creer_app_prescription(reglages)
    # The operator is told, file and field, as `make verifier` says it…
    catalogue = apres.extensions["catalogue"]
    assert [e.fichier for e in catalogue.erreurs] == [str(fichier)]
    assert "cette date n'existe pas" in catalogue.erreurs[0].message
    assert "« velos-alencon » : son fichier a une erreur" in caplog.text
    # …and nobody else notices: the action, her request, her cancel link.
    visiteur = apres.test_client()
    assert "Prêt de vélos à Alençon" in texte(visiteur.get("/fiches/velos-alencon"))
    trouvees = visiteur.get("/api/v1/fiches?q=velos").get_json()["resultats"]
    assert "velos-alencon" in [f["id"] for f in trouvees]
    assert "Statut : Demandée" in texte(visiteur.get(lien))
    annulation = poster(visiteur, lien + "/annuler", {"confirmer": "oui"})
    assert annulation.status_code == 303
    assert "Votre demande est annulée." in texte(visiteur.get(lien))


def test_la_derniere_version_reste_en_ligne_quand_le_dossier_a_change_de_place(
    creer_app_prescription, tmp_path
):
    """A new release in another folder (or container path): the broken file
    was matched by its whole path, so the action left the site."""
    avant, apres = tmp_path / "version-1", tmp_path / "version-2"
    for dossier in (avant, apres):
        shutil.copytree(PRESCRIPTION / "fiches", dossier / "fiches")
    structures = str(PRESCRIPTION / "structures")
    creer_app_prescription(FICHES_DIR=str(avant / "fiches"), STRUCTURES_DIR=structures)
    fichier = apres / "fiches" / "velos-alencon.yaml"
    fichier.write_text(
        fichier.read_text(encoding="utf-8").replace("2025-01-15", "2025-02-30"),
        encoding="utf-8",
    )
    app = creer_app_prescription(
        FICHES_DIR=str(apres / "fiches"), STRUCTURES_DIR=structures
    )
    assert app.test_client().get("/fiches/velos-alencon").status_code == 200


def test_une_fiche_jamais_lue_valide_reste_ecartee(creer_app_prescription, tmp_path):
    fiches, structures = tmp_path / "fiches", tmp_path / "structures"
    shutil.copytree(PRESCRIPTION / "fiches", fiches)
    shutil.copytree(PRESCRIPTION / "structures", structures)
    nouvelle = (fiches / "velos-alencon.yaml").read_text(encoding="utf-8")
    nouvelle = nouvelle.replace("id: velos-alencon", "id: velos-neufs")
    (fiches / "velos-neufs.yaml").write_text(
        nouvelle.replace("date_maj: 2025-01-15", "date_maj: 2025-02-30"),
        encoding="utf-8",
    )
    app = creer_app_prescription(FICHES_DIR=str(fiches), STRUCTURES_DIR=str(structures))
    assert "velos-neufs" not in app.extensions["catalogue"].fiches
    assert app.test_client().get("/fiches/velos-neufs").status_code == 404


def test_base_injoignable_au_demarrage_la_derniere_version_revient_ensuite(
    creer_app_prescription, tmp_path, caplog, monkeypatch
):
    """Workers booted while the database was down: the preparation was never
    tried again, so the broken fiche stayed off the site (404) until restart."""
    fiches = tmp_path / "fiches"
    shutil.copytree(PRESCRIPTION / "fiches", fiches)
    reglages = {
        "FICHES_DIR": str(fiches),
        "STRUCTURES_DIR": str(PRESCRIPTION / "structures"),
    }
    creer_app_prescription(reglages)
    fichier = fiches / "velos-alencon.yaml"
    fichier.write_text(
        fichier.read_text(encoding="utf-8").replace("2025-01-15", "2025-02-30"),
        encoding="utf-8",
    )
    essais = []

    def base_injoignable(engine):
        essais.append(True)
        raise OperationalError(
            "SELECT", {}, sqlite3.OperationalError("connection refused")
        )

    monkeypatch.setattr(stockage, "schema_a_jour", base_injoignable)
    app = creer_app_prescription(reglages)
    assert "Préparation des places et de l'index interrompue" in caplog.text
    visiteur = app.test_client()
    for _ in range(3):  # an outage costs no database round trip per request
        assert visiteur.get("/fiches/velos-alencon").status_code == 404
    assert len(essais) == 1

    monkeypatch.undo()  # the database answers again
    preparer = app.extensions["preparer"]
    assert visiteur.get("/fiches/velos-alencon").status_code == 404  # not yet
    plus_tard = time.monotonic() + 30  # tried again half a minute later
    preparer.horloge = lambda: plus_tard
    assert "Prêt de vélos à Alençon" in texte(visiteur.get("/fiches/velos-alencon"))
    assert "Préparation des places et de l'index faite" in caplog.text
    assert "« velos-alencon » : son fichier a une erreur" in caplog.text


def test_l_export_garde_la_derniere_version_d_une_fiche_cassee(
    creer_app_prescription, tmp_path
):
    # `make exporter` wrote 3 services of 4, said nothing and exited 0, while
    # the site and the API kept publishing the broken file's last version.
    fiches, structures = tmp_path / "fiches", tmp_path / "structures"
    shutil.copytree(PRESCRIPTION / "fiches", fiches)
    shutil.copytree(PRESCRIPTION / "structures", structures)
    reglages = {"FICHES_DIR": str(fiches), "STRUCTURES_DIR": str(structures)}
    creer_app_prescription(reglages)  # the server, that read it valid
    fichier = fiches / "velos-alencon.yaml"
    fichier.write_text(
        fichier.read_text(encoding="utf-8").replace(
            "date_maj: 2025-01-15", "date_maj: 2025-02-30"
        ),
        encoding="utf-8",
    )
    with click.Context(click.Command("flask")):  # as `flask fiches exporter`
        commande = creer_app_prescription(reglages)
    sortie = commande.test_cli_runner().invoke(
        args=["fiches", "exporter", "--sortie", str(tmp_path / "export")]
    )
    assert sortie.exit_code == 0, sortie.output
    services = json.loads((tmp_path / "export" / "services.json").read_text("utf-8"))
    assert any(s["id"].endswith("velos-alencon") for s in services)
    api = commande.test_client().get("/api/v1/data-inclusion/services?taille=100")
    assert len(services) == len(api.get_json()["items"])
    # The operator still reads which file to mend.
    assert f"Fiche ignorée : {fichier}" in sortie.stderr
    assert "« velos-alencon » : son fichier a une erreur, la version lue le" in (
        sortie.stderr
    )
