"""The notice outbox in PostgreSQL (table ``notice_outbox``, migration 0010)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from eventstore.outbox import Notice


def _notice(row: asyncpg.Record) -> Notice:
    data = dict(row)
    data["body"] = json.loads(data["body"])
    return Notice.model_validate(data)


class PostgresNoticeOutbox:
    """The outbox in the event store's database (table ``notice_outbox``, migration 0010)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def queue(
        self, notice_id: str, case_id: str, recipient: str, body: dict[str, Any]
    ) -> Notice:
        """Write the notice unless it is there already; the stored notice either way."""
        await self._pool.execute(
            "INSERT INTO notice_outbox (notice_id, case_id, recipient, body) "
            "VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (notice_id) DO NOTHING",
            notice_id,
            case_id,
            recipient,
            json.dumps(body),
        )
        stored = await self.get(notice_id)
        assert stored is not None
        return stored

    async def get(self, notice_id: str) -> Notice | None:
        """The notice, if queued."""
        row = await self._pool.fetchrow(
            "SELECT * FROM notice_outbox WHERE notice_id = $1", notice_id
        )
        return None if row is None else _notice(row)

    async def delivered(self, notice_id: str, channel: str, reference: str) -> Notice:
        """Mark the notice delivered (again: no change)."""
        row = await self._pool.fetchrow(
            "UPDATE notice_outbox SET status = 'delivered', channel = $2, reference = $3, "
            "attempts = attempts + 1, delivered_at = coalesce(delivered_at, now()) "
            "WHERE notice_id = $1 AND status <> 'delivered' RETURNING *",
            notice_id,
            channel,
            reference,
        )
        if row is None:
            stored = await self.get(notice_id)
            if stored is None:
                raise LookupError(f"no notice {notice_id} in the outbox")
            return stored
        return _notice(row)

    async def failed(self, notice_id: str, error: str) -> None:
        """Count a failed delivery attempt and keep its error."""
        await self._pool.execute(
            "UPDATE notice_outbox SET status = 'failed', attempts = attempts + 1, "
            "last_error = $2 WHERE notice_id = $1 AND status <> 'delivered'",
            notice_id,
            error[:1000],
        )

    async def list(self, case_id: str | None = None, status: str | None = None) -> list[Notice]:
        """Notices, oldest first, optionally of one case or status."""
        rows = await self._pool.fetch(
            "SELECT * FROM notice_outbox WHERE ($1::text IS NULL OR case_id = $1) "
            "AND ($2::text IS NULL OR status = $2) ORDER BY queued_at, notice_id",
            case_id,
            status,
        )
        return [_notice(r) for r in rows]
