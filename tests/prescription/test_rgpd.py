"""Personal data: wiped once the retention period is over, the figures kept;
shown and erased on request by the département, each step in the audit log."""

import json
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from catalogue import places
from prescription import rgpd
from prescription.modeles import Audit, Beneficiaire, Notification, Prescription
from tests.prescription.conftest import (
    PERSONNE,
    figures,
    poster,
    se_connecter,
    texte,
)

AWA = {**PERSONNE, "sexe": "femme", "tranche_age": "26-44"}
BINTA = {**PERSONNE, "prenom": "Binta", "nom": "Sow", "telephone": "06 98 76 54 32"}


def prescrire(app, personne: dict) -> int:
    referent = se_connecter(app.test_client(), "referent", prescripteur="referent-rsa")
    reponse = poster(
        referent,
        "/fiches/velos-alencon/prescrire",
        {**personne, "motif": "Reprend un emploi à Alençon", "engagement": "oui"},
    )
    assert reponse.status_code in (200, 303), texte(reponse)
    with Session(app.extensions["db"]) as db:
        return db.exec(select(Prescription.id).order_by(Prescription.id.desc())).first()


def prestataire(app):
    return se_connecter(app.test_client(), "prestataire", structure="atelier-orne")


def refuser(app, pid: int) -> None:
    reponse = poster(
        prestataire(app),
        f"/pro/prescriptions/{pid}/refuser",
        {"motif_refus": "injoignable"},
    )
    assert reponse.status_code == 303, texte(reponse)


def chiffres(app) -> dict:
    """Every table of the département's pilotage, small numbers shown."""
    return {cle: t.en_dict() for cle, t in figures(app, seuil=1).tableaux.items()}


def personne(app, pid: int) -> Beneficiaire:
    with Session(app.extensions["db"]) as db:
        p = db.get(Prescription, pid)
        return db.get(Beneficiaire, p.beneficiaire_id)


def audit(app, pid: int) -> list[str]:
    with Session(app.extensions["db"]) as db:
        return [
            a.quoi for a in db.exec(select(Audit).where(Audit.prescription_id == pid))
        ]


def test_apres_la_conservation_la_personne_est_anonymisee_les_chiffres_restent(
    app_p,
):
    close = prescrire(app_p, AWA)
    refuser(app_p, close)
    ouverte = prescrire(app_p, BINTA)  # still waiting: kept whatever its age
    avant = chiffres(app_p)
    origines = {
        ligne["cle"]: [c["nombre"] for c in ligne["cellules"]]
        for ligne in avant["origines"]["lignes"]
    }
    assert origines["total"][-1] == 2  # Awa and Binta, counted
    with Session(app_p.extensions["db"]) as db:
        messages_avant = len(db.exec(select(Notification)).all())
    maintenant = places.maintenant_utc()

    with Session(app_p.extensions["db"]) as db:
        # 23 months later: too early.
        bilan = rgpd.purger(db, maintenant + timedelta(days=23 * 30))
        db.commit()
    assert bilan.personnes_anonymisees == 0
    assert personne(app_p, close).nom == "Diallo"
    with Session(app_p.extensions["db"]) as db:
        au_referent = [n.corps for n in db.exec(select(Notification))]
    assert any("(Awa D.)" in corps for corps in au_referent)

    with Session(app_p.extensions["db"]) as db:
        bilan = rgpd.purger(db, maintenant + timedelta(days=25 * 31))
        db.commit()
    assert bilan.personnes_anonymisees == 1
    awa = personne(app_p, close)
    assert (awa.prenom, awa.nom, awa.telephone, awa.courriel) == (
        "",
        "Personne anonymisée",
        None,
        None,
    )
    assert (awa.sexe, awa.tranche_age, awa.commune_nom) == ("femme", "26-44", "Alençon")
    with Session(app_p.extensions["db"]) as db:
        p = db.get(Prescription, close)
        assert (p.statut, p.motif_refus, p.motif) == ("refusee", "injoignable", "")
        # Her messages (first name, personal link) are gone, Binta's stay.
        destinataires = {n.destinataire for n in db.exec(select(Notification))}
        assert "06 12 34 56 78" not in destinataires
        assert "06 98 76 54 32" in destinataires
        assert len(destinataires) < messages_avant
        # And those about her to her référent, which named her « Awa D. ».
        corps = [n.corps for n in db.exec(select(Notification))]
        assert not any("(Awa D.)" in c for c in corps)
    assert "anonymisation : conservation dépassée" in audit(app_p, close)
    assert personne(app_p, ouverte).nom == "Sow"
    assert chiffres(app_p) == avant
    # Once done, never again.
    with Session(app_p.extensions["db"]) as db:
        assert rgpd.purger(db, maintenant + timedelta(days=30 * 31)) == rgpd.Bilan(0, 0)


def test_le_journal_d_audit_a_sa_propre_duree_de_conservation(app_p):
    pid = prescrire(app_p, AWA)
    assert "création" in audit(app_p, pid)
    maintenant = places.maintenant_utc()
    with Session(app_p.extensions["db"]) as db:
        bilan = rgpd.purger(db, maintenant + timedelta(days=13 * 31), audit_mois=12)
        db.commit()
    assert bilan.audits_supprimes >= 1
    assert "création" not in audit(app_p, pid)
    # The request itself and its status history stay.
    assert personne(app_p, pid).nom == "Diallo"


def test_la_commande_purger_suit_la_configuration(creer_app_prescription):
    app = creer_app_prescription(RGPD_CONSERVATION_MOIS=6)
    pid = prescrire(app, AWA)
    refuser(app, pid)
    runner = app.test_cli_runner()
    assert (
        "0 personne(s) anonymisée(s)" in runner.invoke(args=["rgpd", "purger"]).output
    )
    with Session(app.extensions["db"]) as db:
        p = db.get(Prescription, pid)
        p.maj_le = places.maintenant_utc() - timedelta(days=7 * 31)
        db.add(p)
        db.commit()
    sortie = runner.invoke(args=["rgpd", "purger"]).output
    assert "1 personne(s) anonymisée(s)" in sortie
    assert personne(app, pid).telephone is None


def departement(app):
    return se_connecter(app.test_client(), "departement")


def test_le_departement_exporte_tout_ce_qui_est_garde_sur_une_personne(app_p):
    pid = prescrire(app_p, AWA)
    prescrire(app_p, BINTA)
    admin = departement(app_p)
    assert "Données d'une personne" in texte(admin.get("/pro/rgpd"))
    trouve = poster(admin, "/pro/rgpd", {"nom": "diallo", "contact": "0612345678"})
    # One person found, not the other one (read in the labels: a random
    # form token may hold any three letters).
    [trouvee] = re.findall(r'<label for="ids-\d+">(.*?)</label>', texte(trouve), re.S)
    assert "Awa Diallo, 06 12 34 56 78" in trouvee
    bid = personne(app_p, pid).id
    reponse = poster(
        admin,
        "/pro/rgpd/export",
        {"nom": "Diallo", "contact": "+33 6 12 34 56 78", "ids": str(bid)},
    )
    assert reponse.status_code == 200
    assert "attachment" in reponse.headers["Content-Disposition"]
    donnees = json.loads(reponse.get_data(as_text=True))
    [awa] = donnees["personnes"]
    assert awa["personne"]["prenom"] == "Awa"
    assert awa["personne"]["telephone"] == "06 12 34 56 78"
    [demande] = awa["demandes"]
    assert demande["fiche"] == "Prêt de vélos à Alençon"
    assert demande["motif"] == "Reprend un emploi à Alençon"
    assert [h["vers"] for h in demande["historique"]] == ["demandee"]
    assert awa["messages"] and all(
        m["destinataire"] == "06 12 34 56 78" for m in awa["messages"]
    )
    assert "recherche des données de la personne" in audit(app_p, pid)
    assert "export des données de la personne" in audit(app_p, pid)


def test_un_numero_d_outre_mer_se_retrouve_quelle_que_soit_son_ecriture(app_p):
    prescrire(app_p, {**AWA, "telephone": "0692 12 34 56"})  # La Réunion
    admin = departement(app_p)
    for contact in ("+262 692 12 34 56", "0692123456", "00262692123456"):
        trouve = texte(
            poster(admin, "/pro/rgpd", {"nom": "Diallo", "contact": contact})
        )
        assert "Awa Diallo, +262 692 12 34 56" in trouve, contact


def test_un_nom_accentue_se_retrouve_quelle_que_soit_son_ecriture(app_p):
    prescrire(app_p, {**AWA, "nom": "Élodie-Test"})
    admin = departement(app_p)
    variantes = ("Élodie-Test", "élodie-test", "ÉLODIE-TEST", "elodie test")
    # The dashes a phone or a word processor gives.
    for nom in (*variantes, "Elodie–Test", "élodie\u2011test"):
        recherche = {"nom": nom, "contact": "0612345678"}
        trouve = texte(poster(admin, "/pro/rgpd", recherche))
        assert "Awa Élodie-Test, 06 12 34 56 78" in trouve, nom


def test_une_recherche_incomplete_ou_une_selection_vide_est_expliquee(app_p):
    prescrire(app_p, AWA)
    admin = departement(app_p)
    reponse = poster(admin, "/pro/rgpd", {"nom": "Diallo"})
    assert reponse.status_code == 422
    assert "Indiquez son téléphone ou son adresse e-mail" in texte(reponse)
    assert 'value="Diallo"' in texte(reponse)
    reponse = poster(
        admin, "/pro/rgpd/export", {"nom": "Diallo", "contact": "06 12 34 56 78"}
    )
    assert reponse.status_code == 422
    assert "Cochez au moins une des fiches de la personne" in texte(reponse)
    # An id outside the search's results is never exported.
    reponse = poster(
        admin,
        "/pro/rgpd/export",
        {"nom": "Diallo", "contact": "06 12 34 56 78", "ids": "999"},
    )
    assert reponse.status_code == 422


def test_un_caractere_invisible_colle_dans_la_recherche_est_explique(app_p):
    prescrire(app_p, AWA)
    admin = departement(app_p)
    # PostgreSQL refuses a NUL byte in a query: it answered 500.
    reponse = poster(admin, "/pro/rgpd", {"nom": "Dia\x00llo", "contact": "06\x00"})
    assert reponse.status_code == 422
    assert "caractère invisible : retapez-le" in texte(reponse)
    reponse = poster(admin, "/pro/rgpd", {"nom": "Diallo", "contact": "06 12 34 56 78"})
    assert reponse.status_code == 200
    assert "Diallo" in texte(reponse)


def test_l_effacement_demande_confirmation_puis_annule_et_anonymise(app_p):
    pid = prescrire(app_p, AWA)
    with Session(app_p.extensions["db"]) as db:
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 2
    bid = personne(app_p, pid).id
    admin = departement(app_p)
    champs = {"nom": "Diallo", "contact": "06 12 34 56 78", "ids": str(bid)}
    reponse = poster(admin, "/pro/rgpd/effacer", champs)
    assert reponse.status_code == 422
    assert "rien n'a été effacé" in texte(reponse)
    assert personne(app_p, pid).nom == "Diallo"
    avant = chiffres(app_p)

    reponse = poster(admin, "/pro/rgpd/effacer", {**champs, "confirmation": "oui"})
    assert reponse.status_code == 200
    assert "Données effacées : 1 fiche de la personne anonymisée" in texte(reponse)
    assert "1 demande en cours annulée" in texte(reponse)
    awa = personne(app_p, pid)
    assert (awa.nom, awa.telephone, awa.sexe) == ("Personne anonymisée", None, "femme")
    with Session(app_p.extensions["db"]) as db:
        p = db.get(Prescription, pid)
        assert (p.statut, p.place_tenue) == ("annulee", False)
        assert places.par_session(db, "velos-alencon")[""].places_restantes == 3
    assert "effacement à la demande de la personne" in audit(app_p, pid)
    apres = chiffres(app_p)
    # Only the status moved (cancelled); by whom, for whom (sex, age) and
    # when it was asked stay as they were.
    for cle in ("origines", "ages", "mois"):
        assert apres[cle] == avant[cle], cle
    assert apres["parcours"] != avant["parcours"]
    # Erased people are not found again.
    trouve = poster(admin, "/pro/rgpd", {"nom": "Diallo", "contact": "06 12 34 56 78"})
    assert "Aucune donnée sur une personne de ce nom" in texte(trouve)


def test_un_mois_avant_tombe_toujours_sur_un_jour_du_calendrier():
    fin_mars = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert rgpd.mois_avant(fin_mars, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    # Further back than the year 1 it looped for ever (the purge never ended).
    assert rgpd.mois_avant(fin_mars, 999_999).year == 1
