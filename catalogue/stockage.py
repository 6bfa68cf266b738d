"""The database: the source of truth for everything that changes.

SQLite in ``instance/`` by default, PostgreSQL in production; the schema is
made and changed only by the Alembic migrations of ``migrations/``.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


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
