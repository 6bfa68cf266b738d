"""Alembic environment: the models' metadata, the URL given by catalogue.stockage."""

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel, create_engine

import catalogue.places  # noqa: F401 - registers the tables
import catalogue.revisions  # noqa: F401
import prescription.modeles  # noqa: F401
import prescription.structures  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(
        config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        # SQLite alters tables by copying them: batch mode does that for us.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
