"""Prescription pages for professionals: the référent prescribes and follows,
the prestataire receives, answers and signs people up.
"""

import csv
import io
import re
from datetime import date, datetime

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlmodel import select
from werkzeug.exceptions import NotFound

from catalogue import heure, places
from catalogue.saisie import caractere_invisible
from prescription import demandes, workflow
from prescription.demandes import Demande
from prescription.modeles import (
    AVIS,
    ORIGINE_PRESTATAIRE,
    ORIGINE_REFERENT,
    ORIGINES,
    PRESTATAIRE_ADMIN,
    PRESTATAIRE_MEMBRE,
    Beneficiaire,
    Prescription,
    StructurePro,
    Utilisateur,
)
from web.donnees import db
from web.prescription import (
    LiensWeb,
    _demander,
    _fiche,
    _formulaire,
    _sessions,
    _terminer,
    acteur_pro,
    bp,
    connexion_requise,
    droits,
    htmx,
    lire_texte,
    prestataire_requis,
    referent_requis,
)

# A spreadsheet runs a cell starting with one of these as a formula.
DEBUTS_DE_FORMULE = ("=", "+", "-", "@", "\t", "\r")


def _jour(jour: date | None) -> str:
    return jour.isoformat() if jour else ""


def cellule(valeur) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    texte = "" if valeur is None else str(valeur)
    return "'" + texte if texte.startswith(DEBUTS_DE_FORMULE) else texte


@bp.route("/fiches/<fiche_id>/prescrire", methods=["GET", "POST"])
@referent_requis
def prescrire(fiche_id: str):
    fiche = _fiche(fiche_id)
    gabarit = "prescription/prescrire.html"
    service = droits().service
    if request.method == "GET":
        # What no answer in the form could change is said instead of the form.
        refus = demandes.fermee(fiche) or demandes.refus_du_service(fiche, service)
        return _formulaire(gabarit, fiche, refus=refus, bloque=bool(refus))
    en_plus = {}
    if request.form.get("engagement") != "oui":
        en_plus["engagement"] = (
            "Cochez la case : la personne doit être informée et d'accord."
        )
    motif = lire_texte(request.form, "motif", "L'explication", en_plus)
    if not motif:
        en_plus.setdefault("motif", "Expliquez en quelques mots pourquoi cette action.")
    resultat = _demander(
        gabarit,
        fiche,
        lambda personne: Demande(
            fiche,
            personne,
            ORIGINE_REFERENT,
            motif=motif,
            structure_prescriptrice=service,
        ),
        acteur_pro(workflow.REFERENT),
        confirmer_hors_zone=True,
        erreurs_en_plus=en_plus,
    )
    if not isinstance(resultat, demandes.Resultat):
        return resultat
    db().commit()
    _terminer()
    for avertissement in resultat.avertissements:
        flash(avertissement)
    if resultat.prescription.statut == workflow.LISTE_ATTENTE:
        flash(
            "La personne est inscrite sur la liste d'attente : elle sera prévenue "
            "si une place se libère, et vous aussi."
        )
    else:
        flash("Demande envoyée : la structure va vous répondre.")
    return redirect(url_for("prescription.detail", pid=resultat.prescription.id), 303)


def _filtrer(requete):
    statut = request.args.get("statut", "")
    if statut in workflow.STATUTS:
        requete = requete.where(Prescription.statut == statut)
    fiche_id = request.args.get("fiche", "")
    if fiche_id and not _fiche_illisible():
        requete = requete.where(Prescription.fiche_id == fiche_id)
    return requete.order_by(Prescription.maj_le.desc(), Prescription.id.desc())


def _lignes(requete) -> list[tuple[Prescription, Beneficiaire]]:
    return list(
        db().exec(
            _filtrer(
                requete.join(
                    Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id
                )
            )
        )
    )


@bp.get("/pro/prescriptions")
@referent_requis
def mes_prescriptions():
    d = droits()
    services = [s.id for s in d.structures.get("referent", [])]
    requete = select(Prescription, Beneficiaire).where(
        (Prescription.prescripteur_id == d.utilisateur.id)
        | Prescription.structure_prescriptrice_id.in_(services)
    )
    return render_template(
        "prescription/liste.html",
        titre="Mes prescriptions",
        lignes=_lignes(requete),
        **_contexte_liste(),
    )


def _statut_inconnu() -> str | None:
    """A statut no list offers (an old or edited link): said, not ignored."""
    statut = request.args.get("statut", "")
    return statut if statut and statut not in workflow.STATUTS else None


def _fiche_illisible() -> bool:
    """An action id with a control character (an edited link): no fiche has
    one, and PostgreSQL refuses a NUL byte in a query."""
    return caractere_invisible(request.args.get("fiche", ""))


def _contexte_liste() -> dict:
    inconnu = _statut_inconnu()
    return {
        "fiche_illisible": _fiche_illisible(),
        "statuts": workflow.STATUTS,
        "statut": "" if inconnu else request.args.get("statut", ""),
        "statut_inconnu": inconnu,
        "fiches": current_app.extensions["catalogue"].fiches,
        "origines": ORIGINES,
    }


# --- The prestataire -----------------------------------------------------------


@bp.get("/pro/demandes")
@prestataire_requis
def demandes_recues():
    requete = select(Prescription, Beneficiaire).where(
        Prescription.structure_catalogue.in_(droits().structures_prestataires)
    )
    return render_template(
        "prescription/liste.html",
        titre="Demandes reçues",
        lignes=_lignes(requete),
        prestataire=True,
        structures_avis=_structures_prestataires(),
        avis=AVIS,
        **_contexte_liste(),
    )


def _structures_prestataires() -> list[StructurePro]:
    d = droits()
    vues = {}
    for role in (PRESTATAIRE_MEMBRE, PRESTATAIRE_ADMIN):
        for s in d.structures.get(role, []):
            vues[s.id] = s
    return sorted(vues.values(), key=lambda s: s.nom)


@bp.post("/pro/avis/<int:structure_id>")
@prestataire_requis
def avis_structure(structure_id: int):
    """Each member chooses for the structure: every message, or a digest."""
    structure = next(
        (s for s in _structures_prestataires() if s.id == structure_id), None
    )
    if structure is None:
        raise NotFound()
    choix = request.form.get("avis", "")
    if choix not in AVIS:
        flash("Choisissez une des deux façons d'être prévenu.")
        return redirect(url_for("prescription.demandes_recues"), 303)
    structure = db().get(StructurePro, structure_id)
    structure.avis = choix
    db().add(structure)
    db().commit()
    flash(f"C'est noté pour {structure.nom} : {AVIS[choix].lower()}.")
    return redirect(url_for("prescription.demandes_recues"), 303)


@bp.get("/pro/demandes.csv")
@prestataire_requis
def export():
    if inconnu := _statut_inconnu():
        # A file of every request under a filter's name would mislead.
        return (
            f"Statut inconnu : « {inconnu} ». Aucun fichier n'a été fait.",
            422,
            {"Content-Type": "text/plain; charset=utf-8"},
        )
    if _fiche_illisible():
        return (
            "Action illisible dans l'adresse. Aucun fichier n'a été fait.",
            422,
            {"Content-Type": "text/plain; charset=utf-8"},
        )
    structures = droits().structures_prestataires
    requete = select(Prescription, Beneficiaire).where(
        Prescription.structure_catalogue.in_(structures)
    )
    fiches = current_app.extensions["catalogue"].fiches
    jours = demandes.jours_d_entree_et_de_sortie(db(), tuple(structures))
    sortie = io.StringIO()
    ecrivain = csv.writer(sortie, delimiter=";")
    ecrivain.writerow(
        [
            "numero",
            "action_id",
            "action",
            "session",
            "origine",
            "statut",
            "prenom",
            "nom",
            "telephone",
            "courriel",
            "commune",
            "demande_le",
            "entree_le",
            "sortie_le",
            "motif_refus",
            "type_sortie",
        ]
    )
    for p, b in _lignes(requete):
        fiche = fiches.get(p.fiche_id)
        dates = jours.get(p.id, {})
        ecrivain.writerow(
            cellule(v)
            for v in [
                p.id,
                p.fiche_id,
                fiche.nom if fiche else "",
                p.session,
                ORIGINES[p.origine],
                workflow.STATUTS[p.statut],
                b.prenom,
                b.nom,
                b.telephone or "",
                b.courriel or "",
                b.commune_nom or "",
                heure.jour(p.cree_le).isoformat(),
                _jour(dates.get("entrer")),
                _jour(dates.get("sortir")),
                workflow.MOTIFS_REFUS.get(p.motif_refus, ""),
                workflow.TYPES_SORTIE.get(p.type_sortie, ""),
            ]
        )
    # Excel reads UTF-8 with a BOM; the file name carries no personal data.
    return Response(
        "\ufeff" + sortie.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=demandes.csv",
            "Cache-Control": "no-store",
        },
    )


def _prescription_visible(pid: int) -> Prescription:
    """The request, or the same 404 whether it is missing or not yours.

    A 403 would tell which numbers exist. The refused attempt stays in the
    request's audit log.
    """
    p = db().get(Prescription, pid)
    if p is None:
        raise NotFound()
    if not droits().peut_voir(p):
        qui = f"utilisateur {droits().utilisateur.id}"
        demandes.auditer(db(), p, qui, f"accès refusé ({request.method})")
        db().commit()
        raise NotFound()
    return p


def _role_sur(p: Prescription) -> str:
    d = droits()
    return (
        workflow.PRESTATAIRE
        if d.repond_pour(p.structure_catalogue)
        else workflow.REFERENT
    )


def _contexte_detail(p: Prescription) -> dict:
    fiche = _fiche(p.fiche_id)
    role = _role_sur(p)
    return {
        "p": p,
        "b": db().get(Beneficiaire, p.beneficiaire_id),
        "fiche": fiche,
        "role": role,
        # Who asked, and how to reach them: the prestataire calls them back.
        "referent": db().get(Utilisateur, p.prescripteur_id)
        if p.prescripteur_id
        else None,
        "service": db().get(StructurePro, p.structure_prescriptrice_id)
        if p.structure_prescriptrice_id
        else None,
        "aujourd_hui": heure.aujourd_hui(),
        # An exit is dated on or after the entry.
        "entree": demandes.jour_d_entree(db(), p)
        if p.statut == workflow.ENTREE
        else None,
        "dates_d_effet": demandes.DATES_D_EFFET,
        "avec_message": demandes.AVEC_MESSAGE,
        # A refusal or a removal takes no place: no session to choose (the
        # list sent its first one, and « ne change pas la session » stuck a
        # request made before the action had sessions).
        "avec_session": demandes.DIRE_LA_SESSION,
        # Chosen at acceptance, when offering a place, or changed later.
        "sessions": _sessions(fiche) if fiche.sessions else [],
        "possibles": [
            r
            for r in workflow.possibles(p.statut, role, fiche.validation != "aucune")
            if r.exige != "session" or fiche.sessions
        ],
        "journal": demandes.journal(db(), p),
        "statuts": workflow.STATUTS,
        "etapes": workflow.DANS_L_HISTORIQUE,
        "motifs": workflow.MOTIFS_REFUS,
        "sorties": workflow.TYPES_SORTIE,
        "origines": ORIGINES,
        "sexes": demandes.SEXES,
        "tranches": demandes.TRANCHES_AGE,
    }


@bp.get("/pro/prescriptions/<int:pid>")
@connexion_requise
def detail(pid: int):
    p = _prescription_visible(pid)
    demandes.auditer(db(), p, f"utilisateur {droits().utilisateur.id}", "consultation")
    db().commit()
    gabarit = "prescription/_detail.html" if htmx else "prescription/detail.html"
    return render_template(gabarit, **_contexte_detail(p))


def _lire_date(texte: str, erreurs: dict[str, str]) -> date | None:
    """A day from a date field (AAAA-MM-JJ) or typed as JJ/MM/AAAA."""
    texte = texte.strip()
    if not texte:
        return None
    for forme in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(texte, forme).date()
        except ValueError:
            continue
    # Well formed but not in the calendar (« 2027-02-30 »): said so.
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", texte):
        texte = f"{m[3]}/{m[2]}/{m[1]}"
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", texte):
        erreurs["le"] = f"Le {texte} n'existe pas dans le calendrier."
    else:
        erreurs["le"] = f"« {texte[:20]} » n'est pas une date : écrivez-la JJ/MM/AAAA."
    return None


# One rule for both methods: a GET rule of its own beside the POST one made
# Werkzeug answer 405, not 404, to a number no request can have.
@bp.route("/pro/prescriptions/<int:pid>/<action>", methods=["GET", "POST"])
@connexion_requise
def transition(pid: int, action: str):
    if action not in workflow.PAR_ACTION:
        raise NotFound()  # an address no page links to, not « an action »
    p = _prescription_visible(pid)
    tenait = p.place_tenue
    if request.method == "GET":
        # The address of a form's answer, reloaded or opened from the
        # history: the request's page, not « Method Not Allowed ».
        return redirect(url_for("prescription.detail", pid=pid), 303)
    fiche = _fiche(p.fiche_id)
    erreurs: dict[str, str] = {}
    avertissement = None
    pourquoi = lire_texte(request.form, "pourquoi", "La précision", erreurs)
    message = lire_texte(request.form, "message", "Le message", erreurs)
    effet_le = _lire_date(request.form.get("le", ""), erreurs)
    if action == "annuler" and request.form.get("confirmer") != "oui":
        # Next to « Refuser », one slip would free the place and tell the
        # person: it is asked twice, as the person's own cancellation is.
        erreurs["confirmer"] = (
            "Cochez « Je confirme l'annulation » : la place est libérée et la "
            "personne prévenue."
        )
    erreur = next(iter(erreurs.values()), None)
    try:
        if erreur:
            raise workflow.TransitionRefusee(erreur)
        demandes.appliquer(
            db(),
            p,
            action,
            acteur_pro(_role_sur(p)),
            fiche,
            LiensWeb(),
            motif_refus=request.form.get("motif_refus") or None,
            type_sortie=request.form.get("type_sortie") or None,
            pourquoi=pourquoi,
            effet_le=effet_le,
            message=message,
            session=request.form.get("session") or None,
        )
    except workflow.TransitionRefusee as refus:
        db().rollback()
        erreur = str(refus)
    else:
        db().commit()
        _terminer()
        avertissement = _avant_le_debut(p) if action == "entrer" else None
        if action == "refuser" and tenait and p.motif_refus == "complet":
            avertissement = _place_gardee(fiche, p)
        if not htmx:
            # What is now true, not the button's verb (« refuser »).
            flash(f"C'est noté. La demande est « {workflow.STATUTS[p.statut]} ».")
            if avertissement:
                flash(avertissement)
            return redirect(url_for("prescription.detail", pid=pid), 303)
    p = db().get(Prescription, pid)
    gabarit = "prescription/_detail.html" if htmx else "prescription/detail.html"
    # After an error, the form sent comes back as it was typed.
    envoye = request.form if erreur else {}
    return render_template(
        gabarit,
        erreur=erreur,
        avertissement=None if erreur else avertissement,
        envoye=envoye,
        envoyee=action,
        **_contexte_detail(p),
    ), (422 if erreur else 200)


def _place_gardee(fiche, p: Prescription) -> str:
    """« Complète »: the place she held is not put back on sale (the count
    was wrong, the seat taken outside the site). Said, with the way back if
    the count was right: a seat vanished without a word."""
    session = demandes.decrire_session(fiche, p.session)
    ou = f"la {session}" if session else "l'action"
    compte = places.par_session(db(), fiche.id).get(p.session or places.ACTION)
    restantes = getattr(compte, "places_restantes", None)
    if restantes:
        etat = (
            f"{ou} affiche encore {restantes} place{'s' if restantes > 1 else ''} "
            f"restante{'s' if restantes > 1 else ''}"
        )
    else:
        etat = f"{ou} reste comptée complète"
    return (
        f"Sa place n'est pas remise en ligne : {etat}. Si sa place est en fait "
        "libre, ajoutez-la dans « Mes places » (+1)."
    )


def _avant_le_debut(p: Prescription) -> str | None:
    """An entry noted before the day the person was told to start: allowed
    (she may come early), but said, in case the date was mistyped."""
    entree, debut = demandes.jour_d_entree(db(), p), demandes.debut_annonce(db(), p)
    if entree and debut and entree < debut:
        return (
            f"Entrée notée le {entree:%d/%m/%Y}, avant le début annoncé à la "
            f"personne (le {debut:%d/%m/%Y})."
        )
    return None


@bp.route("/pro/fiches/<fiche_id>/inscrire", methods=["GET", "POST"])
@prestataire_requis
def inscrire(fiche_id: str):
    fiche = _fiche(fiche_id)
    if not droits().repond_pour(fiche.structure):
        return render_template("prescription/interdit.html"), 403
    gabarit = "prescription/inscrire.html"
    if request.method == "GET":
        return _formulaire(gabarit, fiche)
    resultat = _demander(
        gabarit,
        fiche,
        lambda personne: Demande(fiche, personne, ORIGINE_PRESTATAIRE),
        acteur_pro(workflow.PRESTATAIRE),
    )
    if not isinstance(resultat, demandes.Resultat):
        return resultat
    db().commit()
    _terminer()
    flash("La personne est inscrite.")
    return redirect(url_for("prescription.detail", pid=resultat.prescription.id), 303)
