"""Row-level security, checked in the database itself (defense in depth behind the repositories)."""

from __future__ import annotations

import uuid

import httpx
import psycopg
import pytest
from sqlalchemy import text

from agentflow.auth.dependencies import TenantReads
from agentflow.auth.repository import enter_org
from agentflow.kit.db import Database, fetch_in_context, session_connection
from agentflow.kit.errors import Forbidden, Unauthorized
from agentflow.kit.permissions import Permission
from tests.api_fixtures import add_member, create_api_key, signup


def _tables_with_org_id(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname IN ('org_id', 'author_org_id')
          AND NOT a.attisdropped
        """
    ).fetchall()
    return sorted(r[0] for r in rows)


def test_every_table_with_an_org_column_has_rls_enabled_and_forced(stack) -> None:
    with psycopg.connect(stack.owner_url) as conn:
        tables = _tables_with_org_id(conn)
        assert len(tables) >= 20
        flags = dict(
            (name, (enabled, forced))
            for name, enabled, forced in conn.execute(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
                (tables,),
            ).fetchall()
        )
        policies = {r[0] for r in conn.execute("SELECT tablename FROM pg_policies WHERE schemaname = 'public'")}
    assert {t: flags[t] for t in tables} == {t: (True, True) for t in tables}
    assert set(tables) <= policies
    assert "organizations" in policies


def test_app_role_is_neither_superuser_nor_owner_nor_bypassrls(stack) -> None:
    with psycopg.connect(stack.app_url) as conn:
        role, superuser, bypass = conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
        ).fetchone()
    assert (superuser, bypass) == (False, False)
    assert owned == (0,)
    assert role != "postgres"


async def test_queries_without_tenant_context_see_zero_rows(client: httpx.AsyncClient, stack) -> None:
    owner = await signup(client)
    await add_member(client, owner, "viewer")
    await create_api_key(client, owner)
    with psycopg.connect(stack.owner_url) as conn:
        tables = [t for t in _tables_with_org_id(conn) if t != "agent_templates"]
        populated = {t for t in tables if conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0}
    assert {"org_memberships", "api_keys", "audit_logs", "invitations", "outbox_emails"} <= populated
    with psycopg.connect(stack.app_url, autocommit=True) as conn:
        for table in [*tables, "organizations"]:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        # Context is transaction-local: set it in one transaction, the next sees nothing again.
        with conn.transaction():
            conn.execute("SELECT set_config('app.org_id', %s, true)", (owner.org_id,))
            assert conn.execute("SELECT count(*) FROM org_memberships").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM org_memberships").fetchone() == (0,)


async def test_context_of_one_org_cannot_read_or_write_another(client: httpx.AsyncClient, stack) -> None:
    a, b = await signup(client), await signup(client)
    with psycopg.connect(stack.app_url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.org_id', %s, true)", (a.org_id,))
        orgs = [str(r[0]) for r in conn.execute("SELECT id FROM organizations")]
        assert orgs == [a.org_id]
        updated = conn.execute("UPDATE org_memberships SET role = 'viewer' WHERE org_id = %s", (b.org_id,))
        assert updated.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO teams (org_id, name) VALUES (%s, 'sneaky')", (b.org_id,))


async def test_audit_log_is_append_only_for_the_app(client: httpx.AsyncClient, stack) -> None:
    owner = await signup(client)
    with psycopg.connect(stack.app_url) as conn:
        for statement in ("UPDATE audit_logs SET action = 'x'", "DELETE FROM audit_logs", "TRUNCATE audit_logs"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():  # noqa: PT012
                conn.execute("SELECT set_config('app.org_id', %s, true)", (owner.org_id,))
                conn.execute(statement)


async def test_one_round_trip_reads_keep_their_context_to_their_own_transaction(stack) -> None:
    """`fetch_in_context` sends the context and the read as one message (kit/db.py): the context
    must reach the read, end with its transaction, and never be left on a pooled connection."""
    db = Database(stack.app_url, pool_size=1, max_overflow=0)  # one connection: every call reuses it
    org_id, user_id = uuid.uuid4(), uuid.uuid4()
    context = "SELECT current_setting('app.org_id', true), current_setting('app.user_id', true)"
    try:
        # Outside a session: one implicit transaction, on the autocommit pool's connection.
        assert await db.read_in_context(context, {}, org_id=org_id, user_id=user_id) == [(str(org_id), str(user_id))]
        async with db.autocommit_connection() as raw:
            assert await (await raw.execute(context)).fetchall() in ([("", "")], [(None, None)])
            assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        # Inside a session: the context holds for the session's later statements, until commit.
        async with db.sessionmaker() as session, session.begin():
            await fetch_in_context(await session_connection(session), "SELECT 1", {}, org_id=org_id, user_id=None)
            assert (await session.execute(text(context))).one() == (str(org_id), "")
        async with db.engine.connect() as conn:
            assert (await conn.execute(text(context))).one() in {("", ""), (None, None)}
        # Values are quoted by the driver, never spliced in.
        hostile = "x'); SELECT set_config('app.org_id', 'evil', false); --"
        assert await db.read_in_context("SELECT %(v)s", {"v": hostile}, org_id=None, user_id=None) == [(hostile,)]
        assert await db.read_in_context(context, {}, org_id=None, user_id=None) in ([("", "")], [(None, None)])
    finally:
        await db.dispose()


async def test_an_org_becomes_the_context_only_through_an_active_membership(client: httpx.AsyncClient, stack) -> None:
    """`enter_org` sends the membership check and a read in one message: the read sees the org's
    rows only if the user is an active member; otherwise the database itself shows it nothing."""
    alice, bob = await signup(client), await signup(client)
    alice_id, alice_org, bob_org = uuid.UUID(alice.user_id), uuid.UUID(alice.org_id), uuid.UUID(bob.org_id)
    audit_rows = "SELECT count(*) FROM audit_logs WHERE org_id = %(org_id)s"
    with psycopg.connect(stack.owner_url) as conn:  # the owner bypasses row-level security
        assert conn.execute("SELECT count(*) FROM audit_logs WHERE org_id = %s", (bob_org,)).fetchone()[0] > 0
    db = Database(stack.app_url, pool_size=1, max_overflow=0)
    try:
        async with db.autocommit_connection() as conn:
            role, rows = await enter_org(conn, alice_id, alice_org, then=audit_rows, params={})
            assert role == "owner" and rows[0][0] > 0
            # A genuine user naming an org they are not in: no role, and its rows stay invisible.
            assert await enter_org(conn, alice_id, bob_org, then=audit_rows, params={}) == (None, [(0,)])
            # Nor does a context left by an earlier statement of the same transaction survive.
            hijack = f"SELECT set_config('app.org_id', '{bob_org}', true)"
            async with conn.transaction():
                await conn.execute(hijack)
                assert await enter_org(conn, alice_id, bob_org, then=audit_rows, params={}) == (None, [(0,)])
        with psycopg.connect(stack.owner_url) as owner:
            owner.execute("UPDATE users SET is_active = false WHERE id = %s", (alice_id,))
        async with db.autocommit_connection() as conn:
            assert await enter_org(conn, alice_id, alice_org, then=audit_rows, params={}) == (None, [(0,)])
    finally:
        await db.dispose()


async def test_tenant_reads_hand_out_rows_only_to_a_member_allowed_the_permission(
    client: httpx.AsyncClient, stack
) -> None:
    """`TenantReads` (what `reads(...)` routes get) confirms a person with their first read."""
    owner = await signup(client)
    viewer = await add_member(client, owner, "viewer")
    outsider = await signup(client)
    org_id = uuid.UUID(owner.org_id)
    members = "SELECT m.user_id::text FROM org_memberships m WHERE m.org_id = %(org_id)s ORDER BY m.created_at"
    db = Database(stack.app_url, pool_size=1, max_overflow=0)
    try:
        reads = TenantReads(db, Permission.ORG_READ, member=(uuid.UUID(viewer.user_id), org_id))
        assert await reads.fetch(members, {}) == [(owner.user_id,), (viewer.user_id,)]
        assert await reads.fetch(members, {}) == [(owner.user_id,), (viewer.user_id,)]  # confirmed: plain reads
        # A role without the permission: 403, however many rows the read found.
        with pytest.raises(Forbidden) as refused:
            await TenantReads(db, Permission.MEMBERS_MANAGE, member=(uuid.UUID(viewer.user_id), org_id)).fetch(
                members, {}
            )
        assert refused.value.details == {"required_permission": "members.manage"}
        # A valid user who is not a member: 401, nothing read.
        with pytest.raises(Unauthorized) as revoked:
            await TenantReads(db, Permission.ORG_READ, member=(uuid.UUID(outsider.user_id), org_id)).fetch(members, {})
        assert revoked.value.code == "ORG_ACCESS_REVOKED"
    finally:
        await db.dispose()
