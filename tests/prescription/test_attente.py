"""The waiting list as the prestataire manages it: in order, offer a place,
take someone off the list with a reason; each step journaled and told."""

from sqlmodel import Session, select

from catalogue import places
from prescription.modeles import (
    Beneficiaire,
    Notification,
    Prescription,
    Transition,
    Utilisateur,
)
from tests.prescription.conftest import PERSONNE, poster, se_connecter, texte
from tests.prescription.test_parcours import remplir, restantes
from web import affichage as aff

LISTE = "/pro/fiches/velos-alencon/attente"


def en_attente(app, prenom: str, par: str = "personne") -> int:
    """Put someone on the full action's waiting list; her request's number."""
    donnees = {
        **PERSONNE,
        "prenom": prenom,
        "nom": "Leroy",
        "courriel": f"{prenom.lower()}@exemple.fr",
        "liste_attente": "oui",
    }
    if par == "referent":
        client = se_connecter(
            app.test_client(), "referent", prescripteur="referent-rsa"
        )
        donnees.update(motif="Reprend un emploi.", engagement="oui")
        reponse = poster(client, "/fiches/velos-alencon/prescrire", donnees)
        # What the référent reads next: the waiting list, not « envoyée ».
        suite = texte(client.get(reponse.headers["Location"]))
        assert "inscrite sur la liste d'attente : elle sera prévenue" in suite
        assert "Demande envoyée : la structure va vous répondre" not in suite
    else:
        donnees["consentement"] = "oui"
        reponse = poster(
            app.test_client(), "/fiches/velos-alencon/inscription", donnees
        )
    assert reponse.status_code == 303
    with Session(app.extensions["db"]) as db:
        p = db.exec(
            select(Prescription)
            .join(Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id)
            .where(Beneficiaire.prenom == prenom)
        ).one()
        assert p.statut == "liste_attente"
        return p.id


def demande(app, pid: int) -> Prescription:
    with Session(app.extensions["db"]) as db:
        return db.get(Prescription, pid)


def messages_a(app, destinataire: str) -> list[Notification]:
    with Session(app.extensions["db"]) as db:
        return list(
            db.exec(
                select(Notification)
                .where(Notification.destinataire == destinataire)
                .order_by(Notification.id)
            )
        )


def journal(app, pid: int) -> list[Transition]:
    with Session(app.extensions["db"]) as db:
        return list(
            db.exec(
                select(Transition)
                .where(Transition.prescription_id == pid)
                .order_by(Transition.id)
            )
        )


def courriel_du_referent(app) -> str:
    with Session(app.extensions["db"]) as db:
        return (
            db.exec(
                select(Utilisateur).where(Utilisateur.sub == "referent-referent-rsa")
            )
            .one()
            .courriel
        )


def test_le_prestataire_voit_la_liste_dans_l_ordre_et_propose_une_place(app_p):
    remplir(app_p)
    bruno = en_attente(app_p, "Bruno", par="referent")
    chloe = en_attente(app_p, "Chloé")
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    tableau = texte(prestataire.get("/pro/places"))
    assert "Liste d'attente (2 personnes)" in tableau
    page = texte(prestataire.get(LISTE))
    # First come first: Bruno, then Chloé; when, and who asked.
    assert page.index("Bruno Leroy") < page.index("Chloé Leroy")
    aujourd_hui = aff.date_fr(places.maintenant_utc().date())
    assert f"Sur la liste depuis le {aujourd_hui}. Prescrite par Référente Démo" in page
    assert "Service de démonstration" in page
    assert "Inscription par la personne elle-même." in page
    assert "Aucune place libre · 2 personnes en attente" in page
    # Full: the offer is refused in French and nothing changes.
    refus = poster(prestataire, f"{LISTE}/{chloe}/proposer")
    assert refus.status_code == 422
    assert (
        "Chloé Leroy reste sur la liste. Plus de place libre : rien n'a changé"
        in texte(refus)
    )
    assert demande(app_p, chloe).statut == "liste_attente"
    # A place came free outside the portal: the prestataire offers it to
    # Chloé (her situation fits), not necessarily the first, in one tap.
    assert "Ajouter une place et la lui proposer" in texte(refus)
    offre = poster(prestataire, f"{LISTE}/{chloe}/proposer", {"ajouter": "oui"})
    assert offre.status_code == 303
    page = texte(prestataire.get(offre.headers["Location"]))
    assert "une place est proposée à Chloé Leroy" in page
    assert "Chloé Leroy" not in page.split("Retour à mes places")[1]
    p = demande(app_p, chloe)
    assert (p.statut, p.place_tenue) == ("demandee", True)
    assert restantes(app_p, "velos-alencon") == 0
    assert demande(app_p, bruno).statut == "liste_attente"
    [message] = [m for m in messages_a(app_p, "chloé@exemple.fr") if "place" in m.sujet]
    assert "Une place est libre pour vous" in message.corps
    t = journal(app_p, chloe)[-1]
    assert (t.action, t.de, t.vers) == ("proposer", "liste_attente", "demandee")
    assert t.par.startswith("utilisateur ")
    # Her request now waits for the prestataire's answer, as any other.
    detail = texte(prestataire.get(f"/pro/prescriptions/{chloe}"))
    assert "Place proposée (liste d'attente)" in detail
    assert ">Accepter</button>" in detail
    # A place added in « Mes places » goes to the first waiting at once: a
    # newcomer used to take it, and Bruno was passed over.
    ajout = poster(prestataire, "/pro/places/velos-alencon", {"ecart": "+1"})
    assert "1 place proposée à la première personne de la liste d'attente" in texte(
        prestataire.get(ajout.headers["Location"])
    )
    assert demande(app_p, bruno).statut == "demandee"
    assert restantes(app_p, "velos-alencon") == 0


def test_une_place_ajoutee_va_a_la_liste_d_attente_pas_au_nouveau_venu(app_p):
    remplir(app_p)
    bruno = en_attente(app_p, "Bruno", par="referent")
    chloe = en_attente(app_p, "Chloé")
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    poster(prestataire, "/pro/places/velos-alencon", {"places": "1"})
    assert demande(app_p, bruno).statut == "demandee"
    assert demande(app_p, chloe).statut == "liste_attente"
    # The newcomer finds it full, and may wait too.
    nouveau = {**PERSONNE, "prenom": "Eli", "nom": "Martin", "consentement": "oui"}
    reponse = poster(app_p.test_client(), "/fiches/velos-alencon/inscription", nouveau)
    assert "complet" in texte(reponse).lower()
    assert restantes(app_p, "velos-alencon") == 0


def test_avec_htmx_la_liste_se_met_a_jour_sur_place(app_p):
    remplir(app_p)
    chloe = en_attente(app_p, "Chloé")
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    htmx = {"HX-Request": "true"}
    refus = poster(prestataire, f"{LISTE}/{chloe}/proposer", headers=htmx)
    assert refus.status_code == 422
    fragment = texte(refus)
    assert fragment.startswith('<div id="attente">')
    assert 'role="alert"' in fragment and "Plus de place libre" in fragment
    offre = poster(
        prestataire, f"{LISTE}/{chloe}/proposer", {"ajouter": "oui"}, headers=htmx
    )
    assert offre.status_code == 200
    assert "une place est proposée à Chloé Leroy" in texte(offre)
    assert "Personne n'attend." in texte(offre)


def test_le_prestataire_retire_quelqu_un_de_la_liste_avec_une_raison(app_p):
    remplir(app_p)
    bruno = en_attente(app_p, "Bruno", par="referent")
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    adresse = f"{LISTE}/{bruno}/retirer"
    assert f'href="{adresse}"' in texte(prestataire.get(LISTE))
    question = texte(prestataire.get(adresse))
    assert "Retirer Bruno Leroy de la liste d'attente ?" in question
    assert "La personne et son référent recevront un message" in question
    assert f'href="{LISTE}">Non, la garder sur la liste' in question
    # Sent without the confirmation (an old page, a double tap): only asks.
    assert "Retirer Bruno Leroy" in texte(poster(prestataire, adresse))
    # No reason: said next to the field, the message typed is kept.
    sans_raison = poster(
        prestataire, adresse, {"confirmer": "oui", "message": "Rappelez-nous."}
    )
    assert sans_raison.status_code == 422
    assert "Choisissez la raison." in texte(sans_raison)
    assert ">Rappelez-nous.</textarea>" in texte(sans_raison)
    assert demande(app_p, bruno).statut == "liste_attente"
    retrait = poster(
        prestataire,
        adresse,
        {
            "confirmer": "oui",
            "motif_refus": "desistement",
            "message": "Rappelez-nous en septembre.",
        },
    )
    assert retrait.status_code == 303
    assert retrait.headers["Location"] == LISTE
    page = texte(prestataire.get(LISTE))
    assert "C'est noté : Bruno Leroy n'est plus sur la liste d'attente." in page
    assert "Personne n'attend." in page
    p = demande(app_p, bruno)
    assert (p.statut, p.motif_refus) == ("refusee", "desistement")
    pour_bruno = messages_a(app_p, "bruno@exemple.fr")[-1]
    assert (
        "Vous n'êtes plus sur la liste d'attente pour « Prêt de vélos à Alençon » : "
        "vous ne voulez plus y participer. Votre conseiller peut vous aider."
        in pour_bruno.corps
    )
    assert "Message de la structure : Rappelez-nous en septembre." in pour_bruno.corps
    au_referent = messages_a(app_p, courriel_du_referent(app_p))[-1]
    assert au_referent.sujet.startswith(
        "La personne est retirée de la liste d'attente : désistement"
    )
    t = journal(app_p, bruno)[-1]
    assert (t.action, t.de, t.vers) == ("retirer", "liste_attente", "refusee")
    # Already off the list: the address leads back to the list, with why.
    retour = prestataire.get(adresse)
    assert retour.headers["Location"] == LISTE
    assert (
        "Bruno Leroy n'est pas (ou plus) sur la liste d'attente : sa demande est "
        "« refusée »." in texte(prestataire.get(LISTE))
    )
    # Offering her a place from an old tab says the same, never « reste ».
    reponse = poster(prestataire, adresse.replace("/retirer", "/proposer"))
    assert reponse.status_code == 422
    assert "n'est pas (ou plus) sur la liste d'attente" in texte(reponse)
    assert "reste sur la liste" not in texte(reponse)


def test_seule_la_structure_de_l_action_gere_sa_liste(app_p):
    remplir(app_p)
    bruno = en_attente(app_p, "Bruno")
    autre = se_connecter(app_p.test_client(), "prestataire", structure="garage-essonne")
    assert autre.get(LISTE).status_code == 403
    assert poster(autre, f"{LISTE}/{bruno}/proposer").status_code == 403
    # Another fiche's address does not reach this request.
    prestataire = se_connecter(
        app_p.test_client(), "prestataire", structure="atelier-orne"
    )
    ailleurs = f"/pro/fiches/cv-sessions-alencon/attente/{bruno}/retirer"
    assert prestataire.get(ailleurs).status_code == 404
    assert demande(app_p, bruno).statut == "liste_attente"
