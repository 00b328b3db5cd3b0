"""A full User Entry Process for each of the seven User Roles, on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from domain.roles import UserRole
from tests.workflows import story
from tests.workflows.conftest import Harness
from uep.audit.history import decode_run
from workflows.io import CaseResult

ROLES = list(UserRole)


@pytest.mark.parametrize("role", ROLES, ids=[str(r) for r in ROLES])
async def test_full_case_completes_and_notifies(harness: Harness, role: UserRole) -> None:
    today = await story.today(harness)
    begun = today - timedelta(days=200)
    handle = await story.start(harness, role, begun)
    uid = f"90-B3-D5-1F-30-01-{ROLES.index(role):02X}-{begun.day:02X}"

    await story.user_id_accepted(handle, uid, begun)
    await story.uept_certified(handle, begun, today)
    await story.party_security_approved(harness, handle, begun)
    requirements = ["user_id", "uept", "security", "credit"]
    if role == UserRole.OTHER_USER:
        await story.assurance_approved(handle, "privacy", begun)
        requirements.insert(3, "privacy")
    await story.party_credit(harness, handle)
    before = await story.view(handle)
    assert before["stage"] == "evidence"
    assert [r["requirement"] for r in before["requirements"]] == requirements

    last = await story.verify_all(handle, requirements, today)

    assert last.events == ["EvidenceVerified", "UserEntryProcessCompleted"]
    paper = await story.panel_informed(handle, today)
    assert paper.events == ["PanelInformedByPaper"]
    result = await story.result(harness, handle)
    assert isinstance(result, CaseResult)
    assert result.status == "completed"
    assert result.user_id == uid.replace("-", "").lower()
    stored = [e.type for e in await harness.store.read_stream(handle.id)]
    assert stored[0] == "CaseStarted"
    assert stored.count("CompletionNoticeQueued") == 4
    assert stored.count("CompletionNoticeDelivered") == 4
    assert "CompletionNotified" not in stored  # only cases before revision 2 record that
    assert "DccDeadlineMissed" not in stored
    # credit and security came from the Party record, each position naming its record event
    assert "CreditSupportNotRequired" not in stored and "PartyPositionRecorded" in stored
    record = story.record_of(harness, story.party_id_of(handle))
    facts = [e.type for e in await harness.store.read_stream(record.id)]
    assert facts.count("PartyCreditCoverNotified") == 1
    assert facts.count("SecurityStatusSet") == 1
    final = await story.view(handle)
    assert final["stage"] == "completed"
    assert final["completed_on"] == today.isoformat()
    if role in (UserRole.OTHER_USER, UserRole.GAS_SUPPLIER):
        await story.record_history(handle, f"happy-path-{role}")


async def test_completion_notices_are_queued_and_delivered_together(harness: Harness) -> None:
    """``batched-notices-2026-12``: one activity queues the four notices and one append records
    them; the three channels' deliveries start in one workflow task and one append records
    them (before: an activity and an append per notice, fourteen round trips in a row)."""
    today = await story.today(harness)
    begun = today - timedelta(days=200)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, begun)
    await story.user_id_accepted(handle, "90-B3-D5-1F-30-01-77-01", begun)
    await story.uept_certified(handle, begun, today)
    await story.party_security_approved(harness, handle, begun)
    await story.party_credit(harness, handle)
    await story.verify_all(handle, ["user_id", "uept", "security", "credit"], today)
    await story.panel_informed(handle, today)
    await story.result(harness, handle)

    history = await handle.fetch_history()
    scheduled: list[tuple[int, str]] = []  # (workflow tasks completed before it, activity)
    tasks = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            tasks += 1
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled.append((tasks, name))
    # the event types of each append, in order, as the audit reads them from history
    by_append: dict[int, list[str]] = {}
    for appended_event in decode_run(history, "temporal").appended:
        by_append.setdefault(appended_event.history_event_id, []).append(appended_event.event.type)
    appended = list(by_append.values())
    names = [name for _, name in scheduled]
    assert names.count("queue_completion_notices") == 1
    assert "queue_completion_notice" not in names
    deliveries = [task for task, name in scheduled if name == "deliver_completion_notice"]
    assert len(deliveries) == 3 and len(set(deliveries)) == 1  # started side by side
    notices = [types for types in appended if types[0] == "CompletionNoticeQueued"]
    delivered = [types for types in appended if types[0] == "CompletionNoticeDelivered"]
    assert notices == [["CompletionNoticeQueued"] * 4]
    assert delivered == [["CompletionNoticeDelivered"] * 3, ["CompletionNoticeDelivered"]]
    stored = [e.type for e in await harness.store.read_stream(handle.id)]
    assert stored.count("CompletionNoticeQueued") == 4
    assert stored.count("CompletionNoticeDelivered") == 4
    assert await story.replays(handle)
