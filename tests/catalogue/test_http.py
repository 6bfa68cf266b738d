"""HTTP hygiene: what an attacker or a careless link cannot break.

No 500 from reserved url_for names or Unicode digits, French JSON for every
API status, security headers everywhere, long-cached hashed static files,
a production that refuses a default secret, links that ignore the Host header.
"""

import html
import os
import subprocess
import sys

import pytest

from app import create_app
from tests.conftest import ROOT
from web.securite import CSP, LONGUEUR_REQUETE_MAX, ConfigurationInvalide

RESERVES = ["_anchor", "_scheme", "_method", "_external", "endpoint", "values"]


@pytest.mark.parametrize("nom", RESERVES)
def test_un_nom_reserve_de_url_for_ne_casse_pas_la_recherche(client_recherche, nom):
    for adresse in (
        f"/?q=velo&{nom}=x",
        f"/?q=velo&commune=Alenco&{nom}=x",  # the suggestions build links too
    ):
        reponse = client_recherche.get(adresse, headers={"HX-Request": "true"})
        assert reponse.status_code == 200, adresse
        reponse = client_recherche.get(
            adresse, headers={"HX-Request": "true", "HX-Target": "resultats"}
        )
        assert reponse.status_code == 200, adresse
        assert reponse.headers["HX-Push-Url"].startswith("/?")


@pytest.mark.parametrize("nom", RESERVES)
def test_un_nom_reserve_ne_casse_pas_la_pagination(client_recherche, nom):
    reponse = client_recherche.get(
        f"/?par_page=1&{nom}=x", headers={"Host": "ailleurs.example"}
    )
    assert reponse.status_code == 200
    assert "Page suivante" in reponse.text
    assert "ailleurs.example" not in reponse.text
    assert f"{nom}=x" in reponse.text


def test_au_dela_de_la_derniere_page_un_lien_ramene_a_la_premiere(client_recherche):
    reponse = client_recherche.get("/?q=velo&page=50")
    assert reponse.status_code == 200
    assert "Revenir à la première page des résultats" in reponse.text


def test_les_suggestions_de_commune_gardent_les_parametres_tels_quels(
    client_recherche,
):
    reponse = client_recherche.get("/?q=velo&commune=Alenco&_anchor=x")
    assert "_anchor=x" in reponse.text
    assert "#x" not in reponse.text


@pytest.mark.parametrize(
    "adresse", ["/?page=²", "/?par_page=³", "/?page=٣", "/?rayon_km=٣&commune=Alençon"]
)
def test_un_chiffre_unicode_est_refuse_en_francais(client_recherche, adresse):
    reponse = client_recherche.get(adresse)
    assert reponse.status_code == 200
    assert "doit être un nombre" in reponse.text


@pytest.mark.parametrize(
    "adresse", ["/api/v1/fiches?page=²", "/api/v1/fiches?par_page=³"]
)
def test_l_api_refuse_un_chiffre_unicode_en_400(client_recherche, adresse):
    reponse = client_recherche.get(adresse)
    assert reponse.status_code == 400
    assert "doit être un nombre entier" in reponse.get_json()["erreur"]


@pytest.mark.parametrize(
    ("parametres", "message"),
    [
        ("rayon_km=0.5&commune=Alençon", "entre 1 et 200 (reçu : « 0.5 »)"),
        ("places_disponibles=peut-etre", "vaut 1 (oui) ou 0 (non)"),
    ],
)
def test_une_valeur_hors_de_ce_que_dit_le_message_est_refusee(
    client_recherche, parametres, message
):
    page = client_recherche.get(f"/?{parametres}")
    assert message in html.unescape(page.text)
    api = client_recherche.get(f"/api/v1/fiches?{parametres}")
    assert api.status_code == 400
    assert message in api.get_json()["erreur"]


def test_places_disponibles_a_zero_montre_toutes_les_actions(client_recherche):
    toutes = client_recherche.get("/api/v1/fiches?places_disponibles=0").get_json()
    sans_filtre = client_recherche.get("/api/v1/fiches").get_json()
    assert toutes["total"] == sans_filtre["total"]


def test_l_api_repond_en_json_francais_a_chaque_statut(app_recherche):
    app_recherche.config["PROPAGATE_EXCEPTIONS"] = False

    @app_recherche.get("/api/v1/essai-panne")
    def panne():
        raise RuntimeError("panne")

    client = app_recherche.test_client()
    cas = [
        (client.get("/api/v1/nulle-part"), 404, "n'existe pas"),
        (client.post("/api/v1/fiches"), 405, "méthode"),
        (client.get("/api/v1/fiches?q=" + "a" * LONGUEUR_REQUETE_MAX), 414, "longue"),
        (client.get("/api/v1/fiches?page=0"), 400, "page"),
        (client.get("/api/v1/fiches/inconnue"), 404, "inconnue"),
        (client.get("/api/v1/essai-panne"), 500, "problème"),
    ]
    for reponse, statut, extrait in cas:
        assert reponse.status_code == statut
        assert reponse.is_json, reponse.data[:80]
        corps = reponse.get_json()
        assert corps["statut"] == statut
        assert extrait in corps["erreur"].lower()
    assert "GET" in cas[1][0].headers["Allow"]


def test_les_pages_repondent_en_francais_a_chaque_statut(client_recherche):
    reponse = client_recherche.post("/")
    assert reponse.status_code == 405
    assert "Cette adresse ne s&#39;ouvre pas de cette façon" in reponse.text
    reponse = client_recherche.get("/?q=" + "a" * LONGUEUR_REQUETE_MAX)
    assert reponse.status_code == 414
    assert '<html lang="fr">' in reponse.text


@pytest.mark.parametrize(
    "adresse", ["/", "/fiches/mob-velos-alencon", "/api/v1/fiches", "/nulle-part"]
)
def test_les_entetes_de_securite_sont_sur_chaque_reponse(client_recherche, adresse):
    entetes = client_recherche.get(adresse).headers
    assert entetes["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
    assert entetes["X-Content-Type-Options"] == "nosniff"
    assert entetes["X-Frame-Options"] == "DENY"
    assert entetes["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # Tests run in testing mode, not production: no HSTS here.
    assert "Strict-Transport-Security" not in entetes


def test_aucune_page_n_a_besoin_de_script_ou_de_style_en_ligne(client_recherche):
    from bs4 import BeautifulSoup

    for adresse in ("/", "/?q=velo&publics=demandeurs-emploi", "/fiches/fle-evry"):
        soupe = BeautifulSoup(client_recherche.get(adresse).text, "html.parser")
        assert not soupe.find("style")
        assert all(s.get("src") for s in soupe.find_all("script"))
        assert not soupe.select("[style]")
        en_ligne = [a for t in soupe.find_all(True) for a in t.attrs if a[:2] == "on"]
        assert en_ligne == []


def test_les_fichiers_statiques_versionnes_se_gardent_un_an(client_recherche):
    from bs4 import BeautifulSoup

    soupe = BeautifulSoup(client_recherche.get("/").text, "html.parser")
    adresses = [s["src"] for s in soupe.find_all("script")]
    adresses += [lien["href"] for lien in soupe.find_all("link", rel="stylesheet")]
    assert any("htmx" in a for a in adresses)
    for adresse in adresses:
        assert "?v=" in adresse, adresse
        reponse = client_recherche.get(adresse)
        assert reponse.status_code == 200
        assert reponse.cache_control.max_age == 365 * 24 * 3600
        assert reponse.cache_control.immutable
        # « no-cache » would make the browser ask again every time.
        assert "no-cache" not in reponse.headers["Cache-Control"]
        assert reponse.headers["X-Content-Type-Options"] == "nosniff"
    # A stale or missing hash is never cached for long.
    perime = client_recherche.get("/static/css/site.css?v=ancien")
    assert perime.cache_control.no_cache
    assert not perime.cache_control.max_age


def test_les_liens_partages_ignorent_l_en_tete_host(creer_app_recherche):
    app = creer_app_recherche(URL_PUBLIQUE="https://offre.exemple.fr")
    client = app.test_client()
    entetes = {"Host": "pirate.exemple.com"}
    fiche = client.get("/fiches/mob-velos-alencon", headers=entetes).text
    assert "https%3A//offre.exemple.fr/fiches/mob-velos-alencon" in fiche
    assert "pirate" not in fiche
    api = client.get("/api/v1/fiches?q=velo", headers=entetes).get_json()
    assert api["resultats"][0]["url"] == (
        "https://offre.exemple.fr/api/v1/fiches/mob-velos-alencon"
    )


@pytest.mark.parametrize("cle", [None, "", "dev", "1", "True", "   courte   "])
def test_la_production_refuse_une_cle_secrete_par_defaut(monkeypatch, cle):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigurationInvalide, match="SECRET_KEY"):
        create_app({"SECRET_KEY": cle, "CATALOGUE": object()})


@pytest.mark.parametrize("faux", ["False", "false", "0", "non", "Off"])
def test_un_reglage_a_faux_ecrit_comme_on_veut_est_faux(
    monkeypatch, creer_app_recherche, faux
):
    # « FLASK_DEMO=False » was the string "False", which is true: the
    # passwordless demo login opened in production.
    monkeypatch.setenv("FLASK_DEMO", faux)
    monkeypatch.setenv("FLASK_SMTP_STARTTLS", faux)
    app = creer_app_recherche()
    assert app.config["DEMO"] is False and app.config["SMTP_STARTTLS"] is False


@pytest.mark.parametrize(
    ("variable", "valeur", "message"),
    [
        ("FLASK_DEMO", "peut-être", "DEMO vaut « peut-être » : écrivez true ou false"),
        (
            "FLASK_PRESCRIPTION_LIEN_JOURS",
            "abc",
            "PRESCRIPTION_LIEN_JOURS vaut « abc »",
        ),
        # Truthy, as JSON reads them: the demo login opened again.
        ("FLASK_DEMO", "1.0", "DEMO vaut « 1.0 »"),
        ("FLASK_DEMO", "[0]", "DEMO vaut « \\[0\\] »"),
        # Every personal link a 500 (timedelta of nan days), or dead at once.
        ("FLASK_PRESCRIPTION_LIEN_JOURS", "NaN", "un nombre entier positif"),
        ("FLASK_PRESCRIPTION_LIEN_JOURS", "-5", "un nombre entier positif"),
        (
            "FLASK_PRESCRIPTION_LIEN_JOURS",
            "1.5",
            "PRESCRIPTION_LIEN_JOURS vaut « 1.5 »",
        ),
        ("FLASK_MEILI_TIMEOUT", "Infinity", "MEILI_TIMEOUT vaut « inf »"),
        ("FLASK_PILOTAGE_SEUIL", "0", "PILOTAGE_SEUIL vaut « 0 »"),
        ("FLASK_FUSEAU_HORAIRE", "123", "fuseau horaire inconnu : « 123 »"),
        # Accepted, then every booking a 500 (a date past the year 9999).
        ("FLASK_PRESCRIPTION_LIEN_JOURS", "10000000", "un nombre entier positif"),
        ("FLASK_PRESCRIPTION_LIEN_JOURS", "1_000", "PRESCRIPTION_LIEN_JOURS vaut"),
        ("FLASK_URL_PUBLIQUE", "https://a b", "URL_PUBLIQUE vaut « https://a b »"),
        ("FLASK_URL_PUBLIQUE", "https://", "URL_PUBLIQUE vaut « https:// »"),
        # Started, and limited nothing.
        ("FLASK_PRESCRIPTION_LIMITE_INSCRIPTION", "abc", "écrivez une limite"),
        # Refused every sign-up.
        ("FLASK_PRESCRIPTION_LIMITE_INSCRIPTION", "0 per hour", "écrivez une limite"),
        # The RGPD purge looped for ever (a year before the calendar's first).
        ("FLASK_RGPD_CONSERVATION_MOIS", "999999", "d'au plus 1200"),
        ("FLASK_SMTP_PORT", "70000", "SMTP_PORT vaut « 70000 »"),
        ("FLASK_PLANIFICATEUR_MESSAGES_S", "0.5", "un nombre entier positif"),
        # Every link sent would have carried them.
        ("FLASK_URL_PUBLIQUE", "https://offre.exemple.fr/?x", "URL_PUBLIQUE vaut"),
        ("FLASK_URL_PUBLIQUE", "https://offre.exemple.fr/#", "URL_PUBLIQUE vaut"),
        ("FLASK_URL_PUBLIQUE", "https://offre.exemple.fr:99999", "URL_PUBLIQUE vaut"),
    ],
)
def test_un_reglage_illisible_arrete_le_demarrage(
    monkeypatch, variable, valeur, message
):
    monkeypatch.setenv(variable, valeur)
    with pytest.raises(ConfigurationInvalide, match=message):
        create_app({"TESTING": True, "CATALOGUE": object()})


@pytest.mark.parametrize(
    ("reglages", "message"),
    [
        # Started, then every message failed (KeyError 'brevoo') for ever.
        ({"SMS_ENVOI": "brevoo"}, "SMS_ENVOI vaut « brevoo » : valeurs possibles"),
        ({"COURRIEL_ENVOI": "smtpp"}, "COURRIEL_ENVOI vaut « smtpp »"),
        ({"SEARCH_BACKEND": "elastic"}, "SEARCH_BACKEND vaut « elastic »"),
        ({"URL_PUBLIQUE": "offre.exemple.fr"}, "avec https://"),
        # Served the default colour without a word.
        (
            {"THEME_COULEUR": "rouge"},
            "THEME_COULEUR vaut « rouge » : écrivez une couleur en hexadécimal, "
            "#rrggbb ou #rgb \\(par défaut : #1f4e79\\)",
        ),
        (
            {"THEME_COULEUR_ACCENT": "#b34700;"},
            "THEME_COULEUR_ACCENT vaut « #b34700; »",
        ),
        ({"THEME_COULEUR": "#fff\n"}, "THEME_COULEUR vaut"),
    ],
)
def test_une_valeur_hors_liste_arrete_le_demarrage_en_francais(reglages, message):
    with pytest.raises(ConfigurationInvalide, match=message):
        create_app({"TESTING": True, "CATALOGUE": object(), **reglages})


def test_meilisearch_sans_adresse_ne_demarre_pas_en_production():
    with pytest.raises(ConfigurationInvalide, match="MEILI_URL n'est pas définie"):
        create_app(
            {
                "SECRET_KEY": "une-longue-cle-aleatoire",
                "URL_PUBLIQUE": "https://offre.exemple.fr",
                "ENVOI_CONSOLE_AUTORISE": True,
                "SEARCH_BACKEND": "meilisearch",
                "CATALOGUE": object(),
            }
        )


@pytest.mark.parametrize("tape", ["12345678", "true", "1.50", "null", "[]"])
def test_un_reglage_de_texte_reste_tel_qu_il_est_tape(
    monkeypatch, creer_app_recherche, tape
):
    # Read as JSON, 12345678 became a number (smtplib failed at every
    # message), « true » the text "True", « null » no password at all.
    monkeypatch.setenv("FLASK_SMTP_MOT_DE_PASSE", tape)
    monkeypatch.setenv("FLASK_DEPARTEMENT_NOM", tape)
    app = creer_app_recherche()
    assert app.config["SMTP_MOT_DE_PASSE"] == app.config["DEPARTEMENT_NOM"] == tape


def test_la_production_refuse_l_adresse_locale_meme_avec_une_barre_finale():
    with pytest.raises(ConfigurationInvalide, match="URL_PUBLIQUE n'est pas définie"):
        create_app(
            {
                "SECRET_KEY": "une-longue-cle-aleatoire",
                "URL_PUBLIQUE": "http://127.0.0.1:5000/",
                "ENVOI_CONSOLE_AUTORISE": True,
                "CATALOGUE": object(),
            }
        )


def test_un_fuseau_horaire_inconnu_est_refuse_au_demarrage():
    with pytest.raises(ConfigurationInvalide, match="FUSEAU_HORAIRE.*Europe/Alencon"):
        create_app(
            {"TESTING": True, "FUSEAU_HORAIRE": "Europe/Alencon", "CATALOGUE": object()}
        )


def test_la_production_envoie_hsts(creer_app_recherche):
    app = creer_app_recherche(
        TESTING=False,
        SECRET_KEY="une-longue-cle-aleatoire",
        URL_PUBLIQUE="https://offre.exemple.fr",
        COURRIEL_ENVOI="smtp",
        COURRIEL_EXPEDITEUR="ne-pas-repondre@exemple.fr",
        SMS_ENVOI="brevo",
        SMS_CLE_API="cle-essai",
    )
    entetes = app.test_client().get("/").headers
    assert entetes["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_SECURE"]


def test_la_production_refuse_de_demarrer_sans_adresse_publique(
    creer_app_recherche,
):
    with pytest.raises(ConfigurationInvalide, match="URL_PUBLIQUE"):
        creer_app_recherche(TESTING=False, SECRET_KEY="une-longue-cle-aleatoire")


def test_un_caractere_invisible_dans_la_recherche_compte_comme_une_espace(
    client_recherche,
):
    page = client_recherche.get("/?q=velo%00alencon%1b").text
    assert "\x00" not in page and "\x1b" not in page
    assert 'value="velo alencon"' in page


def test_une_recherche_trop_longue_est_coupee_entre_deux_mots(client_recherche):
    mots = " ".join(["accompagnement"] * 20)  # 299 characters
    page = client_recherche.get("/", query_string={"q": mots}).text
    garde = " ".join(["accompagnement"] * 13)  # 194: the 14th would pass 200
    assert f'value="{garde}"' in page


@pytest.mark.parametrize("commande", [["run", "--port", "0"], ["fiches", "verifier"]])
def test_hors_developpement_la_commande_dit_seulement_pourquoi_elle_refuse(commande):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    fini = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *commande],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fini.returncode == 1
    assert fini.stderr.startswith("Erreur : SECRET_KEY est absente")
    assert "Traceback" not in fini.stderr
    assert len(fini.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("adresse", "lue"),
    [
        ("nimportequoi", "« nimportequoi » : adresse illisible"),
        ("mysql://u:s3cret@hote/x", "« mysql://u:•••@hote/x » : « mysql:// » n'est"),
        (
            "postgresql+psycopg2://u:s3cret@hote/x",  # a driver not installed
            "« postgresql+psycopg2://u:•••@hote/x » : « postgresql+psycopg2:// »",
        ),
    ],
)
def test_une_adresse_de_base_inutilisable_arrete_la_commande_en_une_ligne(adresse, lue):
    # Each of them gave a traceback (ArgumentError, ModuleNotFoundError…),
    # even to `fiches verifier`, which never opens the database.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    fini = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "--debug"]
        + ["fiches", "verifier"],
        cwd=ROOT,
        env={**env, "FLASK_DATABASE_URL": adresse},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fini.returncode == 1
    assert fini.stderr.startswith(f"Erreur : DATABASE_URL vaut {lue}")
    assert "sqlite:///" in fini.stderr and "postgresql+psycopg://" in fini.stderr
    assert "s3cret" not in fini.stderr
    assert "Traceback" not in fini.stderr
    assert len(fini.stderr.splitlines()) == 1


@pytest.mark.parametrize("schema", ["postgres", "postgresql"])
def test_l_adresse_postgresql_des_hebergeurs_est_lue_avec_psycopg(
    creer_app_recherche, schema
):
    # postgres:// (NoSuchModuleError) and postgresql:// (psycopg2, not
    # installed) are what PaaS hosts give.
    app = creer_app_recherche(DATABASE_URL=f"{schema}://u:p%40ss@127.0.0.1:1/offre")
    assert (
        app.config["DATABASE_URL"] == "postgresql+psycopg://u:p%40ss@127.0.0.1:1/offre"
    )
    assert app.extensions["db"].dialect.driver == "psycopg"
