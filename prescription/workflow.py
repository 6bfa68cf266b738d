"""The life of a prescription, as a table of transitions.

Each row says which statuses it leaves, which it reaches, who may apply it,
what it needs (a refusal reason, an exit type), whether it gives the place
back, and its French label. Anything not in the table is refused and
changes nothing; everything applied is logged.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from prescription.modeles import Prescription, Transition

DEMANDEE = "demandee"
A_VALIDER = "a_valider"
ACCEPTEE = "acceptee"
ENTREE = "entree"
SORTIE = "sortie"
REFUSEE = "refusee"
ANNULEE = "annulee"
EXPIREE = "expiree"
LISTE_ATTENTE = "liste_attente"

STATUTS = {
    DEMANDEE: "Demandée",
    A_VALIDER: "À valider",
    ACCEPTEE: "Acceptée",
    ENTREE: "Entrée dans l'action",
    SORTIE: "Sortie de l'action",
    REFUSEE: "Refusée",
    ANNULEE: "Annulée",
    EXPIREE: "Expirée (sans réponse)",
    LISTE_ATTENTE: "Sur liste d'attente",
}
# What a request's history says of a step, when more than its status.
DANS_L_HISTORIQUE = {
    "proposer": "Place proposée (liste d'attente)",
    "retirer": "Retirée de la liste d'attente",
    "changer_session": "Session changée",
}
# Requests still waiting for the prestataire's answer.
EN_ATTENTE_DE_REPONSE = (DEMANDEE, A_VALIDER)
# Statuses where the request is over.
TERMINES = (SORTIE, REFUSEE, ANNULEE, EXPIREE)
# The one rule of which statuses hold a place: the workflow gives the place
# back when a request leaves them, the places counter starts from them, the
# fill rate counts them. Waiting, refused, cancelled, expired or gone: none.
TIENNENT_UNE_PLACE = (DEMANDEE, A_VALIDER, ACCEPTEE, ENTREE)


def tient_une_place(statut: str | None) -> bool:
    return statut in TIENNENT_UNE_PLACE


AUTRE_RAISON = "autre"
AUTRE_SORTIE = "autre"
MOTIFS_REFUS = {
    "complet": "L'action est complète",
    "hors-zone": "La personne n'habite pas dans la zone de l'action",
    "public-non-concerne": "L'action ne s'adresse pas à cette situation",
    "injoignable": "La personne n'a pas pu être jointe",
    "absence-entretien": "La personne n'est pas venue à l'entretien",
    "desistement": "La personne ne souhaite plus y participer",
    "autre": "Autre raison",
}

TYPES_SORTIE = {
    "emploi-durable": "Emploi durable (CDI, CDD de 6 mois ou plus)",
    "emploi-transition": "Emploi de transition (CDD court, intérim, contrat aidé)",
    "formation": "Formation qualifiante",
    "relais": "Relais vers un autre accompagnement",
    "fin-action": "Fin de l'action, sans solution pour l'instant",
    "abandon": "Abandon",
    "demenagement": "Déménagement",
    "sante": "Raison de santé",
    "autre": "Autre",
}

# Who applies a transition.
PRESTATAIRE = "prestataire"
REFERENT = "referent"
BENEFICIAIRE = "beneficiaire"
SYSTEME = "systeme"


@dataclass(frozen=True)
class Regle:
    action: str
    libelle: str
    depuis: tuple[str | None, ...]
    # None: the request stays in its status (a change of session).
    vers: str | None
    par: tuple[str, ...]
    # None: any fiche; True: only fiches with a check before entry; False: without.
    avec_validation: bool | None = None
    exige: str | None = None  # "motif_refus", "type_sortie" or "session"

    def arrivee(self, de: str | None) -> str:
        return self.vers or de

    @property
    def rend_la_place(self) -> bool:
        """Leaving the statuses that hold a place gives it back."""
        return self.vers is not None and not tient_une_place(self.vers)


TRANSITIONS: tuple[Regle, ...] = (
    # Creations: the first line of every request's log.
    Regle(
        "demander", "Demander une place", (None,), DEMANDEE, (REFERENT, BENEFICIAIRE)
    ),
    Regle(
        "inscrire",
        "Inscrire une personne venue d'elle-même",
        (None,),
        ACCEPTEE,
        (PRESTATAIRE,),
    ),
    Regle(
        "attendre",
        "S'inscrire sur la liste d'attente",
        (None,),
        LISTE_ATTENTE,
        (REFERENT, BENEFICIAIRE, PRESTATAIRE),
    ),
    # The prestataire's answers.
    Regle(
        "etudier",
        "Étudier la demande (validation avant l'entrée)",
        (DEMANDEE,),
        A_VALIDER,
        (PRESTATAIRE,),
        avec_validation=True,
    ),
    Regle(
        "accepter",
        "Accepter",
        (DEMANDEE,),
        ACCEPTEE,
        (PRESTATAIRE,),
        avec_validation=False,
    ),
    Regle("valider", "Valider et accepter", (A_VALIDER,), ACCEPTEE, (PRESTATAIRE,)),
    Regle(
        "refuser",
        "Refuser",
        (DEMANDEE, A_VALIDER),
        REFUSEE,
        (PRESTATAIRE,),
        exige="motif_refus",
    ),
    # Before entry, the person may move to another session (places move too).
    Regle(
        "changer_session",
        "Changer de session",
        (DEMANDEE, A_VALIDER, ACCEPTEE),
        None,
        (PRESTATAIRE,),
        exige="session",
    ),
    Regle(
        "entrer", "Noter l'entrée dans l'action", (ACCEPTEE,), ENTREE, (PRESTATAIRE,)
    ),
    Regle(
        "sortir",
        "Noter la sortie",
        (ENTREE,),
        SORTIE,
        (PRESTATAIRE,),
        exige="type_sortie",
    ),
    # Anyone involved may cancel before the person enters.
    Regle(
        "annuler",
        "Annuler la demande",
        (DEMANDEE, A_VALIDER, ACCEPTEE, LISTE_ATTENTE),
        ANNULEE,
        (REFERENT, BENEFICIAIRE, PRESTATAIRE),
    ),
    # The waiting list: the prestataire offers a free place, or takes
    # someone off the list with a reason; a freed place goes to the first.
    Regle(
        "proposer",
        "Proposer une place",
        (LISTE_ATTENTE,),
        DEMANDEE,
        (PRESTATAIRE, SYSTEME),
    ),
    Regle(
        "retirer",
        "Retirer de la liste d'attente",
        (LISTE_ATTENTE,),
        REFUSEE,
        (PRESTATAIRE,),
        exige="motif_refus",
    ),
    # Time. A place on the waiting list is an answer: it never expires as
    # « sans réponse » (the prestataire takes people off it, with a reason).
    Regle(
        "expirer",
        "Expirer faute de réponse",
        (DEMANDEE, A_VALIDER),
        EXPIREE,
        (SYSTEME,),
    ),
)
PAR_ACTION = {r.action: r for r in TRANSITIONS}


class TransitionRefusee(Exception):
    """A change the table does not allow: nothing was changed."""


def possibles(statut: str | None, par: str, avec_validation: bool) -> list[Regle]:
    """The transitions ``par`` may apply from ``statut``, in table order."""
    return [
        r
        for r in TRANSITIONS
        if statut in r.depuis
        and par in r.par
        and r.avec_validation in (None, avec_validation)
    ]


def regle(
    action: str,
    statut: str | None,
    par: str,
    avec_validation: bool,
    motif_refus: str | None = None,
    type_sortie: str | None = None,
    session: str | None = None,
    message: str = "",
    pourquoi: str = "",
) -> Regle:
    """The table's row for this change, or TransitionRefusee (in French)."""
    r = PAR_ACTION.get(action)
    if r is None:
        raise TransitionRefusee(f"L'action « {action} » n'existe pas.")
    depuis = STATUTS.get(statut, "nouvelle demande") if statut else "nouvelle demande"
    if statut not in r.depuis:
        raise TransitionRefusee(
            f"« {r.libelle} » n'est pas possible : la demande est « {depuis.lower()} »."
        )
    if par not in r.par:
        raise TransitionRefusee(f"« {r.libelle} » ne vous est pas ouvert.")
    if r.avec_validation is True and not avec_validation:
        raise TransitionRefusee("Cette action n'a pas d'étape de validation.")
    if r.avec_validation is False and avec_validation:
        raise TransitionRefusee(
            "Cette action demande une validation avant l'entrée : "
            "étudiez d'abord la demande."
        )
    if r.exige == "motif_refus" and motif_refus not in MOTIFS_REFUS:
        raise TransitionRefusee("Choisissez la raison du refus.")
    if r.exige == "motif_refus" and motif_refus == AUTRE_RAISON and not message.strip():
        # Else the person and the référent learn only « refusée ».
        raise TransitionRefusee(
            "« Autre raison » : écrivez-la en quelques mots dans le message ; "
            "elle est transmise avec le refus."
        )
    if r.exige == "type_sortie" and type_sortie not in TYPES_SORTIE:
        raise TransitionRefusee("Choisissez comment la personne est sortie.")
    if (
        r.exige == "type_sortie"
        and type_sortie == AUTRE_SORTIE
        and not pourquoi.strip()
    ):
        # Else the département counts an « Autre » it can never read.
        raise TransitionRefusee(
            "« Autre » : dites en quelques mots comment la personne sort, dans "
            "la précision."
        )
    if r.exige == "session" and not session:
        raise TransitionRefusee("Choisissez la nouvelle session.")
    return r


def noter(
    db: Session,
    prescription: Prescription,
    r: Regle,
    de: str | None,
    auteur: str,
    maintenant: datetime,
    pourquoi: str = "",
    effet_le: date | None = None,
    message: str = "",
) -> None:
    db.add(
        Transition(
            prescription_id=prescription.id,
            de=de,
            vers=prescription.statut,
            action=r.action,
            par=auteur,
            le=maintenant,
            pourquoi=pourquoi[:500],
            effet_le=effet_le,
            message=message[:500],
        )
    )
