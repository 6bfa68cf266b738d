"""gunicorn's access log without the personal links' secrets.

« GET /suivi/<jeton> » opened a person's request for 90 days (and let one
cancel it), « /places/<jeton> » a structure's places for 30: the log kept
them whole, in the request line and in the Referer of every page they load.
The Procfile names this class (``--logger-class``); the development
server's log gets the same filter.
"""

import logging
import re
from urllib.parse import unquote

from gunicorn.glogging import Logger

# /suivi/<jeton> and /places/<jeton>, not /pro/places/<fiche>; also after
# « // », « /./ » or a backslash, which the server redirects or reads alike.
JETON_DANS_L_ADRESSE = re.compile(
    r"(?<!/pro)(/(?:suivi|places)[/\\.]*[/\\])([^/\\?#&\s\"]+)", re.IGNORECASE
)
# What a decoded line must not carry into the log: a newline would forge
# another line, an escape code would rewrite the operator's terminal.
CONTROLE = re.compile(r"[\x00-\x1f\x7f]")
# The colours werkzeug puts around a request line (« ESC[31m »): encoded
# again with the rest, they showed as « %1B[31m » in `make run`'s log.
COULEURS = re.compile(r"\x1b\[[0-9;]*m")


def masquer_les_jetons(texte: str) -> str:
    """The text with each link's secret masked. Read decoded too: the
    server routes « /%73uivi/… » and « /suivi%2F… » as « /suivi/… », and a
    link rewriter may encode it. Such a line is logged decoded, its control
    characters encoded again."""
    lu = texte
    for _ in range(3):  # encoded twice over, at most
        if (decode := unquote(lu)) == lu:
            break
        lu = decode
    if not JETON_DANS_L_ADRESSE.search(lu):
        return texte
    masque = JETON_DANS_L_ADRESSE.sub(r"\1•••", lu)
    return CONTROLE.sub(lambda c: f"%{ord(c[0]):02X}", masque)


class FiltreMasque(logging.Filter):
    """The same masking for the development server's access log (werkzeug's
    logger: `make run`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        sans_couleurs = COULEURS.sub("", message)
        masque = masquer_les_jetons(sans_couleurs)
        # A line with nothing to mask keeps its colours.
        record.msg = masque if masque != sans_couleurs else message
        record.args = ()
        return True


def masquer_le_journal_werkzeug() -> None:
    journal = logging.getLogger("werkzeug")
    if not any(isinstance(f, FiltreMasque) for f in journal.filters):
        journal.addFilter(FiltreMasque())


class JournalMasque(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            cle: masquer_les_jetons(valeur) if isinstance(valeur, str) else valeur
            for cle, valeur in atoms.items()
        }
