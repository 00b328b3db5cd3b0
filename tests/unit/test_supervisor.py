"""`uep dev`'s supervision: a child that exits is restarted after a backoff and said so; one that
keeps dying stops the stack, naming it; Ctrl-C / SIGTERM stops it cleanly. Real child processes
(tiny Python scripts), with the backoff made short."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from uep.devstack import supervisor
from uep.devstack.supervisor import Child, Stack, describe_exit, restart_wait

NOWHERE = "postgresql://postgres@127.0.0.1:9/postgres"  # the watch's port: nothing listens


def child(tmp_path: Path, name: str, code: str) -> Child:
    """A child running ``python -c code`` that can be started again."""
    log = tmp_path / f"{name}.log"

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    return Child(name, start(), log, respawn=start)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_WAIT_FIRST", 0.01)
    monkeypatch.setattr(supervisor, "RESTART_WAIT_MAX", 0.05)


def test_the_backoff_doubles_is_capped_and_jittered() -> None:
    waits = [restart_wait(n) for n in range(1, 12)]
    assert 0.375 <= waits[0] <= 0.625 and max(waits) <= 10 * 1.25
    assert all(w >= 0.75 * min(10.0, 0.5 * 2 ** (n - 1)) for n, w in enumerate(waits, 1))


def test_exit_statuses_are_said_plainly() -> None:
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(1) == "status 1"


@pytest.mark.usefixtures("quick")
async def test_a_child_that_keeps_dying_stops_the_stack_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(children=[child(tmp_path, "worker", "print('boom'); raise SystemExit(3)")])
    code = await asyncio.wait_for(supervisor._supervise(stack, asyncio.Event(), NOWHERE), 60)
    stack.stop()
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("the worker exited unexpectedly (status 3); restarting it") == 4
    assert "the worker died 5 times within 60s (last: status 3)" in err and "boom" in err


@pytest.mark.usefixtures("quick")
async def test_a_killed_child_is_restarted_and_the_stack_stays_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    idle = child(tmp_path, "projector", "import signal; signal.pause()")
    stack = Stack(children=[idle])
    stop = asyncio.Event()
    supervising = asyncio.create_task(supervisor._supervise(stack, stop, NOWHERE))
    first = idle.process.pid
    idle.process.send_signal(signal.SIGKILL)
    await asyncio.wait_for(idle.restarted.wait(), 60)  # the supervisor says it restarted it
    assert idle.process.pid != first and idle.process.poll() is None
    stop.set()  # what Ctrl-C / SIGTERM does
    assert await supervising == 0
    stack.stop()
    assert idle.exited()
    captured = capsys.readouterr()
    assert "the projector exited unexpectedly (killed by SIGKILL)" in captured.err
    assert f"restarted the projector (pid {idle.process.pid})" in captured.out
    assert "PostgreSQL at 127.0.0.1:9 does not answer" in captured.err


class Probe:
    """A real HTTP server answering /readyz as the test says (ready, or failing checks)."""

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}
        self.asked = threading.Event()
        self.answer = threading.Event()
        self.answer.set()
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                probe.asked.set()
                probe.answer.wait(30)
                checks = {"worker": {"ok": True, "detail": "polling"}}
                checks |= {n: {"ok": False, "detail": d} for n, d in probe.failing.items()}
                body = json.dumps({"ready": not probe.failing, "checks": checks}).encode()
                self.send_response(503 if probe.failing else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/readyz"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def test_readiness_changes_are_said_once_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ready, not ready (naming the checks), not ready for another reason, ready again; the
    same answer twice is said once; a child that does not answer keeps its last verdict; one
    started again has its next answer said."""
    probe = Probe()
    served = child(tmp_path, "worker", "import signal; signal.pause()")
    served.readyz = probe.url
    watch = supervisor._ReadinessWatch([served])
    said: list[str] = []

    async def look() -> None:
        await watch.look()
        captured = capsys.readouterr()
        said.extend((captured.out + captured.err).splitlines())

    try:
        await look()
        await look()
        probe.failing = {"postgresql": "ConnectionRefusedError"}
        await look()
        probe.failing = {"postgresql": "ConnectionRefusedError: again"}  # same check failing
        await look()
        probe.failing |= {"migrations": "cannot ask"}
        await look()
        probe.failing = {}
        await look()
        probe.server.shutdown()
        probe.server.server_close()
        await look()  # nothing answers (a restart under way): nothing said
        watch.forget(served)  # the supervisor started it again
        served.readyz = Probe().url
        await look()
    finally:
        served.process.kill()
        served.process.wait()
    assert said == [
        "uep dev: the worker is ready",
        "uep dev: the worker is not ready (postgresql: ConnectionRefusedError)",
        "uep dev: the worker is not ready (migrations: cannot ask; "
        "postgresql: ConnectionRefusedError: again)",
        "uep dev: the worker is ready",
        "uep dev: the worker is ready",
    ]


async def test_an_answer_asked_before_a_restart_is_not_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old process answered, but the child was started again while the answer travelled:
    that answer says nothing of the new process, so it is dropped."""
    probe = Probe()
    probe.answer.clear()  # hold the answer until the restart is done
    served = child(tmp_path, "projector", "import signal; signal.pause()")
    served.readyz = probe.url
    watch = supervisor._ReadinessWatch([served])
    try:
        looking = asyncio.create_task(watch.look())
        assert await asyncio.to_thread(probe.asked.wait, 30)
        watch.forget(served)
        probe.answer.set()
        await looking
    finally:
        served.process.kill()
        served.process.wait()
    captured = capsys.readouterr()
    assert "projector" not in captured.out + captured.err
    assert watch._said == {"projector": None}
