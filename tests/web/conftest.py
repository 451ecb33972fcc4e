"""Browser tests: the web app's real static export (web/out, built by scripts/setup-web) served by
a real API process, with a Celery worker and beat, on the session's embedded PostgreSQL and Valkey
— the processes `agentflow up` starts — driven by Debian's chromium through Playwright's sync API.

Fixtures:
- `base_url` (package): the live server's origin, e.g. "http://127.0.0.1:41234"; the UI is at
  `/`, the API at `/api/v1`. `live_server` has the process and its log.
- `user` (function): a freshly signed-up `Account` (email, password, token, org_id, ...) in its own
  org, made through the API; `sign_up(base_url)` makes more.
- `browser` (package, i.e. shared by all browser tests): Debian's Chromium, headless.
- `page` (function): a page in a fresh browser context (no cookies, storage) whose `base_url` is
  the live server, so `page.goto("/agents/")` works. When a test fails, a screenshot and the
  page's console go to `test-artifacts/<test id>.png|.log` (named in the failure report).
- `console_errors` (function): the console errors and uncaught exceptions of `page` so far.
- `fake_openai` (package): a local OpenAI-compatible server (tests/engine/providers/fakes.py) the
  worker may reach; script its next replies with `fake_openai.script(Reply(...))`.

There is no skipping here: without web/out/index.html or /usr/bin/chromium the fixtures fail and
say what to run.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from agentflow.embedded.supervisor import api_argv
from tests.api_fixtures import API, PASSWORD, Account, unique
from tests.engine.providers.fakes import FakeOpenAI
from tests.executions.conftest import start_worker, stop_worker

ROOT = Path(__file__).resolve().parents[2]
WEB_OUT = ROOT / "web" / "out"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container has no user namespaces for the sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The browser stack's own Valkey database (the shared worker uses 7, the durability tests 8, the
# canary tests 9, the credential tests 10), so no other test's tasks reach its worker.
WEB_REDIS_DB = 11
HIGH_LIMIT = "1000000/minute"
START_TIMEOUT = 60.0
DEFAULT_TIMEOUT_MS = 10_000


# -- the stack -------------------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The API process (uvicorn, argv exactly as `agentflow up` runs it), serving web/out at `/`."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def web_out() -> Path:
    if not (WEB_OUT / "index.html").is_file():
        pytest.fail(
            f"{WEB_OUT}/index.html is missing: the browser tests drive the built web app. "
            "Build it with scripts/setup-web (./scripts/test does).",
            pytrace=False,
        )
    return WEB_OUT


@pytest.fixture(scope="package")
def web_env(stack: Any, web_out: Path) -> dict[str, str]:
    """What `agentflow up` gives its children, on the browser stack's own Valkey database."""
    base, _, _ = stack.redis_url.rpartition("/")
    return {
        **stack.env,
        "AGENTFLOW_REDIS_URL": f"{base}/{WEB_REDIS_DB}",
        "AGENTFLOW_WEB_DIR": str(web_out),
        "AGENTFLOW_ENVIRONMENT": "test",
        "AGENTFLOW_LOG_LEVEL": "WARNING",
        # Browser tests sign up and log in far more often than a person does.
        "AGENTFLOW_RATE_LIMIT_ORG": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_API_KEY": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_IP": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_ACCOUNT": HIGH_LIMIT,
        # The fake OpenAI server (`fake_openai`) listens on 127.0.0.1, which egress refuses unless
        # allowed, exactly as a self-hoster allows their own Ollama or vLLM host.
        "AGENTFLOW_EGRESS_ALLOWED_HOSTS": '["127.0.0.1"]',
    }


@pytest.fixture(scope="package")
def web_worker(web_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker with beat inside (the sweeper, schedules), as `agentflow up` runs them."""
    log_path = tmp_path_factory.mktemp("web-worker") / "worker.log"
    process = start_worker(web_env, log_path, name="web", beat=True)
    try:
        yield process
    finally:
        stop_worker(process)
        if os.environ.get("AGENTFLOW_SHOW_WORKER_LOG"):
            print(log_path.read_text())


@pytest.fixture(scope="package")
def live_server(
    web_env: dict[str, str], web_worker: subprocess.Popen[bytes], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Links in mails (invitations, approvals) point at this server.
    env = {**os.environ, **web_env, "AGENTFLOW_PUBLIC_URL": base_url}
    log_path = tmp_path_factory.mktemp("web-api") / "api.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            api_argv("127.0.0.1", port), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    server = LiveServer(base_url, process, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if os.environ.get("AGENTFLOW_SHOW_WORKER_LOG"):
            print(log_path.read_text())


def _wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=2) as client:
        while True:
            if server.process.poll() is not None:
                pytest.fail(f"the API exited with {server.process.returncode}:\n{server.log_path.read_text()[-3000:]}")
            try:
                if client.get(f"{server.base_url}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the API was not ready within {START_TIMEOUT}s:\n{server.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        index = client.get(f"{server.base_url}/")
    assert index.status_code == 200 and "text/html" in index.headers["content-type"], (
        f"the API does not serve the web app at /: {index.status_code} {index.text[:300]}"
    )


@pytest.fixture(scope="package")
def fake_openai() -> Iterator[FakeOpenAI]:
    """A local server speaking OpenAI's wire format; an org points its OpenAI key's base URL at it
    (Settings → LLM providers), and the real SDK in the worker streams its replies token by token."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def base_url(live_server: LiveServer) -> str:
    return live_server.base_url


def sign_up(base_url: str, *, name: str = "Ada Lovelace", org_name: str | None = None) -> Account:
    """A new user, owner of a new org, signed up through the live API (unique email and org)."""
    email = f"{unique('web')}@example.com"
    response = httpx.post(
        f"{base_url}{API}/auth/signup",
        json={"email": email, "password": PASSWORD, "name": name, "org_name": org_name or unique("Org")},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(
        email=email,
        password=PASSWORD,
        token=body["access_token"],
        user_id=body["user"]["id"],
        org_id=body["org"]["id"],
        role="owner",
    )


@pytest.fixture
def user(base_url: str) -> Account:
    return sign_up(base_url)


# -- the browser -----------------------------------------------------------------------------------


# Package-scoped, i.e. one browser for all the browser tests: while Playwright's sync API is alive it
# marks its event loop as running in this thread, and pytest-asyncio could not run another test's
# loop; so it must be gone before any test outside tests/web runs.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package (./scripts/test does, as root).", pytrace=False
        )
    # Debian's chromium, never a browser Playwright downloads (`playwright install` is not used).
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


_CONSOLE = pytest.StashKey[list[str]]()  # every console line of the test's page, for the artifacts


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, base_url: str, console_errors: list[str], request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        line = f"{message.text} ({message.location.get('url') or page.url})"
        console.append(f"{message.type}: {line}")
        if message.type == "error":
            console_errors.append(f"console.error: {line}")

    def on_page_error(error: Exception) -> None:
        console.append(f"uncaught: {error}")
        console_errors.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    request.node.stash[_CONSOLE] = console
    try:
        yield page
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, while the test's page is still open: its screenshot and console to
    test-artifacts/, named in the report."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.failed and report.when in ("setup", "call") and isinstance(page, Page) and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        stem = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
        saved = []
        try:
            page.screenshot(path=f"{stem}.png", full_page=True)
            saved.append(f"{stem}.png")
        except Exception as exc:  # the page may be gone with the failure; the report still matters
            saved.append(f"(no screenshot: {exc})")
        Path(f"{stem}.log").write_text(f"url: {page.url}\n" + "\n".join(item.stash.get(_CONSOLE, [])) + "\n")
        saved.append(f"{stem}.log")
        report.sections.append(("browser artifacts", "\n".join(saved)))
    return report
