from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from {{ cookiecutter.app_name }}.database import db


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_the_head_migration_creates_every_model_table(app, database) -> None:
    with app.app_context():
        assert table_names() == set(db.metadata.tables)


def test_migrations_go_down_to_base_and_up_again(app, database) -> None:
    with app.app_context():
        downgrade(revision="base")
        assert table_names() == set()
        upgrade()
        assert table_names() == set(db.metadata.tables)


def test_the_migrations_match_the_models(app, database) -> None:
    # What `make migration` would write now: nothing, or a migration is missing.
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []
