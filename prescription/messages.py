"""What the person is told at each step, in short plain French.

Written for someone who reads with difficulty: one idea per sentence, "vous",
no workflow words ("statut", "prescription", "transition"). An SMS must fit in
one message (160 characters of the GSM alphabet) whenever it can: the action's
name is shortened if needed, the personal link is only sent while there is
still something to follow or cancel, and letters outside the GSM alphabet
(ê, ç, « », …) are written without their accent, since one of them would cut
the message to 70 characters.
"""

import unicodedata
from dataclasses import dataclass, replace

from prescription.modeles import ORIGINE_AUTO
from prescription.workflow import (
    A_VALIDER,
    ACCEPTEE,
    ANNULEE,
    DEMANDEE,
    ENTREE,
    EXPIREE,
    LISTE_ATTENTE,
    REFUSEE,
    SORTIE,
    TERMINES,
    TYPES_SORTIE,
)

SMS_MAX = 160

# The reason of a refusal, said to the person herself.
RAISONS = {
    "complet": "il n'y a plus de place",
    "hors-zone": "l'action est pour les habitants d'autres communes",
    "public-non-concerne": "l'action ne correspond pas à votre situation",
    "injoignable": "la structure n'a pas pu vous joindre",
    "absence-entretien": "vous avez manqué le rendez-vous",
    "desistement": "vous ne voulez plus y participer",
}

# (subject, sentences); {nom} is the action's name.
PAR_STATUT = {
    DEMANDEE: ("Demande envoyée", "Demande envoyée pour «{nom}». "
               "La structure va vous répondre."),
    A_VALIDER: ("Demande à l'étude", "Votre demande pour «{nom}» est à l'étude. "
                "On va vous contacter."),
    ACCEPTEE: ("Demande acceptée", "Demande acceptée pour «{nom}» ! "
               "La structure vous dira quand venir."),
    ENTREE: ("Bienvenue", "Vous avez commencé «{nom}». Bon courage !"),
    SORTIE: ("Action terminée", "Votre participation à «{nom}» est terminée. "
             "Merci."),
    REFUSEE: ("Demande refusée", "Votre demande pour «{nom}» est refusée"),
    ANNULEE: ("Demande annulée", "Votre demande pour «{nom}» est annulée."),
    EXPIREE: ("Demande fermée", "Votre demande pour «{nom}» est fermée : "
              "pas de réponse à temps. Vous pouvez redemander."),
    LISTE_ATTENTE: ("Liste d'attente", "Liste d'attente pour «{nom}» : "
                    "on vous dira si une place se libère."),
}  # fmt: skip
# A référent asked for the person: she did not send the request herself.
PAR_LE_REFERENT = (
    "Demande envoyée",
    "Votre conseiller a demandé «{nom}» pour vous. La structure répondra.",
)
PLACE_LIBEREE = (
    "Une place pour vous",
    "Une place est libre pour vous à «{nom}». On va vous contacter.",
)
# Steps that say more than the status reached.
PAR_ETAPE = {
    "proposer": PLACE_LIBEREE,
    "retirer": (
        "Liste d'attente",
        "Vous n'êtes plus sur la liste d'attente pour «{nom}»",
    ),
    "changer_session": (
        "Changement de date",
        "Votre place pour «{nom}» change de date.",
    ),
    # The action now runs by session: hers is given (she had no date yet).
    "placer": (
        "Votre session",
        "Votre place pour «{nom}» est maintenant dans une session.",
    ),
    # Asked again for herself: her link again, not « Demande envoyée » twice.
    "redire": (
        "Demande déjà en cours",
        "Votre demande pour «{nom}» est déjà en cours. Rien de nouveau.",
    ),
}


# What the référent who asked is told: the step, in words of the trade.
POUR_LE_REFERENT = {
    DEMANDEE: "Demande envoyée à la structure",
    A_VALIDER: "Demande à l'étude par la structure",
    ACCEPTEE: "Demande acceptée",
    ENTREE: "La personne a commencé l'action",
    SORTIE: "La personne a terminé l'action",
    REFUSEE: "Demande refusée",
    ANNULEE: "Demande annulée",
    EXPIREE: "Demande fermée faute de réponse",
    LISTE_ATTENTE: "La personne est sur liste d'attente",
}
REFERENT_PAR_ETAPE = {
    "proposer": "Une place est proposée à la personne",
    "retirer": "La personne est retirée de la liste d'attente",
    "changer_session": "La personne change de session",
}
MOTIFS_POUR_LE_REFERENT = {
    "complet": "plus de place",
    "hors-zone": "la commune n'est pas dans la zone de l'action",
    "public-non-concerne": "public non concerné",
    "injoignable": "personne injoignable",
    "absence-entretien": "absence à l'entretien",
    "desistement": "désistement",
}


def pour_le_referent(
    statut: str,
    nom: str,
    lien: str,
    *,
    motif_refus: str | None = None,
    action: str | None = None,
    message: str = "",
    personne: str = "",
    quand: str = "",
    type_sortie: str | None = None,
) -> tuple[str, str]:
    """(subject, body) of the e-mail to the référent who asked for the place:
    whom it is about (« Awa D. »), when it starts, the structure's words."""
    etape = REFERENT_PAR_ETAPE.get(action) or POUR_LE_REFERENT[statut]
    if statut == REFUSEE and motif_refus in MOTIFS_POUR_LE_REFERENT:
        etape += f" : {MOTIFS_POUR_LE_REFERENT[motif_refus]}"
    if statut == SORTIE and type_sortie in TYPES_SORTIE:
        # How she left: what the référent does next depends on it.
        etape += (
            f" : {TYPES_SORTIE[type_sortie][0].lower()}{TYPES_SORTIE[type_sortie][1:]}"
        )
    pour = f" ({personne})" if personne else ""
    quand = f"{quand}\n\n" if quand else ""
    mot = f"Message de la structure : {message}\n\n" if message else ""
    return (
        f"{etape} – {nom}",
        f"{etape}{pour} pour « {nom} ».\n\n{quand}{mot}Voir la demande : {lien}\n",
    )


@dataclass(frozen=True)
class Message:
    sujet: str
    texte: str  # without the link
    avec_lien: bool  # something left to follow or cancel


def pour_la_personne(
    statut: str,
    nom: str,
    origine: str,
    *,
    action: str | None = None,
    motif_refus: str | None = None,
    quand_dit: bool = False,
) -> Message:
    """What to tell the person now that her request reached ``statut``;
    ``quand_dit``: the day or the session follows (no « we will tell you »)."""
    if action in PAR_ETAPE:
        sujet, modele = PAR_ETAPE[action]
    elif statut == DEMANDEE and origine != ORIGINE_AUTO:
        sujet, modele = PAR_LE_REFERENT
    else:
        sujet, modele = PAR_STATUT[statut]
    if statut == ACCEPTEE and quand_dit:
        modele = modele.removesuffix(" La structure vous dira quand venir.")
    if statut == REFUSEE:
        raison = RAISONS.get(motif_refus or "")
        aide = (
            "Un conseiller peut vous aider."
            if origine == ORIGINE_AUTO
            else "Votre conseiller peut vous aider."
        )
        modele += f" : {raison}. {aide}" if raison else f". {aide}"
    return Message(sujet, modele, statut not in TERMINES)


# Said last, after the day: « Vous avez commencé « … ». Le 12/01/2027.
# Bon courage ! », never « Bon courage ! Le 12/01/2027. ».
FINS = (" Bon courage !", " Merci.")


def completer(message: Message, faits: str, mot: str) -> Message:
    """The message with the facts (session, day) before its closing words,
    then the structure's own words (kept from str.format: braces doubled)."""
    texte, fin = message.texte, ""
    for une_fin in FINS:
        if texte.endswith(une_fin):
            texte, fin = texte.removesuffix(une_fin), une_fin
    morceaux = [texte, faits.replace("{", "{{").replace("}", "}}")]
    morceaux += [fin.strip(), mot.replace("{", "{{").replace("}", "}}")]
    return replace(message, texte=" ".join(m for m in morceaux if m))


def courriel(message: Message, nom: str, prenom: str, lien: str) -> tuple[str, str]:
    """(subject, body) of the e-mail."""
    texte = message.texte.replace("«", "« ").replace("»", " »").format(nom=nom)
    corps = f"Bonjour {prenom},\n\n{texte}\n"
    if message.avec_lien:
        corps += f"\nPour suivre ou annuler votre demande :\n{lien}\n"
    return f"{message.sujet} – {nom}", corps


def sms(message: Message, nom: str, lien: str) -> str:
    """One SMS when possible: the action's name is shortened to make room."""
    fin = f" {lien}" if message.avec_lien else ""
    texte = en_gsm(message.texte.format(nom=nom)) + fin
    surplus = longueur_sms(texte) - SMS_MAX
    nom_gsm = en_gsm(nom)
    if surplus > 0 and len(nom_gsm) > 12:
        coupe = nom_gsm[: max(12, len(nom_gsm) - surplus - 3)]
        # At a space: « Formation au permis... », not « Formation au pe... ».
        if (espace := coupe.rfind(" ", 12)) > 0:
            coupe = coupe[:espace]
        # « Mobilité vélo :... » said nothing: no punctuation before the dots.
        coupe = coupe.rstrip(" :;,.-–—")
        court = en_gsm(message.texte.format(nom=coupe + "...")) + fin
        # Shortened only if that makes one SMS: a long message from the
        # structure takes two anyway, and the name is better whole.
        if longueur_sms(court) <= SMS_MAX:
            texte = court
    return texte


# The GSM 03.38 basic alphabet (one character = 7 bits), and its extension
# table, whose characters count twice.
GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("€[]{}~|^\\")


def longueur_sms(texte: str) -> int:
    """Length as the network counts it: the extension's characters take two."""
    return len(texte) + sum(c in GSM_EXTENSION for c in texte)


REMPLACEMENTS = {
    "«": '"',
    "»": '"',
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "œ": "oe",
    "Œ": "OE",
    "\u00a0": " ",
    "\u202f": " ",
}


def en_gsm(texte: str) -> str:
    """The text in the GSM alphabet: accents it lacks (ê, ç, â…) are dropped."""
    sortie = []
    for avant, apres in (("« ", "«"), ("«\u00a0", "«"), (" »", "»"), ("\u00a0»", "»")):
        texte = texte.replace(avant, apres)
    for c in texte:
        c = REMPLACEMENTS.get(c, c)
        if all(x in GSM or x in GSM_EXTENSION for x in c):
            sortie.append(c)
            continue
        base = "".join(
            x for x in unicodedata.normalize("NFD", c) if not unicodedata.combining(x)
        )
        sortie.append(base if base and all(x in GSM for x in base) else "?")
    return "".join(sortie)
