"""The history archive: closed Temporal runs kept in PostgreSQL after retention deletes them.

Each archived run is one append-only row hash-chained per workflow id the way events are chained
per stream: the hash covers the row's fields and the SHA-256 of the history text, linked to the
hash of the run archived before it for the same workflow id. The archive stores the history as
text exactly as Temporal returned it; this module knows nothing of Temporal itself (the archiver
in ``uep`` fetches the histories and hands them here).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict

from eventstore.hashing import GENESIS, canonical_json, utc_iso
from eventstore.types import Conn

ARCHIVE_CHANNEL = "uep_archive"
"""NOTIFY channel: a run was archived (payload: its run id)."""

_COLUMNS = (
    "seq, workflow_id, run_id, version, workflow_type, status, started_at, closed_at, "
    "previous_run_id, history_events, history, history_sha256, archived_at, prev_hash, hash"
)


class RunToArchive(BaseModel):
    """A closed run and its history, as the archiver found them in Temporal."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    started_at: datetime
    closed_at: datetime
    previous_run_id: str | None
    history_events: int
    history: str


class ArchivedRun(RunToArchive):
    """A run as stored in the archive, with its place in the workflow's chain."""

    seq: int
    version: int
    history_sha256: str
    archived_at: datetime
    prev_hash: str | None
    hash: str


class ArchiveChainReport(BaseModel):
    """Result of re-hashing one workflow id's archived runs."""

    workflow_id: str
    runs: int
    ok: bool
    first_bad_version: int | None = None
    detail: str = ""


def history_sha256(history: str) -> str:
    """SHA-256 hex of a history's text (UTF-8)."""
    return hashlib.sha256(history.encode()).hexdigest()


def archive_hash(
    *,
    workflow_id: str,
    run_id: str,
    version: int,
    workflow_type: str,
    status: str,
    started_at: datetime,
    closed_at: datetime,
    previous_run_id: str | None,
    history_events: int,
    history_sha256: str,
    archived_at: datetime,
    prev_hash: str | None,
) -> str:
    """SHA-256 hex of an archived run's canonical content chained to the previous run's hash."""
    body = canonical_json(
        {
            "workflow_id": workflow_id,
            "run_id": run_id,
            "version": version,
            "workflow_type": workflow_type,
            "status": status,
            "started_at": utc_iso(started_at),
            "closed_at": utc_iso(closed_at),
            "previous_run_id": previous_run_id,
            "history_events": history_events,
            "history_sha256": history_sha256,
            "archived_at": utc_iso(archived_at),
        }
    )
    digest = hashlib.sha256()
    digest.update((prev_hash or GENESIS).encode())
    digest.update(b"\n")
    digest.update(body.encode())
    return digest.hexdigest()


def hash_of_run(run: ArchivedRun) -> str:
    """Recompute the hash an archived run should carry."""
    return archive_hash(
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        version=run.version,
        workflow_type=run.workflow_type,
        status=run.status,
        started_at=run.started_at,
        closed_at=run.closed_at,
        previous_run_id=run.previous_run_id,
        history_events=run.history_events,
        history_sha256=run.history_sha256,
        archived_at=run.archived_at,
        prev_hash=run.prev_hash,
    )


def verify_archived(workflow_id: str, runs: Iterable[ArchivedRun]) -> ArchiveChainReport:
    """Walk one workflow id's archived runs in version order; report the first broken one."""
    prev: str | None = None
    count = 0
    for count, run in enumerate(runs, start=1):
        problem = ""
        if run.version != count:
            problem = f"archive version {count} is missing (found {run.version})"
        elif run.prev_hash != prev:
            problem = f"archive version {run.version}: prev_hash does not match the previous hash"
        elif history_sha256(run.history) != run.history_sha256:
            problem = f"archive version {run.version} (run {run.run_id}): history text altered"
        elif hash_of_run(run) != run.hash:
            problem = f"archive version {run.version} (run {run.run_id}): content does not match"
        if problem:
            return ArchiveChainReport(
                workflow_id=workflow_id,
                runs=count,
                ok=False,
                first_bad_version=count if "missing" in problem else run.version,
                detail=problem,
            )
        prev = run.hash
    return ArchiveChainReport(workflow_id=workflow_id, runs=count, ok=True)


def _run_from_row(row: asyncpg.Record) -> ArchivedRun:
    return ArchivedRun(**dict(row))


class HistoryArchive:
    """The archive on PostgreSQL through an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def archive(self, run: RunToArchive, archived_at: datetime) -> ArchivedRun | None:
        """Store one closed run; None when it was already archived (a repeat is harmless)."""
        async with self._pool.acquire() as conn, conn.transaction():
            # One archiver per workflow id at a time, so its chain cannot fork.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", run.workflow_id
            )
            if await conn.fetchval("SELECT 1 FROM history_archive WHERE run_id = $1", run.run_id):
                return None
            last = await conn.fetchrow(
                "SELECT version, hash FROM history_archive WHERE workflow_id = $1 "
                "ORDER BY version DESC LIMIT 1",
                run.workflow_id,
            )
            version = 1 if last is None else last["version"] + 1
            prev_hash = None if last is None else last["hash"]
            digest = history_sha256(run.history)
            fields = run.model_dump(exclude={"history"})
            chained = archive_hash(
                **fields,
                version=version,
                history_sha256=digest,
                archived_at=archived_at,
                prev_hash=prev_hash,
            )
            row = await conn.fetchrow(
                f"""
                INSERT INTO history_archive (workflow_id, run_id, version, workflow_type, status,
                    started_at, closed_at, previous_run_id, history_events, history,
                    history_sha256, archived_at, prev_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                RETURNING {_COLUMNS}
                """,
                run.workflow_id,
                run.run_id,
                version,
                run.workflow_type,
                run.status,
                run.started_at,
                run.closed_at,
                run.previous_run_id,
                run.history_events,
                run.history,
                digest,
                archived_at,
                prev_hash,
                chained,
            )
            await conn.execute("SELECT pg_notify($1, $2)", ARCHIVE_CHANNEL, run.run_id)
        assert row is not None
        return _run_from_row(row)

    async def archived_run_ids(self, run_ids: Sequence[str]) -> set[str]:
        """Which of ``run_ids`` are archived already."""
        rows = await self._pool.fetch(
            "SELECT run_id FROM history_archive WHERE run_id = ANY($1::text[])", list(run_ids)
        )
        return {r["run_id"] for r in rows}

    async def runs(self, workflow_id: str) -> list[ArchivedRun]:
        """Every archived run of a workflow id, in archive order."""
        return await runs_of(self._pool, workflow_id)

    async def checkpoint(self) -> datetime | None:
        """The close time the archiver follows visibility from (None before its first pass)."""
        value: datetime | None = await self._pool.fetchval(
            "SELECT closed_after FROM archiver_checkpoint"
        )
        return value

    async def move_checkpoint(self, closed_after: datetime) -> None:
        """Record that every run closed before ``closed_after`` (less the overlap) is archived."""
        await self._pool.execute(
            """
            INSERT INTO archiver_checkpoint (id, closed_after, updated_at) VALUES (true, $1, now())
            ON CONFLICT (id) DO UPDATE SET closed_after = greatest(
                archiver_checkpoint.closed_after, EXCLUDED.closed_after), updated_at = now()
            """,
            closed_after,
        )


async def runs_of(conn: Conn | asyncpg.Pool, workflow_id: str) -> list[ArchivedRun]:
    """Every archived run of a workflow id, in archive order."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM history_archive WHERE workflow_id = $1 ORDER BY version",
        workflow_id,
    )
    return [_run_from_row(r) for r in rows]
