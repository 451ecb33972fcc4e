"""The credential vault with the local key provider: envelope format, tamper and swap resistance,
rotation (in memory, then `rewrap_all` and `agentflow vault rotate` against real PostgreSQL)."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.embedded import EmbeddedStack
from agentflow.kit import migrations
from agentflow.kit.vault import (
    DataKey,
    LocalKeyProvider,
    Vault,
    VaultDecryptionError,
    WrappedKey,
    generate_master_key,
    key_id_of,
    parse_master_key,
    vault_from_settings,
)
from agentflow.kit.vault.rotation import SECRET_COLUMNS, rewrap_all
from agentflow.settings import ConfigurationError, Settings
from tests.vault import envelopes

REPO_ROOT = Path(__file__).resolve().parents[2]
PURPOSE = "provider_credential"
SECRET = {"api_key": "sk-test-vault-0123456789abcdef", "nested": {"token": "tok-ünïcode-✓-98765"}, "n": 3}

KEY_A = secrets.token_bytes(32)
KEY_B = secrets.token_bytes(32)


def _vault(current: bytes, *previous: bytes) -> Vault:
    return Vault(LocalKeyProvider(current, previous))


@pytest.fixture(autouse=True)
def _no_vault_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AGENTFLOW_VAULT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def ids() -> dict[str, Any]:
    return {"org_id": uuid.uuid4(), "purpose": PURPOSE, "secret_id": uuid.uuid4()}


@pytest.fixture
def sealed(ids: dict[str, Any]) -> str:
    return _vault(KEY_A).seal(SECRET, **ids)


# -- format and round trip ------------------------------------------------------------------------


def test_round_trip(sealed: str, ids: dict[str, Any]) -> None:
    assert _vault(KEY_A).open(sealed, **ids) == SECRET


def test_envelope_is_versioned_self_describing_and_hides_the_secret(sealed: str, ids: dict[str, Any]) -> None:
    assert sealed.startswith("v1.")
    assert sealed.isascii() and "\n" not in sealed
    body = envelopes.decode(sealed)
    assert set(body) == {"kid", "wk", "iv", "ct", "tag"}
    assert body["kid"] == key_id_of(sealed) == LocalKeyProvider(KEY_A).current_key_id
    assert len(envelopes.b64d(body["iv"])) == 12
    assert len(envelopes.b64d(body["tag"])) == 16
    # nonce (12) + wrapped 32-byte data key + GCM tag (16)
    assert len(envelopes.b64d(body["wk"])) == 60
    plaintext = json.dumps(SECRET, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(envelopes.b64d(body["ct"])) == len(plaintext)
    for value in ("sk-test-vault-0123456789abcdef", "98765"):
        assert value not in sealed
        assert value not in json.dumps(body)


def test_every_seal_uses_a_fresh_data_key_and_nonce(ids: dict[str, Any]) -> None:
    vault = _vault(KEY_A)
    first, second = envelopes.decode(vault.seal(SECRET, **ids)), envelopes.decode(vault.seal(SECRET, **ids))
    for field in ("wk", "iv", "ct", "tag"):
        assert first[field] != second[field]


def test_key_ids_are_stable_fingerprints_that_reveal_no_key() -> None:
    a = LocalKeyProvider(KEY_A).current_key_id
    assert a == LocalKeyProvider(KEY_A).current_key_id
    assert a != LocalKeyProvider(KEY_B).current_key_id
    assert a.startswith("local:") and len(a) == len("local:") + 16
    assert KEY_A.hex()[:16] not in a
    assert base64.urlsafe_b64encode(KEY_A).decode()[:8] not in a


def test_seal_accepts_only_json_objects_and_well_formed_purposes(ids: dict[str, Any]) -> None:
    vault = _vault(KEY_A)
    with pytest.raises(TypeError):
        vault.seal(["not", "a", "dict"], **ids)  # type: ignore[arg-type]
    for purpose in ("", "Provider", "x" * 65, "has space", "1starts-with-digit"):
        with pytest.raises(ValueError, match="purpose"):
            vault.seal(SECRET, org_id=ids["org_id"], purpose=purpose, secret_id=ids["secret_id"])


# -- tampering --------------------------------------------------------------------------------------


def _assert_refused(vault: Vault, envelope: str, ids: dict[str, Any]) -> VaultDecryptionError:
    with pytest.raises(VaultDecryptionError) as caught:
        vault.open(envelope, **ids)
    message = str(caught.value)
    # The error is safe to log and to show: no secret value, no key material.
    for leak in ("sk-test-vault", "98765", KEY_A.hex()[:12], base64.urlsafe_b64encode(KEY_A).decode()[:12]):
        assert leak not in message
    return caught.value


@pytest.mark.parametrize("field", ["ct", "tag", "wk", "iv"])
@settings(max_examples=40, deadline=None)
@given(bit=st.integers(min_value=0, max_value=10_000))
def test_any_flipped_bit_is_refused(field: str, bit: int) -> None:
    ids: dict[str, Any] = {"org_id": uuid.UUID(int=1), "purpose": PURPOSE, "secret_id": uuid.UUID(int=2)}
    vault = _vault(KEY_A)
    envelope = vault.seal(SECRET, **ids)
    _assert_refused(vault, envelopes.flip_bit(envelope, field, bit), ids)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda e: e[:-4],
        lambda e: "v2." + e[3:],
        lambda e: e[3:],
        lambda e: "v1." + "!!!!",
        lambda e: "",
        lambda e: envelopes.with_fields(e, kid=""),
        lambda e: envelopes.with_fields(e, extra="x"),
        lambda e: envelopes.with_fields(e, iv=envelopes.b64e(b"\0" * 8)),
        lambda e: envelopes.with_fields(e, tag=envelopes.b64e(b"\0" * 12)),
        lambda e: envelopes.with_fields(e, ct="not base64 !"),
    ],
    ids=[
        "truncated",
        "unknown-version",
        "no-prefix",
        "garbage",
        "empty",
        "no-kid",
        "extra-field",
        "short-iv",
        "short-tag",
        "bad-base64",
    ],
)
def test_malformed_envelopes_are_refused(sealed: str, ids: dict[str, Any], mangle: Any) -> None:
    _assert_refused(_vault(KEY_A), mangle(sealed), ids)


def test_ciphertext_moved_under_another_secrets_wrapped_key_is_refused(ids: dict[str, Any]) -> None:
    vault = _vault(KEY_A)
    first, second = vault.seal(SECRET, **ids), vault.seal({"api_key": "another-secret-value"}, **ids)
    wk = envelopes.decode(second)["wk"]
    _assert_refused(vault, envelopes.with_fields(first, wk=wk), ids)


# -- binding to org, purpose and record -------------------------------------------------------------


def test_an_envelope_copied_to_another_org_does_not_open(sealed: str, ids: dict[str, Any]) -> None:
    _assert_refused(_vault(KEY_A), sealed, {**ids, "org_id": uuid.uuid4()})


@pytest.mark.parametrize("change", [{"purpose": "integration"}, {"secret_id": uuid.uuid4()}])
def test_an_envelope_used_for_another_purpose_or_record_does_not_open(
    sealed: str, ids: dict[str, Any], change: dict[str, Any]
) -> None:
    _assert_refused(_vault(KEY_A), sealed, {**ids, **change})


def test_an_unknown_key_id_is_refused_with_a_helpful_message(sealed: str, ids: dict[str, Any]) -> None:
    error = _assert_refused(_vault(KEY_B), sealed, ids)
    assert LocalKeyProvider(KEY_A).current_key_id in str(error)
    assert "AGENTFLOW_VAULT_PREVIOUS_MASTER_KEYS" in str(error)
    # A key id that was never any key's:
    _assert_refused(_vault(KEY_A), envelopes.with_fields(sealed, kid="local:0000000000000000"), ids)


class _ContextBlindKeys:
    """A key provider that binds nothing (the "wrapped" key is the key itself), to show that the
    ciphertext's own associated data binds org, purpose and record even without the wrap's."""

    current_key_id = "blind"

    def generate_data_key(self, context: dict[str, str]) -> DataKey:
        key = secrets.token_bytes(32)
        return DataKey(key, key, self.current_key_id)

    def decrypt_data_key(self, wrapped_key: bytes, key_id: str, context: dict[str, str]) -> bytes:
        return wrapped_key

    def rewrap_data_key(self, wrapped_key: bytes, key_id: str, context: dict[str, str]) -> WrappedKey:
        return WrappedKey(wrapped_key, key_id)


@pytest.mark.parametrize("change", [{"org_id": uuid.uuid4()}, {"purpose": "integration"}, {"secret_id": uuid.uuid4()}])
def test_the_ciphertext_itself_is_bound_to_org_purpose_and_record(ids: dict[str, Any], change: dict[str, Any]) -> None:
    vault = Vault(_ContextBlindKeys())
    envelope = vault.seal(SECRET, **ids)
    assert vault.open(envelope, **ids) == SECRET
    _assert_refused(vault, envelope, {**ids, **change})


# -- rotation in memory -----------------------------------------------------------------------------


def test_rotation_keeps_old_envelopes_open_and_rewrap_moves_them(sealed: str, ids: dict[str, Any]) -> None:
    a_id, b_id = LocalKeyProvider(KEY_A).current_key_id, LocalKeyProvider(KEY_B).current_key_id
    rotated = _vault(KEY_B, KEY_A)
    assert rotated.open(sealed, **ids) == SECRET  # still opens during the rotation
    assert rotated.needs_rewrap(sealed)
    assert key_id_of(rotated.seal(SECRET, **ids)) == b_id  # new secrets go under the new key

    rewrapped = rotated.rewrap(sealed, **ids)
    assert key_id_of(sealed) == a_id and key_id_of(rewrapped) == b_id
    assert not rotated.needs_rewrap(rewrapped)
    before, after = envelopes.decode(sealed), envelopes.decode(rewrapped)
    assert {f: after[f] for f in ("iv", "ct", "tag")} == {f: before[f] for f in ("iv", "ct", "tag")}
    assert after["wk"] != before["wk"]

    only_b = _vault(KEY_B)  # the old key dropped
    assert only_b.open(rewrapped, **ids) == SECRET
    _assert_refused(only_b, sealed, ids)


def test_rewrap_refuses_an_envelope_that_belongs_elsewhere(sealed: str, ids: dict[str, Any]) -> None:
    with pytest.raises(VaultDecryptionError):
        _vault(KEY_B, KEY_A).rewrap(sealed, **{**ids, "org_id": uuid.uuid4()})


# -- configuration ----------------------------------------------------------------------------------


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_vault_from_settings_uses_current_and_previous_master_keys(ids: dict[str, Any]) -> None:
    key_a, key_b = generate_master_key(), generate_master_key()
    assert len(base64.urlsafe_b64decode(key_a)) == 32
    old = vault_from_settings(_settings(vault_master_key=key_a)).seal(SECRET, **ids)
    rotated = vault_from_settings(_settings(vault_master_key=key_b, vault_previous_master_keys=[key_a]))
    assert rotated.open(old, **ids) == SECRET
    assert rotated.current_key_id == LocalKeyProvider(parse_master_key(key_b, setting="x")).current_key_id
    # Unpadded base64url is accepted too.
    assert vault_from_settings(_settings(vault_master_key=key_a.rstrip("="))).open(old, **ids) == SECRET


def test_previous_master_keys_are_read_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, ids: dict[str, Any]
) -> None:
    key_a, key_b, key_c = generate_master_key(), generate_master_key(), generate_master_key()
    old = vault_from_settings(_settings(vault_master_key=key_a)).seal(SECRET, **ids)
    monkeypatch.setenv("AGENTFLOW_VAULT_MASTER_KEY", key_c)
    monkeypatch.setenv("AGENTFLOW_VAULT_PREVIOUS_MASTER_KEYS", f"{key_b}, {key_a}")
    assert vault_from_settings(Settings(_env_file=None)).open(old, **ids) == SECRET


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "AGENTFLOW_VAULT_MASTER_KEY is not set"),
        ({"vault_master_key": "collection-only-not-base64!"}, "AGENTFLOW_VAULT_MASTER_KEY must be 32"),
        ({"vault_master_key": base64.urlsafe_b64encode(b"k" * 31).decode()}, "AGENTFLOW_VAULT_MASTER_KEY must be 32"),
        ({"vault_master_key": base64.b64encode(b"\xfb" * 32).decode()}, "AGENTFLOW_VAULT_MASTER_KEY must be 32"),
        (
            {"vault_master_key": generate_master_key(), "vault_previous_master_keys": ["short-previous-key"]},
            "AGENTFLOW_VAULT_PREVIOUS_MASTER_KEYS must be 32",
        ),
        ({"vault_kms": "aws-kms"}, "AGENTFLOW_VAULT_AWS_KMS_KEY_ID"),
    ],
    ids=["missing", "not-base64url", "31-bytes", "standard-base64", "bad-previous", "aws-without-key"],
)
def test_misconfiguration_fails_closed_without_echoing_the_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        vault_from_settings(_settings(**values))
    for value in values.values():
        if isinstance(value, str) and len(value) > 8:
            assert value not in str(caught.value)


def test_check_ready_asks_for_the_key_of_the_configured_kms() -> None:
    base = {"database_url": "postgresql://x@h/d", "redis_url": "redis://h", "jwt_secret": "j" * 40}
    with pytest.raises(ConfigurationError, match="AGENTFLOW_VAULT_MASTER_KEY"):
        _settings(**base).check_ready()
    with pytest.raises(ConfigurationError, match="AGENTFLOW_VAULT_AWS_KMS_KEY_ID"):
        _settings(**base, vault_kms="aws-kms").check_ready()
    _settings(**base, vault_kms="aws-kms", vault_aws_kms_key_id="alias/agentflow").check_ready()


# -- rotation against PostgreSQL --------------------------------------------------------------------


@pytest.fixture(scope="module")
def vault_db(stack: EmbeddedStack) -> Iterator[str]:
    """A database of its own, migrated to head: rotation scans whole tables, and must neither see
    nor re-wrap rows other tests keep under the stack's key."""
    name = f"vaulttest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = stack.owner_url.rpartition("/")[0] + f"/{name}"
    try:
        migrations.upgrade(url, stack.app_role)
        yield url
    finally:
        with psycopg.connect(stack.owner_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(vault_db: str) -> str:
    with psycopg.connect(vault_db, autocommit=True) as conn:
        conn.execute("DELETE FROM provider_credentials")
        conn.execute("DELETE FROM integrations")
    return vault_db


def _insert_org(conn: psycopg.Connection[Any]) -> uuid.UUID:
    org_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO organizations (id, name, slug) VALUES (%s, %s, %s)", (org_id, "Vault Org", f"vault-{org_id.hex}")
    )
    return org_id


def _seed(url: str, vault: Vault) -> dict[tuple[str, uuid.UUID], tuple[uuid.UUID, dict[str, Any]]]:
    """Provider keys and one integration in two orgs; returns (table, id) -> (org_id, secret)."""
    rows: dict[tuple[str, uuid.UUID], tuple[uuid.UUID, dict[str, Any]]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for org_id in (_insert_org(conn), _insert_org(conn)):
            for provider in ("openai", "anthropic", "google"):
                row_id, secret = uuid.uuid4(), {"api_key": f"sk-{provider}-{uuid.uuid4().hex}"}
                envelope = vault.seal(secret, org_id=org_id, purpose="provider_credential", secret_id=row_id)
                conn.execute(
                    "INSERT INTO provider_credentials (id, org_id, provider, secret_envelope, key_hint) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (row_id, org_id, provider, envelope, "sk-…"),
                )
                rows["provider_credentials", row_id] = (org_id, secret)
            row_id, secret = uuid.uuid4(), {"access_token": f"xoxb-{uuid.uuid4().hex}", "refresh_token": "r" * 20}
            envelope = vault.seal(secret, org_id=org_id, purpose="integration", secret_id=row_id)
            conn.execute(
                "INSERT INTO integrations (id, org_id, provider, credentials_encrypted) VALUES (%s, %s, %s, %s)",
                (row_id, org_id, "slack", envelope),
            )
            rows["integrations", row_id] = (org_id, secret)
    return rows


def _stored(url: str) -> dict[tuple[str, uuid.UUID], str]:
    stored: dict[tuple[str, uuid.UUID], str] = {}
    with psycopg.connect(url) as conn:
        for target in SECRET_COLUMNS:
            for row_id, envelope in conn.execute(f"SELECT id, {target.column} FROM {target.table}"):
                stored[target.table, row_id] = envelope
    return stored


def test_rewrap_all_moves_every_row_to_the_current_key(db: str) -> None:
    rows = _seed(db, _vault(KEY_A))
    before = _stored(db)
    rotated = _vault(KEY_B, KEY_A)

    counts = rewrap_all(db, rotated, batch_size=2)  # several batches per table

    assert counts == {"scanned": 8, "rewrapped": 8, "skipped": 0, "changed": 0, "failed": 0}
    after = _stored(db)
    purposes = {t.table: t.purpose for t in SECRET_COLUMNS}
    only_b = _vault(KEY_B)
    for (table, row_id), (org_id, secret) in rows.items():
        assert key_id_of(before[table, row_id]) == LocalKeyProvider(KEY_A).current_key_id
        assert key_id_of(after[table, row_id]) == rotated.current_key_id
        assert only_b.open(after[table, row_id], org_id=org_id, purpose=purposes[table], secret_id=row_id) == secret
    assert rewrap_all(db, rotated) == {"scanned": 8, "rewrapped": 0, "skipped": 8, "changed": 0, "failed": 0}


def test_rewrap_all_leaves_rows_it_cannot_open_and_reports_them(db: str, caplog: pytest.LogCaptureFixture) -> None:
    _seed(db, _vault(KEY_A))
    with psycopg.connect(db, autocommit=True) as conn:
        org_id, row_id = _insert_org(conn), uuid.uuid4()
        stranger = _vault(secrets.token_bytes(32)).seal(
            {"api_key": "sk-under-a-key-nobody-has"}, org_id=org_id, purpose="provider_credential", secret_id=row_id
        )
        conn.execute(
            "INSERT INTO provider_credentials (id, org_id, provider, secret_envelope, key_hint) "
            "VALUES (%s, %s, 'openai', %s, 'x')",
            (row_id, org_id, stranger),
        )
    with caplog.at_level(logging.WARNING, logger="agentflow.vault.rotation"):
        counts = rewrap_all(db, _vault(KEY_B, KEY_A))
    assert counts["failed"] == 1 and counts["rewrapped"] == 8
    assert _stored(db)["provider_credentials", row_id] == stranger
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.__dict__["row_id"] == str(row_id)
    assert stranger not in caplog.text and stranger[3:40] not in caplog.text


def test_rewrap_all_does_not_overwrite_a_row_the_app_changed_meanwhile(db: str) -> None:
    """No downtime means the app keeps writing during a rotation: a key replaced between the
    rotation's read and its update must keep the app's new value (compare-and-swap)."""
    rows = _seed(db, _vault(KEY_A))
    (target_table, target_id), (target_org, _) = next(
        (key, value) for key, value in rows.items() if key[0] == "provider_credentials"
    )
    replacement_secret = {"api_key": "sk-replaced-during-rotation"}

    class AppWritesDuringRotation(Vault):
        def rewrap(self, envelope: str, **ids: Any) -> str:
            if ids["secret_id"] == target_id:
                # What the app would do: seal the new key under the current key and save it.
                new = self.seal(replacement_secret, **ids)
                with psycopg.connect(db, autocommit=True) as conn:
                    conn.execute("UPDATE provider_credentials SET secret_envelope = %s WHERE id = %s", (new, target_id))
            return super().rewrap(envelope, **ids)

    vault = AppWritesDuringRotation(LocalKeyProvider(KEY_B, [KEY_A]))
    counts = rewrap_all(db, vault)
    assert counts == {"scanned": 8, "rewrapped": 7, "skipped": 0, "changed": 1, "failed": 0}
    stored = _stored(db)[target_table, target_id]
    opened = _vault(KEY_B).open(stored, org_id=target_org, purpose="provider_credential", secret_id=target_id)
    assert opened == replacement_secret


def test_cli_rotate_and_generate_key(db: str, tmp_path: Path) -> None:
    key_a, key_b = generate_master_key(), generate_master_key()
    rows = _seed(db, vault_from_settings(_settings(vault_master_key=key_a)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTFLOW_")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        AGENTFLOW_MIGRATION_DATABASE_URL=db,
        AGENTFLOW_VAULT_MASTER_KEY=key_b,
        AGENTFLOW_VAULT_PREVIOUS_MASTER_KEYS=key_a,
        AGENTFLOW_LOG_LEVEL="WARNING",
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentflow.cli", "vault", *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    result = cli("rotate", "--batch-size", "3")
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "rewrapped" in line]
    assert re.search(r"\b8\b", line), result.stdout
    for key in (key_a, key_b):
        assert key not in result.stdout + result.stderr
    new_id = vault_from_settings(_settings(vault_master_key=key_b)).current_key_id
    assert {key_id_of(e) for e in _stored(db).values()} == {new_id}
    assert len(rows) == 8

    generated = cli("generate-key")
    assert generated.returncode == 0, generated.stderr
    assert len(parse_master_key(generated.stdout.strip(), setting="generated")) == 32

    env.pop("AGENTFLOW_VAULT_MASTER_KEY")
    missing = cli("rotate")
    assert missing.returncode == 1
    assert "AGENTFLOW_VAULT_MASTER_KEY" in missing.stderr
