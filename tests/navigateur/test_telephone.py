"""On a phone: filters that fold, a submit button always in reach, active
filters removed in one tap, acronyms in words, a fiche to print and light to
open from a text message."""

import re

import pytest
from playwright.sync_api import expect

from tests.navigateur.conftest import PETIT_TELEPHONE, TELEPHONE, capturer

THEME_MOBILITE = "#f-categories_thematiques-mobilite"


def page_sur(navigateur, taille, js=True):
    context = navigateur.new_context(
        viewport=taille, locale="fr-FR", java_script_enabled=js
    )
    return context, context.new_page()


def bouton_a_l_ecran(page) -> bool:
    return page.evaluate(
        """() => {
          const r = document.querySelector('.envoi .bouton').getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }"""
    )


@pytest.mark.parametrize("taille", [TELEPHONE, PETIT_TELEPHONE], ids=["390", "320"])
def test_rechercher_reste_a_portee_quand_on_deplie_les_filtres(
    serveur, navigateur, captures, taille
):
    context, page = page_sur(navigateur, taille)
    try:
        page.goto(serveur + "/")
        page.get_by_text("Plus de choix").click()
        groupes = page.locator("details.groupe")
        assert groupes.count() == 5
        # Folded, each says how many choices it holds.
        expect(groupes.first).not_to_have_attribute("open", "")
        expect(groupes.first.locator("summary")).to_have_text(
            re.compile(r"Thème\s+\d+ choix")
        )
        for i in range(groupes.count()):
            groupes.nth(i).locator("summary").click()
        page.locator("#f-frais-gratuit").scroll_into_view_if_needed()
        assert bouton_a_l_ecran(page)
        page.screenshot(path=captures / f"filtres-deplies-{taille['width']}.png")
        page.locator(THEME_MOBILITE).check()
        expect(groupes.first.locator("summary")).to_contain_text("1 coché")
    finally:
        context.close()


def test_retirer_un_filtre_en_un_geste_avec_javascript(serveur, telephone):
    page = telephone
    page.goto(serveur + "/?q=&categories_thematiques=mobilite&frais=payant")
    actifs = page.locator(".filtres-actifs")
    expect(actifs.get_by_role("link")).to_have_text(
        [
            "Retirer le filtre : Se déplacer, permis×",
            "Retirer le filtre : Payant×",
            "Tout effacer : retirer tous les filtres",
        ]
    )
    actifs.get_by_role("link", name="Retirer le filtre : Payant").click()
    page.wait_for_url(re.compile(r"categories_thematiques=mobilite$"))
    expect(page.locator("#f-frais-payant")).not_to_be_checked()
    expect(page.locator(THEME_MOBILITE)).to_be_checked()
    # The link is gone with the old list: the focus goes to the results heading.
    expect(page.locator("#titre-resultats")).to_be_focused()

    page.get_by_role("link", name="Tout effacer").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator(THEME_MOBILITE)).not_to_be_checked()
    expect(page.locator(".filtres-actifs")).to_have_count(0)


def test_retirer_un_filtre_sans_javascript(serveur, telephone_sans_js):
    page = telephone_sans_js
    page.goto(
        serveur + "/?q=permis&categories_thematiques=mobilite&places_disponibles=1"
    )
    page.get_by_role(
        "link", name="Retirer le filtre : Seulement s'il reste des places"
    ).click()
    page.wait_for_url(re.compile(r"q=permis&categories_thematiques=mobilite$"))
    expect(page.locator("#places_disponibles")).not_to_be_checked()
    page.get_by_role("link", name="Tout effacer").click()
    page.wait_for_url(re.compile(r"\?q=permis$"))
    expect(page.locator("#q")).to_have_value("permis")
    expect(page.locator(".filtres-actifs")).to_have_count(0)


def test_les_places_non_suivies_sont_dites(serveur, telephone):
    # The suspended action does not count its places.
    telephone.goto(serveur + "/?statut=suspendue")
    case = telephone.get_by_label(re.compile("Seulement s'il reste des places"))
    expect(case).to_have_accessible_description(
        re.compile("Cette action ne dit pas combien il reste de places")
    )
    # Alençon (4 places, told by the opérateur) and Évry (6, in the fiche).
    telephone.goto(serveur + "/?q=francais")
    expect(telephone.locator("label[for=places_disponibles]")).to_have_text(
        "Seulement s'il reste des places (2)"
    )
    # The driving school counts its places and is full: 0 is the truth there.
    telephone.goto(serveur + "/?q=permis")
    expect(telephone.locator("label[for=places_disponibles]")).to_have_text(
        "Seulement s'il reste des places (0)"
    )


@pytest.mark.parametrize("taille", [TELEPHONE, PETIT_TELEPHONE], ids=["390", "320"])
def test_page_suivante_donne_le_focus_au_titre_des_resultats(
    serveur, navigateur, taille
):
    context, page = page_sur(navigateur, taille)
    try:
        page.goto(serveur + "/?par_page=3")
        premiers = page.locator(".carte__titre").all_inner_texts()
        page.get_by_role("link", name="Page suivante").click()
        page.wait_for_url(re.compile(r"page=2"))
        expect(page.locator(".carte__titre").first).not_to_have_text(premiers[0])
        titre = page.locator("#titre-resultats")
        expect(titre).to_be_focused()
        # In sight, as without JavaScript (it scrolled to the form above,
        # and at 320 px left the focused heading below the screen).
        expect(titre).to_be_in_viewport(ratio=0.9)
    finally:
        context.close()


def test_page_suivante_sans_javascript_mene_aux_resultats(serveur, telephone_sans_js):
    page = telephone_sans_js
    page.goto(serveur + "/?par_page=3")
    page.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r"page=2#titre-resultats$"))
    expect(page.locator("#titre-resultats")).to_be_in_viewport()


def test_sans_javascript_les_erreurs_du_formulaire_sont_sur_le_premier_ecran(
    serveur, navigateur
):
    # The « À savoir » reminder pushed them 662 px down a 740 px screen.
    contexte, page = page_sur(navigateur, PETIT_TELEPHONE, js=False)
    page.goto(serveur + "/fiches/fle-alencon/inscription")
    page.get_by_label("Prénom").fill("Awa")
    page.locator("#telephone").fill("06 12 34 56")
    page.get_by_role("button", name="Envoyer ma demande").click()
    # Focused on load, the box was only brought to the screen's bottom edge.
    expect(page.locator("#erreurs")).to_be_in_viewport(ratio=1)
    # The reminder is still there, after the form and its errors.
    expect(page.locator("#erreurs, #titre-rappel").first).to_have_id("erreurs")
    expect(page.locator("#titre-rappel")).to_have_text("À savoir sur cette action")
    contexte.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "sans-js"])
def test_rechercher_sur_un_telephone_montre_les_resultats(serveur, navigateur, js):
    """The form fills a phone's screen: the results came below it, out of
    sight, and « Rechercher » seemed to do nothing."""
    context, page = page_sur(navigateur, TELEPHONE, js)
    try:
        page.goto(serveur + "/")
        titre = page.locator("#titre-resultats")
        expect(titre).not_to_be_in_viewport(ratio=0.5)
        avant = titre.inner_text()
        page.locator("#q").fill("permis")
        page.locator("#q").press("Enter")  # the keyboard's search key
        expect(titre).not_to_have_text(avant)
        expect(titre).to_be_in_viewport(ratio=1)
        if js:
            expect(titre).to_be_focused()
        else:
            page.wait_for_url(re.compile(r"q=permis.*#titre-resultats$"))
        # A misspelt town: its message and suggestions right under the
        # heading, in sight (they were above it, off the screen).
        page.locator("#commune").fill("Alenco")
        page.locator("#q").press("Enter")
        erreur = page.locator("#erreur-recherche")
        expect(erreur).to_contain_text("Alenco")
        expect(erreur).to_be_in_viewport()
    finally:
        context.close()


def test_rechercher_apres_la_frappe_ne_double_pas_l_adresse(serveur, telephone):
    """The typing pushed « ?q=permis »; « Rechercher » pushed it again, and
    the first Back seemed to do nothing."""
    page = telephone
    page.goto(serveur + "/glossaire")
    page.goto(serveur + "/")
    page.locator("#q").fill("permis")
    page.wait_for_url(re.compile(r"\?q=permis$"))  # pushed by the typing
    longueur = page.evaluate("history.length")
    page.locator("#q").press("Enter")
    expect(page.locator("#titre-resultats")).to_be_focused()
    assert page.evaluate("history.length") == longueur
    page.go_back()
    page.wait_for_url(re.compile(r"/$"))


def test_chaque_carte_explique_ses_sigles(serveur, telephone):
    telephone.goto(serveur + "/?q=fle")
    cartes = telephone.locator(".carte")
    expect(cartes.first).to_be_visible()
    for i in range(cartes.count()):
        carte = cartes.nth(i)
        if "FLE" in carte.inner_text():
            expect(carte).to_contain_text("FLE (français langue étrangère")


def test_le_glossaire_est_dans_le_pied_de_page(serveur, telephone):
    telephone.goto(serveur + "/fiches/fle-alencon")
    telephone.get_by_role("link", name="Glossaire").click()
    expect(telephone.locator("h1")).to_have_text("Les sigles expliqués")
    expect(telephone.locator("#tapaj")).to_contain_text(
        "Travail alternatif payé à la journée"
    )


def test_une_fiche_ouverte_depuis_un_sms_ne_charge_que_ce_qu_elle_utilise(
    serveur, telephone
):
    scripts = []
    telephone.on(
        "request",
        lambda r: scripts.append(r.url) if r.resource_type == "script" else None,
    )
    telephone.goto(serveur + "/fiches/fle-alencon")
    telephone.wait_for_load_state("networkidle")
    assert [s.split("?")[0].rsplit("/", 1)[-1] for s in scripts] == ["fiche.js"]


def test_imprimer_la_fiche(serveur, telephone, captures):
    page = telephone
    page.goto(serveur + "/fiches/mob-permis-alencon")
    bouton = page.get_by_role("button", name="Imprimer cette fiche")
    expect(bouton).to_be_visible()
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    # On paper: the département, who to contact, how a référent orients.
    expect(page.locator(".entete__departement")).to_be_visible()
    expect(page.locator("#titre-contact")).to_be_visible()
    expect(page.get_by_text("Vous pouvez aussi contacter")).to_be_visible()
    expect(page.locator(".pour-impression")).to_contain_text(
        "/fiches/mob-permis-alencon"
    )
    expect(bouton).to_be_hidden()
    expect(page.locator(".pied")).to_be_hidden()
    capturer(page, captures / "fiche-imprimee.png")


def test_sans_javascript_pas_de_bouton_imprimer(serveur, telephone_sans_js):
    telephone_sans_js.goto(serveur + "/fiches/mob-permis-alencon")
    expect(telephone_sans_js.get_by_role("button", name="Imprimer")).to_have_count(0)
    telephone_sans_js.emulate_media(media="print")
    # Even folded, the référent part is on paper (details content shown).
    expect(telephone_sans_js.get_by_text("Vous pouvez aussi contacter")).to_be_visible()
