"""Free text people type, one rule for every form: no control character.

A NUL byte is refused by PostgreSQL; the others hide text or break an export.
Fields of several lines keep their line breaks and tabs.
"""

import unicodedata

INVISIBLE = (
    "contient un caractère invisible qui n'est pas accepté : "
    "effacez le champ et retapez-le"
)


def caractere_invisible(valeur: str, lignes: bool = False) -> bool:
    permis = "\n\r\t" if lignes else ""
    return any(unicodedata.category(c) == "Cc" and c not in permis for c in valeur)
