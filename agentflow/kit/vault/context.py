"""What a secret is bound to: its org, its purpose and its record, as KMS encryption context and
as AES-GCM associated data. Both the data and its wrapped key are bound, so neither can be moved
to another org's row, another column or another record and still open."""

from __future__ import annotations

import json
import re
import uuid

EncryptionContext = dict[str, str]

_PURPOSE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


def encryption_context(*, org_id: uuid.UUID, purpose: str, secret_id: uuid.UUID) -> EncryptionContext:
    if not _PURPOSE.match(purpose):
        raise ValueError("purpose must be 1-64 chars of a-z, 0-9, '_', '.', '-', starting with a letter")
    # Normalised through UUID so "ABC…" and "abc…" (or a str passed by mistake) bind identically.
    return {"org_id": str(uuid.UUID(str(org_id))), "purpose": purpose, "secret_id": str(uuid.UUID(str(secret_id)))}


def associated_data(label: bytes, context: EncryptionContext) -> bytes:
    """Canonical bytes of the context, prefixed by a label so data AAD and wrap AAD never coincide."""
    return label + b"\x00" + json.dumps(context, sort_keys=True, separators=(",", ":")).encode()
