"""Places pages: the prestataire's board and the one-tap update link."""

import re
from datetime import timedelta
from functools import partial

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from catalogue import places
from prescription import demandes, liens
from web.donnees import db
from web.prescription import (
    LIEN_PLACES,
    LiensWeb,
    _fiche,
    _fiches_du_prestataire,
    _sessions,
    _terminer,
    bp,
    droits,
    htmx,
    prestataire_requis,
)
from web.securite import url_absolue

INCOMPLET = "Formulaire incomplet : rechargez la page, rien n'a changé."
# The most places one action can list (as the fiche format allows).
PLACES_MAX = 100_000
# A whole number as typed, sign included, so "-5" is told it is below zero.
ENTIER = re.compile(r"[+-]?[0-9]+", re.ASCII)


def _capacite(fiche, cle: str) -> dict:
    """« sur 10 » for places at a time (a session's seats, places at once);
    else the action's capacity as the fiche says it (4 people a year, 11.2
    full-time posts), beside the count, never as its total."""
    nombre, periode = demandes.capacite_et_periode(fiche, cle)
    sur = demandes.capacite(fiche, cle) is not None and periode in (
        "session",
        "simultane",
    )
    return {"capacite": nombre, "sur": sur}


def _lignes_places(fiche) -> list[dict]:
    existantes = places.par_session(db(), fiche.id)
    cles = [s["cle"] for s in _sessions(fiche)] if fiche.sessions else [places.ACTION]
    if fiche.sessions and (
        getattr(existantes.get(places.ACTION), "places_restantes", None) is not None
    ):
        # A count for the whole action beside its sessions (both written in
        # the YAML): search shows it, so it can be changed or cleared here.
        cles.insert(0, places.ACTION)
    return [
        {
            "fiche": fiche,
            "session": cle,
            "restantes": getattr(existantes.get(cle), "places_restantes", None),
            **_capacite(fiche, cle),
            "premiere": i == 0,
            "toute_l_action": cle == places.ACTION and bool(fiche.sessions),
            "liens_actifs": liens.actifs(db(), LIEN_PLACES, fiche.id) if i == 0 else 0,
            "en_attente": len(db().exec(demandes.file_d_attente(fiche.id)).all())
            if i == 0
            else 0,
        }
        for i, cle in enumerate(cles)
    ]


@bp.get("/pro/places")
@prestataire_requis
def tableau():
    # A link just made, shown once: a reload makes no other.
    cree = session.pop(LIEN_CREE, None)
    fiche = cree and current_app.extensions["catalogue"].fiches.get(cree[0])
    return render_template(
        "prescription/tableau.html",
        lignes=[ligne for f in _fiches_du_prestataire() for ligne in _lignes_places(f)],
        lien=(fiche, cree[1]) if fiche else None,
    )


def _changer_places(fiche, auteur: str):
    """Read the one-tap form and set the number; an error message or None."""
    cle = request.form.get("session", places.ACTION)
    if cle not in {ligne["session"] for ligne in _lignes_places(fiche)}:
        return cle, INCOMPLET
    plafond = demandes.plafond_des_places(db(), fiche, cle)
    ecart = request.form.get("ecart")
    if ecart not in (None, "-1", "+1") or (
        ecart is None and "places" not in request.form
    ):
        # Not what the board sends: never read as « stop counting ».
        return cle, INCOMPLET
    valeur = request.form.get("places", "").strip()
    if ecart in ("-1", "+1"):
        # Relative, in the database: read-then-write would lose a tap.
        n, limite = int(ecart), PLACES_MAX if plafond is None else plafond
        motif = "correction (tableau de bord)"
        decaler = partial(
            places.decaler,
            db(),
            fiche.id,
            n,
            auteur,
            session=cle,
            maximum=limite,
            motif=motif,
        )
        apres = decaler()
        if apres is None and 0 < n <= limite:
            # Not tracked: "+1" starts counting at 1, unless a tap at the
            # same moment just did (then this one moves it).
            commence = demandes.commencer_le_compte(
                db(), fiche, n, auteur, session=cle, motif=motif
            )
            apres = n if commence else decaler()
        if apres is None:
            ligne = places.par_session(db(), fiche.id).get(cle)
            if getattr(ligne, "places_restantes", None) is None:
                return cle, (
                    "Les places ne sont pas suivies : écrivez le nombre de places "
                    "restantes."
                )
            return cle, _hors_limites(fiche, cle, n, plafond)
        _a_la_liste_d_attente(fiche, cle, auteur)
        return cle, None
    if valeur == "":
        nombre = None
    elif ENTIER.fullmatch(valeur):
        # Any length: a huge number is told its bound, not "not a number"
        # (and never converted: Python refuses int() past 4 300 digits).
        signe, chiffres = valeur[0] == "-", valeur.lstrip("+-").lstrip("0")
        nombre = int(chiffres or "0") if len(chiffres) <= 12 else PLACES_MAX + 1
        nombre = -nombre if signe else nombre
    else:
        return cle, (
            f"« {valeur[:20]} » n'est pas un nombre entier : écrivez le nombre de "
            "places restantes (ex. 3), ou laissez vide pour ne pas les suivre."
        )
    if nombre is not None and nombre > PLACES_MAX:
        return cle, "Au plus 100 000 places par action."
    trop = plafond is not None and nombre is not None and nombre > plafond
    if nombre is not None and (nombre < 0 or trop):
        return cle, _hors_limites(fiche, cle, nombre, plafond)
    demandes.fixer_les_places(
        db(), fiche, nombre, auteur, session=cle, motif="correction (tableau de bord)"
    )
    _a_la_liste_d_attente(fiche, cle, auteur)
    return cle, None


def _a_la_liste_d_attente(fiche, cle: str, auteur: str) -> None:
    """The count just written, kept within the capacity (a booking may have
    come since its bound was read: demandes.borner_les_places). Places added
    while people wait are theirs first: a newcomer took the place the
    structure had just added, and those waiting were passed over. In the
    transaction that added them (committed here): between two, a request
    sent at that instant still took it."""
    demandes.borner_les_places(db(), fiche, cle, auteur)
    offertes = demandes.donner_a_la_liste_d_attente(db(), fiche, cle, LiensWeb())
    db().commit()
    if offertes == 1:
        flash(
            "1 place proposée à la première personne de la liste d'attente : "
            "elle est prévenue."
        )
    elif offertes:
        flash(
            f"{offertes} places proposées aux premières personnes de la liste "
            "d'attente : elles sont prévenues."
        )
    _terminer()


DE_L_ACTION = " de l'action"
LIEN_CREE = "lien_places_cree"


def _hors_limites(fiche, cle: str, nombre: int, plafond: int | None) -> str:
    if nombre < 0:
        return "Il ne peut pas rester moins de zéro place."
    if plafond is None:
        return "Au plus 100 000 places par action."
    total = int(demandes.capacite(fiche, cle))
    au_plus = (
        f"Au plus {plafond} place{'s' if plafond > 1 else ''}"
        if plafond
        else "Aucune place libre possible"
    )
    # A session's seats are its own, set with the fiche (« Places »): the
    # action's capacity is another number.
    session, ou = "", ""
    if cle != places.ACTION:
        session = f" de la {demandes.decrire_session(fiche, cle)}"
        ou = " (à changer dans « Modifier la fiche »)"
    if plafond == total:
        return f"{au_plus} : c'est la capacité{session or DE_L_ACTION}{ou}."
    # Free places and places held share the capacity: 4 free beside 5 held
    # on 4 was 125 % filled in the figures.
    tenues = demandes.en_cours(db(), fiche.id, cle)
    return (
        f"{au_plus} : la capacité{session} est de {total}, et {tenues} demande"
        f"{'s' if tenues > 1 else ''} en cours en "
        f"{'tiennent' if tenues > 1 else 'tient'} déjà{ou}."
    )


# GET too: the address of a refused number's page, opened again (history,
# a new tab), leads to the board, not to « Method Not Allowed ».
@bp.route("/pro/places/<fiche_id>", methods=["GET", "POST"])
@prestataire_requis
def changer_places(fiche_id: str):
    fiche = _fiche(fiche_id)
    if not droits().repond_pour(fiche.structure):
        return render_template("prescription/interdit.html"), 403
    if request.method == "GET":
        return redirect(
            url_for("prescription.tableau", _anchor=f"places-{fiche.id}"), 303
        )
    cle, erreur = _changer_places(fiche, f"utilisateur {droits().utilisateur.id}")
    ligne = next((x for x in _lignes_places(fiche) if x["session"] == cle), None)
    if htmx and ligne is not None:
        return render_template(
            "prescription/_ligne_places.html",
            ligne=ligne,
            erreur=erreur,
            saisie=request.form.get("places"),
        ), (422 if erreur else 200)
    if htmx and erreur:
        abort(400)  # no line to swap: the page's own error message shows
    if erreur:
        # Never a success banner on failure: the board again, the line told
        # (or above the board when no line is that one).
        return render_template(
            "prescription/tableau.html",
            lignes=[x for f in _fiches_du_prestataire() for x in _lignes_places(f)],
            lien=None,
            erreurs={(fiche.id, cle): erreur},
            saisies={(fiche.id, cle): request.form.get("places")},
            erreur_generale=None if ligne else erreur,
        ), 422
    flash("Places mises à jour.")
    return redirect(url_for("prescription.tableau"), 303)


@bp.post("/pro/places/<fiche_id>/lien")
@prestataire_requis
def lien_places(fiche_id: str):
    fiche = _fiche(fiche_id)
    if not droits().repond_pour(fiche.structure):
        return render_template("prescription/interdit.html"), 403
    duree = timedelta(days=current_app.config["PLACES_LIEN_JOURS"])
    jeton = liens.creer(
        db(), current_app.config["SECRET_KEY"], LIEN_PLACES, fiche.id, duree
    )
    db().commit()
    lien = url_absolue("prescription.places_lien", jeton=jeton)
    session[LIEN_CREE] = [fiche.id, lien]
    return redirect(url_for("prescription.tableau"), 303)


@bp.post("/pro/places/<fiche_id>/lien/revoquer")
@prestataire_requis
def revoquer_liens_places(fiche_id: str):
    """Every live update link of this action stops working at once."""
    fiche = _fiche(fiche_id)
    if not droits().repond_pour(fiche.structure):
        return render_template("prescription/interdit.html"), 403
    n = liens.revoquer(db(), LIEN_PLACES, fiche.id)
    db().commit()
    if n == 0:
        flash(f"Aucun lien de mise à jour en service pour « {fiche.nom} ».")
    elif n == 1:
        flash(f"Lien désactivé pour « {fiche.nom} » : il ne marche plus.")
    else:
        flash(f"{n} liens désactivés pour « {fiche.nom} » : ils ne marchent plus.")
    return redirect(url_for("prescription.tableau"), 303)


@bp.route("/places/<jeton>", methods=["GET", "POST"])
def places_lien(jeton: str):
    duree = timedelta(days=current_app.config["PLACES_LIEN_JOURS"])
    try:
        lien = liens.lire(
            db(), current_app.config["SECRET_KEY"], LIEN_PLACES, jeton, duree
        )
    except liens.LienInvalide as erreur:
        # Written for the prestataire who received it, not for a person.
        return render_template(
            "prescription/lien_invalide.html",
            titre="Ce lien de mise à jour ne marche plus",
            message=str(erreur),
            lien_places=True,
        ), 410
    fiche = _fiche(lien.cible)
    erreur = None
    if request.method == "POST":
        cle, erreur = _changer_places(fiche, "lien de mise à jour")
        if not erreur:
            flash("Places mises à jour.")
            return redirect(url_for("prescription.places_lien", jeton=jeton), 303)
    # The error under the line it is about, with what was typed there.
    lignes = _lignes_places(fiche)
    return render_template(
        "prescription/places_lien.html",
        fiche=fiche,
        lignes=lignes,
        erreurs={(fiche.id, cle): erreur} if erreur else {},
        saisies={(fiche.id, cle): request.form.get("places")} if erreur else {},
        erreur_generale=erreur
        if erreur and cle not in {x["session"] for x in lignes}
        else None,
        jeton=jeton,
    ), (422 if erreur else 200)
