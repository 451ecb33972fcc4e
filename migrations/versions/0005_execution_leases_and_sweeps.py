"""execution leases (heartbeats), wake-ups for parked runs and approval timeouts, queued runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agentflow.kit.migrations import app_role_name

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app_role = app_role_name()
    op.add_column("executions", sa.Column("lease_owner", sa.String(length=255), nullable=True))
    op.add_column("executions", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("executions", sa.Column("wake_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("executions", sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_executions_wake_at",
        "executions",
        ["wake_at"],
        postgresql_where=sa.text("status IN ('parked', 'waiting_approval')"),
    )
    op.create_index(
        "ix_executions_agent_active",
        "executions",
        ["agent_id"],
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.create_index(
        "ix_executions_agent_queued",
        "executions",
        ["agent_id", "created_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    # The sweeper looks across all orgs for executions that need it, but the app role sees one
    # org at a time. This definer function (run as the schema owner, which gets a read-only
    # policy of its own under FORCE ROW LEVEL SECURITY) hands out ids and statuses only; the
    # sweeper then acts on each row inside that row's own org context.
    op.execute("CREATE POLICY sweep_read ON executions FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(
        """
        CREATE FUNCTION af_executions_needing_sweep(stale_before timestamptz, pending_before timestamptz,
                                                    max_rows integer)
        RETURNS TABLE (id uuid, org_id uuid, agent_id uuid, status varchar)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            (SELECT e.id, e.org_id, e.agent_id, e.status FROM public.executions e
              WHERE e.status IN ('parked', 'waiting_approval') AND e.wake_at <= now()
              ORDER BY e.wake_at LIMIT max_rows)
            UNION ALL
            (SELECT e.id, e.org_id, e.agent_id, e.status FROM public.executions e
              WHERE e.status = 'running' AND COALESCE(e.heartbeat_at, e.started_at, e.created_at) < stale_before
              LIMIT max_rows)
            UNION ALL
            (SELECT e.id, e.org_id, e.agent_id, e.status FROM public.executions e
              WHERE e.status = 'pending' AND COALESCE(e.enqueued_at, e.created_at) < pending_before
              LIMIT max_rows)
            UNION ALL
            (SELECT DISTINCT ON (e.agent_id) e.id, e.org_id, e.agent_id, e.status FROM public.executions e
              WHERE e.status = 'queued' ORDER BY e.agent_id, e.created_at LIMIT max_rows)
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION af_executions_needing_sweep(timestamptz, timestamptz, integer) FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION af_executions_needing_sweep(timestamptz, timestamptz, integer) TO {app_role}"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION af_executions_needing_sweep(timestamptz, timestamptz, integer)")
    op.execute("DROP POLICY sweep_read ON executions")
    op.drop_index("ix_executions_agent_queued", table_name="executions", postgresql_where=sa.text("status = 'queued'"))
    op.drop_index(
        "ix_executions_agent_active",
        table_name="executions",
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.drop_index(
        "ix_executions_wake_at",
        table_name="executions",
        postgresql_where=sa.text("status IN ('parked', 'waiting_approval')"),
    )
    op.drop_column("executions", "enqueued_at")
    op.drop_column("executions", "wake_at")
    op.drop_column("executions", "heartbeat_at")
    op.drop_column("executions", "lease_owner")
