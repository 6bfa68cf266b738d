"""The pilotage page in a real browser: phone and desk, with and without
JavaScript, axe on each; the département and a prestataire."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app import create_app
from tests.navigateur.conftest import ORDINATEUR, TELEPHONE, servir
from tests.navigateur.test_prescription import axe, connecter, ouvrir  # noqa: F401
from tests.navigateur.test_prescription import sans_violation as _sans_violation
from tests.prescription.test_pilotage import demande

RESULTATS = Path(__file__).resolve().parent.parent / "fixtures/pilotage/resultats.csv"
NANCY = "54-ars-sef-accompagnement-rsa-nancy-couronne"


@pytest.fixture(scope="module")
def serveur_pilotage(tmp_path_factory, base_de_donnees):
    """The demo catalogue, months of requests, last years' results loaded."""
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,
            "SECRET_KEY": "test",
            "SEARCH_PATH": str(tmp_path_factory.mktemp("index-pil") / "r"),
            "DATABASE_URL": base_de_donnees(),
        }
    )
    annee = datetime.now(UTC).year
    with Session(app.extensions["db"]) as db:
        for mois in (1, 2, 3):
            le = datetime(annee, mois, 12, tzinfo=UTC)
            for i in range(4 + 3 * mois):
                demande(
                    db,
                    NANCY,
                    structure="ars-service-emploi-formation",
                    le=le,
                    sexe="femme" if i % 3 else "homme",
                    statut=("entree", "acceptee", "sortie", "refusee")[i % 4],
                    type_sortie="emploi-durable" if i % 4 == 2 else None,
                    motif_refus="complet" if i % 4 == 3 else None,
                )
        db.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["pilotage", "importer", str(RESULTATS)]).exit_code == 0
    with servir(app) as url:
        yield url
    app.extensions["db"].dispose()


def sans_violation(axe, page, captures, nom):  # noqa: F811
    _sans_violation(axe, page, captures, f"pilotage-{nom}")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
@pytest.mark.parametrize("taille", [TELEPHONE, ORDINATEUR], ids=["390", "1280"])
def test_le_departement_lit_son_pilotage(
    serveur_pilotage,
    ouvrir,  # noqa: F811
    axe,  # noqa: F811
    captures,
    avec_js,
    taille,
):
    page = ouvrir(taille, avec_js)
    nom = f"{taille['width']}-{'js' if avec_js else 'sans-js'}"
    connecter(page, serveur_pilotage, "Agent du département (indicateurs)")
    page.get_by_role("link", name="Pilotage").first.click()
    expect(
        page.get_by_role("heading", name="Pilotage de l'offre d'insertion")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Où en sont les demandes")).to_be_visible()
    expect(page.get_by_role("table", name="Demandes par origine")).to_be_visible()
    sans_violation(axe, page, captures, f"departement-{nom}")
    # Last published year beside this period, row by row.
    par_action = page.get_by_role(
        "table", name="Résultats par action : cette période et 2017"
    )
    expect(
        par_action.get_by_role(
            "row", name="Service Emploi Formation de l'ARS (toute la structure)"
        )
    ).to_contain_text("565")
    detail = page.get_by_role("table", name="Le détail : cette période et 2017")
    expect(detail.get_by_role("row", name="Incarcération")).to_contain_text("8")
    # A period with nothing in it, then a wrong month: said, nothing lost.
    page.goto(serveur_pilotage + "/pro/pilotage?du=2017-13&fiche=" + NANCY)
    alerte = page.get_by_role("alert").filter(has_text="Certains filtres ne vont pas")
    expect(alerte).to_contain_text("écrivez un mois sous la forme AAAA-MM")
    expect(page.get_by_label("Action", exact=True)).to_have_value(NANCY)
    sans_violation(axe, page, captures, f"erreur-{nom}")
    # With one action chosen: its row only, this period beside 2017.
    par_action = page.get_by_role(
        "table", name="Résultats par action : cette période et 2017"
    )
    expect(par_action.get_by_role("row", name="Nancy Couronne")).to_contain_text("222")
    expect(par_action.get_by_text("toute la structure")).to_have_count(0)
    if taille == TELEPHONE:
        # Nothing wider than the phone but the tables' own scrolling boxes.
        largeur = page.evaluate("document.documentElement.scrollWidth")
        assert largeur <= TELEPHONE["width"]


def test_le_prestataire_voit_ses_actions(serveur_pilotage, ouvrir, axe, captures):  # noqa: F811
    page = ouvrir(TELEPHONE)
    connecter(
        page,
        serveur_pilotage,
        "Prestataire (je réponds aux demandes)",
        **{"Ma structure, si je suis prestataire": "udaf-moselle"},
    )
    page.get_by_role("link", name="Pilotage").first.click()
    expect(
        page.get_by_text("Les actions de votre structure seulement.")
    ).to_be_visible()
    origines = page.get_by_role("table", name="Demandes par origine")
    # No request to its actions yet: zero everywhere, no share.
    expect(
        origines.get_by_role("row", name="Total 0 0 0 0 –", exact=True)
    ).to_be_visible()
    par_action = page.get_by_role(
        "table", name="Résultats par action : cette période et 2017"
    )
    expect(par_action.get_by_role("row", name="Accompagnement global")).to_be_visible()
    expect(page.get_by_text("Service Emploi Formation de l'ARS")).to_have_count(0)
    sans_violation(axe, page, captures, "prestataire")
