"""The embedded default: PostgreSQL + pgvector and Valkey from wheels, no Docker, no system services."""

from agentflow.embedded.postgres import EmbeddedPostgres
from agentflow.embedded.runtime import EmbeddedServiceError
from agentflow.embedded.secrets import EmbeddedSecrets, load_or_create_secrets
from agentflow.embedded.stack import EmbeddedStack
from agentflow.embedded.valkey import EmbeddedValkey

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedSecrets",
    "EmbeddedServiceError",
    "EmbeddedStack",
    "EmbeddedValkey",
    "load_or_create_secrets",
]
