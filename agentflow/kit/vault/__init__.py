"""Credential vault (spec §8.3): envelope encryption of secrets stored in the database.

Each secret (a JSON object) is encrypted with AES-256-GCM under its own fresh data key; the data
key is wrapped by a key-encryption key from a `KeyProvider` (`LocalKeyProvider`: master keys from
settings; `AwsKmsKeyProvider`: AWS KMS). The org, the purpose and the record id are bound as
associated data, so an envelope opens only where it was sealed. See `envelope.py` for the format
and `rotation.py` for re-wrapping everything under a new master key.

    vault = vault_from_settings(settings)
    envelope = vault.seal({"api_key": key}, org_id=org.id, purpose="provider_credential", secret_id=row.id)
    secret = vault.open(envelope, org_id=org.id, purpose="provider_credential", secret_id=row.id)
"""

from __future__ import annotations

from agentflow.kit.vault.aws_kms import AwsKmsKeyProvider
from agentflow.kit.vault.context import EncryptionContext, encryption_context
from agentflow.kit.vault.envelope import ENVELOPE_PREFIX, Vault, key_id_of
from agentflow.kit.vault.errors import VaultDecryptionError, VaultError, VaultUnavailableError
from agentflow.kit.vault.factory import vault_from_settings
from agentflow.kit.vault.keys import (
    DataKey,
    KeyProvider,
    LocalKeyProvider,
    WrappedKey,
    generate_master_key,
    parse_master_key,
)

__all__ = [
    "ENVELOPE_PREFIX",
    "AwsKmsKeyProvider",
    "DataKey",
    "EncryptionContext",
    "KeyProvider",
    "LocalKeyProvider",
    "Vault",
    "VaultDecryptionError",
    "VaultError",
    "VaultUnavailableError",
    "WrappedKey",
    "encryption_context",
    "generate_master_key",
    "key_id_of",
    "parse_master_key",
    "vault_from_settings",
]
