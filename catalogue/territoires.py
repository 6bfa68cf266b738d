"""Commune referential (INSEE COG, from @etalab/decoupage-administratif).

Answers the questions the catalogue asks of a territory: does this code
exist, which commune is this postal code, which EPCI and département contain
this commune, where is its centre.
"""

import csv
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from catalogue.vocabulaires import DATA_DIR

TERRITOIRES_DIR = DATA_DIR / "territoires"


@dataclass(frozen=True, slots=True)
class Commune:
    code_insee: str
    nom: str
    codes_postaux: tuple[str, ...]
    departement: str
    epci: str | None
    population: int
    latitude: float | None
    longitude: float | None

    @property
    def codes_zone(self) -> tuple[str, ...]:
        """Every zone_eligibilite code that covers this commune."""
        codes = [self.code_insee, self.departement]
        if self.epci:
            codes.append(self.epci)
        return tuple(codes)


def normalise(texte: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces."""
    sans_accents = unicodedata.normalize("NFKD", texte)
    sans_accents = "".join(c for c in sans_accents if not unicodedata.combining(c))
    for sep in "-'’":
        sans_accents = sans_accents.replace(sep, " ")
    return " ".join(sans_accents.lower().split())


class Referentiel:
    def __init__(self, directory: Path = TERRITOIRES_DIR):
        self.communes: dict[str, Commune] = {}
        self.par_code_postal: dict[str, list[Commune]] = {}
        with open(directory / "communes.csv", encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                commune = Commune(
                    code_insee=row["code_insee"],
                    nom=row["nom"],
                    codes_postaux=tuple(row["codes_postaux"].split()),
                    departement=row["departement"],
                    epci=row["epci"] or None,
                    population=int(row["population"] or 0),
                    latitude=float(row["latitude"]) if row["latitude"] else None,
                    longitude=float(row["longitude"]) if row["longitude"] else None,
                )
                self.communes[commune.code_insee] = commune
                for cp in commune.codes_postaux:
                    self.par_code_postal.setdefault(cp, []).append(commune)
        self.epci = _read_names(directory / "epci.csv")
        self.departements = _read_names(directory / "departements.csv")
        # Biggest first, so "Alen" suggests Alençon before any hamlet.
        self._index_noms = sorted(
            ((normalise(c.nom), c) for c in self.communes.values()),
            key=lambda item: -item[1].population,
        )

    def code_zone_valide(self, code: str) -> bool:
        return code in self.communes or code in self.epci or code in self.departements

    def libelle_zone(self, code: str) -> str:
        if code in self.communes:
            return self.communes[code].nom
        return self.epci.get(code) or self.departements.get(code) or code

    def suggerer(self, texte: str, limite: int = 8) -> list[Commune]:
        """Communes for an autocomplete: postal code prefix or name prefix."""
        texte = texte.strip()
        if not texte:
            return []
        if texte.isdigit():
            trouvees = [
                c
                for cp, communes in self.par_code_postal.items()
                if cp.startswith(texte)
                for c in communes
            ]
            trouvees.sort(key=lambda c: -c.population)
            return _uniques(trouvees)[:limite]
        cle = normalise(texte)
        debut = [c for nom, c in self._index_noms if nom.startswith(cle)]
        if len(debut) < limite:
            debut += [c for nom, c in self._index_noms if f" {cle}" in f" {nom}"]
        return _uniques(debut)[:limite]

    def trouver(self, texte: str) -> Commune | None:
        """One commune from a code INSEE, a postal code or an exact name."""
        texte = texte.strip()
        if texte in self.communes:
            return self.communes[texte]
        if texte in self.par_code_postal:
            return max(self.par_code_postal[texte], key=lambda c: c.population)
        # "Alençon (61000)" as the autocomplete fills it in.
        if texte.endswith(")") and "(" in texte:
            nom, _, cp = texte[:-1].rpartition("(")
            for c in self.par_code_postal.get(cp.strip(), []):
                if normalise(c.nom) == normalise(nom):
                    return c
            texte = nom
        cle = normalise(texte)
        for nom, c in self._index_noms:
            if nom == cle:
                return c
        return None


def _read_names(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as f:
        return {row["code"]: row["nom"] for row in csv.DictReader(f)}


def _uniques(communes: list[Commune]) -> list[Commune]:
    seen: set[str] = set()
    return [c for c in communes if not (c.code_insee in seen or seen.add(c.code_insee))]


@cache
def referentiel() -> Referentiel:
    return Referentiel()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), good to a few metres at this scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
