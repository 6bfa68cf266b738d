"""A person's rights (RGPD), for the département admin only: find what is held
on one person, export it as JSON, erase it on request. Each step is logged.

Names and phone numbers travel in POST bodies, never in an address (which
access logs would keep). The routes join the prescription blueprint.
"""

import json
from typing import Annotated

from flask import Response, current_app, render_template, request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
)
from sqlmodel import select

from catalogue.saisie import caractere_invisible
from prescription import rgpd
from prescription.modeles import Beneficiaire, Prescription
from web.donnees import db
from web.prescription import (
    LiensWeb,
    _terminer,
    acteur_pro,
    bp,
    departement_requis,
)


def _ids(brut: object) -> list[int]:
    brutes = brut if isinstance(brut, list) else [brut]
    if not all(str(b).isascii() and str(b).isdigit() and len(str(b)) <= 18
               for b in brutes):  # fmt: skip
        raise ValueError("Sélection invalide : recommencez la recherche.")
    return [int(b) for b in brutes]


def _visible(valeur: str) -> str:
    # What a person gave is never invisible: a pasted control character
    # (a NUL byte, which PostgreSQL refuses) would only find nothing.
    if caractere_invisible(valeur):
        raise ValueError(
            "Le nom ou le contact contient un caractère invisible : retapez-le."
        )
    return valeur


class Recherche(BaseModel):
    nom: Annotated[str, Field(max_length=100), AfterValidator(_visible)] = ""
    contact: Annotated[str, Field(max_length=254), AfterValidator(_visible)] = ""


class Selection(Recherche):
    ids: Annotated[list[int], BeforeValidator(_ids)] = []
    confirmation: str = ""


def _lire(modele, form) -> tuple[BaseModel | None, str | None]:
    donnees = {k: form.get(k, "").strip() for k in ("nom", "contact", "confirmation")}
    if modele is Selection:
        donnees["ids"] = form.getlist("ids")
    try:
        return modele.model_validate(donnees), None
    except ValidationError as exc:
        cause = (exc.errors()[0].get("ctx") or {}).get("error")
        return None, str(cause) if cause else "Formulaire invalide : recommencez."


def _qui() -> str:
    return acteur_pro("departement").auteur


def _trouvees(recherche: Recherche) -> list[Beneficiaire]:
    return rgpd.trouver(db(), recherche.nom, recherche.contact)


def _page(statut=200, **contexte):
    contexte.setdefault("form", request.form)
    contexte.setdefault("erreurs", {})
    contexte.setdefault("personnes", None)
    return render_template("rgpd/personne.html", **contexte), statut


def _lignes(personnes: list[Beneficiaire]) -> list[tuple]:
    fiches = current_app.extensions["catalogue"].fiches
    lignes = []
    for b in personnes:
        prescriptions = db().exec(
            select(Prescription)
            .where(Prescription.beneficiaire_id == b.id)
            .order_by(Prescription.id)
        )
        lignes.append(
            (
                b,
                [
                    (p, getattr(fiches.get(p.fiche_id), "nom", p.fiche_id))
                    for p in prescriptions
                ],
            )
        )
    return lignes


@bp.route("/pro/rgpd", methods=["GET", "POST"])
@departement_requis
def rgpd_personne():
    """Find a person's records by nom and phone or e-mail."""
    if request.method == "GET":
        return _page(form={})
    recherche, erreur = _lire(Recherche, request.form)
    erreurs = {}
    if recherche is not None:
        if not recherche.nom:
            erreurs["nom"] = "Indiquez le nom de la personne."
        if not recherche.contact:
            erreurs["contact"] = (
                "Indiquez son téléphone ou son adresse e-mail, tels qu'elle les a "
                "donnés."
            )
    if erreur or erreurs:
        return _page(422, erreurs=erreurs, refus=erreur)
    personnes = _trouvees(recherche)
    rgpd.noter_la_recherche(db(), personnes, _qui())
    db().commit()
    return _page(personnes=_lignes(personnes))


def _selection() -> tuple[Selection | None, list[Beneficiaire], str | None]:
    """The records ticked among the search's own results, never others."""
    selection, erreur = _lire(Selection, request.form)
    if selection is None:
        return None, [], erreur
    choisies = [b for b in _trouvees(selection) if b.id in set(selection.ids)]
    if not choisies:
        return selection, [], "Cochez au moins une des fiches de la personne."
    return selection, choisies, None


@bp.post("/pro/rgpd/export")
@departement_requis
def rgpd_export():
    selection, choisies, erreur = _selection()
    if erreur:
        return _page(422, refus=erreur, personnes=_lignes(_trouvees_ou_rien(selection)))
    corps = rgpd.exporter(
        db(), choisies, current_app.extensions["catalogue"].fiches, _qui()
    )
    db().commit()
    return Response(
        json.dumps(corps, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="donnees-personne.json"'},
    )


def _trouvees_ou_rien(selection: Selection | None) -> list[Beneficiaire]:
    return _trouvees(selection) if selection else []


@bp.post("/pro/rgpd/effacer")
@departement_requis
def rgpd_effacer():
    selection, choisies, erreur = _selection()
    if not erreur and selection.confirmation != "oui":
        erreur = (
            "Cochez la case qui confirme que la personne a demandé l'effacement : "
            "rien n'a été effacé."
        )
    if erreur:
        return _page(
            422,
            refus=erreur,
            personnes=_lignes(_trouvees_ou_rien(selection)),
            cochees=set(selection.ids) if selection else set(),
        )
    annulees = rgpd.effacer(
        db(),
        choisies,
        current_app.extensions["catalogue"].fiches,
        LiensWeb(),
        _qui(),
    )
    db().commit()
    _terminer()
    return _page(form={}, effacees=len(choisies), annulees=annulees)
