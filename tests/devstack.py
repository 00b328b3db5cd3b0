"""Running `uep dev` from a test: free ports, a private state directory, the banner, the
stack's file, other terminals' commands, and its processes (tests/integration, tests/chaos)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from tests.pg import fresh_database_sync
from uep.devstack.postgres import free_port, port_in_use
from uep.devstack.stackfile import StackInfo

UEP = str(Path(sys.executable).parent / "uep")
START_WITHIN = 90.0


@dataclass
class DevRun:
    """One `uep dev` process, where its output goes, and the lines it has said so far (each
    line wakes whoever waits for one: the supervisor announces restarts, PostgreSQL going and
    coming back, and each service's readiness, so a test waits for those, never polls)."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    lines: list[str] = field(default_factory=list)
    _heard: threading.Condition = field(default_factory=threading.Condition)
    _streams_open: int = 2

    def output(self) -> str:
        """Everything printed so far, stdout then stderr."""
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def mark(self) -> int:
        """Where the output is now: :meth:`wait_for` ``since`` it looks at later lines only."""
        with self._heard:
            return len(self.lines)

    def wait_for(
        self, wanted: str | Callable[[list[str]], bool], within: float = 60.0, since: int = 0
    ) -> str:
        """Block until a line (from ``since``) has ``wanted`` in it (that line is returned), or
        ``wanted(lines)`` holds (the last line). Fails once `uep dev` has ended, or after
        ``within`` seconds."""

        def holds() -> bool:
            later = self.lines[since:]
            return wanted(later) if callable(wanted) else any(wanted in line for line in later)

        with self._heard:
            self._heard.wait_for(lambda: holds() or self._streams_open == 0, within)
            if holds():
                later = self.lines[since:]
                if callable(wanted):
                    return later[-1]
                return next(line for line in later if wanted in line)
        raise AssertionError(
            f"uep dev did not say {wanted!r} within {within:.0f}s:\n{self.output()[-3000:]}"
        )

    def copy(self, stream: IO[bytes], to: Path) -> None:
        """Copy one of its streams to a file, line by line, waking waiters (a thread)."""
        with stream, to.open("wb") as o:
            for line in stream:
                o.write(line)
                o.flush()
                with self._heard:
                    self.lines.append(line.decode(errors="replace").rstrip("\n"))
                    self._heard.notify_all()
        with self._heard:
            self._streams_open -= 1
            self._heard.notify_all()


@dataclass
class Stack:
    """Ports and state directory shared by every start of the stack in a test."""

    state: Path
    env: dict[str, str]
    ports: list[str]
    runs: list[DevRun] = field(default_factory=list)
    """Every start, so the fixture can stop what a failed test left running."""

    def start(self) -> DevRun:
        """Start `uep dev` and wait for its banner (or fail with what it printed)."""
        n = len(list(self.state.parent.glob("dev-*.out")))
        out, err = self.state.parent / f"dev-{n}.out", self.state.parent / f"dev-{n}.err"
        process = subprocess.Popen(
            [UEP, "dev", *self.ports],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=self.state.parent,
        )
        run = DevRun(process, out, err)
        self.runs.append(run)
        for stream, to in ((process.stdout, out), (process.stderr, err)):
            assert stream is not None
            threading.Thread(target=run.copy, args=(stream, to), daemon=True).start()
        run.wait_for("Ctrl-C stops everything", START_WITHIN)
        assert "the stack is up" in run.output(), run.output()
        return run

    def info(self) -> StackInfo:
        """The running stack's file."""
        return StackInfo.model_validate_json((self.state / "stack.json").read_text())

    def uep(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another `uep` command as a second terminal would: no flags, same state dir."""
        return subprocess.run(
            [UEP, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )


def descendants(pid: int) -> list[psutil.Process]:
    """Every process below ``pid`` (the embedded PostgreSQL is detached: see postmaster)."""
    found: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
    return found


def gone(process: psutil.Process) -> bool:
    """True when the process has ended (a zombie waiting for a reaper counts as ended)."""
    try:
        return bool(process.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def postmaster(state: Path) -> psutil.Process | None:
    """The embedded PostgreSQL server of ``state``, from its pid file."""
    try:
        return psutil.Process(int((state / "postgres" / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, psutil.NoSuchProcess):
        return None


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Free ports and a private state directory; anything left running is stopped after."""
    state = tmp_path / ".uep"
    env = {**os.environ, "UEP_STATE_DIR": str(state)}
    for key in ("UEP_TEMPORAL_ADDRESS", "UEP_NAMESPACE"):
        env.pop(key, None)
    drop: Callable[[], None] | None = None
    if env.get("UEP_DATABASE_URL"):  # a database of its own on that server, dropped after
        env["UEP_DATABASE_URL"], drop = fresh_database_sync(env["UEP_DATABASE_URL"])
    port = DistinctPorts()
    ports = [
        "--temporal-port", str(port.take()),
        "--ui-port", str(port.take()),
        "--pg-port", str(port.take()),
        "--metrics-port", str(port.take(3)),
        "--api-port", str(port.take()),
    ]  # fmt: skip
    started = Stack(state, env, ports)
    yield started
    for run in started.runs:  # a start that failed, or a test that failed before its stop
        if run.process.poll() is None:
            run.process.terminate()
            try:
                run.process.wait(60)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait(10)
    if drop is not None:
        drop()
    server = postmaster(state)
    if server is not None and not gone(server):
        from uep.devstack.postgres import stop_embedded

        stop_embedded(state / "postgres")


def stop(run: DevRun, sig: int = signal.SIGTERM) -> int:
    """Signal `uep dev` and wait for it to exit; its status."""
    run.process.send_signal(sig)
    return run.process.wait(60)


class DistinctPorts:
    """Free ports, none handed out twice: the kernel may offer a port it just offered again,
    and two services of one stack on one port fail its start."""

    def __init__(self) -> None:
        self._taken: set[int] = set()

    def take(self, count: int = 1) -> int:
        """The first of ``count`` consecutive free ports not taken before."""
        for _ in range(100):
            first = free_port_run(count)
            block = set(range(first, first + count))
            if not block & self._taken:
                self._taken |= block
                return first
        raise RuntimeError(f"no {count} free ports apart from {sorted(self._taken)}")


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free ports (uep dev's metrics ports)."""
    for _ in range(100):
        first = free_port()
        if first + count < 65536 and not any(port_in_use(first + i) for i in range(count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def http_get(url: str) -> tuple[int, str]:
    """GET ``url``: its status and body (an error status is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read().decode()


def ready(metrics_url: str) -> tuple[bool, dict[str, Any]]:
    """A service's /readyz beside its /metrics: ready or not, and its checks."""
    status, body = http_get(metrics_url.replace("/metrics", "/readyz"))
    return status == 200, json.loads(body).get("checks", {})


def samples(metrics_url: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric from a Prometheus text page (labels as written)."""
    found: dict[str, float] = {}
    for line in http_get(metrics_url)[1].splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            found[key[len(name) :]] = float(value)
    return found


def said_ready(name: str) -> Callable[[list[str]], bool]:
    """Whether the last thing `uep dev` said of the ``name`` service's readiness is that it is
    ready (a restart, or an exit, makes it unknown until the next answer is said)."""

    def holds(lines: list[str]) -> bool:
        about = (f"the {name} is ", f"restarted the {name} ", f"the {name} exited")
        last = next((ln for ln in reversed(lines) if any(a in ln for a in about)), "")
        return f"the {name} is ready" in last

    return holds


def stack_process(run: DevRun, word: str) -> psutil.Process | None:
    """The child of `uep dev` whose command line has ``word`` (``uep.cli worker``...)."""
    for child in descendants(run.process.pid):
        try:
            if word in " ".join(child.cmdline()) and not gone(child):
                return child
        except psutil.NoSuchProcess:
            continue
    return None
