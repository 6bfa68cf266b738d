"""Search: one small interface, two engines (embedded SQLite, Meilisearch).

The app holds one engine in ``app.extensions["recherche"]``; views and the
API only use the names defined here. Both engines index the same flat
``document(fiche, structure)`` and read the same synonyms and stop words.
"""

import hashlib
import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Protocol

import yaml

from catalogue.fiche import Fiche, Structure
from catalogue.territoires import Referentiel, referentiel
from catalogue.vocabulaires import DATA_DIR, categorie_thematique, vocabulaire

# Facets shown to users, in display order. OR within a facet, AND across.
FACETTES = (
    "categories_thematiques",
    "thematiques",
    "publics",
    "categorie",
    "type",
    "frais",
    "modes_accueil",
    "mobilisable_par",
    "statut",
)
TRIS = ("pertinence", "places", "distance", "nom")
# Query-string parameters of the search page and of GET /api/v1/fiches.
PARAMETRES = (
    "q",
    *FACETTES,
    "commune",
    "rayon_km",
    "places_disponibles",
    "tri",
    "page",
    "par_page",
)
# Searchable fields, most important first (both engines weigh them this way).
CHAMPS_TEXTE = (
    "nom",
    "thematiques_libelles",
    "publics_libelles",
    "structure_nom",
    "communes",
    "resume",
    "description",
)
CHAMPS_SURLIGNES = ("nom", "resume")
PAR_PAGE_MAX = 100
RAYON_MAX_KM = 200
# Control characters around matches; escaped text then gets real <mark> tags.
DEBUT_MARQUE, FIN_MARQUE = "\x02", "\x03"
AVERTISSEMENT_SECOURS = (
    "La recherche fonctionne en mode dégradé : les résultats peuvent être "
    "incomplets pendant quelques minutes."
)


class RechercheIndisponible(Exception):
    """The search engine cannot answer (server down, misconfigured, task failed)."""


class ParametreInvalide(ValueError):
    """A search parameter the user can fix; the message is French, for them."""


@dataclass(frozen=True)
class Requete:
    texte: str = ""
    # facet name -> accepted values (OR); facets combine with AND
    filtres: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # zone_eligibilite codes that cover the person's commune (commune, EPCI, dept)
    zone: tuple[str, ...] = ()
    # (latitude, longitude) of the person's commune, for distance
    point: tuple[float, float] | None = None
    rayon_km: float | None = None
    places_disponibles: bool = False
    tri: str = "pertinence"
    page: int = 1
    par_page: int = 20
    facettes: tuple[str, ...] = FACETTES


@dataclass(frozen=True)
class Resultat:
    id: str
    distance_km: float | None = None
    places_restantes: int | None = None
    places_maj_le: str | None = None  # ISO date or datetime
    # field -> HTML-escaped text with <mark>…</mark> around matches
    surlignage: dict[str, str] = field(default_factory=dict)

    @property
    def complet(self) -> bool:
        return self.places_restantes == 0


@dataclass(frozen=True)
class Resultats:
    total: int
    page: int
    par_page: int
    resultats: list[Resultat]
    facettes: dict[str, dict[str, int]]
    avertissement: str | None = None  # shown to the user (e.g. degraded mode)


class MoteurRecherche(Protocol):
    def indexer(self, documents: Iterable[dict]) -> None:
        """Add or replace these documents; the most recent places win."""

    def maj_places(
        self, fiche_id: str, places_restantes: int | None, maj_le: datetime
    ) -> None:
        """Record a new number of remaining places; visible to the next search."""

    def places(self, fiche_ids: Iterable[str]) -> dict[str, dict]:
        """Current place fields (champs_places) of these fiches, read now."""

    def supprimer(self, fiche_ids: Iterable[str]) -> None: ...

    def empreintes(self) -> dict[str, str]:
        """Fiche id -> fingerprint of its indexed content (to sync changes)."""

    def rechercher(self, requete: Requete) -> Resultats: ...

    def reconstruire(
        self,
        documents: Iterable[dict],
        progression: Callable[[int], None] | None = None,
    ) -> None:
        """Rebuild the whole index from scratch, swapped in atomically."""


def rechercher_avec_facettes_ouvertes(
    moteur: MoteurRecherche, requete: Requete
) -> Resultats:
    """The results, with each ticked facet counted as if it were not ticked.

    Values of one facet combine with OR, so a box's count must say how many
    results ticking it would give: engines count within the current results,
    hence one cheap extra count per facet in use.
    """
    resultats = moteur.rechercher(requete)
    facettes = dict(resultats.facettes)
    for facette in requete.filtres:
        sans = {f: v for f, v in requete.filtres.items() if f != facette}
        autre = moteur.rechercher(
            replace(requete, filtres=sans, facettes=(facette,), page=1, par_page=1)
        )
        facettes[facette] = autre.facettes.get(facette, {})
    return replace(resultats, facettes=facettes)


# --- The indexed document -------------------------------------------------


def document(fiche: Fiche, structure: Structure | None) -> dict:
    """The flat document both engines index for one fiche."""
    libelle = vocabulaire("thematiques").libelle
    points = [
        {"lat": lieu.latitude, "lng": lieu.longitude}
        for lieu in fiche.lieux
        if lieu.latitude is not None
    ]
    if not points and structure and structure.latitude is not None:
        # Without a lieu the action happens at the porteur's address.
        points = [{"lat": structure.latitude, "lng": structure.longitude}]
    if fiche.modes_accueil == ["a-distance"]:
        points = []
    communes = {lieu.commune for lieu in fiche.lieux if lieu.commune}
    doc = {
        "id": fiche.id,
        "nom": fiche.nom,
        "nom_tri": " ".join(mots(fiche.nom)),
        "resume": fiche.resume,
        "description": fiche.description,
        "structure_nom": structure.nom if structure else "",
        # Category slugs read as words too: "mobilite" finds every mobility fiche.
        "thematiques_libelles": [
            *(c.replace("-", " ") for c in fiche.categories_thematiques),
            *(libelle(t) for t in fiche.thematiques),
        ],
        "publics_libelles": [vocabulaire("publics").libelle(p) for p in fiche.publics],
        "communes": sorted(communes),
        "thematiques": fiche.thematiques,
        "categories_thematiques": fiche.categories_thematiques,
        "publics": fiche.publics,
        "categorie": fiche.categorie,
        "type": fiche.type,
        "frais": fiche.frais,
        "modes_accueil": fiche.modes_accueil,
        "mobilisable_par": fiche.mobilisable_par,
        "statut": fiche.statut,
        "zone": fiche.zone_eligibilite,
        "lieux": points,
        "_geo": points[0] if points else None,
        "a_distance": "a-distance" in fiche.modes_accueil,
        "session_ouverte": any(
            (s.places_restantes if s.places_restantes is not None else s.places or 0)
            > 0
            and s.debut >= date.today()
            for s in fiche.sessions
        ),
    }
    doc["empreinte"] = empreinte(doc)
    maj_le = fiche.places_maj_le.isoformat() if fiche.places_maj_le else None
    return doc | champs_places(fiche.places_restantes, maj_le)


def empreinte(doc: dict) -> str:
    """Fingerprint of what the YAML decides (places are live, so left out)."""
    contenu = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(contenu.encode()).hexdigest()[:16]


def champs_places(places_restantes: int | None, maj_le: str | None) -> dict:
    """The place fields of a document, also sent alone when places change."""
    return {
        "places_restantes": places_restantes,
        "places_maj_le": maj_le,
        "complet": places_restantes == 0,
        # Sort key for "most places first": untracked ones before full ones.
        "places_tri": -1 if places_restantes == 0 else places_restantes or 0,
    }


def places_les_plus_recentes(doc: dict, ancien: Mapping | None) -> dict:
    """Keep the index's places when they were updated after the YAML's."""
    if not ancien or not ancien.get("places_maj_le"):
        return doc
    if doc.get("places_maj_le") and doc["places_maj_le"] >= ancien["places_maj_le"]:
        return doc
    return doc | champs_places(ancien["places_restantes"], ancien["places_maj_le"])


def documents(catalogue) -> list[dict]:
    """Every fiche of a loaded catalogue as an indexed document."""
    return [
        document(fiche, catalogue.structures.get(fiche.structure))
        for fiche in catalogue.fiches.values()
    ]


@dataclass(frozen=True)
class Bilan:
    ajoutees: int
    modifiees: int
    supprimees: int


def synchroniser(moteur: MoteurRecherche, docs: list[dict]) -> Bilan:
    """Bring the index in line with the YAML: add, update and remove fiches."""
    actuelles = moteur.empreintes()
    nouveaux = [d for d in docs if d["id"] not in actuelles]
    changes = [
        d for d in docs if d["id"] in actuelles and actuelles[d["id"]] != d["empreinte"]
    ]
    partis = set(actuelles) - {d["id"] for d in docs}
    if nouveaux or changes:
        moteur.indexer(nouveaux + changes)
    if partis:
        moteur.supprimer(sorted(partis))
    return Bilan(len(nouveaux), len(changes), len(partis))


# --- Language: words, synonyms, stop words, highlights ----------------------


def sans_accents(texte: str) -> str:
    decompose = unicodedata.normalize("NFKD", texte)
    return "".join(c for c in decompose if not unicodedata.combining(c)).lower()


def mots(texte: str) -> list[str]:
    """Words as both engines see them: lower case, no accents, split on signs."""
    return re.findall(r"\w+", sans_accents(texte))


@cache
def synonymes() -> tuple[tuple[str, ...], ...]:
    """Groups of expressions that find each other, as written in the YAML."""
    with open(DATA_DIR / "recherche" / "synonymes.yaml", encoding="utf-8") as f:
        return tuple(tuple(groupe) for groupe in yaml.safe_load(f))


@cache
def mots_vides_ecrits() -> tuple[str, ...]:
    """Stop words as written in the YAML (with accents)."""
    with open(DATA_DIR / "recherche" / "mots_vides.yaml", encoding="utf-8") as f:
        return tuple(yaml.safe_load(f))


@cache
def mots_vides() -> frozenset[str]:
    return frozenset(mot for m in mots_vides_ecrits() for mot in mots(m))


def surligner(texte: str) -> str:
    """Escape text marked with DEBUT/FIN_MARQUE, then turn marks into <mark>."""
    sur = html.escape(texte, quote=False)
    return sur.replace(DEBUT_MARQUE, "<mark>").replace(FIN_MARQUE, "</mark>")


# --- From query-string parameters to a Requete -----------------------------

VOCABULAIRE_DES_FACETTES = {
    "thematiques": "thematiques",
    "publics": "publics",
    "categorie": "categories",
    "type": "types",
    "frais": "frais",
    "modes_accueil": "modes_accueil",
    "mobilisable_par": "mobilisable_par",
    "statut": "statuts",
}
NOMS_DES_FACETTES = {
    "categories_thematiques": "catégorie de thématique",
    "thematiques": "thématique",
    "publics": "public",
    "categorie": "catégorie",
    "type": "type d'action",
    "frais": "frais",
    "modes_accueil": "mode d'accueil",
    "mobilisable_par": "mobilisable par",
    "statut": "statut",
}
OUI = {"1", "true", "oui", "on"}


def valeurs_connues(facette: str) -> set[str]:
    if facette == "categories_thematiques":
        return {categorie_thematique(t) for t in vocabulaire("thematiques")}
    return set(vocabulaire(VOCABULAIRE_DES_FACETTES[facette]))


def _liste(args, nom: str) -> list[str]:
    """Repeated (?a=1&a=2) or comma-separated (?a=1,2) values."""
    brutes = args.getlist(nom) if hasattr(args, "getlist") else [args.get(nom) or ""]
    return [v.strip() for brute in brutes for v in brute.split(",") if v.strip()]


def _entier(args, nom: str, defaut: int, mini: int, maxi: int) -> int:
    brut = (args.get(nom) or "").strip()
    if not brut:
        return defaut
    if not brut.isdigit() or not mini <= int(brut) <= maxi:
        raise ParametreInvalide(
            f"« {nom} » doit être un nombre entier entre {mini} et {maxi} "
            f"(reçu : « {brut} »)."
        )
    return int(brut)


def _rayon(args) -> float | None:
    brut = (args.get("rayon_km") or "").strip().replace(",", ".")
    if not brut:
        return None
    try:
        rayon = float(brut)
    except ValueError:
        rayon = -1.0
    if not 0 < rayon <= RAYON_MAX_KM:
        raise ParametreInvalide(
            f"Le rayon doit être un nombre de kilomètres entre 1 et {RAYON_MAX_KM} "
            f"(reçu : « {brut} »)."
        )
    return rayon


def _filtres(args) -> dict[str, tuple[str, ...]]:
    filtres = {}
    for facette in FACETTES:
        valeurs = _liste(args, facette)
        inconnues = [v for v in valeurs if v not in valeurs_connues(facette)]
        if inconnues:
            raise ParametreInvalide(
                f"Valeur inconnue pour le filtre « {NOMS_DES_FACETTES[facette]} » : "
                f"« {inconnues[0]} »."
            )
        if valeurs:
            filtres[facette] = tuple(dict.fromkeys(valeurs))
    return filtres


def requete_depuis_args(args, ref: Referentiel | None = None) -> Requete:
    """Read ?q=&thematiques=&commune=&rayon_km=&tri=&page=… into a Requete.

    ``args`` is any mapping (werkzeug's MultiDict gives repeated values).
    Raises ParametreInvalide with a French message the user can act on.
    """
    zone, point, rayon = (), None, _rayon(args)
    nom_commune = (args.get("commune") or "").strip()
    if nom_commune:
        commune = (ref or referentiel()).trouver(nom_commune)
        if commune is None:
            raise ParametreInvalide(
                f"Commune introuvable : « {nom_commune} ». Tapez son nom ou son "
                "code postal et choisissez-la dans la liste."
            )
        zone = commune.codes_zone
        if commune.latitude is not None:
            point = (commune.latitude, commune.longitude)
    tri = (args.get("tri") or "pertinence").strip()
    if tri not in TRIS:
        raise ParametreInvalide(
            f"Tri inconnu : « {tri} » (possibles : {', '.join(TRIS)})."
        )
    if (rayon or tri == "distance") and point is None:
        raise ParametreInvalide(
            "Indiquez une commune pour chercher autour d'elle ou trier par distance."
        )
    return Requete(
        texte=(args.get("q") or "").strip()[:200],
        filtres=_filtres(args),
        zone=zone,
        point=point,
        rayon_km=rayon,
        places_disponibles=(args.get("places_disponibles") or "").lower() in OUI,
        tri=tri,
        page=_entier(args, "page", 1, 1, 1000),
        par_page=_entier(args, "par_page", 20, 1, PAR_PAGE_MAX),
    )


# --- Building the engine from the app's configuration -----------------------


def moteur_depuis_config(config: Mapping) -> MoteurRecherche:
    """SEARCH_BACKEND "embarque" (default) or "meilisearch" (with a fallback)."""
    from catalogue.moteur_sqlite import MoteurSQLite

    embarque = MoteurSQLite(config["SEARCH_PATH"])
    backend = config.get("SEARCH_BACKEND") or "embarque"
    if backend == "embarque":
        return embarque
    if backend == "meilisearch":
        from catalogue.moteur_meilisearch import MoteurMeilisearch
        from catalogue.moteur_secours import MoteurAvecSecours

        meili = MoteurMeilisearch(
            config.get("MEILI_URL"), config.get("MEILI_API_KEY"), config["MEILI_INDEX"]
        )
        return MoteurAvecSecours(meili, embarque)
    raise ValueError(
        f"SEARCH_BACKEND inconnu : « {backend} » (valeurs : embarque, meilisearch)"
    )


def remplir_si_vide(moteur: MoteurRecherche, docs: list[dict], logger) -> None:
    """Index the catalogue at start-up when the index holds nothing yet."""
    try:
        if not moteur.empreintes():
            moteur.indexer(docs)
    except RechercheIndisponible:
        logger.exception("Index de recherche non rempli au démarrage")
