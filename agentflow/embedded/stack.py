"""The embedded default: PostgreSQL + Valkey in one data dir, migrated and ready for the app.

with EmbeddedStack(Path(".agentflow")) as stack:
    subprocess.run([...], env={**os.environ, **stack.env})
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import IO

from agentflow.embedded.postgres import EmbeddedPostgres
from agentflow.embedded.runtime import EmbeddedServiceError, prepare_data_dir
from agentflow.embedded.secrets import EmbeddedSecrets, load_or_create_secrets
from agentflow.embedded.valkey import EmbeddedValkey

LOCK_FILE = "agentflow.lock"


class EmbeddedStack:
    def __init__(self, data_dir: Path, *, app_role: str | None = None) -> None:
        self.data_dir = prepare_data_dir(data_dir)
        self.secrets: EmbeddedSecrets = load_or_create_secrets(self.data_dir)
        if app_role is None:
            from agentflow.settings import get_settings

            app_role = get_settings().db_app_role
        self.app_role = app_role
        self.postgres = EmbeddedPostgres(self.data_dir, password=self.secrets.postgres_password)
        self.valkey = EmbeddedValkey(self.data_dir, password=self.secrets.valkey_password)
        self._lock: IO[str] | None = None

    # -- what the app processes need -------------------------------------------------------------

    @property
    def owner_url(self) -> str:
        return self.postgres.owner_url

    @property
    def app_url(self) -> str:
        return self.postgres.app_url(self.app_role, self.secrets.app_db_password)

    @property
    def redis_url(self) -> str:
        return self.valkey.url

    @property
    def env(self) -> dict[str, str]:
        """The environment for child processes (API, worker, beat, tests)."""
        return {
            "AGENTFLOW_DATABASE_URL": self.app_url,
            "AGENTFLOW_MIGRATION_DATABASE_URL": self.owner_url,
            "AGENTFLOW_DB_APP_ROLE": self.app_role,
            "AGENTFLOW_REDIS_URL": self.redis_url,
            "AGENTFLOW_JWT_SECRET": self.secrets.jwt_secret,
            "AGENTFLOW_VAULT_MASTER_KEY": self.secrets.vault_master_key,
            "AGENTFLOW_DATA_DIR": str(self.data_dir),
        }

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, *, migrate: bool = True) -> dict[str, str]:
        """Start both servers, create the app's login role, migrate to head; return `env`."""
        # Outside the try: when the lock is held by someone else, their servers are not ours to stop.
        self._acquire_lock()
        try:
            self.postgres.start()
            self.valkey.start()
            # Before the migrations: they create the role NOLOGIN only if it is missing.
            self.postgres.ensure_login_role(self.app_role, self.secrets.app_db_password)
            if migrate:
                from agentflow.provision import prepare_database

                prepare_database(self.owner_url, self.app_role)
        except BaseException:
            self.stop()
            raise
        return self.env

    def stop(self) -> None:
        """Stop both servers (each attempted even if the other fails) and release the data dir.

        Only the holder of the data dir's lock stops anything: the servers a refused second stack
        found running belong to the first one.
        """
        if self._lock is None:
            return
        try:
            self.valkey.stop()
        finally:
            try:
                self.postgres.stop()
            finally:
                self._release_lock()

    def __enter__(self) -> EmbeddedStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _acquire_lock(self) -> None:
        """One stack per data dir: a second one would stop the first one's servers as "leftovers".

        flock, not a pid file: the kernel releases it when the holder dies, however it dies.
        """
        if self._lock is not None:
            return
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        lock = os.fdopen(fd, "r+")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise EmbeddedServiceError(
                f"another AgentFlow process is already using the data dir {self.data_dir}"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock

    def _release_lock(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
