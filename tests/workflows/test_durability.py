"""Long-lived cases: continue-as-new carries the state; search attributes follow the stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import SearchAttributes
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import TypedSearchAttributes
from temporalio.converter import decode_typed_search_attributes
from temporalio.service import RPCError, RPCStatusCode

from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.roles import UserRole
from tests.workflows import story
from tests.workflows.conftest import Harness
from uep.converter import DATA_CONVERTER
from workflows import limits, names


async def flood_with_oversized_signals(handle: WorkflowHandle[Any, Any], count: int) -> None:
    """Signals of about 1 MB each, every one refused (too long a message id): history grows."""
    for n in range(count):
        payload = {"requirement": "uept", "message_id": str(n) * 1_000_000}
        try:
            await handle.signal("verify_evidence", payload)
        except RPCError as err:
            # the time-skipping server can refuse a signal that races the run's hand-over
            # ("Completed workflow"); a real server takes it to the next run
            running = WorkflowExecutionStatus.RUNNING
            if err.status != RPCStatusCode.NOT_FOUND or (await handle.describe()).status != running:
                raise
            await handle.signal("verify_evidence", payload)


async def test_a_flood_of_refused_signals_rolls_the_case_over_and_it_carries_on(
    harness: Harness,
) -> None:
    today = await story.today(harness)
    begun = today - timedelta(days=200)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, begun)
    first_run = harness.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    await story.send(handle, "propose_user_id", user_id="90b3d51f300100c1", message_id="p-1")
    await story.send(handle, "accept_user_id", user_id="90b3d51f300100c1")
    await story.uept_certified(handle, begun, today)
    await story.signal(handle, "verify_evidence", requirement="user_id", message_id="v-1")
    # 9 MB of refused signals: past the run's 8 MB, the case hands over to a new run
    await flood_with_oversized_signals(handle, 9)
    await story.send(handle, "record_srept_completed")  # an update after the signals, to order them
    last_of_first = (await first_run.fetch_history()).events[-1]
    assert last_of_first.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    view = await story.view(handle)
    assert view["stage"] == "assurance"
    assert view["requirements"][0] == {
        "requirement": "user_id",
        "status": "accepted",
        "met": True,
        "verified_on": today.isoformat(),
    }
    # the message ids seen before continue-as-new are still remembered
    again = await story.send(
        handle, "propose_user_id", user_id="90b3d51f300100c1", message_id="p-1"
    )
    assert again.duplicate
    versions = [e.version for e in await harness.store.read_stream(handle.id)]
    assert versions == list(range(1, len(versions) + 1))


async def upserted(handle: WorkflowHandle[Any, Any]) -> TypedSearchAttributes:
    """The search attributes as the workflow last upserted them, read from its history.

    (The time-skipping server's describe cannot return Datetime attributes; the dev-server
    integration test reads them through describe and visibility.)
    """
    merged: dict[str, Any] = {}
    for event in (await handle.fetch_history()).events:
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            attrs = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            merged.update(attrs.indexed_fields)
    proto = SearchAttributes(indexed_fields=merged)
    return decode_typed_search_attributes(proto)


async def test_search_attributes_follow_the_stage(harness: Harness) -> None:
    today = await story.today(harness)
    p = story.party(UserRole.OTHER_USER)
    handle = await story.start(harness, UserRole.OTHER_USER, today, party_data=p)
    await story.opened(handle)
    attrs = await upserted(handle)
    assert attrs.get(names.SA_STAGE) == "user_id"
    assert attrs.get(names.SA_PARTY_ID) == p["party_id"]
    assert attrs.get(names.SA_PARTY_NAME) == p["party_name"]
    assert attrs.get(names.SA_ROLE) == "other_user"
    assert attrs.get(names.SA_PARTY_CATEGORY) == "other_sec_party"
    await story.user_id_accepted(handle, "90b3d51f300100d1", today)
    await story.send(handle, "book_privacy_assessment", assessment_on=today + timedelta(weeks=12))
    attrs = await upserted(handle)
    assert attrs.get(names.SA_STAGE) == "uept_notice"
    next_deadline = attrs.get(names.SA_NEXT_DEADLINE)
    assert next_deadline is not None and next_deadline.date() == today + timedelta(weeks=12)


async def calendar_snapshots(handle: WorkflowHandle[Any, Any]) -> list[WorkingDayCalendar]:
    """Every Working-Day calendar the case loaded, in order, as recorded in its history: as the
    results of regular activities (histories before local-steps-2026-12) or of local ones."""
    history = (await handle.fetch_history()).events
    loads = {
        e.event_id
        for e in history
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "load_calendar"
    }
    convert = DATA_CONVERTER.payload_converter
    snapshots: list[WorkingDayCalendar] = []
    for e in history:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = e.activity_task_completed_event_attributes
            if done.scheduled_event_id in loads:
                [calendar] = convert.from_payloads(done.result.payloads, [WorkingDayCalendar])
                snapshots.append(calendar)
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = e.marker_recorded_event_attributes
            if marker.marker_name != "core_local_activity":
                continue
            [data] = convert.from_payloads(marker.details["data"].payloads, [dict])
            if data.get("activity_type") == "load_calendar":
                [calendar] = convert.from_payloads(
                    marker.details["result"].payloads, [WorkingDayCalendar]
                )
                snapshots.append(calendar)
    return snapshots


async def test_a_case_running_for_years_extends_its_calendar(lone_harness: Harness) -> None:
    harness = lone_harness
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, today)
    await story.opened(handle)
    [opening] = await calendar_snapshots(handle)
    # time-skipping: wait until mid-January of the first year the opening snapshot lacks, so a
    # UEPT start planned now lies beyond it whatever day the suite runs
    beyond = datetime(opening.last_year + 1, 1, 15, tzinfo=UTC)
    await harness.env.sleep(beyond - await harness.env.get_current_time())
    later = await story.today(harness)
    calendar = build_calendar("england-and-wales", later.year, later.year + 1)
    # 60 Working Days counted from the first Working Day on or after the notice
    planned = calendar.add_working_days(calendar.next_working_day_on_or_after(later), 60)
    assert planned.year > opening.last_year
    result = await story.send(handle, "give_uept_notice", planned_start_on=planned)
    assert result.events == ["UeptNoticeGiven"]
    snapshots = await calendar_snapshots(handle)
    assert len(snapshots) >= 2
    assert max(s.last_year for s in snapshots) >= planned.year


async def test_a_lower_limit_in_the_memo_rolls_the_case_over(harness: Harness) -> None:
    """A case's memo can lower its run's event limit; the memo is in history, so it replays."""
    today = await story.today(harness)
    begun = today - timedelta(days=200)
    started = await story.start(
        harness, UserRole.GAS_SUPPLIER, begun, memo={limits.MEMO_EVENTS_LIMIT: 1}
    )
    first_run = harness.client.get_workflow_handle(started.id, run_id=started.result_run_id)
    # messages go to the case, not to its first run: the roll-over may come between two of them
    handle = harness.client.get_workflow_handle(started.id)
    await story.send(handle, "propose_user_id", user_id="90b3d51f300100c9")
    await story.send(handle, "accept_user_id", user_id="90b3d51f300100c9")
    # then signals (a signal sent while the run hands over is carried to the next run; an
    # update could race the hand-over): refused ones, listed, until past the floor of 100
    for n in range(40):
        await story.signal(handle, "verify_evidence", requirement="uept", message_id=f"v-{n}")
    # the run hands over once its last task completes: read its history until it has closed
    history = await first_run.fetch_history()
    for _ in range(2_000):  # each read a round trip to the server, no sleep
        if (
            history.events[-1].event_type
            == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        ):
            break
        history = await first_run.fetch_history()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert (await story.view(handle))["user_id"] == "90b3d51f300100c9"
    assert await story.replays(first_run)  # the closed run: the history just read


async def _timers_started(handle: WorkflowHandle[Any, Any]) -> int:
    kinds = [e.event_type async for e in handle.fetch_history_events()]
    return kinds.count(EventType.EVENT_TYPE_TIMER_STARTED)


async def test_messages_that_leave_the_deadlines_alone_start_no_timer(harness: Harness) -> None:
    """The main loop keeps its one timer while the moment it waits for stays the same
    (steady-alarm-2026-12): ten refused messages wake the case ten times and start no timer;
    before, each turn started one and cancelled it."""
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, today - timedelta(days=200))
    await story.opened(handle)
    before = await _timers_started(handle)
    assert before >= 1  # the calendar horizon, at least
    for n in range(10):
        await story.signal(handle, "verify_evidence", requirement="uept", message_id=f"r{n}")
    await story.until(
        handle,
        lambda v: {f"r{n}" for n in range(10)} <= {r["message_id"] for r in v["rejected_messages"]},
        "the ten refusals listed",
    )
    assert await _timers_started(handle) == before
