"""Public pages seen through the Flask test client: one URL, two renderings,
a form that works without JavaScript, a fiche page that answers a person's
questions, and error pages in French."""

import re
import shutil
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from markupsafe import Markup

from catalogue.recherche import RechercheIndisponible
from tests.fiches import STRUCTURES, ecrire_fiche, ecrire_structure
from web import affichage, theme

HTMX = {"HX-Request": "true", "HX-Target": "resultats"}


def page(reponse) -> BeautifulSoup:
    return BeautifulSoup(reponse.get_data(as_text=True), "html.parser")


def appliquer_htmx(complete: BeautifulSoup, fragment: BeautifulSoup) -> BeautifulSoup:
    """Swap an htmx response into a page the way htmx 2 does (outerHTML + oob)."""
    for element in fragment.find_all(attrs={"hx-swap-oob": True}):
        mode = element.attrs.pop("hx-swap-oob")
        cible = complete.find(id=element["id"])
        assert cible is not None, f"pas de #{element['id']} dans la page"
        if mode == "innerHTML":
            cible.clear()
            cible.extend(list(element.children))
        else:
            cible.replace_with(element)
    principal = fragment.find(id="resultats")
    complete.find(id="resultats").replace_with(principal)
    return complete


def normaliser(soupe: BeautifulSoup) -> str:
    texte = str(soupe.find("main"))
    return re.sub(r"\s+", " ", texte)


# --- The search page -----------------------------------------------------


def test_la_page_de_recherche_est_un_vrai_formulaire_get(client_recherche):
    reponse = client_recherche.get("/")
    assert reponse.status_code == 200
    assert "HX-Request" in reponse.headers["Vary"]
    soupe = page(reponse)
    formulaire = soupe.find("form", attrs={"role": "search"})
    # Sent without JavaScript, the new page opens on its results (a phone
    # showed only the form, and the search seemed to do nothing).
    assert formulaire["method"] == "get"
    assert formulaire["action"] == "/#titre-resultats"
    assert formulaire["hx-push-url"] == "true"
    noms = {champ["name"] for champ in formulaire.find_all(["input", "select"])}
    assert {"q", "commune", "places_disponibles", "mobilisable_par", "tri"} <= noms
    assert formulaire.find("button", attrs={"type": "submit"}).text == "Rechercher"
    for champ in formulaire.find_all(["input", "select"], id=True):
        if champ.get("type") != "hidden":
            assert soupe.find("label", attrs={"for": champ["id"]}), champ["id"]
    assert soupe.find(id="annonce")["role"] == "status"


def test_sans_javascript_la_recherche_rend_la_page_entiere(client_recherche):
    reponse = client_recherche.get(
        "/?q=velo&commune=Alençon&places_disponibles=1&tri=pertinence"
    )
    soupe = page(reponse)
    assert soupe.find("html") is not None
    assert soupe.find(id="q")["value"] == "velo"
    assert soupe.find(id="commune")["value"] == "Alençon"
    assert soupe.find(id="places_disponibles").has_attr("checked")
    assert soupe.find(id="titre-resultats").text.strip() == "1 action trouvée"
    carte = soupe.select_one("#resultats .carte")
    assert "Prêt de vélos" in carte.text
    assert "4 places libres" in carte.text
    assert "à moins de 1 km" in carte.text


def test_htmx_recoit_seulement_les_resultats(client_recherche):
    reponse = client_recherche.get("/?q=velo&commune=&tri=pertinence", headers=HTMX)
    texte = reponse.get_data(as_text=True)
    assert "<html" not in texte
    soupe = page(reponse)
    assert soupe.find("section")["id"] == "resultats"
    assert soupe.find(id="annonce")["hx-swap-oob"] == "innerHTML"
    assert soupe.find(id="options-publics")["hx-swap-oob"] == "true"
    assert reponse.headers["HX-Push-Url"] == "/?q=velo"
    assert "HX-Request" in reponse.headers["Vary"]


@pytest.mark.parametrize(
    "entetes",
    [
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-Target": "contenu"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"HX-History-Restore-Request": "true"},
    ],
)
def test_les_autres_requetes_htmx_recoivent_la_page_entiere(client_recherche, entetes):
    texte = client_recherche.get("/?q=velo", headers=entetes).get_data(as_text=True)
    assert "<html" in texte and "hx-swap-oob" not in texte


@pytest.mark.parametrize(
    "adresse",
    [
        "/?q=francais",
        "/?q=velo&places_disponibles=1",
        "/?publics=beneficiaires-rsa&categories_thematiques=mobilite",
        "/?commune=Alençon (61000)&tri=distance",
    ],
)
def test_le_fragment_htmx_donne_la_meme_page_qu_un_rechargement(
    client_recherche, adresse
):
    """Start from the empty page, swap the htmx answer in: same as reloading."""
    depart = page(client_recherche.get("/"))
    fragment = page(client_recherche.get(adresse, headers=HTMX))
    recharge = page(client_recherche.get(adresse))
    apres = appliquer_htmx(depart, fragment)
    # The form's own fields are the browser's business (it keeps what was typed).
    for soupe in (apres, recharge):
        for champ in soupe.select("#q, #commune, #tri, details"):
            champ.attrs.pop("value", None)
            champ.attrs.pop("open", None)
        for option in soupe.select("#tri option"):
            option.attrs.pop("selected", None)
        soupe.title.extract()
    assert normaliser(apres) == normaliser(recharge)


def test_les_cases_comptent_ce_que_chaque_choix_donnerait(client_recherche):
    """Ticking one public keeps the other publics on offer, with their counts."""
    tous = page(client_recherche.get("/"))
    filtre = page(client_recherche.get("/?publics=beneficiaires-rsa"))
    for soupe in (tous, filtre):
        assert soupe.find(id="f-publics-demandeurs-emploi")
    compte = filtre.find("label", attrs={"for": "f-publics-demandeurs-emploi"})
    avant = tous.find("label", attrs={"for": "f-publics-demandeurs-emploi"})
    assert compte.find(class_="compte").text == avant.find(class_="compte").text
    assert filtre.find(id="f-publics-beneficiaires-rsa").has_attr("checked")
    assert filtre.find("details", class_="plus-de-filtres").has_attr("open")


def test_une_commune_inconnue_propose_des_communes(client_recherche):
    reponse = client_recherche.get("/?q=velo&commune=Alenco")
    assert reponse.status_code == 200
    annonce = page(reponse).find(id="annonce")
    assert "Lieu introuvable" in annonce.text
    lien = annonce.find("a", string="Alençon (61000)")
    assert "commune=Alen%C3%A7on+(61000)" in lien["href"]
    assert "q=velo" in lien["href"]
    # The field at fault, and only it, is marked and described by the error.
    champ = page(reponse).find(id="commune")
    assert champ["aria-invalid"] == "true"
    assert champ["aria-describedby"] == "erreur-recherche"
    assert page(reponse).find(id="erreur-recherche").text.startswith("Lieu introuvable")
    assert not page(reponse).find(id="q").has_attr("aria-invalid")
    assert page(reponse).find(id="q")["aria-describedby"] == "aide-q"
    # The rest of the search still runs.
    assert page(reponse).select("#resultats .carte")


def test_un_filtre_inconnu_est_explique(client_recherche):
    reponse = client_recherche.get("/?publics=martiens")
    assert reponse.status_code == 200
    assert "Valeur inconnue" in page(reponse).find(id="annonce").text


def test_un_filtre_sans_case_est_garde_dans_le_formulaire(client_recherche):
    soupe = page(client_recherche.get("/?categorie=emploi"))
    cache = soupe.find("input", attrs={"type": "hidden", "name": "categorie"})
    assert cache["value"] == "emploi"


def test_recherche_indisponible(app_recherche):
    class EnPanne:
        def rechercher(self, requete):
            raise RechercheIndisponible("serveur arrêté")

    app_recherche.extensions["recherche"] = EnPanne()
    reponse = app_recherche.test_client().get("/?q=velo")
    # Monitoring sees the outage; the person gets the page, in French.
    assert reponse.status_code == 503
    assert reponse.headers["Retry-After"] == "30"
    soupe = page(reponse)
    assert "ne répond pas" in soupe.find(id="annonce").text
    # Never « aucune action »: nobody knows, the engine did not answer.
    assert soupe.title.text.startswith("Recherche indisponible")
    assert soupe.find(id="titre-resultats").text.strip() == (
        "Résultats indisponibles pour le moment"
    )
    # Typed as one goes, htmx swaps the same words in (it swaps only success).
    partiel = app_recherche.test_client().get(
        "/?q=velo", headers={"HX-Request": "true", "HX-Target": "resultats"}
    )
    assert partiel.status_code == 200
    assert "Résultats indisponibles" in page(partiel).find(id="titre-resultats").text


def test_la_pagination_garde_la_recherche(client_recherche):
    soupe = page(client_recherche.get("/?par_page=2&q=&publics=demandeurs-emploi"))
    suivante = soupe.find("a", rel="next")
    assert "page=2" in suivante["href"]
    assert "publics=demandeurs-emploi" in suivante["href"]
    assert suivante["hx-target"] == "#resultats"


def test_suggestions_de_communes(client_recherche):
    client = client_recherche
    reponse = client.get("/communes?commune=alen")
    soupe = page(reponse)
    assert soupe.find().name == "datalist" and soupe.find()["id"] == "communes"
    valeurs = [o["value"] for o in soupe.find_all("option")]
    assert valeurs[0] == "Alençon (61000)"
    assert page(client.get("/communes?commune=")).find_all("option") == []


@pytest.mark.parametrize(
    ("saisie", "proposee"), [("75016", "Paris (75016)"), ("13 00", "Marseille (13001)")]
)
def test_la_suggestion_garde_le_code_postal_tape(client_recherche, saisie, proposee):
    # The person typing their postcode sees it, not the commune's first one.
    soupe = page(client_recherche.get(f"/communes?commune={saisie}"))
    assert soupe.find("option")["value"] == proposee
    api = client_recherche.get(f"/api/v1/communes?q={saisie}").get_json()
    assert api[0]["libelle"] == proposee


# --- The fiche page --------------------------------------------------------


@pytest.fixture
def client_fiches(creer_app, tmp_path):
    """Fiches written for these page tests (tests/fiches.py), beside the fixtures."""
    ecrire_structure(tmp_path, "atelier-mob", code_insee="61001")
    ecrire_structure(tmp_path, "cd91")  # no address: the lieu is to be given
    rsa = "Vingt personnes au RSA par an. Le RSA n'empêche pas de venir."
    ecrire_fiche(
        tmp_path,
        "pret-deux-roues",
        nom="Prêt et location de vélos et de scooters",
        description=f"Un vélo prêté pour un mois. {rsa}",
        publics=["tous-publics"],
        documents=["Pièce d'identité", "Chèque de caution"],
        structure="atelier-mob",
        lieux=[
            {
                "nom": "Atelier Mob",
                "adresse": "59 rue Saint-Blaise",
                "code_postal": "61000",
                "code_insee": "61001",
            }
        ],
        duree={"texte": "Prêt d'un mois, renouvelable.", "mois_min": 1},
        frais="payant",
    )
    ecrire_fiche(
        tmp_path,
        "velo-ecole",
        structure="atelier-mob",
        mobilisable_par=["usagers", "professionnels"],
        telephone="02 33 26 58 51",
        mobilisation_precisions="Appelez le centre social pour une place.",
    )
    ecrire_fiche(
        tmp_path,
        "pack-sortie-rsa",
        nom="Pack sortie du RSA",
        structure="cd91",
        lieux=None,
        zone_eligibilite=["91"],
        mobilisation_precisions="C'est le Département qui vous oriente.",
    )
    ecrire_fiche(
        tmp_path,
        "aci-textile",
        structure="atelier-mob",
        capacite={"nombre": 11.2, "unite": "etp"},
    )
    app = creer_app(
        FICHES_DIR=str(tmp_path / "fiches"),
        STRUCTURES_DIR=str(tmp_path / "structures"),
    )
    assert app.extensions["catalogue"].erreurs == []
    return app.test_client()


def test_la_fiche_repond_aux_questions(client_fiches):
    reponse = client_fiches.get("/fiches/pret-deux-roues")
    assert reponse.status_code == 200
    soupe = page(reponse)
    assert soupe.h1.text == "Prêt et location de vélos et de scooters"
    titres = [h2.text for h2 in soupe.find_all("h2")]
    for titre in (
        "L'essentiel",
        "Je veux y participer",
        "Ce que c'est",
        "Pour qui",
        "Où",
        "Quand et combien de temps",
        "Combien ça coûte",
        "Places",
        "Comment y entrer",
        "Contact",
    ):
        assert titre in titres
    texte = soupe.get_text(" ")
    assert "Documents à apporter" in texte and "Pièce d'identité" in texte
    assert "59 rue Saint-Blaise" in texte
    carte = soupe.select_one("a[href^='https://www.openstreetmap.org/search?query=']")
    assert carte.text.startswith("Voir sur une carte")
    assert "Parlez-en à votre référent" in texte
    sms = soupe.find("a", class_="partage")
    assert sms["href"].startswith("sms:?&body=")
    # URL_PUBLIQUE's default, never the test client's Host (localhost).
    assert "127.0.0.1%3A5000/fiches/pret-deux-roues" in sms["href"]


def test_comment_entrer_est_dit_a_la_personne_pas_aux_seuls_pros(client_fiches):
    """How one gets in sat in the professionals' fold, while her part said
    « Parlez-en à votre référent » even for a référent's own action."""
    actions = page(client_fiches.get("/fiches/pack-sortie-rsa")).find(
        "section", class_="actions"
    )
    pro = actions.find("details", class_="pro").extract()
    assert "Comment y entrer : C'est le Département qui vous oriente." in " ".join(
        actions.text.split()
    )
    assert "Parlez-en à votre référent" not in actions.text
    assert "C'est le Département qui vous oriente" not in pro.text


def test_ce_que_la_fiche_dit_a_la_personne_qui_s_inscrit_seule_est_dans_sa_partie(
    client_fiches,
):
    # « Vous pouvez demander vous-même une place en appelant le centre
    # social » sat in the fold « Vous êtes référent ou conseiller ».
    actions = page(client_fiches.get("/fiches/velo-ecole")).find(
        "section", class_="actions"
    )
    pro = actions.find("details", class_="pro").extract()
    assert "Appelez le centre social pour une place." in actions.text
    assert "Appelez le centre social" not in pro.text


def test_inscription_directe_avec_telephone(client_fiches):
    soupe = page(client_fiches.get("/fiches/velo-ecole"))
    actions = soupe.find("section", class_="actions")
    assert "Vous pouvez vous inscrire vous-même" in actions.text
    appel = actions.find("a", class_="bouton")
    assert appel.text == "Appeler le 02 33 26 58 51"
    assert appel["href"] == "tel:0233265851"


def test_sans_inscription_directe_il_faut_un_referent(client_recherche):
    actions = page(client_recherche.get("/fiches/mob-velos-alencon")).find(
        "section", class_="actions"
    )
    assert "Parlez-en à votre référent" in actions.text
    assert actions.find("details", class_="pro")


def test_places_de_la_fiche_et_date_de_mise_a_jour(client_recherche):
    soupe = page(client_recherche.get("/fiches/mob-velos-alencon"))
    essentiel = soupe.find("section", class_="essentiel")
    assert "4 places libres" in essentiel.text
    assert "Mis à jour le 10 janvier 2025" in essentiel.text


def fait(carte, question: str) -> str:
    """The answer a card gives to « Où », « Places »…, as read aloud."""
    dt = carte.find("dt", string=question)
    return " ".join(dt.find_next_sibling("dd").get_text(" ").split())


def test_une_action_sans_limite_reste_quand_on_veut_des_places(client_recherche):
    # « Premiers pas sur internet » takes everyone who comes.
    soupe = page(client_recherche.get("/?q=internet&places_disponibles=1"))
    assert soupe.find(id="titre-resultats").text.strip() == "1 action trouvée"
    carte = soupe.select_one("#resultats .carte")
    assert "Premiers pas sur internet" in carte.text
    assert fait(carte, "Places") == "Pas de limite de places"
    label = soupe.select_one("label[for=places_disponibles]")
    assert " ".join(label.text.split()) == "Seulement s'il reste des places (1)"


def test_des_places_non_comptees_disent_a_qui_les_demander(client_recherche):
    carte = page(client_recherche.get("/?q=petits groupes")).select_one(
        "#resultats .carte"
    )
    assert "Ateliers de français" in carte.text
    assert fait(carte, "Places") == "Demandez à la structure s'il reste des places"
    fiche = page(client_recherche.get("/fiches/fle-alencon")).text
    assert "Demandez à la structure s'il reste des places" in fiche
    assert "non suivies" not in fiche


@pytest.fixture
def client_quartiers(creer_app, tmp_path):
    """One action in four towns of the Orne, Alençon written first."""
    ecrire_fiche(
        tmp_path,
        "coach-quartiers",
        nom="Un coach dans votre quartier",
        lieux=[
            {"nom": "Quartiers d'Alençon", "code_insee": "61001"},
            {"nom": "Quartiers d'Argentan", "code_insee": "61006"},
            {"nom": "Quartiers de Flers", "code_insee": "61169"},
            {"nom": "Quartiers de L'Aigle", "code_insee": "61214"},
        ],
    )
    app = creer_app(
        FICHES_DIR=str(tmp_path / "fiches"),
        STRUCTURES_DIR=str(STRUCTURES),
    )
    assert app.extensions["catalogue"].erreurs == []
    return app.test_client()


def test_la_distance_est_dite_avec_le_lieu_le_plus_proche(client_quartiers):
    # Someone in Argentan: the card names Argentan, not Alençon 40 km away.
    carte = page(client_quartiers.get("/?commune=Argentan")).select_one(
        "#resultats .carte"
    )
    assert fait(carte, "Où") == "Argentan et 3 autres lieux (à moins de 1 km)"
    carte = page(client_quartiers.get("/?commune=Flers")).select_one(
        "#resultats .carte"
    )
    assert fait(carte, "Où") == "Flers et 3 autres lieux (à moins de 1 km)"
    # Without a town, the lieux keep the fiche's order.
    carte = page(client_quartiers.get("/")).select_one("#resultats .carte")
    assert fait(carte, "Où") == "Alençon et 3 autres lieux"


def test_retour_a_la_recherche_d_ou_l_on_vient(client_recherche):
    reponse = client_recherche.get(
        "/fiches/mob-velos-alencon",
        headers={"Referer": "http://localhost/?q=velo&commune=Alen%C3%A7on"},
    )
    lien = page(reponse).select_one(".retour a")
    assert lien["href"] == "/?q=velo&commune=Alen%C3%A7on"
    ailleurs = client_recherche.get(
        "/fiches/mob-velos-alencon", headers={"Referer": "https://exemple.org/?q=x"}
    )
    assert page(ailleurs).select_one(".retour a")["href"] == "/"


# --- Errors, legal pages, theme ---------------------------------------------


@pytest.mark.parametrize("adresse", ["/fiches/n-existe-pas", "/nulle-part"])
def test_page_404_en_francais(client_recherche, adresse):
    reponse = client_recherche.get(adresse)
    assert reponse.status_code == 404
    soupe = page(reponse)
    assert soupe.h1.text == "Cette page n'existe pas"
    assert soupe.find("html")["lang"] == "fr"


def test_l_api_garde_ses_erreurs_json(client_recherche):
    reponse = client_recherche.get("/api/v1/nulle-part")
    assert reponse.status_code == 404
    assert reponse.is_json


def test_page_500_en_francais(app_recherche):
    app = app_recherche
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/essai-panne")
    def panne():
        raise RuntimeError("panne")

    reponse = app.test_client().get("/essai-panne")
    assert reponse.status_code == 500
    assert page(reponse).h1.text == "Désolé, le site a un problème"


@pytest.mark.parametrize(
    ("adresse", "titre"),
    [
        ("/accessibilite", "Déclaration d'accessibilité"),
        ("/mentions-legales", "Mentions légales"),
    ],
)
def test_pages_du_pied_de_page(client_recherche, adresse, titre):
    soupe = page(client_recherche.get(adresse))
    assert soupe.h1.text == titre
    assert soupe.find("footer").find("a", href=adresse)


def test_le_theme_vient_de_la_configuration(app_recherche):
    app = app_recherche
    app.config.update(
        DEPARTEMENT_NOM="Département de l'Orne",
        THEME_COULEUR="#ffd500",
        THEME_COULEUR_ACCENT="red;}body{display:none",
        THEME_LOGO="img/logo.svg",
    )
    client = app.test_client()
    soupe = page(client.get("/accessibilite"))
    feuille = soupe.find("link", href=lambda h: h.startswith("/theme.css"))
    style = client.get(feuille["href"]).text
    assert "--theme:#ffd500" in style
    assert "--theme-texte:#161616" in style  # dark text on a yellow header
    assert "--accent:#b34700" in style  # the unsafe value is refused
    assert "Département de l'Orne" in soupe.find("header").text
    assert soupe.find("header").img["src"] == "/static/img/logo.svg"


# --- Helpers the templates use ----------------------------------------------


def test_contraste_du_theme():
    assert theme.texte_sur("#1f4e79") == theme.BLANC
    assert theme.texte_sur("#ffd500") == theme.NOIR
    assert theme.contraste(theme.assombrir("#ffd500"), theme.BLANC) >= 4.5


def test_sigles_expliques_a_la_premiere_occurrence():
    sigles = affichage.Sigles()
    premier = sigles("Personnes au RSA & CER")
    assert premier == (
        'Personnes au <abbr title="revenu de solidarité active">RSA</abbr> '
        "(revenu de solidarité active) &amp; "
        '<abbr title="contrat d&#39;engagement réciproque, signé avec votre '
        'référent pour le revenu de solidarité active">CER</abbr> (contrat '
        "d&#39;engagement réciproque, signé avec votre référent pour le revenu "
        "de solidarité active)"
    )
    assert sigles("le RSA") == (
        'le <abbr title="revenu de solidarité active">RSA</abbr>'
    )
    deja = affichage.Sigles()("le RSA (revenu de solidarité active)")
    assert deja.count("revenu de solidarité active") == 2  # title + the text's own
    apres = affichage.Sigles()("Revenu de solidarité active (RSA)")
    assert apres.endswith('(<abbr title="revenu de solidarité active">RSA</abbr>)')


def test_le_mot_cherche_reste_seul_surligne_pas_son_explication():
    titre = affichage.Sigles()(Markup("Référent <mark>RSA</mark> d'Alençon"))
    assert titre == (
        'Référent <mark><abbr title="revenu de solidarité active">RSA</abbr></mark> '
        "(revenu de solidarité active) d'Alençon"
    )


def test_une_liste_deroulante_explique_ses_sigles_en_clair():
    """No markup in an <option>: the meaning follows the acronym, once."""
    assert affichage.en_clair("Atelier FLE et FLE avancé") == (
        "Atelier FLE (français langue étrangère) et FLE avancé"
    )
    assert affichage.en_clair("Personnes au RSA (revenu de solidarité active)") == (
        "Personnes au RSA (revenu de solidarité active)"
    )
    assert affichage.en_clair("Jardin partagé") == "Jardin partagé"


@pytest.mark.parametrize(
    ("jour", "attendu"),
    [("2026-02-01", "1er février 2026"), ("2025-12-24T10:00:00", "24 décembre 2025")],
)
def test_dates_en_francais(jour, attendu):
    assert affichage.date_fr(jour) == attendu


def test_une_action_sans_lieu_connu_dit_pour_quels_habitants(client_fiches):
    page = client_fiches.get("/?q=pack+sortie+rsa").get_data(as_text=True)
    assert "Lieu à préciser, pour les habitants de : Essonne" in page


def test_une_capacite_en_postes_decimaux_s_affiche_a_la_francaise(client_fiches):
    page = client_fiches.get("/fiches/aci-textile").get_data(as_text=True)
    # « En tout » read as a total, beside « au moins 4 au RSA » (vélo-école).
    assert "Prévu pour : 11,2 postes en équivalent temps plein." in page


def test_une_action_terminee_ne_dit_plus_qu_on_peut_y_entrer(client):
    page = client.get("/fiches/44-trajet-coach").get_data(as_text=True)
    assert "Terminée" in page
    assert "Entrée possible à tout moment" not in page
    assert "On ne peut pas y entrer en ce moment" in page


def test_une_recherche_deja_faite_est_resservie_jusqu_a_ce_qu_une_place_change(
    app_recherche, monkeypatch
):
    # Beaucoup de gens tapent « vélo » : la page déjà faite leur est
    # resservie telle quelle, jusqu'à ce que les places de l'action changent.
    client = app_recherche.test_client()
    moteur = app_recherche.extensions["recherche"]
    recherches = []
    chercher = moteur.rechercher
    monkeypatch.setattr(
        moteur, "rechercher", lambda requete: recherches.append(1) or chercher(requete)
    )
    premiere = client.get("/?q=velo")
    assert "4 places libres" in page(premiere).find(id="resultats").text
    faites = len(recherches)
    assert client.get("/?q=velo").get_data() == premiere.get_data()
    assert len(recherches) == faites
    # The htmx fragment is its own page, not the whole one served again.
    fragment = client.get("/?q=velo", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)

    moteur.maj_places("mob-velos-alencon", 1, datetime(2030, 1, 1, tzinfo=UTC))
    apres = page(client.get("/?q=velo")).find(id="resultats").text
    assert "1 place libre" in apres
    assert "4 places libres" not in apres


def test_un_index_efface_puis_refait_ne_ressert_pas_les_pages_d_avant(app_recherche):
    # L'exploitant efface l'index et le refait (deux fois) pendant que le
    # site tourne : chaque index refait compte ses validations depuis zéro,
    # la page doit pourtant suivre celui qui est là.
    from catalogue.recherche.documents import champs_places, documents
    from catalogue.recherche.moteur_tantivy import MoteurTantivy

    client = app_recherche.test_client()
    moteur = app_recherche.extensions["recherche"]
    fiches = documents(app_recherche.extensions["catalogue"])

    def refaire(places: int) -> None:
        shutil.rmtree(moteur.dossier)
        MoteurTantivy(moteur.path).reconstruire(
            [
                d | champs_places(places, "2030-01-01T00:00:00")
                if d["id"] == "mob-velos-alencon"
                else d
                for d in fiches
            ]
        )

    def places_lues() -> str:
        carte = page(client.get("/?q=velo")).find(id="resultats")
        return re.search(r"\d+ places? libres?", carte.text).group()

    refaire(4)
    assert places_lues() == "4 places libres"
    moteur.maj_places("mob-velos-alencon", 1, datetime(2030, 1, 2, tzinfo=UTC))
    assert places_lues() == "1 place libre"
    refaire(2)
    assert places_lues() == "2 places libres"


def test_une_redirection_vers_le_lieu_tape_est_gardee_comme_une_page(
    client_recherche, monkeypatch
):
    # « orne » alone, « sdf nancy »: searched again at every request, while
    # the pages around them were kept (the search page's throughput fell).
    import web.pages

    appels = []
    vrai = web.pages._contexte_recherche
    monkeypatch.setattr(
        web.pages, "_contexte_recherche", lambda args: appels.append(1) or vrai(args)
    )
    premiere = client_recherche.get("/?q=orne")
    seconde = client_recherche.get("/?q=orne")
    assert premiere.status_code == seconde.status_code == 303
    assert premiere.headers["Location"] == seconde.headers["Location"]
    assert len(appels) == 1


def test_une_action_sans_adresse_nomme_d_abord_la_zone_de_la_commune_cherchee(client):
    # EMILE is open to all of Île-de-France: « Paris, Seine-et-Marne,
    # Yvelines et autres » hid the Essonne that let it in near Massy.
    page = client.get("/?commune=Massy&rayon_km=10").get_data(as_text=True)
    assert "Lieu à préciser, pour les habitants de : Essonne, Paris," in page


def test_une_distance_depuis_un_departement_garde_ses_actions(client):
    # « Essonne » within 10 km: the whole catalogue came, Nantes first.
    page = client.get("/?commune=Essonne&rayon_km=10").get_data(as_text=True)
    assert "Une distance se compte depuis une commune, et « Essonne » est un " in (page)
    essonne = client.get("/api/v1/fiches?commune=Essonne&par_page=1").get_json()
    assert f"{essonne['total']} actions trouvées" in page
    assert "44-nantes" not in page
