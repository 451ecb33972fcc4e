"""The builder in a real browser: time to interactive and drag frame times on a 200-node, 250-edge
graph, against a 10-node graph measured in the same run, and the builder route's first-load JS.

    .venv/bin/python bench/web_bench.py                          # build web/.next-bench, serve it, measure
    .venv/bin/python bench/web_bench.py --web-dir web/.next-me   # an export you built already
    .venv/bin/python bench/web_bench.py --base-url http://127.0.0.1:8471 --web-dir web/.next-me
    .venv/bin/python bench/web_bench.py --rounds 3 --no-write

What it does:
1. Builds the static export (`NEXT_DIST_DIR=.next-bench next build`) unless `--web-dir` names one
   that exists, and reads the builder page's first-load JS from it: the `<script src>` files that
   `agents/builder/index.html` loads (not the `nomodule` polyfills, which no browser that runs the
   app fetches), each gzipped (level 6, as a web server would), summed.
2. Starts an embedded PostgreSQL + Valkey (migrated) in a temporary directory, or uses the running
   stack whose environment `--env-file` holds, and on it `agentflow api` on a free port serving
   that export (`AGENTFLOW_WEB_DIR`); or measures the server `--base-url` names.
3. Through the API: signs up a throwaway user and org, and creates two agents whose drafts are
   generated valid graphs (the server must report 0 issues): the measured one, 200 nodes and 250
   edges (a trigger, then templates, if/else, merges, AI chats, approvals, set-variables in 10-node
   columns, every node reachable, no cycle), and the baseline, 10 nodes and 9 edges.
4. Drives Debian's /usr/bin/chromium headless with Playwright (never a downloaded browser). Each
   round and graph: resets the draft through the API, signs in through the API and opens a fresh
   browser context holding that session's refresh cookie (empty HTTP cache), then:
   - cold load: navigates to `/agents/builder/?id=…`, waits for the graph, clicks a node;
   - warm load: navigates again in the same context (HTTP cache warm) and does the same;
   - drag: drags a node for 120 animation frames (see below).
5. Prints medians over rounds for both graphs and their ratio, checks the goals, and writes
   bench/web_bench.md (unless --no-write).

Definitions (all times from the Performance API, in the page's own clock):
- graph ready: the `builder:graph-ready` performance mark, which the builder sets once React Flow
  reports every node rendered and measured (`useNodesInitialized`), i.e. the whole graph is on
  screen. Measured from navigation start (time origin 0).
- time to interactive (TTI): when the first input after graph ready is handled. As soon as the
  mark is seen (polled every frame over CDP), a real mouse click goes to the centre of a node; TTI
  is that click's `processingStart` from the Event Timing API (`first-input`), i.e. graph ready +
  the polling/dispatch gap + however long the main thread kept the click waiting. The click must
  select the node (checked) and its handler-to-paint time is reported too.
- drag frame time: the node is pressed (mousedown), then a script moves the pointer once per
  animation frame along a loop for 120 frames (synthetic `mousemove` on the document: the same
  d3-drag → React Flow → store → React path a real pointer takes, one move per frame, so every
  frame does drag work). A frame's time is the main-thread work it costs: from the start of its
  requestAnimationFrame callback (where the move is dispatched) to a MessageChannel task posted
  from that callback, which runs after the browser finished that frame's style, layout, paint and
  layerization. The goal is checked on the median over rounds of each round's p95; percentiles
  pooling every frame of every round are reported too. The rAF interval (vsync-locked at
  60 Hz in headless Chromium, so never below 16.7 ms) and the share of intervals over 20 ms
  (frames that missed vsync) are reported alongside.

Everything started here is stopped at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import random
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import psutil
from api_bench import Server, _raise_interrupt, free_port, wait_for_quiet

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "web"
BENCH_DIR = REPO / "bench"
API = "/api/v1"
PASSWORD = "bench password 123"  # noqa: S105 - throwaway account
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 950}
DRAG_FRAMES = 120
GOAL_TTI_MS = 1500.0
GOAL_DRAG_P95_MS = 16.0
GOAL_FIRST_LOAD_KB = 350.0

# --- graphs --------------------------------------------------------------------------------------

_KINDS: list[tuple[float, str, str, dict[str, Any], list[str]]] = [
    # weight, type, subtype, config, output handles
    (0.45, "transform", "template", {"template": "Step: {{trigger.data.topic}}"}, ["out"]),
    (
        0.15,
        "logic",
        "if_else",
        {
            "conditions": {
                "combinator": "and",
                "conditions": [{"left": "{{trigger.data.score}}", "operator": "greater_than", "right": 5}],
            }
        },
        ["true", "false"],
    ),
    (0.10, "logic", "merge", {"mode": "any"}, ["out"]),
    (0.10, "ai", "chat", {"model": "gpt-4o-mini", "prompt": "Summarize {{trigger.data.topic}}"}, ["out", "error"]),
    (0.10, "human", "approval", {"approvers": ["owner"], "message": "OK?"}, ["approved", "rejected", "timed_out"]),
    (0.10, "transform", "set_variables", {"variables": {"seen": True}}, ["out"]),
]


def generate_graph(n_nodes: int, n_edges: int, seed: int = 7, per_column: int = 10) -> dict[str, Any]:
    """A valid definition: a manual trigger, then `n_nodes - 1` nodes in columns of `per_column`.
    Each node gets one edge from the column before it (so all are reachable), then edges from any
    earlier column are added up to `n_edges` (so there is no cycle). Positions lay the columns out
    left to right, 300 px apart, like a hand-built flow."""
    if n_edges < n_nodes - 1:
        raise ValueError("every node but the trigger needs an incoming edge: n_edges >= n_nodes - 1")
    rnd = random.Random(seed)
    weights = [kind[0] for kind in _KINDS]
    nodes: list[dict[str, Any]] = [
        {
            "id": "start",
            "type": "trigger",
            "subtype": "manual",
            "label": "Start",
            "config": {},
            "position": {"x": 0, "y": (per_column - 1) * 55},
        }
    ]
    handles: dict[str, list[str]] = {"start": ["out"]}
    column: dict[str, int] = {"start": 0}
    for index in range(1, n_nodes):
        _, type_, subtype, config, outputs = rnd.choices(_KINDS, weights)[0]
        node_id = f"n{index}"
        col, row = (index - 1) // per_column + 1, (index - 1) % per_column
        nodes.append(
            {
                "id": node_id,
                "type": type_,
                "subtype": subtype,
                "label": f"Step {index}",
                "config": json.loads(json.dumps(config)),
                "position": {"x": col * 300, "y": row * 110},
            }
        )
        handles[node_id] = outputs
        column[node_id] = col
    ids = [node["id"] for node in nodes]
    by_column: dict[int, list[str]] = {}
    for node_id in ids:
        by_column.setdefault(column[node_id], []).append(node_id)
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(source: str, target: str) -> bool:
        handle = rnd.choice(handles[source])
        if (source, handle, target) in seen:
            return False
        seen.add((source, handle, target))
        edges.append({"id": f"e{len(edges) + 1}", "source": source, "source_handle": handle, "target": target})
        return True

    for target in ids[1:]:
        add(rnd.choice(by_column[column[target] - 1]), target)
    attempts = 0
    while len(edges) < n_edges:
        attempts += 1
        if attempts > 100 * n_edges:
            raise ValueError(f"cannot place {n_edges} distinct edges on {n_nodes} nodes")
        target = rnd.choice(ids[1:])
        earlier = [node_id for node_id in ids if column[node_id] < column[target]]
        add(rnd.choice(earlier), target)
    return {"schema_version": 1, "nodes": nodes, "edges": edges}


# --- servers -------------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """`export KEY=VALUE` lines (as a shell script that sets up a dev stack's environment writes them)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            value = shlex.split(match.group(2))
            env[match.group(1)] = value[0] if value else ""
    return env


@contextlib.contextmanager
def api_serving(web_dir: Path, stack_env: dict[str, str], log_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        **stack_env,
        "AGENTFLOW_WEB_DIR": str(web_dir.resolve()),
        "AGENTFLOW_LOG_LEVEL": "WARNING",
        "AGENTFLOW_RATE_LIMIT_AUTH_IP": "100000/minute",
        "AGENTFLOW_RATE_LIMIT_AUTH_ACCOUNT": "100000/minute",
    }
    agentflow = Path(sys.executable).parent / "agentflow"
    server = Server("api", [str(agentflow), "api", "--port", str(port)], env, REPO, log_dir / "web-bench-api.log")
    try:
        server.wait_ready(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def build_export(dist_dir: str) -> Path:
    """`next build` into web/<dist_dir> (the static export lands there); waits out another build."""
    env = {**os.environ, "NEXT_DIST_DIR": dist_dir}
    for _ in range(60):
        print(f"building the web app into web/{dist_dir} …", flush=True)
        done = subprocess.run(["npx", "next", "build"], cwd=WEB, env=env, capture_output=True, text=True, check=False)
        output = done.stdout + done.stderr
        if "Another next build process is already running" in output:
            print("    another build is running; waiting", flush=True)
            time.sleep(10)
            continue
        if done.returncode != 0:
            raise RuntimeError(f"next build failed:\n{output[-4000:]}")
        return WEB / dist_dir
    raise RuntimeError("gave up waiting for another next build to finish")


# --- first-load JS -------------------------------------------------------------------------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.css: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # `nomodule` scripts (the legacy polyfills) are skipped by every browser that runs the app.
        if tag == "script" and values.get("src") and "nomodule" not in values:
            self.external.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "stylesheet" and values.get("href"):
            self.css.append(str(values["href"]))


@dataclass(frozen=True)
class Bundle:
    scripts: int
    js_raw: int
    js_gzip: int
    css_gzip: int


def first_load(web_dir: Path, page: str = "agents/builder/index.html") -> Bundle:
    parser = _Scripts()
    parser.feed((web_dir / page).read_text())

    def sizes(urls: list[str]) -> tuple[int, int]:
        raw = packed = 0
        for url in dict.fromkeys(urls):  # each file once
            data = (web_dir / url.split("?")[0].lstrip("/")).read_bytes()
            raw += len(data)
            packed += len(gzip.compress(data, compresslevel=6))
        return raw, packed

    js_raw, js_gzip = sizes(parser.external)
    _, css_gzip = sizes(parser.css)
    return Bundle(len(dict.fromkeys(parser.external)), js_raw, js_gzip, css_gzip)


# --- browser -------------------------------------------------------------------------------------

WAIT_READY_JS = """() => new Promise((resolve) => {
  const check = () => {
    const mark = performance.getEntriesByName('builder:graph-ready')[0];
    if (!mark) return requestAnimationFrame(check);
    const node = document.querySelector('[data-testid="node-start"]');
    const box = node.getBoundingClientRect();
    resolve({ready: mark.startTime, nodes: mark.detail && mark.detail.nodes,
             x: box.left + box.width / 2, y: box.top + box.height / 2});
  };
  check();
})"""

FIRST_INPUT_JS = """() => new Promise((resolve) => {
  const done = (entry) => resolve(entry && {start: entry.startTime, processing: entry.processingStart,
    end: entry.processingEnd, duration: entry.duration, name: entry.name,
    selected: !!document.querySelector('.react-flow__node.selected [data-testid="node-start"]'),
    dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd});
  const found = performance.getEntriesByType('first-input')[0];
  if (found) return done(found);
  new PerformanceObserver((list) => done(list.getEntries()[0])).observe({type: 'first-input', buffered: true});
  setTimeout(() => done(null), 5000);
})"""

DRAG_JS = """async ({nodeId, frames}) => {
  const element = document.querySelector(`[data-testid="node-${nodeId}"]`);
  const box = element.getBoundingClientRect();
  const cx = box.left + 40, cy = box.top + 20;
  const at = (x, y) => ({bubbles: true, cancelable: true, view: window, clientX: x, clientY: y, button: 0, buttons: 1});
  element.dispatchEvent(new MouseEvent('mousedown', at(cx, cy)));
  const starts = [], work = [];
  const channel = new MessageChannel();
  let t0 = 0;
  channel.port1.onmessage = () => work.push(performance.now() - t0);
  await new Promise((resolve) => {
    let i = 0;
    const frame = () => {
      starts.push(performance.now());
      if (i++ >= frames) return resolve();
      t0 = performance.now();
      const angle = (i / frames) * 4 * Math.PI;
      const x = cx + 90 * Math.sin(angle), y = cy + 45 * (1 - Math.cos(angle));
      document.dispatchEvent(new MouseEvent('mousemove', at(x, y)));
      requestAnimationFrame(frame);
      channel.port2.postMessage(0);
    };
    requestAnimationFrame(frame);
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  document.dispatchEvent(new MouseEvent('mouseup', at(cx, cy)));
  return {work: work.slice(0, frames), intervals: starts.slice(1).map((t, k) => t - starts[k])};
}"""


@dataclass
class GraphSamples:
    ready_cold: list[float] = field(default_factory=list)
    tti_cold: list[float] = field(default_factory=list)
    ready_warm: list[float] = field(default_factory=list)
    tti_warm: list[float] = field(default_factory=list)
    click_paint: list[float] = field(default_factory=list)
    frame_work: list[float] = field(default_factory=list)
    frame_interval: list[float] = field(default_factory=list)
    round_p95: list[float] = field(default_factory=list)


class Api:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.token = ""

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = httpx.request(method, f"{self.base}{API}{path}", headers=headers, timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def browser_session(self, email: str) -> dict[str, Any]:
        """A Playwright storage state signed in as `email`: a fresh refresh cookie of its own (the
        server rotates refresh tokens and revokes a family whose old token comes back, so two
        contexts must never share one) and the app's signed-in hint."""
        response = httpx.post(f"{self.base}{API}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        response.raise_for_status()
        host = httpx.URL(self.base).host
        cookies = [
            {
                "name": cookie.name,
                "value": cookie.value or "",
                "domain": host,
                "path": cookie.path or "/",
                "httpOnly": True,
                "secure": False,
                "sameSite": "Strict",
                "expires": -1,
            }
            for cookie in response.cookies.jar
        ]
        if not cookies:
            raise RuntimeError("login set no refresh cookie")
        origin = {"origin": self.base, "localStorage": [{"name": "agentflow-signed-in", "value": "1"}]}
        return {"cookies": cookies, "origins": [origin]}

    def reset_draft(self, agent_id: str, definition: dict[str, Any]) -> None:
        for _ in range(5):
            revision = self.call("GET", f"/agents/{agent_id}/draft")["revision"]
            with contextlib.suppress(RuntimeError):
                self.call("PUT", f"/agents/{agent_id}/draft", json={"definition": definition, "revision": revision})
                return
            time.sleep(0.5)  # the page's last autosave landed in between
        raise RuntimeError("could not reset the draft")


def load_and_click(page: Any, url: str) -> tuple[float, float, float]:
    """Navigate, wait for the graph, click a node as soon as it is there: (ready, TTI, click→paint)."""
    page.goto(url, wait_until="commit")
    ready = page.evaluate(WAIT_READY_JS)
    page.mouse.click(ready["x"], ready["y"])
    entry = page.evaluate(FIRST_INPUT_JS)
    if not entry:
        raise RuntimeError("the click after graph ready produced no first-input entry")
    if not entry["selected"]:
        raise RuntimeError("the click after graph ready did not select the node")
    return float(ready["ready"]), float(entry["processing"]), float(entry["duration"])


def measure_round(
    browser: Any,
    email: str,
    api: Api,
    graphs: dict[str, tuple[str, dict[str, Any], str]],
    samples: dict[str, GraphSamples],
) -> None:
    for name, (agent_id, definition, drag_node) in graphs.items():
        api.reset_draft(agent_id, definition)
        context = browser.new_context(viewport=VIEWPORT, storage_state=api.browser_session(email))
        try:
            page = context.new_page()
            url = f"{api.base}/agents/builder/?id={agent_id}"
            ready, tti, _ = load_and_click(page, url)  # cold: empty HTTP cache
            samples[name].ready_cold.append(ready)
            samples[name].tti_cold.append(tti)
            ready, tti, paint = load_and_click(page, url)  # warm
            samples[name].ready_warm.append(ready)
            samples[name].tti_warm.append(tti)
            samples[name].click_paint.append(paint)
            page.keyboard.press("Escape")
            page.wait_for_timeout(300)
            drag = page.evaluate(DRAG_JS, {"nodeId": drag_node, "frames": DRAG_FRAMES})
            if len(drag["work"]) < DRAG_FRAMES * 0.9:
                raise RuntimeError(f"only {len(drag['work'])} frames measured")
            samples[name].frame_work.extend(drag["work"])
            samples[name].round_p95.append(percentile(drag["work"], 0.95))
            samples[name].frame_interval.extend(drag["intervals"])
            page.wait_for_timeout(1500)  # let the autosave of the drag land before the next reset
        finally:
            context.close()


# --- statistics and output -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def chromium_version() -> str:
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "chromium"


def rows_for(samples: dict[str, GraphSamples], bundle: Bundle) -> list[tuple[str, str, str, str, str]]:
    big, base = samples["builder"], samples["baseline"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "—"

    def ok(value: float, goal: float) -> str:
        return f"≤ {goal:g} {'✅' if value <= goal else '❌'}"

    rows: list[tuple[str, str, str, str, str]] = []

    def time_row(label: str, a: list[float], b: list[float], goal: float | None = None, digits: int = 0) -> None:
        va, vb = median(a), median(b)
        rows.append((label, f"{va:.{digits}f} ms", f"{vb:.{digits}f} ms", ratio(va, vb), ok(va, goal) if goal else ""))

    time_row("graph ready, cold (median)", big.ready_cold, base.ready_cold)
    time_row("**time to interactive, cold** (median)", big.tti_cold, base.tti_cold, GOAL_TTI_MS)
    time_row("graph ready, warm (median)", big.ready_warm, base.ready_warm)
    time_row("**time to interactive, warm** (median)", big.tti_warm, base.tti_warm, GOAL_TTI_MS)
    rows.append(
        (
            "time to interactive, cold (worst round)",
            f"{max(big.tti_cold):.0f} ms",
            f"{max(base.tti_cold):.0f} ms",
            ratio(max(big.tti_cold), max(base.tti_cold)),
            ok(max(big.tti_cold), GOAL_TTI_MS),
        )
    )
    time_row("click → next paint after ready (median)", big.click_paint, base.click_paint, digits=0)
    va, vb = median(big.round_p95), median(base.round_p95)
    rows.append(
        (
            "**drag frame time p95** (median of rounds)",
            f"{va:.1f} ms",
            f"{vb:.1f} ms",
            ratio(va, vb),
            ok(va, GOAL_DRAG_P95_MS),
        )
    )
    rows.append(
        (
            "drag frame time p95 per round",
            ", ".join(f"{v:.1f}" for v in big.round_p95),
            ", ".join(f"{v:.1f}" for v in base.round_p95),
            "",
            "",
        )
    )
    for q, label in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        va, vb = percentile(big.frame_work, q), percentile(base.frame_work, q)
        rows.append((f"drag frame time {label}, all frames pooled", f"{va:.1f} ms", f"{vb:.1f} ms", ratio(va, vb), ""))
    va, vb = percentile(big.frame_interval, 0.95), percentile(base.frame_interval, 0.95)
    rows.append(("drag rAF interval p95 (60 Hz vsync)", f"{va:.1f} ms", f"{vb:.1f} ms", ratio(va, vb), ""))

    def missed(values: list[float]) -> float:
        return 100 * sum(1 for v in values if v > 20.0) / len(values) if values else float("nan")

    rows.append(
        (
            "drag frames that missed vsync (interval > 20 ms)",
            f"{missed(big.frame_interval):.1f} %",
            f"{missed(base.frame_interval):.1f} %",
            "",
            "",
        )
    )
    kb = bundle.js_gzip / 1024
    rows.append(
        (
            "**first-load JS of /agents/builder/, gzip**",
            f"{kb:.1f} KB ({bundle.scripts} files, {bundle.js_raw / 1024:.0f} KB raw)",
            "",
            "",
            ok(kb, GOAL_FIRST_LOAD_KB),
        )
    )
    rows.append(("first-load CSS, gzip", f"{bundle.css_gzip / 1024:.1f} KB", "", "", ""))
    return rows


def print_table(rows: list[tuple[str, str, str, str, str]]) -> None:
    headers = ("metric", "200 nodes / 250 edges", "baseline 10 / 9", "ratio", "goal")
    plain = [tuple(cell.replace("**", "") for cell in row) for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in plain)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in plain:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def describe_source() -> str:
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "this source tree (not a git checkout)"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "web/src"], capture_output=True, text=True, check=False
    )
    return f"commit `{head.stdout.strip()}`" + (
        " with uncommitted changes under web/src" if dirty.stdout.strip() else ""
    )


def write_results(
    path: Path,
    rows: list[tuple[str, str, str, str, str]],
    args: argparse.Namespace,
    started_at: dt.datetime,
    busy: list[float],
    web_dir: Path,
) -> None:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    export = web_dir.relative_to(REPO) if web_dir.is_relative_to(REPO) else web_dir
    command = " ".join(shlex.quote(part) for part in [".venv/bin/python", "bench/web_bench.py", *sys.argv[1:]])
    lines = [
        "# Web builder benchmark",
        "",
        "Generated by `bench/web_bench.py` (how it measures, and the exact definitions, are in its docstring).",
        "",
        f"Command: `{command}`  ",
        f"Run: {started_at:%Y-%m-%d %H:%M} UTC, {describe_source()}, export `{export}`, "
        f"{args.rounds} rounds x {DRAG_FRAMES} drag frames per graph.",
        "",
        "| metric | 200 nodes / 250 edges | baseline: 10 nodes / 9 edges | ratio | goal |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
        "",
        "- **time to interactive**: navigation start → the first click after the whole graph is rendered"
        " and measured is handled (Event Timing `processingStart`); cold = fresh browser context (empty"
        " HTTP cache, session restored from the refresh cookie), warm = the same page loaded again.",
        "- **drag frame time**: main-thread work per animation frame while a node is dragged, one pointer"
        " move per frame: rAF callback start → a task posted from it, which runs after that frame's"
        " style, layout, paint and layerization. The goal is checked on the median over rounds of each"
        " round's p95 (as the other benches report medians over rounds, so one round disturbed by other"
        " work on the shared machine does not decide it); the pooled percentiles are shown too.",
        "- **first-load JS**: the `<script src>` files `agents/builder/index.html` loads (without the"
        " `nomodule` polyfills), gzip level 6, summed; panels opened later (node settings, test run,"
        " history, publish) load on demand, prefetched once the graph is ready, and are not counted.",
        "",
        "What keeps the builder fast (web/src/features/builder; measured with Chrome traces while tuning):",
        "",
        "- A drag frame's main-thread time went from ~13-14 ms (p50) to ~9-10 ms on this machine."
        " Chrome re-layerizes every paint chunk on the page each frame (`Layerize` was ~5 ms of it);"
        " every clip (`overflow: hidden`, an SVG's own viewport) and every transformed element is a"
        " chunk. The canvas node keeps them few: icons are SVGs that do not clip, handles are placed"
        " with margins instead of React Flow's `translate()`, text is shortened in JS and the card"
        " clips only when its text is long. Layerize dropped to ~2.7 ms.",
        "- Canvas nodes subscribe to nothing that changes while dragging: the catalog and read-only"
        " flag come by context, issue counts from their own store, run status from the run store. A"
        " drag frame updates one store the canvas alone reads (React Flow's controlled `nodes`), and"
        " the node card compares only what it shows (not the size and position React Flow passes),"
        " so the card is not re-rendered while it moves. JS per frame: ~5.2 → ~3.7 ms.",
        "- The mini map stands still while a node is dragged (a copy of it as it was; the live map comes"
        " back on drop). React Flow's live map follows every node on every frame: a store subscriber"
        " per node and a repaint of its whole SVG. Interleaved A/B on one server, 8 rounds each (a"
        " script outside the repo): median of round p95s 16.3 ms with the live map, 13.4 with the still"
        " copy, 13.1 with no map at all.",
        "- What is left is mostly React Flow's own: a CPU profile of the drag (CDP `Profiler`, a"
        " `next build --no-mangling` export) puts ~3 ms of each frame in the one store update React"
        " Flow makes when the controlled `nodes` change, ~2.4 ms of it in its ~1,000 store"
        " subscribers (a node, an edge and each handle each re-run a selector; every edge recomputes"
        " its end points) checking whether they changed, and ~8 ms in Chrome's style, layout, paint"
        " and `Layerize`.",
        "- Panels that are not needed to show the graph (node settings, test run, history, publish,"
        " shortcuts) load on demand and are prefetched once the graph is ready: first-load JS ~318 →"
        " ~300 KB gzip. `onlyRenderVisibleElements` is off: at fit-view zoom every node is visible, and"
        " with it React Flow could not fit nodes it had never rendered.",
        "",
        "Machine:",
        "",
        f"- nproc: {os.cpu_count()} ({cpu_model}), memory {psutil.virtual_memory().total / 2**30:.0f} GiB",
        f"- machine busy before each round: {', '.join(f'{b:.0f}%' for b in busy)} (the machine is shared;"
        " other work skews browser timings more than server ones)",
        f"- {chromium_version()}, headless, flags `{' '.join(CHROMIUM_ARGS)}`,"
        f" viewport {VIEWPORT['width']}x{VIEWPORT['height']}",
        f"- OS: {platform.platform()}; Python {platform.python_version()}",
        "",
    ]
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds (a cold and a warm load, and a drag, per graph)")
    parser.add_argument("--web-dir", type=Path, help="the static export to serve (default: build web/.next-bench)")
    parser.add_argument("--rebuild", action="store_true", help="build the export even if --web-dir exists")
    parser.add_argument("--base-url", help="measure this running server (it must serve --web-dir's build)")
    parser.add_argument(
        "--env-file",
        type=Path,
        help="run on a stack already up: its environment, `export KEY=VALUE` lines"
        " (default: start an embedded PostgreSQL + Valkey in a temporary directory)",
    )
    parser.add_argument("--nodes", type=int, default=200, help="nodes of the measured graph (default 200)")
    parser.add_argument("--edges", type=int, default=250, help="edges of the measured graph (default 250)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "web_bench.md", help="results file")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=25.0,
        help="before each round, wait while the machine is busier than this %% (default 25)",
    )
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for quiet, s (default 120)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    from playwright.sync_api import sync_playwright

    started_at = dt.datetime.now(dt.UTC)
    web_dir = args.web_dir or WEB / ".next-bench"
    if args.rebuild or not (web_dir / "agents" / "builder" / "index.html").exists():
        web_dir = build_export(web_dir.name if web_dir.parent.resolve() == WEB.resolve() else ".next-bench")
    bundle = first_load(web_dir)
    print(f"first-load JS of the builder: {bundle.js_gzip / 1024:.1f} KB gzip in {bundle.scripts} files", flush=True)

    log_dir = Path(tempfile.gettempdir())
    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        if not base_url:
            if args.env_file:
                stack_env = read_env_file(args.env_file)
            else:
                from agentflow.embedded.stack import EmbeddedStack

                data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agentflow-web-bench-")))
                print(f"starting embedded PostgreSQL + Valkey in {data_dir}", flush=True)
                stack_env = stack.enter_context(EmbeddedStack(data_dir / "data")).env
            base_url = stack.enter_context(api_serving(web_dir, stack_env, log_dir))
        api = Api(base_url.rstrip("/"))
        email = f"web-bench-{secrets.token_hex(4)}@example.com"
        signup = api.call(
            "POST", "/auth/signup", json={"email": email, "password": PASSWORD, "name": "Bench", "org_name": "Bench"}
        )
        api.token = signup["access_token"]
        graphs: dict[str, tuple[str, dict[str, Any], str]] = {}
        for name, n_nodes, n_edges, per_column, drag_node in (
            ("builder", args.nodes, args.edges, 10, f"n{min(args.nodes - 1, 95)}"),
            ("baseline", 10, 9, 3, "n5"),
        ):
            definition = generate_graph(n_nodes, n_edges, per_column=per_column)
            agent = api.call("POST", "/agents", json={"name": f"Bench {name}", "definition": definition})
            issues = api.call("GET", f"/agents/{agent['id']}/draft")["issues"]
            if issues:
                raise RuntimeError(f"the generated {name} graph is not valid: {issues[:3]}")
            graphs[name] = (agent["id"], definition, drag_node)
        print(f"agents: {args.nodes} nodes / {args.edges} edges and 10 / 9, both valid; server {base_url}", flush=True)

        samples = {name: GraphSamples() for name in graphs}
        busy: list[float] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for round_no in range(1, args.rounds + 1):
                    busy.append(wait_for_quiet(args.quiet_threshold, args.quiet_wait))
                    measure_round(browser, email, api, graphs, samples)
                    big = samples["builder"]
                    print(
                        f"round {round_no}: TTI cold {big.tti_cold[-1]:.0f} ms, warm {big.tti_warm[-1]:.0f} ms; "
                        f"drag p95 so far {percentile(big.frame_work, 0.95):.1f} ms",
                        flush=True,
                    )
            finally:
                browser.close()

    rows = rows_for(samples, bundle)
    print()
    print_table(rows)
    if not args.no_write:
        write_results(args.output, rows, args, started_at, busy, web_dir.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
