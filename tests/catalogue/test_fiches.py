"""A reviewer reads fiches as YAML; the app loads them strictly and says why not."""

import json
from pathlib import Path

import pytest
from data_inclusion.schema import v1

from catalogue.chargement import charger_catalogue
from catalogue.export import exporter_catalogue
from tests.conftest import FIXTURES, ROOT

CASSE = FIXTURES / "catalogue_casse"


@pytest.fixture(scope="module")
def catalogue_casse():
    return charger_catalogue(CASSE / "fiches", CASSE / "structures", racine=CASSE)


@pytest.fixture(scope="module")
def catalogue_reel():
    return charger_catalogue(
        ROOT / "data" / "fiches", ROOT / "data" / "structures", racine=ROOT
    )


def erreurs_de(catalogue, fichier):
    return [e for e in catalogue.erreurs if e.fichier == f"fiches/{fichier}.yaml"]


# Each broken file, the line and field it must name, and a piece of the message.
CAS = [
    (
        "cle-inconnue",
        3,
        "resumé",
        "clé inconnue « resumé » ; vouliez-vous dire « resume »",
    ),
    ("mauvais-type", 15, "capacite.nombre", "doit être un nombre"),
    (
        "vocabulaire-inconnu",
        9,
        "publics[1]",
        "valeur inconnue « chomeurs » pour publics",
    ),
    ("insee-mal-forme", 12, "lieux[0].code_insee", "code INSEE de commune invalide"),
    ("insee-inconnu", 12, "lieux[0].code_insee", "« 61999 » inconnu du Code officiel"),
    (
        "code-postal-mal-forme",
        13,
        "lieux[0].code_postal",
        "code postal invalide : « 610 »",
    ),
    (
        "code-postal-autre-commune",
        13,
        "lieux[0].code_postal",
        "« 91000 » n'est pas un code postal de la commune Alençon (61000)",
    ),
    ("zone-inconnue", 13, "zone_eligibilite[1]", "ni une commune, ni un EPCI"),
    ("structure-absente", 10, "structure", "aucune structure ne porte l'identifiant"),
    (
        "zz-doublon-id",
        1,
        "id",
        "le fichier doit s'appeler valide-atelier-cv.yaml ; "
        "fiches/valide-atelier-cv.yaml existe déjà : ce fichier en est-il une copie ?",
    ),
    ("champ-manquant", 1, "categorie", "champ obligatoire absent"),
    ("cle-en-double", 8, "type", "clé en double"),
    # The line where the bracket opens, not the next one where PyYAML stops.
    ("yaml-illisible", 6, "thematiques", "syntaxe YAML invalide"),
    ("pas-une-fiche", 1, "", "doit contenir des clés et des valeurs"),
]


@pytest.mark.parametrize(("fichier", "ligne", "champ", "extrait"), CAS)
def test_une_fiche_cassee_est_signalee_avec_fichier_ligne_et_champ(
    catalogue_casse, fichier, ligne, champ, extrait
):
    erreurs = erreurs_de(catalogue_casse, fichier)
    assert any(
        e.ligne == ligne and e.champ == champ and extrait in e.message for e in erreurs
    ), [str(e) for e in erreurs]
    texte = str(next(e for e in erreurs if e.champ == champ))
    assert texte.startswith(f"fiches/{fichier}.yaml:{ligne}")


def test_les_fiches_valides_se_chargent_a_cote_des_fiches_cassees(catalogue_casse):
    assert sorted(catalogue_casse.fiches) == [
        "valide-atelier-cv",
        "valide-atelier-entretien",
    ]
    # The first file to claim an id keeps it; the duplicate is the one rejected.
    assert catalogue_casse.fiches["valide-atelier-cv"].nom == "Atelier CV"


def test_une_structure_au_code_postal_faux_est_signalee(catalogue_casse):
    erreurs = [e for e in catalogue_casse.erreurs if e.fichier.startswith("structures")]
    assert [str(e) for e in erreurs] == [
        "structures/structure-code-postal-faux.yaml:3 [code_postal] : « 91000 » "
        "n'est pas un code postal de la commune Alençon (61000)"
    ]
    assert list(catalogue_casse.structures) == ["maison-emploi"]


def test_chaque_fichier_casse_produit_au_moins_une_erreur(catalogue_casse):
    fichiers = {p.stem for p in (CASSE / "fiches").glob("*.yaml")}
    casses = fichiers - set(catalogue_casse.fiches)
    assert casses == {c[0] for c in CAS}
    assert {Path(e.fichier).stem for e in catalogue_casse.erreurs} >= casses


def test_le_lieu_recoit_les_coordonnees_de_sa_commune(catalogue_casse):
    lieu = catalogue_casse.fiches["valide-atelier-cv"].lieux[0]
    assert lieu.commune == "Alençon"
    assert lieu.latitude == pytest.approx(48.43, abs=0.05)
    assert lieu.longitude == pytest.approx(0.09, abs=0.05)


def test_le_catalogue_reel_compte_au_moins_70_fiches_toutes_valides(catalogue_reel):
    assert [str(e) for e in catalogue_reel.erreurs] == []
    assert len(catalogue_reel.fiches) >= 70
    departements = {f.id.split("-", 1)[0] for f in catalogue_reel.fiches.values()}
    assert {"54", "57", "61", "91"} <= departements


def test_tout_le_catalogue_s_exporte_en_services_data_inclusion_valides(
    catalogue_reel,
):
    structures, services = exporter_catalogue(catalogue_reel)
    actives = [f for f in catalogue_reel.fiches.values() if f.statut == "active"]
    assert len(services) == sum(max(1, len(f.lieux)) for f in actives)
    assert len({s["id"] for s in services}) == len(services)
    assert len(structures) == len(catalogue_reel.structures)
    for service in services:
        # Re-validate the exported JSON itself, as a consumer would.
        v1.Service.model_validate(json.loads(json.dumps(service)))
    for structure in structures:
        v1.Structure.model_validate(structure)
    ids = {s["id"] for s in structures}
    assert all(s["structure_id"] in ids for s in services)


def test_nos_publics_rsa_s_exportent_vers_le_vocabulaire_national(catalogue_reel):
    _, services = exporter_catalogue(catalogue_reel)
    fiches = catalogue_reel.fiches
    rsa = [
        s
        for s in services
        if "beneficiaires-rsa" in fiches[s["id"].split("--")[1]].publics
    ]
    assert rsa
    assert all("beneficiaires-des-minimas-sociaux" in s["publics"] for s in rsa)


def test_le_catalogue_reel_exporte_tous_les_lieux_et_tous_les_publics(
    catalogue_reel,
):
    _, services = exporter_catalogue(catalogue_reel)
    etape = [s for s in services if "61-etape-mon-quartier" in s["id"]]
    assert len(etape) == len(
        catalogue_reel.fiches["61-etape-mon-quartier-ma-solution"].lieux
    )
    egaux = next(s for s in services if s["id"].endswith("91-ml-paris-saclay-egaux"))
    # « Jeunes hommes » already says it: nothing added.
    assert egaux["publics_precisions"] == "Jeunes hommes de 16 à 25 ans."
    ids = {s["id"] for s in services}
    assert "offre-insertion--49-aide-accueil-asllip" not in ids


def test_le_programme_d_alencon_est_ouvert_a_son_territoire(catalogue_reel):
    # The source is the local programme of the Alençon RSA commission: its
    # actions are for the CU d'Alençon and Sées, not the whole Orne; only the
    # collèges' replacements, run by the Département everywhere, are.
    du_programme = [
        f
        for f in catalogue_reel.fiches.values()
        if f.source and f.source.document == "001"
    ]
    assert len(du_programme) >= 25
    departement_entier = {f.id for f in du_programme if "61" in f.zone_eligibilite}
    assert departement_entier == {"61-cd61-remplacement-colleges"}


def test_une_action_dont_la_convention_a_pris_fin_n_est_pas_en_cours(catalogue_reel):
    for fiche_id in (
        "54-ars-sef-securisation-parcours-terres-de-lorraine",
        "49-aide-accueil-asllip",
        "44-trajet-coach",
        "61-irfa-primo-professionnelle",
        "61-cd61-remplacement-colleges",
    ):
        assert catalogue_reel.fiches[fiche_id].statut == "terminee"
