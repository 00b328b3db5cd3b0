"""The Party record on the time-skipping server: three supplier roles, one guarantee, one FUSA.

Each role case opens the record (signal-with-start), the record reads the case, and each case
reads its position back from the record; nothing here trusts a signal's content.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from domain.roles import UserRole
from tests.workflows import story
from tests.workflows.conftest import Harness
from workflows.names import PARTY_WORKFLOW_TYPE, party_record_id

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
