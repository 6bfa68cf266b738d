"""Search parameters of the page and the API: one pydantic model.

``ParametresRecherche`` validates the query string with French messages and
gives the OpenAPI document its parameters; ``requete_depuis_args`` turns it
into the domain's ``Requete``; ``resoudre_lieu`` alone knows how a commune
becomes a zone and a point.
"""

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Literal

from data_inclusion.schema import v1
from flask import current_app, has_app_context
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)

from catalogue.recherche import (
    FACETTES,
    PAR_PAGE_MAX,
    RAYON_MAX_KM,
    TRIS,
    Requete,
    valeurs_connues,
)
from catalogue.territoires import (
    Referentiel,
    Resolution,
    departements_des_zones,
    referentiel,
)
from catalogue.vocabulaires import vocabulaire


class ParametreInvalide(ValueError):
    """A search parameter the user can fix; the message is French, for them.
    ``champ``: the parameter at fault, when one is (its field is marked)."""

    def __init__(self, message: str, champ: str | None = None):
        super().__init__(message)
        self.champ = champ


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
NON = {"0", "false", "non", "off"}
RAYON_MIN_KM = 1
TEXTE_MAX = 200
PAGE_MAX = 1000


def _texte(brut: object) -> str:
    """The words typed: invisible characters (NUL…) count as spaces, and a
    long text is cut between two words, never inside one."""
    texte = " ".join(
        "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(brut or ""))
        .split()
    )  # fmt: skip
    if len(texte) > TEXTE_MAX:
        coupe = texte[: TEXTE_MAX + 1].rsplit(" ", 1)[0]
        texte = coupe if coupe and len(coupe) <= TEXTE_MAX else texte[:TEXTE_MAX]
    return texte


def _entier(nom: str, mini: int, maxi: int):
    """ASCII digits only: str.isdigit() also accepts « ² » and « ٣ »."""

    def lire(brut: object) -> int:
        texte = str(brut).strip()
        if not (texte.isascii() and texte.isdigit() and mini <= int(texte) <= maxi):
            raise ValueError(
                f"« {nom} » doit être un nombre entier entre {mini} et {maxi} "
                f"(reçu : « {texte} »)."
            )
        return int(texte)

    return BeforeValidator(lire)


def _rayon(brut: object) -> float:
    texte = str(brut).strip()
    try:
        rayon = float(texte.replace(",", ".")) if texte.isascii() else -1.0
    except ValueError:
        rayon = -1.0
    if not RAYON_MIN_KM <= rayon <= RAYON_MAX_KM:  # also refuses nan and inf
        raise ValueError(
            f"Le rayon doit être un nombre de kilomètres entre {RAYON_MIN_KM} et "
            f"{RAYON_MAX_KM} "
            f"(reçu : « {texte} »)."
        )
    return rayon


def _oui(nom: str):
    """1 or 0 (oui/non, true/false, on/off): anything else is a mistake to say."""

    def lire(brut: object) -> bool:
        texte = str(brut).strip()
        if texte.lower() not in OUI | NON:
            raise ValueError(f"« {nom} » vaut 1 (oui) ou 0 (non) (reçu : « {texte} »).")
        return texte.lower() in OUI

    return BeforeValidator(lire)


def _tri(brut: object) -> str:
    tri = str(brut).strip()
    if tri not in TRIS:
        raise ValueError(f"Tri inconnu : « {tri} » (possibles : {', '.join(TRIS)}).")
    return tri


def _liste(permises: Callable[[], set[str]], inconnue: str):
    """Repeated (?a=1&a=2) or comma-separated (?a=1,2) values, all among
    ``permises()``; ``inconnue`` names the first one that is not (« {} »)."""

    def lire(brutes: object) -> list[str]:
        brutes = brutes if isinstance(brutes, list | tuple) else [brutes]
        valeurs = [v.strip() for b in brutes for v in str(b).split(",") if v.strip()]
        inconnues = [v for v in valeurs if v not in permises()]
        if inconnues:
            raise ValueError(inconnue.format(inconnues[0]))
        return list(dict.fromkeys(valeurs))

    return BeforeValidator(lire)


def _valeurs(facette: str):
    return _liste(
        lambda: valeurs_connues(facette),
        f"Valeur inconnue pour le filtre « {NOMS_DES_FACETTES[facette]} » : « {{}} ».",
    )


def _facette(facette: str):
    valeurs = Literal[tuple(sorted(valeurs_connues(facette)))]
    description = (
        f"Filtre « {NOMS_DES_FACETTES[facette]} » : une ou plusieurs valeurs "
        "(répétées ou séparées par des virgules), combinées par OU ; les filtres "
        "différents se combinent par ET."
    )
    return (
        Annotated[list[valeurs], _valeurs(facette), Field(description=description)],
        [],
    )


class _Base(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    q: Annotated[
        str,
        BeforeValidator(_texte),
        Field(
            description="Texte cherché : casse, accents et fautes de frappe sont "
            "tolérés ; le dernier mot peut être incomplet ; coupé à 200 caractères."
        ),
    ] = ""


ParametresRecherche = create_model(
    "ParametresRecherche",
    __base__=_Base,
    __doc__="Les paramètres de la page de recherche et de GET /api/v1/fiches.",
    **{f: _facette(f) for f in FACETTES},
    commune=(
        Annotated[
            str,
            BeforeValidator(lambda v: str(v).strip()),
            Field(
                description="Lieu de la personne : commune (code INSEE, code "
                "postal, nom ou « Nom (code postal) »), intercommunalité ou "
                "département (nom ou numéro) ; garde les fiches dont la zone "
                "d'éligibilité le couvre."
            ),
        ],
        "",
    ),
    rayon_km=(
        Annotated[
            float,
            BeforeValidator(_rayon),
            Field(
                ge=RAYON_MIN_KM,
                le=RAYON_MAX_KM,
                description="Avec « commune » : garde les actions sur place à moins "
                "de ce rayon, les actions à distance, et celles dont l'adresse "
                "n'est pas connue (leur zone couvre la commune).",
            ),
        ]
        | None,
        None,
    ),
    places_disponibles=(
        Annotated[
            bool,
            _oui("places_disponibles"),
            Field(
                description="1 : seulement les actions qui ont des places ; 0 : toutes."
            ),
        ],
        False,
    ),
    tri=(
        Annotated[
            Literal[TRIS],
            BeforeValidator(_tri),
            Field(
                description="Ordre des résultats. Sans mots et avec une commune, "
                "« pertinence » (le défaut) range du plus près au plus loin."
            ),
        ],
        "pertinence",
    ),
    page=(
        Annotated[
            int,
            _entier("page", 1, PAGE_MAX),
            Field(ge=1, le=PAGE_MAX, description="Page (à partir de 1)."),
        ],
        1,
    ),
    par_page=(
        Annotated[
            int,
            _entier("par_page", 1, PAR_PAGE_MAX),
            Field(ge=1, le=PAR_PAGE_MAX, description="Résultats par page."),
        ],
        20,
    ),
)

# Query-string parameters of the search page and of GET /api/v1/fiches.
PARAMETRES = tuple(ParametresRecherche.model_fields)


def _en_dict(args) -> dict:
    """A query string (MultiDict or plain mapping) as the model reads it;
    blank values mean « not given »."""
    donnees = {}
    for nom in PARAMETRES:
        if nom in FACETTES:
            brutes = args.getlist(nom) if hasattr(args, "getlist") else [args.get(nom)]
            brutes = [b for b in brutes if b is not None]
            if brutes:
                donnees[nom] = brutes
        elif str(args.get(nom) or "").strip():
            donnees[nom] = args.get(nom)
    return donnees


def lire_parametres(args):
    """Validate the query string; ParametreInvalide carries the first problem."""
    try:
        return ParametresRecherche.model_validate(_en_dict(args))
    except ValidationError as exc:
        erreur = exc.errors()[0]
        cause = (erreur.get("ctx") or {}).get("error")
        raise ParametreInvalide(
            str(cause) if cause else f"Paramètre « {erreur['loc'][0]} » invalide.",
            champ=str(erreur["loc"][0]) if erreur["loc"] else None,
        ) from None


def resoudre_lieu(
    texte: str, ref: Referentiel | None = None
) -> tuple[tuple[str, ...], tuple[float, float] | None]:
    """The zone codes covering a place, and its point (for distances)."""
    if not texte:
        return (), None
    lieu = trouver_lieu(texte, ref).lieu
    if lieu is None and (ref or referentiel()).lieux.desaccord(texte.strip()):
        raise ParametreInvalide(
            f"« {texte} » : ce nom et ce code postal ne vont pas ensemble.",
            champ="commune",
        )
    if lieu is None:
        raise ParametreInvalide(
            f"Lieu introuvable : « {texte} ». Tapez une commune, un code "
            "postal, une intercommunalité ou un département.",
            champ="commune",
        )
    return lieu.codes_zone, lieu.point


def trouver_lieu(texte: str, ref: Referentiel | None = None) -> Resolution:
    """The typed place (catalogue.territoires), resolved toward where the
    catalogue has actions."""
    return (ref or referentiel()).lieux.resoudre(texte, departements_du_catalogue())


def departements_du_catalogue() -> frozenset[str]:
    if not has_app_context():
        return frozenset()
    extensions = current_app.extensions
    if "departements_du_catalogue" not in extensions:
        catalogue = extensions["catalogue"]
        codes = {
            code
            for fiche in catalogue.fiches.values()
            for code in (
                *fiche.zone_eligibilite,
                *(lieu.code_insee for lieu in fiche.lieux if lieu.code_insee),
            )
        }
        extensions["departements_du_catalogue"] = frozenset(
            departements_des_zones(codes, referentiel())
        )
    return extensions["departements_du_catalogue"]


# « U.D.A.F », « C.C.A.S. »: an acronym written with dots, letters alone.
SIGLE_POINTE = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}(?:[^\W\d_](?!\w))?")


def _sigles_sans_points(texte: str) -> str:
    """« U.D.A.F » is searched as « UDAF »: one letter alone is no word."""
    return SIGLE_POINTE.sub(lambda m: m[0].replace(".", ""), texte)


def requete_depuis_args(args, ref: Referentiel | None = None) -> Requete:
    """Read ?q=&thematiques=&commune=&rayon_km=&tri=&page=… into a Requete.

    ``args`` is any mapping (werkzeug's MultiDict gives repeated values).
    Raises ParametreInvalide with a French message the user can act on.
    """
    p = lire_parametres(args)
    zone, point = resoudre_lieu(p.commune, ref)
    if (p.rayon_km or p.tri == "distance") and point is None:
        if zone:  # a département or an EPCI: it has no one point to measure from
            raise ParametreInvalide(
                f"Une distance se compte depuis une commune, et « {p.commune} » "
                "est un territoire : voici ses actions. Pour chercher autour de "
                "chez vous, indiquez votre commune.",
                champ="commune",
            )
        raise ParametreInvalide(
            "Indiquez une commune pour chercher autour d'elle ou trier par distance.",
            champ="commune",
        )
    tri = p.tri
    if tri == "pertinence" and point is not None and not p.q.strip():
        # No words to rank by: nearest first, as one browsing near home
        # expects (the order of the index put 61 km before 1 km).
        tri = "distance"
    return Requete(
        texte=_sigles_sans_points(p.q),
        filtres={f: tuple(getattr(p, f)) for f in FACETTES if getattr(p, f)},
        zone=zone,
        point=point,
        rayon_km=p.rayon_km,
        places_disponibles=p.places_disponibles,
        tri=tri,
        page=p.page,
        par_page=p.par_page,
    )


# --- Pagination of the open-data lists (/api/v1/data-inclusion/…) -----------

TAILLE_MAX = 1000


class ParametresPagination(BaseModel):
    """?page=&taille= of the data·inclusion lists: an aggregator walks every page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page: Annotated[
        int,
        _entier("page", 1, 100_000),
        Field(ge=1, le=100_000, description="Page (à partir de 1)."),
    ] = 1
    taille: Annotated[
        int,
        _entier("taille", 1, TAILLE_MAX),
        Field(ge=1, le=TAILLE_MAX, description="Enregistrements par page."),
    ] = 100


def _thematiques_et_categories() -> set[str]:
    """Thématiques (« mobilite--…») and whole categories (« mobilite »)."""
    return set(vocabulaire("thematiques")) | valeurs_connues("categories_thematiques")


def _code(nom: str, motif: str, exemple: str):
    def lire(brut: object) -> str:
        code = str(brut).strip().upper()
        if not re.fullmatch(motif, code):
            raise ValueError(
                f"« {nom} » est un code comme {exemple} (reçu : « {brut} »)."
            )
        return code

    return BeforeValidator(lire)


ParametresServices = create_model(
    "ParametresServices",
    __base__=ParametresPagination,
    __doc__="?page=&taille= and the filters of the data·inclusion services.",
    thematiques=(
        Annotated[
            list[str],
            _liste(_thematiques_et_categories, "Thématique inconnue : « {} »."),
            Field(
                description="Thématiques (ex. « mobilite--entretenir-reparer-son-"
                "vehicule ») ou catégories entières (ex. « mobilite ») : répétées ou "
                "séparées par des virgules, combinées par OU."
            ),
        ],
        [],
    ),
    publics=(
        Annotated[
            list[str],
            _liste(
                lambda: {p.value for p in v1.Public},
                "Public inconnu du référentiel national : « {} ».",
            ),
            Field(
                description="Publics du référentiel national data·inclusion (ex. "
                "« demandeurs-emploi »), tels que les services les portent : "
                "répétés ou séparés par des virgules, combinés par OU."
            ),
        ],
        [],
    ),
    code_departement=(
        Annotated[
            str | None,
            _code("code_departement", r"\d{2}|2[AB]|97\d", "91 ou 2A"),
            Field(
                description="Services dont le lieu ou la zone est dans ce département."
            ),
        ],
        None,
    ),
    code_insee=(
        Annotated[
            str | None,
            _code("code_insee", r"\d{5}|2[AB]\d{3}", "91228"),
            Field(
                description="Code INSEE d'une commune : services dont la zone "
                "d'éligibilité la couvre."
            ),
        ],
        None,
    ),
)
LISTES_DES_SERVICES = ("thematiques", "publics")


def lire_pagination(args, modele: type[BaseModel] = ParametresPagination):
    """Validate ?page=&taille= (and the model's filters); ParametreInvalide
    names the first problem."""
    donnees = {}
    for nom in args:
        brutes = args.getlist(nom) if hasattr(args, "getlist") else [args.get(nom)]
        brutes = [b for b in brutes if str(b).strip()]
        if len(brutes) > 1 and nom not in LISTES_DES_SERVICES:
            raise ParametreInvalide(f"Paramètre « {nom} » donné plusieurs fois.")
        if brutes:
            donnees[nom] = brutes if nom in LISTES_DES_SERVICES else brutes[0]
    try:
        return modele.model_validate(donnees)
    except ValidationError as exc:
        erreur = exc.errors()[0]
        if erreur["type"] == "extra_forbidden":
            possibles = ", ".join(modele.model_fields)
            raise ParametreInvalide(
                f"Paramètre inconnu : « {erreur['loc'][0]} » (possibles : "
                f"{possibles} ; voir /api/v1/openapi.json)."
            ) from None
        cause = (erreur.get("ctx") or {}).get("error")
        raise ParametreInvalide(
            str(cause) if cause else f"Paramètre « {erreur['loc'][0]} » invalide."
        ) from None
