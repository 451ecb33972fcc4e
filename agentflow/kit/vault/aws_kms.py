"""AWS KMS as the key-encryption-key provider: data keys come from GenerateDataKey and are
unwrapped with Decrypt, both with the secret's encryption context, so KMS itself refuses a wrapped
key presented for another org, purpose or record (and CloudTrail logs which context was used)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, NoReturn

from agentflow.kit.vault.context import EncryptionContext
from agentflow.kit.vault.errors import VaultDecryptionError, VaultUnavailableError
from agentflow.kit.vault.keys import DataKey, WrappedKey

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

# Errors that mean "this wrapped key will never open here", as opposed to throttling or outages.
_PERMANENT_DECRYPT_ERRORS = frozenset(
    {
        "InvalidCiphertextException",
        "IncorrectKeyException",
        "NotFoundException",
        "DisabledException",
        "KMSInvalidStateException",
        "InvalidKeyUsageException",
        "AccessDeniedException",
        "ValidationException",
    }
)


def _raise_kms_error(exc: Exception, *, unwrapping: bool) -> NoReturn:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        if unwrapping and code in _PERMANENT_DECRYPT_ERRORS:
            raise VaultDecryptionError(f"AWS KMS refused to unwrap the data key ({code})") from exc
        raise VaultUnavailableError(f"AWS KMS request failed ({code})") from exc
    raise VaultUnavailableError(f"AWS KMS could not be reached ({type(exc).__name__})") from exc


class AwsKmsKeyProvider:
    """`key_id` may be a key id, key ARN, alias name or alias ARN; envelopes record the key ARN
    KMS reports, which is also what `current_key_id` resolves to, so rotation can tell which
    envelopes are already under the configured key. Credentials come from boto3's default chain."""

    def __init__(
        self,
        key_id: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: KMSClient | None = None,
    ) -> None:
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "kms",
                region_name=region,
                endpoint_url=endpoint_url,
                # A hung KMS must not hang a request or a workflow step indefinitely.
                config=Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}),
            )
        self._client = client
        self._key_id = key_id
        self._current_arn: str | None = None
        self._lock = threading.Lock()

    @property
    def current_key_id(self) -> str:
        # Resolved once: an alias may point at a new key later, which takes a restart to pick up.
        with self._lock:
            if self._current_arn is None:
                from botocore.exceptions import BotoCoreError, ClientError

                try:
                    self._current_arn = self._client.describe_key(KeyId=self._key_id)["KeyMetadata"]["Arn"]
                except (ClientError, BotoCoreError) as exc:
                    _raise_kms_error(exc, unwrapping=False)
            return self._current_arn

    def generate_data_key(self, context: EncryptionContext) -> DataKey:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        except (ClientError, BotoCoreError) as exc:
            _raise_kms_error(exc, unwrapping=False)
        return DataKey(response["Plaintext"], response["CiphertextBlob"], response["KeyId"])

    def decrypt_data_key(self, wrapped_key: bytes, key_id: str, context: EncryptionContext) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # KeyId pins the key: KMS refuses a blob made under any other key (IncorrectKeyException).
            response = self._client.decrypt(CiphertextBlob=wrapped_key, EncryptionContext=dict(context), KeyId=key_id)
        except (ClientError, BotoCoreError) as exc:
            _raise_kms_error(exc, unwrapping=True)
        return response["Plaintext"]

    def rewrap_data_key(self, wrapped_key: bytes, key_id: str, context: EncryptionContext) -> WrappedKey:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # ReEncrypt runs inside KMS: the plaintext data key never comes to this process.
            response = self._client.re_encrypt(
                CiphertextBlob=wrapped_key,
                SourceEncryptionContext=dict(context),
                SourceKeyId=key_id,
                DestinationKeyId=self._key_id,
                DestinationEncryptionContext=dict(context),
            )
        except (ClientError, BotoCoreError) as exc:
            _raise_kms_error(exc, unwrapping=True)
        return WrappedKey(response["CiphertextBlob"], response["KeyId"])
