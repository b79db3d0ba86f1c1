"""versions on comments (If-Match on edit and delete); idempotency keys on ideas and comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.create_unique_constraint("uq_ideas_idempotency", ["author_id", "idempotency_key"])
    with op.batch_alter_table("idea_comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            "uq_comments_idempotency", ["author_id", "idempotency_key"]
        )
    # Existing rows got version 1 from the server default; new rows get it from the model.
    with op.batch_alter_table("idea_comments", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("idea_comments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_comments_idempotency", type_="unique")
        batch_op.drop_column("idempotency_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("version")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ideas_idempotency", type_="unique")
        batch_op.drop_column("idempotency_hash")
        batch_op.drop_column("idempotency_key")
