"""The département admin says who is référent or prestataire where, in the UI."""

import re

from sqlmodel import Session, select

from prescription.modeles import Adhesion, StructurePro
from prescription.structures import JournalAdmin
from tests.prescription.conftest import poster, se_connecter, texte

FICHE = "/pro/fiches/garage-evry/modifier"  # a fiche of garage-essonne
CAMILLE = "referent-referent-rsa@demo.invalid"  # her account, made at login


def _admin(app):
    return se_connecter(app.test_client(), "departement")


def _id_de(page: str, nom: str) -> str:
    carte = page[page.index(f">{nom}</h2>") :]
    return re.search(r"/pro/structures/(\d+)/membres", carte)[1]


def _journal(app) -> list[str]:
    with Session(app.extensions["db"]) as db:
        return [j.quoi for j in db.exec(select(JournalAdmin).order_by(JournalAdmin.id))]


def test_l_admin_cree_une_structure_y_met_un_prestataire_puis_le_retire(app_p):
    camille = se_connecter(app_p.test_client(), "referent", prescripteur="referent-rsa")
    assert camille.get(FICHE).status_code == 403
    admin = _admin(app_p)

    reponse = poster(admin, "/pro/structures", {
        "nom_structure": "Garage solidaire de l'Essonne (siège)",
        "type": "prestataire",
        "structure_catalogue": "garage-essonne",
    })  # fmt: skip
    assert reponse.status_code == 303
    page = texte(admin.get("/pro/structures"))
    assert "Structure « Garage solidaire de l'Essonne (siège) » créée." in page
    sid = _id_de(page, "Garage solidaire de l'Essonne (siège)")

    membre = {"courriel": CAMILLE.upper(), "role": "prestataire_membre"}
    reponse = poster(admin, f"/pro/structures/{sid}/membres", membre)
    assert reponse.status_code == 303
    page = texte(admin.get("/pro/structures"))
    assert f"({CAMILLE}) : Membre d'une structure prestataire" in page
    # Her next request carries the new role: she may edit the garage's fiche.
    assert camille.get(FICHE).status_code == 200
    assert "Modifier la fiche « Garage solidaire »" in texte(camille.get(FICHE))

    with Session(app_p.extensions["db"]) as db:
        aid = db.exec(
            select(Adhesion.id).where(
                Adhesion.structure_id == int(sid), Adhesion.role == "prestataire_membre"
            )
        ).one()
    reponse = poster(admin, f"/pro/structures/{sid}/membres/{aid}/retirer")
    assert reponse.status_code == 303
    assert "Rôle retiré." in texte(admin.get("/pro/structures"))
    assert camille.get(FICHE).status_code == 403

    assert _journal(app_p) == [
        "structure créée : « Garage solidaire de l'Essonne (siège) » (prestataire)",
        "rôle « Membre d'une structure prestataire » donné à "
        f"{CAMILLE} dans « Garage solidaire de l'Essonne (siège) »",
        "rôle « Membre d'une structure prestataire » retiré à "
        f"{CAMILLE} dans « Garage solidaire de l'Essonne (siège) »",
    ]
    page = texte(admin.get("/pro/structures"))
    for ligne in _journal(app_p):
        assert ligne in page


def test_l_admin_fait_d_une_personne_une_referente(app_p):
    se_connecter(app_p.test_client(), "prestataire", structure="atelier-orne")
    admin = _admin(app_p)
    poster(admin, "/pro/structures", {
        "nom_structure": "Service social d'Alençon",
        "type": "service-prescripteur",
        "type_prescripteur": "referent-rsa",
    })  # fmt: skip
    sid = _id_de(texte(admin.get("/pro/structures")), "Service social d'Alençon")
    courriel = "prestataire-atelier-orne@demo.invalid"
    reponse = poster(admin, f"/pro/structures/{sid}/membres",
                     {"courriel": courriel, "role": "referent"})  # fmt: skip
    assert reponse.status_code == 303
    assert f"({courriel}) : Référent" in texte(admin.get("/pro/structures"))


def test_une_saisie_fausse_recoit_un_message_et_rien_n_est_ecrit(app_p):
    admin = _admin(app_p)
    cas = [
        ({"nom_structure": "x", "type": "prestataire"}, "Donnez un nom de 2 à 200"),
        ({"nom_structure": "Atelier", "type": "prestataire",
          "structure_catalogue": "inconnue"}, "Aucune structure « inconnue »"),
        ({"nom_structure": "Service", "type": "service-prescripteur",
          "type_prescripteur": "voyant"}, "Type de prescripteur inconnu"),
        ({"nom_structure": "Atelier\x00", "type": "prestataire"},
         "caractère invisible"),
    ]  # fmt: skip
    for form, message in cas:
        reponse = poster(admin, "/pro/structures", form)
        assert reponse.status_code == 422, form
        assert message in texte(reponse)
        assert f'value="{form["nom_structure"]}"' in texte(reponse)  # kept
    sid = _id_de(texte(admin.get("/pro/structures")), "Département de démonstration")
    inconnue = {"courriel": "personne@exemple.fr", "role": "departement_admin"}
    reponse = poster(admin, f"/pro/structures/{sid}/membres", inconnue)
    assert reponse.status_code == 422
    assert "Aucun compte avec cette adresse" in texte(reponse)
    assert 'value="personne@exemple.fr"' in texte(reponse)
    # A référent's role has no meaning in the département's own structure.
    se_connecter(app_p.test_client(), "referent", prescripteur="referent-rsa")
    mauvais_role = {"courriel": CAMILLE, "role": "referent"}
    reponse = poster(admin, f"/pro/structures/{sid}/membres", mauvais_role)
    assert reponse.status_code == 422
    assert "Ce rôle ne se donne pas dans « Département de démonstration »" in (
        texte(reponse)
    )
    with Session(app_p.extensions["db"]) as db:
        noms = set(db.exec(select(StructurePro.nom)))
    assert noms & {"x", "Atelier", "Service", "Atelier\x00"} == set()
    assert _journal(app_p) == []


def test_l_admin_ne_retire_pas_son_propre_role(app_p):
    admin = _admin(app_p)
    page = texte(admin.get("/pro/structures"))
    sid = _id_de(page, "Département de démonstration")
    aid = re.search(rf"/pro/structures/{sid}/membres/(\d+)/retirer", page)[1]
    poster(admin, f"/pro/structures/{sid}/membres/{aid}/retirer")
    assert "Vous ne pouvez pas retirer votre propre rôle" in texte(
        admin.get("/pro/structures")
    )
    assert admin.get("/pro/structures").status_code == 200


def test_la_commande_rattacher_ecrit_au_meme_journal(app_p):
    se_connecter(app_p.test_client(), "referent", prescripteur="referent-rsa")
    commande = ["prescriptions", "rattacher", CAMILLE, "Garage de l'Essonne"]
    options = ["--structure-catalogue", "garage-essonne"]
    sortie = app_p.test_cli_runner().invoke(
        args=[*commande, "prestataire_membre", *options]
    )
    assert "Rôle « Membre d'une structure prestataire » donné" in sortie.output
    assert _journal(app_p) == [
        "structure créée : « Garage de l'Essonne » (prestataire)",
        "rôle « Membre d'une structure prestataire » donné à "
        f"{CAMILLE} dans « Garage de l'Essonne »",
    ]
    # Given twice: refused with the page's message, nothing more written.
    sortie = app_p.test_cli_runner().invoke(
        args=[*commande, "prestataire_membre", *options]
    )
    assert sortie.exit_code == 1
    assert "a déjà ce rôle" in sortie.output
    assert len(_journal(app_p)) == 2


def test_la_commande_rattacher_refuse_ce_que_la_page_refuse(app_p):
    se_connecter(app_p.test_client(), "prestataire", structure="atelier-orne")
    courriel = "prestataire-atelier-orne@demo.invalid"
    cas = [
        (["Atelier fantôme", "prestataire_membre",
          "--structure-catalogue", "nexistepas"], "Aucune structure « nexistepas »"),
        (["Service bidon", "referent", "--type", "service-prescripteur",
          "--type-prescripteur", "bidon"], "Type de prescripteur inconnu : « bidon »"),
    ]  # fmt: skip
    for arguments, message in cas:
        sortie = app_p.test_cli_runner().invoke(
            args=["prescriptions", "rattacher", courriel, *arguments]
        )
        assert sortie.exit_code == 1
        assert f"Erreur : {message}" in sortie.output
    with Session(app_p.extensions["db"]) as db:
        noms = set(db.exec(select(StructurePro.nom)))
    assert noms & {"Atelier fantôme", "Service bidon"} == set()
    assert _journal(app_p) == []


def test_un_referent_ne_recoit_pas_un_second_service(app_p):
    se_connecter(app_p.test_client(), "prestataire", structure="atelier-orne")
    courriel = "prestataire-atelier-orne@demo.invalid"
    admin = _admin(app_p)
    noms = ("Service social d'Alençon", "Service social d'Argentan")
    for nom in noms:
        poster(admin, "/pro/structures", {
            "nom_structure": nom, "type": "service-prescripteur",
            "type_prescripteur": "referent-rsa",
        })  # fmt: skip
    page = texte(admin.get("/pro/structures"))
    alencon, argentan = (_id_de(page, nom) for nom in noms)
    role = {"courriel": courriel, "role": "referent"}
    assert poster(admin, f"/pro/structures/{alencon}/membres", role).status_code == 303
    reponse = poster(admin, f"/pro/structures/{argentan}/membres", role)
    assert reponse.status_code == 422
    assert (
        f"{courriel} est déjà référent dans « Service social d'Alençon » : un "
        "référent prescrit pour un seul service" in texte(reponse)
    )
    sortie = app_p.test_cli_runner().invoke(
        args=[
            "prescriptions",
            "rattacher",
            courriel,
            "Service social d'Argentan",
            "referent",
        ]
    )
    assert sortie.exit_code == 1
    assert "est déjà référent dans « Service social d'Alençon »" in sortie.output
    with Session(app_p.extensions["db"]) as db:
        roles = db.exec(select(Adhesion).where(Adhesion.role == "referent")).all()
    assert [a.structure_id for a in roles if a.structure_id == int(argentan)] == []
