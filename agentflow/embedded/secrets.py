"""Generated secrets of the embedded default, kept in `<data_dir>/secrets.json`.

The file is created once with O_EXCL and mode 0600, so no other user can ever read it, not even
for the instant between creation and a later chmod; later runs read the same values back, which is
what lets a second `agentflow up` open the data (and decrypt the vault) written by the first.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

SECRETS_FILE = "secrets.json"


@dataclass(frozen=True)
class EmbeddedSecrets:
    jwt_secret: str
    vault_master_key: str
    postgres_password: str
    app_db_password: str
    valkey_password: str


def _generate() -> dict[str, str]:
    return {
        "jwt_secret": secrets.token_urlsafe(48),
        "vault_master_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"),
        # URL-safe alphabets: the passwords go into connection URLs unquoted by other tools.
        "postgres_password": secrets.token_urlsafe(32),
        "app_db_password": secrets.token_urlsafe(32),
        "valkey_password": secrets.token_urlsafe(32),
    }


def _write_new(path: Path, values: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(values, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def load_or_create_secrets(data_dir: Path) -> EmbeddedSecrets:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    fields = [f.name for f in dataclasses.fields(EmbeddedSecrets)]
    # Already there when written by an earlier (or a concurrent) run: then it is read back below.
    with contextlib.suppress(FileExistsError):
        _write_new(path, _generate())

    # A copied or restored file may have come back with looser permissions.
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        path.chmod(0o600)
    stored = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(stored, dict):
        raise ValueError(f"{path} is not a JSON object")

    missing = [name for name in fields if not isinstance(stored.get(name), str) or not stored[name]]
    if missing:
        # A file from an older version lacks a newer secret: add it without touching the others,
        # replacing the file atomically so a crash never leaves it half-written.
        fresh = _generate()
        stored.update({name: fresh[name] for name in missing})
        tmp = path.with_name(f".{SECRETS_FILE}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        _write_new(tmp, {name: str(stored[name]) for name in fields})
        os.replace(tmp, path)
    return EmbeddedSecrets(**{name: str(stored[name]) for name in fields})
