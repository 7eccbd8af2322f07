{%- if cookiecutter.database == "postgresql" -%}
import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from {{ cookiecutter.app_name }} import create_app
from {{ cookiecutter.app_name }}.database import database_url, db


def pytest_configure(config: pytest.Config) -> None:
    # No database is a broken set-up, not a reason to skip: say so and stop.
    name = database_url(os.environ).database if os.environ.get("DATABASE_URL") else None
    if not name:
        raise pytest.UsageError(
            "DATABASE_URL is not set: the tests need a PostgreSQL database of their "
            "own. `make test` starts one and sets it."
        )
    if not name.endswith("_test"):
        raise pytest.UsageError(
            f"DATABASE_URL names the database {name!r}: the tests drop and create "
            "their database, so its name must end in _test."
        )


@pytest.fixture(scope="session")
def database() -> None:
    """The test database, created anew for each run and migrated to the head."""
    url = database_url(os.environ)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        name = url.database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    app = create_app({"TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SECRET_KEY": "test"})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def empty_tables(app: Flask, database: None) -> Iterator[None]:
    """The tables at the head migration, emptied after the test."""
    yield
    with app.app_context():
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
{%- else -%}
import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.app_name }} import create_app


@pytest.fixture
def app() -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "test"})
{%- endif %}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
