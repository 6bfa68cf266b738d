"""Prescription pages for the person alone: sign up, follow, cancel.

No account: the person holds a signed personal link.
"""

from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from prescription import demandes, liens, messages, workflow
from prescription.demandes import Acteur, Demande
from prescription.modeles import ORIGINE_AUTO, Beneficiaire, Prescription
from web import limites
from web.donnees import db
from web.prescription import (
    LIEN_SUIVI,
    LiensWeb,
    _demander,
    _fiche,
    _formulaire,
    _lien_de_suivi,
    _structure,
    _terminer,
    bp,
)


@bp.route("/fiches/<fiche_id>/inscription", methods=["GET", "POST"])
def inscription(fiche_id: str):
    fiche = _fiche(fiche_id)
    gabarit = "prescription/inscription.html"
    if request.method == "GET":
        if not fiche.auto_prescription:
            return _formulaire(gabarit, fiche, 403, refus=_pas_d_auto_inscription())
        refus = demandes.fermee(fiche)
        return _formulaire(gabarit, fiche, refus=refus, bloque=bool(refus))
    en_plus = {}
    if request.form.get("consentement") != "oui":
        en_plus["consentement"] = "Cochez la case pour dire que vous êtes d'accord."
    resultat = _demander(
        gabarit,
        fiche,
        lambda personne: Demande(fiche, personne, ORIGINE_AUTO),
        Acteur.beneficiaire(),
        pour_soi=True,
        erreurs_en_plus=en_plus,
    )
    if not isinstance(resultat, demandes.Resultat):
        return resultat
    jeton = _lien_de_suivi(resultat.prescription)
    db().commit()
    _terminer()
    limites.nouvelle_visite()
    flash("nouvelle", "suivi")
    return redirect(url_for("prescription.suivi", jeton=jeton), 303)


def _pas_d_auto_inscription() -> str:
    return (
        "Pour cette action, c'est un référent ou un conseiller qui fait la demande : "
        "parlez-en à la personne qui vous suit."
    )


def _lien_lu(jeton: str):
    duree = timedelta(days=current_app.config["PRESCRIPTION_LIEN_JOURS"])
    try:
        return liens.lire(
            db(), current_app.config["SECRET_KEY"], LIEN_SUIVI, jeton, duree
        )
    except liens.LienInvalide as erreur:
        abort(
            Response(
                render_template("prescription/lien_invalide.html", message=str(erreur)),
                410,
            )
        )


@bp.get("/suivi/<jeton>")
def suivi(jeton: str):
    lien = _lien_lu(jeton)
    p = db().get(Prescription, int(lien.cible))
    fiche = _fiche(p.fiche_id)
    demandes.auditer(db(), p, "la personne (lien personnel)", "consultation")
    db().commit()
    journal = demandes.journal(db(), p)
    # Since her last change of session: an older start day and words were
    # for the old one (she would come on the wrong day).
    changements = [i for i, t in enumerate(journal) if t.action == "changer_session"]
    depuis = journal[changements[-1] :] if changements else journal
    structure = _structure(fiche)
    return render_template(
        "prescription/suivi.html",
        p=p,
        fiche=fiche,
        structure=structure,
        # Whom to call about it: her page had no number, even once accepted.
        telephone=fiche.telephone or (structure.telephone if structure else None),
        courriel=fiche.courriel or (structure.courriel if structure else None),
        jeton=jeton,
        peut_annuler=_peut_annuler(p),
        # Her words, as her SMS says them (« à l'étude », not « à valider »).
        statuts={**workflow.STATUTS, workflow.A_VALIDER: "À l'étude"},
        # The day she starts and the structure's last words, under the status.
        debut=demandes.debut_annonce(db(), p),
        dernier_message=next((t.message for t in reversed(depuis) if t.message), ""),
        # « du 01/02/2027 au 26/02/2027, lieu : Gymnase… », as her SMS says.
        session_dite=demandes.decrire_session(fiche, p.session).removeprefix(
            "session "
        ),
        entree_le=next(
            (t.effet_le or t.le for t in reversed(journal) if t.action == "entrer"),
            None,
        ),
        par_courriel=bool(
            getattr(db().get(Beneficiaire, p.beneficiaire_id), "courriel", None)
        ),
        etapes=workflow.DANS_L_HISTORIQUE,
        dates_d_effet=demandes.DATES_D_EFFET,
        # What the structure told her at each step (dates, its words).
        journal=journal,
        # Said to her, as her messages say it: « vous », not « la personne ».
        raison=messages.RAISONS.get(p.motif_refus or ""),
    )


def _peut_annuler(p: Prescription) -> bool:
    return bool(
        workflow.possibles(p.statut, workflow.BENEFICIAIRE, True)
        and p.statut not in workflow.TERMINES
    )


@bp.route("/suivi/<jeton>/annuler", methods=["GET", "POST"])
def suivi_annuler(jeton: str):
    """Cancel in two steps: a page that asks, then the cancellation.

    The confirmation is a page of its own, so it works without JavaScript;
    a POST without ``confirmer`` (an old page, a double tap) only asks.
    """
    lien = _lien_lu(jeton)
    p = db().get(Prescription, int(lien.cible))
    fiche = _fiche(p.fiche_id)
    if p.statut == workflow.ANNULEE:
        # Already done (a double tap, the back button): show where it stands.
        return redirect(url_for("prescription.suivi", jeton=jeton), 303)
    if not _peut_annuler(p):
        # Over, or already in the action: her page says where it stands
        # (an old link must not offer what can no longer be done).
        flash("plus_annulable", "suivi")
        return redirect(url_for("prescription.suivi", jeton=jeton), 303)
    if request.method == "GET" or request.form.get("confirmer") != "oui":
        return render_template(
            "prescription/annuler.html", p=p, fiche=fiche, jeton=jeton
        )
    try:
        demandes.appliquer(db(), p, "annuler", Acteur.beneficiaire(), fiche, LiensWeb())
    except workflow.TransitionRefusee as refus:
        db().rollback()
        return render_template(
            "prescription/lien_invalide.html", message=str(refus)
        ), 409
    db().commit()
    _terminer()
    flash("annulee", "suivi")
    return redirect(url_for("prescription.suivi", jeton=jeton), 303)
