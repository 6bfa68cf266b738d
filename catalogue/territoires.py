"""Commune referential (INSEE COG, from @etalab/decoupage-administratif).

Answers the questions the catalogue asks of a territory: does this code
exist, which commune is this postal code, which EPCI and département contain
this commune, where is its centre.
"""

import bisect
import csv
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

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


@dataclass(frozen=True)
class Lieu:
    """A place as a person names it: a commune, an EPCI or a département."""

    genre: str  # "commune", "epci" or "departement"
    code: str
    libelle: str  # shown, and read back as the same place
    # Every zone_eligibilite code whose actions are open to someone there.
    codes_zone: tuple[str, ...]
    point: tuple[float, float] | None  # for distance (communes, EPCI)
    departement: str | None
    population: int = 0


@dataclass(frozen=True)
class Resolution:
    """What a typed place is: the one chosen, the others of that name, or
    close spellings when none has it."""

    lieu: Lieu | None = None
    autres: tuple[Lieu, ...] = ()
    suggestions: tuple[Lieu, ...] = ()


LIBELLE_MAX = 200  # the longest label (an EPCI's) is about 120 characters
# "Evry 91000", "91000 Evry": a name and a postcode, as on an envelope.
ENVELOPPE = r"([^\d()]+?)[\s,]+(\d{5})|(\d{5})[\s,]+([^\d()]+)"
# "St-Denis", "Ste Foy": abbreviations as people type them.
ABREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def code_de_commune(texte: str) -> str | None:
    """A postcode or INSEE code as people type it: "54 000", "2a004"; None
    if not a code (four digits are a code being typed, not one whose
    leading zero was lost: "6100" is on its way to 61000)."""
    code = re.sub(r"\s+", "", texte).upper()
    return code if re.fullmatch(r"\d{5}|2[AB]\d{3}", code) else None


def normalise(texte: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces, "St" as
    "Saint"."""
    sans_accents = unicodedata.normalize("NFKD", texte)
    sans_accents = "".join(c for c in sans_accents if not unicodedata.combining(c))
    # Hyphens, dashes and apostrophes of every kind keyboards and word
    # processors give.
    for sep in "-‐‑–—'’‘ʼ.":
        sans_accents = sans_accents.replace(sep, " ")
    # Lower case first: « CŒUVRES » too. The soft hyphen pasted from a word
    # processor is no letter. Letters Unicode does not split: « ø », « ß ».
    sans_accents = sans_accents.lower().replace("\u00ad", "")
    for lettre, en_ascii in (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o")):
        sans_accents = sans_accents.replace(lettre, en_ascii)
    return " ".join(ABREVIATIONS.get(m, m) for m in sans_accents.split())


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
        # The official short names (« CU d'Alençon ») are spelt out where shown;
        # the short form is still understood when typed.
        self.epci_courts = _read_names(directory / "epci.csv")
        self.epci = {
            code: en_toutes_lettres(nom) for code, nom in self.epci_courts.items()
        }
        self.departements = _read_names(directory / "departements.csv")
        # Biggest first, so "Alen" suggests Alençon before any hamlet.
        self._index_noms = sorted(
            ((normalise(c.nom), c) for c in self.communes.values()),
            key=lambda item: -item[1].population,
        )

    @cached_property
    def lieux(self) -> "Lieux":
        return Lieux(self)

    @cached_property
    def _noms_tries(self) -> list[tuple[str, str]]:
        return sorted((nom, c.code_insee) for nom, c in self._index_noms)

    def _communes_qui_commencent(self, cle: str, mots_entiers=True) -> list[Commune]:
        """Communes whose name begins with these whole words (or, not
        ``mots_entiers``, with this text, its last word cut short)."""
        debut, trouvees = cle + " " if mots_entiers else cle, []
        i = bisect.bisect_left(self._noms_tries, (debut, ""))
        while i < len(self._noms_tries) and self._noms_tries[i][0].startswith(debut):
            trouvees.append(self.communes[self._noms_tries[i][1]])
            i += 1
        return trouvees

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
        chiffres = re.sub(r"\s+", "", texte)
        if chiffres.isdigit():  # "54 0": a postcode being typed
            texte = chiffres
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

    def libelle_suggere(self, commune: Commune, texte: str = "") -> str:
        """« Paris (75016) » as the autocomplete shows it: with the postcode
        being typed, else the commune's first one."""
        chiffres = re.sub(r"\s+", "", texte)
        postaux = [cp for cp in commune.codes_postaux if cp.startswith(chiffres)]
        cp = (postaux or commune.codes_postaux or ("",))[0]
        return f"{commune.nom} ({cp})" if cp else commune.nom

    def au_code_postal(self, nom: str, cp: str) -> Commune | None:
        """The commune of that name at that postcode (« Alençon », « 61000 »),
        or whose name starts with it (« Evry », « 91000 »: the old name at the
        start of the new one); None if the postcode is another town's."""
        communes, cle = self.par_code_postal.get(cp.strip(), []), normalise(nom)
        for c in sorted(communes, key=lambda c: normalise(c.nom) != cle):
            if f"{normalise(c.nom)} ".startswith(f"{cle} "):
                return c
        return None

    def trouver(self, texte: str) -> Commune | None:
        """One commune from a postal code, a code INSEE or an exact name (a
        code that is both goes to the postal code, as people type it)."""
        texte = texte.strip()
        if code := code_de_commune(texte):
            if code in self.par_code_postal:
                return max(self.par_code_postal[code], key=lambda c: c.population)
            if code in self.communes:
                return self.communes[code]
        # "Alençon (61000)" as the autocomplete fills it in.
        if texte.endswith(")") and "(" in texte:
            nom, _, cp = texte[:-1].rpartition("(")
            if commune := self.au_code_postal(nom, cp):
                return commune
            texte = nom
        cle = normalise(texte)
        for nom, c in self._index_noms:
            if nom == cle:
                return c
        return None


class Lieux:
    """Places as people say them, over the commune referential."""

    def __init__(self, ref: "Referentiel"):
        self.ref = ref
        self.communes_du_departement: dict[str, list[Commune]] = {}
        self.communes_de_l_epci: dict[str, list[Commune]] = {}
        for c in ref.communes.values():
            self.communes_du_departement.setdefault(c.departement, []).append(c)
            if c.epci:
                self.communes_de_l_epci.setdefault(c.epci, []).append(c)
        # Normalised name -> (genre, code): places are built when asked for.
        self.par_nom: dict[str, list[tuple[str, str]]] = {}
        for code, nom in ref.departements.items():
            self.par_nom.setdefault(normalise(nom), []).append(("departement", code))
        for code, nom in ref.epci.items():
            if code in self.communes_de_l_epci:
                # Long or short (« CC du … »), with or without the acronym
                # in brackets (« (CCPL) »).
                noms = {nom, ref.epci_courts[code]}
                noms |= {re.sub(r"\s*\([^)]*\)$", "", n) for n in noms}
                for forme in {normalise(n) for n in noms}:
                    self.par_nom.setdefault(forme, []).append(("epci", code))
        for nom, c in ref._index_noms:
            self.par_nom.setdefault(nom, []).append(("commune", c.code_insee))
        # Groupements as people say them (« Paris-Saclay », « Val d'Essonne »,
        # « CCVE »), never instead of a commune or département so named.
        for code in self.communes_de_l_epci:
            for forme in _noms_usuels(ref.epci_courts[code]):
                deja = self.par_nom.setdefault(forme, [])
                if ("epci", code) not in deja and all(g == "epci" for g, _c in deja):
                    deja.append(("epci", code))
        self.noms = tuple(self.par_nom)
        # « Evri » is close to « Évry », and to the start of « Évry-
        # Courcouronnes »: names of several words by their first one too.
        self.par_premier_mot: dict[str, list[str]] = {}
        for nom in self.noms:
            premier, _, reste = nom.partition(" ")
            if reste and len(premier) >= 4:
                self.par_premier_mot.setdefault(premier, []).append(nom)
        self.premiers_mots = tuple(self.par_premier_mot)
        # Labels as written here, read back as the same place (links carry
        # them): "Doubs (25)" is the département, not the commune Doubs;
        # "… du Val d'Essonne (CCVE)" the EPCI, acronym and all.
        # Two EPCI of one name are told apart by their départements.
        homonymes = Counter(ref.epci[code] for code in self.communes_de_l_epci)
        self.libelles_epci: dict[str, str] = {}
        for code in self.communes_de_l_epci:
            libelle = ref.epci[code]
            if homonymes[libelle] > 1:
                libelle += f" ({', '.join(self._departements_de(code))})"
            self.libelles_epci[code] = libelle
        self.par_libelle: dict[str, tuple[str, str]] = {}
        for code, nom in ref.departements.items():
            self.par_libelle[normalise(f"{nom} ({code})")] = ("departement", code)
        for code, libelle in self.libelles_epci.items():
            self.par_libelle[normalise(libelle)] = ("epci", code)
            court = normalise(ref.epci_courts[code])
            self.par_libelle.setdefault(court, ("epci", code))

    def lieu(self, genre: str, code: str) -> Lieu:
        if genre == "departement":
            return self.departement(code)
        if genre == "epci":
            return self.epci(code)
        return self.commune(self.ref.communes[code])

    def commune(self, c: Commune, code_postal: str | None = None) -> Lieu:
        cp = code_postal or (c.codes_postaux[0] if c.codes_postaux else c.departement)
        point = (c.latitude, c.longitude) if c.latitude is not None else None
        return Lieu(
            "commune",
            c.code_insee,
            f"{c.nom} ({cp})",
            c.codes_zone,
            point,
            c.departement,
            c.population,
        )

    def departement(self, code: str) -> Lieu:
        communes = self.communes_du_departement.get(code, [])
        epcis = sorted({c.epci for c in communes if c.epci})
        return Lieu(
            "departement",
            code,
            f"{self.ref.departements[code]} ({code})",
            (code, *epcis, *(c.code_insee for c in communes)),
            None,
            code,
            sum(c.population for c in communes),
        )

    def _departements_de(self, code: str) -> list[str]:
        return sorted({c.departement for c in self.communes_de_l_epci.get(code, [])})

    def epci(self, code: str) -> Lieu:
        communes = self.communes_de_l_epci.get(code, [])
        departements = self._departements_de(code)
        centre = max(communes, key=lambda c: c.population, default=None)
        point = None
        if centre and centre.latitude is not None:
            point = (centre.latitude, centre.longitude)
        return Lieu(
            "epci",
            code,
            self.libelles_epci.get(code, self.ref.epci[code]),
            (code, *departements, *(c.code_insee for c in communes)),
            point,
            departements[0] if len(departements) == 1 else None,
            sum(c.population for c in communes),
        )

    def nomme(self, texte: str) -> bool:
        """Whether the text is a place's whole name or code, not the start of
        one being typed (« evr »); « Corbeil 91000 » too."""
        texte = texte.strip()
        if m := re.fullmatch(ENVELOPPE, texte):
            return self.nomme(m[1] or m[4])
        return bool(
            code_de_commune(texte)
            or texte.upper() in self.ref.departements
            or normalise(texte) in self.par_nom
        )

    def resoudre(self, texte: str, preferes: Collection[str] = ()) -> Resolution:
        """The place a person typed: a commune (name, postal code, INSEE
        code, "Nom (cp)"), an EPCI or a département (name or number).
        Several places of that name: the one in ``preferes`` (départements
        where the catalogue has actions) first, then the biggest."""
        texte = texte.strip()
        # No place is named in more than LIBELLE_MAX characters; longer
        # text is not read (each bracket group costs a call, spaces a scan).
        if not texte or len(texte) > LIBELLE_MAX:
            return Resolution()
        candidats = self._candidats(texte)
        if not candidats:
            return Resolution(
                suggestions=self.desaccord(texte) or self.suggestions(texte, preferes)
            )
        # A code that is a postcode and some other commune's INSEE code:
        # people type postcodes, the INSEE one comes after.
        code = code_de_commune(texte)
        aussi_insee = code in self.ref.par_code_postal
        candidats.sort(
            key=lambda lieu: (
                aussi_insee and lieu.genre == "commune" and lieu.code == code,
                lieu.departement not in preferes,
                -lieu.population,
            )
        )
        return Resolution(candidats[0], tuple(candidats[1:6]))

    def _candidats(self, texte: str) -> list[Lieu]:
        ref = self.ref
        # "Evry 91000", "91000 Evry": a name and a postcode, as on an envelope.
        if m := re.fullmatch(ENVELOPPE, texte):
            nom, cp = (m[1], m[2]) if m[1] else (m[4], m[3])
            return self._candidats(f"{nom.strip()} ({cp})")
        numero = texte.upper()
        if re.fullmatch(r"\d{2}|2[AB]|97\d", numero) and numero in ref.departements:
            return [self.departement(numero)]
        if code := code_de_commune(texte):
            # Named with the postcode typed: « 75016 » is Paris (75016).
            postaux = ref.par_code_postal.get(code, [])
            insee = ref.communes.get(code)
            lieux = [self.commune(c, code) for c in postaux]
            if insee and insee not in postaux:
                lieux.append(self.commune(insee))
            if lieux:
                return lieux
        if texte in ref.epci and texte in self.communes_de_l_epci:
            return [self.epci(texte)]
        if libelle := self.par_libelle.get(normalise(texte)):
            return [self.lieu(*libelle)]
        # "Alençon (61000)" as the autocomplete fills it in, "Essonne (91)".
        nom = re.sub(r"\s*\([^)]*\)$", "", texte)
        if nom != texte and nom.strip():
            cp = texte[len(nom) :].strip(" ()")
            trouvee = ref.au_code_postal(nom, cp)
            if trouvee is None:
                # « Corbeil (91000) »: the postcode is Évry's. The name is
                # read alone, in the postcode's département if it is there.
                candidats = self._candidats(nom)
                ici = {c.departement for c in ref.par_code_postal.get(cp, [])}
                if not ici:
                    return candidats  # no such postcode: the name alone
                # « Paris 13001 »: the name and the postcode disagree, asked.
                return [c for c in candidats if c.departement in ici]
            return [self.commune(trouvee, cp)]
        cle = normalise(texte)
        exacts = [self.lieu(*e) for e in self.par_nom.get(cle, [])]
        # "Evry" is also the old name at the start of "Évry-Courcouronnes":
        # a longer name counts when it is bigger than every exact one.
        plus_grand = max((lieu.population for lieu in exacts), default=0)
        return exacts + [
            self.commune(c)
            for c in ref._communes_qui_commencent(cle)
            if c.population > plus_grand
        ]

    def desaccord(self, texte: str) -> tuple:
        """« Paris 13001 »: the places of that name, then that postcode's."""
        if len(texte) > LIBELLE_MAX:
            return ()
        m = re.fullmatch(ENVELOPPE, texte) or re.fullmatch(
            r"(.+?)\s*\((\d{5})\)", texte
        )
        if not m:
            return ()
        nom, cp = (m[1], m[2]) if m[1] else (m[4], m[3])
        return (
            *self._candidats(nom.strip())[:3],
            *(self.commune(c, cp) for c in self.ref.par_code_postal.get(cp, [])[:3]),
        )

    def suggestions(self, texte: str, preferes: Collection[str] = ()) -> tuple:
        """Close spellings: "Alenson" -> Alençon, "Nanci" -> Nancy."""
        cle = normalise(texte)
        if len(cle) < 3:
            return ()
        limite = 1 if len(cle) < 5 else 2
        trouves = process.extract(
            cle, self.noms, scorer=Levenshtein.distance, score_cutoff=limite, limit=40
        )
        if " " not in cle:
            trouves += [
                (nom, d, i)
                for premier, d, i in process.extract(
                    cle,
                    self.premiers_mots,
                    scorer=Levenshtein.distance,
                    score_cutoff=limite,
                    limit=10,
                )
                for nom in self.par_premier_mot[premier]
            ]
        lieux = [
            (d, self.lieu(*e)) for nom, d, _i in trouves for e in self.par_nom[nom]
        ]
        lieux.sort(
            key=lambda e: (e[0], e[1].departement not in preferes, -e[1].population)
        )
        proposes: dict[str, Lieu] = {}  # each place once, at its closest
        for _d, lieu in lieux:
            proposes.setdefault(lieu.libelle, lieu)
        return tuple(proposes.values())[:5]


def commune_habitee(
    texte: str, preferes: Collection[str] = ()
) -> tuple[Commune | None, str | None]:
    """The commune a form's field names, read as the search page reads a
    place (toward ``preferes``, the départements of the action: « Evry » is
    Évry-Courcouronnes for an Essonne action); else why not, in French."""
    ref = referentiel()
    resolution = ref.lieux.resoudre(texte, preferes)
    lieu = resolution.lieu
    # « Paris » is the département and the commune: here, the commune.
    communes = [x for x in (lieu, *resolution.autres) if x and x.genre == "commune"]
    if _a_departager(texte, preferes):
        # « Saint Germain » is seven communes of the Orne, « 61000 » three: the
        # biggest was recorded without a word, and the zone checked on it.
        return None, (
            f"Plusieurs communes répondent à « {texte.strip()} » : choisissez la "
            "vôtre, ou écrivez son nom en entier."
        )
    if communes:
        return ref.communes[communes[0].code], None
    if lieu is not None:
        return None, (
            f"« {lieu.libelle} » n'est pas une commune : écrivez le nom ou le "
            "code postal de la commune d'habitation."
        )
    proposees = _a_proposer(texte, resolution, preferes)
    message = "Commune inconnue : écrivez son nom ou son code postal."
    if ref.lieux.desaccord(texte.strip()):
        message = "Ce nom et ce code postal ne vont pas ensemble."
    if proposees:
        message += f" Vouliez-vous dire {' ou '.join(proposees[:2])} ?"
    return None, message


def communes_proposees(texte: str, preferes: Collection[str] = ()) -> list[str]:
    """The communes to choose from when commune_habitee found none, or
    several: each as written back it names that commune."""
    resolution = referentiel().lieux.resoudre(texte, preferes)
    return _a_departager(texte, preferes) or _a_proposer(texte, resolution, preferes)


def _a_proposer(texte: str, resolution: "Resolution", preferes) -> list[str]:
    """A name cut short (« Alen ») completed in the action's départements
    first, then close spellings anywhere (« Alenzon »)."""
    proposees = _debut_de_nom(texte, preferes) + _communes_proposees(resolution)
    return list(dict.fromkeys(proposees))


def _a_departager(texte: str, preferes: Collection[str]) -> list[str]:
    """The communes of ``preferes`` the text names alike, when there are
    several: a postcode they share (« 61000 »), the start of their names
    (« Saint Germain », seven in the Orne), a name they share. Each as
    written back it names that commune, the biggest first."""
    ref = referentiel()
    lieux, texte = ref.lieux, texte.strip()
    if code := code_de_commune(texte):
        ici = [
            c for c in ref.par_code_postal.get(code, []) if c.departement in preferes
        ]
        return [lieux.commune(c, code).libelle for c in ici] if len(ici) > 1 else []
    cle = normalise(texte)
    if not cle or cle in lieux.par_libelle:
        return []  # « Alençon (61000) », as a button or the autocomplete fills it
    exacts = [
        ref.communes[code]
        for genre, code in lieux.par_nom.get(cle, [])
        if genre == "commune" and ref.communes[code].departement in preferes
    ]
    if len(exacts) == 1:
        return []  # « Massy »: its name, whatever longer names begin with it
    ici = exacts + [
        c for c in ref._communes_qui_commencent(cle) if c.departement in preferes
    ]
    ici.sort(key=lambda c: -c.population)
    # All of them: the form puts those of the action's zone first, then cuts.
    return [lieux.commune(c).libelle for c in ici] if len(ici) > 1 else []


def _debut_de_nom(texte: str, preferes: Collection[str]) -> list[str]:
    """The communes of ``preferes`` whose name begins with the text, its last
    word cut short (« Saint-Germain-du-Corb »): to choose from."""
    ref, cle = referentiel(), normalise(texte)
    if len(cle) < 3:
        return []
    trouvees = [
        c
        for c in ref._communes_qui_commencent(cle, mots_entiers=False)
        if c.departement in preferes
    ]
    trouvees.sort(key=lambda c: -c.population)
    return [ref.lieux.commune(c).libelle for c in trouvees]


def _communes_proposees(resolution: "Resolution") -> list[str]:
    return [s.libelle for s in resolution.suggestions if s.genre == "commune"][:2]


def departements_des_zones(codes: Iterable[str], ref: "Referentiel") -> set[str]:
    """The départements these zone_eligibilite codes lie in."""
    lieux = ref.lieux
    departements: set[str] = set()
    for code in codes:
        if code in ref.departements:
            departements.add(code)
        elif code in ref.communes:
            departements.add(ref.communes[code].departement)
        elif code in lieux.communes_de_l_epci:
            departements.update(c.departement for c in lieux.communes_de_l_epci[code])
    return departements


# The kinds of groupings of communes (EPCI), as the national file abbreviates them.
_GROUPEMENTS = {
    "CA": "Communauté d'agglomération",
    "CC": "Communauté de communes",
    "CU": "Communauté urbaine",
}


def _noms_usuels(court: str) -> set[str]:
    """A groupement's everyday names, normalised: « CA Communauté
    Paris-Saclay » is « Communauté Paris-Saclay » and « Paris-Saclay »;
    « CC du Val d'Essonne (CCVE) » « Val d'Essonne » and « CCVE »."""
    sigle, _, reste = court.partition(" ")
    if sigle not in _GROUPEMENTS or not reste:
        return set()
    formes = set()
    if m := re.fullmatch(r"(.+?)\s*\(([A-Z0-9]{3,})\)", reste):
        reste = m[1]
        formes.add(m[2])
    formes.add(reste)
    reste = re.sub(r"\s+(?:Agglom[ée]ration|Agglo)$", "", reste)
    formes.add(reste)
    reste = re.sub(r"^(?:Communaut[ée]|Agglom[ée]ration)\s+", "", reste)
    formes.add(reste)
    article = r"^(?:(?:de la|du|des|de|le|la|les)\s+|(?:de l|d|l)['’]\s*)"
    reste = re.sub(article, "", reste)
    formes.add(reste)
    # A long name by its first three words: « Grand Paris Sud » for « Grand
    # Paris Sud Seine Essonne Sénart » (never « Pays de la »).
    mots = normalise(reste).split()
    if len(mots) >= 5 and not {mots[1], mots[2]} & _MOTS_DE_LIAISON:
        formes.add(" ".join(mots[:3]))
    return {cle for forme in formes if len(cle := normalise(forme)) >= 3}


_MOTS_DE_LIAISON = {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la"}
_MOTS_DE_LIAISON |= {"le", "les", "sous", "sur"}


def en_toutes_lettres(nom: str) -> str:
    """« CC du Val d'Essonne » -> « Communauté de communes du Val d'Essonne »."""
    sigle, _, reste = nom.partition(" ")
    if sigle in _GROUPEMENTS and reste:
        # « CA Communauté Paris-Saclay »: the kind is said once.
        reste = re.sub(r"^Communauté\s+", "", reste)
        return f"{_GROUPEMENTS[sigle]} {reste}"
    return nom


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
