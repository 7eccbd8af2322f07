"""The service's HTTP API: one blueprint, JSON in and out."""

from importlib.metadata import version

from flask import Blueprint

bp = Blueprint("api", __name__)


@bp.get("/")
def index() -> dict[str, str]:
    return {"name": __package__, "version": version(__package__)}


@bp.get("/health")
def health() -> dict[str, str]:
    """Liveness probe for the container's HEALTHCHECK and load balancers."""
    return {"status": "ok"}
