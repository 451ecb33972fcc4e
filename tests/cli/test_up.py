"""`agentflow up` as a user runs it: a real process tree, real servers, real signals."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from agentflow.embedded import EmbeddedStack
from agentflow.settings import Settings
from agentflow.worker import create_celery

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """The caller's environment without AgentFlow configuration, as on a fresh machine."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["AGENTFLOW_LOG_LEVEL"] = "WARNING"
    return env


class Up:
    """One `agentflow up` process, its output in a file."""

    def __init__(self, data_dir: Path, work_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.log = work_dir / f"up-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "agentflow.cli",
                    "up",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(data_dir),
                    "--workers",
                    "1",
                    *extra,
                ],
                cwd=work_dir,  # no stray .env from the repository
                env={**_clean_env(), **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"agentflow up exited with {self.process.returncode}:\n{self.output()}")
                try:
                    if client.get(f"http://127.0.0.1:{self.port}{path}").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        pytest.fail(f"{path} did not answer 200 within {START_TIMEOUT}s:\n{self.output()}")

    def wait_ready(self) -> None:
        self.wait_for("/healthz")
        self.wait_for("/readyz")
        deadline = time.monotonic() + 30
        while "ready" not in self.output().split():
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.1)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def exit_code(self) -> int:
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill_all()
            pytest.fail(f"agentflow up did not exit within {STOP_TIMEOUT}s:\n{self.output()}")

    def kill_all(self) -> None:
        for proc in [*self.descendants(), psutil.Process(self.process.pid)]:
            with contextlib.suppress(psutil.Error):
                proc.kill()


def _secrets(data_dir: Path) -> dict[str, str]:
    return dict(json.loads((data_dir / "secrets.json").read_text()))


def _owner_url(data_dir: Path) -> str:
    port = (data_dir / "postgres" / "port").read_text().strip()
    return f"postgresql://postgres:{_secrets(data_dir)['postgres_password']}@127.0.0.1:{port}/agentflow"


def _redis_url(data_dir: Path) -> str:
    port = (data_dir / "valkey" / "port").read_text().strip()
    return f"redis://:{_secrets(data_dir)['valkey_password']}@127.0.0.1:{port}/0"


def _server_pids(data_dir: Path) -> list[int]:
    pids = []
    for pid_file in (data_dir / "postgres" / "data" / "postmaster.pid", data_dir / "valkey" / "valkey.pid"):
        pids.append(int(pid_file.read_text().splitlines()[0]))
    return pids


def _assert_nothing_left(processes: list[psutil.Process], data_dir: Path) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        assert str(data_dir) not in cmdline, f"left running: {cmdline}"


@pytest.fixture
def ups() -> Iterator[list[Up]]:
    """Every `up` a test starts is gone at the end, whatever the test did."""
    started: list[Up] = []
    yield started
    for up in started:
        if up.process.poll() is None:
            up.kill_all()
            up.process.wait(10)


def test_up_serves_stops_cleanly_and_keeps_its_data(tmp_path: Path, ups: list[Up]) -> None:
    data_dir = tmp_path / "data"

    first = Up(data_dir, tmp_path)
    ups.append(first)
    first.wait_ready()
    out = first.output()
    assert f"http://127.0.0.1:{first.port}" in out
    assert f"http://127.0.0.1:{first.port}/api/docs" in out
    with psycopg.connect(_owner_url(data_dir)) as conn:
        conn.execute("CREATE TABLE up_marker (note text)")
        conn.execute("INSERT INTO up_marker VALUES ('written by the first run')")
    # The worker is up and consuming: a task makes the round trip through the broker.
    celery = create_celery(Settings(_env_file=None, redis_url=_redis_url(data_dir)))
    assert celery.send_task("system.ping").get(timeout=60) == "pong"
    celery.close()

    processes = first.descendants() + [psutil.Process(pid) for pid in _server_pids(data_dir)]
    assert any("celery" in " ".join(p.cmdline()) and "worker" in p.cmdline() for p in processes)
    assert any("beat" in p.cmdline() for p in processes)
    first.process.send_signal(signal.SIGTERM)
    assert first.exit_code() == 0, first.output()
    _assert_nothing_left(processes, data_dir)

    second = Up(data_dir, tmp_path)
    ups.append(second)
    second.wait_ready()
    with psycopg.connect(_owner_url(data_dir)) as conn:
        assert conn.execute("SELECT note FROM up_marker").fetchall() == [("written by the first run",)]
    processes = second.descendants() + [psutil.Process(pid) for pid in _server_pids(data_dir)]
    second.process.send_signal(signal.SIGINT)
    assert second.exit_code() == 0, second.output()
    _assert_nothing_left(processes, data_dir)


def test_up_stops_everything_when_a_child_dies(tmp_path: Path, ups: list[Up]) -> None:
    data_dir = tmp_path / "data"
    up = Up(data_dir, tmp_path)
    ups.append(up)
    up.wait_ready()

    # A second `up` on the same data dir must refuse rather than fight over the servers.
    intruder = Up(data_dir, tmp_path)
    ups.append(intruder)
    assert intruder.exit_code() != 0
    assert "already using the data dir" in intruder.output()

    processes = up.descendants() + [psutil.Process(pid) for pid in _server_pids(data_dir)]
    beat = next(p for p in up.descendants() if "beat" in p.cmdline())
    beat.kill()
    assert up.exit_code() != 0
    assert "beat process exited unexpectedly" in up.output()
    _assert_nothing_left(processes, data_dir)


def test_up_uses_the_servers_given_by_url(tmp_path: Path, ups: list[Up], stack: EmbeddedStack) -> None:
    data_dir = tmp_path / "data"
    # A Redis database of its own, so this worker never takes tasks queued by other tests.
    redis_url = stack.redis_url.rsplit("/", 1)[0] + "/7"
    up = Up(
        data_dir,
        tmp_path,
        env={
            "AGENTFLOW_DATABASE_URL": stack.app_url,
            "AGENTFLOW_MIGRATION_DATABASE_URL": stack.owner_url,
            "AGENTFLOW_REDIS_URL": redis_url,
        },
    )
    ups.append(up)
    up.wait_ready()
    assert not (data_dir / "postgres").exists()
    assert not (data_dir / "valkey").exists()
    # The JWT secret and vault key, not given, come from the data dir's secrets file.
    assert (data_dir / "secrets.json").exists()
    processes = up.descendants()
    up.process.send_signal(signal.SIGTERM)
    assert up.exit_code() == 0, up.output()
    _assert_nothing_left(processes, data_dir)


@pytest.mark.parametrize("command", ["api", "worker", "beat"])
def test_server_commands_refuse_to_start_without_configuration(tmp_path: Path, command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agentflow.cli", command],
        cwd=tmp_path,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    for variable in ("AGENTFLOW_DATABASE_URL", "AGENTFLOW_REDIS_URL", "AGENTFLOW_JWT_SECRET"):
        assert variable in result.stderr


def test_migrate_refuses_to_run_without_a_database_url(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agentflow.cli", "migrate"],
        cwd=tmp_path,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AGENTFLOW_DATABASE_URL" in result.stderr
