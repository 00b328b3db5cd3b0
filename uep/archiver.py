"""`uep archiver`: copy every closed run's history into PostgreSQL; sign whole-log tree heads.

It follows Temporal visibility from a checkpoint (the latest close time it has seen): each pass
lists the case workflow's runs closed since then, less an overlap for visibility's lag, fetches
the history of those not archived yet and stores them (append-only, hash-chained per workflow
id). Completed, failed, terminated, timed-out and canceled runs, and each run closed by
continue-as-new, are all "closed". The checkpoint only moves after the runs before it are
stored, so a restart looks at them again and never misses one; a repeat stores nothing.

A separate process from the projector on purpose: it needs Temporal and the signing key, the
projector needs neither, and a Temporal outage must not stall the read models.

The same loop signs a tree head over the event log every ``checkpoint_interval`` seconds when
the log has grown (``uep audit checkpoint`` does it on demand).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from eventstore.archive import HistoryArchive, RunToArchive
from eventstore.checkpoints import CheckpointRefused, CheckpointResult, create_checkpoint
from workflows.names import WORKFLOW_TYPE

log = structlog.get_logger(__name__)

POLL_INTERVAL = 10.0
"""Seconds between visibility passes: a closed run is archived well within a minute."""
VISIBILITY_OVERLAP = timedelta(minutes=10)
"""Each pass looks this far behind its checkpoint: visibility records a close a little after
the close itself, and a run listed late must not fall behind the checkpoint unseen."""
CHECKPOINT_INTERVAL = 60.0
"""Seconds between tree heads while the log grows."""


def status_name(status: WorkflowExecutionStatus | None) -> str:
    """``completed``, ``continued_as_new``, ``timed_out``, ...: the archive's status words."""
    return "unknown" if status is None else status.name.lower()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class PassResult:
    """What one pass over visibility did."""

    listed: int
    archived: list[str]
    lost: list[str]


class Archiver:
    """Follows visibility into the history archive; signs tree heads when given a key."""

    def __init__(
        self,
        client: Client,
        pool: asyncpg.Pool,
        *,
        key: Ed25519PrivateKey | None = None,
        workflow_type: str = WORKFLOW_TYPE,
        poll_interval: float = POLL_INTERVAL,
        overlap: timedelta = VISIBILITY_OVERLAP,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
    ) -> None:
        self._client = client
        self._pool = pool
        self._archive = HistoryArchive(pool)
        self._key = key
        self._workflow_type = workflow_type
        self._poll_interval = poll_interval
        self._overlap = overlap
        self._checkpoint_interval = checkpoint_interval

    def _query(self, since: datetime | None) -> str:
        query = f'WorkflowType = "{self._workflow_type}" AND ExecutionStatus != "Running"'
        if since is not None:
            query += f' AND CloseTime >= "{_rfc3339(since - self._overlap)}"'
        return query

    async def catch_up(self) -> PassResult:
        """One pass: archive every closed run visibility lists since the checkpoint."""
        since = await self._archive.checkpoint()
        listed: list[WorkflowExecution] = [
            w async for w in self._client.list_workflows(self._query(since))
        ]
        known = await self._archive.archived_run_ids([w.run_id for w in listed])
        archived: list[str] = []
        lost: list[str] = []
        for execution in sorted(listed, key=lambda w: w.close_time or w.start_time):
            if execution.run_id in known or execution.close_time is None:
                continue
            run = await self._fetch(execution)
            if run is None:
                lost.append(execution.run_id)
                continue
            if await self._archive.archive(run, datetime.now(UTC)) is not None:
                archived.append(run.run_id)
                log.info(
                    "run archived",
                    case_id=run.workflow_id,
                    run_id=run.run_id,
                    status=run.status,
                    history_events=run.history_events,
                )
        closes = [w.close_time for w in listed if w.close_time is not None]
        if closes:
            await self._archive.move_checkpoint(max(closes))
        return PassResult(len(listed), archived, lost)

    async def _fetch(self, execution: WorkflowExecution) -> RunToArchive | None:
        """The run's full history, or None when retention deleted it first (logged)."""
        handle = self._client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            log.error(
                "run deleted before it was archived",
                case_id=execution.id,
                run_id=execution.run_id,
                closed_at=str(execution.close_time),
            )
            return None
        started = history.events[0].workflow_execution_started_event_attributes
        assert execution.close_time is not None
        return RunToArchive(
            workflow_id=execution.id,
            run_id=execution.run_id,
            workflow_type=execution.workflow_type,
            status=status_name(execution.status),
            started_at=execution.start_time,
            closed_at=execution.close_time,
            previous_run_id=started.continued_execution_run_id or None,
            history_events=len(history.events),
            history=history.to_json(),
        )

    async def checkpoint(self) -> CheckpointResult | None:
        """Sign a tree head over the log if it grew (None without a key)."""
        if self._key is None:
            return None
        result = await create_checkpoint(self._pool, self._key, datetime.now(UTC))
        if result.created:
            log.info(
                "tree head signed",
                tree_size=result.head.size,
                seq=result.head.seq,
                root_hash=result.head.head.root_hash,
            )
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; a failed pass is logged and retried."""
        if self._key is None:
            log.warning("no signing key: archiving only, no tree heads (set UEP_SIGNING_KEY_FILE)")
        last_checkpoint = 0.0
        store_down = False
        while not stop.is_set():
            try:
                await self.catch_up()
                if time.monotonic() - last_checkpoint >= self._checkpoint_interval:
                    last_checkpoint = time.monotonic()
                    try:
                        await self.checkpoint()
                    except CheckpointRefused as err:
                        # Never sign over a log that does not verify; keep archiving, say so.
                        log.error("tree head refused", position=err.position, detail=err.detail)
                if store_down:
                    log.info("event store answers again; archiving resumes from the checkpoint")
                    store_down = False
            except RPCError as err:
                log.error("visibility pass failed", error=err.message)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                # PostgreSQL blinked: one line when it goes, one when it is back; the next pass
                # starts again from the checkpoint, so nothing is missed
                if not store_down:
                    log.warning("event store unreachable; archiving paused", error=str(err))
                    store_down = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_interval)
