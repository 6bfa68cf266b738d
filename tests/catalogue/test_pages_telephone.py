"""What a person on a phone reads: folded filters that say their counts, the
filters in force with a link to remove each, places that are not counted,
acronyms spelled out where they appear, a glossary, a light fiche."""

from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from web import affichage

HTMX = {"HX-Request": "true", "HX-Target": "resultats"}


def page(reponse) -> BeautifulSoup:
    assert reponse.status_code == 200
    return BeautifulSoup(reponse.get_data(as_text=True), "html.parser")


def parametres(lien: str) -> dict:
    return parse_qs(urlsplit(lien).query)


def test_les_groupes_de_filtres_sont_replies_et_disent_leurs_comptes(client_recherche):
    soupe = page(client_recherche.get("/?categories_thematiques=mobilite"))
    groupes = soupe.select("details.groupe")
    assert [g.summary.contents[0].strip() for g in groupes] == [
        "Thème", "Pour qui", "Type d'action", "Prix", "Où ça se passe",
    ]  # fmt: skip
    theme, publics = groupes[0], groupes[1]
    assert theme.has_attr("open")  # a ticked group stays open
    assert not publics.has_attr("open")
    nb_themes = len(theme.select("input[type=checkbox]"))
    assert theme.summary.select_one(".compte").text == f"{nb_themes} choix, 1 coché"
    # The submit button sits in its own bar, which CSS keeps on screen.
    assert soupe.select_one("form .envoi button[type=submit]").text == "Rechercher"


def test_chaque_filtre_actif_a_son_lien_pour_le_retirer(client_recherche):
    soupe = page(
        client_recherche.get(
            "/?q=permis&categories_thematiques=mobilite&frais=payant"
            "&places_disponibles=1&page=2"
        )
    )
    liens = soupe.select(".filtres-actifs a")
    textes = [" ".join(a.get_text(" ").split()) for a in liens]
    assert textes == [
        "Retirer le filtre : Seulement s'il reste des places ×",
        "Retirer le filtre : Se déplacer, permis ×",
        "Retirer le filtre : Payant ×",
        "Tout effacer : retirer tous les filtres",
    ]
    sans_places, sans_theme, sans_prix, tout = (a["href"] for a in liens)
    assert parametres(sans_places) == {
        "q": ["permis"], "categories_thematiques": ["mobilite"], "frais": ["payant"],
    }  # fmt: skip
    assert parametres(sans_theme) == {
        "q": ["permis"], "frais": ["payant"], "places_disponibles": ["1"],
    }  # fmt: skip
    assert parametres(sans_prix) == {
        "q": ["permis"], "categories_thematiques": ["mobilite"],
        "places_disponibles": ["1"],
    }  # fmt: skip
    assert parametres(tout) == {"q": ["permis"]}
    # htmx fetches the same address into the results.
    assert all(a["hx-get"] == a["href"] for a in liens)


def test_retirer_un_filtre_sans_javascript_decoche_la_case(client_recherche):
    soupe = page(client_recherche.get("/?categories_thematiques=mobilite&frais=payant"))
    lien = soupe.select(".filtres-actifs a")[1]["href"]
    apres = page(client_recherche.get(lien))
    assert not apres.select_one("#f-frais-payant").has_attr("checked")
    assert apres.select_one("#f-categories_thematiques-mobilite").has_attr("checked")


def test_les_filtres_actifs_suivent_le_fragment_htmx(client_recherche):
    fragment = page(client_recherche.get("/?frais=payant", headers=HTMX))
    assert (
        fragment.select_one("#resultats .filtres-actifs a").get_text(" ").split()[-2]
        == "Payant"
    )
    resume = fragment.select_one("#resume-frais[hx-swap-oob]")
    assert resume.text.endswith("1 coché")
    assert fragment.select_one("#filtres-masques[hx-swap-oob]") is not None


def test_sans_filtre_pas_de_liste_de_filtres(client_recherche):
    assert page(client_recherche.get("/?q=permis")).select(".filtres-actifs") == []


def test_la_case_places_dit_quand_les_places_ne_sont_pas_suivies(client_recherche):
    # The French workshops of Alençon do not count their places.
    label = page(client_recherche.get("/?q=petits groupes")).select_one(
        "label[for=places_disponibles]"
    )
    assert "Cette action ne dit pas combien il reste de places" in label.text
    assert "(0)" not in label.text
    # Full everywhere it is counted: 0 is then the truth.
    label = page(client_recherche.get("/?q=permis")).select_one(
        "label[for=places_disponibles]"
    )
    assert " ".join(label.text.split()) == "Seulement s'il reste des places (0)"
    # Vélos (4 left), garage (12), crèche (3), CV session (5), FLE Évry (6),
    # and the internet first steps, which have no limit.
    label = page(client_recherche.get("/")).select_one("label[for=places_disponibles]")
    assert " ".join(label.text.split()) == "Seulement s'il reste des places (6)"


def test_la_pagination_mene_au_titre_des_resultats(client_recherche):
    soupe = page(client_recherche.get("/?par_page=3"))
    suivante = soupe.select_one(".pagination a[rel=next]")
    assert suivante["href"].endswith("#titre-resultats")
    assert suivante.has_attr("data-focus-resultats")
    assert soupe.select_one("#titre-resultats")["tabindex"] == "-1"


def test_chaque_carte_explique_ses_sigles(client_recherche):
    soupe = page(client_recherche.get("/?q=fle"))
    cartes = [c for c in soupe.select(".carte") if "FLE" in c.get_text()]
    assert len(cartes) >= 1
    for carte in cartes:
        assert "FLE (français langue étrangère" in carte.get_text()


def test_chaque_section_de_la_fiche_explique_ses_sigles(client_recherche):
    soupe = page(client_recherche.get("/fiches/mob-permis-alencon"))
    # RSA appears in "Pour qui" (the public) and is explained right there.
    pour_qui = soupe.find("h2", id="titre-qui").parent
    assert "RSA (revenu de solidarité active)" in pour_qui.get_text()


def test_un_sigle_colle_a_un_autre_est_quand_meme_explique():
    texte = str(affichage.Sigles()("des BRSA (TISF)"))
    assert "(personne qui touche le revenu de solidarité active)" in texte
    assert "(technicien de l&#39;intervention sociale et familiale" in texte


def test_les_sigles_des_fiches_sont_dans_le_glossaire():
    for sigle in ("TAPAJ", "IOD", "TISF", "BRSA", "EDI", "ASLLIP", "SPIP", "CIP"):
        assert sigle in affichage.GLOSSAIRE


def test_le_glossaire_explique_chaque_sigle(client_recherche):
    soupe = page(client_recherche.get("/glossaire"))
    assert soupe.h1.text == "Les sigles expliqués"
    termes = [dt.text for dt in soupe.select(".glossaire dt")]
    assert termes == sorted(affichage.GLOSSAIRE)
    assert soupe.select_one("#tapaj dd").text.startswith("Travail alternatif payé")
    pied = page(client_recherche.get("/fiches/fle-alencon")).select_one(".pied")
    assert pied.find("a", href="/glossaire")


def test_la_fiche_ne_charge_que_son_petit_script(client_recherche):
    soupe = page(client_recherche.get("/fiches/fle-alencon"))
    scripts = [s["src"].split("?")[0] for s in soupe.select("script[src]")]
    assert scripts == ["/static/js/fiche.js"]
    assert soupe.select("[hx-get], [hx-post]") == []
    recherche = page(client_recherche.get("/"))
    assert any("htmx" in s["src"] for s in recherche.select("script[src]"))


def test_la_fiche_se_prepare_a_l_impression(client_recherche):
    soupe = page(client_recherche.get("/fiches/mob-permis-alencon"))
    bouton = soupe.select_one("button#imprimer")
    assert bouton.text == "Imprimer cette fiche"
    assert bouton.has_attr("hidden")  # fiche.js shows it; no JS, no dead button
    pied = soupe.select_one(".pour-impression").text
    assert "Département de démonstration" in pied
    assert "/fiches/mob-permis-alencon" in pied


def test_une_action_arretee_dit_qu_on_ne_peut_pas_y_entrer(client_recherche):
    soupe = page(client_recherche.get("/fiches/mob-conseil-orne-suspendu"))
    assert "on ne peut pas y entrer en ce moment" in soupe.select_one(".actions").text
