"""The département erases a person's data at her request, in a real browser,
without JavaScript (every form works without it), axe on each page."""

import re

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app import create_app
from tests.navigateur.conftest import ORDINATEUR, servir
from tests.navigateur.test_prescription import connecter, sans_violation
from tests.prescription.conftest import PERSONNE, REGLAGES


@pytest.fixture(scope="module")
def serveur_rgpd(tmp_path_factory, base_de_donnees):
    app = create_app({
        **REGLAGES,
        "TESTING": True,
        "PROPAGATE_EXCEPTIONS": False,
        "SECRET_KEY": "test",
        "SEARCH_PATH": str(tmp_path_factory.mktemp("index-rgpd") / "r"),
        "DATABASE_URL": base_de_donnees(),
    })  # fmt: skip
    with servir(app) as url:
        yield url
    app.extensions["db"].dispose()


def s_inscrire(serveur: str) -> None:
    """Awa signs up alone (as in the sign-up journey's own test)."""
    with requests.Session() as navigateur:
        url = f"{serveur}/fiches/velos-alencon/inscription"
        page = navigateur.get(url, timeout=30).text
        jeton = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        reponse = navigateur.post(
            url,
            data={**PERSONNE, "consentement": "oui", "csrf_token": jeton},
            allow_redirects=False,
            timeout=30,
        )
        assert reponse.status_code == 303


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_le_departement_efface_les_donnees_d_une_personne(
    serveur_rgpd, navigateur, captures, avec_js
):
    s_inscrire(serveur_rgpd)
    contexte = navigateur.new_context(
        viewport=ORDINATEUR, locale="fr-FR", java_script_enabled=avec_js
    )
    axe = Axe()
    suffixe = "js" if avec_js else "sans-js"
    try:
        page = contexte.new_page()
        connecter(page, serveur_rgpd, "Agent du département (indicateurs)")
        page.get_by_role("link", name="Données d'une personne").click()
        page.get_by_label("Nom de la personne").fill("Diallo")
        page.get_by_label("Son téléphone ou son adresse e-mail").fill("0612345678")
        page.get_by_role("button", name="Chercher").click()
        fiche = page.get_by_label(re.compile("Awa Diallo, 06 12 34 56 78"))
        expect(fiche).to_be_checked()
        sans_violation(axe, page, captures, f"rgpd-trouvee-{suffixe}")

        # Without the confirmation, nothing is erased and she is still there.
        page.get_by_role("button", name="Effacer ses données").click()
        expect(page.locator(".alerte")).to_contain_text("rien n'a été effacé")
        expect(fiche).to_be_checked()

        page.get_by_label(re.compile("La personne a demandé l'effacement")).check()
        page.get_by_role("button", name="Effacer ses données").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Données effacées : 1 fiche de la personne anonymisée, "
            "1 demande en cours annulée"
        )
        sans_violation(axe, page, captures, f"rgpd-effacee-{suffixe}")

        page.get_by_label("Nom de la personne").fill("Diallo")
        page.get_by_label("Son téléphone ou son adresse e-mail").fill("0612345678")
        page.get_by_role("button", name="Chercher").click()
        expect(
            page.get_by_text("Aucune donnée sur une personne de ce nom")
        ).to_be_visible()
    finally:
        contexte.close()
