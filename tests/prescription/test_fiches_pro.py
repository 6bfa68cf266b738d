"""A prestataire keeps its fiche current; the département validates."""

import html
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from data_inclusion.schema import v1
from sqlmodel import Session, select

from catalogue import places, revisions
from catalogue.chargement import charger_catalogue
from catalogue.places import JournalPlaces
from catalogue.recherche import RechercheIndisponible
from prescription.modeles import Notification, Prescription
from tests.conftest import ROOT
from tests.prescription.conftest import (
    PERSONNE,
    PRESCRIPTION,
    jeton_csrf,
    poster,
    se_connecter,
    texte,
)

FICHE = "garage-evry"  # run by garage-essonne
URL = f"/pro/fiches/{FICHE}/modifier"
CV = "cv-sessions-alencon"  # atelier-orne's: sessions of 2099-03-01 and 2099-06-01
URL_CV = f"/pro/fiches/{CV}/modifier"


def _prestataire(app, structure="garage-essonne"):
    return se_connecter(app.test_client(), "prestataire", structure=structure)


def _departement(app):
    return se_connecter(app.test_client(), "departement")


def _formulaire(client, url=URL, **changes) -> dict:
    """The form as the page shows it, with the user's changes typed in."""
    return {**_champs_de_la_page(client.get(url).get_data(as_text=True)), **changes}


def _enregistrer(client, url=URL, **changes):
    """The form sent with the user's changes typed in."""
    return client.post(url, data=_formulaire(client, url, **changes))


def _champs_de_la_page(page: str) -> dict:
    page = html.unescape(page)
    champs = dict(
        re.findall(
            r'<input type="(?:text|tel|email|url|date|hidden)" '
            r'id="[^"]*" name="([^"]+)" value="([^"]*)"',
            page,
        )
    )
    champs.update(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    for nom in ("horaires_accueil", "conditions_acces", "documents"):
        champs[nom] = re.search(rf'name="{nom}"[^>]*>([^<]*)</textarea>', page)[1]
    champs["statut"] = re.search(r'<option value="([^"]+)" selected', page)[1]
    return champs


def _valider_la_derniere(app):
    admin = _departement(app)
    page = texte(admin.get("/pro/modifications"))
    rid = re.search(r"/pro/modifications/(\d+)/valider", page)[1]
    reponse = poster(admin, f"/pro/modifications/{rid}/valider")
    assert reponse.status_code == 303
    return admin


def test_le_prestataire_change_ses_horaires_et_ajoute_une_session(
    app_p, creer_app_prescription, tmp_path
):
    # Two workers of one deployment: same database, same search index.
    autre_worker = creer_app_prescription()
    client = _prestataire(app_p)
    donnees = _formulaire(
        client,
        horaires_accueil="Du lundi au vendredi, de 9 h à 17 h",
        session_0_debut="2031-03-02",
        session_0_places="8",
    )
    reponse = client.post(URL, data=donnees)
    assert reponse.status_code == 303
    page = texte(client.get(URL))
    assert "1 modification en attente de validation" in page
    # Not published before validation.
    assert "9 h à 17 h" not in texte(app_p.test_client().get(f"/fiches/{FICHE}"))

    admin = _departement(app_p)
    a_valider = texte(admin.get("/pro/modifications"))
    assert "Garage solidaire" in a_valider
    assert "Du lundi au vendredi, de 9 h à 17 h" in a_valider
    assert "du 2 mars 2031, 8 places" in a_valider
    # Who proposed it, by name and address: whom to ask about it.
    assert "Proposée par Prestataire Démo (prestataire-garage-essonne" in a_valider
    assert "(utilisateur " not in a_valider
    _valider_la_derniere(app_p)

    for app in (app_p, autre_worker):
        fiche_publiee = texte(app.test_client().get(f"/fiches/{FICHE}"))
        assert "Du lundi au vendredi, de 9 h à 17 h" in fiche_publiee
        assert "mars 2031 – 8 places libres" in fiche_publiee
        recherche = app.test_client().get("/api/v1/fiches?q=garage").get_json()
        trouve = next(r for r in recherche["resultats"] if r["id"] == FICHE)
        assert trouve["places_restantes"] == 8
    # The data·inclusion API of the other worker, as the aggregator reads it.
    api = autre_worker.test_client().get("/api/v1/data-inclusion/services?taille=100")
    en_ligne = next(s for s in api.get_json()["items"] if FICHE in s["id"])
    v1.Service.model_validate(en_ligne)
    # In OpenStreetMap's syntax, as the schema asks (the site shows the text).
    assert en_ligne["horaires_accueil"] == "Mo-Fr 09:00-17:00"
    assert {"debut": "2031-03-02", "fin": None, "places": 8, "places_restantes": 8} in (
        en_ligne["extra"]["sessions"]
    )
    sortie = autre_worker.test_cli_runner().invoke(
        args=["fiches", "exporter", "--sortie", tmp_path]
    )
    assert sortie.exit_code == 0, sortie.output
    services = json.loads((tmp_path / "services.json").read_text(encoding="utf-8"))
    service = next(s for s in services if FICHE in s["id"])
    v1.Service.model_validate(service)
    assert service["horaires_accueil"] == "Mo-Fr 09:00-17:00"


def test_le_prestataire_sait_quand_ses_horaires_ne_se_lisent_pas_en_open_data(app_p):
    # Open data carries hours read as days and hours only: « le matin, sur
    # rendez-vous » went out empty, and the structure never knew.
    client = _prestataire(app_p)
    remarque = "les sites qui reprennent le catalogue (données ouvertes) ne savent pas"
    _enregistrer(client, horaires_accueil="Le matin, sur rendez-vous")
    formulaire = texte(client.get(URL))
    assert "Le matin, sur rendez-vous" in formulaire  # kept as typed
    assert remarque in formulaire
    _enregistrer(client, horaires_accueil="Du lundi au vendredi, de 9 h à 17 h")
    assert remarque not in texte(client.get(URL))


def _validee_pendant_qu_un_autre_worker_sert_le_public(app_p, creer_app_prescription):
    """A second worker served the public fiche (at 100 s on its clock), then
    the first one validated new hours: (that worker, its clock, its public)."""
    autre_worker = creer_app_prescription()
    horloge = [100.0]
    autre_worker.extensions["publication"].horloge = lambda: horloge[0]
    public = autre_worker.test_client()
    assert "9 h à 17 h" not in texte(public.get(f"/fiches/{FICHE}"))
    client = _prestataire(app_p)
    poster(client, URL, _formulaire(client, horaires_accueil="De 9 h à 17 h"))
    _valider_la_derniere(app_p)
    return autre_worker, horloge, public


def test_l_autre_worker_montre_aux_pros_la_fiche_validee_a_l_instant(
    app_p, creer_app_prescription
):
    autre_worker, _, public = _validee_pendant_qu_un_autre_worker_sert_le_public(
        app_p, creer_app_prescription
    )
    # The structure, on the other worker, sees its fiche as validated at once.
    pro = _prestataire(autre_worker)
    assert "De 9 h à 17 h" in html.unescape(texte(pro.get(URL)))
    # The public pages of that worker read the database at most once a
    # second: the version read by the pro page serves them too.
    assert "De 9 h à 17 h" in texte(public.get(f"/fiches/{FICHE}"))


def test_une_page_publique_relit_les_fiches_validees_au_plus_une_fois_par_seconde(
    app_p, creer_app_prescription
):
    _, horloge, public = _validee_pendant_qu_un_autre_worker_sert_le_public(
        app_p, creer_app_prescription
    )
    horloge[0] += 0.5
    assert "9 h à 17 h" not in texte(public.get(f"/fiches/{FICHE}"))
    horloge[0] += 0.5
    assert "De 9 h à 17 h" in texte(public.get(f"/fiches/{FICHE}"))


def test_une_valeur_fausse_recoit_le_message_du_chargeur_a_cote_du_champ(
    app_p, tmp_path
):
    # The same values written in the fiche's YAML, as an author would.
    fiches = tmp_path / "fiches"
    fiches.mkdir()
    yaml_ = (PRESCRIPTION / "fiches" / f"{FICHE}.yaml").read_text(encoding="utf-8")
    yaml_ += 'telephone: "12"\nsessions:\n  - debut: "2031-02-30"\n    places: huit\n'
    (fiches / f"{FICHE}.yaml").write_text(yaml_, encoding="utf-8")
    chargeur = charger_catalogue(fiches, PRESCRIPTION / "structures", racine=ROOT)
    messages = {e.champ: e.message for e in chargeur.erreurs}
    assert set(messages) == {"telephone", "sessions[0].debut", "sessions[0].places"}

    client = _prestataire(app_p)
    donnees = _formulaire(
        client,
        telephone="12",
        session_0_debut="2031-02-30",
        session_0_places="huit",
    )
    reponse = client.post(URL, data=donnees)
    assert reponse.status_code == 422
    page = texte(reponse)
    assert f'id="telephone-erreur">{messages["telephone"]}<' in page
    assert f'id="session_0_places-erreur">{messages["sessions[0].places"]}<' in page
    assert f'id="session_0_debut-erreur">{messages["sessions[0].debut"]}<' in page
    assert 'value="huit"' in page  # what was typed stays
    assert (
        texte(_departement(app_p).get("/pro/modifications")).count("Proposée par") == 0
    )


def test_toutes_les_erreurs_des_sessions_sont_dites_a_la_fois_a_cote_du_champ(
    app_p,
):
    client = _prestataire(app_p)
    # « Ends before it starts » waited until the other errors were mended.
    page = texte(
        _enregistrer(
            client,
            telephone="abc",
            session_0_debut="2027-03-10",
            session_0_fin="2027-03-01",
            session_0_places="-1",
        )
    )
    assert 'id="session_0_fin-erreur">la session finit avant de commencer<' in page
    assert 'id="session_0_places-erreur">' in page
    assert 'id="telephone-erreur">' in page
    # Two sessions the same day: said beside the second one's start, where
    # the summary's link leads.
    reponse = _enregistrer(
        client,
        session_0_debut="2027-03-10",
        session_1_debut="2027-03-10",
        session_1_places="3",
    )
    assert reponse.status_code == 422
    page = texte(reponse)
    assert 'id="session_1_debut-erreur">deux sessions commencent le 10/03/2027' in (
        page
    )
    assert 'href="#session_1_debut"' in page
    # With another session's error, the same day was said only next time.
    page = texte(
        _enregistrer(
            client,
            session_0_debut="2027-03-10",
            session_0_fin="2027-03-01",
            session_1_debut="2027-03-10",
        )
    )
    assert 'id="session_0_fin-erreur">la session finit avant de commencer<' in page
    assert 'id="session_1_debut-erreur">deux sessions commencent le 10/03/2027' in (
        page
    )


def test_une_session_deja_passee_est_signalee_a_cote_de_son_debut(app_p):
    # 2020 for 2027: accepted, validated, and never shown to anyone.
    client = _prestataire(app_p)
    reponse = _enregistrer(
        client,
        telephone="abc",
        session_0_debut="2020-01-06",
        session_0_fin="2020-01-31",
    )
    assert reponse.status_code == 422
    page = texte(reponse)
    assert (
        'id="session_0_debut-erreur">cette session est déjà passée (elle finit le '
        "31/01/2020) : vérifiez l'année<" in page
    )
    assert 'id="telephone-erreur">' in page  # the other errors at once
    assert 'value="2020-01-06"' in page
    assert "Proposée par" not in texte(_departement(app_p).get("/pro/modifications"))


def test_deux_modifications_en_meme_temps_la_seconde_voit_la_premiere(app_p):
    alice, bruno = _prestataire(app_p), _prestataire(app_p)
    form_alice = _formulaire(alice, horaires_accueil="Le matin")
    form_bruno = _formulaire(bruno, conditions_acces="Avoir un véhicule")
    assert alice.post(URL, data=form_alice).status_code == 303
    reponse = bruno.post(URL, data=form_bruno)
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "Quelqu'un a modifié cette fiche" in page
    assert "Horaires : Le matin" in re.sub(r"<[^>]+>", "", page)
    assert "tous les deux" not in page
    # The form now holds both changes: Bruno only sends it again.
    form_bruno = _champs_de_la_page(page)
    assert form_bruno["horaires_accueil"] == "Le matin"
    assert form_bruno["conditions_acces"] == "Avoir un véhicule"
    assert bruno.post(URL, data=form_bruno).status_code == 303
    # His holds hers: the département decides on both at once.
    a_valider = texte(_departement(app_p).get("/pro/modifications"))
    assert a_valider.count("Proposée par") == 1
    assert "Le matin" in a_valider and "Avoir un véhicule" in a_valider

    _valider_la_derniere(app_p)
    publiee = texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert "Le matin" in publiee
    assert "Avoir un véhicule" in publiee


def test_deux_textes_differents_pour_le_meme_champ_sont_signales(app_p):
    alice, bruno = _prestataire(app_p), _prestataire(app_p)
    form_alice = _formulaire(alice, horaires_accueil="Le matin")
    form_bruno = _formulaire(bruno, horaires_accueil="L'après-midi")
    assert alice.post(URL, data=form_alice).status_code == 303
    page = texte(bruno.post(URL, data=form_bruno))
    assert "Vous avez changé tous les deux : Horaires" in page
    assert "Horaires : Le matin" in re.sub(r"<[^>]+>", "", page)  # hers, shown
    assert _champs_de_la_page(page)["horaires_accueil"] == "L'après-midi"  # his


def test_un_prestataire_d_une_autre_structure_est_refuse(app_p):
    curieux = _prestataire(app_p, "atelier-orne")
    assert curieux.get(URL).status_code == 403
    donnees = {"csrf_token": jeton_csrf(curieux), "base": "0", "horaires_accueil": "x"}
    assert curieux.post(URL, data=donnees).status_code == 403
    referent = se_connecter(app_p.test_client(), "referent", prescripteur="siao")
    assert referent.get(URL).status_code == 403


def test_le_departement_corrige_un_detail_lui_meme_et_c_est_publie(app_p):
    # It could only refuse, and wait for the structure to propose again.
    admin = _departement(app_p)
    fiche = texte(admin.get(f"/fiches/{FICHE}"))
    assert f'href="{URL}">Modifier cette fiche' in fiche
    page = texte(admin.get(URL))
    assert "vos modifications sont publiées aussitôt enregistrées" in page
    assert "Retour aux modifications à valider" in page
    reponse = admin.post(URL, data=_formulaire(admin, telephone="01 60 00 00 01"))
    assert reponse.status_code == 303
    assert "Modification publiée." in texte(admin.get(URL))
    assert "01 60 00 00 01" in texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    with Session(app_p.extensions["db"]) as db:
        [revision] = revisions.revisions(db, FICHE)
        assert revision.statut == revisions.VALIDEE
        assert revision.decide_par == revision.auteur  # the département, logged
    # Nobody else sees the button.
    assert "Modifier cette fiche" not in texte(
        app_p.test_client().get(f"/fiches/{FICHE}")
    )


def _courriels_fiche_modifiee(app):
    with Session(app.extensions["db"]) as db:
        return db.exec(
            select(Notification).where(Notification.sujet.startswith("Fiche modifiée"))
        ).all()


def test_le_departement_qui_a_refuse_part_de_la_fiche_publiee_et_la_structure_le_sait(
    app_p,
):
    # Its form took up the proposal it had just refused: one more field
    # changed, « Enregistrer » published the refused change, unsaid.
    client = _prestataire(app_p)
    _enregistrer(client, horaires_accueil="HACK")
    admin = _departement(app_p)
    rid = re.search(r"/pro/modifications/(\d+)/refuser",
                    texte(admin.get("/pro/modifications")))[1]  # fmt: skip
    poster(admin, f"/pro/modifications/{rid}/refuser", {"motif": "Non."})
    page = texte(admin.get(URL))
    assert "La dernière proposition de la structure a été refusée le " in page
    assert "Le formulaire part de la fiche publiée." in page
    assert _champs_de_la_page(page)["horaires_accueil"] != "HACK"
    reponse = poster(
        admin, URL, {**_champs_de_la_page(page), "telephone": "01 60 00 00 02"}
    )
    assert reponse.status_code == 303
    publiee = texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert "01 60 00 00 02" in publiee and "HACK" not in publiee
    # The structure is told what its fiche now says, and sees who did it.
    (courriel,) = _courriels_fiche_modifiee(app_p)
    assert "Le département a publié le " in courriel.corps
    assert "- Téléphone : 01 60 00 00 02" in courriel.corps
    assert "que vous aviez proposée" not in courriel.corps
    assert "Dernière modification publiée le " in texte(client.get(URL))


def test_une_validation_est_dite_a_la_structure(app_p):
    client = _prestataire(app_p)
    _enregistrer(client, horaires_accueil="Le mardi")
    _valider_la_derniere(app_p)
    (courriel,) = _courriels_fiche_modifiee(app_p)
    assert "que vous aviez proposée" in courriel.corps
    assert "- Horaires : Le mardi" in courriel.corps


@pytest.mark.parametrize("base", ["500", "²", "٣"])
def test_un_numero_de_depart_qu_aucune_page_n_a_donne_est_refuse(app_p, base):
    # « base=500 » skipped the check of the changes made meanwhile; « ² »,
    # a digit to str.isdigit, gave a 500.
    client = _prestataire(app_p)
    reponse = client.post(URL, data={**_formulaire(client), "base": base})
    assert reponse.status_code == 400
    assert "Formulaire incomplet : rechargez la page." in texte(reponse)


def test_enregistrer_sans_rien_changer_n_enregistre_rien(app_p):
    admin = _departement(app_p)
    reponse = admin.post(URL, data=_formulaire(admin))
    assert reponse.status_code == 303
    assert "Rien n'a changé : la fiche publiée reste la même." in texte(admin.get(URL))
    assert _courriels_fiche_modifiee(app_p) == []
    with Session(app_p.extensions["db"]) as db:
        assert revisions.revisions(db, FICHE) == []


def test_la_correction_du_departement_dit_la_proposition_qu_elle_contient(app_p):
    client = _prestataire(app_p)
    _enregistrer(client, horaires_accueil="Le jeudi")
    admin = _departement(app_p)
    # Its form starts from the proposal waiting; it adds a phone number.
    assert _enregistrer(admin, telephone="01 60 00 00 03").status_code == 303
    (courriel,) = _courriels_fiche_modifiee(app_p)
    assert ", avec celle que vous aviez proposée le " in courriel.corps
    assert "- Horaires : Le jeudi" in courriel.corps
    assert "- Téléphone : 01 60 00 00 03" in courriel.corps
    # A new proposal waiting: the last publication is still said.
    _enregistrer(client, courriel="accueil@garage.example")
    assert "Dernière modification publiée le " in texte(client.get(URL))


def test_une_modification_refusee_n_est_pas_publiee(app_p):
    client = _prestataire(app_p)
    client.post(URL, data=_formulaire(client, horaires_accueil="Jamais"))
    admin = _departement(app_p)
    rid = re.search(r"/pro/modifications/(\d+)/refuser",
                    texte(admin.get("/pro/modifications")))[1]  # fmt: skip
    # Refused without a word, the prestataire would only see its text gone.
    sans_raison = poster(
        admin, f"/pro/modifications/{rid}/refuser", follow_redirects=True
    )
    assert "toujours en attente : dites à la structure pourquoi" in texte(sans_raison)
    raison = "Un accueil ouvert « jamais » ne se publie pas. Appelez-nous."
    reponse = poster(admin, f"/pro/modifications/{rid}/refuser", {"motif": raison})
    assert reponse.status_code == 303
    assert "Jamais" not in texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert "Aucune modification en attente" in texte(admin.get("/pro/modifications"))
    # The prestataire reads it, on the form it would fill again, which
    # takes up its change (to correct one detail, not retype everything).
    page = texte(client.get(URL))
    assert "Le département a refusé la modification du " in page
    assert "« Un accueil ouvert « jamais » ne se publie pas. Appelez-nous. »" in page
    assert _champs_de_la_page(page)["horaires_accueil"] == "Jamais"
    repartir = texte(client.get(URL + "?depuis=publiee"))
    assert _champs_de_la_page(repartir)["horaires_accueil"] != "Jamais"
    # And the structure is told at once, by e-mail, with why and where.
    with Session(app_p.extensions["db"]) as db:
        refus = db.exec(
            select(Notification).where(
                Notification.sujet.startswith("Modification refusée")
            )
        ).all()
    assert refus and all(raison in n.corps and URL in n.corps for n in refus)


def test_un_onglet_ouvert_avant_un_refus_ne_renvoie_pas_ce_qui_est_refuse(app_p):
    client = _prestataire(app_p)
    assert (
        client.post(URL, data=_formulaire(client, telephone="01 22 22 22 22"))
    ).status_code == 303
    # A tab opened now, on the proposal waiting.
    onglet = _formulaire(client, courriel="contact@garage.example")
    admin = _departement(app_p)
    rid = re.search(r"/pro/modifications/(\d+)/refuser",
                    texte(admin.get("/pro/modifications")))[1]  # fmt: skip
    poster(admin, f"/pro/modifications/{rid}/refuser", {"motif": "Téléphone faux."})
    # Saved from the old tab: the refused phone went out again, unsaid.
    reponse = client.post(URL, data=onglet)
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "Le département a refusé la modification dont ce formulaire part : « " in (
        page
    )
    assert "Téléphone faux." in page
    assert _champs_de_la_page(page)["courriel"] == "contact@garage.example"
    assert "Aucune modification en attente" in texte(admin.get("/pro/modifications"))
    # Read, then saved again: a new proposal, knowingly.
    assert client.post(URL, data=_champs_de_la_page(page)).status_code == 303
    assert "Proposée par" in texte(admin.get("/pro/modifications"))


def test_chaque_enregistrement_remplace_celui_qui_attend(app_p):
    # Three saves in a row: each starts from the one before, so the newest
    # holds them all and is the only one to decide on.
    client = _prestataire(app_p)
    for heures in ("9 h à 12 h", "9 h à 17 h", "8 h à 18 h"):
        reponse = client.post(URL, data=_formulaire(client, horaires_accueil=heures))
        assert reponse.status_code == 303
    admin = _departement(app_p)
    page = texte(admin.get("/pro/modifications"))
    assert page.count("Proposée par") == 1
    (derniere,) = re.findall(r"/pro/modifications/(\d+)/valider", page)
    premiere = int(derniere) - 2
    # Another tab of the département's page, still showing the first one.
    deja = poster(
        admin, f"/pro/modifications/{premiere}/valider", follow_redirects=True
    )
    assert (
        "Cette modification est comprise dans une plus récente, à valider ou à "
        "refuser ci-dessous." in texte(deja)
    )
    assert "9 h à 12 h" not in texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert poster(admin, f"/pro/modifications/{derniere}/valider").status_code == 303
    assert "8 h à 18 h" in texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert "Aucune modification en attente" in texte(admin.get("/pro/modifications"))
    with Session(app_p.extensions["db"]) as db:
        statuts = [
            db.get(revisions.RevisionFiche, i).statut
            for i in range(premiere, int(derniere) + 1)
        ]
        assert statuts == ["remplacee", "remplacee", "validee"]
        # One left waiting from before (older data) cannot be published
        # over the newer one.
        ancienne = db.get(revisions.RevisionFiche, premiere)
        ancienne.statut = revisions.PROPOSEE
        with pytest.raises(revisions.Depassee, match="plus récente de cette fiche"):
            revisions.decider(db, ancienne, revisions.VALIDEE, "essai")


def test_un_changement_refuse_ne_passe_pas_avec_le_suivant(app_p):
    # A new phone number proposed, then the hours: the département refused
    # the phone, then validated the hours, and the refused phone went out
    # with them (the second change held the first).
    client = _prestataire(app_p)
    poster_form = _formulaire(client, telephone="06 99 99 99 99")
    assert client.post(URL, data=poster_form).status_code == 303
    suite = _formulaire(client, horaires_accueil="Horaires P2")
    assert suite["telephone"] == "06 99 99 99 99"  # the form starts from it
    assert client.post(URL, data=suite).status_code == 303
    admin = _departement(app_p)
    page = texte(admin.get("/pro/modifications"))
    assert page.count("Proposée par") == 1
    assert "06 99 99 99 99" in page and "Horaires P2" in page
    rid = re.search(r"/pro/modifications/(\d+)/refuser", page)[1]
    motif = "Un numéro personnel ne se publie pas."
    assert (
        poster(admin, f"/pro/modifications/{rid}/refuser", {"motif": motif})
    ).status_code == 303
    publiee = texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert "06 99 99 99 99" not in publiee and "Horaires P2" not in publiee
    assert "Aucune modification en attente" in texte(admin.get("/pro/modifications"))
    # Its author reads why, above the form that takes up both changes.
    formulaire = texte(client.get(URL))
    assert motif in formulaire
    assert _champs_de_la_page(formulaire)["horaires_accueil"] == "Horaires P2"


def test_une_action_fermee_pendant_une_panne_de_l_index_en_sort_a_la_reprise(
    app_p, monkeypatch
):
    recherche = app_p.extensions["recherche"]

    def trouvee() -> bool:
        reponse = app_p.test_client().get("/api/v1/fiches?q=garage").get_json()
        return FICHE in [r["id"] for r in reponse["resultats"]]

    assert trouvee()
    client = _prestataire(app_p)
    client.post(URL, data={**_formulaire(client), "statut": "suspendue"})

    def en_panne(*_args, **_kwargs):
        raise RechercheIndisponible("index hors service")

    monkeypatch.setattr(recherche, "indexer", en_panne)
    monkeypatch.setattr(recherche, "maj_places", en_panne)
    admin = _valider_la_derniere(app_p)
    assert "validée et publiée" in texte(admin.get("/pro/modifications"))
    assert "Suspendue" in texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert trouvee()  # the index missed it...

    monkeypatch.undo()
    # ...and learns it at the next change of places, from the outbox.
    assert poster(client, f"/pro/places/{FICHE}", {"places": "4"}).status_code < 400
    assert not trouvee()


def test_deux_enregistrements_au_meme_instant_un_seul_prend_le_numero(
    app_p, monkeypatch
):
    """Both read « nothing since my number » before either wrote: the
    database's unique number lets one in, the other is told who came first."""
    fiche = app_p.extensions["catalogue"].fiches[FICHE]
    moteur = app_p.extensions["db"]
    with Session(moteur) as db:
        revisions.proposer(db, fiche, {"horaires_accueil": "Le matin"}, "Alice", 0)
        db.commit()
    lu_trop_tot = iter([[]])  # Bruno's check ran before Alice's write
    depuis = revisions._depuis
    monkeypatch.setattr(
        revisions, "_depuis", lambda *a: next(lu_trop_tot, None) or depuis(*a)
    )
    with Session(moteur) as db:
        with pytest.raises(revisions.Conflit) as conflit:
            revisions.proposer(db, fiche, {"conditions_acces": "Permis"}, "Bruno", 0)
        db.rollback()
        assert [r.auteur for r in conflit.value.autres] == ["Alice"]
    with Session(moteur) as db:
        assert [r.auteur for r in revisions.revisions(db, FICHE)] == ["Alice"]


def _sans_la_session(form: dict, debut: str) -> dict:
    """The form with that session's row emptied, as the page says to remove it."""
    rang = next(k.split("_")[1] for k, v in form.items() if v == debut)
    return {
        **form,
        **{f"session_{rang}_{p}": "" for p in ("debut", "fin", "places", "lieu")},
    }


def _places_dans_la_recherche(app, fiche_id: str):
    reponse = app.test_client().get("/api/v1/fiches?q=curriculum").get_json()
    return next(r for r in reponse["resultats"] if r["id"] == fiche_id)[
        "places_restantes"
    ]


def test_une_premiere_session_remplace_le_compte_de_toute_l_action(app_p):
    # Counted for the whole action until now: once it runs by session, the
    # old count no longer stands before the session's, in search or on the page.
    client = _prestataire(app_p)
    poster(client, f"/pro/places/{FICHE}", {"places": "7"})
    _ouvrir_la_session(app_p, client, "12")
    recherche = app_p.test_client().get("/api/v1/fiches?q=garage").get_json()
    trouve = next(r for r in recherche["resultats"] if r["id"] == FICHE)
    assert trouve["places_restantes"] == 12
    fiche = texte(app_p.test_client().get(f"/fiches/{FICHE}"))
    assert "mars 2031 – 12 places libres" in fiche
    assert "7 places" not in fiche
    tableau = texte(client.get("/pro/places"))
    assert "toute l'action" not in tableau
    assert "session du 2 mars 2031" in tableau


def test_un_compte_de_toute_l_action_a_cote_des_sessions_se_corrige(app_p):
    # Both written in the YAML: search shows the whole action's count, so
    # the board shows it too, and it can be cleared.
    client = _prestataire(app_p, structure="atelier-orne")
    with Session(app_p.extensions["db"]) as db:
        places.fixer(db, CV, 7, "fiche YAML")
        db.commit()
    assert "toute l'action" in texte(client.get("/pro/places"))
    reponse = poster(client, f"/pro/places/{CV}", {"session": "", "places": ""})
    assert reponse.status_code == 303
    assert "toute l'action" not in texte(client.get("/pro/places"))
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, CV)[""].places_restantes is None
    assert _places_dans_la_recherche(app_p, CV) == 5 + 1  # the sessions' again


def test_une_session_retiree_ne_compte_plus_ses_places(app_p):
    assert _places_dans_la_recherche(app_p, CV) == 5 + 1
    client = _prestataire(app_p, "atelier-orne")
    form = _sans_la_session(_formulaire(client, URL_CV), "2099-06-01")
    assert client.post(URL_CV, data=form).status_code == 303
    _valider_la_derniere(app_p)
    assert _places_dans_la_recherche(app_p, CV) == 5
    page = texte(app_p.test_client().get(f"/fiches/{CV}"))
    assert "mars 2099 – 5 places libres" in page
    assert "juin 2099" not in page


def _places_de_la_session(form: dict, debut: str, nombre: int) -> dict:
    rang = next(k.split("_")[1] for k, v in form.items() if v == debut)
    return {**form, f"session_{rang}_places": str(nombre)}


def test_des_places_ajoutees_a_une_session_s_ajoutent_aux_places_libres(app_p):
    """10 seats, 5 left; two more seats: 7 left. Then 3 seats: complet."""
    client = _prestataire(app_p, "atelier-orne")
    form = _places_de_la_session(_formulaire(client, URL_CV), "2099-03-01", 12)
    assert client.post(URL_CV, data=form).status_code == 303
    _valider_la_derniere(app_p)
    assert _places_dans_la_recherche(app_p, CV) == 7 + 1
    api = app_p.test_client().get(f"/api/v1/fiches/{CV}").get_json()
    assert [(s["debut"], s["places_restantes"]) for s in api["sessions"]] == [
        ("2099-03-01", 7),
        ("2099-06-01", 1),
    ]
    assert "mars 2099 – 7 places libres" in texte(
        app_p.test_client().get(f"/fiches/{CV}")
    )

    form = _places_de_la_session(_formulaire(client, URL_CV), "2099-03-01", 3)
    assert client.post(URL_CV, data=form).status_code == 303
    _valider_la_derniere(app_p)
    assert _places_dans_la_recherche(app_p, CV) == 0 + 1
    assert "mars 2099 – complet" in texte(app_p.test_client().get(f"/fiches/{CV}"))
    with Session(app_p.extensions["db"]) as db:
        journal = db.exec(
            select(JournalPlaces.avant, JournalPlaces.apres, JournalPlaces.motif)
            .where(JournalPlaces.session == "2099-03-01")
            .order_by(JournalPlaces.id)
        ).all()
    assert [tuple(j) for j in journal][-2:] == [
        (5, 7, "places de la session changées"),
        (7, 0, "places de la session changées"),
    ]


def test_une_session_qui_a_des_demandes_en_cours_reste(app_p):
    client = _prestataire(app_p, "atelier-orne")
    # Proposed while the session is empty...
    form = _sans_la_session(_formulaire(client, URL_CV), "2099-06-01")
    assert client.post(URL_CV, data=form).status_code == 303
    # ...then someone signs up for it before the département validates.
    personne = {**PERSONNE, "consentement": "oui", "session": "2099-06-01"}
    inscription = poster(app_p.test_client(), f"/fiches/{CV}/inscription", personne)
    assert inscription.status_code == 303

    admin = _departement(app_p)
    rid = re.search(r"/pro/modifications/(\d+)/valider",
                    texte(admin.get("/pro/modifications")))[1]  # fmt: skip
    poster(admin, f"/pro/modifications/{rid}/valider")
    page = texte(admin.get("/pro/modifications"))
    assert "La session du 01/06/2099 a encore 1 demande en cours" in page
    # A date to change is a session to keep: the way is said.
    assert "Pour changer sa date : gardez-la, ajoutez la session" in page
    assert "Proposée par" in page  # still waiting, nothing decided
    assert "juin 2099" in texte(app_p.test_client().get(f"/fiches/{CV}"))

    # Refused by the département, then proposed again: told at once, on the form.
    refus = {"motif": "Des personnes y sont encore inscrites."}
    assert poster(admin, f"/pro/modifications/{rid}/refuser", refus).status_code == 303
    # The form takes up the refused change, June's session still removed.
    form = _formulaire(client, URL_CV)
    assert "2099-06-01" not in form.values()
    reponse = client.post(URL_CV, data=form)
    assert reponse.status_code == 422
    assert "La session du 01/06/2099 a encore 1 demande en cours" in texte(reponse)


def test_un_yaml_modifie_apres_la_validation_l_emporte(
    creer_app_prescription, tmp_path
):
    """As for places: the file wins only when its date_maj is after the change."""
    shutil.copytree(PRESCRIPTION, tmp_path / "catalogue")
    dossiers = {
        "FICHES_DIR": str(tmp_path / "catalogue" / "fiches"),
        "STRUCTURES_DIR": str(tmp_path / "catalogue" / "structures"),
    }
    app = creer_app_prescription(dossiers)
    fiche = app.extensions["catalogue"].fiches[FICHE]
    with Session(app.extensions["db"]) as db:
        champs = {"horaires_accueil": "Le matin"}
        revision = revisions.proposer(db, fiche, champs, "Alice", 0).revision
        revisions.decider(
            db, revision, revisions.VALIDEE, "Dép.", datetime(2026, 3, 2, tzinfo=UTC)
        )
        db.commit()

    yaml_ = Path(dossiers["FICHES_DIR"]) / f"{FICHE}.yaml"
    original = yaml_.read_text(encoding="utf-8")

    def horaires_publies(date_maj: str, horaires: str) -> str:
        texte_ = re.sub(r"date_maj: .*", f"date_maj: {date_maj}", original)
        yaml_.write_text(texte_ + f"horaires_accueil: {horaires}\n", encoding="utf-8")
        # The next start of the service reads the file again.
        fiche = creer_app_prescription(dossiers).extensions["catalogue"].fiches[FICHE]
        return fiche.horaires_accueil

    assert horaires_publies("2026-03-01", "Le soir") == "Le matin"
    assert horaires_publies("2026-03-05", "L'après-midi") == "L'après-midi"


def _horaires_valides_dans_une_copie(creer_app_prescription, tmp_path, le=None):
    """A copy of the fiches, new hours of the garage validated (on ``le``):
    (its fiches folder, the app's folders)."""
    shutil.copytree(PRESCRIPTION, tmp_path / "catalogue")
    fiches = tmp_path / "catalogue" / "fiches"
    dossiers = {
        "FICHES_DIR": str(fiches),
        "STRUCTURES_DIR": str(tmp_path / "catalogue" / "structures"),
    }
    app = creer_app_prescription(dossiers)
    with Session(app.extensions["db"]) as db:
        fiche = app.extensions["catalogue"].fiches[FICHE]
        champs = {"horaires_accueil": "Du lundi au jeudi, 9 h à 17 h"}
        revision = revisions.proposer(db, fiche, champs, "Alice", 0).revision
        revisions.decider(db, revision, revisions.VALIDEE, "Dép.", le)
        db.commit()
    return fiches, dossiers


def test_un_texte_qui_ne_se_relit_pas_n_est_jamais_ecrit(
    creer_app_prescription, tmp_path, monkeypatch
):
    """Each text written is read back first, the whole-file one too (its
    fallback, and a fiche missing from the output folder): a writer's bug
    leaves the file as it was and says so, it never changes a fiche."""
    fiches, dossiers = _horaires_valides_dans_une_copie(
        creer_app_prescription, tmp_path
    )
    avant = (fiches / f"{FICHE}.yaml").read_text(encoding="utf-8")
    # A writer that loses the change: the key's block and the whole file.
    monkeypatch.setattr(revisions, "_blocs_remplaces", lambda texte, *_: texte)
    en_yaml = revisions.en_yaml
    monkeypatch.setattr(
        revisions, "en_yaml", lambda f: avant if f.id == FICHE else en_yaml(f)
    )
    commande = creer_app_prescription(dossiers).test_cli_runner()

    resultat = commande.invoke(args=["fiches", "exporter-yaml"])
    assert resultat.exit_code == 1
    assert f"Fiche non écrite : {FICHE}.yaml : le texte à écrire ne se relit" in (
        resultat.output
    )
    assert (fiches / f"{FICHE}.yaml").read_text(encoding="utf-8") == avant
    ailleurs = tmp_path / "sortie"
    resultat = commande.invoke(args=["fiches", "exporter-yaml", "--sortie", ailleurs])
    assert resultat.exit_code == 1
    assert not (ailleurs / f"{FICHE}.yaml").exists()
    assert (ailleurs / "velos-alencon.yaml").exists()  # it reads back: written


def test_l_export_yaml_n_ecrit_que_les_changements_valides(
    creer_app_prescription, tmp_path
):
    """Written back into the fiches' folder for a review by git diff: only
    the validated keys of the changed fiche; a file broken meanwhile by its
    author is left as it is, and named."""
    fiches, dossiers = _horaires_valides_dans_une_copie(
        creer_app_prescription, tmp_path, datetime(2026, 3, 2, tzinfo=UTC)
    )
    avant = {f.name: f.read_text(encoding="utf-8") for f in fiches.glob("*.yaml")}
    # Another fiche's author is midway through an edit: the file does not read.
    cassee = "cv-sessions-alencon.yaml"
    (fiches / cassee).write_text(avant[cassee] + "date_maj: 2026-02-30\n")

    # The command starts as a new process would.
    nouvelle = creer_app_prescription(dossiers)
    commande = nouvelle.test_cli_runner()
    resultat = commande.invoke(args=["fiches", "exporter-yaml"])

    assert resultat.exit_code == 1
    assert "1 fiches écrites" in resultat.output
    assert f"écrite : {FICHE}.yaml" in resultat.output
    assert f"{cassee}" in resultat.output and "laissés tels quels" in resultat.output
    apres = {f.name: f.read_text(encoding="utf-8") for f in fiches.glob("*.yaml")}
    assert apres[cassee] == avant[cassee] + "date_maj: 2026-02-30\n"
    changes = [nom for nom in avant if apres[nom] != avant[nom]]
    assert sorted(changes) == sorted([f"{FICHE}.yaml", cassee])
    # The fiche's comment, its key order and its one-line lists stay: the
    # diff is the new key and the day of the validation.
    ajoutees = set(apres[f"{FICHE}.yaml"].splitlines()) - set(
        avant[f"{FICHE}.yaml"].splitlines()
    )
    retirees = set(avant[f"{FICHE}.yaml"].splitlines()) - set(
        apres[f"{FICHE}.yaml"].splitlines()
    )
    assert ajoutees == {
        "horaires_accueil: Du lundi au jeudi, 9 h à 17 h",
        "date_maj: 2026-03-02",
    }
    assert retirees == {"date_maj: 2025-01-15"}
    (fiches / cassee).write_text(avant[cassee])
    relue = charger_catalogue(fiches, PRESCRIPTION / "structures", racine=ROOT)
    publiee = nouvelle.extensions["catalogue"].fiches[FICHE]
    assert publiee.horaires_accueil == "Du lundi au jeudi, 9 h à 17 h"
    assert relue.fiches[FICHE] == publiee
    # Run again: everything is up to date, nothing is written.
    deux = commande.invoke(args=["fiches", "exporter-yaml"])
    assert deux.exit_code == 0, deux.output
    assert "0 fiches écrites" in deux.output


def test_l_export_yaml_ne_rend_pas_les_places_prises_depuis_le_fichier(
    creer_app_prescription, tmp_path
):
    """The export dates the fiche from its validation: its sessions' seats
    then looked newer than the places taken before, and the next start put
    them back on sale."""
    shutil.copytree(PRESCRIPTION, tmp_path / "catalogue")
    fiches = tmp_path / "catalogue" / "fiches"
    dossiers = {
        "FICHES_DIR": str(fiches),
        "STRUCTURES_DIR": str(tmp_path / "catalogue" / "structures"),
    }
    # Windows line endings, kept by the export.
    chemin = fiches / f"{CV}.yaml"
    chemin.write_bytes(chemin.read_bytes().replace(b"\n", b"\r\n"))
    app = creer_app_prescription(dossiers)
    session_mars = places.cle_session(datetime(2099, 3, 1).date())
    with Session(app.extensions["db"]) as db:
        # Taken on 1 March 2026, before the validation (2 March).
        places.fixer(
            db, CV, 2, "Atelier", session=session_mars,
            maintenant=datetime(2026, 3, 1, tzinfo=UTC),
        )  # fmt: skip
        fiche = app.extensions["catalogue"].fiches[CV]
        champs = {**revisions.champs_de(fiche), "telephone": "02 33 00 00 09"}
        revision = revisions.proposer(db, fiche, champs, "Alice", 0).revision
        revisions.decider(
            db, revision, revisions.VALIDEE, "Dép.", datetime(2026, 3, 2, tzinfo=UTC)
        )
        db.commit()
    commande = creer_app_prescription(dossiers).test_cli_runner()
    resultat = commande.invoke(args=["fiches", "exporter-yaml"])
    assert resultat.exit_code == 0, resultat.output
    brut = chemin.read_bytes()
    assert b"places_maj_le: 2025-01-15\r\n" in brut
    assert b"date_maj: 2026-03-02\r\n" in brut and b"\n" not in brut.replace(
        b"\r\n", b""
    )
    # The next start reads the file: the 2 places left stay 2.
    redemarree = creer_app_prescription(dossiers)
    with Session(redemarree.extensions["db"]) as db:
        assert places.par_session(db, CV)[session_mars].places_restantes == 2


def test_une_fiche_dont_la_regle_le_permet_est_publiee_sans_attendre(
    creer_app_prescription, tmp_path
):
    shutil.copytree(PRESCRIPTION, tmp_path / "catalogue")
    yaml_ = tmp_path / "catalogue" / "fiches" / f"{FICHE}.yaml"
    yaml_.write_text(
        yaml_.read_text(encoding="utf-8") + "publication_modifications: prestataire\n",
        encoding="utf-8",
    )
    app = creer_app_prescription(
        FICHES_DIR=str(tmp_path / "catalogue" / "fiches"),
        STRUCTURES_DIR=str(tmp_path / "catalogue" / "structures"),
    )
    client = _prestataire(app)
    assert "publiées aussitôt enregistrées" in texte(client.get(URL))
    reponse = client.post(URL, data=_formulaire(client, horaires_accueil="Le soir"))
    assert reponse.status_code == 303
    assert "Modification publiée." in texte(client.get(URL))
    assert "Le soir" in texte(app.test_client().get(f"/fiches/{FICHE}"))
    assert "Aucune modification en attente" in texte(
        _departement(app).get("/pro/modifications")
    )
    with Session(app.extensions["db"]) as db:
        [revision] = revisions.revisions(db, FICHE)
        assert revision.statut == revisions.VALIDEE
        assert revision.decide_par == revision.auteur  # the prestataire, logged


def test_un_caractere_invisible_ou_un_texte_trop_long_est_refuse(app_p):
    client = _prestataire(app_p)
    donnees = _formulaire(
        client,
        horaires_accueil="Lundi \u202e21h-9h",  # would read « 9h-21h »
        conditions_acces="x" * 2001,
        # Lines are welcome, and a word processor's soft hyphen.
        documents="Pièce d'identité\nAvis d'impo\u00adsition",
        session_0_lieu="Salle\x1b 2",
        statut="fermee-pour-toujours",  # not one of the list
    )
    reponse = client.post(URL, data=donnees)
    assert reponse.status_code == 422
    page = texte(reponse)
    assert "choisissez un statut de la liste" in page
    assert "data/vocabulaires" not in page
    assert "Horaires : contient un caractère invisible" in page
    assert "Conditions d'accès : trop long : 2001 caractères, 2000 au plus" in page
    assert "Session 1, lieu : contient un caractère invisible" in page
    assert "Pièces à fournir :" not in page
    assert "Proposée par" not in texte(_departement(app_p).get("/pro/modifications"))


def test_un_texte_trop_long_ne_cache_pas_les_autres_erreurs(app_p):
    # Only « Horaires : trop long » came back; the other three appeared
    # once it was shortened, a second round trip for each.
    client = _prestataire(app_p)
    donnees = _formulaire(
        client,
        horaires_accueil="h" * 2500,
        telephone="abc",
        session_0_debut="2031-03-10",
        session_0_fin="2031-03-01",
        session_0_places="-4",
    )
    reponse = client.post(URL, data=donnees)
    assert reponse.status_code == 422
    page = texte(reponse)
    assert "4 points à corriger" in page
    assert "Horaires : trop long : 2500 caractères" in page
    assert "Téléphone :" in page
    assert "Session 1, fin : la session finit avant de commencer" in page
    assert "Session 1, places :" in page
    # What was typed comes back, the long text included.
    assert "h" * 2500 in page


def test_les_retours_a_la_ligne_d_un_navigateur_comptent_pour_un_caractere(app_p):
    # A textarea's line breaks arrive as CRLF: 10 lines of 199 letters were
    # « trop long : 2010 caractères », and « \r » went to the API and YAML.
    client = _prestataire(app_p)
    horaires = "\r\n".join(["a" * 199] * 10)
    reponse = client.post(URL, data=_formulaire(client, horaires_accueil=horaires))
    assert reponse.status_code == 303, texte(reponse)
    _valider_la_derniere(app_p)
    api = app_p.test_client().get(f"/api/v1/fiches/{FICHE}").get_json()
    assert api["horaires_accueil"] == "\n".join(["a" * 199] * 10)
    # And shown on as many lines (the stylesheet keeps them).
    page = app_p.test_client().get(f"/fiches/{FICHE}").get_data(as_text=True)
    assert f'<dd class="lignes">{"a" * 199}\n{"a" * 199}' in page
    css = (ROOT / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert ".lignes { white-space: pre-line;" in css


def test_une_session_sans_date_de_debut_le_dit_a_cote_du_champ(app_p):
    client = _prestataire(app_p)
    page = texte(client.get(URL))
    assert "Début <span" not in page or "(obligatoire pour une session)" in page
    reponse = client.post(URL, data=_formulaire(client, session_0_places="4"))
    assert reponse.status_code == 422
    page = texte(reponse)
    assert "indiquez la date de début de la session" in page
    assert "champ obligatoire absent" not in page


def test_un_formulaire_tronque_ou_fabrique_ne_vide_rien_et_ne_plante_pas(app_p):
    # A post missing fields (cut off, an old page, a script) was read as
    # « emptied » and proposed to erase them; an odd field name crashed.
    client = _prestataire(app_p)
    complet = _formulaire(client)
    for donnees in (
        {"csrf_token": complet["csrf_token"], "base": "0",
         "session_0_debut": "2027-01-01"},
        {k: v for k, v in complet.items() if k != "conditions_acces"},
        {**complet, "sessions_affichees": "9"},  # rows the page never had
        {**complet, "base": "x", "session_abc_debut": "1",
         "session_99999999_debut": "x"},
    ):  # fmt: skip
        reponse = client.post(URL, data=donnees)
        assert reponse.status_code == 400
        assert "Formulaire incomplet : rechargez la page." in texte(reponse)
    with Session(app_p.extensions["db"]) as db:
        assert revisions.revisions(db, FICHE) == []


def test_passer_aux_sessions_garde_les_demandes_en_cours_et_la_liste_d_attente(
    app_p,
):
    """Counted for the whole action, 2 places held and Chloé waiting; then
    a first session is added. The two keep a place, in that session, and
    are told; its places count them; Chloé, waiting, gets one of its free
    seats before any newcomer (the seats went to new requests)."""
    client = _prestataire(app_p)
    poster(client, f"/pro/places/{FICHE}", {"places": "2"})
    personne = {**PERSONNE, "commune": "Évry-Courcouronnes", "consentement": "oui"}
    for prenom in ("Awa", "Bruno", "Chloé"):
        envoi = {**personne, "prenom": prenom, "courriel": f"{prenom}@exemple.fr"}
        envoi.pop("telephone")
        if prenom == "Chloé":
            envoi["liste_attente"] = "oui"
        reponse = poster(app_p.test_client(), f"/fiches/{FICHE}/inscription", envoi)
        assert reponse.status_code == 303
    donnees = _formulaire(client, session_0_debut="2031-03-02", session_0_places="12")
    assert client.post(URL, data=donnees).status_code == 303
    admin = _valider_la_derniere(app_p)
    annonces = texte(admin.get("/pro/modifications"))
    assert (
        "Demandes en cours pour toute l'action placées dans les sessions : 2 à la "
        "session du 02/03/2031" in annonces
    )
    # Chloé, waiting, offered a seat: the département reads it too.
    assert "1 place des sessions proposée à la liste d'attente" in annonces
    with Session(app_p.extensions["db"]) as db:
        awa, bruno, chloe = db.exec(select(Prescription).order_by(Prescription.id))
        assert [(p.session, p.place_tenue) for p in (awa, bruno)] == [
            ("2031-03-02", True)
        ] * 2
        assert (chloe.statut, chloe.session, chloe.place_tenue) == (
            "demandee",
            "2031-03-02",
            True,
        )
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 9
        notes = list(db.exec(select(Notification)))
    sujets = [n.sujet for n in notes]
    # They had no date before: their place is now in a session, which is said.
    assert sujets.count("Votre session – Garage solidaire") == 2
    assert "Changement de date – Garage solidaire" not in sujets
    [corps, *_] = [n.corps for n in notes if n.sujet.startswith("Votre session")]
    assert "Votre place pour « Garage solidaire » est maintenant dans une session" in (
        corps
    )
    assert "02/03/2031" in corps
    assert "Une place pour vous – Garage solidaire" in sujets
    # Told at the validation, not at the next message someone else sends.
    assert all(n.envoye_le is not None for n in notes), [
        (n.sujet, n.envoye_le) for n in notes
    ]


def test_une_session_ouverte_sans_siege_puis_agrandie_place_les_demandes(app_p):
    """Awa and Bruno each hold a place of the whole action; a first session
    comes with 0 seats (« Places » read as places left): nobody can be put
    in it. Its seats then raised to 3: both take one before any newcomer,
    and 1 is left, not 3 while two requests have none."""
    client = _prestataire(app_p)
    poster(client, f"/pro/places/{FICHE}", {"places": "2"})
    personne = {**PERSONNE, "commune": "Évry-Courcouronnes", "consentement": "oui"}
    for prenom in ("Awa", "Bruno"):
        envoi = {
            **personne,
            "prenom": prenom,
            "telephone": f"06 12 34 56 {len(prenom)}0",
        }
        reponse = poster(app_p.test_client(), f"/fiches/{FICHE}/inscription", envoi)
        assert reponse.status_code == 303
    donnees = _formulaire(client, session_0_debut="2031-03-02", session_0_places="0")
    assert client.post(URL, data=donnees).status_code == 303
    annonces = texte(_valider_la_derniere(app_p).get("/pro/modifications"))
    assert "2 demandes en cours sans place dans une session : elles auront" in (
        annonces
    )
    assert (
        client.post(URL, data=_formulaire(client, session_0_places="3")).status_code
        == 303
    )
    annonces = texte(_valider_la_derniere(app_p).get("/pro/modifications"))
    assert (
        "Demandes en cours pour toute l'action placées dans les sessions : 2 à la "
        "session du 02/03/2031" in annonces
    )
    assert "sans place dans une session" not in annonces
    with Session(app_p.extensions["db"]) as db:
        demandes = list(db.exec(select(Prescription).order_by(Prescription.id)))
        assert [(p.session, p.place_tenue) for p in demandes] == [
            ("2031-03-02", True)
        ] * 2
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 1


def _ouvrir_la_session(app, client, sieges: str) -> None:
    """The prestataire adds the session of 02/03/2031, the département
    validates it."""
    donnees = _formulaire(client, session_0_debut="2031-03-02", session_0_places=sieges)
    assert client.post(URL, data=donnees).status_code == 303
    _valider_la_derniere(app)


def _trois_demandent_la_session(app, session: str) -> None:
    """Awa, Bruno and Chloé book that session themselves (a place each)."""
    personne = {**PERSONNE, "commune": "Évry-Courcouronnes", "consentement": "oui"}
    for prenom in ("Awa", "Bruno", "Chloé"):
        envoi = {**personne, "prenom": prenom, "session": session}
        envoi["telephone"] = f"06 12 34 56 {len(prenom)}{len(prenom)}"
        reponse = poster(app.test_client(), f"/fiches/{FICHE}/inscription", envoi)
        assert reponse.status_code == 303


def test_une_session_ne_descend_pas_sous_les_places_deja_tenues(app_p):
    # 3 seats, 3 people holding one; « 1 » was accepted, validated without a
    # word, and the session held 3 people on 1 seat.
    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "3")
    _trois_demandent_la_session(app_p, "2031-03-02")
    reponse = client.post(URL, data=_formulaire(client, session_0_places="1"))
    assert reponse.status_code == 422
    assert (
        "Session 1, places : 3 demandes en cours y tiennent déjà une place : au "
        "moins 3 places (pas 1)" in texte(reponse)
    )
    assert "Proposée par" not in texte(_departement(app_p).get("/pro/modifications"))


def test_une_proposition_depassee_par_les_demandes_attend_a_la_validation(app_p):
    # 2 seats proposed while none was held; 3 people booked before the check.
    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "5")
    assert (
        client.post(URL, data=_formulaire(client, session_0_places="2")).status_code
        == 303
    )
    _trois_demandent_la_session(app_p, "2031-03-02")
    admin = _valider_la_derniere(app_p)
    annonces = texte(admin.get("/pro/modifications"))
    assert "Session du 02/03/2031 : 3 demandes en cours y tiennent déjà" in annonces
    assert "Proposée par" in annonces  # still there, to decide on again
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 2
    # Said beside the proposal, not once: the département comes back to it,
    # and the structure reads it above its form.
    raison = (
        "Elle ne peut pas être publiée telle quelle, des demandes étant arrivées "
        "depuis : Session du 02/03/2031 : 3 demandes en cours y tiennent déjà une "
        "place : au moins 3 places (pas 2)"
    )
    assert raison in texte(admin.get("/pro/modifications"))
    assert raison in texte(client.get(URL))


def test_des_sieges_rendus_a_une_session_comptee_a_la_main_la_bornent(app_p):
    # Seats emptied, places left set by hand on the board, seats given back:
    # the hand count stayed, and 9 people came to hold 5 seats.
    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "3")
    _trois_demandent_la_session(app_p, "2031-03-02")
    assert (
        client.post(URL, data=_formulaire(client, session_0_places="")).status_code
        == 303
    )
    _valider_la_derniere(app_p)
    poster(client, f"/pro/places/{FICHE}", {"session": "2031-03-02", "places": "2"})
    assert (
        client.post(URL, data=_formulaire(client, session_0_places="3")).status_code
        == 303
    )
    _valider_la_derniere(app_p)
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 0


def test_un_compte_ecrit_avec_une_borne_lue_trop_tot_est_ramene_aux_sieges(app_p):
    """5 seats, 3 held: at most 2 left. A count written from a bound read
    before the third booking (3 left: 6 on 5 seats) is brought back."""
    from prescription import demandes

    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "5")
    _trois_demandent_la_session(app_p, "2031-03-02")
    with Session(app_p.extensions["db"]) as db:
        places.fixer(db, FICHE, 3, "tableau", session="2031-03-02")  # the stale write
        fiche = app_p.extensions["catalogue"].fiches[FICHE]
        demandes.borner_les_places(db, fiche, "2031-03-02", "tableau")
        db.commit()
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 2


def test_des_demandes_venues_pendant_la_publication_rendent_le_formulaire(
    app_p, monkeypatch
):
    # The département's own edit: checked, then 2 bookings came before its
    # publication; the page said « elle attend » and nothing was kept.
    from web import fiches_pro

    vrai, appels = fiches_pro._sieges_sous_les_demandes, []

    def apres_le_controle(nouvelle):
        appels.append(1)
        return {} if len(appels) == 1 else vrai(nouvelle)

    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "5")
    _trois_demandent_la_session(app_p, "2031-03-02")
    monkeypatch.setattr(fiches_pro, "_sieges_sous_les_demandes", apres_le_controle)
    admin = _departement(app_p)
    reponse = admin.post(
        URL, data=_formulaire(admin, session_0_places="2", horaires_accueil="Le soir")
    )
    assert reponse.status_code == 409
    page = texte(reponse)
    assert "Session du 02/03/2031 : 3 demandes en cours y tiennent déjà" in page
    assert "Le soir" in page  # what was typed, to mend and save again
    with Session(app_p.extensions["db"]) as db:
        assert revisions.revisions(db, FICHE)[-1].statut == revisions.VALIDEE
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 2


def test_les_places_d_une_session_se_bornent_a_ses_sieges_et_le_disent(app_p):
    # 0 typed in the session's « Places » (its seats, not the places left):
    # the board said « c'est la capacité de l'action », whose capacity is 10.
    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "0")
    reponse = poster(
        client, f"/pro/places/{FICHE}", {"session": "2031-03-02", "places": "2"}
    )
    assert (
        "Aucune place libre possible : c'est la capacité de la session du 02/03/2031 "
        "(à changer dans « Modifier la fiche »)." in texte(reponse)
    )


def test_des_places_donnees_a_une_session_deja_demandee_comptent_ses_demandes(
    app_p,
):
    """A session opened without a number of places, 3 people asked for it;
    then it is given 3 places: none is left (3 held), not 3 more to give
    (fewer than 3 is refused: test_une_session_ne_descend_pas_sous_…)."""
    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "")
    personne = {**PERSONNE, "commune": "Évry-Courcouronnes", "consentement": "oui"}
    for prenom in ("Awa", "Bruno", "Chloé"):
        envoi = {**personne, "prenom": prenom, "session": "2031-03-02"}
        reponse = poster(app_p.test_client(), f"/fiches/{FICHE}/inscription", envoi)
        assert reponse.status_code == 303
    donnees = _formulaire(client, session_0_places="3")
    assert client.post(URL, data=donnees).status_code == 303
    _valider_la_derniere(app_p)
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 0
        tenues = db.exec(select(Prescription).where(Prescription.place_tenue)).all()
    assert len(tenues) == 3
    recherche = app_p.test_client().get("/api/v1/fiches?q=garage").get_json()
    trouve = next(r for r in recherche["resultats"] if r["id"] == FICHE)
    assert trouve["places_restantes"] == 0


def test_passer_aux_sessions_ne_met_pas_plus_de_demandes_qu_une_session_n_a_de_places(
    app_p,
):
    """Three people asked for the whole action; the first session has 2
    seats, the next 5: the third goes to the next one, never 3 on 2."""
    client = _prestataire(app_p)
    personne = {**PERSONNE, "commune": "Évry-Courcouronnes", "consentement": "oui"}
    for prenom in ("Awa", "Bruno", "Chloé"):
        envoi = {**personne, "prenom": prenom, "courriel": f"{prenom}@exemple.fr"}
        poster(app_p.test_client(), f"/fiches/{FICHE}/inscription", envoi)
    donnees = _formulaire(
        client,
        session_0_debut="2031-03-02",
        session_0_places="2",
        session_1_debut="2031-04-06",
        session_1_places="5",
    )
    assert client.post(URL, data=donnees).status_code == 303
    _valider_la_derniere(app_p)
    with Session(app_p.extensions["db"]) as db:
        sessions = [
            p.session for p in db.exec(select(Prescription).order_by(Prescription.id))
        ]
        restantes = places.par_session(db, FICHE)
        assert sessions == ["2031-03-02", "2031-03-02", "2031-04-06"]
        assert restantes["2031-03-02"].places_restantes == 0
        assert restantes["2031-04-06"].places_restantes == 4


def test_des_places_retirees_puis_rendues_a_une_session_ne_s_inventent_pas(app_p):
    """5 seats, 3 held; cut to 3 (no fewer: they hold them) then back to 5:
    2 free, not 4 (7 on 5)."""
    client = _prestataire(app_p)
    _ouvrir_la_session(app_p, client, "5")
    personne = {**PERSONNE, "commune": "Évry-Courcouronnes", "consentement": "oui"}
    for prenom in ("Awa", "Bruno", "Chloé"):
        envoi = {**personne, "prenom": prenom, "session": "2031-03-02"}
        poster(app_p.test_client(), f"/fiches/{FICHE}/inscription", envoi)
    for sieges in ("3", "5"):
        donnees = _formulaire(client, session_0_places=sieges)
        assert client.post(URL, data=donnees).status_code == 303
        _valider_la_derniere(app_p)
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, FICHE)["2031-03-02"].places_restantes == 2
