"""Vault errors. Their messages are safe to log and to show: never a secret, never key material."""

from __future__ import annotations


class VaultError(Exception):
    """Base class of every vault failure."""


class VaultDecryptionError(VaultError):
    """The envelope cannot be opened: altered, malformed, bound to another org/purpose/record, or
    sealed under a key this process does not have. Retrying will not help."""


class VaultUnavailableError(VaultError):
    """The key service could not be reached or refused for a transient reason; a retry may work."""
