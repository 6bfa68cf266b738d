"""The fiche action format: one YAML file per action, validated strictly.

Field names and vocabularies follow the national data·inclusion service
schema (v1); what insertion actions need on top of it (capacity, sessions,
entry mode, prescription rules, financeurs, lieux, catégorie) is added here.
"""

import re
from datetime import date
from typing import Annotated, Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from catalogue import heure
from catalogue.vocabulaires import vocabulaire

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
RE_CODE_POSTAL = re.compile(r"^\d{5}$")
RE_CODE_INSEE = re.compile(r"^(\d{2}|2A|2B)\d{3}$")
# Characters that mean something in a mailto: URI (?bcc=, &cc=, #, %) have no
# place in a real address, even where the e-mail grammar allows them.
RE_HORS_COURRIEL = re.compile(r"[?&=#%/,;:<>\\\s\"']")
# Bounds every number: a huge figure would overflow the database and the page.
PLACES_MAX = 100_000


def _dans(nom: str):
    """Validator: the value must be a slug of vocabulary ``nom``."""

    def check(valeur: str) -> str:
        voc = vocabulaire(nom)
        if valeur not in voc:
            import difflib

            proches = difflib.get_close_matches(valeur, list(voc), n=3)
            # The file is named for whoever edits YAML; a form lists the
            # values itself.
            aide = (
                f" ; vouliez-vous dire : {', '.join(proches)} ?"
                if proches
                else f" (valeurs possibles : data/vocabulaires/{nom}.yaml)"
            )
            raise ValueError(f"valeur inconnue « {valeur} » pour {nom}{aide}")
        return valeur

    return AfterValidator(check)


def _format(regex: re.Pattern, quoi: str):
    def check(valeur: str) -> str:
        if not regex.match(valeur):
            raise ValueError(f"{quoi} invalide : « {valeur} »")
        return valeur

    return AfterValidator(check)


def _courriel(valeur: str) -> str:
    """An address email-validator accepts (as EmailStr), safe in a mailto link."""
    try:
        validate_email(valeur, check_deliverability=False)
    except EmailNotValidError:
        valide = False
    else:
        valide = not RE_HORS_COURRIEL.search(valeur)
    if not valide:
        raise ValueError(f"adresse électronique invalide : « {valeur} »")
    return valeur


_URL = TypeAdapter(HttpUrl)


def _site_web(valeur: str) -> str:
    """An http(s) URL as pydantic's HttpUrl checks it, kept as the author wrote it."""
    try:
        _URL.validate_python(valeur)
    except ValidationError:
        valide = False
    else:
        valide = valeur.lower().startswith(("http://", "https://"))
    if not valide:
        raise ValueError(
            f"adresse web invalide : « {valeur} » (elle commence par https:// ou "
            "http://)"
        )
    return valeur


def _telephone(valeur: str) -> str:
    """A number phonenumbers knows as valid (French unless +xx is given)."""
    try:
        numero = phonenumbers.parse(valeur, "FR")
        valide = phonenumbers.is_valid_number(numero)
    except phonenumbers.NumberParseException:
        valide = False
    if not valide or not re.fullmatch(r"[+\d .()-]+", valeur):
        raise ValueError(f"numéro de téléphone invalide : « {valeur} »")
    return valeur


def _sans_doublon(valeurs: list) -> list:
    if len(set(valeurs)) != len(valeurs):
        raise ValueError("une même valeur apparaît deux fois")
    return valeurs


def _entier_si_rond(nombre: float) -> float | int:
    return int(nombre) if nombre.is_integer() else nombre


def Voc(nom: str):  # noqa: N802 - reads like a type in the model below
    return Annotated[str, _dans(nom)]


def Vocs(nom: str, min_length: int = 0):  # noqa: N802
    return Annotated[
        list[Voc(nom)], Field(min_length=min_length), AfterValidator(_sans_doublon)
    ]


CodePostal = Annotated[str, _format(RE_CODE_POSTAL, "code postal")]
CodeInsee = Annotated[str, _format(RE_CODE_INSEE, "code INSEE de commune")]
Courriel = Annotated[str, AfterValidator(_courriel)]
Telephone = Annotated[str, AfterValidator(_telephone)]
SiteWeb = Annotated[str, Field(max_length=2000), AfterValidator(_site_web)]
Places = Annotated[int, Field(ge=0, le=PLACES_MAX)]
Slug = Annotated[str, Field(pattern=SLUG, min_length=3, max_length=100)]
Texte = Annotated[str, Field(min_length=1)]
# Capacities that count people or places: a fiche's places left never
# exceed them.
UNITES_EN_PLACES = ("places", "beneficiaires", "mesures")
# Capacities that bound no headcount: 11.2 full-time posts are shared by
# part-timers, hours by as many people as come, a pair of advisers follows
# several people. The others (vehicles, housing, diagnoses…) are places.
UNITES_SANS_PLAFOND = ("etp", "heures", "binomes")


def _pas_a_venir(jour: date) -> date:
    # A day of update to come wins over every live change until it comes
    # (places typed on the board undone at each start): a typo, refused.
    if jour > heure.aujourd_hui():
        raise ValueError(
            f"le {jour:%d/%m/%Y} n'est pas encore arrivé : une mise à jour se date "
            "du jour où elle est faite (aujourd'hui au plus tard)"
        )
    return jour


# The day something was last updated: never in the future.
JourPasse = Annotated[date, AfterValidator(_pas_a_venir)]


class Strict(BaseModel):
    # allow_inf_nan: ".inf" and ".nan" are YAML numbers, never real figures.
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
    )


class Adresse(Strict):
    adresse: str | None = None
    complement_adresse: str | None = None
    code_postal: CodePostal | None = None
    commune: str | None = None
    code_insee: CodeInsee | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class Structure(Adresse):
    """A porteur or prestataire: the organisation that runs actions."""

    id: Slug
    nom: Annotated[str, Field(min_length=3, max_length=150)]
    sigle: str | None = None
    description: str | None = None
    telephone: Telephone | None = None
    courriel: Courriel | None = None
    site_web: SiteWeb | None = None
    horaires_accueil: str | None = None
    siret: Annotated[str, Field(pattern=r"^\d{14}$")] | None = None
    date_maj: JourPasse
    source: "Source | None" = None


class Lieu(Adresse):
    """Where the action takes place (the porteur's address when none is given)."""

    nom: str | None = None
    code_insee: CodeInsee
    itinerant: bool = False


class Prestataire(Strict):
    structure: Slug
    places: Places | None = None


class Capacite(Strict):
    """How many people the action takes, in the unit the département counts."""

    # Decimal for full-time equivalents: an ACI counts 11.2 ETP.
    nombre: (
        Annotated[
            float,
            Field(ge=0, le=PLACES_MAX),
            AfterValidator(_entier_si_rond),
            PlainSerializer(lambda n: n),  # 20 stays 20, not 20.0
        ]
        | None
    ) = None
    unite: Voc("unites") | None = None
    periode: Voc("periodes") | None = None
    inconnue: bool = False
    illimitee: bool = False
    precisions: str | None = None

    @model_validator(mode="after")
    def nombre_ou_raison(self):
        if self.nombre is None and not (self.inconnue or self.illimitee):
            raise ValueError(
                "indiquez « nombre », ou « inconnue: true », ou « illimitee: true »"
            )
        if self.nombre is not None and self.unite is None:
            raise ValueError("« unite » est obligatoire quand « nombre » est donné")
        return self


def session_en_double(debuts: list) -> int | None:
    """The index of the first session starting the same day as an earlier one."""
    vus = set()
    for i, debut in enumerate(debuts):
        if debut is not None and debut in vus:
            return i
        vus.add(debut)
    return None


def message_session_en_double(debut: date) -> str:
    return (
        f"deux sessions commencent le {debut:%d/%m/%Y} : une seule session par "
        "date de début (réunissez leurs places)"
    )


class Session(Strict):
    debut: date
    fin: date | None = None
    places: Places | None = None
    places_restantes: Places | None = None
    lieu: str | None = None

    # On the field, not the model: said beside « fin », and along with the
    # other fields' errors (a model check waits until they are all valid).
    @field_validator("fin")
    @classmethod
    def dates_dans_l_ordre(cls, fin: date | None, info: ValidationInfo):
        debut = info.data.get("debut")
        if fin and debut and fin < debut:
            raise ValueError("la session finit avant de commencer")
        return fin


class Duree(Strict):
    texte: Texte
    mois_min: Annotated[float, Field(ge=0, le=600)] | None = None
    mois_max: Annotated[float, Field(ge=0, le=600)] | None = None

    @field_validator("mois_max")
    @classmethod
    def dans_l_ordre(cls, mois_max: float | None, info: ValidationInfo):
        mois_min = info.data.get("mois_min")
        if mois_max is not None and mois_min is not None and mois_max < mois_min:
            raise ValueError(f"moins que mois_min ({mois_min:g}) : les deux inversés ?")
        return mois_max


class Source(Strict):
    """Where the facts come from (seeded fiches cite the source document)."""

    document: str
    lignes: str | None = None
    note: str | None = None


class Fiche(Strict):
    # --- Identité (data·inclusion : nom, description, date_maj) ---
    id: Slug
    nom: Annotated[str, Field(min_length=3, max_length=150)]
    resume: Annotated[str, Field(min_length=10, max_length=280)]
    description: Annotated[str, Field(min_length=5, max_length=10000)]
    categorie: Voc("categories")
    thematiques: Vocs("thematiques", min_length=1)
    type: Voc("types")
    statut: Voc("statuts") = "active"
    date_maj: JourPasse

    # --- Pour qui (publics, conditions d'accès) ---
    publics: Vocs("publics", min_length=1)
    publics_precisions: str | None = None
    conditions_acces: str | None = None
    documents: list[Texte] = []

    # --- Qui et où (structure, lieux, zone d'éligibilité en codes INSEE) ---
    structure: Slug
    prestataires: list[Prestataire] = []
    lieux: list[Lieu] = []
    modes_accueil: Vocs("modes_accueil", min_length=1) = ["en-presentiel"]
    zone_eligibilite: Annotated[list[str], Field(min_length=1)]
    telephone: Telephone | None = None
    courriel: Courriel | None = None
    site_web: SiteWeb | None = None

    # --- Quand et combien de temps ---
    horaires_accueil: str | None = None
    duree: Duree | None = None
    volume_horaire_hebdomadaire: Annotated[float, Field(ge=0, le=168)] | None = None
    nombre_semaines: Annotated[int, Field(ge=1, le=520)] | None = None
    mode_entree: Voc("modes_entree") = "entrees-sorties-permanentes"
    sessions: list[Session] = []

    @field_validator("sessions")
    @classmethod
    def une_session_par_date(cls, sessions: list[Session]) -> list[Session]:
        # Places, requests and waiting lists are kept by start date: two
        # sessions of one day would share (and double) one count.
        if (double := session_en_double([s.debut for s in sessions])) is not None:
            raise ValueError(message_session_en_double(sessions[double].debut))
        return sessions

    # --- Places (extension) : capacité et places restantes ---
    capacite: Capacite
    places_restantes: Places | None = None
    places_maj_le: JourPasse | None = None

    # --- Comment y entrer (mobilisation, prescription) ---
    mobilisable_par: Vocs("mobilisable_par", min_length=1)
    modes_mobilisation: Vocs("modes_mobilisation") = []
    mobilisation_precisions: str | None = None
    prescripteurs: Vocs("prescripteurs") = []
    validation: Voc("validations") = "aucune"
    # Who publishes the prestataire's own changes of this fiche (horaires,
    # sessions…): the département once checked, or the prestataire at once.
    publication_modifications: Voc("publication_modifications") = "departement"

    # --- Coût et financement ---
    frais: Voc("frais") = "gratuit"
    frais_precisions: str | None = None
    financeurs: Vocs("financeurs") = []

    source: Source | None = None

    @model_validator(mode="after")
    def coherence(self):
        if "tous-publics" in self.publics and len(self.publics) > 1:
            raise ValueError("« tous-publics » ne se combine pas avec d'autres publics")
        nombre = self.capacite.nombre
        if (
            self.places_restantes is not None
            and nombre is not None
            and self.capacite.unite in UNITES_EN_PLACES
            and self.places_restantes > nombre
        ):
            raise ValueError(
                f"places_restantes ({self.places_restantes}) dépasse la capacité "
                f"({nombre})"
            )
        return self

    # Convenience for views and search: these never change the stored data.
    @property
    def auto_prescription(self) -> bool:
        return "usagers" in self.mobilisable_par

    @property
    def categories_thematiques(self) -> list[str]:
        return sorted({t.split("--", 1)[0] for t in self.thematiques})

    def prochaine_session(self, aujourd_hui: date | None = None) -> Session | None:
        jour = aujourd_hui or heure.aujourd_hui()
        a_venir = [s for s in self.sessions if s.debut >= jour]
        return min(a_venir, key=lambda s: s.debut) if a_venir else None


Structure.model_rebuild()


def champs_connus(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def as_plain(value: Any) -> Any:
    """A fiche as plain JSON-able data (dates as ISO strings)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value
