"""A new run records every patch marker in its first workflow task (``patches-first-2026-12``).

On replay, ``workflow.patched`` sees only the markers of the workflow task being replayed. A
patch first asked about when a local activity's answer arrived (the sender check) could be
recorded one task later than the one a replay is in at that moment; the replay then took the old
branch and failed with a nondeterminism error (``bench/signal_flood.py --when open``: 6 cases of
40 before, 40 of 40 after). The invariant that rules this out for good: no patch marker after
the first workflow task. The first test fails on the code before the fix: the identity lookup's
marker lay in the second task, after the sender check's local activity.

Since ``code-epoch-1-2026-12`` a new run records one marker, its code epoch, whose set holds
every patch above (workflows/patches.py); the invariant is the same.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows import story
from tests.workflows.conftest import Harness
from tests.workflows.test_ui_identity import ALICE, connect_as, open_case, settled
from workflows.arrivals import ARRIVAL_ORDER_PATCH
from workflows.limits import COUNTED_ROLLOVER_PATCH
from workflows.patches import CODE_EPOCHS, PATCHES_FIRST_PATCH
from workflows.senders import REGULAR_SENDER_CHECK_PATCH, UI_IDENTITY_PATCH

NEWEST = {
    PATCHES_FIRST_PATCH,
    UI_IDENTITY_PATCH,
    REGULAR_SENDER_CHECK_PATCH,
    COUNTED_ROLLOVER_PATCH,
    ARRIVAL_ORDER_PATCH,
}
EPOCH, EPOCH_PATCHES = CODE_EPOCHS[-1]


def test_the_newest_epoch_has_the_newest_patches_on() -> None:
    assert NEWEST <= EPOCH_PATCHES


@pytest.fixture
async def alice(env: WorkflowEnvironment) -> AsyncIterator[Client]:
    """An operator's Web UI session: a client with its own identity and no header."""
    yield await connect_as(env, ALICE)


async def patch_markers(handle: WorkflowHandle[Any, Any]) -> tuple[list[str], list[str]]:
    """(patches marked in the run's first workflow task, patches marked after it); also
    checks that core upserted ``TemporalChangeVersion`` once per marker."""
    first: list[str] = []
    later: list[str] = []
    tasks_completed = 0
    change_versions = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            tasks_completed += 1
        upsert = event.upsert_workflow_search_attributes_event_attributes
        change_versions += "TemporalChangeVersion" in upsert.search_attributes.indexed_fields
        attrs = event.marker_recorded_event_attributes
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and (
            attrs.marker_name == "core_patch"
        ):
            patch_id = json.loads(attrs.details["patch-data"].payloads[0].data)["id"]
            (first if tasks_completed <= 1 else later).append(patch_id)
    assert change_versions == len(first) + len(later)
    return first, later


async def test_a_case_started_and_signalled_from_the_console_marks_patches_first(
    harness: Harness, alice: Client
) -> None:
    # a headerless start: the sender check (a local activity), then the identity lookup
    handle = await open_case(harness, alice)
    await alice.get_workflow_handle(handle.id).signal(
        "record_srept_completed", {"message_id": "s1"}
    )
    assert len(await settled(harness, handle, "s1")) == 1
    first, later = await patch_markers(handle)
    assert later == []
    assert first == [EPOCH]
    assert await story.replays(handle)


async def test_the_party_record_marks_patches_first(harness: Harness, alice: Client) -> None:
    handle = await open_case(harness)
    record = story.record_of(harness, story.party_id_of(handle))
    await story.party_open(record)
    await alice.get_workflow_handle(record.id).signal(
        "notify_party_credit_cover", {"requirement": "0", "threshold": "2400", "message_id": "c1"}
    )
    assert [e.type for e in await settled(harness, record, "c1")] == ["PartyCreditCoverNotified"]
    first, later = await patch_markers(record)
    assert later == []
    assert first == [EPOCH]
    assert await story.replays(record)
