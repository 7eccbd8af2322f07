"""An example resource end to end: a model, its migration, and a JSON API.

Copy this module for a resource of your own, then `make migration` (README.md).
"""

from typing import Any

from flask import Blueprint, abort, request
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from .database import db

NAME_MAX_LENGTH = 200

bp = Blueprint("items", __name__)


class Item(db.Model):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@bp.post("/items")
def create_item() -> tuple[dict[str, Any], int]:
    payload = request.get_json(silent=True)
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not name.strip():
        abort(400, description='Send JSON {"name": "..."}, the name not empty.')
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        abort(400, description=f"name is longer than {NAME_MAX_LENGTH} characters.")
    item = Item(name=name)
    db.session.add(item)
    db.session.commit()
    return item.to_dict(), 201


@bp.get("/items")
def list_items() -> dict[str, list[dict[str, Any]]]:
    items = db.session.scalars(select(Item).order_by(Item.id))
    return {"items": [item.to_dict() for item in items]}
