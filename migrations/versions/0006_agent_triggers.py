"""agent triggers: webhook ingress tokens and signing secrets, cron schedules' next fire times

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agentflow.kit.migrations import app_role_name

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app_role = app_role_name()
    op.create_table(
        "agent_triggers",
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("secret_envelope", sa.Text(), nullable=True),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("missed_fires", sa.String(length=20), nullable=True),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('webhook', 'schedule')", name=op.f("ck_agent_triggers_kind_valid")),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_triggers_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_agent_triggers_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_triggers")),
        sa.UniqueConstraint("agent_id", "kind", name="uq_agent_triggers_agent_kind"),
        sa.UniqueConstraint("token_hash", name="uq_agent_triggers_token_hash"),
    )
    op.create_index(op.f("ix_agent_triggers_org_id"), "agent_triggers", ["org_id"], unique=False)
    op.create_index(
        "ix_agent_triggers_next_fire_at",
        "agent_triggers",
        ["next_fire_at"],
        postgresql_where=sa.text("next_fire_at IS NOT NULL"),
    )
    op.execute("ALTER TABLE agent_triggers ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE agent_triggers FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON agent_triggers "
        "USING (org_id = af_current_org()) WITH CHECK (org_id = af_current_org())"
    )
    # A webhook request names its agent only by the URL token: the row whose token hash the
    # ingress put in the transaction context is readable, and only that one (as for API keys).
    op.execute(
        "CREATE POLICY lookup_by_secret ON agent_triggers FOR SELECT "
        "USING (token_hash = af_setting('app.webhook_token_hash'))"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON agent_triggers TO {app_role}")
    # Key rotation (kit/vault/rotation.py) rewraps the signing secrets as the schema owner.
    op.execute("CREATE POLICY owner_key_rotation ON agent_triggers TO CURRENT_USER USING (true) WITH CHECK (true)")
    # Beat's scheduler finds due schedules across orgs: ids only, then acts inside each org.
    op.execute(
        """
        CREATE FUNCTION af_due_schedules(at timestamptz, max_rows integer)
        RETURNS TABLE (id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT t.id, t.org_id FROM public.agent_triggers t
             WHERE t.kind = 'schedule' AND t.next_fire_at <= at
             ORDER BY t.next_fire_at LIMIT max_rows
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION af_due_schedules(timestamptz, integer) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION af_due_schedules(timestamptz, integer) TO {app_role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION af_due_schedules(timestamptz, integer)")
    op.drop_index(
        "ix_agent_triggers_next_fire_at",
        table_name="agent_triggers",
        postgresql_where=sa.text("next_fire_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_agent_triggers_org_id"), table_name="agent_triggers")
    op.drop_table("agent_triggers")
