"""The embedded default against the real servers: PostgreSQL 18 + pgvector, Valkey, secrets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import psycopg
import pytest
import redis

from agentflow.embedded import (
    EmbeddedPostgres,
    EmbeddedServiceError,
    EmbeddedStack,
    EmbeddedValkey,
    load_or_create_secrets,
)


def test_postgres_is_18_with_pgvector(stack: EmbeddedStack) -> None:
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None
        assert int(version[0]) // 10000 == 18
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        assert conn.execute("SELECT '[1,2]'::vector::text").fetchone() == ("[1,2]",)
        assert conn.execute("SELECT '[1,0]'::vector <-> '[0,0]'::vector").fetchone() == (1.0,)
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)


def test_postgres_requires_the_password(stack: EmbeddedStack) -> None:
    wrong = stack.owner_url.replace(stack.secrets.postgres_password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_app_role_is_least_privileged(stack: EmbeddedStack) -> None:
    with psycopg.connect(stack.app_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolcanlogin"
            " FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (stack.app_role, False, False, False, False, True)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user"
        ).fetchone()
        assert owned == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE app_role_must_not_create (id int)")


def test_ensure_login_role_resets_dangerous_attributes(stack: EmbeddedStack) -> None:
    role = "agentflow_test_role"
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} SUPERUSER BYPASSRLS NOLOGIN")
    stack.postgres.ensure_login_role(role, "first-password")
    stack.postgres.ensure_login_role(role, "second-password")
    try:
        with psycopg.connect(stack.postgres.app_url(role, "second-password")) as conn:
            assert conn.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone() == (False, False)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(stack.postgres.app_url(role, "first-password"), connect_timeout=5)
    finally:
        with psycopg.connect(stack.owner_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_valkey_requires_the_password(stack: EmbeddedStack) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    assert client.ping() is True
    client.close()
    anonymous = redis.Redis(host="127.0.0.1", port=stack.valkey.port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    anonymous.close()


def test_secrets_file_is_private_and_matches_env(stack: EmbeddedStack) -> None:
    path = stack.data_dir / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    expected_dir_mode = 0o711 if os.geteuid() == 0 else 0o700
    assert stat.S_IMODE(stack.data_dir.stat().st_mode) == expected_dir_mode
    assert stat.S_IMODE((stack.data_dir / "postgres").stat().st_mode) == 0o700
    assert stat.S_IMODE(stack.valkey.config_file.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["jwt_secret"] == stack.env["AGENTFLOW_JWT_SECRET"]
    assert len(stored["jwt_secret"]) >= 32
    assert stored["vault_master_key"] == stack.env["AGENTFLOW_VAULT_MASTER_KEY"]
    assert len(stored["vault_master_key"]) == 44  # 32 bytes, base64url with padding
    assert stack.env["AGENTFLOW_DATA_DIR"] == str(stack.data_dir)
    assert Path(stack.env["AGENTFLOW_DATA_DIR"]).is_absolute()


def test_secrets_are_generated_once(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path)
    assert load_or_create_secrets(tmp_path) == first
    assert len({first.postgres_password, first.app_db_password, first.valkey_password}) == 3


def test_a_second_stack_on_the_same_data_dir_is_refused(stack: EmbeddedStack) -> None:
    intruder = EmbeddedStack(stack.data_dir, app_role=stack.app_role)
    with pytest.raises(EmbeddedServiceError, match="already using the data dir"):
        intruder.start()
    intruder.stop()
    # The refused one must not have stopped the servers it found running.
    with psycopg.connect(stack.owner_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert redis.Redis.from_url(stack.redis_url).ping() is True


def test_restart_keeps_data_and_port(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path)
    valkey = EmbeddedValkey(tmp_path)
    postgres.start()
    valkey.start()
    try:
        first_pg_port, first_valkey_port = postgres.port, valkey.port
        with psycopg.connect(postgres.owner_url) as conn:
            conn.execute("CREATE TABLE kept (note text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
        redis.Redis.from_url(valkey.url).set("kept", "still here")

        postgres.stop()
        valkey.stop()
        assert not postgres.is_running()
        assert not valkey.is_running()

        postgres.start()
        valkey.start()
        assert (postgres.port, valkey.port) == (first_pg_port, first_valkey_port)
        with psycopg.connect(postgres.owner_url) as conn:
            assert conn.execute("SELECT note FROM kept").fetchall() == [("still here",)]
        assert redis.Redis.from_url(valkey.url).get("kept") == b"still here"

        # A server left running by a crashed run (here: another handle's) is stopped and replaced.
        successor = EmbeddedPostgres(tmp_path)
        successor.start()
        with psycopg.connect(successor.owner_url) as conn:
            assert conn.execute("SELECT note FROM kept").fetchall() == [("still here",)]
        successor.stop()
        assert not postgres.is_running()
    finally:
        valkey.stop()
        postgres.stop()
