"""Prescription pages: the référent, the person alone, the prestataire, the département.

Views read the form, check rights, ask ``prescription`` to decide, commit,
then publish places to the search index and send the queued messages.
Every page works without JavaScript; htmx only swaps a row in place.
"""

import csv
import io
from datetime import date, timedelta
from functools import wraps

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFError
from sqlmodel import select
from werkzeug.exceptions import NotFound

from catalogue import places
from catalogue.territoires import referentiel
from prescription import demandes, indicateurs, liens, notifications, workflow
from prescription.demandes import Acteur, Demande, Personne, RegleNonRespectee
from prescription.droits import Droits
from prescription.modeles import (
    ORIGINE_AUTO,
    ORIGINE_PRESTATAIRE,
    ORIGINE_REFERENT,
    ORIGINES,
    Beneficiaire,
    Prescription,
    Transition,
    Utilisateur,
)
from web import affichage, donnees
from web.donnees import db
from web.securite import en_production, url_absolue

bp = Blueprint("prescription", __name__)


@bp.after_request
def _jamais_en_cache(reponse):
    """Pages about people (and signed links) stay out of every cache."""
    reponse.headers["Cache-Control"] = "no-store, private"
    return reponse


htmx = HTMX()

LIEN_SUIVI = "prescription"
LIEN_PLACES = "places"
# Endpoints open to anybody, hence rate limited: config key of their rate, and
# the methods counted (reading the sign-up form or fixing a typo costs nothing;
# sending it does).
LIMITES = {
    "prescription.inscription": ("PRESCRIPTION_LIMITE_INSCRIPTION", ("POST",)),
    "prescription.suivi": ("PRESCRIPTION_LIMITE_LIENS", None),
    "prescription.suivi_annuler": ("PRESCRIPTION_LIMITE_LIENS", None),
    "prescription.places_lien": ("PRESCRIPTION_LIMITE_LIENS", None),
}
ID_MAX = 2**31 - 1
# The most places one action can list (as the fiche format allows).
PLACES_MAX = 100_000
# A spreadsheet runs a cell starting with one of these as a formula.
DEBUTS_DE_FORMULE = ("=", "+", "-", "@", "\t", "\r")


def cellule(valeur) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    texte = "" if valeur is None else str(valeur)
    return "'" + texte if texte.startswith(DEBUTS_DE_FORMULE) else texte


# --- Who is there -------------------------------------------------------------


def droits() -> Droits | None:
    """The logged-in professional's rights, read once per request."""
    if "droits" not in g:
        g.droits = None
        uid = session.get("utilisateur_id")
        utilisateur = db().get(Utilisateur, uid) if uid else None
        if utilisateur is not None:
            g.droits = Droits.lire(db(), utilisateur)
    return g.droits


def connexion_requise(vue):
    @wraps(vue)
    def garde(*args, **kwargs):
        if droits() is None:
            if htmx:
                # A fragment never receives the login page.
                reponse = Response("Connexion nécessaire", status=401)
                reponse.headers["HX-Redirect"] = url_for("connexion.connexion")
                return reponse
            return redirect(url_for("connexion.connexion", suite=request.path))
        return vue(*args, **kwargs)

    return garde


def acteur_pro(role: str) -> Acteur:
    d = droits()
    return Acteur(role, f"utilisateur {d.utilisateur.id}", d.utilisateur.id)


class LiensWeb:
    """The addresses messages carry; a personal link is made for each one."""

    def __init__(self, session=None):
        self.session = session  # the scheduler's own, outside a request

    def suivi(self, p: Prescription) -> str:
        jeton = _lien_de_suivi(p, self.session)
        return url_absolue("prescription.suivi", jeton=jeton)

    def pro(self, p: Prescription) -> str:
        return url_absolue("prescription.detail", pid=p.id)

    def courriel_structure(self, structure: str) -> str | None:
        s = current_app.extensions["catalogue"].structures.get(structure)
        return s.courriel if s else None


def _lien_de_suivi(p: Prescription, session=None) -> str:
    duree = timedelta(days=current_app.config["PRESCRIPTION_LIEN_JOURS"])
    return liens.creer(
        session or db(), current_app.config["SECRET_KEY"], LIEN_SUIVI, str(p.id), duree
    )


def _terminer() -> None:
    """After the commit: places to the index, messages to their senders."""
    donnees.publier()
    envoyer_messages()


def envoyer_messages() -> None:
    notifications.envoyer_en_attente(
        current_app.extensions["db"],
        notifications.expediteurs_depuis_config(
            current_app.config, discret=en_production(current_app)
        ),
    )


def _fiche(fiche_id: str):
    fiche = current_app.extensions["catalogue"].fiches.get(fiche_id)
    if fiche is None:
        raise NotFound()
    return fiche


def _structure(fiche):
    return current_app.extensions["catalogue"].structures.get(fiche.structure)


# --- Forms --------------------------------------------------------------------


def lire_personne(form, fiche) -> tuple[Personne, dict[str, str]]:
    erreurs: dict[str, str] = {}
    prenom = form.get("prenom", "").strip()[:100]
    nom = form.get("nom", "").strip()[:100]
    if not prenom:
        erreurs["prenom"] = "Indiquez le prénom."
    if not nom:
        erreurs["nom"] = "Indiquez le nom."
    telephone = form.get("telephone", "").strip()
    courriel = form.get("courriel", "").strip()
    if telephone:
        try:
            numero = phonenumbers.parse(telephone, "FR")
            if not phonenumbers.is_valid_number(numero):
                raise phonenumbers.NumberParseException(0, "invalide")
            telephone = phonenumbers.format_number(
                numero, phonenumbers.PhoneNumberFormat.NATIONAL
            )
        except phonenumbers.NumberParseException:
            erreurs["telephone"] = (
                "Ce numéro de téléphone n'est pas valide (ex. 06 12 34 56 78)."
            )
    if courriel:
        try:
            courriel = validate_email(courriel, check_deliverability=False).normalized
        except EmailNotValidError:
            erreurs["courriel"] = (
                "Cette adresse e-mail n'est pas valide (ex. nom@exemple.fr)."
            )
    if not telephone and not courriel:
        erreurs["telephone"] = "Indiquez un numéro de téléphone ou une adresse e-mail."
    commune = None
    texte_commune = form.get("commune", "").strip()[:80]
    if not texte_commune:
        erreurs["commune"] = "Indiquez la commune d'habitation."
    else:
        commune = referentiel().trouver(texte_commune)
        if commune is None:
            erreurs["commune"] = (
                "Commune inconnue : écrivez son nom ou son code postal (ex. Alençon)."
            )
    public = form.get("public") or None
    if public and public not in fiche.publics:
        erreurs["public"] = "Choisissez une situation de la liste."
    sexe = form.get("sexe") or "non-renseigne"
    if sexe not in demandes.SEXES:
        erreurs["sexe"] = "Choisissez une réponse de la liste."
    tranche = form.get("tranche_age") or "non-renseigne"
    if tranche not in demandes.TRANCHES_AGE:
        erreurs["tranche_age"] = "Choisissez une réponse de la liste."
    personne = Personne(
        prenom=prenom,
        nom=nom,
        telephone=telephone or None,
        courriel=courriel or None,
        commune=commune,
        public=public,
        sexe=sexe,
        tranche_age=tranche,
    )
    return personne, erreurs


def _session_choisie(form, fiche) -> str:
    if not fiche.sessions:
        return places.ACTION
    ouvertes = demandes.sessions_ouvertes(fiche)
    choisie = form.get("session", "")
    if not choisie and len(ouvertes) == 1:
        return ouvertes[0]
    return choisie


def _sessions(fiche) -> list[dict]:
    lignes = places.par_session(db(), fiche.id)
    return [
        {
            "cle": places.cle_session(s.debut),
            "debut": s.debut,
            "restantes": getattr(
                lignes.get(places.cle_session(s.debut)), "places_restantes", None
            ),
        }
        for s in fiche.sessions
        if s.debut >= date.today()
    ]


def _formulaire(gabarit: str, fiche, statut: int = 200, **contexte):
    return render_template(
        gabarit,
        fiche=fiche,
        structure=_structure(fiche),
        sessions=_sessions(fiche),
        publics=[(x, affichage.libelle("publics", x)) for x in fiche.publics],
        sexes=demandes.SEXES,
        tranches=demandes.TRANCHES_AGE,
        form=contexte.pop("form", {}),
        erreurs=contexte.pop("erreurs", {}),
        **contexte,
    ), statut


def _demander(
    gabarit: str, fiche, demande_de, acteur: Acteur, pour_soi=False, **contexte
):
    """The common path of every journey's POST: check, record, answer.

    ``pour_soi``: the person asks for herself (the waiting list button says
    "M'inscrire"); otherwise a professional asks for someone else.
    """
    form = request.form
    personne, erreurs = lire_personne(form, fiche)
    erreurs.update(contexte.pop("erreurs_en_plus", {}))
    if erreurs:
        return _formulaire(gabarit, fiche, 422, form=form, erreurs=erreurs, **contexte)
    demande = demande_de(personne)
    demande.session = _session_choisie(form, fiche)
    demande.liste_attente = form.get("liste_attente") == "oui"
    try:
        resultat = demandes.creer(db(), demande, acteur, LiensWeb())
    except RegleNonRespectee as refus:
        db().rollback()
        return _formulaire(gabarit, fiche, 422, form=form, refus=str(refus), **contexte)
    if resultat.complet:
        db().rollback()
        return render_template(
            "prescription/complet.html",
            fiche=fiche,
            form=form,
            action=request.path,
            session_choisie=demande.session,
            pour_soi=pour_soi,
        )
    return resultat


# --- The person alone (auto-prescription) ------------------------------------


@bp.route("/fiches/<fiche_id>/inscription", methods=["GET", "POST"])
def inscription(fiche_id: str):
    fiche = _fiche(fiche_id)
    gabarit = "prescription/inscription.html"
    if request.method == "GET":
        if not fiche.auto_prescription:
            return _formulaire(gabarit, fiche, 403, refus=_pas_d_auto_inscription())
        return _formulaire(gabarit, fiche)
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
    flash("nouvelle")
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
    return render_template(
        "prescription/suivi.html",
        p=p,
        fiche=fiche,
        structure=_structure(fiche),
        jeton=jeton,
        peut_annuler=bool(
            workflow.possibles(p.statut, workflow.BENEFICIAIRE, True)
            and p.statut not in workflow.TERMINES
        ),
        statuts=workflow.STATUTS,
        motifs=workflow.MOTIFS_REFUS,
    )


@bp.post("/suivi/<jeton>/annuler")
def suivi_annuler(jeton: str):
    lien = _lien_lu(jeton)
    p = db().get(Prescription, int(lien.cible))
    fiche = _fiche(p.fiche_id)
    try:
        demandes.appliquer(db(), p, "annuler", Acteur.beneficiaire(), fiche, LiensWeb())
    except workflow.TransitionRefusee as refus:
        db().rollback()
        return render_template(
            "prescription/lien_invalide.html", message=str(refus)
        ), 409
    db().commit()
    _terminer()
    return redirect(url_for("prescription.suivi", jeton=jeton), 303)


# --- The référent --------------------------------------------------------------


def role_requis(test):
    def decorateur(vue):
        @wraps(vue)
        @connexion_requise
        def garde(*args, **kwargs):
            if not test(droits()):
                return render_template("prescription/interdit.html"), 403
            return vue(*args, **kwargs)

        return garde

    return decorateur


referent_requis = role_requis(lambda d: d.referent)
prestataire_requis = role_requis(lambda d: d.prestataire)
departement_requis = role_requis(lambda d: d.departement)


@bp.route("/fiches/<fiche_id>/prescrire", methods=["GET", "POST"])
@referent_requis
def prescrire(fiche_id: str):
    fiche = _fiche(fiche_id)
    gabarit = "prescription/prescrire.html"
    service = droits().service
    if request.method == "GET":
        return _formulaire(
            gabarit, fiche, refus=demandes.refus_du_service(fiche, service)
        )
    en_plus = {}
    if request.form.get("engagement") != "oui":
        en_plus["engagement"] = (
            "Cochez la case : la personne doit être informée et d'accord."
        )
    motif = request.form.get("motif", "").strip()[:2000]
    if not motif:
        en_plus["motif"] = "Expliquez en quelques mots pourquoi cette action."
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
        erreurs_en_plus=en_plus,
    )
    if not isinstance(resultat, demandes.Resultat):
        return resultat
    db().commit()
    _terminer()
    for avertissement in resultat.avertissements:
        flash(avertissement)
    flash("Demande envoyée : la structure va vous répondre.")
    return redirect(url_for("prescription.detail", pid=resultat.prescription.id), 303)


def _filtrer(requete):
    statut = request.args.get("statut", "")
    if statut in workflow.STATUTS:
        requete = requete.where(Prescription.statut == statut)
    fiche_id = request.args.get("fiche", "")
    if fiche_id:
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


def _contexte_liste() -> dict:
    return {
        "statuts": workflow.STATUTS,
        "statut": request.args.get("statut", ""),
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
        **_contexte_liste(),
    )


@bp.get("/pro/demandes.csv")
@prestataire_requis
def export():
    requete = select(Prescription, Beneficiaire).where(
        Prescription.structure_catalogue.in_(droits().structures_prestataires)
    )
    sortie = io.StringIO()
    ecrivain = csv.writer(sortie, delimiter=";")
    ecrivain.writerow(
        [
            "numero",
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
            "motif_refus",
            "type_sortie",
        ]
    )
    for p, b in _lignes(requete):
        ecrivain.writerow(
            cellule(v)
            for v in [
                p.id,
                p.fiche_id,
                p.session,
                ORIGINES[p.origine],
                workflow.STATUTS[p.statut],
                b.prenom,
                b.nom,
                b.telephone or "",
                b.courriel or "",
                b.commune_nom or "",
                p.cree_le.date().isoformat(),
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
    # Beyond the database's integer: no such request (and no overflow error).
    p = db().get(Prescription, pid) if pid <= ID_MAX else None
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
        "possibles": [
            r for r in workflow.possibles(p.statut, role, fiche.validation != "aucune")
        ],
        "journal": list(
            db().exec(
                select(Transition)
                .where(Transition.prescription_id == p.id)
                .order_by(Transition.id)
            )
        ),
        "statuts": workflow.STATUTS,
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


@bp.post("/pro/prescriptions/<int:pid>/<action>")
@connexion_requise
def transition(pid: int, action: str):
    p = _prescription_visible(pid)
    fiche = _fiche(p.fiche_id)
    erreur = None
    try:
        r = demandes.appliquer(
            db(),
            p,
            action,
            acteur_pro(_role_sur(p)),
            fiche,
            LiensWeb(),
            motif_refus=request.form.get("motif_refus") or None,
            type_sortie=request.form.get("type_sortie") or None,
            pourquoi=request.form.get("pourquoi", "").strip()[:500],
        )
    except workflow.TransitionRefusee as refus:
        db().rollback()
        erreur = str(refus)
    else:
        db().commit()
        _terminer()
        if not htmx:
            flash(f"C'est noté : {r.libelle.lower()}.")
            return redirect(url_for("prescription.detail", pid=pid), 303)
    p = db().get(Prescription, pid)
    gabarit = "prescription/_detail.html" if htmx else "prescription/detail.html"
    return render_template(gabarit, erreur=erreur, **_contexte_detail(p)), (
        422 if erreur else 200
    )


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


def _fiches_du_prestataire() -> list:
    structures = droits().structures_prestataires
    return sorted(
        (
            f
            for f in current_app.extensions["catalogue"].fiches.values()
            if f.structure in structures
        ),
        key=lambda f: f.nom,
    )


def _lignes_places(fiche) -> list[dict]:
    existantes = places.par_session(db(), fiche.id)
    cles = [s["cle"] for s in _sessions(fiche)] if fiche.sessions else [places.ACTION]
    return [
        {
            "fiche": fiche,
            "session": cle,
            "restantes": getattr(existantes.get(cle), "places_restantes", None),
            "capacite": demandes.capacite(fiche, cle),
            "premiere": i == 0,
            "liens_actifs": liens.actifs(db(), LIEN_PLACES, fiche.id) if i == 0 else 0,
        }
        for i, cle in enumerate(cles)
    ]


@bp.get("/pro/places")
@prestataire_requis
def tableau():
    return render_template(
        "prescription/tableau.html",
        lignes=[ligne for f in _fiches_du_prestataire() for ligne in _lignes_places(f)],
        lien=None,
    )


def _changer_places(fiche, auteur: str):
    """Read the one-tap form and set the number; an error message or None."""
    cle = request.form.get("session", places.ACTION)
    if cle not in {ligne["session"] for ligne in _lignes_places(fiche)}:
        return cle, "Cette session n'existe pas."
    actuelle = getattr(
        places.par_session(db(), fiche.id).get(cle), "places_restantes", None
    )
    capacite = demandes.capacite(fiche, cle)
    valeur = request.form.get("places", "").strip()
    ecart = request.form.get("ecart")
    if ecart in ("-1", "+1"):
        nombre = (actuelle or 0) + int(ecart)
    elif valeur == "":
        nombre = None
    elif valeur.isascii() and valeur.isdigit() and len(valeur) <= 6:
        nombre = int(valeur)
    else:
        return cle, "Écrivez un nombre entier, ou laissez vide pour ne pas suivre."
    if nombre is not None and nombre > PLACES_MAX:
        return cle, "Au plus 100 000 places par action."
    if nombre is not None and nombre < 0:
        return cle, "Il ne peut pas rester moins de zéro place."
    if nombre is not None and capacite is not None and nombre > capacite:
        return cle, f"Au plus {int(capacite)} places : c'est la capacité de l'action."
    places.fixer(db(), fiche.id, nombre, auteur, session=cle, motif="tableau de bord")
    db().commit()
    donnees.publier()
    return cle, None


@bp.post("/pro/places/<fiche_id>")
@prestataire_requis
def changer_places(fiche_id: str):
    fiche = _fiche(fiche_id)
    if not droits().repond_pour(fiche.structure):
        return render_template("prescription/interdit.html"), 403
    cle, erreur = _changer_places(fiche, f"utilisateur {droits().utilisateur.id}")
    ligne = next((x for x in _lignes_places(fiche) if x["session"] == cle), None)
    if htmx and ligne is not None:
        return render_template(
            "prescription/_ligne_places.html", ligne=ligne, erreur=erreur
        ), (422 if erreur else 200)
    flash(erreur or "Places mises à jour.")
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
    return render_template(
        "prescription/tableau.html",
        lignes=[ligne for f in _fiches_du_prestataire() for ligne in _lignes_places(f)],
        lien=(fiche, url_absolue("prescription.places_lien", jeton=jeton)),
    )


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
        return render_template(
            "prescription/lien_invalide.html", message=str(erreur)
        ), 410
    fiche = _fiche(lien.cible)
    erreur = None
    if request.method == "POST":
        _, erreur = _changer_places(fiche, "lien de mise à jour")
        if not erreur:
            flash("Places mises à jour.")
            return redirect(url_for("prescription.places_lien", jeton=jeton), 303)
    return render_template(
        "prescription/places_lien.html",
        fiche=fiche,
        lignes=_lignes_places(fiche),
        erreur=erreur,
        jeton=jeton,
    ), (422 if erreur else 200)


# --- The département -------------------------------------------------------------


@bp.get("/pro/indicateurs")
@departement_requis
def indicateurs_page():
    fiches = current_app.extensions["catalogue"].fiches
    return render_template(
        "prescription/indicateurs.html",
        i=indicateurs.calculer(db(), fiches),
        origines=ORIGINES,
        statuts=workflow.STATUTS,
        sexes=demandes.SEXES,
        tranches=demandes.TRANCHES_AGE,
        sorties=workflow.TYPES_SORTIE,
    )


@bp.get("/pro/")
@connexion_requise
def accueil():
    return render_template("prescription/accueil.html", d=droits())


@bp.app_context_processor
def contexte_pro() -> dict:
    return {"droits_pro": droits, "fiches_du_prestataire": _fiches_du_prestataire}


@bp.app_errorhandler(CSRFError)
def jeton_csrf_absent(_erreur):
    return render_template(
        "prescription/lien_invalide.html",
        titre="Formulaire expiré",
        message="Ce formulaire a expiré ou ne vient pas de ce site. "
        "Rechargez la page, puis recommencez.",
    ), 400


@bp.app_errorhandler(429)
def trop_de_demandes(_erreur):
    return render_template(
        "prescription/lien_invalide.html",
        titre="Trop de demandes",
        message="Vous avez fait beaucoup de demandes en peu de temps. "
        "Attendez un peu, puis réessayez.",
    ), 429
