"""The département's clock: days and months as people there live them.

Moments are stored in UTC (naive in the database: UTC). A day, a month, a
date typed or shown is the département's: at 00:30 in Paris on 1 December,
a request belongs to December, and « today » is the 1st, not the 30th of
November as in UTC. Overseas départements set their own zone
(FUSEAU_HORAIRE: America/Guadeloupe, Indian/Reunion…).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

FUSEAU_DEFAUT = "Europe/Paris"
_fuseau = ZoneInfo(FUSEAU_DEFAUT)


def regler(nom: str) -> None:
    """Set the département's time zone (an IANA name); ValueError if unknown."""
    global _fuseau
    try:
        _fuseau = ZoneInfo(nom)
    except (KeyError, ValueError, OSError, TypeError) as e:  # not found: KeyError
        raise ValueError(f"fuseau horaire inconnu : « {nom} »") from e


def fuseau() -> ZoneInfo:
    return _fuseau


def local(moment: datetime) -> datetime:
    """The moment on the département's clock (a naive one is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_fuseau)


def jour(moment: datetime) -> date:
    """The département's day of a moment."""
    return local(moment).date()


def aujourd_hui() -> date:
    return datetime.now(_fuseau).date()


def mois(moment: datetime) -> str:
    """« 2026-12 »: the département's month of a moment."""
    return local(moment).strftime("%Y-%m")


def debut_du_jour(jour_: date) -> datetime:
    """When that day starts there, in UTC (the bound of a period)."""
    return datetime.combine(jour_, time(), _fuseau).astimezone(UTC)


def debut_du_mois(annee: int, numero: int) -> datetime:
    """When that month starts there, in UTC; month 13 is next January."""
    annee, numero = annee + (numero - 1) // 12, (numero - 1) % 12 + 1
    return debut_du_jour(date(annee, numero, 1))


def est_debut_de_mois(moment: datetime) -> bool:
    """True when the moment is midnight on a 1st, there."""
    lu = local(moment)
    return lu.day == 1 and lu.time() == time()
