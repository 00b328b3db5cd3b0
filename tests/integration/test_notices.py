"""Completion notices go through a durable outbox in PostgreSQL: queued once, then delivered
by a channel, or kept as failed (with the attempt and its error) until a retry delivers."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import ActivityEnvironment

from activities.case import CaseActivities, QueueNoticeRequest
from activities.notices import FileChannel
from eventstore.memory import InMemoryEventStore
from eventstore.outbox import Notice
from eventstore.outbox_postgres import PostgresNoticeOutbox

pytestmark = pytest.mark.integration


def request(notice_id: str = "n-1", recipient: str = "dcc") -> QueueNoticeRequest:
    return QueueNoticeRequest(
        notice_id=notice_id,
        case_id="uep-acme-gas_supplier",
        recipient=recipient,
        party_name="Acme Energy",
        role_label="Gas Supplier",
        user_id="90b3d51f30010000",
        completed_on="2026-11-20",
    )


class Flaky:
    """A channel that fails once, then delivers."""

    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    async def deliver(self, notice: Notice) -> str:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("mail relay unreachable")
        return "relay:42"


async def test_a_notice_is_queued_once_then_delivered_once(pool: asyncpg.Pool) -> None:
    outbox = PostgresNoticeOutbox(pool)
    first = await outbox.queue("n-1", "uep-a-gas_supplier", "dcc", {"k": 1})
    again = await outbox.queue("n-1", "uep-a-gas_supplier", "dcc", {"k": 2})
    assert (first.status, again.body) == ("queued", {"k": 1})
    delivered = await outbox.delivered("n-1", "file", "/tmp/n-1.json")
    twice = await outbox.delivered("n-1", "other", "elsewhere")
    assert (delivered.status, delivered.attempts, twice.channel) == ("delivered", 1, "file")
    assert [n.notice_id for n in await outbox.list(status="delivered")] == ["n-1"]
    assert await outbox.list(case_id="uep-nobody-gas_supplier") == []


async def test_a_failed_delivery_is_kept_and_a_retry_delivers(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    outbox = PostgresNoticeOutbox(pool)
    flaky = Flaky()
    activities = CaseActivities(InMemoryEventStore(), outbox=outbox, channel=flaky)
    env = ActivityEnvironment()
    assert await env.run(activities.queue_completion_notice, request()) == "queued"
    with pytest.raises(ConnectionError):
        await env.run(activities.deliver_completion_notice, "n-1")
    [failed] = await outbox.list()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "ConnectionError: mail relay unreachable"
    receipt = await env.run(activities.deliver_completion_notice, "n-1")
    assert (receipt.channel, receipt.reference) == ("flaky", "relay:42")
    [done] = await outbox.list()
    assert (done.status, done.attempts) == ("delivered", 2)


async def test_the_file_channel_writes_each_notice_whole(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    outbox = PostgresNoticeOutbox(pool)
    activities = CaseActivities(
        InMemoryEventStore(), outbox=outbox, channel=FileChannel(tmp_path / "notices")
    )
    env = ActivityEnvironment()
    await env.run(activities.queue_completion_notice, request("n-2", "party"))
    receipt = await env.run(activities.deliver_completion_notice, "n-2")
    written = json.loads(Path(receipt.reference).read_text())  # noqa: ASYNC240 - a small file
    assert written["recipient"] == "party" and written["party_name"] == "Acme Energy"
    assert [p.name for p in (tmp_path / "notices").iterdir()] == ["n-2.json"]
