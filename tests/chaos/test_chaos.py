"""Chaos on `uep dev`: whole cases with concurrent messages while the worker is SIGKILLed at
random moments and PostgreSQL is stopped and started again; then nothing acknowledged is lost
or doubled, every stream is whole, every case audits clean, the read models equal a rebuild,
and the stack is still up.

Bounded by default (``make test``); larger with UEP_CHAOS_CASES and UEP_CHAOS_KILLS;
UEP_CHAOS_SEED replays a run's random moments. Nothing here waits by the clock: the outage lasts
until `uep dev`, the projector and the restarted worker have each said they felt it, and each
kill waits for `uep dev` to say it restarted the worker.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import psutil
import pytest
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from domain.calendar_data import build_calendar
from domain.deadlines import uept_earliest_start
from domain.events import ENTRY_CRITERIA
from eventstore.postgres import PostgresEventStore
from projections import all_projections
from tests.devstack import UEP, DevRun, Stack, gone, ready, said_ready, stack_process, stop
from uep.converter import DATA_CONVERTER
from uep.devstack.postgres import ensure_embedded, stop_embedded
from workflows.io import CaseResult, UpdateResult
from workflows.names import STATE_QUERY, TASK_QUEUE, WORKFLOW_TYPE, party_record_id, workflow_id
from workflows.party_io import PartyUpdateResult

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

CASES = int(os.environ.get("UEP_CHAOS_CASES", "6"))
KILLS = int(os.environ.get("UEP_CHAOS_KILLS", "3"))
SEED = int(os.environ.get("UEP_CHAOS_SEED", str(random.randrange(1_000_000))))
CALENDAR = build_calendar("england-and-wales", 2016, 2040)
SEND_ATTEMPTS = 120
"""Each attempt is the Temporal client's own retried RPC (with its backoff), or an update's
long poll that ran out while no worker was there to take it."""


@dataclass(frozen=True)
class Ack:
    """A message the workflow acknowledged, and the events it said it recorded."""

    case_id: str
    message_id: str
    name: str
    events: tuple[str, ...]


@dataclass
class Run:
    """What the chaos did and what came back."""

    acks: list[Ack] = field(default_factory=list)
    kills: int = 0
    outage_seconds: float = 0.0
    retried_sends: int = 0
    retried_because: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)
    dev: DevRun | None = None

    async def acknowledged(self, ack: Ack) -> None:
        """Record an acknowledgement and wake the chaos waiting for a number of them."""
        async with self.progress:
            self.acks.append(ack)
            self.progress.notify_all()

    async def reached(self, count: int, done: asyncio.Event) -> bool:
        """Wait until ``count`` messages were acknowledged (False: the cases ended first)."""
        async with self.progress:
            await self.progress.wait_for(lambda: len(self.acks) >= count or done.is_set())
        return len(self.acks) >= count


Step = list[tuple[str, str, dict[str, Any]]]
"""Messages sent together: (to "case" or "party", name, payload)."""
HOLDS_RANGE, HOLDS_POSITION = "range", "position"
"""Between steps: wait until the case holds what its Party record told it."""


def steps(begun: date, today: date, uid: str) -> list[Step | str]:
    """A Gas Supplier case start to completion, with its Party's range, security assessment and
    credit on the Party record; the messages of one step go concurrently."""
    earliest = uept_earliest_start(begun, CALENDAR)
    booked = begun + timedelta(weeks=12)
    on = {"effective_on": today.isoformat()}
    first = {"effective_on": begun.isoformat()}
    return [
        [
            (
                "party",
                "allocate_user_id_range",
                {"first": uid[:12] + "0000", "last": uid[:12] + "ffff"},
            )
        ],
        HOLDS_RANGE,
        [("case", "propose_user_id", {"user_id": uid, **first})],
        [("case", "accept_user_id", {"user_id": uid, **first})],
        [
            ("case", "give_uept_notice", {"planned_start_on": earliest.isoformat(), **first}),
            (
                "party",
                "book_party_security_assessment",
                {"roles": ["gas_supplier"], "assessment_on": booked.isoformat(), **first},
            ),
            ("party", "notify_party_credit_cover", {"requirement": "0", "threshold": "2400"}),
        ],
        [
            ("case", "confirm_entry_criteria", {"criteria": list(ENTRY_CRITERIA), **first}),
            (
                "party",
                "complete_party_security_assessment",
                {"assessment_id": "S1", "effective_on": booked.isoformat()},
            ),
        ],
        [
            ("case", "start_uept", {"effective_on": earliest.isoformat()}),
            (
                "party",
                "set_party_security_status",
                {"assessment_id": "S1", "status": "approved", "effective_on": booked.isoformat()},
            ),
        ],
        [("case", "submit_test_completion_report", on)],
        [("case", "confirm_report_receipt", on)],
        [("case", "conclude_uept_review", {"outcome": "concluded", **on})],
        [("case", "record_quality_gate_meeting", {"successful": True, **on})],
        [("case", "issue_test_certificate", {"certificate_ref": "TCC", **on})],
        HOLDS_POSITION,
        [
            ("case", "verify_evidence", {"requirement": r})
            for r in ("user_id", "security", "credit")
        ],
        [("case", "verify_evidence", {"requirement": "uept"})],
        [("case", "record_panel_information_paper", {"reference": "SECP/CHAOS", **on})],
    ]


MESSAGES_PER_CASE = sum(
    len(step) for step in steps(date.today(), date.today(), "0" * 16) if isinstance(step, list)
)


async def send(handle: WorkflowHandle[Any, Any], name: str, body: dict[str, Any], run: Run) -> None:
    """Send until acknowledged: the same update id and message id each time, so a retry after a
    lost answer is answered from the first delivery and changes nothing."""
    message_id = f"{handle.id}/{name}/{body.get('requirement', '')}"
    answer = PartyUpdateResult if handle.id.startswith("uep-party-") else UpdateResult
    for _ in range(SEND_ATTEMPTS):
        try:
            result = await handle.execute_update(
                name, {**body, "message_id": message_id}, id=message_id, result_type=answer
            )
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            if run.dev is not None and run.dev.process.poll() is not None:
                raise AssertionError(f"uep dev stopped:\n{run.dev.output()[-3000:]}") from None
            run.retried_sends += 1
            run.retried_because[f"{type(err).__name__}: {str(err)[:100]}"] += 1
            continue
        except WorkflowUpdateFailedError as err:
            raise AssertionError(f"{message_id} refused: {err.cause}") from err
        await run.acknowledged(Ack(handle.id, message_id, name, tuple(result.events)))
        return
    raise AssertionError(f"{message_id} was never acknowledged")


def _holds(view: dict[str, Any], what: str) -> bool:
    terms = view.get("party_record") or {}
    if what == HOLDS_RANGE:
        return bool(terms.get("user_id_ranges"))
    return all(terms.get(area, {}).get("met") for area in ("security", "credit"))


async def holds(handle: WorkflowHandle[Any, Any], what: str) -> None:
    """Ask the case (through kills) until it holds what its Party record told it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # each query is a round trip to the case: no sleep
        try:
            if _holds(await handle.query(STATE_QUERY), what):
                return
        except RPCError:
            pass  # a worker was just killed: the next query reaches its successor
    raise AssertionError(f"{handle.id} never held the Party record's {what}")


async def record_opened(case: WorkflowHandle[Any, Any]) -> None:
    """Follow the case's history on the server's long poll until its signal-with-start of the
    Party record has completed: the record exists from then on (a message to it before would
    be "workflow not found")."""
    opening: set[int] = set()
    async for event in case.fetch_history_events(wait_new_event=True):
        if event.activity_task_scheduled_event_attributes.activity_type.name == "signal_with_start":
            opening.add(event.event_id)
        if event.activity_task_completed_event_attributes.scheduled_event_id in opening:
            return
    raise AssertionError(f"{case.id} closed before opening its Party record")


async def one_case(client: Client, n: int, run: Run) -> str:
    """Start a case and drive it (and its Party record) to completion; its id."""
    today = datetime.now(UTC).date()
    begun = today - timedelta(days=200)
    pid = f"chaos{n}x{uuid.uuid4().hex[:6]}"
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        {
            "party": {
                "party_id": pid,
                "party_name": f"Chaos {n}",
                "category": "small_supplier",
                "licences": ["gas_supply"],
            },
            "role": "gas_supplier",
            "started_on": begun.isoformat(),
        },
        id=workflow_id(pid, "gas_supplier"),
        task_queue=TASK_QUEUE,
        result_type=CaseResult,
    )
    await record_opened(handle)
    record = client.get_workflow_handle(party_record_id(pid))
    targets = {"case": handle, "party": record}
    for step in steps(begun, today, f"90b3d51f{n:04x}{SEED % 65536:04x}"):
        if isinstance(step, str):
            await holds(handle, step)
            continue
        await asyncio.gather(*(send(targets[to], name, body, run) for to, name, body in step))
    result: CaseResult = await handle.result()
    assert result.status == "completed", result
    return handle.id


async def chaos(
    dev: DevRun, stack: Stack, rng: random.Random, run: Run, done: asyncio.Event
) -> None:
    """SIGKILL the worker at random points of the run (after a random number of acknowledged
    messages), and stop PostgreSQL once, right after one of the kills."""
    pgdata = stack.state / "postgres"
    port = int(stack.ports[stack.ports.index("--pg-port") + 1])
    total = CASES * MESSAGES_PER_CASE
    points = sorted(rng.sample(range(2, total - 2), KILLS))
    outage_after = rng.randrange(KILLS) if KILLS else -1
    worker = stack_process(dev, "uep.cli worker")  # the banner waited for it to poll
    assert worker is not None, dev.output()
    for kill, point in enumerate(points):
        if not await run.reached(point, done):
            return
        mark = dev.mark()
        worker.send_signal(signal.SIGKILL)
        run.kills += 1
        if kill == outage_after:
            await asyncio.to_thread(stop_embedded, pgdata)
            down = time.monotonic()
            # the outage lasts until the stack has felt it: uep dev, the projector, and the
            # worker started again while PostgreSQL is away, each say so
            for felt in (
                "does not answer",
                "the projector is not ready",
                "the worker is not ready",
            ):
                await asyncio.to_thread(dev.wait_for, felt, 120.0, mark)
            await asyncio.to_thread(ensure_embedded, pgdata, port)
            run.outage_seconds += time.monotonic() - down
        restarted = await asyncio.to_thread(dev.wait_for, "restarted the worker (pid", 60.0, mark)
        worker = psutil.Process(int(restarted.rsplit("pid ", 1)[1].rstrip(")")))


async def uep(stack: Stack, *args: str) -> tuple[int, str]:
    """A `uep` command as another terminal runs it."""
    process = await asyncio.create_subprocess_exec(
        UEP, *args, env=stack.env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode()


async def read_models(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Every read-model table's rows, in a stable order."""
    found: dict[str, list[str]] = {}
    for projection in all_projections():
        for table in projection.tables(projection.table):
            rows = await pool.fetch(f'SELECT * FROM "{table}"')
            found[table] = sorted(repr(sorted(dict(r).items())) for r in rows)
    return found


async def check_store(pool: asyncpg.Pool, cases: list[str], run: Run) -> None:
    """Exactly once, contiguous, chained."""
    for ack in run.acks:
        stored = await pool.fetch(
            "SELECT type FROM events WHERE stream_id = $1 AND metadata->>'causation_id' = $2 "
            "ORDER BY version",
            ack.case_id,
            ack.message_id,
        )
        # missed DCC deadlines found on the way are the timer's facts, not this message's
        expected = [t for t in ack.events if t != "DccDeadlineMissed"]
        if [r["type"] for r in stored] != expected:
            run.findings.append(f"{ack.message_id}: stored {[r['type'] for r in stored]}")
    row = await pool.fetchrow("SELECT count(*), min(position), max(position) FROM events")
    assert row is not None
    count, low, high = row
    head = await pool.fetchval("SELECT position FROM event_log_head")
    if not (low == 1 and high == count == head):
        run.findings.append(f"positions {low}..{high}, {count} events, head {head}")
    store = PostgresEventStore(pool)
    for case_id in cases:
        versions = await pool.fetchval(
            "SELECT array_agg(version ORDER BY version) FROM events WHERE stream_id = $1", case_id
        )
        if list(versions) != list(range(1, len(versions) + 1)):
            run.findings.append(f"{case_id}: versions {versions}")
        chain = await store.verify_chain(case_id)
        if not chain.ok:
            run.findings.append(f"{case_id}: hash chain broken at {chain.first_bad_version}")


async def test_no_acknowledged_message_is_lost_or_doubled_under_chaos(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    if stack.env.get("UEP_DATABASE_URL"):
        pytest.skip("stops the embedded PostgreSQL; UEP_DATABASE_URL points elsewhere")
    began = time.monotonic()
    rng = random.Random(SEED)
    stack.env["UEP_DEV_MAX_DEATHS"] = str(KILLS + 2)  # the kills are ours, not a crash loop
    dev = await asyncio.to_thread(stack.start)
    run = Run(dev=dev)
    try:
        info = stack.info()
        client = await Client.connect(
            info.temporal_address, namespace=info.namespace, data_converter=DATA_CONVERTER
        )
        done = asyncio.Event()
        chaotic = asyncio.create_task(chaos(dev, stack, rng, run, done))
        try:
            async with asyncio.TaskGroup() as group:  # one failing case cancels the others
                driven = [group.create_task(one_case(client, n, run)) for n in range(CASES)]
            cases = [task.result() for task in driven]
            done.set()
            await chaotic
        finally:
            chaotic.cancel()

        code, out = await uep(stack, "projections", "wait", "--timeout", "120")
        assert code == 0, out
        pool = await asyncpg.create_pool(info.owner_database_url, min_size=1, max_size=4)
        try:
            await check_store(pool, cases, run)
            live = await read_models(pool)
            code, out = await uep(stack, "projections", "rebuild")
            if code != 0:
                run.findings.append(f"uep projections rebuild: {out}")
            rebuilt = await read_models(pool)
            run.findings += [
                f"read model {t} differs from a rebuild" for t in live if live[t] != rebuilt[t]
            ]
        finally:
            await pool.close()
        # the archiver signs a tree head once a minute while the log grows; a quick run may end
        # before its first, so sign one now, as an operator would before an audit
        code, out = await uep(stack, "audit", "checkpoint")
        if code != 0:
            run.findings.append(f"uep audit checkpoint: {out}")
        gate = asyncio.Semaphore(2)

        async def audit(case_id: str) -> None:
            async with gate:
                code, out = await uep(stack, "audit", case_id)
            if code != 0:
                run.findings.append(f"uep audit {case_id}: {out}")

        await asyncio.gather(*(audit(c) for c in cases))
        for word in ("uep.cli worker", "uep.cli projector", "start-dev"):
            if stack_process(dev, word) is None:
                run.findings.append(f"no live {word} under uep dev")
        for name in ("worker", "projector"):
            await asyncio.to_thread(dev.wait_for, said_ready(name), 120.0)
            if not ready(info.metrics[name])[0]:
                run.findings.append(f"{name} not ready")
        if dev.process.poll() is not None or gone_parent(dev):
            run.findings.append("uep dev is not running")
        # the worker dies because it is killed; nothing else may die on its own
        run.findings += [
            line
            for line in dev.output().splitlines()
            if "exited unexpectedly" in line and "the worker" not in line
        ]
    finally:
        status = await asyncio.to_thread(stop, dev)
    with capsys.disabled():  # the counts belong in `make test`'s output, pass or fail
        print(
            f"\nchaos (seed {SEED}): cases {CASES}, messages {len(run.acks)}, kills {run.kills}, "
            f"outage {run.outage_seconds:.1f}s, sends retried {run.retried_sends} "
            f"{dict(run.retried_because.most_common(3))}, "
            f"findings {len(run.findings)}, {time.monotonic() - began:.0f}s"
        )
    assert run.findings == [], "\n".join(run.findings)
    assert run.kills == KILLS and status == 0
    assert len(run.acks) == CASES * MESSAGES_PER_CASE


def gone_parent(dev: DevRun) -> bool:
    """True when `uep dev` itself has ended."""
    try:
        return gone(psutil.Process(dev.process.pid))
    except psutil.NoSuchProcess:
        return True
