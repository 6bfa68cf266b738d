"""Phone numbers as people type them, kept so that a text message reaches them.

A number typed without its country is read in the French numbering plan,
overseas départements included (« 0692 12 34 56 » is a Réunion mobile). It is kept
in the national form in metropolitan France (« 06 12 34 56 78 ») and with
its country code everywhere else (« +262 692 12 34 56 »): a national form
alone would send a Réunion or an Algerian number to a stranger in France.
"""

import phonenumbers

# Overseas first: their numbers start with prefixes of their own (0262,
# 0269, 0590, 0692…) that no metropolitan number uses, and the library takes
# « 0269 » (Mayotte) for a metropolitan landline too.
REGIONS = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF", "FR")
# Numbers a text message reaches (06, 07 in France; the rest are landlines,
# freephone or internet numbers).
PORTABLES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def lire(texte: str) -> phonenumbers.PhoneNumber | None:
    """The number typed, or None if it is no valid number."""
    for region in REGIONS:
        try:
            numero = phonenumbers.parse(texte, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(numero):
            return numero
    return None


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
    national form an older version kept for every country."""
    numero = lire(telephone)
    if numero is None:
        return {telephone}
    forme = phonenumbers.PhoneNumberFormat.NATIONAL
    return {telephone, ecrire(numero), phonenumbers.format_number(numero, forme)}


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
