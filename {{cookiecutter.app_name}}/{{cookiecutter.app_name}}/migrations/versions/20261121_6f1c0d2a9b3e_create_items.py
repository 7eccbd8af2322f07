"""Create items, the example resource's table.

Revision ID: 6f1c0d2a9b3e
Revises:
Created: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "6f1c0d2a9b3e"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )


def downgrade() -> None:
    op.drop_table("items")
