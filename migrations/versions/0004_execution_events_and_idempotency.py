"""execution events (replay) and idempotency keys on executions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from agentflow.kit.migrations import app_role_name

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_events",
        sa.Column("execution_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column(
            "payload", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_events_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_execution_events_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_events")),
        sa.UniqueConstraint("execution_id", "seq", name="uq_execution_events_execution_seq"),
    )
    op.create_index(op.f("ix_execution_events_org_id"), "execution_events", ["org_id"], unique=False)
    op.execute("ALTER TABLE execution_events ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE execution_events FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON execution_events "
        "USING (org_id = af_current_org()) WITH CHECK (org_id = af_current_org())"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON execution_events TO {app_role_name()}")

    op.add_column("executions", sa.Column("idempotency_key", sa.String(length=255), nullable=True))
    op.add_column("executions", sa.Column("request_hash", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_executions_org_idempotency_key",
        "executions",
        ["org_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_executions_org_idempotency_key",
        table_name="executions",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_column("executions", "request_hash")
    op.drop_column("executions", "idempotency_key")
    op.drop_index(op.f("ix_execution_events_org_id"), table_name="execution_events")
    op.drop_table("execution_events")
