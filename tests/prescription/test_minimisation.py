"""The forms ask only what the action needs, and keep nothing else (RGPD)."""

from bs4 import BeautifulSoup
from sqlmodel import Session, select

from prescription.modeles import Beneficiaire
from tests.prescription.conftest import PERSONNE, poster, se_connecter, texte

DEMANDE = {**PERSONNE, "motif": "Veut reprendre un rythme.", "engagement": "oui"}


def beneficiaires(app) -> list[Beneficiaire]:
    with Session(app.extensions["db"]) as db:
        return list(db.exec(select(Beneficiaire)))


def referent(app):
    return se_connecter(app.test_client(), "referent", prescripteur="referent-rsa")


def situations_proposees(page: str) -> list[str] | None:
    liste = BeautifulSoup(page, "html.parser").find("select", id="public")
    return None if liste is None else [o["value"] for o in liste.find_all("option")]


def test_une_action_pour_un_seul_public_ne_demande_pas_la_situation(app_p):
    """The chantier takes people at the RSA only: the form does not ask."""
    pro = referent(app_p)
    page = texte(pro.get("/fiches/chantier-orne/prescrire"))
    assert "Situation de la personne" not in page
    assert situations_proposees(page) is None
    assert "compte les demandes par sexe et âge" in page
    # Posted anyway (an old form, a script): not kept.
    envoi = {**DEMANDE, "public": "beneficiaires-rsa", "sexe": "femme"}
    assert poster(pro, "/fiches/chantier-orne/prescrire", envoi).status_code == 303
    [personne] = beneficiaires(app_p)
    assert personne.public is None
    assert personne.sexe == "femme"


def test_la_personne_qui_s_inscrit_seule_n_a_ni_sexe_ni_age_gardes(app_p, client_p):
    """Never asked of her: posted anyway (an old form, a script), not kept,
    and not counted in the gendered figures."""
    page = texte(client_p.get("/fiches/velos-alencon/inscription"))
    assert 'name="sexe"' not in page and 'name="tranche_age"' not in page
    envoi = {**PERSONNE, "consentement": "oui", "sexe": "femme", "tranche_age": "26-44"}
    reponse = poster(client_p, "/fiches/velos-alencon/inscription", envoi)
    assert reponse.status_code == 303
    [personne] = beneficiaires(app_p)
    assert (personne.sexe, personne.tranche_age) == ("non-renseigne", "non-renseigne")


def test_la_situation_se_choisit_parmi_les_publics_de_l_action(app_p):
    pro = referent(app_p)
    page = texte(pro.get("/fiches/velos-alencon/prescrire"))
    assert situations_proposees(page) == ["", "demandeurs-emploi", "beneficiaires-rsa"]
    # A situation the action does not take is refused, and nothing is stored.
    ailleurs = {**DEMANDE, "public": "jeunes"}
    reponse = poster(pro, "/fiches/velos-alencon/prescrire", ailleurs)
    assert reponse.status_code == 422
    assert "Choisissez une situation de la liste." in texte(reponse)
    # The list at fault is marked, and read with its error.
    liste = BeautifulSoup(texte(reponse), "html.parser").find("select", id="public")
    assert liste["aria-invalid"] == "true"
    assert "public-erreur" in liste["aria-describedby"].split()
    assert beneficiaires(app_p) == []
    envoi = {**DEMANDE, "public": "beneficiaires-rsa"}
    assert poster(pro, "/fiches/velos-alencon/prescrire", envoi).status_code == 303
    [personne] = beneficiaires(app_p)
    assert personne.public == "beneficiaires-rsa"


def test_la_personne_lit_combien_de_temps_ses_donnees_sont_gardees(
    creer_app_prescription,
):
    """The consent says the real retention period, not « at the end »."""
    deux_ans = creer_app_prescription().test_client()
    page = texte(deux_ans.get("/fiches/velos-alencon/inscription"))
    assert "Ces informations sont effacées 2 ans après la fin de ma demande." in page
    assert "Situation" not in page  # the person is never asked for statistics
    app = creer_app_prescription(RGPD_CONSERVATION_MOIS=18)
    page = texte(app.test_client().get("/fiches/velos-alencon/inscription"))
    assert "effacées 18 mois après la fin de ma demande." in page
