"""Key-encryption-key providers: the one small interface the vault wraps data keys through, and
the local provider (master keys from settings)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agentflow.kit.vault.context import EncryptionContext, associated_data
from agentflow.kit.vault.errors import VaultDecryptionError
from agentflow.settings import ConfigurationError

DATA_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96-bit GCM nonce, the size GCM is specified for
_WRAP_LABEL = b"agentflow.vault.v1.wrap"
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class DataKey(NamedTuple):
    plaintext_key: bytes
    wrapped_key: bytes
    key_id: str


class WrappedKey(NamedTuple):
    wrapped_key: bytes
    key_id: str


class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a key-encryption key it holds (or a KMS holds for it).

    `key_id` names the key-encryption key a wrapped key was made with; it is stored in the
    envelope so that, after a rotation, the provider can still find the old key."""

    @property
    def current_key_id(self) -> str: ...

    def generate_data_key(self, context: EncryptionContext) -> DataKey: ...

    def decrypt_data_key(self, wrapped_key: bytes, key_id: str, context: EncryptionContext) -> bytes: ...

    # Rotation: the same data key, wrapped under the current key. A separate operation (rather
    # than decrypt + generate) because the ciphertext must stay as it is, and because a KMS can do
    # it server-side without the plaintext key ever reaching this process.
    def rewrap_data_key(self, wrapped_key: bytes, key_id: str, context: EncryptionContext) -> WrappedKey: ...


def generate_master_key() -> str:
    """A new local master key: 32 random bytes, base64url (the form AGENTFLOW_VAULT_MASTER_KEY takes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(DATA_KEY_BYTES)).decode("ascii")


def parse_master_key(encoded: str, *, setting: str) -> bytes:
    """Decode a base64url master key; the error names the setting but never echoes the value."""
    value = encoded.strip()
    problem = f"{setting} must be 32 random bytes, base64url-encoded (make one with `agentflow vault generate-key`)"
    if not _BASE64URL.match(value):
        raise ConfigurationError(problem)
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ConfigurationError(problem) from None
    if len(raw) != DATA_KEY_BYTES:
        raise ConfigurationError(problem)
    return raw


def local_key_id(master_key: bytes) -> str:
    # A keyed hash rather than a plain digest: a fingerprint derived with the key as HMAC key
    # reveals nothing usable about it, yet identifies it stably across processes.
    return "local:" + hmac.new(master_key, b"agentflow vault key id", hashlib.sha256).hexdigest()[:16]


class LocalKeyProvider:
    """Master keys held by this process (from settings). The current key wraps new data keys;
    previous keys only unwrap, so envelopes keep opening during a rotation.

    A wrapped key is nonce (12 bytes) || AES-256-GCM(master key, data key, AAD = context)."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        for key in (current, *previous):
            if len(key) != DATA_KEY_BYTES:
                raise ConfigurationError("a vault master key must be exactly 32 bytes")
        self._current_id = local_key_id(current)
        self._keys: dict[str, AESGCM] = {}
        for key in (current, *previous):
            self._keys.setdefault(local_key_id(key), AESGCM(key))

    @classmethod
    def from_encoded(cls, current: str, previous: Sequence[str] = ()) -> LocalKeyProvider:
        return cls(
            parse_master_key(current, setting="AGENTFLOW_VAULT_MASTER_KEY"),
            [parse_master_key(key, setting="AGENTFLOW_VAULT_PREVIOUS_MASTER_KEYS") for key in previous],
        )

    @property
    def current_key_id(self) -> str:
        return self._current_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def generate_data_key(self, context: EncryptionContext) -> DataKey:
        data_key = secrets.token_bytes(DATA_KEY_BYTES)
        return DataKey(data_key, self._wrap(data_key, context), self._current_id)

    def decrypt_data_key(self, wrapped_key: bytes, key_id: str, context: EncryptionContext) -> bytes:
        master = self._keys.get(key_id)
        if master is None:
            raise VaultDecryptionError(
                f"the secret was sealed under vault key {key_id!r}, which is not configured "
                "(add it to AGENTFLOW_VAULT_PREVIOUS_MASTER_KEYS until `agentflow vault rotate` has run)"
            )
        if len(wrapped_key) != NONCE_BYTES + DATA_KEY_BYTES + 16:
            raise VaultDecryptionError("the wrapped data key is malformed")
        nonce, sealed = wrapped_key[:NONCE_BYTES], wrapped_key[NONCE_BYTES:]
        try:
            return master.decrypt(nonce, sealed, associated_data(_WRAP_LABEL, context))
        except InvalidTag:
            raise VaultDecryptionError(
                "the data key could not be unwrapped: it was altered or belongs to another record"
            ) from None

    def rewrap_data_key(self, wrapped_key: bytes, key_id: str, context: EncryptionContext) -> WrappedKey:
        data_key = self.decrypt_data_key(wrapped_key, key_id, context)
        return WrappedKey(self._wrap(data_key, context), self._current_id)

    def _wrap(self, data_key: bytes, context: EncryptionContext) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._keys[self._current_id].encrypt(nonce, data_key, associated_data(_WRAP_LABEL, context))
