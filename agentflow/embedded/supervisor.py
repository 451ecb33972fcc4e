"""The app's processes (API, Celery worker, Celery beat) as children of `agentflow up`.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only `agentflow up`, which
then stops them in order (app processes first, then the servers they depend on), and each gets
SIGTERM if `agentflow up` itself dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from agentflow.embedded.runtime import EmbeddedServiceError, die_with_parent

QUEUES = "default,executions"


def api_argv(host: str, port: int, *, workers: int | None = None) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "agentflow.app:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--proxy-headers",
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        # Live streams send each event to every subscriber: with permessage-deflate (which browsers
        # ask for) each send is compressed again in that connection's own zlib context, ~13 µs of
        # CPU per delivery and ~45 KB of memory per connection at uvicorn's settings, to shrink
        # events of a few hundred bytes.
        "--ws-per-message-deflate",
        "false",
    ]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return argv


def worker_argv(*, concurrency: int | None, queues: str = QUEUES) -> list[str]:
    argv = [sys.executable, "-m", "celery", "-A", "agentflow.worker:celery_app", "worker", "-Q", queues]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    return argv


def beat_argv(*, schedule: Path) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "agentflow.worker:celery_app", "beat", "-s", str(schedule)]


def local_url(host: str, port: int) -> str:
    """A URL that reaches a server bound to `host` from this machine."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - mapping the wildcard to loopback, not binding to it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


class Supervisor:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str]) -> Child:
        process = subprocess.Popen(  # noqa: S603 - argv built by the functions above
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        child = Child(name, process)
        self.children.append(child)
        return child

    def first_exited(self) -> Child | None:
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    def wait_until_ready(self, url: str, *, timeout: float, should_stop: Callable[[], bool]) -> bool:
        """Poll `url` until it answers 200. False if asked to stop first; raises if a child dies."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if should_stop():
                    return False
                dead = self.first_exited()
                if dead is not None:
                    raise EmbeddedServiceError(
                        f"the {dead.name} process exited with code {dead.process.returncode} during start-up"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code == 200:
                        return True
                time.sleep(0.25)
        raise EmbeddedServiceError(f"{url} did not answer 200 within {timeout:.0f}s")

    def stop_all(self, *, timeout: float = 10.0) -> None:
        """SIGTERM to every child, then SIGKILL to whatever is left after `timeout` seconds.

        The descendants (Celery's pool processes) are collected first: if their parent has to be
        killed they would otherwise live on, orphaned.
        """
        descendants: list[psutil.Process] = []
        for child in self.children:
            with contextlib.suppress(psutil.Error):
                descendants += psutil.Process(child.process.pid).children(recursive=True)
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(5)
        _, alive = psutil.wait_procs(descendants, timeout=max(0.0, deadline - time.monotonic()))
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self.children.clear()
