"""Phone numbers as people type them, kept so that a text message reaches them.

A number typed without its country is read in the French numbering plan,
overseas départements included (« 0692 12 34 56 » is a Réunion mobile). It is kept
in the national form in metropolitan France (« 06 12 34 56 78 ») and with
its country code everywhere else (« +262 692 12 34 56 »): a national form
alone would send a Réunion or an Algerian number to a stranger in France.
"""

import re

import phonenumbers

REGIONS_OUTRE_MER = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")
INDICATIFS_OUTRE_MER = {262, 508, 590, 594, 596}
# The overseas départements' own prefixes in the national plan (0262, 0269,
# 0590, 0692…): the library takes some of them (« 0269 », Mayotte) for
# metropolitan numbers. Every other number is read as metropolitan first.
PREFIXES_OUTRE_MER = (
    "262", "263", "269", "590", "594", "596", "639",
    "690", "691", "692", "693", "694", "696", "697",
)  # fmt: skip
# Numbers a text message reaches (06, 07 in France; the rest are landlines,
# freephone or internet numbers).
PORTABLES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


POSTE = re.compile(
    r"[\s,(]*\b(?:postes?|p\.)\s*(?::|n°|no\.?|n\.)?\s*\d{1,6}\s*\)?\s*$",
    re.IGNORECASE,
)


def lire(texte: str) -> phonenumbers.PhoneNumber | None:
    """The number typed, or None if it is no valid number."""
    # « poste 4 », « p. 4 »: an extension as French speakers write it (the
    # library knows « ext », « x », « # »).
    texte = POSTE.sub("", texte)
    try:
        numero = phonenumbers.parse(texte, "FR")
    except phonenumbers.NumberParseException:
        return None
    # « 06… ext 2 », « #3 »: the same phone (an SMS has no extension), kept
    # without it: one number for the limits and the duplicates.
    numero.extension = None
    outre_mer = numero.country_code == 33 and str(numero.national_number).startswith(
        PREFIXES_OUTRE_MER
    )
    if not outre_mer:
        return numero if phonenumbers.is_valid_number(numero) else None
    for region in REGIONS_OUTRE_MER:
        ailleurs = phonenumbers.parse(texte, region)
        ailleurs.extension = None
        if phonenumbers.is_valid_number(ailleurs):
            return ailleurs
    return None


def inexistant(texte: str) -> bool:
    """A whole French number, its 10 digits however written (« 07 11… »,
    « +33 (0)7 11… »), that is given to nobody: not a typing mistake."""
    try:
        numero = phonenumbers.parse(texte, "FR")
    except phonenumbers.NumberParseException:
        return False
    return (
        numero.country_code == 33
        # The 9 digits after the 0 (the library keeps a 0 typed in a short
        # number as one of them: « 06 12 34 56 7 » is 8, not 9).
        and len(str(numero.national_number)) == 9
        and not phonenumbers.is_valid_number(numero)
    )


def ecrire(numero: phonenumbers.PhoneNumber) -> str:
    """« 06 12 34 56 78 » in metropolitan France, « +262 692 12 34 56 » else."""
    forme = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if numero.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(numero, forme)


def formes(telephone: str) -> set[str]:
    """Every way the same number may be stored: as written now, and in the
    national forms an older version kept (« 0692 12 34 56 » for Réunion,
    « 02 69 61 12 34 » for Mayotte, read then as metropolitan)."""
    numero = lire(telephone)
    if numero is None:
        return {telephone}
    national = phonenumbers.PhoneNumberFormat.NATIONAL
    formes_ = {telephone, ecrire(numero), phonenumbers.format_number(numero, national)}
    if numero.country_code in INDICATIFS_OUTRE_MER:
        # Only the French plan's: an Algerian « 551… » is no « 05 51… ».
        chiffres = "0" + phonenumbers.national_significant_number(numero)
        metropole = phonenumbers.parse(chiffres, "FR")
        if phonenumbers.is_valid_number(metropole):
            formes_.add(phonenumbers.format_number(metropole, national))
    return formes_


def portable(numero: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.number_type(numero) in PORTABLES


def international(telephone: str) -> str:
    """The number as an SMS provider wants it: « 33612345678 »."""
    numero = lire(telephone)
    if numero is None:  # kept before numbers were checked: as it was written
        chiffres = "".join(c for c in telephone if c.isdigit())
        if len(chiffres) == 10 and chiffres[0] == "0":
            return "33" + chiffres[1:]
        return chiffres
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164)[1:]
