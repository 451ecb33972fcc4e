"""Master-key rotation: re-wrap every stored envelope's data key under the vault's current key.

Runs as the schema owner (the `owner_key_rotation` policies of migration 0003 let it see every
org's rows through FORCE ROW LEVEL SECURITY). No downtime: the app keeps reading and writing
while this runs, because
- each row is updated in its own short transaction (autocommit), with no KMS call inside it;
- the update is a compare-and-swap on the old envelope, so a row the app rewrote meanwhile (with a
  fresh envelope under the current key) is left as the app wrote it;
- the ciphertext is untouched and old keys stay configured until this has finished, so every
  envelope opens at every moment, whichever wrap it has.
Rows already under the current key are skipped, so the command can be re-run at any time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql

from agentflow.kit.db import libpq_url
from agentflow.kit.vault.envelope import Vault, key_id_of
from agentflow.kit.vault.errors import VaultError

log = logging.getLogger("agentflow.vault.rotation")


@dataclass(frozen=True)
class SecretColumn:
    """A column holding vault envelopes; `purpose` is what they were sealed with, and the row's
    `org_id` and `id` are the org and secret id bound into them."""

    table: str
    column: str
    purpose: str


SECRET_COLUMNS: tuple[SecretColumn, ...] = (
    SecretColumn("provider_credentials", "secret_envelope", "provider_credential"),
    SecretColumn("integrations", "credentials_encrypted", "integration"),
    SecretColumn("agent_triggers", "secret_envelope", "webhook"),
)

COUNT_KEYS = ("scanned", "rewrapped", "skipped", "changed", "failed")


def rewrap_all(
    owner_url: str,
    vault: Vault,
    *,
    batch_size: int = 200,
    columns: tuple[SecretColumn, ...] = SECRET_COLUMNS,
) -> dict[str, int]:
    """Re-wrap every envelope in `columns` under `vault`'s current key.

    Returns counts: `scanned` rows, `rewrapped`, `skipped` (already current), `changed` (rewritten
    or deleted by the app while this ran; left alone) and `failed` (could not be unwrapped with the
    configured keys, or malformed: while this is non-zero, the old key must not be dropped)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    counts = dict.fromkeys(COUNT_KEYS, 0)
    current = vault.current_key_id
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as conn:
        for target in columns:
            select = sql.SQL(
                "SELECT id, org_id, {column} FROM {table} WHERE id > %s AND {column} IS NOT NULL ORDER BY id LIMIT %s"
            ).format(column=sql.Identifier(target.column), table=sql.Identifier(target.table))
            update = sql.SQL("UPDATE {table} SET {column} = %s WHERE id = %s AND {column} = %s").format(
                column=sql.Identifier(target.column), table=sql.Identifier(target.table)
            )
            # Keyset pagination: each batch is a fresh, short read, never a long-held cursor.
            last_id = uuid.UUID(int=0)
            while True:
                rows = conn.execute(select, (last_id, batch_size)).fetchall()
                if not rows:
                    break
                for row_id, org_id, envelope in rows:
                    counts["scanned"] += 1
                    counts[_rewrap_row(conn, update, target, vault, current, row_id, org_id, envelope)] += 1
                last_id = rows[-1][0]
    log.info("vault rotation finished", extra={"vault_key_id": current, **counts})
    return counts


def _rewrap_row(
    conn: psycopg.Connection[tuple[object, ...]],
    update: sql.Composed,
    target: SecretColumn,
    vault: Vault,
    current: str,
    row_id: uuid.UUID,
    org_id: uuid.UUID,
    envelope: str,
) -> str:
    try:
        if key_id_of(envelope) == current:
            return "skipped"
        rewrapped = vault.rewrap(envelope, org_id=org_id, purpose=target.purpose, secret_id=row_id)
    except VaultError as exc:
        # The row id and the safe error message only: never the envelope.
        log.warning(
            "vault rotation could not re-wrap a row: %s",
            exc,
            extra={"table": target.table, "row_id": str(row_id)},
        )
        return "failed"
    cursor = conn.execute(update, (rewrapped, row_id, envelope))
    return "rewrapped" if cursor.rowcount == 1 else "changed"
