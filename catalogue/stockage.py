"""The database: the source of truth for everything that changes.

SQLite in ``instance/`` by default, PostgreSQL in production; the schema is
made and changed only by the Alembic migrations of ``migrations/``.
"""

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The URLs this project can open (its only PostgreSQL driver is psycopg 3).
FORMES_ACCEPTEES = (
    "sqlite:///chemin/vers/offre.sqlite3 ou "
    "postgresql+psycopg://utilisateur:motdepasse@hote/base"
)


class AdresseInvalide(ValueError):
    """A database URL this project cannot open; the message says why."""


def adresse_de_la_base(url: str) -> str:
    """The URL as SQLAlchemy must read it, or AdresseInvalide.

    PaaS hosts give ``postgres://`` or ``postgresql://``: SQLAlchemy knows
    no « postgres » and would look for psycopg2, so both mean psycopg 3."""
    try:
        lue = make_url(url)
    except (ArgumentError, ValueError):
        raise AdresseInvalide("adresse illisible") from None
    base, _, pilote = lue.drivername.partition("+")
    if base in ("postgres", "postgresql") and pilote in ("", "psycopg"):
        # Only the scheme changes: the rest stays as typed (escapes included).
        return "postgresql+psycopg" + url[url.index(":") :]
    if base == "sqlite" and pilote in ("", "pysqlite"):
        return url
    raise AdresseInvalide(f"« {lue.drivername}:// » n'est pas pris en charge")


def sans_mot_de_passe(url: str) -> str:
    """The URL to show in a message: its password replaced by •••."""
    return re.sub(r"^(.*?//)?([^:@/]*):[^@]*@", r"\1\2:•••@", url, count=1)


def _minuscules(texte):
    return texte.lower() if isinstance(texte, str) else texte


def creer_moteur(url: str) -> Engine:
    """An engine for this URL; SQLite gets WAL and waits for the write lock."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(cnx, _record):
            cur = cnx.cursor()
            # Readers never wait for the writer; several workers share the file.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's lower() folds ASCII only: « Élodie@… » and « élodie@… »
            # were two contacts (limits, duplicates), as PostgreSQL never has.
            cnx.create_function("lower", 1, _minuscules, deterministic=True)

        return engine
    return create_engine(url, pool_pre_ping=True)


def config_alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # configparser would read "%" in a password as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrer(url: str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (all of them by default)."""
    command.upgrade(config_alembic(url), revision)


def schema_a_jour(engine: Engine) -> bool:
    """True when the database carries the newest migration."""
    tete = ScriptDirectory.from_config(config_alembic("sqlite://")).get_current_head()
    with engine.connect() as cnx:
        return MigrationContext.configure(cnx).get_current_revision() == tete
