"""The migrations build exactly the tables the models describe, one chain."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import catalogue.places  # noqa: F401 - registers the tables
import catalogue.revisions  # noqa: F401
import prescription.modeles  # noqa: F401
import prescription.pilotage  # noqa: F401
import prescription.structures  # noqa: F401
from catalogue import stockage


def test_une_seule_tete_de_migration():
    script = ScriptDirectory.from_config(stockage.config_alembic("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_les_migrations_donnent_les_tables_des_modeles(base_de_donnees):
    engine = create_engine(base_de_donnees())
    with engine.connect() as cnx:
        ecarts = compare_metadata(MigrationContext.configure(cnx), SQLModel.metadata)
    engine.dispose()
    assert ecarts == []
