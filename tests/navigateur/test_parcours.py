"""A beneficiary on a phone: search with a typo, pick a commune, keep only
actions with places, open a fiche; with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

FICHE = "fle-alencon"


def attendre_recherche(page, motif: str):
    """The URL is pushed once htmx has swapped the results in."""
    page.wait_for_url(re.compile(motif))
    expect(page.locator("#chargement")).to_be_hidden()


def test_parcours_avec_javascript(serveur, telephone):
    page = telephone
    page.goto(serveur + "/")
    expect(page.locator("h1")).to_have_text("Trouver une aide près de chez vous")

    page.locator("#q").press_sequentially("fracais", delay=40)
    attendre_recherche(page, r"q=fracais")
    expect(page.locator("#titre-resultats")).to_have_text(re.compile(r"\d+ actions"))
    expect(page.locator(".carte").first).to_contain_text("français")
    expect(page).to_have_title(re.compile(r"^« fracais » : \d+ actions"))

    page.locator("#commune").press_sequentially("Alen", delay=40)
    option = page.locator("#communes option[value='Alençon (61000)']")
    expect(option).to_have_count(1)
    page.locator("#commune").fill("Alençon (61000)")
    page.locator("#commune").press("Tab")
    attendre_recherche(page, r"commune=Alen")

    page.get_by_label("Seulement s'il reste des places").check()
    attendre_recherche(page, r"places_disponibles=1")
    expect(page.locator("#titre-resultats")).to_have_text("1 action trouvée")
    carte = page.locator(".carte").first
    expect(carte).to_contain_text("4 places libres")
    expect(carte).to_contain_text("à moins de 1 km")
    # The swap kept the focus on the box just ticked.
    expect(page.locator("#places_disponibles")).to_be_focused()

    carte.get_by_role("link").click()
    page.wait_for_url(f"**/fiches/{FICHE}")
    expect(page.locator("h1")).to_contain_text("français langue étrangère")
    expect(page.get_by_text("4 places libres").first).to_be_visible()


def test_parcours_sans_javascript(serveur, telephone_sans_js):
    page = telephone_sans_js
    page.goto(serveur + "/")
    page.locator("#q").fill("fracais")
    page.locator("#commune").fill("Alençon")
    page.get_by_label("Seulement s'il reste des places").check()
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"q=fracais.*commune=Alen.*places_disponibles=1"))
    expect(page.locator("#titre-resultats")).to_have_text("1 action trouvée")
    page.locator(".carte a").first.click()
    page.wait_for_url(f"**/fiches/{FICHE}")
    expect(page.locator("h1")).to_contain_text("français langue étrangère")


def test_commune_inconnue_sans_javascript(serveur, telephone_sans_js):
    page = telephone_sans_js
    page.goto(serveur + "/?commune=Alenco")
    expect(page.locator("#annonce")).to_contain_text("Lieu introuvable")
    commune = page.get_by_role("combobox", name="Votre commune")
    expect(commune).to_have_attribute("aria-invalid", "true")
    expect(commune).to_have_accessible_description(re.compile("^Lieu introuvable"))
    page.get_by_role("link", name="Alençon (61000)").click()
    expect(page.locator("#commune")).to_have_value("Alençon (61000)")
    expect(page.locator("#annonce .alerte")).to_have_count(0)
    expect(commune).not_to_have_attribute("aria-invalid", "true")


def test_une_commune_inconnue_tapee_marque_son_champ(serveur, telephone):
    """Typed with htmx, only the results are swapped: the field is marked
    as on a whole page, and unmarked once the place is found."""
    page = telephone
    page.goto(serveur + "/")
    commune = page.get_by_role("combobox", name="Votre commune")
    commune.fill("Alenco")
    commune.press("Enter")
    expect(page.locator("#annonce")).to_contain_text("Lieu introuvable")
    expect(commune).to_have_attribute("aria-invalid", "true")
    expect(commune).to_have_accessible_description(re.compile("^Lieu introuvable"))
    expect(page.locator("#q")).not_to_have_attribute("aria-invalid", "true")
    commune.fill("Alençon")
    commune.press("Enter")
    expect(page.locator("#annonce .alerte")).to_have_count(0)
    expect(commune).not_to_have_attribute("aria-invalid", "true")
    expect(commune).to_have_accessible_description("")


@pytest.mark.parametrize("delai_ms", [None, 1500], ids=["normal", "telephone-lent"])
def test_precedent_et_suivant_restaurent_les_resultats(serveur, telephone, delai_ms):
    """Back and forward show the words, the ticked filters and the results
    of the same search, even when the person goes back the moment the
    results appear: on a slow phone, htmx has not finished settling the new
    results when "Précédent" is tapped (simulated by a long settle delay)."""
    page = telephone
    titres = page.locator(".carte__titre")
    boite = page.locator("#q")
    filtre = page.locator("#mobilisable_par-usagers")
    page.goto(serveur + "/")
    if delai_ms:
        page.wait_for_function("window.htmx !== undefined")
        page.evaluate(f"htmx.config.defaultSettleDelay = {delai_ms}")
    boite.fill("velo")
    attendre_recherche(page, r"q=velo")
    premiers = titres.all_inner_texts()
    boite.fill("permis")
    attendre_recherche(page, r"q=permis$")
    filtre.check()
    attendre_recherche(page, r"q=permis&mobilisable_par=usagers$")
    seconds = titres.all_inner_texts()
    assert premiers != seconds

    page.go_back()
    page.wait_for_url(re.compile(r"q=permis$"))
    expect(filtre).not_to_be_checked()
    expect(boite).to_have_value("permis")
    page.go_back()
    page.wait_for_url(re.compile(r"q=velo$"))
    expect(titres).to_have_text(premiers)
    expect(boite).to_have_value("velo")
    expect(filtre).not_to_be_checked()

    page.go_forward()
    page.wait_for_url(re.compile(r"q=permis$"))
    expect(boite).to_have_value("permis")
    expect(filtre).not_to_be_checked()
    page.go_forward()
    page.wait_for_url(re.compile(r"mobilisable_par=usagers$"))
    expect(titres).to_have_text(seconds)
    expect(boite).to_have_value("permis")
    expect(filtre).to_be_checked()

    # Back from a fiche to the results it was opened from.
    titres.first.get_by_role("link").click()
    page.wait_for_url("**/fiches/**")
    page.go_back()
    page.wait_for_url(re.compile(r"mobilisable_par=usagers$"))
    expect(titres).to_have_text(seconds)
    expect(boite).to_have_value("permis")
    expect(filtre).to_be_checked()


def test_une_erreur_htmx_s_affiche_en_francais(serveur, telephone):
    page = telephone
    page.goto(serveur + "/")
    page.route(
        re.compile(r".*/\?q=panne.*"),
        lambda route: route.fulfill(status=500, body="erreur"),
    )
    page.locator("#q").fill("panne")
    expect(page.locator("#erreur-htmx")).to_contain_text("Le site a un problème")

    page.unroute(re.compile(r".*/\?q=panne.*"))
    page.route(re.compile(r".*/\?q=coupure.*"), lambda route: route.abort())
    page.locator("#q").fill("coupure")
    expect(page.locator("#erreur-htmx")).to_contain_text("Pas de connexion internet")


def test_sur_un_reseau_lent_la_recherche_en_cours_se_voit(serveur, telephone):
    """Seconds on a slow network: « Recherche en cours… » sat below the form,
    off a phone's screen, and the old results looked current (a tap opened
    one of them). The band shows at the top, the old results are busy."""
    page = telephone
    page.goto(serveur + "/?q=permis")
    retenues = []
    page.route(re.compile(r".*/\?q=francais.*"), lambda route: retenues.append(route))
    page.locator("#q").fill("francais")
    bandeau = page.get_by_text("Recherche en cours…")
    expect(bandeau).to_be_in_viewport()
    expect(page.locator("#resultats")).to_have_attribute("aria-busy", "true")
    retenues[0].continue_()
    attendre_recherche(page, r"q=francais")
    expect(page.locator("#resultats")).not_to_have_attribute("aria-busy", "true")
    expect(bandeau).to_be_hidden()


def test_rechercher_une_ville_et_une_distance_tapees_va_a_ce_lieu(serveur, telephone):
    """With JavaScript, « Rechercher » used to leave « Massy » and « 10 km »
    among the words (7 actions, the first in the Orne) with only a link:
    pressed, not typed as one goes, the search goes there, as without it."""
    page = telephone
    page.goto(serveur + "/")
    page.locator("#q").fill("permis à 10 km de Massy")
    # Typed as one goes: its address is pushed, and only a link is offered.
    attendre_recherche(page, r"q=permis")
    expect(
        page.get_by_role("link", name=re.compile("à moins de 10 km de Massy"))
    ).to_be_visible()
    page.locator("#q").press("Enter")
    page.wait_for_url(re.compile(r"commune=Massy.*rayon_km=10"))
    expect(page.locator("#commune")).to_have_value("Massy (91300)")
    expect(page.locator("#q")).to_have_value("permis")
    expect(page.locator("#rayon_km")).to_have_value("10")
    # The address the typing pushed was replaced: Back leaves the search.
    page.go_back()
    page.wait_for_url(serveur + "/")
    expect(page.locator("#q")).to_have_value("")
