"""A prestataire keeps its fiche current from a phone; the département validates.

Each run has its own app and database: the fiche changed here stays changed.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app import create_app
from tests.navigateur.conftest import TELEPHONE, servir
from tests.navigateur.test_prescription import connecter, sans_violation
from tests.prescription.conftest import REGLAGES

PRESTATAIRE = "Prestataire (je réponds aux demandes)"
DEPARTEMENT = "Agent du département (indicateurs)"


@pytest.fixture
def serveur_f(tmp_path, base_de_donnees):
    app = create_app({
        **REGLAGES,
        "TESTING": True,
        "PROPAGATE_EXCEPTIONS": False,
        "SECRET_KEY": "test",
        "SEARCH_PATH": str(tmp_path / "index"),
        "DATABASE_URL": base_de_donnees(),
    })  # fmt: skip
    with servir(app) as url:
        yield url
    app.extensions["db"].dispose()


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_le_prestataire_change_ses_horaires_et_ajoute_une_session_de_8_places(
    serveur_f, navigateur, axe, captures, avec_js
):
    suffixe = "js" if avec_js else "sans-js"
    contexte = navigateur.new_context(
        viewport=TELEPHONE, locale="fr-FR", java_script_enabled=avec_js
    )
    page = contexte.new_page()
    connecter(
        page,
        serveur_f,
        PRESTATAIRE,
        **{"Ma structure, si je suis prestataire": "garage-essonne"},
    )
    page.get_by_role("link", name="Mes places").first.click()
    page.get_by_role("link", name="Modifier la fiche").first.click()
    expect(page.get_by_role("heading", name="Modifier la fiche « Garage solidaire »"))
    sans_violation(axe, page, captures, f"fiche-modifier-{suffixe}")

    page.get_by_label("Horaires").fill("Du lundi au vendredi, de 9 h à 17 h")
    session = page.get_by_role("group", name="Nouvelle session").first
    session.get_by_label("Début").fill("2031-03-02")
    session.get_by_label("Places").fill("huit")
    page.get_by_role("button", name="Proposer la modification").click()
    # The loader's message, next to the field; nothing typed is lost.
    resume = page.get_by_role("alert")
    expect(
        resume.get_by_role(
            "link", name="Session 1, places : doit être un nombre entier"
        )
    ).to_be_visible()
    session = page.get_by_role("group", name="Session 1")
    expect(session.get_by_text("doit être un nombre entier")).to_be_visible()
    expect(session.get_by_label("Places")).to_have_value("huit")
    expect(page.get_by_label("Horaires")).to_have_value(
        "Du lundi au vendredi, de 9 h à 17 h"
    )
    sans_violation(axe, page, captures, f"fiche-modifier-erreur-{suffixe}")
    session.get_by_label("Places").fill("8")
    page.get_by_role("button", name="Proposer la modification").click()
    expect(page.get_by_text("Modification enregistrée")).to_be_visible()
    expect(page.get_by_text("1 modification en attente de validation")).to_be_visible()
    contexte.close()

    contexte = navigateur.new_context(
        viewport=TELEPHONE, locale="fr-FR", java_script_enabled=avec_js
    )
    page = contexte.new_page()
    connecter(page, serveur_f, DEPARTEMENT)
    page.get_by_role("link", name="Fiches à valider").first.click()
    carte = page.get_by_role("listitem").filter(has_text="Garage solidaire")
    expect(carte.get_by_text("du 2 mars 2031, 8 places")).to_be_visible()
    sans_violation(axe, page, captures, f"fiches-a-valider-{suffixe}")
    carte.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("validée et publiée")).to_be_visible()
    expect(page.get_by_text("Aucune modification en attente")).to_be_visible()

    page.goto(serveur_f + "/?q=garage")
    resultat = page.locator(".carte").filter(has_text="Garage solidaire")
    expect(resultat.get_by_text("8 places")).to_be_visible()
    resultat.get_by_role("link", name="Garage solidaire").click()
    expect(page.get_by_text("Du lundi au vendredi, de 9 h à 17 h")).to_be_visible()
    expect(page.get_by_text("mars 2031 – 8 places libres")).to_be_visible()
    contexte.close()


def test_la_page_des_structures_et_membres(serveur_f, navigateur, axe, captures):
    contexte = navigateur.new_context(viewport=TELEPHONE, locale="fr-FR")
    page = contexte.new_page()
    connecter(page, serveur_f, DEPARTEMENT)
    page.get_by_role("link", name="Structures et membres").first.click()
    expect(page.get_by_role("heading", name="Structures et membres")).to_be_visible()
    sans_violation(axe, page, captures, "structures")
    contexte.close()
