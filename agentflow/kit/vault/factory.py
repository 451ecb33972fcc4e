"""Build the process's vault from settings, refusing (fail closed) when the configuration is unusable."""

from __future__ import annotations

from agentflow.kit.vault.aws_kms import AwsKmsKeyProvider
from agentflow.kit.vault.envelope import Vault
from agentflow.kit.vault.keys import LocalKeyProvider
from agentflow.settings import ConfigurationError, Settings


def vault_from_settings(settings: Settings) -> Vault:
    if settings.vault_kms == "local":
        if settings.vault_master_key is None or not settings.vault_master_key.get_secret_value():
            raise ConfigurationError(
                "AGENTFLOW_VAULT_MASTER_KEY is not set (make one with `agentflow vault generate-key`, "
                "or run `agentflow up`, which generates it for the embedded default)"
            )
        return Vault(
            LocalKeyProvider.from_encoded(
                settings.vault_master_key.get_secret_value(),
                [key.get_secret_value() for key in settings.vault_previous_master_keys],
            )
        )
    if settings.vault_kms == "aws-kms":
        if not settings.vault_aws_kms_key_id:
            raise ConfigurationError("AGENTFLOW_VAULT_KMS=aws-kms needs AGENTFLOW_VAULT_AWS_KMS_KEY_ID")
        return Vault(
            AwsKmsKeyProvider(
                settings.vault_aws_kms_key_id,
                region=settings.vault_aws_region,
                endpoint_url=settings.vault_aws_endpoint_url,
            )
        )
    raise ConfigurationError(f"unknown AGENTFLOW_VAULT_KMS {settings.vault_kms!r}")
