"""The département admin's pages: structures and who is a member where."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import NotFound

from prescription import structures as domaine
from prescription.modeles import ROLES, TYPES_STRUCTURE, Adhesion, StructurePro
from web.donnees import db
from web.prescription import departement_requis, droits

bp = Blueprint("admin", __name__)

TYPES = {
    "prestataire": "Prestataire",
    "service-prescripteur": "Service prescripteur",
    "departement": "Département",
}
assert set(TYPES) == set(TYPES_STRUCTURE)


def _qui() -> str:
    return f"utilisateur {droits().utilisateur.id}"


def _page(statut=200, erreurs=None, form=None):
    return render_template(
        "admin/structures.html",
        structures=domaine.structures(db()),
        journal=domaine.journal(db(), 20),
        roles=ROLES,
        roles_par_type=domaine.ROLES_PAR_TYPE,
        types=TYPES,
        erreurs=erreurs or {},
        form=form or {},
    ), statut


@bp.get("/pro/structures")
@departement_requis
def structures():
    return _page()


@bp.post("/pro/structures")
@departement_requis
def creer():
    f = request.form
    try:
        s = domaine.creer_structure(
            db(),
            f.get("nom_structure", ""),
            f.get("type", ""),
            _qui(),
            current_app.extensions["catalogue"].structures,
            structure_catalogue=f.get("structure_catalogue"),
            type_prescripteur=f.get("type_prescripteur"),
        )
    except domaine.Refus as refus:
        db().rollback()
        return _page(422, refus.erreurs or {"nom_structure": str(refus)}, f)
    db().commit()
    flash(f"Structure « {s.nom} » créée.")
    return redirect(url_for("admin.structures"), 303)


@bp.post("/pro/structures/<int:sid>/membres")
@departement_requis
def ajouter_membre(sid: int):
    structure = db().get(StructurePro, sid)
    if structure is None:
        raise NotFound()
    try:
        domaine.rattacher(
            db(), request.form.get("courriel", ""), structure,
            request.form.get("role", ""), _qui(),
        )  # fmt: skip
    except domaine.Refus as refus:
        db().rollback()
        return _page(422, {f"courriel-{sid}": str(refus)}, request.form)
    db().commit()
    flash(f"Membre ajouté à « {structure.nom} ».")
    return redirect(url_for("admin.structures"), 303)


@bp.post("/pro/structures/<int:sid>/membres/<int:aid>/retirer")
@departement_requis
def retirer_membre(sid: int, aid: int):
    adhesion = db().get(Adhesion, aid)
    if adhesion is None or adhesion.structure_id != sid:
        raise NotFound()
    if adhesion.utilisateur_id == droits().utilisateur.id and (
        adhesion.role == "departement_admin"
    ):
        flash("Vous ne pouvez pas retirer votre propre rôle d'administrateur.")
        return redirect(url_for("admin.structures"), 303)
    domaine.retirer(db(), adhesion, _qui())
    db().commit()
    flash("Rôle retiré.")
    return redirect(url_for("admin.structures"), 303)
