"""Every route, every role: who may, who may not (htmx fragments included)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from catalogue import places as places_
from catalogue import revisions
from catalogue.territoires import referentiel
from prescription import demandes, liens, workflow
from prescription.demandes import Acteur, Demande, Personne
from prescription.droits import Droits
from prescription.modeles import (
    ORIGINE_REFERENT,
    Adhesion,
    Prescription,
    StructurePro,
    Utilisateur,
)
from tests.prescription.conftest import PERSONNE, jeton_csrf, se_connecter, texte

ROLES = (
    "anonyme",
    "lien",
    "referent",
    "autre_prestataire",
    "prestataire",
    "departement",
)
A, R = True, False  # autorisé, refusé
NUMEROS = itertools.count(1)
FICHE = "garage-evry"  # run by garage-essonne; atelier-orne is "another structure"
TEMOIN = "temoin@exemple.fr"  # an account the admin rows give and take roles to

# The person of nouvelle_demande, as the département looks her up.
RGPD = {"nom": "Diallo", "contact": "06 12 34 56 78", "ids": "{bid}"}
# (endpoint, method, url, htmx, form) -> allowed for each role, in ROLES order.
MATRICE = [
    ("prescription.inscription", "GET", "/fiches/{fiche}/inscription", False, {},
     (A, A, A, A, A, A)),
    ("prescription.suivi", "GET", "/suivi/{suivi}", False, {}, (R, A, R, R, R, R)),
    ("prescription.suivi_annuler", "GET", "/suivi/{suivi}/annuler", False, {},
     (R, A, R, R, R, R)),
    ("prescription.suivi_annuler", "POST", "/suivi/{suivi}/annuler", False,
     {"confirmer": "oui"}, (R, A, R, R, R, R)),
    ("prescription.places_lien", "GET", "/places/{places}", False, {},
     (R, A, R, R, R, R)),
    ("prescription.places_lien", "POST", "/places/{places}", False, {"places": "7"},
     (R, A, R, R, R, R)),
    ("prescription.prescrire", "GET", "/fiches/{fiche}/prescrire", False, {},
     (R, R, A, R, R, R)),
    ("prescription.prescrire", "POST", "/fiches/{fiche}/prescrire", False,
     {**PERSONNE, "motif": "Voiture en panne", "engagement": "oui",
      "hors_zone": "oui"},
     (R, R, A, R, R, R)),
    ("prescription.mes_prescriptions", "GET", "/pro/prescriptions", False, {},
     (R, R, A, R, R, R)),
    ("prescription.demandes_recues", "GET", "/pro/demandes", False, {},
     (R, R, R, A, A, R)),
    ("prescription.export", "GET", "/pro/demandes.csv", False, {}, (R, R, R, A, A, R)),
    ("prescription.detail", "GET", "/pro/prescriptions/{pid}", False, {},
     (R, R, A, R, A, R)),
    ("prescription.detail", "GET", "/pro/prescriptions/{pid}", True, {},
     (R, R, A, R, A, R)),
    ("prescription.transition", "POST", "/pro/prescriptions/{pid}/annuler", False,
     {"confirmer": "oui"},
     (R, R, A, R, A, R)),
    ("prescription.transition", "POST", "/pro/prescriptions/{pid}/accepter", True, {},
     (R, R, R, R, A, R)),
    ("prescription.transition", "GET", "/pro/prescriptions/{pid}/accepter", False,
     {}, (R, R, A, R, A, R)),
    ("prescription.inscrire", "GET", "/pro/fiches/{fiche}/inscrire", False, {},
     (R, R, R, R, A, R)),
    ("prescription.inscrire", "POST", "/pro/fiches/{fiche}/inscrire", False, PERSONNE,
     (R, R, R, R, A, R)),
    # The waiting list: the fiche's own structure alone.
    ("prescription.liste_attente", "GET", "/pro/fiches/{fiche}/attente", False, {},
     (R, R, R, R, A, R)),
    ("prescription.attente_proposer", "POST",
     "/pro/fiches/{fiche}/attente/{attente}/proposer", False, {}, (R, R, R, R, A, R)),
    ("prescription.attente_proposer", "POST",
     "/pro/fiches/{fiche}/attente/{attente}/proposer", True, {}, (R, R, R, R, A, R)),
    ("prescription.attente_retirer", "GET",
     "/pro/fiches/{fiche}/attente/{attente}/retirer", False, {}, (R, R, R, R, A, R)),
    ("prescription.attente_retirer", "POST",
     "/pro/fiches/{fiche}/attente/{attente}/retirer", False,
     {"confirmer": "oui", "motif_refus": "complet"}, (R, R, R, R, A, R)),
    ("prescription.tableau", "GET", "/pro/places", False, {}, (R, R, R, A, A, R)),
    ("prescription.changer_places", "POST", "/pro/places/{fiche}", False,
     {"places": "4"}, (R, R, R, R, A, R)),
    ("prescription.changer_places", "POST", "/pro/places/{fiche}", True,
     {"ecart": "+1"}, (R, R, R, R, A, R)),
    ("prescription.changer_places", "GET", "/pro/places/{fiche}", False, {},
     (R, R, R, R, A, R)),
    ("prescription.lien_places", "POST", "/pro/places/{fiche}/lien", False, {},
     (R, R, R, R, A, R)),
    ("prescription.revoquer_liens_places", "POST", "/pro/places/{fiche}/lien/revoquer",
     False, {}, (R, R, R, R, A, R)),
    ("prescription.avis_structure", "POST", "/pro/avis/{structure}", False,
     {"avis": "resume"}, (R, R, R, R, A, R)),
    ("prescription.indicateurs_page", "GET", "/pro/indicateurs", False, {},
     (R, R, R, R, R, A)),
    ("prescription.accueil", "GET", "/pro/", False, {}, (R, R, A, A, A, A)),
    ("pilotage.page", "GET", "/pro/pilotage", False, {}, (R, R, R, A, A, A)),
    ("pilotage.export", "GET", "/pro/pilotage/origines.csv", False, {},
     (R, R, R, A, A, A)),
    ("pilotage.api", "GET", "/api/v1/pilotage", False, {}, (R, R, R, A, A, A)),
    ("pilotage.importer", "POST", "/pro/pilotage/historique", False, {},
     (R, R, R, R, R, A)),
    ("fiches_pro.modifier", "GET", "/pro/fiches/{fiche}/modifier", False, {},
     (R, R, R, R, A, A)),
    ("fiches_pro.modifier", "POST", "/pro/fiches/{fiche}/modifier", False,
     {"base": "{base}", "horaires_accueil": "Le matin"}, (R, R, R, R, A, A)),
    ("fiches_pro.modifications", "GET", "/pro/modifications", False, {},
     (R, R, R, R, R, A)),
    ("fiches_pro.decider", "POST", "/pro/modifications/{rid}/valider", False, {},
     (R, R, R, R, R, A)),
    ("fiches_pro.decider", "POST", "/pro/modifications/{rid}/refuser", False, {},
     (R, R, R, R, R, A)),
    ("admin.structures", "GET", "/pro/structures", False, {}, (R, R, R, R, R, A)),
    ("admin.creer", "POST", "/pro/structures", False,
     {"nom_structure": "Mission locale", "type": "service-prescripteur"},
     (R, R, R, R, R, A)),
    ("admin.ajouter_membre", "POST", "/pro/structures/{departement}/membres", False,
     {"courriel": TEMOIN, "role": "departement_admin"}, (R, R, R, R, R, A)),
    ("admin.retirer_membre", "POST", "/pro/structures/{service}/membres/{aid}/retirer",
     False, {}, (R, R, R, R, R, A)),
    ("connexion.connexion", "GET", "/connexion", False, {}, (A, A, A, A, A, A)),
    ("connexion.demo", "POST", "/connexion/demo", False, {"role": "departement"},
     (A, A, A, A, A, A)),
    ("connexion.deconnexion", "POST", "/deconnexion", False, {}, (A, A, A, A, A, A)),
    # A person's data (RGPD): the département admin alone.
    ("prescription.rgpd_personne", "GET", "/pro/rgpd", False, {}, (R, R, R, R, R, A)),
    ("prescription.rgpd_personne", "POST", "/pro/rgpd", False, RGPD,
     (R, R, R, R, R, A)),
    ("prescription.rgpd_export", "POST", "/pro/rgpd/export", False, RGPD,
     (R, R, R, R, R, A)),
    ("prescription.rgpd_effacer", "POST", "/pro/rgpd/effacer", False,
     {**RGPD, "confirmation": "oui"}, (R, R, R, R, R, A)),
]  # fmt: skip
# Tested with a real OpenID provider in test_connexion.py.
HORS_MATRICE = {"connexion.proconnect", "connexion.retour"}
# Routes naming a request by its number, and the logged-in roles that may not
# see this request at all.
PAR_NUMERO = {"prescription.detail", "prescription.transition"}
SANS_ACCES = {"autre_prestataire", "departement"}


@pytest.fixture
def monde(app_p):
    """A référent's request to garage-essonne, and one client per role."""
    clients = {role: app_p.test_client() for role in ROLES}
    se_connecter(clients["referent"], "referent", prescripteur="referent-rsa")
    se_connecter(clients["autre_prestataire"], "prestataire", structure="atelier-orne")
    se_connecter(clients["prestataire"], "prestataire", structure="garage-essonne")
    se_connecter(clients["departement"], "departement")
    return clients


def nouvelle_demande(app) -> dict:
    fiche = app.extensions["catalogue"].fiches[FICHE]
    secret = app.config["SECRET_KEY"]
    with Session(app.extensions["db"]) as db:
        # Earlier rows may have set places: keep them untracked, never full;
        # their requests closed, so that they hold none of the capacity.
        places_.fixer(db, FICHE, None, "essai")
        for ancienne in db.exec(
            select(Prescription).where(
                Prescription.fiche_id == FICHE,
                Prescription.statut.in_(workflow.TIENNENT_UNE_PLACE),
            )
        ):
            ancienne.statut = workflow.ANNULEE
            db.add(ancienne)
        referent = db.exec(
            select(Utilisateur).where(Utilisateur.sub == "referent-referent-rsa")
        ).one()
        # A new person each time: the same one twice would be a duplicate.
        personne = Personne(
            f"Awa{next(NUMEROS)}",
            "Diallo",
            telephone="06 12 34 56 78",
            commune=referentiel().trouver("Évry-Courcouronnes"),
        )
        demande = Demande(
            fiche,
            personne,
            ORIGINE_REFERENT,
            structure_prescriptrice=Droits.lire(db, referent).service,
        )
        liens_ = type(
            "L",
            (),
            {
                "suivi": lambda s, p: "",
                "pro": lambda s, p: "",
                "courriel_structure": lambda s, x: None,
            },
        )()
        p = demandes.creer(db, demande, Acteur("referent", "r", referent.id), liens_)
        # And someone on the waiting list of the full action.
        places_.fixer(db, FICHE, 0, "essai")
        attente = demandes.creer(
            db,
            Demande(
                fiche,
                Personne(
                    f"Bruno{next(NUMEROS)}",
                    "Leroy",
                    telephone="06 98 76 54 32",
                    commune=personne.commune,
                ),
                ORIGINE_REFERENT,
                liste_attente=True,
                structure_prescriptrice=demande.structure_prescriptrice,
            ),
            Acteur("referent", "r", referent.id),
            liens_,
        ).prescription
        places_.fixer(db, FICHE, None, "essai")
        suivi = liens.creer(
            db, secret, "prescription", str(p.prescription.id), timedelta(days=1)
        )
        places = liens.creer(db, secret, "places", FICHE, timedelta(days=1))
        garage = db.exec(
            select(StructurePro).where(
                StructurePro.structure_catalogue == "garage-essonne"
            )
        ).one()
        revision = _revision_proposee(app, db)
        service = Droits.lire(db, referent).service
        adhesion = _adhesion_du_temoin(db, service)
        db.commit()
        return {
            "structure": garage.id,
            "bid": p.prescription.beneficiaire_id,
            "pid": p.prescription.id,
            "attente": attente.id,
            "suivi": suivi,
            "places": places,
            "fiche": FICHE,
            "base": revisions.dernier_numero(db, FICHE),
            "rid": revision.id,
            "service": service.id,
            "departement": db.exec(
                select(StructurePro.id).where(StructurePro.type == "departement")
            ).one(),
            "aid": adhesion.id,
        }


def _revision_proposee(app, db):
    """A change of the fiche waiting for the département, as it stands."""
    fiche = app.extensions["catalogue"].fiches[FICHE]
    base = revisions.dernier_numero(db, FICHE)
    champs = revisions.champs_de(fiche)
    return revisions.proposer(db, fiche, champs, "essai", base).revision


def _adhesion_du_temoin(db, service) -> Adhesion:
    temoin = db.exec(select(Utilisateur).where(Utilisateur.courriel == TEMOIN)).first()
    if temoin is None:
        temoin = Utilisateur(
            idp="essai", sub="temoin", courriel=TEMOIN, cree_le=datetime.now(UTC)
        )
        db.add(temoin)
        db.flush()
    cle = {"utilisateur_id": temoin.id, "structure_id": service.id, "role": "referent"}
    adhesion = db.exec(select(Adhesion).filter_by(**cle)).first() or Adhesion(**cle)
    db.add(adhesion)
    db.flush()
    return adhesion


def autorise(reponse) -> bool:
    if reponse.status_code in (401, 403, 404, 410, 422):
        return False
    assert reponse.status_code < 500, texte(reponse)
    return not reponse.headers.get("Location", "").startswith("/connexion")


def test_chaque_route_avec_chaque_role(app_p, monde):
    routes = {
        r.endpoint
        for r in app_p.url_map.iter_rules()
        if r.endpoint.split(".")[0]
        in ("prescription", "connexion", "pilotage", "fiches_pro", "admin")
    }
    assert routes - HORS_MATRICE == {ligne[0] for ligne in MATRICE}
    for endpoint, methode, modele, en_htmx, form, attendus in MATRICE:
        for role, attendu in zip(ROLES, attendus, strict=True):
            valeurs = nouvelle_demande(app_p)
            if role != "lien":
                # Anybody else knows the address, not the signed link.
                valeurs["suivi"] = valeurs["places"] = "faux.jeton.signe"
            client = monde[role]
            entetes = {"HX-Request": "true"} if en_htmx else {}
            url = modele.format(**valeurs)
            if methode == "GET":
                reponse = client.get(url, headers=entetes)
            else:
                donnees = {k: v.format(**valeurs) for k, v in form.items()}
                donnees["csrf_token"] = jeton_csrf(client)
                reponse = client.post(url, data=donnees, headers=entetes)
            assert autorise(reponse) is attendu, (
                endpoint,
                methode,
                en_htmx,
                role,
                reponse.status_code,
            )
            if endpoint in PAR_NUMERO and role in SANS_ACCES:
                # Refused like a missing one: 404, never 403 (no enumeration).
                assert reponse.status_code == 404, (endpoint, role)
            if endpoint == "connexion.deconnexion" or (
                endpoint == "connexion.demo" and role != "anonyme"
            ):
                # Those two changed who is logged in: log the role back in.
                monde[role] = _de_nouveau(app_p, role)


def _de_nouveau(app, role):
    client = app.test_client()
    champs = {
        "referent": {"role": "referent", "prescripteur": "referent-rsa"},
        "autre_prestataire": {"role": "prestataire", "structure": "atelier-orne"},
        "prestataire": {"role": "prestataire", "structure": "garage-essonne"},
        "departement": {"role": "departement"},
    }.get(role)
    if champs:
        se_connecter(client, champs.pop("role"), **champs)
    return client


def test_un_autre_prestataire_ne_voit_pas_les_personnes_d_une_autre_structure(
    app_p, monde
):
    nouvelle_demande(app_p)
    assert "Diallo" in texte(monde["prestataire"].get("/pro/demandes"))
    assert "Diallo" in texte(monde["prestataire"].get("/pro/demandes.csv"))
    assert "Diallo" not in texte(monde["autre_prestataire"].get("/pro/demandes"))
    assert "Diallo" not in texte(monde["autre_prestataire"].get("/pro/demandes.csv"))
    # A file of everything under a filter's name would mislead.
    faux_filtre = monde["prestataire"].get("/pro/demandes.csv?statut=en-cours")
    assert faux_filtre.status_code == 422
    assert "Statut inconnu : « en-cours »" in texte(faux_filtre)
    assert "Diallo" not in texte(faux_filtre)


def test_une_action_illisible_dans_l_adresse_des_listes_est_dite(app_p, monde):
    nouvelle_demande(app_p)
    # A NUL byte in the filter: PostgreSQL refused the query (500).
    for client, url in (
        (monde["prestataire"], "/pro/demandes"),
        (monde["referent"], "/pro/prescriptions"),
    ):
        liste = client.get(f"{url}?fiche=velos%00alencon")
        assert liste.status_code == 200
        assert "Action illisible dans l'adresse" in texte(liste)
        assert "Diallo" in texte(liste)
    fichier = monde["prestataire"].get("/pro/demandes.csv?fiche=velos%00alencon")
    assert fichier.status_code == 422
    assert "Diallo" not in texte(fichier)


def test_un_fragment_htmx_sans_connexion_renvoie_vers_la_connexion(client_p):
    reponse = client_p.get("/pro/prescriptions/1", headers={"HX-Request": "true"})
    assert reponse.status_code == 401
    assert reponse.headers["HX-Redirect"] == "/connexion"


def test_une_demande_d_autrui_et_une_demande_absente_donnent_la_meme_page(app_p, monde):
    """Nobody learns which request numbers exist; the attempt is kept."""
    pid = nouvelle_demande(app_p)["pid"]
    curieux = monde["autre_prestataire"]
    for url in (f"/pro/prescriptions/{pid}", f"/pro/prescriptions/{pid}/accepter"):
        absente = url.replace(str(pid), str(pid + 1000), 1)
        if url.endswith("accepter"):
            jeton = {"csrf_token": jeton_csrf(curieux)}
            vue, inconnue = (
                curieux.post(url, data=jeton),
                curieux.post(absente, data=jeton),
            )
        else:
            vue, inconnue = curieux.get(url), curieux.get(absente)
        assert vue.status_code == inconnue.status_code == 404
        assert texte(vue) == texte(inconnue)
    with Session(app_p.extensions["db"]) as db:
        curieux_id = (
            db.exec(
                select(Utilisateur).where(Utilisateur.sub == "prestataire-atelier-orne")
            )
            .one()
            .id
        )
        refus = [
            a.quoi
            for a in demandes.journal_d_audit(db, pid)
            if a.qui == f"utilisateur {curieux_id}"
        ]
        assert refus == ["accès refusé (GET)", "accès refusé (POST)"]
        assert db.get(Prescription, pid).statut == "demandee"


def test_un_prestataire_ne_voit_que_les_chiffres_de_ses_actions(app_p, monde):
    for _ in range(5):
        nouvelle_demande(app_p)  # to garage-essonne's action

    def total(role: str) -> int:
        corps = monde[role].get("/api/v1/pilotage").get_json()
        return corps["tableaux"]["origines"]["lignes"][-1]["cellules"][-1]["nombre"]

    # Each nouvelle_demande: one request and one on the waiting list.
    assert total("departement") == 10
    assert total("prestataire") == 10
    assert total("autre_prestataire") == 0
    page = texte(monde["autre_prestataire"].get("/pro/pilotage"))
    assert "Garage solidaire" not in page
    autre = monde["autre_prestataire"].get("/pro/pilotage?fiche=garage-evry")
    assert autre.status_code == 400
    assert "Action inconnue ici : « garage-evry »" in texte(autre)
