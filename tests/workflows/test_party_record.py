"""The Party record on the time-skipping server: three supplier roles, one guarantee, one FUSA.

Each role case opens the record (signal-with-start), the record reads the case, and each case
reads its position back from the record; nothing here trusts a signal's content.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from activities.coordination import CoordinationActivities, PositionRequest
from domain.roles import UserRole
from tests.workflows import story
from tests.workflows.conftest import Harness
from workflows.names import (
    CASE_FACTS_QUERY,
    PARTY_CHANGED_SIGNAL,
    PARTY_WORKFLOW_TYPE,
    POSITION_QUERY,
    party_record_id,
)

SUPPLIERS = [UserRole.IMPORT_SUPPLIER, UserRole.EXPORT_SUPPLIER, UserRole.GAS_SUPPLIER]


def supplier(party_id: str) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "party_name": f"Party {party_id}",
        "category": "small_supplier",
        "licences": ["electricity_supply", "gas_supply"],
    }


async def three_roles(h: Harness, begun: date) -> tuple[str, list[WorkflowHandle[Any, Any]]]:
    pid = f"p{uuid.uuid4().hex[:10]}"
    handles = [await story.start(h, role, begun, supplier(pid)) for role in SUPPLIERS]
    for handle in handles:
        await story.opened(handle)
    record = story.record_of(h, pid)
    await story.party_open(record)
    for handle in handles:
        await story.until(handle, lambda s: s["party_record"] is not None, "the position arrived")
    return pid, handles


async def test_three_roles_share_one_record_one_guarantee_and_one_fusa(harness: Harness) -> None:
    today = await story.today(harness)
    begun = today - timedelta(days=100)
    pid, handles = await three_roles(harness, begun)
    record = story.record_of(harness, pid)
    view = await story.party_view(record)
    assert sorted(r["role"] for r in view["roles"]) == sorted(str(r) for r in SUPPLIERS)
    assert all(r["status"] == "open" for r in view["roles"])
    # credit: the DCC notifies the Party's requirement, one guarantee is lodged and accepted
    await story.party_send(
        record, "notify_party_credit_cover", requirement="50000", threshold="10000"
    )
    expires = today + timedelta(days=400)
    await story.party_send(
        record,
        "lodge_instrument",
        reference="BG-1",
        instrument={"form": "bank_guarantee", "amount": "50000", "expires_on": expires},
    )
    await story.party_send(record, "assess_party_credit")
    # security: one FUSA covering all three roles
    await story.party_security_approved(harness, handles[0], begun, [str(r) for r in SUPPLIERS])
    for handle in handles:
        state = await story.until(
            handle,
            lambda s: story.credit_met(s) and story.security_met(s),
            "credit and security from the record",
        )
        credit = {r["requirement"]: r for r in state["requirements"]}["credit"]
        assert credit["met"] and "Party record" in credit["status"]
        stored = [e.type for e in await harness.store.read_stream(handle.id)]
        assert "PartyPositionRecorded" in stored
        assert "CreditSupportLodged" not in stored  # nothing lodged on a role case
    view = await story.party_view(record)
    assert [i["reference"] for i in view["instruments"]] == ["BG-1"]
    assert view["credit"]["accepted_total"] == "50000"  # counted once, not three times
    party_stream = [e.type for e in await harness.store.read_stream(party_record_id(pid))]
    assert party_stream[0] == "PartyRecordOpened"
    assert party_stream.count("RoleCaseRecorded") == 3
    assert party_stream.count("InstrumentLodged") == 1
    description = await record.describe()
    assert description.workflow_type == PARTY_WORKFLOW_TYPE
    # each upsert of the record's search attributes changed one (record-attributes-on-change)
    shown: dict[str, bytes] = {}
    upserts = 0
    async for event in record.fetch_history_events():
        if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            continue
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        values = {k: v.data for k, v in fields.indexed_fields.items()}
        if "TemporalChangeVersion" in values:
            continue
        upserts += 1
        assert any(shown.get(k) != v for k, v in values.items()), (
            f"upsert {upserts} changed nothing"
        )
        shown.update(values)
    assert upserts >= 2  # opened, then ready once credit and security are in
    await story.record_history(record, "party-record-three-roles")
    await story.record_history(handles[0], "party-backed-import-supplier")


def credit_lapsed(state: dict[str, Any]) -> bool:
    """The case holds a credit position from its record, and it is not met."""
    credit = (state.get("party_record") or {}).get("credit")
    return credit is not None and not credit.get("met")


async def test_a_guarantee_crossing_its_last_month_blocks_every_case_until_replaced(
    lone_harness: Harness,
) -> None:
    """The record's timer fires on the day the guarantee stops counting (a month before it
    expires); every open role case learns credit is no longer met and cannot complete on it,
    until the Party lodges a replacement and the DCC accepts it."""
    harness = lone_harness  # it skips weeks: on the shared server others' timers hold the clock
    today = await story.today(harness)
    pid, handles = await three_roles(harness, today - timedelta(days=100))
    record = story.record_of(harness, pid)
    await story.party_send(record, "notify_party_credit_cover", requirement="9000", threshold="0")
    expires = today + timedelta(days=45)
    await story.party_send(
        record,
        "lodge_instrument",
        reference="BG-1",
        instrument={"form": "bank_guarantee", "amount": "9000", "expires_on": expires},
    )
    await story.party_send(record, "assess_party_credit")
    for handle in handles:
        await story.until(handle, story.credit_met, "the guarantee's credit position")
    counts_until = (await story.party_view(record))["instruments"][0]["counts_until"]
    assert date.fromisoformat(counts_until) < expires

    # time passes beyond the one-month line: no message, only the record's timer
    await harness.env.sleep(date.fromisoformat(counts_until) - today + timedelta(hours=2))
    for handle in handles:
        state = await story.until(handle, credit_lapsed, "the lapse reached the case")
        credit = {r["requirement"]: r for r in state["requirements"]}["credit"]
        assert credit["met"] is False
        refusal = await story.refused(handle, "verify_evidence", {"requirement": "credit"})
        assert "credit" in refusal and "not met" in refusal
    view = await story.party_view(record)
    assert view["instruments"][0]["counts_today"] is False
    assert view["credit"]["met"] is False

    # the Party replaces it and the DCC accepts the new one: every case is met again
    await story.party_send(
        record,
        "replace_instrument",
        reference="BG-1",
        by_reference="BG-2",
        instrument={
            "form": "bank_guarantee",
            "amount": "9000",
            "expires_on": today + timedelta(days=500),
        },
    )
    await story.party_send(record, "assess_party_credit")
    for handle in handles:
        await story.until(handle, story.credit_met, "the replacement's credit position")
    await story.record_history(record, "party-record-guarantee-lapsed-and-replaced")
    await story.record_history(handles[1], "party-backed-case-told-of-a-lapse")


async def test_user_ids_inside_the_range_unicast_and_a_second_one(harness: Harness) -> None:
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, today, ranges=False)
    await story.opened(handle)
    before = len(await harness.store.read_stream(handle.id))
    no_range = await story.refused(handle, "propose_user_id", {"user_id": "90b3d51f30010001"})
    assert "has not recorded a User ID range" in no_range and "allocate_user_id_range" in no_range
    await story.allocated(harness, handle, "90b3d51f30010000", "90b3d51f3001ffff")
    outside = await story.refused(handle, "propose_user_id", {"user_id": "90b3d51f30020001"})
    assert "outside the User ID range" in outside
    assert "90-B3-D5-1F-30-01-00-00 to 90-B3-D5-1F-30-01-FF-FF" in outside
    multicast = await story.refused(handle, "propose_user_id", {"user_id": "91b3d51f30010001"})
    assert "group (multicast)" in multicast
    stored = [e.type for e in await harness.store.read_stream(handle.id)]
    assert [t for t in stored[before:] if t != "PartyPositionRecorded"] == []  # none recorded
    await story.user_id_accepted(handle, "90b3d51f30010001", today)
    await story.user_id_accepted(handle, "90b3d51f30010002", today)
    view = await story.view(handle)
    assert view["user_ids"] == ["90b3d51f30010001", "90b3d51f30010002"]
    user_id = {r["requirement"]: r for r in view["requirements"]}["user_id"]
    assert user_id["met"] is True
    record = story.record_of(harness, story.party_id_of(handle))
    both = ["90-B3-D5-1F-30-01-00-01", "90-B3-D5-1F-30-01-00-02"]
    for _ in range(2_000):  # the case tells its record, which reads it back: a query each time
        if (await story.party_view(record))["roles"][0]["user_ids"] == both:
            break
    assert (await story.party_view(record))["roles"][0]["user_ids"] == both


async def activities_run(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The activity types a run scheduled, in order."""
    scheduled = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        async for event in handle.fetch_history_events()
        if event.event_type == scheduled
    ]


async def test_each_side_reads_the_other_from_its_stream_as_its_query_answers(
    harness: Harness,
) -> None:
    """store-reads-2026-12: a case reads its position, and the record a case's facts, by folding
    the other's stream; no query waits for the other's workflow task, and the fold gives what
    the other's query gives."""
    today = await story.today(harness)
    pid, handles = await three_roles(harness, today - timedelta(days=100))
    record = story.record_of(harness, pid)
    await story.party_send(
        record, "notify_party_credit_cover", requirement="50000", threshold="10000"
    )
    for handle in handles:
        await story.until(handle, lambda s: not story.credit_met(s), "the requirement arrived")
    reads = CoordinationActivities(harness.client, harness.store)
    for handle, role in zip(handles, SUPPLIERS, strict=True):
        asked = {"role": str(role), "on": today.isoformat()}
        queried = await record.query(POSITION_QUERY, asked, result_type=dict)
        read = await reads.read_party_position(
            PositionRequest(stream_id=record.id, role=role, on=today)
        )
        assert read == queried
        assert read is not None and read["credit"]["requirement"] == "50000"
        facts = await handle.query(CASE_FACTS_QUERY, result_type=dict)
        assert await reads.read_case_facts(handle.id) == facts
        assert facts["role"] == str(role) and facts["status"] == "open"
        steps = await activities_run(handle)
        assert "read_party_position" in steps and "query_workflow" not in steps
    steps = await activities_run(record)
    assert steps.count("read_case_facts") == 3 and "query_workflow" not in steps
    assert await reads.read_case_facts("uep-nobody-gas_supplier") is None
    assert (
        await reads.read_party_position(
            PositionRequest(stream_id=party_record_id("nobody"), role=SUPPLIERS[0], on=today)
        )
        is None
    )


async def user_id_reported(
    h: Harness, handle: WorkflowHandle[Any, Any], on: date
) -> WorkflowHandle[Any, Any]:
    """The DCC accepts a User ID on the case, and the case reports it to its Party record;
    returns the record once it shows the User ID."""
    await story.user_id_accepted(handle, "90b3d51f30010001", on, h)
    record = story.record_of(h, story.party_id_of(handle))

    def user_ids(view: dict[str, Any]) -> list[str]:
        return [u for r in view.get("roles", []) for u in r["user_ids"]]

    for _ in range(2_000):  # each query a round trip to the worker
        if user_ids(await story.party_view(record)):
            break
    assert user_ids(await story.party_view(record)) == ["90-B3-D5-1F-30-01-00-01"]
    return record


async def test_an_open_case_reporting_news_is_told_its_position_only_when_it_changed(
    harness: Harness,
) -> None:
    """told-on-news-2026-12: a case whose User ID is accepted reports it to its record; the
    record records it and pokes the case only when the case's position changed, so every poke
    the case took brought it something to record."""
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, today)
    await story.opened(handle)
    record = await user_id_reported(harness, handle, today)
    # then the position changes: the case is poked, reads it and records it
    await story.party_send(
        record, "notify_party_credit_cover", requirement="50000", threshold="10000"
    )

    async def positions() -> list[dict[str, Any]]:
        stream = await harness.store.read_stream(handle.id)
        return [e.data for e in stream if e.type == "PartyPositionRecorded"]

    def requirement(position: dict[str, Any]) -> str | None:
        value = position["credit"]["requirement"]
        return None if value is None else str(value)

    for _ in range(2_000):
        await story.view(handle)  # a round trip, so the worker moves on between reads
        if requirement((await positions())[-1]) == "50000":
            break
    recorded = await positions()
    assert requirement(recorded[-1]) == "50000"
    signaled = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    pokes = [
        event
        async for event in handle.fetch_history_events()
        if event.event_type == signaled
        and event.workflow_execution_signaled_event_attributes.signal_name == PARTY_CHANGED_SIGNAL
    ]
    assert len(recorded) >= 3  # the first position, the range, the credit requirement
    assert len(pokes) == len(recorded)  # before: one more, after the User ID's report


async def test_a_case_started_again_after_one_was_terminated_is_told_its_position(
    harness: Harness,
) -> None:
    """An operator terminated an open case that held a User ID (so it never reported closing)
    and started the role again: the record still shows the old case open with its User ID, and
    the new case's first report takes that away - not news of a case moving on, so the record
    tells it its position (told-on-news must not leave it waiting for ever)."""
    today = await story.today(harness)
    first = await story.start(harness, UserRole.GAS_SUPPLIER, today)
    await story.opened(first)
    record = await user_id_reported(harness, first, today)
    await first.terminate("an operator ended it")
    party = (await story.party_view(record))["profile"]
    again = await story.start(harness, UserRole.GAS_SUPPLIER, today, party, ranges=False)
    await story.opened(again)
    told = await story.until(again, story.ranges_known, "the position reached the new case", 20)
    assert told["party_record"] is not None
    await story.record_history(record, "party-record-case-started-again")
