"""Prescription tables: people and rights, requests, their logs, the outboxes.

Beneficiaries have no account: their row keeps only what the prestataire
needs to reach them and what the département's reporting counts.
"""

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

# Kinds of professional structures.
PRESTATAIRE = "prestataire"
SERVICE_PRESCRIPTEUR = "service-prescripteur"
DEPARTEMENT = "departement"
TYPES_STRUCTURE = (PRESTATAIRE, SERVICE_PRESCRIPTEUR, DEPARTEMENT)

# Roles a professional holds in one structure.
REFERENT = "referent"
PRESTATAIRE_MEMBRE = "prestataire_membre"
PRESTATAIRE_ADMIN = "prestataire_admin"
DEPARTEMENT_ADMIN = "departement_admin"
ROLES = {
    REFERENT: "Référent",
    PRESTATAIRE_MEMBRE: "Membre d'une structure prestataire",
    PRESTATAIRE_ADMIN: "Administrateur d'une structure prestataire",
    DEPARTEMENT_ADMIN: "Administrateur du département",
}

# Who made the request: the figure the département reports on.
ORIGINE_REFERENT = "referent"
ORIGINE_PRESTATAIRE = "prestataire"
ORIGINE_AUTO = "auto-prescription"
ORIGINES = {
    ORIGINE_REFERENT: "Un référent",
    ORIGINE_PRESTATAIRE: "Le prestataire (personne venue d'elle-même)",
    ORIGINE_AUTO: "Inscription par la personne elle-même",
}


# How a prestataire's members hear of requests: each one, or one daily digest.
AVIS_CHAQUE = "chaque"
AVIS_RESUME = "resume"
AVIS = {
    AVIS_CHAQUE: "Un e-mail à chaque nouvelle demande, annulation ou expiration",
    AVIS_RESUME: "Un seul e-mail par jour, qui résume tout",
}


class StructurePro(SQLModel, table=True):
    """A prestataire (linked to a catalogue structure) or a prescribing service."""

    __tablename__ = "structures_pro"

    id: int | None = Field(default=None, primary_key=True)
    nom: str = Field(max_length=200)
    type: str = Field(max_length=30)
    # The catalogue structure (slug) a prestataire runs its fiches under.
    structure_catalogue: str | None = Field(default=None, index=True, max_length=100)
    # Kind of prescriber (vocabulary "prescripteurs") for a prescribing service.
    type_prescripteur: str | None = Field(default=None, max_length=60)
    siret: str | None = Field(default=None, max_length=14)
    courriel: str | None = Field(default=None, max_length=254)
    avis: str = Field(
        default=AVIS_CHAQUE,
        max_length=10,
        sa_column_kwargs={"server_default": AVIS_CHAQUE},
    )


class Utilisateur(SQLModel, table=True):
    """A professional, known by their identity provider's (idp, sub)."""

    __tablename__ = "utilisateurs"
    __table_args__ = (UniqueConstraint("idp", "sub"),)

    id: int | None = Field(default=None, primary_key=True)
    idp: str = Field(max_length=60)
    sub: str = Field(max_length=255)
    courriel: str = Field(max_length=254)
    prenom: str = Field(default="", max_length=100)
    nom: str = Field(default="", max_length=100)
    siret: str | None = Field(default=None, max_length=14)
    cree_le: datetime


class SessionPro(SQLModel, table=True):
    """One professional logged in on one device, until logout or expiry.

    The cookie carries a random token; only its SHA-256 is stored, so the
    table alone opens no session. Deleting the row logs the device out.
    """

    __tablename__ = "sessions_pro"

    empreinte: str = Field(primary_key=True, max_length=64)
    utilisateur_id: int = Field(foreign_key="utilisateurs.id", index=True)
    cree_le: datetime
    expire_le: datetime = Field(index=True)


class Adhesion(SQLModel, table=True):
    __tablename__ = "adhesions"
    __table_args__ = (UniqueConstraint("utilisateur_id", "structure_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    utilisateur_id: int = Field(foreign_key="utilisateurs.id", index=True)
    structure_id: int = Field(foreign_key="structures_pro.id", index=True)
    role: str = Field(max_length=30)


class Beneficiaire(SQLModel, table=True):
    """The person: how to reach them, and the few figures reporting needs."""

    __tablename__ = "beneficiaires"

    id: int | None = Field(default=None, primary_key=True)
    prenom: str = Field(max_length=100)
    nom: str = Field(max_length=100)
    telephone: str | None = Field(default=None, max_length=20)
    courriel: str | None = Field(default=None, max_length=254)
    # Indexed: the pilotage page counts by the person's territory.
    commune_code: str | None = Field(default=None, index=True, max_length=5)
    commune_nom: str | None = Field(default=None, max_length=100)
    public: str | None = Field(default=None, max_length=60)
    sexe: str = Field(default="non-renseigne", max_length=20)
    tranche_age: str = Field(default="non-renseigne", max_length=20)
    # Set when identity and contact were wiped (retention period or erasure).
    anonymise_le: datetime | None = None


class Prescription(SQLModel, table=True):
    __tablename__ = "prescriptions"

    id: int | None = Field(default=None, primary_key=True)
    fiche_id: str = Field(index=True, max_length=100)
    session: str = Field(default="", max_length=10)
    # The catalogue structure running the fiche, copied for permission checks.
    structure_catalogue: str = Field(index=True, max_length=100)
    # Indexed: one commune's requests are found from its people.
    beneficiaire_id: int = Field(foreign_key="beneficiaires.id", index=True)
    origine: str = Field(max_length=30)
    statut: str = Field(index=True, max_length=30)
    motif: str = Field(default="", max_length=2000)
    prescripteur_id: int | None = Field(default=None, foreign_key="utilisateurs.id")
    structure_prescriptrice_id: int | None = Field(
        default=None, foreign_key="structures_pro.id"
    )
    # True while this request holds one of the action's places.
    place_tenue: bool = False
    hors_zone: bool = False
    motif_refus: str | None = Field(default=None, max_length=40)
    type_sortie: str | None = Field(default=None, max_length=40)
    # Indexed: every pilotage figure is read for a period.
    cree_le: datetime = Field(index=True)
    maj_le: datetime
    relance_le: datetime | None = None
    # The form's own random token: the same form sent twice (a double tap,
    # two tabs, a slow network) records one request, never two.
    jeton_envoi: str | None = Field(
        default=None, max_length=43, index=True, unique=True
    )


class Transition(SQLModel, table=True):
    """Every change of status: who, when, from, to, why."""

    __tablename__ = "prescriptions_transitions"

    id: int | None = Field(default=None, primary_key=True)
    prescription_id: int = Field(foreign_key="prescriptions.id", index=True)
    de: str | None = Field(default=None, max_length=30)
    vers: str = Field(max_length=30)
    action: str = Field(max_length=30)
    par: str = Field(max_length=200)
    le: datetime
    pourquoi: str = Field(default="", max_length=500)
    # The prestataire's words to the person with this step (sent with the
    # news, shown on her page): not the reason, which ``pourquoi`` holds.
    message: str = Field(default="", max_length=500)
    # The day it happened (entry, exit) or starts (acceptance), as the
    # prestataire said: may be earlier than ``le``, the day it was written.
    effet_le: date | None = None


class Audit(SQLModel, table=True):
    """Who looked at or changed a prescription (personal data)."""

    __tablename__ = "prescriptions_audit"

    id: int | None = Field(default=None, primary_key=True)
    prescription_id: int = Field(foreign_key="prescriptions.id", index=True)
    qui: str = Field(max_length=200)
    quoi: str = Field(max_length=60)
    le: datetime


class Notification(SQLModel, table=True):
    """Outbox of messages: kept until sent, retried when the sender fails."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    canal: str = Field(max_length=10)  # "courriel" or "sms"
    destinataire: str = Field(max_length=254)
    sujet: str = Field(max_length=200)
    corps: str = Field(max_length=4000)
    cree_le: datetime
    envoye_le: datetime | None = Field(default=None, index=True)
    essais: int = 0
    # A worker sending it holds it until then: no message sent twice.
    reserve_jusqu_a: datetime | None = None
    derniere_erreur: str | None = Field(default=None, max_length=500)
    # The request a message is about, when it names its person (the
    # référent's « Awa D. »): wiped with her (RGPD anonymisation).
    prescription_id: int | None = Field(default=None, index=True)


class AvisResume(SQLModel, table=True):
    """A line of tomorrow's digest for one member of a prestataire."""

    __tablename__ = "avis_resume"

    id: int | None = Field(default=None, primary_key=True)
    destinataire: str = Field(max_length=254)
    ligne: str = Field(max_length=300)
    lien: str = Field(max_length=500)
    cree_le: datetime
    resume_le: datetime | None = Field(default=None, index=True)


class LienSigne(SQLModel, table=True):
    """A signed link's server side: lets us revoke it before it expires."""

    __tablename__ = "liens_signes"

    id: str = Field(primary_key=True, max_length=64)
    objet: str = Field(max_length=30)  # "prescription" or "places"
    cible: str = Field(max_length=100)
    cree_le: datetime
    expire_le: datetime
    revoque_le: datetime | None = None


class CompteurLimite(SQLModel, table=True):
    """Rate-limit counters shared by every worker (fixed windows)."""

    __tablename__ = "limites"

    cle: str = Field(primary_key=True, max_length=255)
    compte: int = 0
    expire_a: float = 0.0


class ResultatHistorique(SQLModel, table=True):
    """Last years' published results of an action, loaded from a CSV.

    One figure per row: (year, structure, fiche or "" for the whole
    structure, indicator, value) -> count. Already-published aggregates,
    shown as given (see prescription/pilotage.py).
    """

    __tablename__ = "pilotage_historique"
    __table_args__ = (
        UniqueConstraint("annee", "structure", "fiche_id", "indicateur", "valeur"),
    )

    id: int | None = Field(default=None, primary_key=True)
    annee: int = Field(index=True)
    structure: str = Field(index=True, max_length=100)
    fiche_id: str = Field(default="", max_length=100)
    indicateur: str = Field(max_length=30)
    valeur: str = Field(default="", max_length=60)
    nombre: int
    importe_le: datetime


# The key of a summary row (see ComptePilotage).
COLONNES_COMPTE = (
    "mois",
    "fiche_id",
    "session",
    "structure",
    "territoire",
    "dimension",
    "valeur",
    "sexe",
)


class ComptePilotage(SQLModel, table=True):
    """Counts of requests kept current in the same transaction as each change.

    One row per (creation month, action, session, territory, dimension,
    value, sex), plus the same summed over a structure's actions
    (``fiche_id`` "*") and over every action (``fiche_id`` and ``structure``
    "*"): the pilotage page sums these few rows instead of counting every
    request. ``territoire``: "*" (everybody), or where the person lives: the
    EPCI and the département of their commune (each request counts under
    "*" and both). ``dimension``: origine, etape (the status), refus,
    sortie, age, delai (value: a bucket of the time to the first answer;
    ``somme`` its seconds).
    """

    __tablename__ = "pilotage_comptes"
    __table_args__ = (
        UniqueConstraint(*COLONNES_COMPTE, name="uq_pilotage_comptes"),
        # The page reads the "*" rows (all actions, or one structure's), or
        # the rows of the chosen actions, for one territory; places taken
        # read one dimension.
        Index(
            "ix_pilotage_comptes_lecture", "fiche_id", "territoire", "structure", "mois"
        ),
        Index("ix_pilotage_comptes_dimension", "territoire", "dimension", "mois"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mois: str = Field(max_length=7)
    fiche_id: str = Field(max_length=100)
    session: str = Field(default="", max_length=10)
    structure: str = Field(max_length=100)
    territoire: str = Field(default="*", max_length=10)
    dimension: str = Field(max_length=10)
    valeur: str = Field(default="", max_length=40)
    sexe: str = Field(default="", max_length=20)
    nombre: int = 0
    somme: float = 0.0
