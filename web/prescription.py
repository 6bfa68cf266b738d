"""Prescription pages, the common part: who is there, forms, the blueprint.

The routes live by audience: ``prescription_personne`` (the person alone),
``prescription_pro`` (référents and prestataires' requests),
``prescription_places`` (places updates); all share this one blueprint, so
endpoint names stay ``prescription.*``.

Views read the form, check rights, ask ``prescription`` to decide, commit,
then publish places to the search index and send the queued messages.
Every page works without JavaScript; htmx only swaps a row in place.
"""

import re
import secrets
import time
import unicodedata
from datetime import timedelta
from functools import wraps

from email_validator import EmailNotValidError, validate_email
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from catalogue import heure, places, saisie
from catalogue.places import Prise
from catalogue.territoires import (
    commune_habitee,
    communes_proposees,
    departements_des_zones,
    referentiel,
)
from prescription import (
    demandes,
    liens,
    notifications,
    sessions_pro,
    telephones,
    workflow,
)
from prescription.demandes import Acteur, Personne, RegleNonRespectee
from prescription.droits import Droits
from prescription.modeles import (
    ORIGINE_AUTO,
    ORIGINES,
    Beneficiaire,
    Prescription,
    Utilisateur,
)
from web import affichage, donnees, limites
from web.connexion import JETON
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
# Endpoints open to anybody, hence rate limited: config key of their rate,
# the methods counted (reading the sign-up form or fixing a typo costs
# nothing; sending it does), and what is counted: one browser's visit, with
# a higher ceiling for the whole address (a public computer room, a NAT).
LIMITES = {
    "prescription.inscription": [
        ("PRESCRIPTION_LIMITE_INSCRIPTION", ("POST",), "appareil"),
        ("PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE", ("POST",), "adresse"),
    ],
    "prescription.suivi": [("PRESCRIPTION_LIMITE_LIENS", None, "adresse")],
    "prescription.suivi_annuler": [("PRESCRIPTION_LIMITE_LIENS", None, "adresse")],
    "prescription.places_lien": [("PRESCRIPTION_LIMITE_LIENS", None, "adresse")],
}


# --- Who is there -------------------------------------------------------------


def droits() -> Droits | None:
    """The logged-in professional's rights, read once per request."""
    if "droits" not in g:
        g.droits = None
        jeton = session.get(JETON)
        # No token, no database: every search page asks (its cards).
        uid = sessions_pro.utilisateur(db(), jeton) if jeton else None
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
            # The page asked for, its filters too (« ?du=2026-01 »).
            suite = request.full_path.removesuffix("?")
            return redirect(url_for("connexion.connexion", suite=suite))
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


# Longest value of each free text field, said in the form and enforced here
# (never cut silently: the person is told and keeps what she typed).
LONGUEURS = {
    "prenom": 100,
    "nom": 100,
    "telephone": 30,
    "courriel": 254,
    "commune": 80,
    "motif": 2000,
    "pourquoi": 500,
    "message": 500,
}
# Fields of several lines keep their line breaks; others take no control
# character at all (a NUL byte is refused by PostgreSQL, others hide text).
LIGNES = {"motif", "pourquoi", "message"}


# A name read as classes of characters: letters of any script with their
# marks (L: « Nguyễn », « சுப்பிரமணியம் », « مُحَمَّد »), what joins words (S:
# spaces, hyphens, dashes, apostrophes), dots. Words, or initials (« J.P. »):
# no digit of any kind, no address (« caf-regul.fr ») gets into a greeting.
_FORME_DU_NOM = re.compile(r"(?:L+\.?|(?:L\.)+L?)(?:S+(?:L+\.?|(?:L\.)+L?))*")
# Apostrophes, hyphens and dots between the parts of a name, as keyboards of
# every language type them (« D´Angelo », « Gal·la », « ジャン・ピエール »,
# « בן־דוד », a soft hyphen pasted).
_LIANTS = frozenset("'’‘ʼ`´′＇-‐‑‒–—−－־\u00ad·・")
# Part of the word itself: the Hebrew geresh (« ג׳ורג׳ »), the joiners of
# Persian and Indian scripts.
_DANS_LE_MOT = frozenset("׳״\u200c\u200d")


def _classe(c: str) -> str:
    if unicodedata.category(c)[0] in "LM" or c in _DANS_LE_MOT:
        return "L"
    if c.isspace() or c in _LIANTS:
        return "S"
    return "." if c == "." else "X"


def nom_de_personne(texte: str) -> bool:
    forme = "".join(map(_classe, unicodedata.normalize("NFC", texte)))
    return _FORME_DU_NOM.fullmatch(forme) is not None


def lire_texte(form, nom: str, libelle: str, erreurs: dict[str, str]) -> str:
    """A free text field, stripped; a French error if too long or unprintable."""
    valeur = form.get(nom, "").strip()
    maximum = LONGUEURS[nom]
    if saisie.caractere_invisible(valeur, lignes=nom in LIGNES):
        erreurs[nom] = f"{libelle} {saisie.INVISIBLE}."
    elif len(valeur) > maximum:
        # Said the same for every field (« L'explication », « Le prénom »):
        # no agreement to get wrong.
        erreurs[nom] = (
            f"{libelle} dépasse la limite : {len(valeur)} caractères, "
            f"{maximum} au plus. Raccourcissez le texte."
        )
    return valeur


def lire_personne(form, fiche, pour_soi=False) -> tuple[Personne, dict[str, str]]:
    erreurs: dict[str, str] = {}
    prenom = lire_texte(form, "prenom", "Le prénom", erreurs)
    nom = lire_texte(form, "nom", "Le nom", erreurs)
    # The person booking for herself reads « votre prénom ».
    sien = "votre" if pour_soi else "le"
    if not prenom:
        erreurs.setdefault("prenom", f"Indiquez {sien} prénom.")
    if not nom:
        erreurs.setdefault("nom", f"Indiquez {sien} nom.")
    # Messages greet the person by her name: a « prénom » carrying a phone
    # number or an address was sent in the département's own e-mail.
    for champ, libelle in (("prenom", "Le prénom"), ("nom", "Le nom")):
        valeur = prenom if champ == "prenom" else nom
        if valeur and champ not in erreurs and not nom_de_personne(valeur):
            erreurs[champ] = (
                f"{libelle} ne peut contenir que des lettres, des espaces, des "
                "tirets, des apostrophes et des points d'initiales."
            )
    telephone = lire_texte(form, "telephone", "Le téléphone", erreurs)
    courriel = lire_texte(form, "courriel", "L'adresse e-mail", erreurs)
    if telephone and "telephone" not in erreurs:
        numero = telephones.lire(telephone)
        if numero is None and telephones.inexistant(telephone):
            # Its 10 digits are there: « write its 10 digits » would puzzle.
            erreurs["telephone"] = (
                "Ce numéro n'existe pas (il n'est donné à personne) : vérifiez ses "
                "chiffres."
            )
        elif numero is None:
            # An overseas number was the example, on every département's site.
            erreurs["telephone"] = (
                "Ce numéro de téléphone n'est pas valide : écrivez ses 10 "
                "chiffres (par exemple 06 12 34 56 78), ou l'indicatif du pays "
                "suivi du numéro."
            )
        else:
            telephone = telephones.ecrire(numero)
            # Alone, she follows her request by the link we send: a landline
            # would never receive it.
            if pour_soi and not courriel and not telephones.portable(numero):
                erreurs["telephone"] = (
                    "Ce numéro ne reçoit pas de SMS : donnez un numéro de portable "
                    "(06 ou 07) ou une adresse e-mail."
                )
    if courriel and "courriel" not in erreurs:
        try:
            courriel = validate_email(courriel, check_deliverability=False).normalized
        except EmailNotValidError:
            erreurs["courriel"] = (
                "Cette adresse e-mail n'est pas valide (ex. nom@exemple.fr)."
            )
    if not telephone and not courriel:
        erreurs.setdefault(
            "telephone", "Indiquez un numéro de téléphone ou une adresse e-mail."
        )
    commune = None
    texte_commune = lire_texte(form, "commune", "La commune", erreurs)
    if not texte_commune:
        erreurs.setdefault("commune", "Indiquez la commune d'habitation.")
    elif "commune" not in erreurs:
        commune, erreur = commune_habitee(texte_commune, _departements_de(fiche))
        if erreur:
            erreurs["commune"] = erreur
    # Only what the form asked is kept, whatever else was posted.
    situations = demandes.situations_demandees(fiche)
    public = (form.get("public") or None) if situations else None
    if public and public not in situations:
        erreurs["public"] = "Choisissez une situation de la liste."
    # Never asked of the person booking alone (README, RGPD): a value posted
    # anyway is not kept, and does not count in the figures.
    sexe = (None if pour_soi else form.get("sexe")) or "non-renseigne"
    if sexe not in demandes.SEXES:
        erreurs["sexe"] = "Choisissez une réponse de la liste."
    tranche = (None if pour_soi else form.get("tranche_age")) or "non-renseigne"
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


BOUTONS_COMMUNES = 6


def _communes_a_proposer(form, fiche) -> list[tuple[str, str]]:
    """« Vouliez-vous dire » buttons: (value, text), the communes of the
    action's zone first; one outside it says so before she taps it, not after
    « Envoyer » (her own commune may be the one outside)."""
    departements = _departements_de(fiche)
    boutons = []
    for nom in communes_proposees(form["commune"], departements):
        commune, _erreur = commune_habitee(nom, departements)
        dehors = not demandes.dans_la_zone(fiche, commune)
        boutons.append(
            (dehors, nom, f"{nom}, hors de la zone de l'action" if dehors else nom)
        )
    # The zone's first, then cut: « Saint » has dozens in a département.
    boutons.sort(key=lambda b: b[0])
    return [(nom, texte) for _dehors, nom, texte in boutons[:BOUTONS_COMMUNES]]


def _departements_de(fiche) -> set[str]:
    codes = [
        *fiche.zone_eligibilite,
        *(lieu.code_insee for lieu in fiche.lieux if lieu.code_insee),
    ]
    return departements_des_zones(codes, referentiel())


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
        if s.debut >= heure.aujourd_hui()
    ]


def _complet(fiche) -> bool:
    """No place left at all: the form offers the waiting list before typing."""
    etat = places.etats(db(), [fiche.id]).get(fiche.id)
    return etat is not None and etat.places_restantes == 0


JETON_ENVOI = re.compile(r"[A-Za-z0-9_-]{16,43}")
# The form tokens this browser was given, newest last: a token counts only
# in the browser it was made for (anybody may read it in a page).
ENVOIS_GARDES = 20


# A used token still answers with its request this long: a second tap on a
# slow network often leaves after the first answer set the cookie.
ENVOI_REPRIS_S = 600


def _envoi(form) -> str | None:
    """The form's submission token, if this browser was given it (and did
    not use it more than ENVOI_REPRIS_S ago)."""
    jeton = (form or {}).get("envoi") or ""
    if not (JETON_ENVOI.fullmatch(jeton) and jeton in session.get("envois", ())):
        return None
    fait = session.get("envois_faits", {}).get(jeton)
    if fait is not None and not 0 <= time.time() - fait <= ENVOI_REPRIS_S:
        return None
    return jeton


# A request this browser made is said calmly, its link not sent again, this
# long (Back, then « Envoyer » again).
FAITE_ICI_S = 2 * 3600


def _faite_ici(p: Prescription) -> bool:
    """Made from this browser, by a form token it was given, lately."""
    fait = session.get("envois_faits", {}).get(p.jeton_envoi or "")
    return fait is not None and 0 <= time.time() - fait <= FAITE_ICI_S


def _nouvel_envoi() -> str:
    jeton = secrets.token_urlsafe(16)
    envois = [*session.get("envois", ())][-(ENVOIS_GARDES - 1) :] + [jeton]
    session["envois"] = envois
    faits = session.get("envois_faits", {})
    session["envois_faits"] = {j: t for j, t in faits.items() if j in envois}
    return jeton


def oublier_envoi(form) -> None:
    """Once its request is made, the form sent again from this browser is
    the same request for ENVOI_REPRIS_S (a second tap), then a new request,
    checked as such (Back, on a shared computer)."""
    if (jeton := _envoi(form)) is not None:
        faits = session.get("envois_faits", {})
        if jeton not in faits:
            session["envois_faits"] = {**faits, jeton: int(time.time())}


def _formulaire(gabarit: str, fiche, statut: int = 200, **contexte):
    form = contexte.get("form") or {}
    return render_template(
        gabarit,
        # The same submission when the form comes back to be corrected.
        envoi=_envoi(form) or _nouvel_envoi(),
        fiche=fiche,
        complet=_complet(fiche),
        structure=_structure(fiche),
        sessions=_sessions(fiche),
        publics=[
            (x, affichage.libelle("publics", x))
            for x in demandes.situations_demandees(fiche)
        ],
        sexes=demandes.SEXES,
        tranches=demandes.TRANCHES_AGE,
        form=contexte.pop("form", {}),
        erreurs=contexte.pop("erreurs", {}),
        **contexte,
    ), statut


def _demander(
    gabarit: str,
    fiche,
    demande_de,
    acteur: Acteur,
    pour_soi=False,
    confirmer_hors_zone=False,
    **contexte,
):
    """The common path of every journey's POST: check, record, answer.

    ``pour_soi``: the person asks for herself (the waiting list button says
    "M'inscrire"); otherwise a professional asks for someone else.
    """
    form = request.form
    envoi = _envoi(form)
    if (deja := demandes.deja_envoyee(db(), envoi)) is not None:
        if _meme_envoi(deja, fiche, acteur, form):
            # This very form was recorded already (a double tap on a slow
            # network): its answer again, not « already asked » and a 2nd SMS.
            oublier_envoi(form)
            return demandes.Resultat(Prise.PRISE, deja)
        # Back to a sent form, another person typed in (a référent's next
        # one): a new request, which the token no longer tells apart.
        envoi = None
    # A commune « Vouliez-vous dire » proposed, chosen with one tap: it
    # replaces what was typed; the request waits for her to check and send.
    choisie = form.get("commune_choisie")
    if choisie is not None:
        form = form.copy()
        form["commune"] = choisie
        form.pop("commune_choisie")
    personne, erreurs = lire_personne(form, fiche, pour_soi)
    erreurs.update(contexte.pop("erreurs_en_plus", {}))
    if "commune" in erreurs and form.get("commune", "").strip():
        contexte["propositions"] = {"commune": _communes_a_proposer(form, fiche)}
    dehors = bool(
        personne.commune and not demandes.dans_la_zone(fiche, personne.commune)
    )
    if dehors and pour_soi:
        # Not a dead end: the actions open to where she lives.
        contexte["ailleurs"] = {
            "commune": personne.commune.nom,
            "lien": url_for("catalogue.index", commune=personne.commune.nom),
        }
        if erreurs and "commune" not in erreurs:
            # Every problem at once: on a phone each round trip costs.
            erreurs["commune"] = demandes.hors_zone(personne.commune)
    if dehors and confirmer_hors_zone:
        # Asked before a place is held for someone the structure will likely
        # refuse (a typo in the commune, often), not said afterwards.
        contexte["hors_zone_a_confirmer"] = personne.commune.nom
        if form.get("hors_zone") != "oui":
            erreurs["hors_zone"] = (
                f"{personne.commune.nom} est hors de la zone de l'action : "
                "vérifiez la commune. Si c'est bien elle, cochez cette case "
                "pour envoyer quand même (la structure pourra refuser)."
            )
    if erreurs:
        return _formulaire(gabarit, fiche, 422, form=form, erreurs=erreurs, **contexte)
    if choisie is not None:
        return _formulaire(
            gabarit, fiche, form=form, commune_choisie=personne.commune.nom, **contexte
        )
    demande = demande_de(personne)
    demande.session = _session_choisie(form, fiche)
    demande.liste_attente = form.get("liste_attente") == "oui"
    demande.jeton_envoi = envoi
    try:
        try:
            resultat = demandes.creer(db(), demande, acteur, LiensWeb())
        except IntegrityError:
            # Sent twice at the same instant: the other copy was recorded.
            db().rollback()
            deja = demandes.deja_envoyee(db(), envoi)
            if deja is None:
                raise
            if _meme_envoi(deja, fiche, acteur, form):
                oublier_envoi(form)
                return demandes.Resultat(Prise.PRISE, deja)
            # The same form, two people typed in two tabs: each its own.
            demande.jeton_envoi = None
            resultat = demandes.creer(db(), demande, acteur, LiensWeb())
    except demandes.DejaDemandee as doublon:
        db().rollback()
        return _deja_demandee(fiche, doublon.existante.id, pour_soi, personne)
    except RegleNonRespectee as refus:
        db().rollback()
        if refus.champ:
            # About one answer (her commune, the session): beside it, marked
            # and in the error list that takes the focus.
            erreurs = {refus.champ: str(refus)}
            return _formulaire(
                gabarit, fiche, 422, form=form, erreurs=erreurs, **contexte
            )
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
            # Another session of the action with a place left: said first.
            autres_sessions=[
                s
                for s in _sessions(fiche)
                if s["cle"] != demande.session and s["restantes"]
            ],
        )
    oublier_envoi(form)
    return resultat


def _meme_envoi(p: Prescription, fiche, acteur: Acteur, form) -> bool:
    """The request this form made: same action, same sender, same person."""
    return (
        p.fiche_id == fiche.id
        and p.prescripteur_id == acteur.utilisateur_id
        and (p.origine == ORIGINE_AUTO) == (acteur.role == workflow.BENEFICIAIRE)
        and _meme_personne(p, form)
    )


def _meme_personne(p: Prescription, form) -> bool:
    b = db().get(Beneficiaire, p.beneficiaire_id)

    def pareil(a, b) -> bool:
        return (
            " ".join((a or "").split()).casefold()
            == " ".join((b or "").split()).casefold()
        )

    return pareil(b.prenom, form.get("prenom")) and pareil(b.nom, form.get("nom"))


def _deja_demandee(fiche, pid: int, pour_soi: bool, tape: Personne):
    """A second request for the same person: show the first, never a copy.

    The person gets her follow-up link again on her own phone or mailbox,
    not on screen: whoever types her name and number must not read it.
    """
    existante = db().get(Prescription, pid)
    # Sent again from the browser that made it (Back, then « Envoyer »: the
    # page reloads with a new form token). Her link went to her phone a
    # moment ago: said calmly, and not sent twice. Never on screen: the next
    # person at a shared computer could type her name and number too.
    ici = pour_soi and _faite_ici(existante)
    beneficiaire = db().get(Beneficiaire, existante.beneficiaire_id)
    renvoye = False
    if pour_soi and not ici:
        renvoye = demandes.redire_le_suivi(db(), existante, fiche, LiensWeb())
        db().commit()
        envoyer_messages()
    d = droits()
    structure = _structure(fiche)
    return render_template(
        "prescription/deja_demandee.html",
        fiche=fiche,
        p=existante,
        pour_soi=pour_soi,
        ici=ici,
        renvoye=renvoye,
        telephone=fiche.telephone or (structure.telephone if structure else None),
        # Another service's référent learns no date, status nor number: a
        # name and a phone number must not tell where someone is followed.
        visible=bool(d and d.peut_voir(existante)),
        contact=_contact_masque(beneficiaire, tape),
        statuts=workflow.STATUTS,
        origines=ORIGINES,
    ), 409


def _contact_masque(b: Beneficiaire, tape: Personne) -> str:
    """Where the link went, recognisable by its owner only; named only when
    it is what was just typed: nobody learns a contact they did not give."""
    if b.courriel:
        if (tape.courriel or "").casefold() == b.courriel.casefold():
            return "l'adresse " + notifications.masquer(b.courriel)
    elif tape.telephone and tape.telephone == b.telephone:
        return "le numéro " + notifications.masquer(b.telephone)
    return "le téléphone ou l'adresse e-mail donnés lors de la première demande"


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


# --- The département -------------------------------------------------------------


@bp.get("/pro/indicateurs")
@departement_requis
def indicateurs_page():
    """Moved: the pilotage page counts in the database, with filters."""
    return redirect(url_for("pilotage.page"), 301)


@bp.get("/pro/")
@connexion_requise
def accueil():
    return render_template("prescription/accueil.html", d=droits())


@bp.app_context_processor
def contexte_pro() -> dict:
    return {
        "droits_pro": droits,
        "refus_de_prescrire": _refus_de_prescrire,
        "fiches_du_prestataire": _fiches_du_prestataire,
        "longueurs": LONGUEURS,
    }


def _refus_de_prescrire(fiche) -> str | None:
    """Why the logged-in référent's service may not prescribe this action:
    said on the fiche, where the button would lead to a refusal."""
    d = droits()
    return demandes.refus_du_service(fiche, d.service if d else None)


def _pour_pro() -> bool:
    """A professional's page or a logged-in professional: words for them."""
    return request.path.startswith(("/pro/", "/places/")) or droits() is not None


@bp.app_errorhandler(CSRFError)
def jeton_csrf_absent(_erreur):
    if request.endpoint == "prescription.inscription" and request.method == "POST":
        # Her session was lost (the browser closed, cookies cleared): the
        # form comes back as she typed it, with a new token, nothing sent.
        fiche = current_app.extensions["catalogue"].fiches.get(
            (request.view_args or {}).get("fiche_id", "")
        )
    else:
        fiche = None
    if fiche is not None:
        return _formulaire(
            "prescription/inscription.html",
            fiche,
            400,
            form=request.form,
            refus="Rien n'est encore envoyé : la page avait expiré. Vérifiez ce que "
            "vous avez écrit ci-dessous, puis envoyez de nouveau.",
        )
    return render_template(
        "prescription/lien_invalide.html",
        titre="Formulaire expiré",
        message="Ce formulaire a expiré ou ne vient pas de ce site. "
        "Rechargez la page, puis recommencez.",
        pour_pro=_pour_pro(),
        lien_places=request.path.startswith("/places/"),
    ), 400


@bp.app_errorhandler(429)
def trop_de_demandes(_erreur):
    message = (
        "Vous avez fait beaucoup de demandes en peu de temps. "
        f"Attendez un peu, puis réessayez dans {limites.attente_en_mots()}."
    )
    if request.endpoint == "prescription.inscription" and request.method == "POST":
        # The form comes back as it was sent: nothing typed is lost.
        fiche = _fiche(request.view_args["fiche_id"])
        return _formulaire(
            "prescription/inscription.html",
            fiche,
            429,
            form=request.form,
            refus=message + " Ce que vous avez écrit est gardé ci-dessous.",
        )
    return render_template(
        "prescription/lien_invalide.html",
        titre="Trop de demandes",
        message=message,
        pour_pro=_pour_pro(),
        lien_places=request.path.startswith("/places/"),
    ), 429


# The audiences' routes join the blueprint (they import the helpers above).
from web import (  # noqa: E402
    prescription_attente,  # noqa: F401
    prescription_personne,  # noqa: F401
    prescription_places,  # noqa: F401
    prescription_pro,  # noqa: F401
)
