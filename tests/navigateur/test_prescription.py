"""The three prescription journeys in a real browser, with axe on every new page.

The person signs up alone on a phone (390×844), with JavaScript and without;
a référent prescribes from a fiche; the prestataire answers and keeps places.
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlmodel import Session, select

from app import create_app
from catalogue import places
from prescription.modeles import Beneficiaire, Notification, Prescription
from tests.navigateur.conftest import ORDINATEUR, TELEPHONE, capturer, servir
from tests.prescription.conftest import PERSONNE, REGLAGES, poster, se_connecter
from web import affichage as aff

NORMES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def app_p_navigateur(dossier, base_de_donnees):
    return create_app({
        **REGLAGES,
        "TESTING": True,
        "PROPAGATE_EXCEPTIONS": False,
        "SECRET_KEY": "test",
        "SEARCH_PATH": str(dossier / "r.sqlite3"),
        "DATABASE_URL": base_de_donnees(),
        "PRESCRIPTION_LIMITE_INSCRIPTION": "1000 per hour",
        "PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE": "1000 per hour",
    })  # fmt: skip


@pytest.fixture(scope="module")
def serveur_p(tmp_path_factory, base_de_donnees):
    """The app on the prescription fixture catalogue, in a thread."""
    app = app_p_navigateur(tmp_path_factory.mktemp("index-p"), base_de_donnees)
    with servir(app) as url:
        yield url
    app.extensions["db"].dispose()


@pytest.fixture
def serveur_frais(tmp_path, base_de_donnees):
    """The same app on a database of its own: its places are this test's."""
    app = app_p_navigateur(tmp_path, base_de_donnees)
    with servir(app) as url:
        yield app, url
    app.extensions["db"].dispose()


def fixer_places(app, fiche_id: str, nombre: int) -> None:
    with Session(app.extensions["db"]) as db:
        places.fixer(db, fiche_id, nombre, "essai")
        db.commit()


def remplir_pour_moi(page, prenom: str = "Awa") -> None:
    page.get_by_label("Prénom").fill(prenom)
    page.get_by_label("Nom", exact=True).fill("Diallo")
    page.get_by_role("textbox", name="Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Commune où vous habitez").fill("Alençon")
    page.get_by_label("Je suis d'accord").check()


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.fixture
def ouvrir(navigateur):
    """Open a page at this size, with or without JavaScript; closed after."""
    contextes = []

    def page(viewport, avec_js: bool = True):
        contexte = navigateur.new_context(
            viewport=viewport, locale="fr-FR", java_script_enabled=avec_js
        )
        contextes.append(contexte)
        return contexte.new_page()

    yield page
    for contexte in contextes:
        contexte.close()


def sans_violation(axe, page, captures, nom: str) -> None:
    capturer(page, captures / f"prescription-{nom}.png")
    if nom.endswith("sans-js"):
        return  # axe is a script: the same pages are checked with JavaScript on
    resultat = axe.run(page, options={"runOnly": {"type": "tag", "values": NORMES}})
    assert resultat.violations_count == 0, resultat.generate_report()


def connecter(page, serveur: str, role: str, **choix) -> None:
    page.goto(serveur + "/connexion")
    page.get_by_label(role).check()
    for libelle, valeur in choix.items():
        page.get_by_label(libelle).select_option(valeur)
    page.get_by_role("button", name="Entrer en démonstration").click()
    page.wait_for_url("**/pro/")


def en_prestataire(page, serveur: str) -> None:
    connecter(
        page,
        serveur,
        "Prestataire (je réponds aux demandes)",
        **{"Ma structure, si je suis prestataire": "atelier-orne"},
    )


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_la_personne_s_inscrit_seule_sur_son_telephone(
    serveur_p, ouvrir, axe, captures, avec_js
):
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    page.goto(serveur_p + "/fiches/velos-alencon")
    page.get_by_role("link", name="M'inscrire en ligne").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("M'inscrire")
    sans_violation(axe, page, captures, f"inscription-{suffixe}")
    # Forgetting everything: each mistake is listed, in French.
    page.get_by_role("button", name="Envoyer ma demande").click()
    alerte = page.get_by_role("alert")
    expect(alerte.get_by_text("Indiquez votre prénom.")).to_be_visible()
    # On a phone the list sat below the fold, focus at the top: it is where
    # the page now starts reading.
    expect(page.locator("#erreurs")).to_be_focused()
    expect(page.locator("#erreurs")).to_be_in_viewport()
    sans_violation(axe, page, captures, f"inscription-erreurs-{suffixe}")
    page.get_by_label("Prénom").fill("Awa")
    page.get_by_label("Nom", exact=True).fill("Diallo")
    page.get_by_role("textbox", name="Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Commune où vous habitez").fill("Alençon")
    page.get_by_label("Je suis d'accord").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_text("Statut : Demandée")).to_be_visible()
    # Her name is not in the address (« Awa » could be in its random token).
    assert "Diallo" not in page.url and "/suivi/" in page.url
    sans_violation(axe, page, captures, f"suivi-{suffixe}")
    # Cancelling asks first, then says what happened and where to go next.
    page.get_by_role("link", name="Annuler ma demande").click()
    expect(page.get_by_role("heading", name="Annuler ma demande ?")).to_be_visible()
    sans_violation(axe, page, captures, f"annuler-{suffixe}")
    page.get_by_role("button", name="Oui, annuler ma demande").click()
    expect(page.get_by_text("Votre demande est annulée.")).to_be_visible()
    expect(page.get_by_text("Statut : Annulée")).to_be_visible()
    sans_violation(axe, page, captures, f"annulee-{suffixe}")
    page.get_by_role("link", name="Chercher une autre action").click()
    expect(page.get_by_role("searchbox").first).to_be_visible()


def test_le_referent_prescrit_depuis_la_fiche(serveur_p, ouvrir, axe, captures):
    page = ouvrir(ORDINATEUR)
    page.goto(serveur_p + "/connexion")
    sans_violation(axe, page, captures, "connexion")
    connecter(
        page,
        serveur_p,
        "Référent (je prescris)",
        **{"Mon service, si je suis référent": "referent-rsa"},
    )
    sans_violation(axe, page, captures, "accueil-referent")
    page.goto(serveur_p + "/fiches/chantier-orne")
    # Logged in, the référent finds "Prescrire" first, not in a closed section.
    expect(page.get_by_text("Vous êtes connecté comme référent")).to_be_visible()
    page.get_by_role("link", name="Prescrire").click()
    expect(page.get_by_text("Un comité étudie la demande")).to_be_visible()
    sans_violation(axe, page, captures, "prescrire")
    page.get_by_label("Prénom").fill("Bruno")
    page.get_by_label("Nom", exact=True).fill("Leroy")
    page.get_by_label("Adresse e-mail").fill("bruno@exemple.fr")
    page.get_by_label("Commune où la personne habite").fill("Argentan")
    page.get_by_label("Sexe").select_option("homme")
    page.get_by_label("Tranche d'âge").select_option("45-54")
    page.get_by_label("Pourquoi cette action").fill("Veut travailler dehors.")
    page.get_by_label("J'ai présenté l'action").check()
    page.get_by_role("button", name="Envoyer la prescription").click()
    expect(page.get_by_role("heading", name="Demande de Bruno Leroy")).to_be_visible()
    sans_violation(axe, page, captures, "detail-referent")
    page.get_by_role("link", name="Mes prescriptions").first.click()
    page.get_by_label("Statut").select_option("demandee")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="Bruno Leroy")).to_be_visible()
    sans_violation(axe, page, captures, "mes-prescriptions")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_le_prestataire_repond_et_tient_ses_places(
    serveur_p, ouvrir, axe, captures, avec_js
):
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    en_prestataire(page, serveur_p)
    page.get_by_role("link", name="Mes places").first.click()
    sans_violation(axe, page, captures, f"tableau-{suffixe}")
    ligne = page.locator("#places-velos-alencon")
    avant = int(ligne.get_by_label("Places restantes").input_value())
    ligne.get_by_role("button", name="+1 place").click()
    ligne = page.locator("#places-velos-alencon")
    expect(ligne.get_by_text(f"{avant + 1} places restantes")).to_be_visible()
    # A person who came on their own.
    ligne.get_by_role("link", name="Inscrire une personne venue d'elle-même").click()
    sans_violation(axe, page, captures, f"inscrire-{suffixe}")
    page.get_by_label("Prénom").fill("Chloé")
    page.get_by_label("Nom", exact=True).fill("Petit")
    page.get_by_role("textbox", name="Téléphone").fill("07 81 22 33 44")
    page.get_by_label("Commune où la personne habite").fill("61000")
    page.get_by_role("button", name="Inscrire la personne").click()
    # Three communes share 61000: asked, one tap, then sent.
    expect(page.locator("#commune-erreur")).to_contain_text(
        "Plusieurs communes répondent à « 61000 »"
    )
    page.get_by_role("button", name="Alençon (61000)").click()
    expect(page.get_by_label("Commune où la personne habite")).to_have_value(
        "Alençon (61000)"
    )
    page.get_by_role("button", name="Inscrire la personne").click()
    expect(page.get_by_text("Statut : Acceptée")).to_be_visible()
    page.get_by_role("button", name="Noter l'entrée dans l'action").click()
    expect(page.get_by_text("Statut : Entrée dans l'action")).to_be_visible()
    page.get_by_label("Comment la personne sort").select_option("formation")
    page.get_by_role("button", name="Noter la sortie").click()
    expect(page.get_by_text("Statut : Sortie de l'action")).to_be_visible()
    sans_violation(axe, page, captures, f"detail-prestataire-{suffixe}")
    page.get_by_role("link", name="Demandes reçues").first.click()
    expect(page.get_by_role("link", name="Chloé Petit").first).to_be_visible()
    sans_violation(axe, page, captures, f"demandes-{suffixe}")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_un_nombre_tape_puis_entree_est_enregistre(serveur_p, ouvrir, avec_js):
    # Enter in the number pressed the form's first button, « −1 »: 5 typed
    # over 3 left gave 2. And a wrong number came back erased.
    page = ouvrir(TELEPHONE, avec_js)
    en_prestataire(page, serveur_p)
    page.get_by_role("link", name="Mes places").first.click()
    ligne = page.locator("#places-velos-alencon")
    ligne.get_by_label("Places restantes").fill("5")
    ligne.get_by_label("Places restantes").press("Enter")
    ligne = page.locator("#places-velos-alencon")
    expect(ligne.get_by_text("5 places restantes")).to_be_visible()
    ligne.get_by_label("Places restantes").fill("25")
    ligne.get_by_label("Places restantes").press("Enter")
    ligne = page.locator("#places-velos-alencon")
    expect(ligne.get_by_text("Au plus 10 places")).to_be_visible()
    expect(ligne.get_by_label("Places restantes")).to_have_value("25")
    expect(ligne.get_by_text("5 places restantes")).to_be_visible()


def test_le_departement_voit_ses_indicateurs(serveur_p, ouvrir, axe, captures):
    page = ouvrir(ORDINATEUR)
    connecter(page, serveur_p, "Agent du département (indicateurs)")
    page.get_by_role("link", name="Pilotage").first.click()
    expect(page.get_by_role("table", name="Demandes par origine")).to_be_visible()
    sans_violation(axe, page, captures, "indicateurs")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_une_action_complete_offre_la_liste_d_attente_avant_qu_on_ecrive(
    serveur_frais, ouvrir, axe, captures, avec_js
):
    app, serveur = serveur_frais
    fixer_places(app, "velos-alencon", 0)
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    page.goto(serveur + "/fiches/velos-alencon")
    expect(page.get_by_text("C'est complet pour le moment.").first).to_be_visible()
    page.get_by_role("link", name="M'inscrire sur la liste d'attente").click()
    expect(page.get_by_text("C'est complet pour le moment.")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer ma demande")).to_have_count(0)
    sans_violation(axe, page, captures, f"inscription-complet-{suffixe}")
    remplir_pour_moi(page)
    page.get_by_role("button", name="M'inscrire sur la liste d'attente").click()
    expect(page.get_by_text("Statut : Sur liste d'attente")).to_be_visible()


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_la_derniere_place_prise_pendant_qu_on_ecrit_garde_ce_qui_est_ecrit(
    serveur_frais, ouvrir, axe, captures, avec_js
):
    app, serveur = serveur_frais
    fixer_places(app, "velos-alencon", 1)
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    page.goto(serveur + "/fiches/velos-alencon/inscription")
    expect(page.get_by_role("button", name="Envoyer ma demande")).to_be_visible()
    remplir_pour_moi(page, "Mariam")
    # Meanwhile, someone else takes the last place.
    fixer_places(app, "velos-alencon", 0)
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_text("ce qui a été écrit est gardé")).to_be_visible()
    sans_violation(axe, page, captures, f"complet-pendant-{suffixe}")
    page.get_by_role("button", name="M'inscrire sur la liste d'attente").click()
    expect(page.get_by_text("Statut : Sur liste d'attente")).to_be_visible()
    with Session(app.extensions["db"]) as db:
        [(p, b)] = db.exec(
            select(Prescription, Beneficiaire).join(
                Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id
            )
        ).all()
    assert (b.prenom, b.telephone, b.commune_nom, p.statut) == (
        "Mariam",
        "06 12 34 56 78",
        "Alençon",
        "liste_attente",
    )


def prescrite_il_y_a(app, jours: int, **donnees) -> int:
    """A référent's request to the CV workshop, made ``jours`` days ago."""
    referent = se_connecter(app.test_client(), "referent", prescripteur="referent-rsa")
    reponse = poster(
        referent,
        "/fiches/cv-sessions-alencon/prescrire",
        {
            **PERSONNE,
            "courriel": "awa@exemple.fr",
            "motif": "Prépare ses entretiens.",
            "engagement": "oui",
            "session": "2099-03-01",
            **donnees,
        },
    )
    pid = int(reponse.headers["Location"].rsplit("/", 1)[1])
    with Session(app.extensions["db"]) as db:
        p = db.get(Prescription, pid)
        p.cree_le -= timedelta(days=jours)
        db.add(p)
        db.commit()
    return pid


def ouvrir_en_prestataire(page, serveur: str, pid: int) -> None:
    """The prestataire logs in and opens the request."""
    en_prestataire(page, serveur)
    page.goto(f"{serveur}/pro/prescriptions/{pid}")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_le_prestataire_accepte_avec_session_et_message_puis_entree_et_sortie_passees(
    serveur_frais, ouvrir, axe, captures, avec_js
):
    app, serveur = serveur_frais
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    ouvrir_en_prestataire(page, serveur, prescrite_il_y_a(app, 20))
    expect(page.get_by_text("Prescrit par")).to_be_visible()
    accepter = page.locator("form", has=page.get_by_role("button", name="Accepter"))
    # The session the référent chose is already selected.
    expect(accepter.get_by_label("Session", exact=True)).to_have_value("2099-03-01")
    sans_violation(axe, page, captures, f"accepter-session-{suffixe}")
    accepter.get_by_label("Session", exact=True).select_option("2099-06-01")
    accepter.get_by_label("Message à la personne").fill("Venez à 9 h, salle 2.")
    accepter.get_by_role("button", name="Accepter").click()
    expect(page.get_by_text("Statut : Acceptée")).to_be_visible()
    expect(page.get_by_text("session du 1er juin 2099")).to_be_visible()
    expect(
        page.get_by_text("Acceptée (session du 01/06/2099 ; avant : session du")
    ).to_be_visible()
    with Session(app.extensions["db"]) as db:
        corps = db.exec(
            select(Notification.corps)
            .where(Notification.destinataire == "awa@exemple.fr")
            .order_by(Notification.id.desc())
        ).first()
    assert "Session du 01/06/2099. Message de la structure : Venez à 9 h" in corps
    # Entry and exit noted afterwards, at the days they happened.
    aujourd_hui = places.maintenant_utc().date()
    entree, sortie = (aujourd_hui - timedelta(days=j) for j in (12, 2))
    page.get_by_label("Date d'entrée").fill(entree.isoformat())
    page.get_by_role("button", name="Noter l'entrée dans l'action").click()
    expect(page.get_by_text("Statut : Entrée dans l'action")).to_be_visible()
    expect(
        page.get_by_text(f"Entrée dans l'action – le {aff.date_fr(entree)}")
    ).to_be_visible()
    page.get_by_label("Comment la personne sort").select_option("formation")
    page.get_by_label("Date de sortie").fill(sortie.isoformat())
    page.get_by_role("button", name="Noter la sortie").click()
    expect(page.get_by_text("Statut : Sortie de l'action")).to_be_visible()
    expect(
        page.get_by_text(f"Sortie de l'action – le {aff.date_fr(sortie)}")
    ).to_be_visible()
    sans_violation(axe, page, captures, f"entree-sortie-{suffixe}")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_une_erreur_de_reponse_s_affiche_et_garde_ce_qui_est_ecrit(
    serveur_frais, ouvrir, axe, captures, avec_js
):
    app, serveur = serveur_frais
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    ouvrir_en_prestataire(page, serveur, prescrite_il_y_a(app, 3))
    accepter = page.locator("form", has=page.get_by_role("button", name="Accepter"))
    accepter.get_by_label("Message à la personne").fill("x" * 501)
    accepter.get_by_role("button", name="Accepter").click()
    expect(
        page.get_by_role("alert").get_by_text("Le message dépasse la limite")
    ).to_be_visible()
    accepter = page.locator("form", has=page.get_by_role("button", name="Accepter"))
    expect(accepter.get_by_label("Message à la personne")).to_have_value("x" * 501)
    expect(page.get_by_text("Statut : Demandée")).to_be_visible()
    sans_violation(axe, page, captures, f"reponse-erreur-{suffixe}")


@pytest.mark.parametrize("avec_js", [True, False], ids=["avec-js", "sans-js"])
def test_le_prestataire_gere_sa_liste_d_attente(
    serveur_frais, ouvrir, axe, captures, avec_js
):
    app, serveur = serveur_frais
    fixer_places(app, "velos-alencon", 0)
    referent = se_connecter(app.test_client(), "referent", prescripteur="referent-rsa")
    attente = {**PERSONNE, "nom": "Leroy", "liste_attente": "oui"}
    poster(
        referent,
        "/fiches/velos-alencon/prescrire",
        {**attente, "prenom": "Bruno", "motif": "Emploi à 6 km.", "engagement": "oui"},
    )
    poster(
        app.test_client(),
        "/fiches/velos-alencon/inscription",
        {**attente, "prenom": "Chloé", "telephone": "07 81 22 33 44",
         "consentement": "oui"},
    )  # fmt: skip
    page = ouvrir(TELEPHONE, avec_js)
    suffixe = "js" if avec_js else "sans-js"
    en_prestataire(page, serveur)
    page.get_by_role("link", name="Mes places").first.click()
    page.get_by_role(
        "link", name="Liste d'attente (2 personnes) : Prêt de vélos à Alençon"
    ).click()
    expect(
        page.get_by_role("heading", name="Liste d'attente : Prêt de vélos à Alençon")
    ).to_be_visible()
    personnes = page.locator(".attente-liste > li")
    expect(personnes.first).to_contain_text("Bruno Leroy")
    expect(personnes.first).to_contain_text("Référente Démo")
    expect(personnes.nth(1)).to_contain_text("Chloé Leroy")
    sans_violation(axe, page, captures, f"liste-attente-{suffixe}")
    # No place free: said, nothing changes.
    page.get_by_role("button", name="Proposer une place à Chloé Leroy").click()
    expect(page.get_by_role("alert").get_by_text("Plus de place libre")).to_be_visible()
    sans_violation(axe, page, captures, f"liste-attente-complet-{suffixe}")
    # A place comes free (counted in "Mes places"): offered to Chloé.
    fixer_places(app, "velos-alencon", 1)
    page.get_by_role("button", name="Proposer une place à Chloé Leroy").click()
    expect(page.get_by_text("une place est proposée à Chloé Leroy")).to_be_visible()
    expect(
        page.get_by_role("button", name="Proposer une place à Chloé Leroy")
    ).to_have_count(0)
    # Bruno is taken off the list, with a reason, after a question.
    page.get_by_role("link", name="Retirer de la liste : Bruno Leroy").click()
    expect(
        page.get_by_role("heading", name="Retirer Bruno Leroy de la liste d'attente ?")
    ).to_be_visible()
    sans_violation(axe, page, captures, f"retirer-{suffixe}")
    page.get_by_label("Raison", exact=True).select_option("desistement")
    page.get_by_label("Message à la personne").fill("Rappelez-nous en septembre.")
    page.get_by_role("button", name="Oui, retirer de la liste").click()
    expect(
        page.get_by_text("C'est noté : Bruno Leroy n'est plus sur la liste d'attente.")
    ).to_be_visible()
    expect(page.get_by_text("Personne n'attend.")).to_be_visible()
    sans_violation(axe, page, captures, f"liste-attente-vide-{suffixe}")
    with Session(app.extensions["db"]) as db:
        statuts = {
            b.prenom: p.statut
            for p, b in db.exec(
                select(Prescription, Beneficiaire).join(
                    Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id
                )
            )
        }
    assert statuts == {"Bruno": "refusee", "Chloé": "demandee"}
