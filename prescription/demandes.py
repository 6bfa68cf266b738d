"""Asking for a place and answering: the fiche's rules, places, waiting list.

Places are taken when the request is made (a référent or a person booking
alone holds the place at once), with ``catalogue.places.prendre``: one
conditional UPDATE, so two requests for the last place cannot both get it.
A refusal, a cancellation, an expiry or an exit gives it back; a place given
back goes straight to the first person waiting, who is told. Nothing here
commits: the caller commits, then publishes the places to the search index.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, func, or_, select

from catalogue import heure, places
from catalogue.fiche import UNITES_SANS_PLAFOND, Fiche
from catalogue.places import Prise
from catalogue.territoires import Commune
from prescription import messages, notifications, telephones
from prescription.modeles import (
    AVIS_CHAQUE,
    AVIS_RESUME,
    ORIGINE_AUTO,
    ORIGINE_PRESTATAIRE,
    ORIGINE_REFERENT,
    PRESTATAIRE,
    PRESTATAIRE_ADMIN,
    PRESTATAIRE_MEMBRE,
    Adhesion,
    Audit,
    AvisResume,
    Beneficiaire,
    Notification,
    Prescription,
    StructurePro,
    Transition,
    Utilisateur,
)
from prescription.workflow import (
    ACCEPTEE,
    BENEFICIAIRE,
    EN_ATTENTE_DE_REPONSE,
    LISTE_ATTENTE,
    MOTIFS_REFUS,
    STATUTS,
    SYSTEME,
    TERMINES,
    TIENNENT_UNE_PLACE,
    TYPES_SORTIE,
    Regle,
    TransitionRefusee,
    noter,
    regle,
    tient_une_place,
)

SEXES = {
    "non-renseigne": "Non renseigné",
    "femme": "Femme",
    "homme": "Homme",
}
TRANCHES_AGE = {
    "non-renseigne": "Non renseigné",
    "moins-26": "Moins de 26 ans",
    "26-44": "26 à 44 ans",
    "45-54": "45 à 54 ans",
    "55-plus": "55 ans et plus",
}


class RegleNonRespectee(Exception):
    """The fiche's rules forbid this request; the message explains why, and
    ``champ`` names the form's field it is about, when one is."""

    def __init__(self, message: str = "", champ: str | None = None):
        super().__init__(message)
        self.champ = champ


class DejaDemandee(RegleNonRespectee):
    """The same person already has an open request for this action."""

    def __init__(self, existante: Prescription):
        self.existante = existante
        super().__init__(
            "Une demande est déjà en cours pour cette personne et cette action."
        )


@dataclass(frozen=True)
class Acteur:
    """Who acts: a role of the workflow table and a name for the logs."""

    role: str
    auteur: str
    utilisateur_id: int | None = None

    @classmethod
    def systeme(cls) -> "Acteur":
        return cls(SYSTEME, "planificateur")

    @classmethod
    def beneficiaire(cls) -> "Acteur":
        return cls(BENEFICIAIRE, "la personne (lien personnel)")


class Liens(Protocol):
    """Addresses the messages carry and use (the web layer knows them)."""

    def suivi(self, prescription: Prescription) -> str: ...

    def pro(self, prescription: Prescription) -> str: ...

    def courriel_structure(self, structure: str) -> str | None: ...


def situations_demandees(fiche: Fiche) -> tuple[str, ...]:
    """The situations a request form offers for this fiche: its own publics.

    A fiche open to one public only asks nothing: its condition already says
    it, and what is not needed is not collected (RGPD, minimisation).
    """
    return tuple(fiche.publics) if len(fiche.publics) > 1 else ()


@dataclass
class Personne:
    prenom: str
    nom: str
    telephone: str | None = None
    courriel: str | None = None
    commune: Commune | None = None
    public: str | None = None
    sexe: str = "non-renseigne"
    tranche_age: str = "non-renseigne"


@dataclass
class Demande:
    fiche: Fiche
    personne: Personne
    origine: str
    session: str = places.ACTION
    motif: str = ""
    liste_attente: bool = False
    structure_prescriptrice: StructurePro | None = None
    jeton_envoi: str | None = None  # see Prescription.jeton_envoi


@dataclass
class Resultat:
    prise: Prise
    prescription: Prescription | None = None
    avertissements: list[str] = field(default_factory=list)

    @property
    def complet(self) -> bool:
        """Full, and nothing recorded: offer the waiting list."""
        return self.prescription is None


def refus_du_service(fiche: Fiche, service: "StructurePro | None") -> str | None:
    """Why this prescribing service may not prescribe this action, if it may not.

    Said as soon as the référent opens the form, not after filling it in.
    """
    genre = (service or StructurePro()).type_prescripteur
    orienteurs = [p for p in fiche.prescripteurs if p != "usager"]
    if "professionnels" not in fiche.mobilisable_par and not orienteurs:
        return (
            "Cette action ne reçoit pas de demandes de professionnels : "
            "la personne s'inscrit elle-même."
        )
    if orienteurs and genre not in orienteurs:
        return "Votre service ne fait pas partie des prescripteurs de cette action."
    return None


def dans_la_zone(fiche: Fiche, commune: Commune | None) -> bool:
    return commune is None or bool(
        set(commune.codes_zone) & set(fiche.zone_eligibilite)
    )


def hors_zone(commune: Commune) -> str:
    """Why the person alone cannot ask, living outside the action's zone."""
    return (
        f"Cette action est réservée aux habitants de certaines communes, et "
        f"{commune.nom} n'en fait pas partie. Un conseiller peut vous aider à "
        f"trouver une action près de chez vous."
    )


def sessions_ouvertes(fiche: Fiche, aujourd_hui: date | None = None) -> list[str]:
    jour = aujourd_hui or heure.aujourd_hui()
    return [places.cle_session(s.debut) for s in fiche.sessions if s.debut >= jour]


def fermee(fiche: Fiche) -> str | None:
    """Why nobody can ask for this action now, if nobody can."""
    if fiche.statut != "active":
        return (
            "Cette action n'accueille personne en ce moment : "
            "on ne peut pas s'y inscrire."
        )
    return None


def verifier(demande: Demande, aujourd_hui: date | None = None) -> list[str]:
    """The fiche's rules; raises RegleNonRespectee, returns warnings."""
    fiche, avertissements = demande.fiche, []
    if fermee(fiche):
        raise RegleNonRespectee(fermee(fiche))
    if demande.origine == ORIGINE_AUTO and not fiche.auto_prescription:
        raise RegleNonRespectee(
            "Pour cette action, c'est un référent ou un conseiller qui fait "
            "la demande : parlez-en à la personne qui vous suit."
        )
    if demande.origine == ORIGINE_REFERENT:
        refus = refus_du_service(fiche, demande.structure_prescriptrice)
        if refus:
            raise RegleNonRespectee(refus)
    ouvertes = sessions_ouvertes(fiche, aujourd_hui)
    if fiche.sessions:
        if demande.session not in ouvertes:
            raise RegleNonRespectee("Choisissez une des sessions à venir.", "session")
    elif demande.session != places.ACTION:
        raise RegleNonRespectee("Cette action n'a pas de sessions.")
    if not dans_la_zone(fiche, demande.personne.commune):
        if demande.origine == ORIGINE_AUTO:
            raise RegleNonRespectee(hors_zone(demande.personne.commune), "commune")
        avertissements.append(
            f"{demande.personne.commune.nom} est hors de la zone de l'action : "
            f"le prestataire pourra refuser la demande."
        )
    return avertissements


def _cle_de_nom(prenom: str, nom: str) -> str:
    """ "Éloïse  Dupont-Martin" and "eloise dupont martin" are the same person."""
    sans_accents = unicodedata.normalize("NFKD", f"{prenom} {nom}")
    return "".join(c for c in sans_accents.casefold() if c.isalnum())


def _memes_contacts(personne: Personne) -> list:
    """SQL conditions: a Beneficiaire with her phone (any writing) or e-mail."""
    contacts = []
    if personne.telephone:
        contacts.append(
            Beneficiaire.telephone.in_(sorted(telephones.formes(personne.telephone)))
        )
    if personne.courriel:
        contacts.append(func.lower(Beneficiaire.courriel) == personne.courriel.lower())
    return contacts


# Requests a person may make alone with one phone number or e-mail address
# in a day (a family books for several): past that, anyone typing someone
# else's number would send them a text each time and hold places in her name.
DEMANDES_SEULE_PAR_CONTACT_PAR_JOUR = 5


def _pas_trop_pour_ce_contact(
    db: Session, personne: Personne, maintenant: datetime
) -> None:
    contacts = _memes_contacts(personne)
    if not contacts:
        return
    faites = db.exec(
        select(func.count(Prescription.id))
        .join(Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id)
        .where(
            Prescription.origine == ORIGINE_AUTO,
            Prescription.cree_le > maintenant - timedelta(days=1),
            or_(*contacts),
        )
    ).one()
    if faites >= DEMANDES_SEULE_PAR_CONTACT_PAR_JOUR:
        quoi = "numéro" if personne.telephone else "adresse e-mail"
        raise RegleNonRespectee(
            f"Ce {quoi} a déjà servi à {faites} demandes en 24 heures. Pour en "
            "faire une autre, revenez demain, ou appelez la structure.",
            "telephone" if personne.telephone else "courriel",
        )


def demande_en_cours(db: Session, fiche_id: str, personne: Personne):
    """The open request of the same person (name + phone or e-mail), if any.

    Names alone are not enough (namesakes); a phone or an e-mail alone is not
    either (a family, a social worker's number). The contacts are matched in
    SQL, the few candidates compared by name here.
    """
    contacts = _memes_contacts(personne)
    if not contacts:
        return None
    cle = _cle_de_nom(personne.prenom, personne.nom)
    candidates = db.exec(
        select(Prescription, Beneficiaire)
        .join(Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id)
        .where(
            Prescription.fiche_id == fiche_id,
            Prescription.statut.not_in(TERMINES),
            or_(*contacts),
        )
        .order_by(Prescription.id)
    ).all()
    for prescription, beneficiaire in candidates:
        if _cle_de_nom(beneficiaire.prenom, beneficiaire.nom) == cle:
            return prescription
    return None


# A second sign-up re-sends the link; someone typing another person's name
# and number again and again must not flood her phone.
MESSAGES_PAR_JOUR_AU_PLUS = 2


def redire_le_suivi(
    db: Session, prescription: Prescription, fiche: Fiche, liens, maintenant=None
) -> bool:
    """Send the person her follow-up message again, to the contact on file;
    False when she already got enough messages today (nothing sent).

    What a second sign-up gets instead of the existing request's link: only
    the person reading her own phone or mailbox can follow it.
    """
    maintenant = maintenant or places.maintenant_utc()
    beneficiaire = db.get(Beneficiaire, prescription.beneficiaire_id)
    contact = beneficiaire.courriel or beneficiaire.telephone
    recus = db.exec(
        select(func.count(Notification.id)).where(
            Notification.destinataire == contact,
            Notification.cree_le > maintenant - timedelta(days=1),
        )
    ).one()
    if recus >= MESSAGES_PAR_JOUR_AU_PLUS:
        return False
    _dire_a_la_personne(
        db, prescription, beneficiaire, fiche, liens, maintenant, action="redire"
    )
    return True


# How far back an entry or exit may be dated, how far ahead a start day.
DATES_D_EFFET = {
    "entrer": "passe",
    "sortir": "passe",
    "accepter": "futur",
    "valider": "futur",
}
JOURS_A_L_AVANCE = 366


def verifier_la_date(
    action: str,
    prescription: Prescription,
    jour: date | None,
    aujourd_hui: date,
    entree: date | None = None,
) -> None:
    """An entry or exit happened between the request and today (an exit on
    or after the entry); a start day lies between today and a year ahead.
    TransitionRefusee otherwise."""
    if jour is None:
        return
    sens = DATES_D_EFFET.get(action)
    if sens is None:
        raise TransitionRefusee("Cette étape ne prend pas de date.")
    if sens == "passe":
        demandee = heure.jour(prescription.cree_le)
        if jour > aujourd_hui:
            raise TransitionRefusee(
                "La date ne peut pas être dans le futur : notez-la le jour venu."
            )
        if jour < demandee:
            raise TransitionRefusee(
                f"La date ne peut pas être avant la demande, faite le "
                f"{demandee:%d/%m/%Y}."
            )
        if action == "sortir" and entree is not None and jour < entree:
            raise TransitionRefusee(
                f"La sortie ne peut pas être avant l'entrée, notée le "
                f"{entree:%d/%m/%Y}."
            )
    elif not aujourd_hui <= jour <= aujourd_hui + timedelta(days=JOURS_A_L_AVANCE):
        raise TransitionRefusee(
            "La date de début doit être entre aujourd'hui et dans un an."
        )


# Steps after which the person is told her session (its dates and place).
DIRE_LA_SESSION = ("accepter", "valider", "proposer", "changer_session")
# Steps the prestataire may send a few words to the person with.
AVEC_MESSAGE = (*DIRE_LA_SESSION, "refuser", "retirer")


def decrire_session(fiche: Fiche, cle: str) -> str:
    """ "session du 01/03/2027 au 28/04/2027, lieu : Salle 2", for people."""
    for s in fiche.sessions:
        if places.cle_session(s.debut) == cle:
            texte = f"session du {s.debut:%d/%m/%Y}"
            if s.fin:
                texte += f" au {s.fin:%d/%m/%Y}"
            return texte + (f", lieu : {s.lieu}" if s.lieu else "")
    return f"session du {date.fromisoformat(cle):%d/%m/%Y}" if cle else ""


def _precision(action: str, jour: date | None, message: str, session: str = "") -> str:
    """What the person reads after the news: session, day, the prestataire's words."""
    morceaux = []
    if session:
        morceaux.append(f"{session[0].upper()}{session[1:]}.")
    if jour is not None:
        quand = "Début le" if DATES_D_EFFET.get(action) == "futur" else "Le"
        morceaux.append(f"{quand} {jour:%d/%m/%Y}.")
    if message:
        morceaux.append(f"Message de la structure : {message}")
    return " ".join(morceaux)


def journal(db: Session, prescription: Prescription) -> list[Transition]:
    """The request's steps, in the order they happened."""
    return list(
        db.exec(
            select(Transition)
            .where(Transition.prescription_id == prescription.id)
            .order_by(Transition.id)
        )
    )


def capacite(fiche: Fiche, session: str) -> float | None:
    """The most places this count can have: a session's own seats, else the
    action's capacity unless it counts no heads (ETP); None: unbounded."""
    nombre, periode = capacite_et_periode(fiche, session)
    if periode != "session" and fiche.capacite.unite in UNITES_SANS_PLAFOND:
        return None
    return nombre


def capacite_et_periode(fiche: Fiche, session: str) -> tuple[float | None, str | None]:
    """The places of this count, and what they are over: a session's own
    places are « session », else the fiche's period (« an », « simultane »…)."""
    for s in fiche.sessions:
        if places.cle_session(s.debut) == session and s.places is not None:
            return s.places, "session"
    return fiche.capacite.nombre, fiche.capacite.periode


def en_cours(db: Session, fiche_id: str, session: str) -> int:
    """Requests holding a place of this count, or holding one as soon as it
    is counted: asked, accepted or in the action."""
    return db.exec(
        select(func.count(Prescription.id)).where(
            Prescription.fiche_id == fiche_id,
            Prescription.session == session,
            Prescription.statut.in_(TIENNENT_UNE_PLACE),
        )
    ).one()


def plafond_des_places(db: Session, fiche: Fiche, session: str) -> int | None:
    """The most places that can be left free: the capacity, less the places
    the requests in progress hold (never below zero); None: no capacity."""
    total = capacite(fiche, session)
    if total is None:
        return None
    return max(0, int(total) - en_cours(db, fiche.id, session))


def borner_les_places(db: Session, fiche: Fiche, session: str, auteur: str) -> None:
    """Never more places left than the capacity less the places held. Called
    once the count is written: its row is then this transaction's until the
    commit, so a booking that came between reading the bound and writing the
    count is seen (the bound read before it was one too high). Not committed."""
    plafond = plafond_des_places(db, fiche, session)
    if plafond is not None:
        places.ajuster(
            db,
            fiche.id,
            0,
            auteur,
            session=session,
            maximum=plafond,
            motif="borné par la capacité",
        )


def deja_envoyee(db: Session, jeton: str | None) -> Prescription | None:
    """The request a form with this token already recorded, if one did."""
    if not jeton:
        return None
    return db.exec(
        select(Prescription).where(Prescription.jeton_envoi == jeton)
    ).first()


def creer(
    db: Session,
    demande: Demande,
    acteur: Acteur,
    liens: Liens,
    maintenant: datetime | None = None,
) -> Resultat:
    """Record a request, holding a place when the action counts them.

    A full action records nothing and says so (``Resultat.complet``): the
    person may then choose the waiting list.
    """
    maintenant = maintenant or places.maintenant_utc()
    avertissements = verifier(demande, heure.jour(maintenant))
    fiche = demande.fiche
    existante = demande_en_cours(db, fiche.id, demande.personne)
    if existante is not None:
        raise DejaDemandee(existante)
    if demande.origine == ORIGINE_AUTO:
        _pas_trop_pour_ce_contact(db, demande.personne, maintenant)
    prise = places.prendre(
        db, fiche.id, acteur.auteur, session=demande.session, motif="demande"
    )
    if prise is Prise.COMPLET and not demande.liste_attente:
        return Resultat(prise)
    if prise is Prise.COMPLET:
        action = "attendre"
    else:
        # Asked for the waiting list, but a place came free meanwhile: take it.
        action = "inscrire" if demande.origine == ORIGINE_PRESTATAIRE else "demander"
    r = regle(action, None, acteur.role, fiche.validation != "aucune")
    p = demande.personne
    beneficiaire = Beneficiaire(
        prenom=p.prenom,
        nom=p.nom,
        telephone=p.telephone,
        courriel=p.courriel,
        commune_code=p.commune.code_insee if p.commune else None,
        commune_nom=p.commune.nom if p.commune else None,
        public=p.public,
        sexe=p.sexe,
        tranche_age=p.tranche_age,
    )
    db.add(beneficiaire)
    db.flush()
    structure = demande.structure_prescriptrice
    prescription = Prescription(
        fiche_id=fiche.id,
        session=demande.session,
        structure_catalogue=fiche.structure,
        beneficiaire_id=beneficiaire.id,
        origine=demande.origine,
        statut=r.vers,
        motif=demande.motif,
        prescripteur_id=acteur.utilisateur_id,
        structure_prescriptrice_id=structure.id if structure else None,
        place_tenue=prise is Prise.PRISE,
        hors_zone=not dans_la_zone(fiche, p.commune),
        cree_le=maintenant,
        maj_le=maintenant,
        jeton_envoi=demande.jeton_envoi,
    )
    db.add(prescription)
    db.flush()
    noter(db, prescription, r, None, acteur.auteur, maintenant)
    auditer(db, prescription, acteur.auteur, "création", maintenant)
    if demande.origine != ORIGINE_PRESTATAIRE:
        evenement = "attente" if prescription.statut == LISTE_ATTENTE else "nouvelle"
        _dire_a_la_structure(db, prescription, fiche, liens, maintenant, evenement)
    _dire_a_la_personne(db, prescription, beneficiaire, fiche, liens, maintenant)
    return Resultat(prise, prescription, avertissements)


def appliquer(
    db: Session,
    prescription: Prescription,
    action: str,
    acteur: Acteur,
    fiche: Fiche,
    liens: Liens,
    *,
    motif_refus: str | None = None,
    type_sortie: str | None = None,
    pourquoi: str = "",
    effet_le: date | None = None,
    message: str = "",
    session: str | None = None,
    maintenant: datetime | None = None,
) -> Regle:
    """Apply one transition of the table; TransitionRefusee changes nothing.

    ``effet_le``: the day of an entry or exit (past days allowed) or the
    start day given with an acceptance; ``message``: a few words from the
    prestataire, sent to the person with the news; ``session``: the session
    chosen at acceptance, when offering a place or when changing it.
    """
    maintenant = maintenant or places.maintenant_utc()
    entree = jour_d_entree(db, prescription) if action == "sortir" else None
    verifier_la_date(action, prescription, effet_le, heure.jour(maintenant), entree)
    r = regle(
        action,
        prescription.statut,
        acteur.role,
        fiche.validation != "aucune",
        motif_refus,
        type_sortie,
        session,
        message,
        pourquoi,
    )
    de = prescription.statut
    avant = prescription.session
    _reclamer(db, prescription, de, r, maintenant)
    _placer(db, prescription, fiche, de, r, session, acteur, liens, maintenant)
    prescription.statut = r.arrivee(de)
    prescription.maj_le = maintenant
    # The session the person is told, and the log's trace of a move.
    dite = ""
    if r.action in DIRE_LA_SESSION and fiche.sessions:
        dite = decrire_session(fiche, prescription.session)
    trace = dite
    if prescription.session != avant:
        trace += f" ; avant : {decrire_session(fiche, avant) or 'sans session'}"
    if r.exige == "motif_refus":
        prescription.motif_refus = motif_refus
        pourquoi = pourquoi or MOTIFS_REFUS[motif_refus]
    if r.exige == "type_sortie":
        prescription.type_sortie = type_sortie
        pourquoi = pourquoi or TYPES_SORTIE[type_sortie]
    db.add(prescription)
    noter(
        db,
        prescription,
        r,
        de,
        acteur.auteur,
        maintenant,
        " ; ".join(x for x in (trace, pourquoi) if x),
        effet_le,
        message,
    )
    auditer(db, prescription, acteur.auteur, f"transition : {r.action}", maintenant)
    rend = r.rend_la_place and prescription.place_tenue
    if rend:
        prescription.place_tenue = False
    if r.exige == "motif_refus" and motif_refus == "complet":
        # « L'action est complète »: the place she held does not exist; given
        # back, it went on sale (or to the next person waiting) at once.
        rend = False
    # The person is told of every step, her own cancellation too (a written
    # trace of what she did); the structure of every cancellation not its own.
    beneficiaire = db.get(Beneficiaire, prescription.beneficiaire_id)
    _dire_a_la_personne(
        db,
        prescription,
        beneficiaire,
        fiche,
        liens,
        maintenant,
        # Placed in a session, she had no date before: not « changes date ».
        "placer"
        if r.action == "changer_session" and avant == places.ACTION
        else r.action,
        precision=_precision(r.action, effet_le, "", dite),
        mot=message,
        # The structure's own words on acceptance say when to come (its
        # form asks for it): not « la structure vous dira quand venir ».
        quand_dit=bool(effet_le or dite or message),
    )
    if r.action == "annuler" and acteur.role != PRESTATAIRE:
        _dire_a_la_structure(db, prescription, fiche, liens, maintenant, "annulee")
    elif r.action == "expirer":
        _dire_a_la_structure(db, prescription, fiche, liens, maintenant, "expiree")
    elif r.action == "proposer" and acteur.role != PRESTATAIRE:
        # A freed place went to the first person waiting: her request now
        # waits for the structure's answer, like a new one.
        _dire_a_la_structure(db, prescription, fiche, liens, maintenant, "proposee")
    if acteur.utilisateur_id is None or acteur.utilisateur_id != (
        prescription.prescripteur_id
    ):
        # Not about what she just did herself (her own cancellation).
        _dire_au_referent(
            db,
            prescription,
            fiche,
            liens,
            r,
            message,
            _precision(r.action, effet_le, "", dite),
        )
    if rend:
        # After this request's own messages: the next person's follow, in
        # the order things happened.
        rendre_la_place(db, prescription, fiche, liens, maintenant)
    return r


def _reclamer(
    db: Session, prescription: Prescription, de: str, r: Regle, maintenant: datetime
) -> None:
    """Two taps on one button, two open tabs: only one transition passes.

    The first write of the transaction is a conditional UPDATE on the status
    that was read; the database makes a second request wait, then finds the
    status changed: refused, nothing else done (no place moved, no message).
    """
    reclame = db.execute(
        update(Prescription)
        .where(Prescription.id == prescription.id, Prescription.statut == de)
        .values(maj_le=maintenant)
        .execution_options(synchronize_session=False)
    )
    if reclame.rowcount != 1:
        # The caller rolls back; the status is read as it is now.
        statut = db.exec(
            select(Prescription.statut).where(Prescription.id == prescription.id)
        ).one()
        raise TransitionRefusee(
            f"« {r.libelle} » n'est plus possible : la demande vient de changer, "
            f"elle est maintenant « {STATUTS[statut].lower()} »."
        )


def debut_annonce(db: Session, p: Prescription) -> date | None:
    """The start day the person was last told: at acceptance, or when a
    place was offered; since a change of session, that session's first day
    (an older day was for the old one: she would come on the wrong day)."""
    for t in reversed(journal(db, p)):
        if t.effet_le and DATES_D_EFFET.get(t.action) == "futur":
            return t.effet_le
        if t.action == "changer_session":
            return date.fromisoformat(p.session) if p.session else None
    return None


def jour_d_entree(db: Session, p: Prescription) -> date | None:
    """The day the person entered, as the prestataire noted it."""
    t = db.exec(
        select(Transition)
        .where(Transition.prescription_id == p.id, Transition.action == "entrer")
        .order_by(Transition.id.desc())
    ).first()
    return (t.effet_le or heure.jour(t.le)) if t else None


def jours_d_entree_et_de_sortie(
    db: Session, structures: list[str] | tuple[str, ...]
) -> dict[int, dict[str, date]]:
    """Per request of these structures: the day the person entered
    ("entrer") and left ("sortir"), as the prestataire last noted them.

    One query for a whole export, not one per request.
    """
    jours: dict[int, dict[str, date]] = {}
    for prescription_id, action, effet_le, le in db.exec(
        select(
            Transition.prescription_id,
            Transition.action,
            Transition.effet_le,
            Transition.le,
        )
        .join(Prescription, Prescription.id == Transition.prescription_id)
        .where(
            Prescription.structure_catalogue.in_(structures),
            Transition.action.in_(("entrer", "sortir")),
        )
        .order_by(Transition.id)
    ):
        jours.setdefault(prescription_id, {})[action] = effet_le or heure.jour(le)
    return jours


def _placer(db, p, fiche, de, r, session, acteur, liens, maintenant) -> None:
    """The place the new status needs, in the chosen session.

    One conditional UPDATE takes the new place (a full session is refused
    and nothing changes); only then does the old session's place go back,
    to the first person waiting there. Never oversold, never lost.
    """
    cible = session or p.session
    vers = r.arrivee(de)
    if cible != p.session:
        if not tient_une_place(vers):
            raise TransitionRefusee("Cette étape ne change pas la session.")
        if cible not in sessions_ouvertes(fiche, heure.jour(maintenant)):
            raise TransitionRefusee("Choisissez une des sessions à venir.")
    elif r.exige == "session":
        raise TransitionRefusee(
            f"La demande est déjà dans la {decrire_session(fiche, cible)}."
        )
    elif p.place_tenue or not tient_une_place(vers) or tient_une_place(de):
        return
    if fiche.sessions and cible == places.ACTION:
        # Asked before the action had sessions: no count to take a place
        # from (a place « offered » there did not exist).
        raise TransitionRefusee(
            "Sa demande date d'avant les sessions : choisissez-lui une session "
            "(depuis sa demande)."
        )
    prise = places.prendre(
        db, fiche.id, acteur.auteur, session=cible, motif=f"demande {p.id}"
    )
    if prise is Prise.COMPLET:
        ou = f" dans la {decrire_session(fiche, cible)}" if cible else ""
        raise TransitionRefusee(
            f"Plus de place libre{ou} : rien n'a changé"
            + (
                ". Choisissez une autre session."
                if fiche.sessions and r.action != "proposer"
                else "."
            )
        )
    if p.place_tenue:
        p.place_tenue = False
        rendre_la_place(db, p, fiche, liens, maintenant, "changement de session")
    p.session = cible
    p.place_tenue = prise is Prise.PRISE


def fixer_les_places(
    db: Session,
    fiche: Fiche,
    nombre: int | None,
    auteur: str,
    *,
    session: str = places.ACTION,
    motif: str = "correction",
    maintenant: datetime | None = None,
) -> int:
    """Set the free places a prestataire counted; journaled. Not committed.

    Starting to track counts the requests already holding a place (they give
    it back when they leave); stopping releases them. Returns how many
    requests changed.
    """
    avant = getattr(
        places.par_session(db, fiche.id).get(session), "places_restantes", None
    )
    places.fixer(
        db,
        fiche.id,
        nombre,
        auteur,
        session=session,
        motif=motif,
        maintenant=maintenant,
    )
    if (avant is None) == (nombre is None):
        return 0
    return _tenir_les_places(db, fiche, session, nombre is not None)


def commencer_le_compte(
    db: Session,
    fiche: Fiche,
    nombre: int,
    auteur: str,
    *,
    session: str = places.ACTION,
    motif: str = "correction",
) -> bool:
    """Start tracking at ``nombre`` if nobody did meanwhile (a tap at the
    same moment): False then, and nothing changed. Not committed."""
    if not places.commencer(db, fiche.id, nombre, auteur, session=session, motif=motif):
        return False
    _tenir_les_places(db, fiche, session, True)
    return True


def _tenir_les_places(db: Session, fiche: Fiche, session: str, suivre: bool) -> int:
    concernees = db.exec(
        select(Prescription).where(
            Prescription.fiche_id == fiche.id,
            Prescription.session == session,
            Prescription.statut.in_(TIENNENT_UNE_PLACE),
            Prescription.place_tenue == (not suivre),
        )
    ).all()
    for p in concernees:
        p.place_tenue = suivre
        db.add(p)
    return len(concernees)


def file_d_attente(fiche_id: str, session: str | None = None):
    """The waiting list in its order, first come first offered (a query)."""
    requete = select(Prescription).where(
        Prescription.fiche_id == fiche_id, Prescription.statut == LISTE_ATTENTE
    )
    if session is not None:
        # Those who waited for the whole action, before it had sessions,
        # wait for any of them.
        requete = requete.where(Prescription.session.in_({session, places.ACTION}))
    return requete.order_by(Prescription.cree_le, Prescription.id)


def rendre_la_place(
    db: Session,
    prescription: Prescription,
    fiche: Fiche,
    liens: Liens,
    maintenant: datetime,
    pourquoi: str | None = None,
) -> None:
    """Give the place back; the first person waiting gets it at once."""
    pourquoi = pourquoi or STATUTS[prescription.statut].lower()
    rendue = places.rendre(
        db,
        fiche.id,
        "prescription",
        session=prescription.session,
        maximum=capacite(fiche, prescription.session),
        motif=f"demande {prescription.id} : {pourquoi}",
    )
    if not rendue:
        return
    donner_a_la_liste_d_attente(db, fiche, prescription.session, liens, maintenant)


def placer_les_demandes_de_l_action(
    db: Session, fiche: Fiche, acteur: Acteur, liens: Liens
) -> tuple[dict[str, int], int]:
    """The requests made for the whole action before it ran by session, still
    asked or accepted, each go to the first coming session with a seat left,
    in the order they came, told as any change of session (the structure may
    move each again). Done whenever seats appear (a session added, its seats
    raised): a session given no seat at first must not leave them without a
    place for good while newcomers take the seats. Returns how many went to
    each session, and how many none could take (for the structure to place).
    """
    if not fiche.sessions:
        return {}, 0
    a_placer = db.exec(
        select(Prescription)
        .where(
            Prescription.fiche_id == fiche.id,
            Prescription.session == places.ACTION,
            Prescription.statut.in_(EN_ATTENTE_DE_REPONSE + (ACCEPTEE,)),
        )
        .order_by(Prescription.cree_le, Prescription.id)
    ).all()
    a_venir, pleines = sorted(sessions_ouvertes(fiche)), set()
    placees: dict[str, int] = {}
    for p in a_placer:
        # Each session asked in turn: its count is read and taken by one
        # conditional UPDATE (a full one refuses, nothing changes).
        for cle in [c for c in a_venir if c not in pleines]:
            try:
                appliquer(db, p, "changer_session", acteur, fiche, liens, session=cle)
            except TransitionRefusee:
                pleines.add(cle)
                continue
            placees[cle] = placees.get(cle, 0) + 1
            break
    return placees, len(a_placer) - sum(placees.values())


def donner_a_la_liste_d_attente(
    db: Session,
    fiche: Fiche,
    session: str,
    liens: Liens,
    maintenant: datetime | None = None,
) -> int:
    """The free places of this count go to the people waiting, in their
    order, before anyone new can take them (a place given back, places
    added by the structure, a new session); how many were offered."""
    offertes = 0
    while premier := db.exec(file_d_attente(fiche.id, session).limit(1)).first():
        prise = places.prendre(
            db, fiche.id, "liste d'attente", session=session, motif="liste d'attente"
        )
        if prise is not Prise.PRISE:
            break
        premier.session = session
        premier.place_tenue = True
        appliquer(
            db,
            premier,
            "proposer",
            Acteur.systeme(),
            fiche,
            liens,
            maintenant=maintenant,
        )
        offertes += 1
    return offertes


def relancer_et_expirer(
    db: Session,
    fiches: dict[str, Fiche],
    liens: Liens,
    relance_jours: int,
    expiration_jours: int,
    maintenant: datetime | None = None,
) -> tuple[int, int]:
    """Remind prestataires of unanswered requests, expire the oldest ones."""
    maintenant = maintenant or places.maintenant_utc()
    relances = expirees = 0
    attente = db.exec(
        select(Prescription).where(Prescription.statut.in_(EN_ATTENTE_DE_REPONSE))
    ).all()
    for p in attente:
        fiche = fiches.get(p.fiche_id)
        if fiche is None:
            continue
        age = maintenant - _utc(p.maj_le)
        if age >= timedelta(days=expiration_jours):
            appliquer(
                db,
                p,
                "expirer",
                Acteur.systeme(),
                fiche,
                liens,
                pourquoi=f"sans réponse depuis {expiration_jours} jours",
                maintenant=maintenant,
            )
            expirees += 1
        elif (
            p.statut in EN_ATTENTE_DE_REPONSE
            and age >= timedelta(days=relance_jours)
            and p.relance_le is None
        ):
            p.relance_le = maintenant
            db.add(p)
            _dire_a_la_structure(db, p, fiche, liens, maintenant, "relance")
            relances += 1
    return relances, expirees


def auditer(
    db: Session,
    prescription: Prescription,
    qui: str,
    quoi: str,
    maintenant: datetime | None = None,
) -> None:
    from prescription.modeles import Audit

    db.add(
        Audit(
            prescription_id=prescription.id,
            qui=qui,
            quoi=quoi,
            le=maintenant or places.maintenant_utc(),
        )
    )


def journal_d_audit(db: Session, prescription_id: int) -> list[Audit]:
    return list(
        db.exec(
            select(Audit)
            .where(Audit.prescription_id == prescription_id)
            .order_by(Audit.id)
        )
    )


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _structure_prestataire(db: Session, fiche: Fiche) -> StructurePro | None:
    return db.exec(
        select(StructurePro)
        .where(
            StructurePro.type == PRESTATAIRE,
            StructurePro.structure_catalogue == fiche.structure,
        )
        .order_by(StructurePro.id)
    ).first()


def destinataires_structure(
    db: Session, fiche: Fiche, liens: Liens
) -> tuple[list[str], str]:
    """Who hears of the fiche's requests, and how (each one or a digest).

    Every member of the prestataire with an e-mail; without members, its own
    address, else the fiche's, else its catalogue structure's.
    """
    structure = _structure_prestataire(db, fiche)
    avis = structure.avis if structure else AVIS_CHAQUE
    membres = []
    if structure is not None:
        membres = db.exec(
            select(Utilisateur.courriel)
            .join(Adhesion, Adhesion.utilisateur_id == Utilisateur.id)
            .where(
                Adhesion.structure_id == structure.id,
                Adhesion.role.in_((PRESTATAIRE_MEMBRE, PRESTATAIRE_ADMIN)),
                Utilisateur.courriel != "",
            )
            .distinct()
            .order_by(Utilisateur.courriel)
        ).all()
    if membres:
        return list(membres), avis
    repli = (
        (structure.courriel if structure else None)
        or fiche.courriel
        or liens.courriel_structure(fiche.structure)
    )
    return ([repli] if repli else []), avis


# What the structure is told, and what to do next: (subject, sentence).
POUR_LA_STRUCTURE = {
    "nouvelle": (
        "Nouvelle demande",
        "À faire : l'accepter ou la refuser. La personne attend votre réponse.",
    ),
    "attente": (
        "Nouvelle inscription sur la liste d'attente",
        "Rien à faire pour l'instant : la première place libérée lui sera "
        "donnée. Vous pouvez aussi lui proposer une place vous-même.",
    ),
    "proposee": (
        # Freed by someone, or added by the structure itself: not « libérée ».
        "Place proposée à la première personne en attente",
        "À faire : l'accepter ou la refuser. La place est gardée "
        "pour cette personne, la première de la liste d'attente.",
    ),
    "annulee": (
        "Demande annulée",
        "Rien à faire : la place est rendue (à la liste d'attente s'il y en a une).",
    ),
    "expiree": (
        "Demande fermée sans réponse",
        "Elle est restée sans réponse trop longtemps. La personne est prévenue et "
        "peut redemander.",
    ),
    "relance": (
        "Rappel : une demande attend votre réponse",
        "À faire : l'accepter ou la refuser.",
    ),
}


def _dire_a_la_structure(db, prescription, fiche, liens, maintenant, evenement):
    destinataires, avis = destinataires_structure(db, fiche, liens)
    sujet, a_faire = POUR_LA_STRUCTURE[evenement]
    if fiche.validation != "aucune":
        # Its first step is « Étudier la demande », not accept or refuse.
        a_faire = a_faire.replace("l'accepter ou la refuser", "l'étudier")
    lien = liens.pro(prescription)
    for destinataire in destinataires:
        if avis == AVIS_RESUME:
            db.add(
                AvisResume(
                    destinataire=destinataire,
                    ligne=f"{sujet} – {fiche.nom} (demande n° {prescription.id})"[:300],
                    lien=lien,
                    cree_le=maintenant,
                )
            )
            continue
        corps = (
            f"{sujet} pour « {fiche.nom} » (demande n° {prescription.id}).\n\n"
            f"{a_faire}\n\nPour la voir (connexion nécessaire) :\n{lien}\n"
        )
        notifications.mettre_en_file(
            db, "courriel", destinataire, f"{sujet} – {fiche.nom}", corps, maintenant
        )


def _dire_a_la_personne(
    db,
    prescription,
    beneficiaire,
    fiche,
    liens,
    maintenant,
    action=None,
    precision="",
    mot="",
    quand_dit=False,
) -> None:
    if beneficiaire is None or prescription.origine == ORIGINE_PRESTATAIRE:
        return
    message = messages.pour_la_personne(
        prescription.statut,
        fiche.nom,
        prescription.origine,
        action=action,
        motif_refus=prescription.motif_refus,
        quand_dit=quand_dit,
    )
    message = messages.completer(
        message, precision, f"Message de la structure : {mot}" if mot else ""
    )
    lien = liens.suivi(prescription) if message.avec_lien else ""
    if beneficiaire.courriel:
        sujet, corps = messages.courriel(message, fiche.nom, beneficiaire.prenom, lien)
        notifications.mettre_en_file(
            db,
            "courriel",
            beneficiaire.courriel,
            sujet,
            corps,
            maintenant,
            prescription_id=prescription.id,
        )
    elif beneficiaire.telephone:
        notifications.mettre_en_file(
            db,
            "sms",
            beneficiaire.telephone,
            message.sujet,
            messages.sms(message, fiche.nom, lien),
            maintenant,
            prescription_id=prescription.id,
        )


def _dire_au_referent(
    db, prescription, fiche, liens, r: Regle, message="", quand=""
) -> None:
    if prescription.prescripteur_id is None or prescription.origine != ORIGINE_REFERENT:
        return
    referent = db.get(Utilisateur, prescription.prescripteur_id)
    if referent is None or not referent.courriel:
        return
    sujet, corps = messages.pour_le_referent(
        prescription.statut,
        fiche.nom,
        liens.pro(prescription),
        motif_refus=prescription.motif_refus,
        action=r.action,
        message=message,
        personne=_initiale(db.get(Beneficiaire, prescription.beneficiaire_id)),
        quand=quand,
        type_sortie=prescription.type_sortie,
    )
    notifications.mettre_en_file(
        db, "courriel", referent.courriel, sujet, corps, prescription_id=prescription.id
    )


def _initiale(beneficiaire: Beneficiaire | None) -> str:
    """« Awa D. »: which of the référent's people, with no more than needed."""
    if beneficiaire is None or not beneficiaire.prenom:
        return ""
    return f"{beneficiaire.prenom} {beneficiaire.nom[:1]}.".strip(" .") + "."
