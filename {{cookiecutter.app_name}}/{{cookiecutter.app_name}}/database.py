"""PostgreSQL through SQLAlchemy 2 and Flask-SQLAlchemy, migrated by Flask-Migrate.

The settings come from the environment: DATABASE_URL, or its parts
(DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER), and the password
from the file DATABASE_PASSWORD_FILE names (a compose or Kubernetes secret),
which wins over one in the URL or in DATABASE_PASSWORD.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import URL, MetaData, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase


class Model(DeclarativeBase):
    """The base of every model: its metadata is what Alembic compares."""

    # Constraints get predictable names, so a migration can drop them by name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Model)
# The migrations live in the package, so the production image carries them.
# Batch mode rewrites whole tables, a workaround SQLite needs; PostgreSQL alters.
migrate = Migrate(
    directory=str(Path(__file__).with_name("migrations")), render_as_batch=False
)


def database_url(environ: Mapping[str, str]) -> URL:
    """The URL to connect with, from DATABASE_URL or its parts, and the password."""
    if text := environ.get("DATABASE_URL"):
        try:
            url = make_url(text)
        except ArgumentError:
            raise RuntimeError(
                "DATABASE_URL is not a URL: expected postgresql://USER@HOST:5432/NAME"
            ) from None
    elif host := environ.get("DATABASE_HOST"):
        url = URL.create(
            "postgresql",
            username=environ.get("DATABASE_USER"),
            host=host,
            port=int(environ.get("DATABASE_PORT", "5432")),
            database=environ.get("DATABASE_NAME"),
        )
    else:
        raise RuntimeError(
            "No database: set DATABASE_URL (postgresql://USER@HOST:5432/NAME) or "
            "DATABASE_HOST, DATABASE_NAME and DATABASE_USER, and the password in "
            "the file DATABASE_PASSWORD_FILE names."
        )
    # postgres:// is what Heroku-style hosts hand out; psycopg 3 is the driver.
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise RuntimeError(
            f"DATABASE_URL must be a postgresql:// URL, not {url.drivername}://"
        )
    url = url.set(drivername="postgresql+psycopg")

    if password_file := environ.get("DATABASE_PASSWORD_FILE"):
        try:
            password = Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise RuntimeError(
                f"DATABASE_PASSWORD_FILE={password_file} cannot be read: "
                f"{error.strerror}"
            ) from error
        url = url.set(password=password)
    elif password := environ.get("DATABASE_PASSWORD"):
        url = url.set(password=password)
    return url


def engine_options(environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        # A connection the server dropped (restart, failover) is replaced
        # before a request uses it, instead of failing that request.
        "pool_pre_ping": True,
        # Each gunicorn worker has its own pool: one connection per thread, so
        # the database sees workers x threads connections at most.
        "pool_size": int(environ.get("GUNICORN_THREADS", "4")),
        "max_overflow": 0,
        # An unreachable server fails in seconds, so /ready can say so in time:
        # connecting, and any packet the server never acknowledges.
        "connect_args": {"connect_timeout": 3, "tcp_user_timeout": 3000},
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_url(os.environ))
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(os.environ))
    db.init_app(app)
    migrate.init_app(app, db)
