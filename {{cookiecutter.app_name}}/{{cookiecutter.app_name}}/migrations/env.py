"""How Alembic connects: through the app's own engine, against its models' metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import text

from {{ cookiecutter.app_name }}.database import db

# Any key; the same number in every process that migrates this database.
MIGRATION_LOCK = 20_261_121

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")


def skip_empty_autogenerate(context_, revision, directives) -> None:
    """`flask db migrate` writes no file when the models did not change."""
    if getattr(context_.config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            log.info("The models match the database: no migration written.")


def run_migrations_offline() -> None:
    """`flask db upgrade --sql`: print the SQL instead of running it."""
    url = db.engine.url.render_as_string(hide_password=True)
    context.configure(url=url, target_metadata=db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            process_revision_directives=skip_empty_autogenerate,
            **current_app.extensions["migrate"].configure_args,
        )
        # PostgreSQL changes its schema in transactions: every pending migration
        # runs in this one, so a failing migration leaves the schema as it was.
        with context.begin_transaction():
            # Two processes migrating at once (two pods' init containers, say)
            # take turns: the second finds the work done. Released at commit.
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": MIGRATION_LOCK})
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
