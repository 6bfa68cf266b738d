"""A prestataire proposes changes to its fiches; the département validates them.

The form is read into the fiche's own fields and checked by the loader's
model: the messages are the ones an author of the YAML would read.
"""

import re
from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func
from sqlmodel import select
from werkzeug.exceptions import NotFound

from catalogue import heure, horaires, places, revisions, saisie
from catalogue.fiche import message_session_en_double, session_en_double
from catalogue.vocabulaires import vocabulaire
from prescription import demandes, notifications, workflow
from prescription.demandes import Acteur
from prescription.modeles import Prescription
from web import affichage, donnees
from web.donnees import db
from web.prescription import (
    LiensWeb,
    departement_requis,
    droits,
    envoyer_messages,
    role_requis,
)
from web.securite import url_absolue

bp = Blueprint("fiches_pro", __name__)

# Room for this many new sessions in one go (more: save, then add again).
SESSIONS_NOUVELLES = 2
SESSIONS_MAX = 200
RE_CHAMP_SESSION = re.compile(r"session_(\d{1,4})_(?:debut|fin|places|lieu)")
# Every field the form has: one missing is not « emptied » (a cut-off post,
# an old page), the change is refused. The sessions come as rows.
CHAMPS_DU_FORMULAIRE = (
    *(champ for champ in revisions.CHAMPS if champ != "sessions"),
    "sessions_affichees",
)
RE_ERREUR_SESSION = re.compile(r"^sessions\[(\d+)\](?:\.(\w+))?")


def _fiche(fiche_id: str):
    fiche = current_app.extensions["catalogue"].fiches.get(fiche_id)
    if fiche is None:
        raise NotFound()
    return fiche


def _auteur() -> str:
    # Who to ask about the change: a name and an address, not a row number.
    u = droits().utilisateur
    return f"{u.prenom} {u.nom} ({u.courriel})".strip()


def _formulaire_depuis(champs: dict) -> dict:
    """Form values from a revision's or a fiche's fields."""
    form = {
        cle: champs.get(cle) or ""
        for cle in ("horaires_accueil", "conditions_acces", "telephone", "courriel")
    }
    form["site_web"] = champs.get("site_web") or ""
    form["documents"] = "\n".join(champs.get("documents") or [])
    form["statut"] = champs.get("statut") or "active"
    for i, s in enumerate(champs.get("sessions") or []):
        form[f"session_{i}_debut"] = s.get("debut") or ""
        form[f"session_{i}_fin"] = s.get("fin") or ""
        form[f"session_{i}_places"] = "" if s.get("places") is None else s["places"]
        form[f"session_{i}_lieu"] = s.get("lieu") or ""
    return form


def _formulaire_entier(form) -> bool:
    """Each field and each session row the page showed came back."""
    if not all(cle in form for cle in CHAMPS_DU_FORMULAIRE):
        return False
    lignes = form["sessions_affichees"]
    return _nombre_ecrit(lignes) and all(
        f"session_{i}_debut" in form for i in range(min(int(lignes), SESSIONS_MAX))
    )


def _nombre_ecrit(texte: str) -> bool:
    """Digits 0-9 only: « ² » is a digit to str.isdigit, not to int()."""
    return texte.isascii() and texte.isdigit() and len(texte) <= 9


def _lire(form, fiche) -> tuple[dict, list[int]]:
    """The fields typed, and the form row of each session kept."""
    champs = {
        cle: (form.get(cle) or "").strip() or None
        for cle in (
            "horaires_accueil",
            "conditions_acces",
            "telephone",
            "courriel",
            "site_web",
        )
    }
    champs["documents"] = [
        ligne.strip()
        for ligne in (form.get("documents") or "").splitlines()
        if ligne.strip()
    ]
    champs["statut"] = form.get("statut") or "active"
    restantes = {s.debut.isoformat(): s.places_restantes for s in fiche.sessions}
    sessions, rangs = [], []
    for i in range(SESSIONS_MAX):
        cles = [f"session_{i}_{k}" for k in ("debut", "fin", "places", "lieu")]
        if not any(k in form for k in cles):
            break
        debut, fin, nombre, lieu = ((form.get(k) or "").strip() for k in cles)
        if not (debut or fin or nombre or lieu):
            continue  # an empty row: no session
        session = {"debut": debut or None, "fin": fin or None, "lieu": lieu or None}
        session["places"] = nombre or None
        if restantes.get(debut) is not None:
            session["places_restantes"] = restantes[debut]
        sessions.append({k: v for k, v in session.items() if v is not None})
        rangs.append(i)
    champs["sessions"] = sessions
    return champs, rangs


# What a form field may hold before the model reads it (the YAML has no such
# limit: its authors are few and reviewed).
LONGUEURS = {
    "horaires_accueil": 2000,
    "conditions_acces": 2000,
    "documents": 4000,
    "telephone": 30,
    "courriel": 254,
    "site_web": 2000,
}
LONGUEUR_SESSION = 200
ZONES = {"horaires_accueil", "conditions_acces", "documents"}  # several lines


def _saisie_refusee(form) -> dict[str, str]:
    """Invisible characters and overlong text, each said next to its field."""
    erreurs = {}
    for nom, valeur in form.items():
        if nom in LONGUEURS:
            maximum = LONGUEURS[nom]
        elif RE_CHAMP_SESSION.fullmatch(nom):
            maximum = LONGUEUR_SESSION
        else:
            continue
        if saisie.caractere_invisible(valeur, lignes=nom in ZONES):
            erreurs[nom] = saisie.INVISIBLE
        elif len(valeur) > maximum:
            erreurs[nom] = (
                f"trop long : {len(valeur)} caractères, {maximum} au plus ; "
                "raccourcissez-le"
            )
    # The form lists the statuts: anything else never came from it, and the
    # loader's message would point to a file of the repository.
    if (form.get("statut") or "active") not in vocabulaire("statuts"):
        erreurs["statut"] = "choisissez un statut de la liste"
    return erreurs


def _sessions_passees(fiche, sessions: list[dict], rangs: list[int]) -> dict:
    """A new session over before today (a year mistyped) would never show:
    said beside its start. Those the fiche already had stay as they are."""
    connues = {s.debut.isoformat() for s in fiche.sessions}
    aujourd_hui = heure.aujourd_hui()
    erreurs = {}
    for session, rang in zip(sessions, rangs, strict=True):
        if session.get("debut") in connues:
            continue
        fin = _jour(session.get("fin") or session.get("debut"))
        if fin is not None and fin < aujourd_hui:  # else the model says why
            erreurs[f"session_{rang}_debut"] = (
                f"cette session est déjà passée (elle finit le {fin:%d/%m/%Y}) : "
                "vérifiez l'année"
            )
    return erreurs


def _jour(texte) -> date | None:
    try:
        return date.fromisoformat(str(texte or ""))
    except ValueError:
        return None


def _erreurs_par_champ(erreurs, rangs: list[int], sessions=()) -> dict[str, str]:
    """Loader errors (« sessions[1].places ») next to the form field they name;
    one about the sessions together (two the same day) next to the second."""
    par_champ: dict[str, str] = {}
    double = session_en_double([_jour(s.get("debut")) for s in sessions])
    if double is not None:
        # Said with the sessions' own errors: the model checks the days only
        # once every session is valid.
        par_champ[f"session_{rangs[double]}_debut"] = message_session_en_double(
            _jour(sessions[double]["debut"])
        )
    for e in erreurs:
        m = RE_ERREUR_SESSION.match(e.champ)
        if e.champ == "sessions" and rangs:
            nom = f"session_{rangs[double or 0]}_debut"
        elif m:
            rang = rangs[int(m[1])] if int(m[1]) < len(rangs) else 0
            nom = f"session_{rang}_{m[2] or 'debut'}"
            if nom.endswith("_debut") and e.message == MANQUANT:
                par_champ.setdefault(nom, "indiquez la date de début de la session")
        elif e.champ.startswith("documents"):
            nom = "documents"
        elif e.champ in revisions.CHAMPS:
            nom = e.champ
        else:
            nom = "general"
        par_champ.setdefault(nom, e.message)
    return par_champ


MANQUANT = "champ obligatoire absent"  # the loader's word for it
PARTIES_SESSION = {"debut": "début", "fin": "fin", "places": "places", "lieu": "lieu"}


def _dans_le_resume(nom: str, message: str) -> str:
    """The summary names the field: « Session 1, places : doit être… »."""
    m = re.fullmatch(r"session_(\d+)_(\w+)", nom)
    if m:
        return f"Session {int(m[1]) + 1}, {PARTIES_SESSION.get(m[2], m[2])} : {message}"
    if nom in revisions.LIBELLES:
        return f"{revisions.LIBELLES[nom]} : {message}"
    return message


def _differences(avant: dict, apres: dict) -> list[tuple[str, str, str]]:
    """(label, before, after) for each field a revision changes."""
    return [
        (revisions.LIBELLES[cle], _texte(avant.get(cle)), _texte(apres.get(cle)))
        for cle in revisions.CHAMPS
        if (avant.get(cle) or None) != (apres.get(cle) or None)
    ]


def _texte(valeur) -> str:
    if not valeur:
        return "—"
    if isinstance(valeur, list):
        return " ; ".join(
            _session_en_mots(v) if isinstance(v, dict) else str(v) for v in valeur
        )
    if valeur in vocabulaire("statuts"):
        return vocabulaire("statuts").libelle(valeur)
    return str(valeur)


def _session_en_mots(s: dict) -> str:
    mots = f"du {affichage.date_fr(s['debut'])}"
    mots += f" au {affichage.date_fr(s['fin'])}" if s.get("fin") else ""
    if s.get("places") is not None:
        mots += f", {s['places']} place{'s' if s['places'] > 1 else ''}"
    return mots + (f", {s['lieu']}" if s.get("lieu") else "")


def _dire_le_refus(fiche, revision, motif: str) -> None:
    """The structure hears of it at once, with why, and where to take it up
    again (its form starts from the refused change)."""
    destinataires, _avis = demandes.destinataires_structure(db(), fiche, LiensWeb())
    lien = url_absolue("fiches_pro.modifier", fiche_id=fiche.id)
    corps = (
        f"Le département a refusé la modification de « {fiche.nom} » proposée "
        f"le {affichage.moment_fr(revision.cree_le)}.\n\nPourquoi : {motif}\n\n"
        "La fiche publiée n'a pas changé. Pour reprendre cette modification "
        f"(connexion nécessaire) :\n{lien}\n"
    )
    for destinataire in destinataires:
        notifications.mettre_en_file(
            db(), "courriel", destinataire, f"Modification refusée – {fiche.nom}", corps
        )


def _dernier_refus(toutes):
    """The département's last word on the fiche, if it is a refusal."""
    derniere = next((r for r in toutes if r.statut != revisions.REMPLACEE), None)
    return derniere if derniere and derniere.statut == revisions.REFUSEE else None


def _page(fiche, form, erreurs, base, statut=200, autres=(), reprise=None):
    toutes = revisions.revisions(db(), fiche.id)  # newest first
    en_attente = [r for r in toutes if r.statut == revisions.PROPOSEE]
    # Its author reads why, above the form.
    refusee = _dernier_refus(toutes)
    # And what was last published, by whom (the département may edit too).
    publiee = next((r for r in toutes if r.statut == revisions.VALIDEE), None)
    # The rows holding something, then room for new sessions (a name the
    # form never has, « session_abc_debut », is not one of them).
    lignes = max(
        [int(m[1]) + 1 for k, v in form.items()
         if (m := RE_CHAMP_SESSION.fullmatch(k)) and str(v).strip()] or [0]
    )  # fmt: skip
    lignes = min(lignes, SESSIONS_MAX)
    actuels = revisions.champs_de(fiche)
    return render_template(
        "fiches_pro/modifier.html",
        fiche=fiche,
        form=form,
        erreurs=erreurs,
        maximum=LONGUEURS,
        resume=[
            (nom, _dans_le_resume(nom, message)) for nom, message in erreurs.items()
        ],
        base=base,
        lignes_sessions=lignes + SESSIONS_NOUVELLES,
        statuts=list(vocabulaire("statuts").entrees.items()),
        en_attente=en_attente,
        empechement=en_attente and _empechement(fiche, en_attente[0]),
        # Exported only when read as days and hours: the structure learns it
        # here, not from an open-data user.
        horaires_illisibles=bool(str(form.get("horaires_accueil") or "").strip())
        and horaires.en_osm(str(form["horaires_accueil"])) is None,
        refusee=refusee,
        publiee=publiee,
        reprise=reprise,
        autres=[(r, _differences(actuels, revisions.contenu(r))) for r in autres],
    ), statut


@bp.route("/pro/fiches/<fiche_id>/modifier", methods=["GET", "POST"])
# The département keeps the whole catalogue: it mends a detail itself rather
# than refuse and wait for a new proposal.
@role_requis(lambda d: d.prestataire or d.departement)
def modifier(fiche_id: str):
    fiche = _fiche(fiche_id)
    if not (droits().departement or droits().repond_pour(fiche.structure)):
        return render_template("prescription/interdit.html"), 403
    derniere = revisions.dernier_numero(db(), fiche.id)
    if request.method == "GET":
        # A change still waiting is the starting point: nobody edits past it.
        attente = [
            r for r in revisions.revisions(db(), fiche.id)
            if r.statut == revisions.PROPOSEE
        ]  # fmt: skip
        # A refused change is taken up again by the structure (to correct one
        # detail, the author retyped everything); « repartir » starts from the
        # fiche, and so does the département, who refused it.
        refusee = None
        if not (
            attente or request.args.get("depuis") == "publiee" or droits().departement
        ):
            refusee = _dernier_refus(revisions.revisions(db(), fiche.id))
        champs = (
            revisions.contenu(attente[0] if attente else refusee)
            if attente or refusee
            else revisions.champs_de(fiche)
        )
        return _page(fiche, _formulaire_depuis(champs), {}, derniere, reprise=refusee)
    base_lue = request.form.get("base", "")
    # A number no page gave (past the last one) would skip the check of
    # the changes made meanwhile.
    if (
        not _nombre_ecrit(base_lue)
        or int(base_lue) > derniere
        or not _formulaire_entier(request.form)
    ):
        return _page(fiche, request.form, {"general": "Formulaire incomplet : "
                     "rechargez la page."}, derniere, 400)  # fmt: skip
    saisie = _saisie_refusee(request.form)
    if saisie:
        # The other errors with them, all at once: read without the refused
        # values, whose own message stays.
        lisible = request.form.copy()
        for nom in saisie.keys() & lisible.keys():
            lisible[nom] = ""
        champs, rangs = _lire(lisible, fiche)
        _nouvelle, erreurs_modele = revisions.appliquer(fiche, champs)
        autres = _sessions_passees(fiche, champs["sessions"], rangs) | (
            _erreurs_par_champ(erreurs_modele, rangs, champs["sessions"])
        )
        saisie |= {nom: m for nom, m in autres.items() if nom not in saisie}
        return _page(fiche, request.form, saisie, int(base_lue), 422)
    partie_de = revisions.revision_numero(db(), fiche.id, int(base_lue))
    if (
        partie_de is not None
        and partie_de.statut == revisions.REFUSEE
        and request.form.get("refus_vu") != str(partie_de.id)
    ):
        # A tab opened before the refusal: saved as is, the refused values
        # went out again with the new one, and nobody read why.
        message = (
            "Le département a refusé la modification dont ce formulaire part"
            + (f" : « {partie_de.motif_refus} »" if partie_de.motif_refus else "")
            + ". Le formulaire garde ce que vous avez tapé : retirez ce qui a été "
            "refusé, puis enregistrez de nouveau."
        )
        return _page(fiche, request.form, {"general": message}, int(base_lue), 409)
    champs, rangs = _lire(request.form, fiche)
    nouvelle, erreurs_modele = revisions.appliquer(fiche, champs)
    if nouvelle is not None and revisions.champs_de(nouvelle) == revisions.champs_de(
        fiche
    ):
        # Saved as published: nothing to decide on, publish or tell anyone.
        flash("Rien n'a changé : la fiche publiée reste la même.")
        return redirect(url_for("fiches_pro.modifier", fiche_id=fiche.id), 303)
    passees = _sessions_passees(fiche, champs["sessions"], rangs)
    if passees:  # said with the model's errors, all at once
        erreurs = _erreurs_par_champ(erreurs_modele, rangs, champs["sessions"])
        return _page(fiche, request.form, passees | erreurs, int(base_lue), 422)
    if nouvelle is not None:
        occupees = [
            c
            for c in _sessions_retirees(fiche, nouvelle)
            if _demandes_par_session(fiche.id).get(c)
        ]
        if occupees:
            message = _session_occupee(occupees, fiche.id)
            return _page(fiche, request.form, {"general": message}, int(base_lue), 422)
        rang_de = {
            places.cle_session(_jour(x.get("debut"))): rang
            for x, rang in zip(champs["sessions"], rangs, strict=True)
        }
        trop_peu = _sieges_sous_les_demandes(nouvelle)
        if trop_peu:
            erreurs = {
                f"session_{rang_de[cle]}_places": _message_sieges(*nombres)
                for cle, nombres in trop_peu.items()
            }
            return _page(fiche, request.form, erreurs, int(base_lue), 422)
    try:
        proposition = revisions.proposer(db(), fiche, champs, _auteur(), int(base_lue))
    except revisions.Conflit as conflit:
        db().rollback()
        return _conflit(fiche, champs, int(base_lue), conflit.autres)
    if proposition.erreurs:
        return _page(
            fiche,
            request.form,
            _erreurs_par_champ(proposition.erreurs, rangs, champs["sessions"]),
            int(base_lue),
            422,
        )
    if fiche.publication_modifications == "prestataire" or droits().departement:
        # The fiche's own rule: its prestataire publishes without a check;
        # the département, who validates, publishes its own at once.
        refus = _publier(fiche, proposition.revision, _auteur())
        if refus:
            # Requests came between the form's check and the publication:
            # nothing is recorded, the form comes back as it was typed.
            db().rollback()
            return _page(fiche, request.form, {"general": refus}, int(base_lue), 409)
        flash("Modification publiée.")
    else:
        db().commit()
        flash("Modification enregistrée : elle sera publiée dès sa validation.")
    return redirect(url_for("fiches_pro.modifier", fiche_id=fiche.id), 303)


def _conflit(fiche, champs: dict, base: int, autres):
    """Someone saved first: both changes joined in the form, theirs shown.

    Nothing is stored yet; the next save, on the newer number, keeps both.
    """
    fiche_yaml = current_app.extensions["publication"].yaml(fiche.id) or fiche
    depart = revisions.contenu_au(db(), fiche_yaml, base)
    attente = [r for r in autres if r.statut == revisions.PROPOSEE]
    autre = revisions.contenu(attente[-1]) if attente else revisions.champs_de(fiche)
    mien = revisions.champs_de(revisions.appliquer(fiche, champs)[0])
    reunis, tous_deux = revisions.reunir(depart, mien, autre)
    message = (
        "Quelqu'un a modifié cette fiche pendant que vous la modifiiez. Le "
        "formulaire réunit sa modification et la vôtre ; vérifiez puis "
        "enregistrez de nouveau."
    )
    if tous_deux:
        noms = ", ".join(revisions.LIBELLES[c] for c in tous_deux)
        message += f" Vous avez changé tous les deux : {noms} ; c'est votre texte "
        message += "qui est dans le formulaire."
    return _page(
        fiche,
        _formulaire_depuis(reunis),
        {"general": message},
        revisions.dernier_numero(db(), fiche.id),
        409,
        autres,
    )


@bp.get("/pro/modifications")
@departement_requis
def modifications():
    catalogue = current_app.extensions["catalogue"].fiches
    lignes = []
    for r in revisions.a_valider(db()):
        fiche = catalogue.get(r.fiche_id)
        if fiche is not None:
            diff = _differences(revisions.champs_de(fiche), revisions.contenu(r))
            lignes.append((r, fiche, diff, _empechement(fiche, r)))
    return render_template("fiches_pro/modifications.html", lignes=lignes)


@bp.post("/pro/modifications/<int:rid>/<decision>")
@departement_requis
def decider(rid: int, decision: str):
    revision = db().get(revisions.RevisionFiche, rid)
    if revision is None or decision not in ("valider", "refuser"):
        raise NotFound()
    catalogue = current_app.extensions["catalogue"]
    fiche = catalogue.fiches.get(revision.fiche_id)
    if fiche is None:
        raise NotFound()
    if revision.statut == revisions.REMPLACEE:
        plus_recente = revisions.revisions(db(), fiche.id)[0]
        flash(
            "Cette modification est comprise dans une plus récente, "
            + (
                "à valider ou à refuser ci-dessous."
                if plus_recente.statut == revisions.PROPOSEE
                else "déjà traitée."
            )
        )
        return redirect(url_for("fiches_pro.modifications"), 303)
    if revision.statut != revisions.PROPOSEE:
        flash("Cette modification a déjà été traitée.")
        return redirect(url_for("fiches_pro.modifications"), 303)
    qui = _auteur()
    if decision == "refuser":
        motif = request.form.get("motif", "").strip()
        if not motif or len(motif) > 500 or saisie.caractere_invisible(motif, True):
            flash(
                f"Modification de « {fiche.nom} » toujours en attente : dites à la "
                "structure pourquoi vous la refusez, en 500 caractères au plus "
                "(elle le lira)."
            )
            return redirect(url_for("fiches_pro.modifications"), 303)
        revisions.decider(db(), revision, revisions.REFUSEE, qui, motif=motif)
        _dire_le_refus(fiche, revision, motif)
        db().commit()
        envoyer_messages()
        flash(f"Modification de « {fiche.nom} » refusée. La structure lira pourquoi.")
        return redirect(url_for("fiches_pro.modifications"), 303)
    refus = _publier(fiche, revision, qui)
    if refus:
        flash(refus)
        return redirect(url_for("fiches_pro.modifications"), 303)
    flash(f"Modification de « {fiche.nom} » validée et publiée.")
    return redirect(url_for("fiches_pro.modifications"), 303)


def _dire_la_publication(fiche, revision, differences) -> None:
    """Published by the département (its validation, or its own edit): the
    structure reads what its fiche now says, and who changed it."""
    destinataires, _avis = demandes.destinataires_structure(db(), fiche, LiensWeb())
    lignes = "\n".join(
        f"- {libelle} : {apres}" for libelle, _avant, apres in differences
    )
    # Its own edit may start from the structure's proposal waiting: in it.
    partie_de = revisions.revision_numero(db(), fiche.id, revision.base)
    if revision.auteur != revision.decide_par:
        de_qui = ", que vous aviez proposée"
    elif partie_de is not None and partie_de.statut == revisions.REMPLACEE:
        de_qui = (
            ", avec celle que vous aviez proposée le "
            f"{affichage.moment_fr(partie_de.cree_le)}"
        )
    else:
        de_qui = ""
    corps = (
        f"Le département a publié le {affichage.moment_fr(revision.decide_le)} une "
        f"modification de « {fiche.nom} »{de_qui}"
        f".\n\nCe qui a changé :\n{lignes}\n\n"
        f"La fiche : {url_absolue('catalogue.fiche', fiche_id=fiche.id)}\n"
    )
    for destinataire in destinataires:
        notifications.mettre_en_file(
            db(), "courriel", destinataire, f"Fiche modifiée – {fiche.nom}", corps
        )


def _publier(fiche, revision, qui: str) -> str | None:
    """Validate and publish a revision, committed; or why it cannot be."""
    differences = _differences(revisions.champs_de(fiche), revisions.contenu(revision))
    nouvelle = revisions.fiche_validee(fiche, revision)
    retirees = _sessions_retirees(fiche, nouvelle)
    if occupees := _sessions_occupees(fiche, nouvelle):
        return _session_occupee(occupees, fiche.id)
    try:
        revisions.decider(db(), revision, revisions.VALIDEE, qui)
    except revisions.Depassee as depassee:
        db().rollback()
        return str(depassee)
    existantes = places.par_session(db(), fiche.id)
    if nouvelle.sessions and not fiche.sessions:
        _passer_aux_sessions(nouvelle, existantes, qui)
    places_avant = {places.cle_session(s.debut): s.places for s in fiche.sessions}
    for s in nouvelle.sessions:
        cle = places.cle_session(s.debut)
        avant = places_avant.get(cle)
        compte = getattr(existantes.get(cle), "places_restantes", None)
        if compte is not None and s.places is not None and avant != s.places:
            # More or fewer seats: as many more or fewer left to take, never
            # more than the seats the requests in it leave (seats given to a
            # session counted by hand: its count, within them).
            places.ajuster(
                db(),
                fiche.id,
                0 if avant is None else s.places - avant,
                qui,
                session=cle,
                maximum=int(s.places) - demandes.en_cours(db(), fiche.id, cle),
            )
        elif compte is None and s.places is not None:
            # Counted from now on: its places are free, but for those the
            # requests already made in it hold (2 seats given to a session
            # where 3 were accepted left 2 free: 5 on 2).
            tenues = demandes.en_cours(db(), fiche.id, cle)
            demandes.fixer_les_places(
                db(),
                nouvelle,
                max(0, int(s.places) - tenues),
                qui,
                session=cle,
                motif="session ajoutée" if cle not in existantes else "places comptées",
            )
    # Seats below the places held (also by bookings since the form's check):
    # checked once the counts are written, their rows this transaction's
    # until the commit, so no booking slips in after it.
    trop_peu = _sieges_sous_les_demandes(nouvelle)
    if trop_peu:
        db().rollback()
        return _refus_sieges(trop_peu)
    for s in nouvelle.sessions:
        demandes.borner_les_places(db(), nouvelle, places.cle_session(s.debut), qui)
    for cle in retirees:
        if getattr(existantes.get(cle), "places_restantes", None) is not None:
            # Its places no longer count in the search's total.
            demandes.fixer_les_places(
                db(), nouvelle, None, qui, session=cle, motif="session retirée"
            )
    # Seats added or a new session: the requests the whole action held, then
    # the people waiting get them first (newcomers took them, and those
    # waiting were passed over).
    _placer_les_demandes_de_l_action(nouvelle, qui)
    offertes = sum(
        demandes.donner_a_la_liste_d_attente(db(), nouvelle, cle, LiensWeb())
        for cle in demandes.sessions_ouvertes(nouvelle)
    )
    if offertes:
        # Said to the département, as the requests moved into sessions are.
        flash(
            f"{offertes} place{'s' if offertes > 1 else ''} des sessions "
            f"proposée{'s' if offertes > 1 else ''} à la liste d'attente, dans son "
            "ordre (les personnes sont prévenues)."
        )
    if droits().departement:
        _dire_la_publication(fiche, revision, differences)
    db().commit()
    # This worker at once; the others at their next request; the index
    # through the outbox the validation wrote in.
    current_app.extensions["publication"].synchroniser(db())
    donnees.publier()
    # The people moved or offered a place are told now, not at the next
    # message someone else happens to send.
    envoyer_messages()
    return None


def _passer_aux_sessions(nouvelle, existantes, qui: str) -> None:
    """The action, counted as a whole until now, runs by session from now
    on: its whole count goes (it would stand before the sessions' in search
    and on the fiche). The requests it held go to the sessions once their
    seats are counted (_placer_les_demandes_de_l_action); people already in
    the action stay as they are; the waiting list waits for a place in any
    session."""
    if getattr(existantes.get(places.ACTION), "places_restantes", None) is not None:
        demandes.fixer_les_places(
            db(),
            nouvelle,
            None,
            qui,
            session=places.ACTION,
            motif="places comptées par session",
        )


def _placer_les_demandes_de_l_action(nouvelle, qui: str) -> None:
    """demandes.placer_les_demandes_de_l_action, said to the département."""
    placees, sans = demandes.placer_les_demandes_de_l_action(
        db(), nouvelle, Acteur(workflow.PRESTATAIRE, qui), LiensWeb()
    )
    if placees:
        ou = ", ".join(
            f"{n} à la {demandes.decrire_session(nouvelle, cle)}"
            for cle, n in placees.items()
        )
        flash(
            f"Demandes en cours pour toute l'action placées dans les sessions : {ou} "
            "(chaque personne est prévenue, sauf celles que la structure a inscrites "
            "elle-même ; la structure peut en changer)."
        )
    if sans:
        flash(
            f"{sans} demande{'s' if sans > 1 else ''} en cours sans place dans une "
            "session : elles auront les prochaines places ajoutées, ou la structure "
            "choisit la session de chacune (sur la page de la demande)."
        )


def _empechement(fiche, revision) -> str | None:
    """Why a proposal waiting cannot be published as it stands (requests came
    since it was written): read, never written, for the département's list
    and the structure's form, so neither learns it only at the validation."""
    nouvelle = revisions.fiche_validee(fiche, revision)
    if occupees := _sessions_occupees(fiche, nouvelle):
        return _session_occupee(occupees, fiche.id)
    trop_peu = _sieges_sous_les_demandes(nouvelle)
    return _refus_sieges(trop_peu) if trop_peu else None


def _sessions_occupees(avant, apres) -> list[str]:
    """Sessions taken out while requests are still in them."""
    par_session = _demandes_par_session(avant.id)
    return [c for c in _sessions_retirees(avant, apres) if par_session.get(c)]


def _sessions_retirees(avant, apres) -> list[str]:
    gardees = {places.cle_session(s.debut) for s in apres.sessions}
    return sorted({places.cle_session(s.debut) for s in avant.sessions} - gardees)


def _demandes_par_session(fiche_id: str) -> dict[str, int]:
    """Requests holding or waiting for a place, per session."""
    en_cours = (*workflow.TIENNENT_UNE_PLACE, workflow.LISTE_ATTENTE)
    return dict(
        db()
        .exec(
            select(Prescription.session, func.count(Prescription.id))
            .where(Prescription.fiche_id == fiche_id, Prescription.statut.in_(en_cours))
            .group_by(Prescription.session)
        )
        .all()
    )


def _sieges_sous_les_demandes(nouvelle) -> dict[str, tuple[int, int]]:
    """Sessions given fewer seats than the requests already holding one in
    them (3 held, 1 seat: oversold without a word): session -> (seats, held)."""
    trop_peu = {}
    for session in nouvelle.sessions:
        if session.places is None:
            continue
        cle = places.cle_session(session.debut)
        tenues = demandes.en_cours(db(), nouvelle.id, cle)
        if int(session.places) < tenues:
            trop_peu[cle] = (int(session.places), tenues)
    return trop_peu


def _message_sieges(sieges: int, tenues: int) -> str:
    pluriel = "s" if tenues > 1 else ""
    return (
        f"{tenues} demande{pluriel} en cours y {'tiennent' if pluriel else 'tient'} "
        f"déjà une place : au moins {tenues} place{pluriel} (pas {sieges}), ou "
        "libérez-en d'abord (réponse, changement de session, sortie)"
    )


def _refus_sieges(trop_peu: dict[str, tuple[int, int]]) -> str:
    return " ".join(
        f"Session du {date.fromisoformat(cle):%d/%m/%Y} : {_message_sieges(*n)}."
        for cle, n in trop_peu.items()
    )


def _session_occupee(sessions: list[str], fiche_id: str) -> str:
    nombre = sum(_demandes_par_session(fiche_id).get(c, 0) for c in sessions)
    jours = ", ".join(date.fromisoformat(c).strftime("%d/%m/%Y") for c in sessions)
    return (
        f"La session du {jours} a encore {nombre} demande"
        f"{'s' if nombre > 1 else ''} en cours : répondez-y ou clôturez-les "
        "(« Demandes reçues ») avant de la retirer. Pour changer sa date : "
        "gardez-la, ajoutez la session à la nouvelle date, passez-y les "
        "personnes (« Changer de session ») puis retirez l'ancienne."
    )


@bp.before_app_request
def _fiches_a_jour():
    if request.endpoint != "static":
        # Professionals' pages and every change see the latest at once.
        donnees.fiches_a_jour(
            publique=request.method in ("GET", "HEAD")
            and not request.path.startswith("/pro/")
        )
