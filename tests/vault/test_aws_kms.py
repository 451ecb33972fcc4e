"""The AWS KMS key provider, through real boto3 over HTTP to moto's KMS server on 127.0.0.1."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from agentflow.kit.vault import (
    AwsKmsKeyProvider,
    Vault,
    VaultDecryptionError,
    VaultUnavailableError,
    key_id_of,
    vault_from_settings,
)
from agentflow.settings import ConfigurationError, Settings
from tests.vault import envelopes

REGION = "eu-west-1"
SECRET = {"api_key": "sk-kms-test-0123456789abcdef", "org_setting": "kept"}


@pytest.fixture(scope="module")
def kms_url() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        # boto3 finds these through its default chain, as it would an IAM role's; no real
        # credentials or instance metadata are ever consulted.
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="module")
def kms(kms_url: str) -> Any:
    return boto3.client("kms", region_name=REGION, endpoint_url=kms_url)


@pytest.fixture(scope="module")
def key_arn(kms: Any) -> str:
    arn: str = kms.create_key(Description="agentflow vault test")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/agentflow-vault-test", TargetKeyId=arn)
    return arn


@pytest.fixture(scope="module")
def vault(kms_url: str, key_arn: str) -> Vault:
    # Built from settings, by alias: the path production takes.
    return vault_from_settings(
        Settings(
            _env_file=None,
            vault_kms="aws-kms",
            vault_aws_kms_key_id="alias/agentflow-vault-test",
            vault_aws_region=REGION,
            vault_aws_endpoint_url=kms_url,
        )
    )


@pytest.fixture
def ids() -> dict[str, Any]:
    return {"org_id": uuid.uuid4(), "purpose": "provider_credential", "secret_id": uuid.uuid4()}


def test_round_trip_records_the_key_arn(vault: Vault, key_arn: str, ids: dict[str, Any]) -> None:
    envelope = vault.seal(SECRET, **ids)
    assert envelope.startswith("v1.")
    assert key_id_of(envelope) == key_arn == vault.current_key_id
    assert not vault.needs_rewrap(envelope)
    assert "sk-kms-test" not in envelope
    assert vault.open(envelope, **ids) == SECRET


@pytest.mark.parametrize("change", [{"org_id": uuid.uuid4()}, {"purpose": "integration"}, {"secret_id": uuid.uuid4()}])
def test_encryption_context_mismatch_is_refused_by_kms(
    vault: Vault, ids: dict[str, Any], change: dict[str, Any]
) -> None:
    envelope = vault.seal(SECRET, **ids)
    with pytest.raises(VaultDecryptionError, match="AWS KMS refused"):
        vault.open(envelope, **{**ids, **change})


@pytest.mark.parametrize("field", ["wk", "ct", "tag", "iv"])
@pytest.mark.parametrize("bit", [0, 77, -1])
def test_tampering_is_refused(vault: Vault, ids: dict[str, Any], field: str, bit: int) -> None:
    envelope = vault.seal(SECRET, **ids)
    with pytest.raises(VaultDecryptionError) as caught:
        vault.open(envelopes.flip_bit(envelope, field, bit), **ids)
    assert "sk-kms-test" not in str(caught.value)


def test_a_blob_claimed_for_another_key_is_refused(vault: Vault, kms: Any, ids: dict[str, Any]) -> None:
    other_arn = kms.create_key()["KeyMetadata"]["Arn"]
    envelope = vault.seal(SECRET, **ids)
    with pytest.raises(VaultDecryptionError):
        vault.open(envelopes.with_fields(envelope, kid=other_arn), **ids)


def test_rotation_to_another_kms_key(vault: Vault, kms: Any, kms_url: str, ids: dict[str, Any]) -> None:
    old = vault.seal(SECRET, **ids)
    new_arn = kms.create_key()["KeyMetadata"]["Arn"]
    rotated = Vault(AwsKmsKeyProvider(new_arn, region=REGION, endpoint_url=kms_url))
    assert rotated.needs_rewrap(old)
    assert rotated.open(old, **ids) == SECRET  # the old key still decrypts

    rewrapped = rotated.rewrap(old, **ids)
    assert key_id_of(rewrapped) == new_arn
    before, after = envelopes.decode(old), envelopes.decode(rewrapped)
    assert [after[f] for f in ("iv", "ct", "tag")] == [before[f] for f in ("iv", "ct", "tag")]
    assert rotated.open(rewrapped, **ids) == SECRET

    # The data key is now KMS-wrapped under the new key only: claimed under the old key, KMS refuses
    # it. (Retiring the old key itself happens in KMS; moto does not enforce disabled keys.)
    with pytest.raises(VaultDecryptionError):
        rotated.open(envelopes.with_fields(rewrapped, kid=key_id_of(old)), **ids)


def test_rewrap_checks_the_context_too(vault: Vault, kms: Any, kms_url: str, ids: dict[str, Any]) -> None:
    old = vault.seal(SECRET, **ids)
    rotated = Vault(AwsKmsKeyProvider(kms.create_key()["KeyMetadata"]["Arn"], region=REGION, endpoint_url=kms_url))
    with pytest.raises(VaultDecryptionError):
        rotated.rewrap(old, **{**ids, "org_id": uuid.uuid4()})


def test_an_unreachable_kms_is_reported_as_unavailable_not_as_tampering(ids: dict[str, Any], kms_url: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed: connections are refused at once.
    down = Vault(
        AwsKmsKeyProvider("alias/agentflow-vault-test", region=REGION, endpoint_url=f"http://127.0.0.1:{closed_port}")
    )
    with pytest.raises(VaultUnavailableError):
        down.seal(SECRET, **ids)


def test_an_unknown_kms_key_fails_at_seal_time(kms_url: str, ids: dict[str, Any]) -> None:
    missing = Vault(AwsKmsKeyProvider("alias/does-not-exist", region=REGION, endpoint_url=kms_url))
    with pytest.raises(VaultUnavailableError, match="NotFoundException"):
        missing.seal(SECRET, **ids)


def test_aws_kms_needs_a_key_id() -> None:
    with pytest.raises(ConfigurationError, match="AGENTFLOW_VAULT_AWS_KMS_KEY_ID"):
        vault_from_settings(Settings(_env_file=None, vault_kms="aws-kms"))
