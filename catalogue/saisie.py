"""Free text people type, one rule for every form: no control character.

A NUL byte is refused by PostgreSQL; the others hide text or break an export.
Format characters too: a right-to-left override makes « 21h-9h » read
otherwise on the prestataire's screen than it was typed, a zero-width space
makes two names look alike. The soft hyphen stays (word processors paste it,
and it shows at most as a hyphen). Fields of several lines keep their line
breaks and tabs.
"""

import unicodedata

INVISIBLE = (
    "contient un caractère invisible qui n'est pas accepté : "
    "effacez le champ et retapez-le"
)


# Letters and marks that show nothing (Unicode's « default ignorable »
# ones outside the categories below): Hangul fillers, the combining
# grapheme joiner, variation selectors, the blank braille pattern.
SANS_TRACE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0"
    + "".join(map(chr, range(0x180B, 0x1810)))
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


# The zero-width (non-)joiner inside a word: how Persian (« علی‌نژاد ») and
# Indian scripts are written, and what their keyboards type.
JOINTS = frozenset("\u200c\u200d")


def _lettre(c: str) -> bool:
    return unicodedata.category(c)[0] in "LM"


def caractere_invisible(valeur: str, lignes: bool = False) -> bool:
    permis = "\n\r\t\u00ad" if lignes else "\u00ad"
    for i, c in enumerate(valeur):
        if c in permis:
            continue
        if c in JOINTS and 0 < i < len(valeur) - 1:
            if _lettre(valeur[i - 1]) and _lettre(valeur[i + 1]):
                continue
        if (
            unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp")
            or c in SANS_TRACE
        ):
            return True
    return False
