"""Opening hours as people write them (« du lundi au vendredi, de 9 h à 12 h »),
read into OpenStreetMap's opening_hours (« Mo-Fr 09:00-12:00 »), the format
data·inclusion asks for.

Only days and hours are read: a text that says anything else (« sauf les
vacances », « sur rendez-vous ») gives None, never a guess. Each result is
checked by the opening_hours library, which the aggregators use too."""

import re
import unicodedata

import opening_hours

JOURS = {
    "lundi": "Mo",
    "mardi": "Tu",
    "mercredi": "We",
    "jeudi": "Th",
    "vendredi": "Fr",
    "samedi": "Sa",
    "dimanche": "Su",
}
# « lun », « ven. »: the days as a timetable abbreviates them.
ABREGES = {j[:3]: j for j in JOURS}
_ABREGE = re.compile(r"\b(lun|mar|mer|jeu|ven|sam|dim)\b\.?")
_JOUR = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?"
_HEURE = r"\d{1,2}\s*(?:h|:)\s*(?:\d{2})?"
_PLAGE = rf"(?:de\s+)?{_HEURE}\s*(?:a|-|–|jusqu'a)\s*{_HEURE}"
_PLAGES = rf"{_PLAGE}(?:\s*(?:,|et|puis|/)\s*{_PLAGE})*"
# « du lundi au jeudi », « lundi-vendredi »
_AU = r"\s*(?:\sau\s|-|–)\s*"
_JOURS = (
    rf"tous les jours|en semaine|(?:du\s+)?{_JOUR}{_AU}{_JOUR}"
    rf"|(?:les?\s+)?{_JOUR}(?:\s*(?:,|et)\s*(?:le\s+)?{_JOUR})*"
)
_REGLE = re.compile(
    rf"(?P<jours>{_JOURS})\s*[,:]?\s*(?P<heures>{_PLAGES})"
    rf"|(?P<heures2>{_PLAGES})\s*,?\s*(?P<jours2>{_JOURS})"
)
# Between two rules of one sentence: « …, le vendredi … », « … et le … ».
_ENTRE_REGLES = re.compile(r"\s*(?:,|et)?\s*")


def en_osm(texte: str | None) -> str | None:
    """The hours in OSM syntax, or None if the text says more than days and
    hours, or is not a valid opening_hours expression."""
    if not texte or not texte.strip():
        return None
    texte = "\n".join(" ".join(ligne.split()) for ligne in texte.splitlines())
    if re.search(r"\d", texte) and opening_hours.validate(texte):
        # Written so already; with an hour in it: « open », « off » or a
        # quoted comment (« "sur rendez-vous" ») are valid, and say no hours.
        return texte
    regles = []
    plie = _ABREGE.sub(lambda m: ABREGES[m[1]], _plier(texte))
    for morceau in re.split(r"\s*[;\n]\s*|\.\s+|\.$", plie):
        if not morceau.strip(" ,"):
            continue
        lues = _regles(morceau.strip(" ,"))
        if lues is None:
            return None
        regles += lues
    osm = "; ".join(regles)
    return osm if regles and opening_hours.validate(osm) else None


def _plier(texte: str) -> str:
    sans_accents = unicodedata.normalize("NFKD", texte.lower().replace("’", "'"))
    return "".join(c for c in sans_accents if not unicodedata.combining(c))


def _regles(morceau: str) -> list[str] | None:
    """The rules one after the other, the whole text read, or None."""
    regles, debut = [], 0
    while debut < len(morceau):
        if regles:
            debut = _ENTRE_REGLES.match(morceau, debut).end()
        m = _REGLE.match(morceau, debut)
        regle = m and _regle(m)
        if regle is None:
            return None
        regles.append(regle)
        debut = m.end()
    return regles


def _regle(m: re.Match) -> str | None:
    jours = _jours(m["jours"] or m["jours2"])
    plages = [_plage(p) for p in re.findall(_PLAGE, m["heures"] or m["heures2"])]
    if None in plages:
        return None
    return f"{jours} {','.join(plages)}"


def _jours(texte: str) -> str:
    if texte == "tous les jours":
        return "Mo-Su"
    if texte == "en semaine":
        return "Mo-Fr"
    noms = [JOURS[j.rstrip("s")] for j in re.findall(_JOUR, texte)]
    if re.search(rf"{_JOUR}{_AU}{_JOUR}", texte):
        return f"{noms[0]}-{noms[1]}"
    return ",".join(dict.fromkeys(noms))


def _plage(texte: str) -> str | None:
    debut, fin = (_minutes(h) for h in re.findall(_HEURE, texte))
    if debut is None or fin is None or debut >= fin:
        return None
    return f"{debut // 60:02d}:{debut % 60:02d}-{fin // 60:02d}:{fin % 60:02d}"


def _minutes(texte: str) -> int | None:
    heures, _, minutes = re.split(r"\s*(h|:)\s*", texte.strip(), maxsplit=1)
    h, m = int(heures), int(minutes or 0)
    if h > 24 or m > 59 or (h == 24 and m):
        return None
    return h * 60 + m
