"""Envelope encryption of secret JSON documents.

Envelope format, version 1 (a single line of text, safe for any TEXT column):

    "v1." + base64url( JSON {"kid": str, "wk": b64url, "iv": b64url, "ct": b64url, "tag": b64url} )

- `kid`: id of the key-encryption key that wrapped the data key (`local:<16 hex>` or a KMS key ARN)
- `wk`:  the wrapped data key, as the key provider returned it
- `iv`:  the 96-bit AES-GCM nonce, fresh per secret
- `ct`:  AES-256-GCM ciphertext of the secret's compact UTF-8 JSON, under a fresh 256-bit data key
- `tag`: the 128-bit GCM tag

base64url is unpadded. Associated data for the ciphertext is "agentflow.vault.v1.data\\0" + the
canonical JSON of {"org_id", "purpose", "secret_id"}; the key provider binds the same context to
the wrapped key (AES-GCM AAD locally, EncryptionContext in AWS KMS). `kid` and `wk` are outside
the ciphertext's AAD on purpose: rotation replaces them and must leave `iv`/`ct`/`tag` untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agentflow.kit import redaction
from agentflow.kit.vault.context import associated_data, encryption_context
from agentflow.kit.vault.errors import VaultDecryptionError, VaultError
from agentflow.kit.vault.keys import DATA_KEY_BYTES, NONCE_BYTES, KeyProvider

ENVELOPE_PREFIX = "v1."
_DATA_LABEL = b"agentflow.vault.v1.data"
_TAG_BYTES = 16
_FIELDS = frozenset({"kid", "wk", "iv", "ct", "tag"})
# Far above any credential; a bound so a hostile value can't make the parser allocate without limit.
_MAX_ENVELOPE_CHARS = 1_000_000


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


class _Envelope:
    __slots__ = ("ciphertext", "key_id", "nonce", "tag", "wrapped_key")

    def __init__(self, *, key_id: str, wrapped_key: bytes, nonce: bytes, ciphertext: bytes, tag: bytes) -> None:
        self.key_id = key_id
        self.wrapped_key = wrapped_key
        self.nonce = nonce
        self.ciphertext = ciphertext
        self.tag = tag

    def encode(self) -> str:
        body = {
            "kid": self.key_id,
            "wk": _b64encode(self.wrapped_key),
            "iv": _b64encode(self.nonce),
            "ct": _b64encode(self.ciphertext),
            "tag": _b64encode(self.tag),
        }
        return ENVELOPE_PREFIX + _b64encode(json.dumps(body, separators=(",", ":")).encode())

    @classmethod
    def decode(cls, envelope: str) -> _Envelope:
        malformed = VaultDecryptionError("the vault envelope is malformed")
        if (
            not isinstance(envelope, str)
            or len(envelope) > _MAX_ENVELOPE_CHARS
            or not envelope.startswith(ENVELOPE_PREFIX)
        ):
            raise malformed
        try:
            body = json.loads(_b64decode(envelope[len(ENVELOPE_PREFIX) :]))
            if not isinstance(body, dict) or set(body) != _FIELDS or not all(isinstance(v, str) for v in body.values()):
                raise malformed
            parsed = cls(
                key_id=body["kid"],
                wrapped_key=_b64decode(body["wk"]),
                nonce=_b64decode(body["iv"]),
                ciphertext=_b64decode(body["ct"]),
                tag=_b64decode(body["tag"]),
            )
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise malformed from None
        if (
            not parsed.key_id
            or not parsed.wrapped_key
            or len(parsed.nonce) != NONCE_BYTES
            or len(parsed.tag) != _TAG_BYTES
        ):
            raise malformed
        return parsed


def _register_strings(value: Any) -> None:
    """Tell the redaction registry about every string inside an opened (or sealed) secret."""
    if isinstance(value, str):
        redaction.register_secret(value)
    elif isinstance(value, dict):
        for item in value.values():
            _register_strings(item)
    elif isinstance(value, list):
        for item in value:
            _register_strings(item)


class Vault:
    """Seals secret JSON documents into envelopes bound to (org, purpose, record), and opens them.

    Thread-safe as long as the key provider is (both shipped providers are)."""

    def __init__(self, key_provider: KeyProvider) -> None:
        self._provider = key_provider

    @property
    def key_provider(self) -> KeyProvider:
        return self._provider

    @property
    def current_key_id(self) -> str:
        return self._provider.current_key_id

    def seal(self, secret: dict[str, Any], *, org_id: uuid.UUID, purpose: str, secret_id: uuid.UUID) -> str:
        if not isinstance(secret, dict):
            raise TypeError("the vault seals JSON objects (dict)")
        context = encryption_context(org_id=org_id, purpose=purpose, secret_id=secret_id)
        plaintext = json.dumps(secret, separators=(",", ":"), ensure_ascii=False).encode()
        # From here on the value is in this process: make sure no log line can carry it.
        _register_strings(secret)
        data_key = self._provider.generate_data_key(context)
        if len(data_key.plaintext_key) != DATA_KEY_BYTES:
            raise VaultError("the key provider returned a data key of the wrong size")
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(data_key.plaintext_key).encrypt(nonce, plaintext, associated_data(_DATA_LABEL, context))
        return _Envelope(
            key_id=data_key.key_id,
            wrapped_key=data_key.wrapped_key,
            nonce=nonce,
            ciphertext=sealed[:-_TAG_BYTES],
            tag=sealed[-_TAG_BYTES:],
        ).encode()

    def open(self, envelope: str, *, org_id: uuid.UUID, purpose: str, secret_id: uuid.UUID) -> dict[str, Any]:
        parsed = _Envelope.decode(envelope)
        context = encryption_context(org_id=org_id, purpose=purpose, secret_id=secret_id)
        data_key = self._provider.decrypt_data_key(parsed.wrapped_key, parsed.key_id, context)
        try:
            plaintext = AESGCM(data_key).decrypt(
                parsed.nonce, parsed.ciphertext + parsed.tag, associated_data(_DATA_LABEL, context)
            )
        except (InvalidTag, ValueError):
            raise VaultDecryptionError(
                "the secret could not be decrypted: it was altered, or belongs to another organization, "
                "purpose or record"
            ) from None
        try:
            secret = json.loads(plaintext)
        except ValueError:
            raise VaultDecryptionError("the decrypted secret is not valid JSON") from None
        if not isinstance(secret, dict):
            raise VaultDecryptionError("the decrypted secret is not a JSON object")
        _register_strings(secret)
        return secret

    def rewrap(self, envelope: str, *, org_id: uuid.UUID, purpose: str, secret_id: uuid.UUID) -> str:
        """The same envelope with its data key wrapped under the current key; `iv`, `ct` and `tag`
        are carried over byte for byte. Unwrapping checks the context, so a row whose envelope
        does not belong to it fails here instead of being blessed with a fresh wrap."""
        parsed = _Envelope.decode(envelope)
        context = encryption_context(org_id=org_id, purpose=purpose, secret_id=secret_id)
        rewrapped = self._provider.rewrap_data_key(parsed.wrapped_key, parsed.key_id, context)
        parsed.wrapped_key, parsed.key_id = rewrapped.wrapped_key, rewrapped.key_id
        return parsed.encode()

    def needs_rewrap(self, envelope: str) -> bool:
        return self.key_id_of(envelope) != self.current_key_id

    @staticmethod
    def key_id_of(envelope: str) -> str:
        return _Envelope.decode(envelope).key_id


key_id_of = Vault.key_id_of
