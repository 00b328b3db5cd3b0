"""`uep audit CASE`: gather a case's evidence from Temporal, the archive and the store; check it.

Histories come from Temporal while it still has them and from the history archive after
retention deleted them; a run found in both is compared, copy against copy. Every check either
passes, fails with the position it failed at, or is skipped with the reason - never a quiet
pass - and the exit status follows :func:`eventstore.verdicts.exit_status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.history import fold_stored, view_as_of
from eventstore.archive import ArchivedRun, history_sha256, runs_of, verify_archived
from eventstore.checkpoints import StoredHead, checkpoint_leaves, inclusion, latest_head
from eventstore.models import RecordedEvent
from eventstore.postgres import PostgresEventStore
from eventstore.verdicts import Check, Finding, Status, accept_skips, exit_status
from projections import all_projections
from projections.projector import CHECKPOINT_CHANNEL
from uep.audit import checks as c
from uep.audit.history import HistoryUnreadable, RunRecord, decode_run, history_from_json
from uep.audit.replay import replayer
from uep.audit.report import CaseAudit, build_report
from workflows.names import STATE_QUERY

ARCHIVE_GRACE = timedelta(minutes=5)
"""How long after closing a run may be missing from the archive before that is a finding (the
archiver polls visibility every few seconds; this leaves room for a restart)."""
READ_MODEL_WAIT = 10.0
"""Seconds to wait for the projector to reach the case's last event before skipping."""
QUERY_TIMEOUT = timedelta(seconds=5)
"""A worker answers a query in milliseconds; a worker that stopped moments ago is still listed
as a poller for a while, and its queries would wait for the server's own timeout."""


@dataclass
class Sources:
    """Where the evidence comes from; each part may be None when not available."""

    client: Client | None
    temporal_error: str
    pool: asyncpg.Pool
    public_key: Ed25519PublicKey | None
    key_error: str = ""


@dataclass
class Gathered:
    """A case's runs from Temporal and the archive, and what could not be found."""

    runs: list[RunRecord] = field(default_factory=list)
    temporal_runs: dict[str, RunRecord] = field(default_factory=dict)
    archived: list[ArchivedRun] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)


def _is_not_found(err: RPCError) -> bool:
    return err.status == RPCStatusCode.NOT_FOUND


async def _temporal_runs(client: Client, case_id: str) -> tuple[dict[str, RunRecord], list[str]]:
    """Every run Temporal still has, and run ids it names but no longer has."""
    found: dict[str, RunRecord] = {}
    wanted: list[str] = []
    try:
        latest = await client.get_workflow_handle(case_id).describe()
        wanted.append(latest.run_id)
    except RPCError as err:
        if not _is_not_found(err):
            raise
    # Visibility lists earlier executions of the same id (a case started again).
    async for listed in client.list_workflows(f'WorkflowId = "{case_id}"'):
        if listed.run_id not in wanted:
            wanted.append(listed.run_id)
    gone: list[str] = []
    while wanted:
        run_id = wanted.pop(0)
        if run_id in found or run_id in gone:
            continue
        try:
            history = await client.get_workflow_handle(case_id, run_id=run_id).fetch_history()
        except RPCError as err:
            if not _is_not_found(err):
                raise
            gone.append(run_id)
            continue
        run = decode_run(history, "temporal")
        found[run.run_id] = run
        if run.previous_run_id:
            wanted.append(run.previous_run_id)
    return found, gone


async def gather_runs(sources: Sources, case_id: str) -> Gathered:
    """The case's runs: Temporal's copy where it exists, the archive's otherwise."""
    got = Gathered()
    gone: list[str] = []
    if sources.client is not None:
        got.temporal_runs, gone = await _temporal_runs(sources.client, case_id)
    got.archived = await runs_of(sources.pool, case_id)
    runs = dict(got.temporal_runs)
    for archived in got.archived:
        if archived.run_id in runs:
            continue
        try:
            history = history_from_json(case_id, archived.history)
            runs[archived.run_id] = decode_run(history, "archive")
        except HistoryUnreadable as err:
            got.unreadable.append(Finding(detail=str(err), run_id=archived.run_id))
    # A continued run whose predecessor is nowhere: a gap in the evidence.
    for run in list(runs.values()):
        if run.previous_run_id and run.previous_run_id not in runs:
            gone.append(run.previous_run_id)
    got.unavailable = sorted(set(gone) - runs.keys())
    got.runs = sorted(runs.values(), key=lambda r: r.started_at)
    return got


def check_histories(sources: Sources, got: Gathered) -> Check:
    """Every run of the case has a history to audit, from Temporal or the archive."""
    if got.unreadable:
        return Check.failed(c.HISTORIES, "archived histories that cannot be read", got.unreadable)
    if got.unavailable:
        return Check.skipped(
            c.HISTORIES,
            f"run(s) {', '.join(got.unavailable)} are in neither Temporal nor the archive",
        )
    if not got.runs:
        if sources.client is None:
            return Check.skipped(
                c.HISTORIES, f"Temporal unreachable ({sources.temporal_error}); nothing archived"
            )
        return Check.skipped(c.HISTORIES, "no run of this case in Temporal or the archive")
    latest = got.runs[-1]
    if sources.client is None and not latest.closed:
        return Check.skipped(
            c.HISTORIES,
            f"Temporal unreachable ({sources.temporal_error}); the archive ends with a run "
            "that had not closed",
        )
    from_temporal = sum(r.source == "temporal" for r in got.runs)
    detail = f"{len(got.runs)} run(s): {from_temporal} from Temporal, " + (
        f"{len(got.runs) - from_temporal} from the archive"
    )
    if sources.client is None:
        detail += f" (Temporal unreachable: {sources.temporal_error})"
    return Check.passed(c.HISTORIES, detail)


def check_archive(got: Gathered, now: datetime, case_id: str) -> Check:
    """The archive's chain is intact, each copy equals Temporal's, and closed runs are in it."""
    findings: list[Finding] = []
    report = verify_archived(case_id, got.archived)
    if not report.ok:
        findings.append(Finding(detail=report.detail, stream_id=case_id))
    by_run = {a.run_id: a for a in got.archived}
    pending = []
    for run_id, run in got.temporal_runs.items():
        copy = by_run.get(run_id)
        if copy is None:
            if run.closed:
                age = c.closed_for(run.closed_at, now)
                if age > ARCHIVE_GRACE.total_seconds():
                    findings.append(
                        Finding(
                            detail=f"run {run_id} closed {age / 60:.0f} min ago and is not "
                            "archived: is `uep archiver` running?",
                            run_id=run_id,
                        )
                    )
                else:
                    pending.append(run_id)
            continue
        if history_sha256(run.history.to_json()) == copy.history_sha256:
            continue  # the same text: the archiver stored exactly what Temporal still returns
        ours = run.history.to_json_dict().get("events", [])
        try:
            theirs = json.loads(copy.history).get("events", [])
        except ValueError:
            theirs = []
        if ours != theirs:
            index = next(
                (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                min(len(ours), len(theirs)),
            )
            findings.append(
                Finding(
                    detail=f"the archived copy of run {run_id} differs from Temporal's at "
                    f"history event {index + 1}",
                    run_id=run_id,
                    history_event_id=index + 1,
                )
            )
    closed = sum(r.closed for r in got.runs)
    ok = f"{len(got.archived)} of {closed} closed run(s) archived, archive chain intact"
    if pending:
        ok += f"; {len(pending)} closed moments ago, not archived yet"
    return Check.of(c.ARCHIVE, findings, ok, "{n} problem(s) with the archive")


async def live_agreement(client: Client, run: RunRecord, folded: dict[str, Any]) -> str | Check:
    """The running workflow's own state against the stream's; a reason when it cannot answer."""
    handle = client.get_workflow_handle(run.workflow_id, run_id=run.run_id)
    description = await handle.describe()
    queue = description.task_queue
    # Asking a workflow nobody polls for waits for the server's own timeout: look first.
    pollers = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    if not pollers.pollers:
        return f"no worker polls task queue {queue!r}, so the running workflow cannot answer"
    try:
        live = await handle.query(STATE_QUERY, result_type=dict, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, TimeoutError) as err:
        return f"the running workflow did not answer its state query ({err})"
    differ = c.live_differences(live, folded)
    if differ:
        return Check.failed(
            c.STATE_AGREEMENT,
            "the workflow and the stream disagree",
            [Finding(detail=d, run_id=run.run_id) for d in differ],
        )
    return Check.passed(
        c.STATE_AGREEMENT,
        f"the running workflow and the stream agree at version {folded.get('stream_version')}",
    )


async def check_state(
    sources: Sources,
    runs: Sequence[RunRecord],
    events: Sequence[RecordedEvent],
    today: date,
) -> Check:
    """Closed: against the state the history ended with. Open: that, and the live workflow."""
    if not runs or not events:
        return Check.skipped(c.STATE_AGREEMENT, "no history or no events to compare")
    latest = runs[-1]
    if latest.closed:
        return c.check_closed_agreement(runs, events)
    findings, so_far = c.history_agreement(runs, events)
    if findings:
        return Check.failed(c.STATE_AGREEMENT, "the stream and the history disagree", findings)
    if sources.client is None:
        return Check.skipped(
            c.STATE_AGREEMENT,
            f"{so_far}; Temporal unreachable, the running workflow was not asked",
        )
    events = c.settled(runs, events)  # what the workflow itself has folded so far
    state = fold_stored(events)
    if state is None:
        return Check.skipped(c.STATE_AGREEMENT, "the case is still being opened")
    folded = json.loads(view_as_of(state, today, events[-1].version).model_dump_json())
    outcome = await live_agreement(sources.client, latest, folded)
    if isinstance(outcome, str):
        return Check.skipped(c.STATE_AGREEMENT, f"{so_far}; {outcome}")
    return outcome


async def read_model_rows(pool: asyncpg.Pool, case_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every read-model row about the case, as JSON values (one query per table)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for projection in all_projections():
        for table in projection.tables(projection.table):
            column = await pool.fetchval(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                "AND column_name IN ('case_id', 'stream_id') ORDER BY column_name LIMIT 1",
                table,
            )
            if column is None:
                continue
            found = await pool.fetch(
                f'SELECT to_jsonb(t)::text AS row FROM "{table}" t WHERE {column} = $1 '
                f"ORDER BY to_jsonb(t)::text",
                case_id,
            )
            rows[table] = [json.loads(r["row"]) for r in found]
    return rows


async def _projections_at(pool: asyncpg.Pool, position: int, within: float) -> str:
    """Wait for every read model to reach ``position``; '' when they did, else why not."""
    names = [p.name for p in all_projections()]

    async def behind() -> list[str]:
        rows = await pool.fetch(
            "SELECT name, position FROM projection_checkpoints WHERE name = ANY($1::text[])",
            names,
        )
        at = {r["name"]: r["position"] for r in rows}
        return [f"{n} at {at.get(n, 0)}" for n in names if at.get(n, 0) < position]

    progressed = asyncio.Event()

    def woken(*_: object) -> None:
        progressed.set()

    async with pool.acquire() as listener:
        await listener.add_listener(CHECKPOINT_CHANNEL, woken)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    # listen first, then check: a checkpoint committed in between still wakes us
                    while await behind():
                        await progressed.wait()
                        progressed.clear()
        finally:
            await listener.remove_listener(CHECKPOINT_CHANNEL, woken)
        lagging = await behind()
    if lagging:
        return (
            f"the projector has not reached position {position} within {within:.0f}s "
            f"({', '.join(lagging)}): is it running?"
        )
    return ""


async def check_read_models_live(
    pool: asyncpg.Pool, case_id: str, events: Sequence[RecordedEvent]
) -> tuple[Check, dict[str, list[dict[str, Any]]]]:
    """The read models once the projector has caught up with the case (or why not)."""
    if not events:
        return Check.skipped(c.READ_MODELS, "no events"), {}
    lag = await _projections_at(pool, events[-1].position, READ_MODEL_WAIT)
    rows = await read_model_rows(pool, case_id)
    if lag:
        return Check.skipped(c.READ_MODELS, lag), rows
    return c.check_read_models(case_id, events, rows), rows


async def inclusion_evidence(
    pool: asyncpg.Pool, events: Sequence[RecordedEvent]
) -> tuple[StoredHead | None, list[bytes] | None]:
    """The latest tree head and the inclusion proof of the case's last event it covers."""
    head = await latest_head(pool)
    if head is None or not events:
        return head, None
    covered = [e for e in events if e.position <= head.size]
    if not covered:
        return head, None
    leaves = await checkpoint_leaves(pool, head.size)
    return head, inclusion(leaves, head.head, covered[-1].position)


@dataclass
class AuditOptions:
    """What the auditor asked for."""

    as_of: datetime | None = None
    version: int | None = None
    skip: Sequence[str] = ()
    workflows: Sequence[type] = ()


async def audit_case(sources: Sources, case_id: str, options: AuditOptions) -> CaseAudit:
    """Gather the evidence and run every check not skipped; the report to render."""
    now = datetime.now(UTC)
    skip = set(options.skip)
    store = PostgresEventStore(sources.pool, group_commit=False)
    events = await store.read_stream(case_id)
    got = await gather_runs(sources, case_id)
    checks: list[Check] = []

    def skipped(name: str) -> bool:
        if name in skip:
            checks.append(Check.skipped(name, "skipped at the auditor's request", accepted=True))
            return True
        return False

    if not skipped(c.HEALTH):
        retrying = await retrying_activities(sources, case_id)
        checks.append(c.check_health(case_id, got.runs, events, retrying))
    if not skipped(c.HISTORIES):
        checks.append(check_histories(sources, got))
    if not skipped(c.REPLAY):
        checks.append(await c.check_replay(replayer(options.workflows), got.runs))
    if not skipped(c.HASH_CHAIN):
        checks.append(c.check_chain(case_id, events))
    if not skipped(c.HISTORY_EVENTS):
        complete = not got.unavailable and not got.unreadable
        checks.append(c.check_history_events(case_id, got.runs, events, complete))
    if not skipped(c.STATE_AGREEMENT):
        checks.append(await check_state(sources, got.runs, events, now.date()))
    if not skipped(c.READ_MODELS):
        checks.append((await check_read_models_live(sources.pool, case_id, events))[0])
    if not skipped(c.ARCHIVE):
        checks.append(check_archive(got, now, case_id))
    if not skipped(c.CHECKPOINT):
        if sources.public_key is None:
            checks.append(Check.skipped(c.CHECKPOINT, sources.key_error or "no public key"))
        else:
            head, proof = await inclusion_evidence(sources.pool, events)
            checks.append(
                c.check_inclusion(events, head.head if head else None, proof, sources.public_key)
            )
    checks = accept_skips(checks, skip)
    return build_report(
        case_id,
        events,
        got.runs,
        checks,
        audited_at=now,
        as_of=options.as_of,
        version=options.version,
    )


RETRY_THRESHOLD = 5
"""Attempts after which a pending activity is a finding (it may never heal)."""


async def retrying_activities(sources: Sources, case_id: str) -> list[str]:
    """Pending activities of the running case past the retry threshold, in words."""
    if sources.client is None:
        return []
    try:
        described = await sources.client.get_workflow_handle(case_id).describe()
    except RPCError:
        return []
    out = []
    for pending in described.raw_description.pending_activities:
        if pending.attempt > RETRY_THRESHOLD:
            failure = pending.last_failure.message[:300] if pending.last_failure else ""
            out.append(
                f"activity {pending.activity_type.name} has been tried {pending.attempt} times: "
                f"{failure or 'no failure recorded'}"
            )
    attempt = described.raw_description.pending_workflow_task.attempt
    if attempt > RETRY_THRESHOLD:
        out.append(f"the workflow task has been tried {attempt} times without completing")
    return out


def verdict(audit: CaseAudit) -> int:
    """The exit status of an audit: 0 clean, 1 findings, 2 could not audit."""
    return exit_status(audit.checks)


def failed_names(audit: CaseAudit) -> list[str]:
    """Names of the checks that failed."""
    return [check.name for check in audit.checks if check.status is Status.FAILED]
