"""axe-core (WCAG 2.1 A and AA) on every kind of page, at phone and desktop
sizes, with and without JavaScript; each page is also saved as a screenshot
in tests/captures/."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.navigateur.conftest import (
    ORDINATEUR,
    PETIT_TELEPHONE,
    TELEPHONE,
    capturer,
)

NORMES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TAILLES = {
    "telephone": TELEPHONE,
    "petit-telephone": PETIT_TELEPHONE,
    "ordinateur": ORDINATEUR,
}
PAGES = {
    "recherche-vide": ("/", 200),
    "recherche-resultats": ("/?q=fracais&commune=Alen%C3%A7on+(61000)", 200),
    "recherche-filtres": ("/?categories_thematiques=mobilite&frais=gratuit", 200),
    "recherche-commune-inconnue": ("/?q=vélo&commune=Alenco", 200),
    "fiche": ("/fiches/fle-alencon", 200),
    "fiche-complete": ("/fiches/cv-sessions-alencon", 200),
    "erreur-404": ("/fiches/cette-fiche-n-existe-pas", 404),
    "erreur-500": ("/essai-erreur-500", 500),
    "accessibilite": ("/accessibilite", 200),
}
# The states a person meets on a phone, checked at both phone sizes, with
# and without JavaScript.
ETATS = {
    "filtres-actifs": (
        "/?categories_thematiques=mobilite&publics=beneficiaires-rsa"
        "&places_disponibles=1"
    ),
    "aucun-resultat": "/?q=zzzqqqxx&commune=Alen%C3%A7on+(61000)",
    "places-non-suivies": "/?statut=suspendue",
    "glossaire": "/glossaire",
    "fiche-a-imprimer": "/fiches/mob-permis-alencon",
    "page-2": "/?par_page=3&page=2",
}


@pytest.fixture(scope="module")
def axe():
    return Axe()


def verifier_axe(navigateur, captures, axe, adresse, statut, nom, taille, js=True):
    context = navigateur.new_context(viewport=TAILLES[taille], locale="fr-FR")
    if not js:
        # axe itself needs JavaScript (it waits on timers): the page gets none
        # of its own scripts instead, which is what a browser without
        # JavaScript shows (the pages have no inline script nor <noscript>).
        context.route("**/*.js", lambda route: route.abort())
    page = context.new_page()
    try:
        reponse = page.goto(adresse)
        assert reponse.status == statut
        if nom == "recherche-filtres":
            assert page.locator("details.plus-de-filtres").get_attribute("open") == ""
        suffixe = "" if js else "-sans-js"
        capturer(page, captures / f"{nom}-{taille}{suffixe}.png")
        resultat = axe.run(page, options={"runOnly": {"type": "tag", "values": NORMES}})
        assert resultat.violations_count == 0, resultat.generate_report()
    finally:
        context.close()


@pytest.mark.parametrize("taille", TAILLES)
@pytest.mark.parametrize("nom", PAGES)
def test_aucune_violation_axe(serveur, navigateur, captures, axe, nom, taille):
    chemin, statut = PAGES[nom]
    verifier_axe(navigateur, captures, axe, serveur + chemin, statut, nom, taille)


@pytest.mark.parametrize("js", [True, False], ids=["avec-js", "sans-js"])
@pytest.mark.parametrize("taille", ["telephone", "petit-telephone"])
@pytest.mark.parametrize("nom", ETATS)
def test_aucune_violation_axe_sur_telephone(
    serveur, navigateur, captures, axe, nom, taille, js
):
    adresse = serveur + ETATS[nom]
    verifier_axe(navigateur, captures, axe, adresse, 200, nom, taille, js)


def test_le_clavier_commence_par_le_lien_d_evitement(serveur, telephone):
    telephone.goto(serveur + "/")
    telephone.keyboard.press("Tab")
    lien = telephone.locator(".evitement")
    assert lien.evaluate("el => el === document.activeElement")
    assert lien.bounding_box()["x"] >= 0  # shown on screen once focused
    telephone.keyboard.press("Enter")
    telephone.keyboard.press("Tab")
    assert telephone.evaluate("document.activeElement.id") == "q"
