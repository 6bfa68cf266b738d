"""The département's pilotage figures, counted in the database.

Every figure is a GROUP BY over indexed columns (``cree_le``, ``fiche_id``,
``structure_catalogue``, the person's ``commune_code``): rows never come
into Python, only their counts. Tables then go through small-group
suppression (``proteger``) before anybody sees them: a count under the
threshold shows as « < 5 », and enough other cells are hidden with it that
no row or column total gives it back; the others are published by bands as
wide as the threshold (``publie``), so that two neighbouring filters cannot
be subtracted into a small group.

Exits are classified through the département's own data file
(``data/pilotage/sorties.yaml``); last years' published results come from a
CSV (``importer_csv``). No Flask here.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from sqlalchemy import and_, case, event, func, inspect, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, delete, select

from catalogue import heure
from catalogue.fiche import Fiche
from catalogue.territoires import referentiel
from prescription.demandes import SEXES, TRANCHES_AGE, capacite_et_periode
from prescription.modeles import (
    COLONNES_COMPTE,
    ORIGINES,
    Beneficiaire,
    ComptePilotage,
    Prescription,
    ResultatHistorique,
    Transition,
)
from prescription.workflow import (
    A_VALIDER,
    ACCEPTEE,
    ANNULEE,
    DEMANDEE,
    ENTREE,
    EXPIREE,
    LISTE_ATTENTE,
    MOTIFS_REFUS,
    REFUSEE,
    SORTIE,
    TIENNENT_UNE_PLACE,
    TYPES_SORTIE,
)

SEUIL_DEFAUT = 5
SORTIES_DEFAUT = Path(__file__).resolve().parent.parent / "data/pilotage/sorties.yaml"

CATEGORIES = {
    "emploi-durable": "Emploi durable",
    "emploi-transition": "Emploi de transition",
    "sortie-positive": "Sortie positive",
    "autre": "Autre",
}
# Women / men / not given: the columns of every count table.
COLONNES_SEXE = [
    ("femme", "Femmes"),
    ("homme", "Hommes"),
    ("non-renseigne", "Non renseigné"),
]
TOTAL = "total"

# Where a request stands now: each one is in exactly one row, so a
# transition moves it from one row to the next, once.
ETAPES = [
    ("en-attente", "En attente de réponse", (DEMANDEE, A_VALIDER)),
    ("liste-attente", "Sur liste d'attente", (LISTE_ATTENTE,)),
    ("acceptee", "Acceptée, pas encore entrée", (ACCEPTEE,)),
    ("entree", "Entrée dans l'action", (ENTREE,)),
    ("sortie", "Sortie de l'action", (SORTIE,)),
    ("refusee", "Refusée", (REFUSEE,)),
    ("annulee", "Annulée", (ANNULEE,)),
    ("expiree", "Expirée sans réponse", (EXPIREE,)),
]
ETAPE_DU_STATUT = {s: cle for cle, _, statuts in ETAPES for s in statuts}
LIBELLES_REFUS = {
    **MOTIFS_REFUS,
    "complet": "Action complète : demande non satisfaite",
}
# The prestataire's first answer to a request.
REPONSES = ("etudier", "accepter", "valider", "refuser", "retirer")
# Places taken over the period: held now, or held until the person left.
PRENNENT_UNE_PLACE = (*TIENNENT_UNE_PLACE, SORTIE)


# --- Exit types: the département's data file ---------------------------------


class ErreurSorties(ValueError):
    """The exit mapping file is wrong; the message says where, in French."""


@dataclass(frozen=True)
class Sorties:
    libelles: dict[str, str]
    categorie: dict[str, str]


def lire_sorties(chemin: Path | str = SORTIES_DEFAUT) -> Sorties:
    chemin = Path(chemin)
    try:
        donnees = yaml.safe_load(chemin.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ErreurSorties(f"{chemin} : fichier illisible ({e}).") from None
    if not isinstance(donnees, dict):
        raise ErreurSorties(
            f"{chemin} : une liste « type: {{categorie: …}} » attendue."
        )
    libelles, categories = {}, {}
    for cle, valeur in donnees.items():
        valeur = valeur if isinstance(valeur, dict) else {}
        categorie = valeur.get("categorie")
        if categorie not in CATEGORIES:
            raise ErreurSorties(
                f"{chemin} [{cle}] : catégorie « {categorie} » inconnue "
                f"(possibles : {', '.join(CATEGORIES)})."
            )
        libelle = valeur.get("libelle") or TYPES_SORTIE.get(cle)
        if not libelle:
            raise ErreurSorties(f"{chemin} [{cle}] : indiquez son « libelle ».")
        libelles[str(cle)] = str(libelle)
        categories[str(cle)] = categorie
    oublies = [t for t in TYPES_SORTIE if t not in categories]
    if oublies:
        raise ErreurSorties(
            f"{chemin} : le type de sortie « {oublies[0]} » du portail "
            "n'est pas classé."
        )
    return Sorties(libelles, categories)


# --- Filters --------------------------------------------------------------------


@dataclass(frozen=True)
class Filtres:
    """What the figures cover; None means « no restriction »."""

    debut: datetime | None = None  # included
    fin: datetime | None = None  # excluded
    # Where the person lives: a commune, EPCI or département code (INSEE).
    territoire: str | None = None
    fiches: tuple[str, ...] | None = None
    structures: tuple[str, ...] | None = None  # a prestataire's own


def territoires_de(commune: str | None) -> tuple[str, ...]:
    """The summary's territory codes a person living there counts under,
    besides "*": the commune's EPCI and département (as the referentiel has
    them). A commune itself is counted from the requests (its index finds
    its few people): commune rows would outnumber the requests."""
    c = referentiel().communes.get(commune or "")
    if c is None:
        return ()
    return tuple(x for x in (c.epci, c.departement) if x)


def dans_le_resume(territoire: str | None) -> bool:
    """Whether the summary counts this territory (everybody, an EPCI, a
    département) or its requests must be (a commune)."""
    lieux = referentiel().lieux
    return (
        territoire is None
        or territoire in lieux.communes_de_l_epci
        or territoire in lieux.communes_du_departement
    )


def communes_du_territoire(code: str) -> tuple[str, ...]:
    """The communes of a territory code (a commune is its own)."""
    lieux = referentiel().lieux
    if code in lieux.communes_de_l_epci:
        return tuple(c.code_insee for c in lieux.communes_de_l_epci[code])
    if code in lieux.communes_du_departement:
        return tuple(c.code_insee for c in lieux.communes_du_departement[code])
    return (code,)


def fiches_retenues(
    fiches: dict[str, Fiche],
    thematique: str = "",
    structure: str = "",
    fiche: str = "",
    financeur: str = "",
) -> tuple[str, ...] | None:
    """The fiches matching the catalogue filters (None: no such filter)."""
    if not (thematique or structure or fiche or financeur):
        return None
    return tuple(
        sorted(
            f.id
            for f in fiches.values()
            if (not thematique or thematique in f.thematiques)
            and (not structure or f.structure == structure)
            and (not fiche or f.id == fiche)
            and (not financeur or financeur in f.financeurs)
        )
    )


def _filtrer(requete, f: Filtres):
    if f.debut is not None:
        requete = requete.where(Prescription.cree_le >= f.debut)
    if f.fin is not None:
        requete = requete.where(Prescription.cree_le < f.fin)
    if f.fiches is not None:
        requete = requete.where(Prescription.fiche_id.in_(f.fiches))
    if f.structures is not None:
        requete = requete.where(Prescription.structure_catalogue.in_(f.structures))
    if f.territoire is not None:
        requete = requete.where(
            Beneficiaire.commune_code.in_(communes_du_territoire(f.territoire))
        )
    return requete


# What a request is counted by, in every GROUP BY (the order of each row).
_DIMENSIONS = (
    Prescription.origine,
    Prescription.statut,
    Prescription.motif_refus,
    Prescription.type_sortie,
    Beneficiaire.sexe,
    Beneficiaire.tranche_age,
)


def _avec_personne(requete):
    return requete.join(Beneficiaire, Beneficiaire.id == Prescription.beneficiaire_id)


# --- Tables and small-group suppression -------------------------------------------


PRIMAIRE = "primaire"  # under the threshold
COMPLEMENTAIRE = "complementaire"  # hidden so the other cannot be recomputed


def publie(n: int, seuil: int) -> int:
    """A count as published: by bands as wide as the threshold, each shown
    by its lower bound (threshold 5: 5 to 9 reads « 5 », 10 to 14 « 10 »).

    So no two published views can be subtracted into a small group: a
    group of 1 to seuil-1 people moves a count by at most one band, and
    either difference (0, or one band) fits every size from 1 to seuil-1.
    0 stays 0; 1 to seuil-1 never reach here (« < 5 »).
    """
    return n - n % seuil if n >= seuil else n


@dataclass
class Cellule:
    valeur: int  # the true count: never shown as such (see ``visible``)
    masque: str | None = None
    seuil: int = 1  # the band width of ``publie`` (1: exact)

    def texte(self, seuil: int) -> str:
        if self.masque == PRIMAIRE:
            return f"< {seuil}"
        if self.masque == COMPLEMENTAIRE:
            return "secret"
        return f"{self.visible:,}".replace(",", "\u202f")

    @property
    def visible(self) -> int | None:
        return None if self.masque else publie(self.valeur, self.seuil)


@dataclass
class Tableau:
    """Rows × columns of counts, with a total row (and a total column when
    there is more than one column)."""

    cle: str
    titre: str
    entete: str  # what the rows are
    lignes: list[tuple[str, str]]
    colonnes: list[tuple[str, str]]
    cellules: list[list[Cellule]]  # rows + total row; columns + total column
    seuil: int = SEUIL_DEFAUT

    @property
    def avec_total_colonne(self) -> bool:
        return len(self.colonnes) > 1

    @property
    def total(self) -> Cellule:
        return self.cellules[-1][-1]

    def colonnes_affichees(self) -> list[tuple[str, str]]:
        return self.colonnes + ([(TOTAL, "Total")] if self.avec_total_colonne else [])

    def lignes_affichees(self) -> list[tuple[str, str]]:
        return self.lignes + [(TOTAL, "Total")]

    def part(self, i: int) -> float | None:
        """Row i's share of the grand total, in %, unless either is hidden,
        or another row is: « Autre, 100 % » beside hidden rows would say
        there are none."""
        if any(rangee[-1].masque for rangee in self.cellules[:-1]):
            return None
        return part(self.cellules[i][-1], self.total)

    def cellule(self, ligne: str, colonne: str) -> Cellule:
        i = [cle for cle, _ in self.lignes_affichees()].index(ligne)
        j = [cle for cle, _ in self.colonnes_affichees()].index(colonne)
        return self.cellules[i][j]

    def en_dict(self) -> dict:
        return {
            "cle": self.cle,
            "titre": self.titre,
            "seuil": self.seuil,
            "colonnes": [
                {"cle": c, "libelle": t} for c, t in self.colonnes_affichees()
            ],
            "lignes": [
                {
                    "cle": cle,
                    "libelle": libelle,
                    "cellules": [
                        {
                            "colonne": c,
                            "nombre": cellule.visible,
                            "affichage": cellule.texte(self.seuil),
                            "masque": cellule.masque,
                        }
                        for (c, _), cellule in zip(
                            self.colonnes_affichees(), rangee, strict=True
                        )
                    ],
                }
                for (cle, libelle), rangee in zip(
                    self.lignes_affichees(), self.cellules, strict=True
                )
            ],
        }


def part(c: Cellule | None, total: Cellule) -> float | None:
    """A share in %, of the published numbers (exact ones would give the
    true counts back), unless either is hidden."""
    if c is None or c.visible is None or not total.visible:
        return None
    return 100 * c.visible / total.visible


def tableau(
    cle: str,
    titre: str,
    entete: str,
    lignes: list[tuple[str, str]],
    colonnes: list[tuple[str, str]],
    comptes: dict[tuple[str, str], int],
    seuil: int = SEUIL_DEFAUT,
) -> Tableau:
    """A protected table from counts keyed (row, column)."""
    cellules = []
    for ligne, _ in lignes:
        rangee = [comptes.get((ligne, c), 0) for c, _ in colonnes]
        cellules.append(rangee + ([sum(rangee)] if len(colonnes) > 1 else []))
    largeur = len(colonnes) + (1 if len(colonnes) > 1 else 0)
    cellules.append([sum(r[j] for r in cellules) for j in range(largeur)])
    t = Tableau(
        cle,
        titre,
        entete,
        lignes,
        colonnes,
        [[Cellule(v, seuil=seuil) for v in r] for r in cellules],
        seuil,
    )
    proteger(t)
    return t


# Rows that count the same people in two tables or more (by construction):
# hidden in one, they must be hidden in all, or one table gives away what
# the other hides.
MEMES_LIGNES = (
    (("sorties", TOTAL), ("categories_sortie", TOTAL), ("parcours", "sortie")),
    (("refus", TOTAL), ("parcours", "refusee")),
    (("origines", TOTAL), ("parcours", TOTAL), ("ages", TOTAL)),
)


def _memes_cellules(tableaux: dict[str, Tableau]) -> list[list[Cellule]]:
    groupes = [
        [tableaux[cle].cellule(ligne, colonne) for cle, ligne in lien]
        for lien in MEMES_LIGNES
        for colonne in (*(c for c, _ in COLONNES_SEXE), TOTAL)
    ]
    # Every request, month by month: the same grand total.
    groupes.append(
        [
            tableaux["mois"].cellule(TOTAL, "demandes"),
            tableaux["origines"].cellule(TOTAL, TOTAL),
        ]
    )
    return groupes


def proteger_ensemble(tableaux: dict[str, Tableau]) -> None:
    """Each table protected, then a count hidden anywhere hidden everywhere
    it is shown, and the tables protected again, until nothing changes."""
    groupes = _memes_cellules(tableaux)
    change = True
    while change:
        change = False
        for cellules in groupes:
            if any(c.masque for c in cellules):
                for c in cellules:
                    if not c.masque:
                        c.masque, change = COMPLEMENTAIRE, True
        if change:
            for t in tableaux.values():
                proteger(t)


def _relations(t: Tableau) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Each sum the table shows: (cells added, the cell holding their total)."""
    n, m = len(t.lignes), len(t.colonnes)
    relations = []
    if t.avec_total_colonne:
        for i in range(n + 1):
            relations.append(([(i, j) for j in range(m)], (i, m)))
    for j in range(len(t.cellules[0])):
        relations.append(([(i, j) for i in range(n)], (n, j)))
    return relations


def proteger(t: Tableau) -> None:
    """Hide every count from 1 to seuil-1, then enough others.

    In each sum the table shows (a row or a column and its total), hidden
    terms must be two or more, and each must keep two possible values or
    more given the total and what « < 5 » says (``_sure``): no hidden count
    is ever pinned down. Cells are added smallest first; when a sum has
    nothing left to hide, its total is hidden, and the sums it belongs to
    protect it in turn.
    """
    seuil = t.seuil
    for rangee in t.cellules:
        for c in rangee:
            if 0 < c.valeur < seuil:
                c.masque = PRIMAIRE
    relations = _relations(t)
    change = True
    while change:
        change = False
        for termes, somme in relations:
            total = t.cellules[somme[0]][somme[1]]
            cachees = [p for p in termes if t.cellules[p[0]][p[1]].masque]
            if not cachees and not total.masque:
                continue
            while not _sure(t, cachees, total):
                candidates = sorted(
                    (
                        p
                        for p in termes
                        if not t.cellules[p[0]][p[1]].masque
                        and t.cellules[p[0]][p[1]].valeur > 0
                    ),
                    key=lambda p: t.cellules[p[0]][p[1]].valeur,
                )
                if candidates:
                    p = candidates[0]
                    t.cellules[p[0]][p[1]].masque = COMPLEMENTAIRE
                    cachees.append(p)
                    change = True
                    continue
                if not total.masque:
                    total.masque = COMPLEMENTAIRE
                    change = True
                break


def _sure(t: Tableau, cachees: list[tuple[int, int]], total: Cellule) -> bool:
    """Whether each hidden term of this sum keeps two possible values or more.

    A reader knows the visible terms, the total, that « < seuil » is 1 to
    seuil-1 and that « secret » is at least seuil (smaller ones would say
    « < seuil »): each hidden term must still have room to move.
    """
    if len(cachees) < 2:
        return False
    if total.masque:
        return True
    bornes = [_bornes(t, t.cellules[i][j], total.valeur) for i, j in cachees]
    reste = sum(t.cellules[i][j].valeur for i, j in cachees)
    for k, (bas, haut) in enumerate(bornes):
        mini = sum(b for n, (b, _) in enumerate(bornes) if n != k)
        maxi = sum(h for n, (_, h) in enumerate(bornes) if n != k)
        possibles = min(haut, reste - mini) - max(bas, reste - maxi) + 1
        if possibles < 2:
            return False
    return True


def _bornes(t: Tableau, c: Cellule, plafond: int) -> tuple[int, int]:
    if c.masque == PRIMAIRE:
        return 1, t.seuil - 1
    return t.seuil, max(plafond, t.seuil)


# --- The figures -----------------------------------------------------------------


@dataclass
class Delais:
    nombre: int
    moyenne_jours: float | None
    # Half the answers came in less than this (bucket bound, see BORNES_DELAI).
    mediane_jours: float | None
    masque: bool = False


# A capacity « par an » counts a year's places for a year or less, and is
# prorated to the months beyond; the others
# (par session, en même temps, sur la durée de la convention) are taken as
# they are written.
PAR_AN = "an"


@dataclass
class Remplissage:
    cle: str
    libelle: str
    financees: float | None  # places funded over the period
    prises: Cellule
    # What the fiche (or session) says, and over what: "an", "session",
    # "simultane", "convention" (None: not said). None for a structure.
    capacite: float | None = None
    periode: str | None = None
    mois: float | None = None  # the period, for a yearly capacity
    # An action counting no places: "illimitee", "inconnue" or "" (none given).
    sans_places: str | None = None

    def taux(self) -> float | None:
        if self.prises.visible is None or not self.financees:
            return None
        return 100 * self.prises.visible / self.financees

    @property
    def proratisee(self) -> bool:
        return self.periode == PAR_AN and self.mois is not None and self.mois > 12


@dataclass
class Pilotage:
    seuil: int
    tableaux: dict[str, Tableau]
    mois: list[tuple[str, Cellule]]
    delais: Delais
    remplissage_fiches: list[Remplissage] = field(default_factory=list)
    remplissage_structures: list[Remplissage] = field(default_factory=list)
    # "resume" (the summary table) or "demandes" (counted request by request).
    source: str = "resume"
    # Raw counts per action, never shown as such: ``comparer`` protects them.
    resultats: dict[tuple[str, str, str, str], int] = field(
        default_factory=dict, repr=False
    )


@dataclass
class Comptes:
    """What both sources give: counts only, keyed as the tables need them."""

    # (dimension, value, sex) -> count; dimensions as in ComptePilotage.
    par: dict[tuple[str, str, str], int] = field(default_factory=dict)
    mois: dict[str, int] = field(default_factory=dict)
    prises: dict[tuple[str, str], int] = field(default_factory=dict)
    # (fiche, "etape" or "sortie", value, sex) -> count: each action's results.
    resultats: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    # delay bucket -> (answers, seconds)
    delais: dict[str, tuple[int, float]] = field(default_factory=dict)


# Upper bounds of the delay buckets, in hours: hour by hour the first day,
# day by day the first month, week by week the first quarter.
BORNES_DELAI = (
    [1, 2, 3, 4, 6, 8, 12, 18, 24, 36]
    + [24 * j for j in range(2, 31)]
    + [24 * j for j in (35, 42, 49, 56, 63, 70, 77, 84, 91, 120, 180, 365)]
)
AU_DELA = f"{len(BORNES_DELAI):02d}"


def case_delai(secondes: float) -> str:
    for i, borne in enumerate(BORNES_DELAI):
        if secondes < borne * 3600:
            return f"{i:02d}"
    return AU_DELA


def _case_delai_sql(secondes):
    return case(
        *(
            (secondes < borne * 3600, f"{i:02d}")
            for i, borne in enumerate(BORNES_DELAI)
        ),
        else_=AU_DELA,
    )


def _dialecte(db) -> str:
    return db.get_bind().dialect.name


def _mois(db):
    """The département's month of each request (stored in UTC), in SQL."""
    if _dialecte(db) == "postgresql":
        # timestamptz -> the wall clock there
        local = func.timezone(heure.fuseau().key, Prescription.cree_le)
        return func.to_char(local, "YYYY-MM")
    # SQLite knows no time zones: the zone's rules come from Python, on this
    # very connection (whichever engine opened it, migrations included).
    db.connection().connection.driver_connection.create_function(
        "mois_local", 1, _mois_sqlite
    )
    return func.mois_local(Prescription.cree_le)


def _mois_sqlite(texte: str | None) -> str | None:
    return heure.mois(datetime.fromisoformat(texte)) if texte else None


def _secondes(db, fin, debut):
    if _dialecte(db) == "postgresql":
        return func.extract("epoch", fin - debut)
    return (func.julianday(fin) - func.julianday(debut)) * 86400.0


def _au_mois(moment: datetime | None) -> bool:
    return moment is None or heure.est_debut_de_mois(moment)


def calculer(
    db: Session,
    filtres: Filtres,
    sorties: Sorties,
    fiches: dict[str, Fiche],
    seuil: int = SEUIL_DEFAUT,
    libelles_structures: dict[str, str] | None = None,
    source: str | None = None,
) -> Pilotage:
    """Every figure of the page for these filters, protected.

    Whole months, everybody or the people of an EPCI or a département: the
    summary table (a few thousand rows whatever the number of requests).
    Other bounds, or one commune's people: the requests themselves, counted
    in the database (a commune's are found by its index).
    """
    if source is None:
        au_mois = _au_mois(filtres.debut) and _au_mois(filtres.fin)
        resume = au_mois and dans_le_resume(filtres.territoire)
        source = "resume" if resume else "demandes"
    elif source == "resume" and not dans_le_resume(filtres.territoire):
        raise ValueError(f"Le résumé ne compte pas le territoire {filtres.territoire}.")
    comptes = (
        _depuis_resume(db, filtres)
        if source == "resume"
        else _depuis_demandes(db, filtres)
    )
    par = defaultdict(lambda: defaultdict(int))
    for (dimension, valeur, sexe), n in comptes.par.items():
        sexe = sexe if sexe in SEXES else "non-renseigne"
        if dimension == "origine":
            par["origines"][(valeur, sexe)] += n
        elif dimension == "etape":
            par["etapes"][(ETAPE_DU_STATUT.get(valeur, "en-attente"), sexe)] += n
        elif dimension == "age":
            par["ages"][
                (valeur if valeur in TRANCHES_AGE else "non-renseigne", sexe)
            ] += n
        elif dimension == "refus":
            par["refus"][(valeur or "autre", sexe)] += n
        elif dimension == "sortie":
            type_ = valeur if valeur in sorties.categorie else "autre"
            par["sorties"][(type_, sexe)] += n
            par["categories"][(sorties.categorie[type_], sexe)] += n
    types_sortie = [(t, sorties.libelles[t]) for t in TYPES_SORTIE]
    ages = [(k, v) for k, v in TRANCHES_AGE.items() if k != "non-renseigne"]
    definitions = (
        (
            "origines",
            "Demandes par origine",
            "Origine",
            list(ORIGINES.items()),
            "origines",
        ),
        (
            "parcours",
            "Où en sont les demandes",
            "Étape",
            [(c, t) for c, t, _ in ETAPES],
            "etapes",
        ),
        (
            "refus",
            "Demandes refusées, par raison",
            "Raison",
            list(LIBELLES_REFUS.items()),
            "refus",
        ),
        ("sorties", "Sorties, par type", "Type de sortie", types_sortie, "sorties"),
        (
            "categories_sortie",
            "Sorties, selon le classement du département",
            "Catégorie",
            list(CATEGORIES.items()),
            "categories",
        ),
        (
            "ages",
            "Demandes par tranche d'âge",
            "Tranche d'âge",
            [*ages, ("non-renseigne", "Non renseignée")],
            "ages",
        ),
    )
    tableaux = {
        cle: tableau(cle, titre, entete, lignes, COLONNES_SEXE, par[source_], seuil)
        for cle, titre, entete, lignes, source_ in definitions
    }
    mois = sorted(comptes.mois)
    tableaux["mois"] = tableau(
        "mois",
        "Demandes par mois",
        "Mois",
        [(m, _libelle_mois(m)) for m in mois],
        [("demandes", "Demandes")],
        {(m, "demandes"): comptes.mois[m] for m in mois},
        seuil,
    )
    proteger_ensemble(tableaux)
    fiches_t, structures_t = _remplissage(
        comptes.prises,
        fiches,
        seuil,
        libelles_structures or {},
        mois_de_la_periode(filtres, min(comptes.mois, default=None)),
    )
    t = tableaux["mois"]
    return Pilotage(
        seuil=seuil,
        tableaux=tableaux,
        mois=[(cle, r[0]) for (cle, _), r in zip(t.lignes, t.cellules, strict=False)],
        delais=_delais(comptes.delais, seuil),
        remplissage_fiches=fiches_t,
        remplissage_structures=structures_t,
        source=source,
        resultats=comptes.resultats,
    )


def _depuis_resume(db: Session, f: Filtres) -> Comptes:
    C = ComptePilotage
    periode = [C.territoire == (f.territoire or TOUTES)]
    if f.debut is not None:
        periode.append(C.mois >= heure.mois(f.debut))
    if f.fin is not None:
        periode.append(C.mois < heure.mois(f.fin))
    # The actions' own rows, for places taken and for chosen actions.
    if f.fiches is not None:
        detail = [*periode, C.fiche_id.in_(f.fiches)]
    else:
        detail = [*periode, C.fiche_id != TOUTES]
    if f.structures is not None:
        detail.append(C.structure.in_(f.structures))
    if f.fiches is not None:
        sommes = detail
    elif f.structures is not None:
        sommes = [*periode, C.fiche_id == TOUTES, C.structure.in_(f.structures)]
    else:
        sommes = [*periode, C.fiche_id == TOUTES, C.structure == TOUTES]
    comptes = Comptes()
    nombre = func.sum(C.nombre)
    for dimension, valeur, sexe, n, somme in db.exec(
        select(C.dimension, C.valeur, C.sexe, nombre, func.sum(C.somme))
        .where(*sommes)
        .group_by(C.dimension, C.valeur, C.sexe)
    ):
        if dimension == "delai":
            comptes.delais[valeur] = (int(n), float(somme or 0))
        elif n:
            comptes.par[(dimension, valeur, sexe)] = int(n)
    for mois, n in db.exec(
        select(C.mois, nombre).where(*sommes, C.dimension == "origine").group_by(C.mois)
    ):
        if n:
            comptes.mois[mois] = int(n)
    cles = (C.fiche_id, C.session, C.dimension, C.valeur, C.sexe)
    # Chosen actions: their own rows (index by action) are the few to read;
    # « || '' » keeps the planner off the dimension index, which holds every
    # action's rows.
    dimension = C.dimension if f.fiches is None else C.dimension + ""
    for fiche_id, session, dimension_, valeur, sexe, n in db.exec(
        select(*cles, nombre)
        .where(
            *detail,
            or_(
                and_(dimension == "etape", C.valeur.in_(PRENNENT_UNE_PLACE)),
                dimension == "sortie",
            ),
        )
        .group_by(*cles)
    ):
        if n:
            _par_action(comptes, fiche_id, session, dimension_, valeur, sexe, int(n))
    return comptes


def _par_action(comptes: Comptes, fiche_id, session, dimension, valeur, sexe, n):
    """Places taken per action and session; results per action."""
    if dimension == "etape" and valeur in PRENNENT_UNE_PLACE:
        cle = (fiche_id, session or "")
        comptes.prises[cle] = comptes.prises.get(cle, 0) + n
    if dimension == "sortie" or valeur in (ENTREE, SORTIE):
        cle = (fiche_id, dimension, valeur, sexe)
        comptes.resultats[cle] = comptes.resultats.get(cle, 0) + n


def _depuis_demandes(db: Session, f: Filtres) -> Comptes:
    """Counted request by request (GROUP BY), for a territory or any period."""
    comptes = Comptes()
    cube = db.exec(
        _filtrer(
            _avec_personne(
                select(
                    *_DIMENSIONS,
                    func.count(),
                ).select_from(Prescription)
            ),
            f,
        ).group_by(*_DIMENSIONS)
    ).all()
    par: dict = defaultdict(int)
    for origine, statut, motif, sortie, sexe, age, n in cube:
        for cle in _contributions(statut, motif, sortie, origine, sexe, age):
            par[cle] += n
    comptes.par = dict(par)
    mois = _mois(db)
    requete = select(mois, func.count()).select_from(Prescription)
    if f.territoire is not None:
        requete = _avec_personne(requete)
    comptes.mois = dict(db.exec(_filtrer(requete, f).group_by(mois)).all())
    cles = (
        Prescription.fiche_id,
        Prescription.session,
        Prescription.statut,
        Prescription.type_sortie,
        Beneficiaire.sexe,
    )
    for fiche_id, session, statut, type_sortie, sexe, n in db.exec(
        _filtrer(_avec_personne(select(*cles, func.count())), f)
        .where(Prescription.statut.in_(PRENNENT_UNE_PLACE))
        .group_by(*cles)
    ):
        sexe = sexe or "non-renseigne"
        _par_action(comptes, fiche_id, session, "etape", statut, sexe, n)
        if statut == SORTIE:
            sortie = type_sortie or "autre"
            _par_action(comptes, fiche_id, session, "sortie", sortie, sexe, n)
    delai = _secondes(db, Transition.le, Prescription.cree_le)
    casier = _case_delai_sql(delai)
    requete = (
        select(casier, func.count(), func.sum(delai))
        .select_from(Transition)
        .join(Prescription, Prescription.id == Transition.prescription_id)
        .where(
            Transition.action.in_(REPONSES), Transition.de.in_(PREMIERE_REPONSE_DEPUIS)
        )
    )
    if f.territoire is not None:
        requete = _avec_personne(requete)
    comptes.delais = {
        c: (n, float(somme or 0))
        for c, n, somme in db.exec(_filtrer(requete, f).group_by(casier))
    }
    return comptes


def _contributions(statut, motif, sortie, origine, sexe, age):
    """The (dimension, value, sex) counts one request adds to."""
    sexe = sexe or "non-renseigne"
    cles = [
        ("origine", origine, sexe),
        ("etape", statut, sexe),
        ("age", age or "non-renseigne", sexe),
    ]
    if statut == REFUSEE:
        cles.append(("refus", motif or "autre", sexe))
    if statut == SORTIE:
        cles.append(("sortie", sortie or "autre", sexe))
    return cles


MOIS = (
    "janvier février mars avril mai juin juillet août septembre octobre "
    "novembre décembre"
).split()


def _libelle_mois(cle: str) -> str:
    annee, mois = cle.split("-")
    return f"{MOIS[int(mois) - 1]} {annee}"


def _delais(cases: dict[str, tuple[int, float]], seuil: int) -> Delais:
    """Mean time to the first answer, and the bound half the answers beat."""
    nombre = sum(n for n, _ in cases.values())
    if not nombre:
        return Delais(0, None, None)
    jours = 86400.0
    moyenne = sum(s for _, s in cases.values()) / nombre / jours
    cumul, mediane = 0, None
    for cle in sorted(cases):
        cumul += cases[cle][0]
        if cumul * 2 >= nombre:
            i = int(cle)
            mediane = BORNES_DELAI[i] / 24 if i < len(BORNES_DELAI) else None
            break
    return Delais(publie(nombre, seuil), moyenne, mediane, masque=nombre < seuil)


def mois_de_la_periode(
    f: Filtres, premier_mois: str | None, aujourd_hui: date | None = None
) -> float | None:
    """How many months the figures cover: whole months between the bounds;
    with no start, from the first month counted (``premier_mois``, « AAAA-MM »);
    with no end, to this month included. None: nothing counted, no start."""
    debut = f.debut
    if debut is None and premier_mois:
        debut = heure.debut_du_mois(*map(int, premier_mois.split("-")))
    if debut is None:
        return None
    fin = f.fin
    if fin is None:
        aujourd_hui = aujourd_hui or heure.aujourd_hui()
        fin = heure.debut_du_mois(aujourd_hui.year, aujourd_hui.month + 1)
    if _au_mois(debut) and _au_mois(fin):
        (a1, m1), (a2, m2) = (map(int, heure.mois(x).split("-")) for x in (debut, fin))
        return max(0, (a2 - a1) * 12 + m2 - m1)
    # Bounds inside a month (counted from the requests): months of average length.
    return max(0.0, (fin - debut).total_seconds() / 86400 / (365.25 / 12))


def _places_financees(
    fiche: Fiche, session: str, mois: float | None
) -> tuple[float | None, float | None, str | None]:
    """(places over the period, the number written, its period)."""
    nombre, periode = capacite_et_periode(fiche, session)
    if nombre is None:
        return None, None, None
    if periode == PAR_AN and mois is not None and mois > 12:
        # Over several years, as many years' places. Within one year, the
        # year's places: the people a month counts use theirs for months
        # (a twelfth of them read 600 % for five people in a 10-place year).
        return nombre * mois / 12, nombre, periode
    return nombre, nombre, periode


def _sans_places(fiche: Fiche | None) -> str:
    if fiche is None:
        return ""
    if fiche.capacite.illimitee:
        return "illimitee"
    return "inconnue" if fiche.capacite.inconnue else ""


def _remplissage(
    prises: dict[tuple[str, str], int],
    fiches: dict[str, Fiche],
    seuil: int,
    libelles_structures: dict[str, str],
    mois: float | None = None,
) -> tuple[list[Remplissage], list[Remplissage]]:
    """Places funded against places taken, per fiche and session, per structure.

    ``mois``: the period's length: a capacity « par an » counts as many
    years' places as it has, one year's at least. A structure's ratio counts
    only its actions with funded places: the requests on an action that
    counts no places take none of them.
    """
    lignes: list[tuple[str, str, str, float | None, int]] = []
    details: dict[str, tuple] = {}
    for (fiche_id, session), n in prises.items():
        fiche = fiches.get(fiche_id)
        nom = fiche.nom if fiche else fiche_id
        jour = date.fromisoformat(session).strftime("%d/%m/%Y") if session else ""
        libelle = f"{nom} (session du {jour})" if session else nom
        financees, nombre, periode = (
            _places_financees(fiche, session, mois) if fiche else (None, None, None)
        )
        structure = fiche.structure if fiche else ""
        cle = f"{fiche_id}/{session}"
        lignes.append((cle, libelle, structure, financees, n))
        details[cle] = (
            nombre,
            periode,
            mois if periode == PAR_AN else None,
            None if financees is not None else _sans_places(fiche),
        )
    lignes.sort(key=lambda x: x[1])
    # Protected as a one-column table: same rule, same totals.
    t = tableau(
        "remplissage",
        "Remplissage",
        "Action",
        [(cle, lib) for cle, lib, *_ in lignes],
        [("prises", "Places prises")],
        {(cle, "prises"): n for cle, _, _, _, n in lignes},
        seuil,
    )
    par_fiche = [
        Remplissage(cle, lib, fin, t.cellules[i][0], *details[cle])
        for i, (cle, lib, _, fin, _) in enumerate(lignes)
    ]
    par_structure: dict[str, list] = defaultdict(lambda: [0.0, 0])
    for _cle, _, structure, fin, n in lignes:
        if fin is None:
            continue
        par_structure[structure][0] += fin
        par_structure[structure][1] += n
    noms = sorted(par_structure, key=lambda s: libelles_structures.get(s, s))
    ts = tableau(
        "remplissage_structures",
        "Remplissage par structure",
        "Structure",
        [(s, libelles_structures.get(s, s)) for s in noms],
        [("prises", "Places prises")],
        {(s, "prises"): par_structure[s][1] for s in noms},
        seuil,
    )
    structures = [
        Remplissage(
            s,
            libelles_structures.get(s, s),
            par_structure[s][0] or None,
            ts.cellules[i][0],
        )
        for i, s in enumerate(noms)
    ]
    return par_fiche, structures


# --- This year beside the last published one ---------------------------------------


@dataclass
class LigneComparee:
    """One figure of an action: this period's (protected) and the published
    one of the reference year (as imported)."""

    indicateur: str
    detail: str
    cette_annee: Cellule | None  # None: not counted by the portal
    part_cette_annee: float | None
    publie: int | None
    part_publiee: float | None


@dataclass
class UniteComparee:
    cle: str  # the fiche's id, or "structure:<id>" for a whole structure
    niveau: str  # "fiche" or "structure"
    structure: str
    fiche_id: str  # "" for a whole structure
    libelle: str
    lignes: list[LigneComparee]

    def ligne(self, indicateur: str, detail: str = "") -> LigneComparee | None:
        for x in self.lignes:
            if (x.indicateur, x.detail) == (indicateur, detail):
                return x
        return None


@dataclass
class Comparaison:
    annee: int | None  # the published year shown beside this period
    unites: list[UniteComparee]
    seuil: int = SEUIL_DEFAUT


PERSONNES = "Personnes accompagnées"
TRANCHE_AGE = "Tranche d'âge"
SORTIES_TOTAL = "Personnes sorties"
SORTIES_TYPE = "Sorties"
SORTIES_CATEGORIE = "Sorties (classement du département)"
SUIVIES = "Toujours suivies"


def annee_de_reference(bilans: list["Bilan"], annee: int) -> int | None:
    """The last published year before this one (else the latest one)."""
    avant = [b.annee for b in bilans if b.annee < annee]
    if avant:
        return max(avant)
    return max((b.annee for b in bilans), default=None)


def comparer(
    r: Pilotage,
    bilans: list["Bilan"],
    annee: int,
    filtres: Filtres,
    fiches: dict[str, Fiche],
    sorties: Sorties,
    libelles_structures: dict[str, str],
) -> Comparaison:
    """Each action's results this period beside its published ones.

    The actions with a published year, and whole structures when their
    results were published for the whole structure (unless a catalogue
    filter narrows the actions). This period's counts go through the same
    protection as every table, per level (actions, structures).
    """
    reference = annee_de_reference(bilans, annee)
    publies = {(b.structure, b.fiche_id): b for b in bilans if b.annee == reference}
    par: dict[str, dict[tuple[str, str, str], int]] = defaultdict(dict)
    for (fiche_id, dimension, valeur, sexe), n in r.resultats.items():
        cle = (dimension, valeur, sexe if sexe in SEXES else "non-renseigne")
        par[fiche_id][cle] = par[fiche_id].get(cle, 0) + n
    fiches_ = sorted(
        {
            f
            for s_, f in publies
            if f in fiches and (filtres.fiches is None or f in filtres.fiches)
        },
        key=lambda f: fiches[f].nom,
    )
    unites = [
        (f, "fiche", fiches[f].structure, f, fiches[f].nom, par.get(f, {}))
        for f in fiches_
    ]
    if filtres.fiches is None:
        structures = sorted(
            {s_ for s_, f in publies if not f},
            key=lambda s_: libelles_structures.get(s_, s_),
        )
        comptes_structures: dict[str, dict] = defaultdict(dict)
        for fiche_id, comptes in par.items():
            structure = fiches[fiche_id].structure if fiche_id in fiches else ""
            total = comptes_structures[structure]
            for cle, n in comptes.items():
                total[cle] = total.get(cle, 0) + n
        unites += [
            (
                f"structure:{s_}",
                "structure",
                s_,
                "",
                libelles_structures.get(s_, s_),
                comptes_structures.get(s_, {}),
            )
            for s_ in structures
        ]
    resultat = []
    for niveau in ("fiche", "structure"):
        groupe = [u for u in unites if u[1] == niveau]
        lignes = [(u[0], u[4]) for u in groupe]
        t_sexe = tableau(
            "sexe",
            "",
            "",
            lignes,
            COLONNES_SEXE,
            {
                (u[0], sexe): sum(
                    n for (d, v, x), n in u[5].items() if d == "etape" and x == sexe
                )
                for u in groupe
                for sexe, _ in COLONNES_SEXE
            },
            r.seuil,
        )
        t_etape = tableau(
            "etape",
            "",
            "",
            lignes,
            [(ENTREE, SUIVIES), (SORTIE, SORTIES_TOTAL)],
            {
                (u[0], etape): sum(
                    n for (d, v, _), n in u[5].items() if d == "etape" and v == etape
                )
                for u in groupe
                for etape in (ENTREE, SORTIE)
            },
            r.seuil,
        )
        for i, (cle, niveau_, structure, fiche_id, libelle, comptes) in enumerate(
            groupe
        ):
            bilan = publies.get((structure, fiche_id))
            resultat.append(
                UniteComparee(
                    cle,
                    niveau_,
                    structure,
                    fiche_id,
                    libelle,
                    _lignes_comparees(
                        t_sexe.cellules[i],
                        t_etape.cellules[i],
                        comptes,
                        bilan,
                        sorties,
                        r.seuil,
                    ),
                )
            )
    return Comparaison(reference, resultat, r.seuil)


def _detail(indicateur, libelles, comptes, total, publies, parts, seuil):
    """One line per key of ``libelles``: this period's count, protected as a
    one-column table whose total is ``total``, beside the published one."""
    t = tableau(
        indicateur,
        "",
        "",
        [(c, c) for c in libelles],
        [("n", "")],
        {(c, "n"): comptes[c] for c in libelles},
        seuil,
    )
    return [
        LigneComparee(
            indicateur,
            libelle,
            t.cellules[i][0],
            part(t.cellules[i][0], total),
            publies.get(c),
            parts.get(c),
        )
        for i, (c, libelle) in enumerate(libelles.items())
    ]


def lignes_publiees(b: "Bilan", sorties: Sorties) -> list[LigneComparee]:
    """One published year's lines alone, as in the comparison."""
    zero = [Cellule(0)] * (len(COLONNES_SEXE) + 1)
    return [
        x
        for x in _lignes_comparees(zero, zero, {}, b, sorties, SEUIL_DEFAUT)
        if x.publie is not None
    ]


def _lignes_comparees(sexes, etapes, comptes, bilan, sorties, seuil):
    personnes, suivies, sortis = sexes[-1], etapes[0], etapes[1]
    b = bilan or Bilan(0, "", "")
    lignes = [LigneComparee(PERSONNES, "", personnes, None, b.personnes, None)]
    for j, (sexe, _) in enumerate(COLONNES_SEXE):
        if sexe == "non-renseigne" and not (sexes[j].valeur or sexe in b.sexes):
            continue
        lignes.append(
            LigneComparee(
                PERSONNES,
                SEXES.get(sexe, sexe),
                sexes[j],
                part(sexes[j], personnes),
                b.sexes.get(sexe),
                b.part_sexe(sexe) if sexe in b.sexes else None,
            )
        )
    total_ages = sum(b.ages.values())
    for age, n in b.ages.items():
        lignes.append(
            LigneComparee(TRANCHE_AGE, age, None, None, n, 100 * n / total_ages)
        )
    lignes.append(LigneComparee(SORTIES_TOTAL, "", sortis, None, b.total_sorties, None))
    par_type = {v: 0 for v in b.sorties}
    for (d, v, _), n in comptes.items():
        if d == "sortie":
            par_type[v] = par_type.get(v, 0) + n
    types = [t for t in sorties.libelles if t in par_type]
    lignes += _detail(
        SORTIES_TYPE,
        {t: sorties.libelles[t] for t in types},
        par_type,
        sortis,
        b.sorties,
        {t: b.part_sortie(t) for t in b.sorties},
        seuil,
    )
    if types:
        publiees = b.categories(sorties)
        total_publie = sum(b.sorties.values())
        par_categorie: dict[str, int] = defaultdict(int)
        for t in types:
            par_categorie[sorties.categorie[t]] += par_type[t]
        lignes += _detail(
            SORTIES_CATEGORIE,
            {c: t for c, t in CATEGORIES.items() if c in par_categorie},
            par_categorie,
            sortis,
            publiees,
            {c: 100 * n / total_publie for c, n in publiees.items()},
            seuil,
        )
    lignes.append(LigneComparee(SUIVIES, "", suivies, None, b.encore_suivies, None))
    return lignes


# --- The summary table, kept current in each transaction -------------------------

# A first answer leaves a request still waiting for one.
PREMIERE_REPONSE_DEPUIS = (DEMANDEE, LISTE_ATTENTE)
CHAMPS_SUIVIS = (
    "statut",
    "motif_refus",
    "type_sortie",
    "origine",
    "fiche_id",
    "session",
    "structure_catalogue",
    "cree_le",
)


def _garder_l_ancienne_valeur(_cible, valeur, _ancienne, _initiateur):
    return valeur


# A change must know what it replaces, even on an object expired by a commit:
# active history loads the old value before the new one is set.
for _champ in CHAMPS_SUIVIS:
    event.listen(
        getattr(Prescription, _champ),
        "set",
        _garder_l_ancienne_valeur,
        active_history=True,
        retval=True,
    )


def _cle_lieu(p_valeurs: dict) -> tuple[str, str, str, str]:
    return (
        heure.mois(p_valeurs["cree_le"]),
        p_valeurs["fiche_id"],
        p_valeurs["session"] or "",
        p_valeurs["structure_catalogue"],
    )


def _valeurs(p: Prescription, anciennes: bool = False) -> dict:
    valeurs = {}
    for champ in CHAMPS_SUIVIS:
        valeur = getattr(p, champ)
        if anciennes:
            historique_ = inspect(p).attrs[champ].history
            if historique_.deleted:
                valeur = historique_.deleted[0]
        valeurs[champ] = valeur
    return valeurs


def _personne(session, beneficiaire_id) -> tuple[str, str, str]:
    """The person's sex, age bracket and commune ("" when not given)."""
    with session.no_autoflush:
        b = session.get(Beneficiaire, beneficiaire_id) if beneficiaire_id else None
    if b is None:
        return "non-renseigne", "non-renseigne", ""
    return b.sexe, b.tranche_age, b.commune_code or ""


def _ecarts_de(p_valeurs: dict, personne: tuple[str, str, str], signe: int, ecarts):
    sexe, age, commune = personne
    lieu = (*_cle_lieu(p_valeurs), commune)
    for dimension, valeur, sexe_ in _contributions(
        p_valeurs["statut"],
        p_valeurs["motif_refus"],
        p_valeurs["type_sortie"],
        p_valeurs["origine"],
        sexe,
        age,
    ):
        ecart = ecarts.setdefault((*lieu, dimension, valeur or "", sexe_), [0, 0.0])
        ecart[0] += signe


@event.listens_for(OrmSession, "before_flush")
def _noter_les_ecarts(session, _contexte, _instances) -> None:
    """What this flush changes in the counts; written after it (below)."""
    ecarts = session.info.setdefault("pilotage_ecarts", {})
    for p in session.new:
        if isinstance(p, Prescription):
            personne = _personne(session, p.beneficiaire_id)
            _ecarts_de(_valeurs(p), personne, +1, ecarts)
    for p in session.dirty:
        if isinstance(p, Prescription) and session.is_modified(p):
            etat = inspect(p)
            if not any(etat.attrs[c].history.deleted for c in CHAMPS_SUIVIS):
                continue
            personne = _personne(session, p.beneficiaire_id)
            _ecarts_de(_valeurs(p, anciennes=True), personne, -1, ecarts)
            _ecarts_de(_valeurs(p), personne, +1, ecarts)
    for p in session.deleted:
        if isinstance(p, Prescription):
            personne = _personne(session, p.beneficiaire_id)
            _ecarts_de(_valeurs(p, anciennes=True), personne, -1, ecarts)
    for signe, objets in ((+1, session.new), (-1, session.deleted)):
        for t in objets:
            if (
                isinstance(t, Transition)
                and t.action in REPONSES
                and t.de in PREMIERE_REPONSE_DEPUIS
            ):
                with session.no_autoflush:
                    p = session.get(Prescription, t.prescription_id)
                if p is None:
                    continue
                secondes = (_utc(t.le) - _utc(p.cree_le)).total_seconds()
                commune = _personne(session, p.beneficiaire_id)[2]
                lieu = (*_cle_lieu(_valeurs(p, anciennes=signe < 0)), commune)
                ecart = ecarts.setdefault(
                    (*lieu, "delai", case_delai(secondes), ""), [0, 0.0]
                )
                ecart[0] += signe
                ecart[1] += signe * secondes


@event.listens_for(OrmSession, "after_flush")
def _ecrire_les_ecarts(session, _contexte) -> None:
    ecarts = session.info.pop("pilotage_ecarts", None)
    if ecarts:
        ajouter(session.connection(), ecarts)


@event.listens_for(OrmSession, "after_rollback")
def _oublier_les_ecarts(session) -> None:
    session.info.pop("pilotage_ecarts", None)


TOUTES = "*"


def ajouter(connexion, ecarts: dict[tuple, list], vide: bool = False) -> int:
    """Add these (key -> [count, seconds]) to the summary, in one upsert
    (a plain insert when the summary was just emptied).

    Keys are (month, fiche, session, structure, the person's commune,
    dimension, value, sex).
    """
    # Each change also counts in its structure's and in everybody's "*" rows,
    # under "*" and under the person's EPCI and département.
    tous: dict[tuple, list] = {}
    territoires: dict[str, tuple[str, ...]] = {}
    for cle, (n, somme) in ecarts.items():
        mois, fiche, session, structure, commune, *reste = cle
        if commune not in territoires:
            territoires[commune] = (TOUTES, *territoires_de(commune))
        for territoire in territoires[commune]:
            for niveau in (
                (mois, fiche, session, structure, territoire, *reste),
                (mois, TOUTES, "", structure, territoire, *reste),
                (mois, TOUTES, "", TOUTES, territoire, *reste),
            ):
                total = tous.setdefault(niveau, [0, 0.0])
                total[0] += n
                total[1] += somme
    lignes = [
        {**dict(zip(COLONNES_COMPTE, cle, strict=True)), "nombre": n, "somme": s}
        for cle, (n, s) in sorted(tous.items())
        if n or s
    ]
    if not lignes:
        return 0
    table = ComptePilotage.__table__
    if vide:
        connexion.execute(table.insert(), lignes)
        return len(lignes)
    inserer = pg_insert if connexion.dialect.name == "postgresql" else sqlite_insert
    for debut in range(0, len(lignes), 2000):
        requete = inserer(table).values(lignes[debut : debut + 2000])
        connexion.execute(
            requete.on_conflict_do_update(
                index_elements=list(COLONNES_COMPTE),
                set_={
                    "nombre": table.c.nombre + requete.excluded.nombre,
                    "somme": table.c.somme + requete.excluded.somme,
                },
            )
        )
    return len(lignes)


def recalculer(db: Session) -> int:
    """Rebuild the summary from the requests (after a bulk load, or a new
    territory referentiel); the rows written.

    Month by month: no two months share a row, and only one month's counts
    are ever held in memory.
    """
    db.exec(delete(ComptePilotage))
    mois = _mois(db)
    lignes = 0
    for cle_mois in sorted(db.exec(select(mois).select_from(Prescription).distinct())):
        annee, numero = map(int, cle_mois.split("-"))
        debut = heure.debut_du_mois(annee, numero)
        fin = heure.debut_du_mois(annee, numero + 1)
        lignes += _recalculer_le_mois(db, Filtres(debut=debut, fin=fin))
    return lignes


def _recalculer_le_mois(db: Session, periode: Filtres) -> int:
    ecarts: dict[tuple, list] = {}
    lieu = (
        _mois(db),
        Prescription.fiche_id,
        Prescription.session,
        Prescription.structure_catalogue,
        Beneficiaire.commune_code,
    )
    for ligne in db.exec(
        _filtrer(
            _avec_personne(select(*lieu, *_DIMENSIONS, func.count())), periode
        ).group_by(*lieu, *_DIMENSIONS)
    ):
        mois, fiche, session, structure, commune, *reste = ligne
        origine, statut, motif, sortie, sexe, age, n = reste
        cle_lieu = (mois, fiche, session or "", structure, commune or "")
        for dimension, valeur, sexe_ in _contributions(
            statut, motif, sortie, origine, sexe, age
        ):
            cle = (*cle_lieu, dimension, valeur or "", sexe_)
            ecarts.setdefault(cle, [0, 0.0])[0] += n
    delai = _secondes(db, Transition.le, Prescription.cree_le)
    casier = _case_delai_sql(delai)
    for mois, fiche, session, structure, commune, c, n, somme in db.exec(
        _filtrer(
            _avec_personne(
                select(*lieu, casier, func.count(), func.sum(delai))
                .select_from(Transition)
                .join(Prescription, Prescription.id == Transition.prescription_id)
            ),
            periode,
        )
        .where(
            Transition.action.in_(REPONSES), Transition.de.in_(PREMIERE_REPONSE_DEPUIS)
        )
        .group_by(*lieu, casier)
    ):
        cle = (mois, fiche, session or "", structure, commune or "", "delai", c, "")
        ecarts[cle] = [n, float(somme or 0)]
    return ajouter(db.connection(), ecarts, vide=True)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- Last years' results (CSV) ---------------------------------------------------

COLONNES_CSV = ("annee", "structure", "fiche", "indicateur", "valeur", "nombre")
INDICATEURS = {
    "personnes": "Personnes accompagnées",
    "sexe": "Personnes accompagnées, par sexe",
    "tranche_age": "Personnes accompagnées, par tranche d'âge",
    "sortie": "Sorties, par type",
    "sorties": "Sorties (total, quand le détail n'est pas donné)",
    "encore_suivies": "Personnes toujours suivies en fin d'année",
}


@dataclass
class RapportImport:
    chargees: int = 0
    erreurs: list[str] = field(default_factory=list)


def importer_csv(
    db: Session,
    texte: str,
    fiches: dict[str, Fiche],
    structures: set[str],
    sorties: Sorties,
    maintenant: datetime,
) -> RapportImport:
    """Load each good line (replacing the same figure); list the bad ones.

    ``;`` or ``,`` separated, UTF-8 (a BOM is fine), with a header row
    naming the columns of COLONNES_CSV.
    """
    rapport = RapportImport()
    texte = texte.lstrip("\ufeff")
    premiere = texte.splitlines()[0] if texte.strip() else ""
    separateur = ";" if premiere.count(";") >= premiere.count(",") else ","
    lecteur = csv.DictReader(io.StringIO(texte), delimiter=separateur)
    entetes = [(c or "").strip().lower() for c in (lecteur.fieldnames or [])]
    manquantes = [c for c in COLONNES_CSV if c not in entetes]
    if manquantes:
        rapport.erreurs.append(
            f"ligne 1 : colonne « {manquantes[0]} » absente "
            f"(colonnes attendues : {separateur.join(COLONNES_CSV)})."
        )
        return rapport
    lecteur.fieldnames = entetes
    vues: set[tuple] = set()
    for numero, brute in enumerate(lecteur, start=2):
        ligne = {k: (v or "").strip() for k, v in brute.items() if k}
        if not any(ligne.values()):
            continue
        erreur, cle, nombre = _lire_ligne(ligne, fiches, structures, sorties)
        if erreur:
            rapport.erreurs.append(f"ligne {numero}, {erreur}")
            continue
        if cle in vues:
            rapport.erreurs.append(
                f"ligne {numero}, colonne « valeur » : ce chiffre est déjà donné "
                "plus haut dans le fichier."
            )
            continue
        vues.add(cle)
        annee, structure, fiche, indicateur, valeur = cle
        db.exec(
            delete(ResultatHistorique).where(
                ResultatHistorique.annee == annee,
                ResultatHistorique.structure == structure,
                ResultatHistorique.fiche_id == fiche,
                ResultatHistorique.indicateur == indicateur,
                ResultatHistorique.valeur == valeur,
            )
        )
        db.add(
            ResultatHistorique(
                annee=annee,
                structure=structure,
                fiche_id=fiche,
                indicateur=indicateur,
                valeur=valeur,
                nombre=nombre,
                importe_le=maintenant,
            )
        )
        rapport.chargees += 1
    return rapport


# More people than any action of a département ever counts: a typing mistake.
NOMBRE_MAX = 10_000_000


def _lire_ligne(ligne, fiches, structures, sorties):
    annee = ligne.get("annee", "")
    if not (annee.isascii() and annee.isdigit() and 1990 <= int(annee) <= 2100):
        return f"colonne « annee » : « {annee} » n'est pas une année (ex. 2017).", 0, 0
    structure = ligne.get("structure", "")
    if structure not in structures:
        return (
            f"colonne « structure » : « {structure} » n'est pas une structure "
            "du catalogue (son identifiant, ex. ars-service-emploi-formation).",
            0,
            0,
        )
    fiche = ligne.get("fiche", "")
    if fiche and (fiche not in fiches or fiches[fiche].structure != structure):
        return (
            f"colonne « fiche » : « {fiche} » n'est pas une fiche de cette "
            "structure (laissez vide pour toute la structure).",
            0,
            0,
        )
    indicateur = ligne.get("indicateur", "")
    if indicateur not in INDICATEURS:
        return (
            f"colonne « indicateur » : « {indicateur} » inconnu "
            f"(possibles : {', '.join(INDICATEURS)}).",
            0,
            0,
        )
    valeur = ligne.get("valeur", "")
    possibles = {
        "sexe": SEXES,
        "sortie": sorties.libelles,
    }.get(indicateur)
    if possibles is not None and valeur not in possibles:
        quoi = {"sexe": "un sexe connu", "sortie": "un type de sortie connu"}
        return (
            f"colonne « valeur » : « {valeur} » n'est pas {quoi[indicateur]} "
            f"(possibles : {', '.join(possibles)}).",
            0,
            0,
        )
    if indicateur in ("personnes", "sorties", "encore_suivies") and valeur:
        return f"colonne « valeur » : laissez-la vide pour « {indicateur} ».", 0, 0
    if indicateur == "tranche_age" and not valeur:
        return "colonne « valeur » : indiquez la tranche d'âge (ex. 26-49).", 0, 0
    texte = ligne.get("nombre", "").replace("\u202f", "").replace(" ", "")
    if not (texte.isascii() and texte.isdigit()):
        return (
            f"colonne « nombre » : « {ligne.get('nombre', '')} » n'est pas un "
            "nombre entier positif.",
            0,
            0,
        )
    if int(texte) > NOMBRE_MAX:
        limite = f"{NOMBRE_MAX:,}".replace(",", "\u202f")
        return (
            f"colonne « nombre » : « {ligne.get('nombre', '')} » est trop grand "
            f"(au plus {limite}).",
            0,
            0,
        )
    return None, (int(annee), structure, fiche, indicateur, valeur[:60]), int(texte)


@dataclass
class Bilan:
    """One action's (or structure's) published results for one year."""

    annee: int
    structure: str
    fiche_id: str
    personnes: int | None = None
    encore_suivies: int | None = None
    sorties_donnees: int | None = None  # the total, when given alone
    sexes: dict[str, int] = field(default_factory=dict)
    ages: dict[str, int] = field(default_factory=dict)
    sorties: dict[str, int] = field(default_factory=dict)

    @property
    def total_sorties(self) -> int | None:
        if self.sorties_donnees is not None:
            return self.sorties_donnees
        return sum(self.sorties.values()) if self.sorties else None

    def part_sortie(self, type_: str) -> float | None:
        total = self.total_sorties
        return 100 * self.sorties[type_] / total if total else None

    def part_sexe(self, sexe: str) -> float | None:
        total = self.personnes or sum(self.sexes.values())
        return 100 * self.sexes[sexe] / total if total else None

    def categories(self, sorties: Sorties) -> dict[str, int]:
        par: dict[str, int] = defaultdict(int)
        for type_, n in self.sorties.items():
            par[sorties.categorie.get(type_, "autre")] += n
        return dict(par)


def historique(db: Session, structures: tuple[str, ...] | None = None) -> list[Bilan]:
    """Imported results, latest year first; only these structures if given."""
    requete = select(ResultatHistorique)
    if structures is not None:
        requete = requete.where(ResultatHistorique.structure.in_(structures))
    bilans: dict[tuple, Bilan] = {}
    ordre = case((ResultatHistorique.fiche_id == "", 0), else_=1)
    for r in db.exec(
        requete.order_by(
            ResultatHistorique.annee.desc(),
            ResultatHistorique.structure,
            ordre,
            ResultatHistorique.fiche_id,
            ResultatHistorique.id,
        )
    ):
        cle = (r.annee, r.structure, r.fiche_id)
        b = bilans.setdefault(cle, Bilan(*cle))
        if r.indicateur == "personnes":
            b.personnes = r.nombre
        elif r.indicateur == "encore_suivies":
            b.encore_suivies = r.nombre
        elif r.indicateur == "sorties":
            b.sorties_donnees = r.nombre
        elif r.indicateur == "sexe":
            b.sexes[r.valeur] = r.nombre
        elif r.indicateur == "tranche_age":
            b.ages[r.valeur] = r.nombre
        elif r.indicateur == "sortie":
            b.sorties[r.valeur] = r.nombre
    return list(bilans.values())
