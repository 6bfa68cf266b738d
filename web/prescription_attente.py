"""The waiting list, as the prestataire manages it: in order, per session;
offer a place, or take someone off the list (a page that asks first, so it
works without JavaScript). The workflow decides; each step is journaled and
told to the person and to the référent who asked.
"""

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from catalogue import places
from catalogue.fiche import PLACES_MAX
from prescription import demandes, workflow
from prescription.modeles import (
    ORIGINES,
    Beneficiaire,
    Prescription,
    StructurePro,
    Utilisateur,
)
from web.donnees import db
from web.prescription import (
    LiensWeb,
    _fiche,
    _sessions,
    _terminer,
    acteur_pro,
    bp,
    droits,
    htmx,
    lire_texte,
    prestataire_requis,
)


def _fiche_a_soi(fiche_id: str):
    """The fiche, if the logged-in prestataire runs it; None otherwise."""
    fiche = _fiche(fiche_id)
    return fiche if droits().repond_pour(fiche.structure) else None


def _qui_a_demande(p: Prescription) -> str:
    if p.prescripteur_id is None:
        return ORIGINES[p.origine]
    referent = db().get(Utilisateur, p.prescripteur_id)
    service = (
        db().get(StructurePro, p.structure_prescriptrice_id)
        if p.structure_prescriptrice_id
        else None
    )
    nom = f"{referent.prenom} {referent.nom}".strip() or referent.courriel
    return f"Prescrite par {nom}" + (f", {service.nom}" if service else "")


def _groupes(fiche) -> list[dict]:
    """One group per session (or the whole action), people in their order."""
    restantes = places.par_session(db(), fiche.id)
    lignes = db().exec(
        demandes.file_d_attente(fiche.id).join(
            Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id
        )
    )
    par_session: dict[str, list] = {}
    for p in lignes:
        par_session.setdefault(p.session, []).append(
            {
                "p": p,
                "b": db().get(Beneficiaire, p.beneficiaire_id),
                "qui": _qui_a_demande(p),
            }
        )
    cles = [s["cle"] for s in _sessions(fiche)] if fiche.sessions else [""]
    cles += sorted(set(par_session) - set(cles))
    return [
        {
            "cle": cle,
            "restantes": getattr(restantes.get(cle), "places_restantes", None),
            "personnes": par_session.get(cle, []),
        }
        for cle in cles
    ]


def _page(fiche, statut: int = 200, **contexte):
    gabarit = "prescription/_attente.html" if htmx else "prescription/attente.html"
    return render_template(
        gabarit, fiche=fiche, groupes=_groupes(fiche), **contexte
    ), statut


@bp.get("/pro/fiches/<fiche_id>/attente")
@prestataire_requis
def liste_attente(fiche_id: str):
    fiche = _fiche_a_soi(fiche_id)
    if fiche is None:
        return render_template("prescription/interdit.html"), 403
    return _page(fiche)


def _en_attente(fiche, pid: int) -> Prescription:
    """A request of this fiche; the same 404 for a missing one or another's."""
    p = db().get(Prescription, pid)  # the <int:> converter caps pid at ID_MAX
    if p is None or p.fiche_id != fiche.id:
        raise NotFound()
    return p


def _nom(p: Prescription) -> str:
    b = db().get(Beneficiaire, p.beneficiaire_id)
    return f"{b.prenom} {b.nom}"


def _pas_sur_la_liste(p: Prescription) -> str:
    return (
        f"{_nom(p)} n'est pas (ou plus) sur la liste d'attente : sa demande est "
        f"« {workflow.STATUTS[p.statut].lower()} »."
    )


@bp.post("/pro/fiches/<fiche_id>/attente/<int:pid>/proposer")
@prestataire_requis
def attente_proposer(fiche_id: str, pid: int):
    fiche = _fiche_a_soi(fiche_id)
    if fiche is None:
        return render_template("prescription/interdit.html"), 403
    p = _en_attente(fiche, pid)
    if p.statut != workflow.LISTE_ATTENTE:
        # An old tab, or the place already went to her: say where she is.
        return _page(fiche, 422, erreur=_pas_sur_la_liste(p))
    acteur = acteur_pro(workflow.PRESTATAIRE)
    # No place free: one added in « Mes places » goes to the first waiting
    # at once. To choose her instead, the structure says a place came free
    # for her (the button under the refusal), within the capacity the
    # requests in progress leave.
    compte = places.par_session(db(), fiche.id).get(p.session)
    if (
        request.form.get("ajouter") == "oui"
        and compte is not None
        and compte.places_restantes == 0
    ):
        plafond = demandes.plafond_des_places(db(), fiche, p.session)
        places.decaler(
            db(),
            fiche.id,
            1,
            acteur.auteur,
            session=p.session,
            maximum=PLACES_MAX if plafond is None else plafond,
            motif="place ajoutée pour la liste d'attente",
        )
    try:
        demandes.appliquer(db(), p, "proposer", acteur, fiche, LiensWeb())
    except workflow.TransitionRefusee as refus:
        db().rollback()
        plafond = demandes.plafond_des_places(db(), fiche, p.session)
        if compte is not None and plafond == 0:
            refus = (
                f"{refus} La capacité de l'action est atteinte : toutes ses "
                "places sont tenues par des demandes en cours."
            )
        return _page(
            fiche,
            422,
            erreur=f"{_nom(p)} reste sur la liste. {refus}",
            # Only where a place can still be added.
            ajouter_pour=p if compte is not None and plafond != 0 else None,
        )
    db().commit()
    _terminer()
    annonce = (
        f"C'est noté : une place est proposée à {_nom(p)}. Sa demande attend "
        f"maintenant votre réponse (accepter, avec la date et un message)."
    )
    if htmx:
        return _page(fiche, annonce=annonce)
    flash(annonce)
    return redirect(url_for("prescription.liste_attente", fiche_id=fiche.id), 303)


@bp.route("/pro/fiches/<fiche_id>/attente/<int:pid>/retirer", methods=["GET", "POST"])
@prestataire_requis
def attente_retirer(fiche_id: str, pid: int):
    """Two steps: a page that asks (reason, message), then the removal.

    A POST without ``confirmer`` (an old page, a double tap) only asks.
    """
    fiche = _fiche_a_soi(fiche_id)
    if fiche is None:
        return render_template("prescription/interdit.html"), 403
    p = _en_attente(fiche, pid)
    retour = url_for("prescription.liste_attente", fiche_id=fiche.id)
    if p.statut != workflow.LISTE_ATTENTE:
        flash(_pas_sur_la_liste(p))
        return redirect(retour, 303)
    erreurs: dict[str, str] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST" and form.get("confirmer") == "oui":
        message = lire_texte(form, "message", "Le message", erreurs)
        motif = form.get("motif_refus", "")
        if motif not in workflow.MOTIFS_REFUS:
            erreurs["motif_refus"] = "Choisissez la raison."
        if not erreurs:
            try:
                demandes.appliquer(
                    db(),
                    p,
                    "retirer",
                    acteur_pro(workflow.PRESTATAIRE),
                    fiche,
                    LiensWeb(),
                    motif_refus=motif,
                    message=message,
                )
            except workflow.TransitionRefusee as refus:
                db().rollback()
                erreurs["general"] = str(refus)
            else:
                db().commit()
                _terminer()
                flash(f"C'est noté : {_nom(p)} n'est plus sur la liste d'attente.")
                return redirect(retour, 303)
    b = db().get(Beneficiaire, p.beneficiaire_id)
    return render_template(
        "prescription/attente_retirer.html",
        fiche=fiche,
        p=p,
        b=b,
        qui=_qui_a_demande(p),
        session_dite=demandes.decrire_session(fiche, p.session),
        motifs=workflow.MOTIFS_REFUS,
        form=form,
        erreurs=erreurs,
        retour=retour,
    ), (422 if erreurs else 200)
