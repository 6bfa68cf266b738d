"""axe-core (WCAG 2.1 A and AA) on every kind of page, at phone and desktop
sizes; each page is also saved as a screenshot in tests/captures/."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.navigateur.conftest import ORDINATEUR, TELEPHONE

NORMES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = {
    "recherche-vide": ("/", 200),
    "recherche-resultats": ("/?q=fracais&commune=Alen%C3%A7on+(61000)", 200),
    "recherche-filtres": ("/?categories_thematiques=mobilite&frais=gratuit", 200),
    "recherche-commune-inconnue": ("/?q=vélo&commune=Alenco", 200),
    "fiche": ("/fiches/61-ape-familiarisation-langue-francaise", 200),
    "fiche-complete": ("/fiches/61-atelier-mob-pret-deux-roues", 200),
    "erreur-404": ("/fiches/cette-fiche-n-existe-pas", 404),
    "erreur-500": ("/essai-erreur-500", 500),
    "accessibilite": ("/accessibilite", 200),
}


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize("taille", ["telephone", "ordinateur"])
@pytest.mark.parametrize("nom", PAGES)
def test_aucune_violation_axe(serveur, navigateur, captures, axe, nom, taille):
    chemin, statut = PAGES[nom]
    viewport = TELEPHONE if taille == "telephone" else ORDINATEUR
    context = navigateur.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    try:
        reponse = page.goto(serveur + chemin)
        assert reponse.status == statut
        if nom == "recherche-filtres":
            assert page.locator("details.plus-de-filtres").get_attribute("open") == ""
        page.screenshot(path=captures / f"{nom}-{taille}.png", full_page=True)
        resultat = axe.run(page, options={"runOnly": {"type": "tag", "values": NORMES}})
        assert resultat.violations_count == 0, resultat.generate_report()
    finally:
        context.close()


def test_le_clavier_commence_par_le_lien_d_evitement(serveur, telephone):
    telephone.goto(serveur + "/")
    telephone.keyboard.press("Tab")
    lien = telephone.locator(".evitement")
    assert lien.evaluate("el => el === document.activeElement")
    assert lien.bounding_box()["x"] >= 0  # shown on screen once focused
    telephone.keyboard.press("Enter")
    telephone.keyboard.press("Tab")
    assert telephone.evaluate("document.activeElement.id") == "q"
