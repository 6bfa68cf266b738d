"""The table of transitions: anything outside it is refused and changes nothing."""

import itertools

import pytest
from sqlmodel import Session, func, select

from catalogue import places
from prescription import demandes, workflow
from prescription.demandes import Acteur
from prescription.modeles import Beneficiaire, Prescription, Transition
from prescription.workflow import TRANSITIONS, TransitionRefusee


class Liens:
    def suivi(self, p):
        return f"https://exemple.test/suivi/{p.id}"

    def pro(self, p):
        return f"https://exemple.test/pro/{p.id}"

    def courriel_structure(self, structure):
        return None


ROLES = (
    workflow.PRESTATAIRE,
    workflow.REFERENT,
    workflow.BENEFICIAIRE,
    workflow.SYSTEME,
)
# A change of session needs a fiche with sessions: tested in test_sessions.py.
ACTIONS = [
    r.action for r in TRANSITIONS if None not in r.depuis and r.exige != "session"
]


def une_demande(db, statut: str, place_tenue: bool) -> Prescription:
    b = Beneficiaire(prenom="Awa", nom="Diallo", telephone="06 12 34 56 78")
    db.add(b)
    db.flush()
    maintenant = places.maintenant_utc()
    p = Prescription(
        fiche_id="velos-alencon",
        structure_catalogue="atelier-orne",
        beneficiaire_id=b.id,
        origine="referent",
        statut=statut,
        place_tenue=place_tenue,
        cree_le=maintenant,
        maj_le=maintenant,
    )
    db.add(p)
    db.commit()
    return p


def permise(action: str, statut: str, role: str, validation: bool) -> bool:
    r = workflow.PAR_ACTION[action]
    return (
        statut in r.depuis and role in r.par and r.avec_validation in (None, validation)
    )


@pytest.mark.parametrize("fiche_id", ["velos-alencon", "chantier-orne"])
def test_chaque_transition_hors_table_est_refusee_et_ne_change_rien(app_p, fiche_id):
    fiche = app_p.extensions["catalogue"].fiches[fiche_id]
    validation = fiche.validation != "aucune"
    refusees = appliquees = 0
    with Session(app_p.extensions["db"]) as db:
        places.fixer(db, fiche.id, 1, "essai")
        db.commit()
        for statut, action, role in itertools.product(workflow.STATUTS, ACTIONS, ROLES):
            p = une_demande(db, statut, place_tenue=statut not in workflow.TERMINES)
            p.fiche_id = fiche.id
            avant_places = places.par_session(db, fiche.id)[""].places_restantes
            avant_journal = db.exec(select(func.count(Transition.id))).one()
            r = workflow.PAR_ACTION[action]
            details = {
                "motif_refus": "autre",
                "type_sortie": "abandon",
                "message": "La session est reportée.",
            }
            if permise(action, statut, role, validation):
                demandes.appliquer(
                    db, p, action, Acteur(role, role), fiche, Liens(), **details
                )
                db.commit()
                assert p.statut == r.arrivee(statut)
                t = db.exec(select(Transition).order_by(Transition.id.desc())).first()
                assert (t.prescription_id, t.de, t.vers, t.par) == (
                    p.id,
                    statut,
                    r.arrivee(statut),
                    role,
                )
                appliquees += 1
            else:
                with pytest.raises(TransitionRefusee) as refus:
                    demandes.appliquer(
                        db, p, action, Acteur(role, role), fiche, Liens(), **details
                    )
                db.rollback()
                db.refresh(p)
                assert p.statut == statut
                assert db.exec(select(func.count(Transition.id))).one() == avant_journal
                assert (
                    places.par_session(db, fiche.id)[""].places_restantes
                    == avant_places
                )
                assert str(refus.value)  # a French sentence for the user
                refusees += 1
    assert appliquees and refusees
    assert appliquees + refusees == len(workflow.STATUTS) * len(ACTIONS) * len(ROLES)


def test_un_refus_sans_raison_ou_une_sortie_sans_type_est_refuse(app_p):
    fiche = app_p.extensions["catalogue"].fiches["velos-alencon"]
    with Session(app_p.extensions["db"]) as db:
        p = une_demande(db, workflow.DEMANDEE, place_tenue=False)
        with pytest.raises(TransitionRefusee, match="raison du refus"):
            demandes.appliquer(
                db, p, "refuser", Acteur("prestataire", "x"), fiche, Liens()
            )
        db.rollback()
        p = une_demande(db, workflow.ENTREE, place_tenue=False)
        with pytest.raises(TransitionRefusee, match="comment la personne est sortie"):
            demandes.appliquer(
                db,
                p,
                "sortir",
                Acteur("prestataire", "x"),
                fiche,
                Liens(),
                type_sortie="inconnu",
            )


def test_une_action_inconnue_est_refusee_en_francais(app_p):
    fiche = app_p.extensions["catalogue"].fiches["velos-alencon"]
    with Session(app_p.extensions["db"]) as db:
        p = une_demande(db, workflow.DEMANDEE, place_tenue=False)
        with pytest.raises(TransitionRefusee, match="n'existe pas"):
            demandes.appliquer(
                db, p, "teleporter", Acteur("prestataire", "x"), fiche, Liens()
            )


def test_chaque_transition_a_un_libelle_francais_et_mene_a_un_statut_connu():
    for r in TRANSITIONS:
        assert r.libelle[0].isupper()
        assert r.vers in workflow.STATUTS or (r.vers is None and r.exige == "session")
        assert all(s is None or s in workflow.STATUTS for s in r.depuis)


def test_l_entree_du_jour_se_note_apres_minuit_heure_de_paris(app_p):
    """At 00:30 in Paris on 1 December (23:30 UTC on 30 November), the
    prestataire notes today's entry: « today » is the 1st there, not a day
    « in the future »; the request made that night is of the 1st too."""
    from datetime import UTC, date, datetime

    fiche = app_p.extensions["catalogue"].fiches["velos-alencon"]
    nuit = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    with Session(app_p.extensions["db"]) as db:
        p = une_demande(db, workflow.ACCEPTEE, place_tenue=False)
        p.cree_le = nuit
        prestataire = Acteur(workflow.PRESTATAIRE, "prestataire")
        demandes.appliquer(
            db,
            p,
            "entrer",
            prestataire,
            fiche,
            Liens(),
            effet_le=date(2026, 12, 1),
            maintenant=nuit,
        )
        db.commit()
        assert (p.statut, demandes.jour_d_entree(db, p)) == (
            "entree",
            date(2026, 12, 1),
        )
        # A day before the request's own (Paris) day is still refused.
        p2 = une_demande(db, workflow.ACCEPTEE, place_tenue=False)
        p2.cree_le = nuit
        with pytest.raises(TransitionRefusee, match="faite le 01/12/2026"):
            demandes.appliquer(
                db,
                p2,
                "entrer",
                prestataire,
                fiche,
                Liens(),
                effet_le=date(2026, 11, 30),
                maintenant=nuit,
            )
