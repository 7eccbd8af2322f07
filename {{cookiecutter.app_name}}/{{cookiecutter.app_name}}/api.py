"""The service's HTTP API: one blueprint, JSON in and out."""

from importlib.metadata import version

from flask import Blueprint
{%- if cookiecutter.database == "postgresql" %}, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .database import db
{%- endif %}

bp = Blueprint("api", __name__)


@bp.get("/")
def index() -> dict[str, str]:
    return {"name": __package__, "version": version(__package__)}


@bp.get("/health")
def health() -> dict[str, str]:
    """Liveness probe for the container's HEALTHCHECK and load balancers."""
    return {"status": "ok"}
{%- if cookiecutter.database == "postgresql" %}


@bp.get("/ready")
def ready() -> tuple[dict[str, str], int]:
    """Readiness probe: can this instance serve requests that need the database?

    /health never touches the database, so an orchestrator that restarts
    unhealthy containers leaves them alone while the database is away; this one
    tells it to send no traffic here until the database answers again.
    """
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        current_app.logger.warning("Not ready: the database does not answer: %s", error)
        return {"status": "unavailable", "reason": "the database does not answer"}, 503
    return {"status": "ok"}, 200
{%- endif %}
