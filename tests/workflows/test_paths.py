"""One workflow test per path of the process, on the time-skipping test server."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from domain.deadlines import uept_earliest_start
from domain.roles import UserRole
from tests.workflows import story
from tests.workflows.conftest import Harness
from workflows.io import CaseResult


async def in_testing(
    h: Harness, started_on: date, role: UserRole = UserRole.GAS_SUPPLIER
) -> WorkflowHandle[Any, Any]:
    """A case whose UEPT has started (notice, criteria and start all backdated)."""
    handle = await story.start(h, role, started_on)
    await story.user_id_accepted(handle, "90-B3-D5-1F-30-01-00-01", started_on)
    # from the next Working Day when the notice falls on a weekend (a plain +60 WD would make
    # this test depend on the day it runs)
    earliest = uept_earliest_start(started_on, story.CALENDAR)
    await story.send(handle, "give_uept_notice", planned_start_on=earliest, effective_on=started_on)
    await story.send(
        handle, "confirm_entry_criteria", criteria=list(story.ALL_CRITERIA), effective_on=started_on
    )
    await story.send(handle, "start_uept", effective_on=earliest)
    return handle


async def stored_types(h: Harness, handle: WorkflowHandle[Any, Any]) -> list[str]:
    return [e.type for e in await h.store.read_stream(handle.id)]


async def test_further_testing_required_then_concluded(harness: Harness) -> None:
    today = await story.today(harness)
    handle = await in_testing(harness, today - timedelta(days=150))
    await story.send(handle, "submit_test_completion_report", effective_on=today)
    await story.send(handle, "confirm_report_receipt", effective_on=today)
    result = await story.send(
        handle, "conclude_uept_review", outcome="further_testing_required", effective_on=today
    )
    assert result.stage == "uept_testing"
    await story.send(handle, "submit_test_completion_report", effective_on=today)
    await story.send(handle, "confirm_report_receipt", effective_on=today)
    await story.send(handle, "conclude_uept_review", outcome="concluded", effective_on=today)
    await story.send(handle, "record_quality_gate_meeting", successful=True, effective_on=today)
    result = await story.send(
        handle, "issue_test_certificate", certificate_ref="TCC-2", effective_on=today
    )
    assert result.stage == "assurance"
    view = await story.view(handle)
    assert [(s["step"], s["cycle"], s["status"]) for s in view["dcc_steps"]] == [
        ("report_receipt", 1, "met"),
        ("report_review", 1, "met"),
        ("report_receipt", 2, "met"),
        ("report_review", 2, "met"),
        ("certificate", 2, "met"),
    ]


async def test_receipt_late_over_christmas_records_missed_deadline(harness: Harness) -> None:
    handle = await in_testing(harness, date(2025, 6, 2))
    await story.send(handle, "submit_test_completion_report", effective_on=date(2025, 12, 23))
    # Tue 23 Dec 2025 + 2 WD: Wed 24, then Christmas, Boxing Day and the weekend: Mon 29 Dec.
    await story.send(handle, "confirm_report_receipt", effective_on=date(2025, 12, 31))
    view = await story.view(handle)
    receipt = view["dcc_steps"][0]
    assert receipt["due_on"] == "2025-12-29"
    assert receipt["status"] == "missed"
    assert receipt["working_days_late"] == 2  # 30 and 31 Dec
    assert (await stored_types(harness, handle)).count("DccDeadlineMissed") == 1
    await story.record_history(handle, "dcc-receipt-late-christmas")


async def test_review_late_over_easter_records_missed_deadline(harness: Harness) -> None:
    handle = await in_testing(harness, date(2024, 11, 4))
    await story.send(handle, "submit_test_completion_report", effective_on=date(2025, 4, 14))
    await story.send(handle, "confirm_report_receipt", effective_on=date(2025, 4, 15))
    view = await story.view(handle)
    assert view["dcc_steps"][1]["status"] == "overdue"  # entered late: judged when the DCC answers
    # The review counts from the DCC's receipt of the report, Mon 14 Apr 2025: + 5 WD skips
    # Good Friday (18th) and Easter Monday (21st): Wed 23 Apr.
    await story.send(
        handle, "conclude_uept_review", outcome="concluded", effective_on=date(2025, 4, 28)
    )
    events = [
        e for e in await harness.store.read_stream(handle.id) if e.type == "DccDeadlineMissed"
    ]
    assert [(e.data["step"], e.data["due_on"]) for e in events] == [("report_review", "2025-04-23")]
    view = await story.view(handle)
    assert view["dcc_steps"][1]["status"] == "missed"
    assert view["dcc_steps"][1]["working_days_late"] == 3  # Thu 24, Fri 25 and Mon 28 April
    assert view["dcc_steps"][0]["status"] == "met"


async def test_certificate_deadline_timer_fires_in_the_future(lone_harness: Harness) -> None:
    harness = lone_harness  # it skips days: on the shared server others' timers hold the clock
    today = await story.today(harness)
    handle = await in_testing(harness, today - timedelta(days=150))
    steps: list[tuple[str, dict[str, Any]]] = [
        ("submit_test_completion_report", {}),
        ("confirm_report_receipt", {}),
        ("conclude_uept_review", {"outcome": "concluded"}),
        ("record_quality_gate_meeting", {"successful": True}),
    ]
    for name, extra in steps:
        await story.send(handle, name, effective_on=today, **extra)
    due = story.CALENDAR.add_working_days(today, 2)
    assert "DccDeadlineMissed" not in await stored_types(harness, handle)
    await harness.env.sleep(due - today + timedelta(days=1, hours=1))
    view = await story.view(handle)
    assert view["dcc_steps"][-1]["step"] == "certificate"
    assert view["dcc_steps"][-1]["status"] == "missed"
    assert view["dcc_steps"][-1]["due_on"] == due.isoformat()


async def test_security_deferred_then_follow_up_approved(harness: Harness) -> None:
    today = await story.today(harness)
    begun = today - timedelta(days=300)
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, begun)
    record = story.record_of(harness, story.party_id_of(handle))
    assessed_on = begun + timedelta(weeks=12)
    await story.party_send(
        record,
        "book_party_security_assessment",
        roles=["gas_supplier"],
        assessment_on=assessed_on,
        effective_on=begun,
    )
    await story.party_send(
        record, "complete_party_security_assessment", assessment_id="S1", effective_on=assessed_on
    )
    await story.party_send(
        record,
        "set_party_security_status",
        assessment_id="S1",
        status="deferred",
        effective_on=assessed_on,
    )
    view = await story.until(
        handle,
        lambda v: any("follow-up" in o["what"] for o in v["outstanding"]),
        "the case asks for a follow-up assessment",
    )
    assert any(o["who"] == "Party" and "follow-up" in o["what"] for o in view["outstanding"])
    follow_up = assessed_on + timedelta(weeks=12)
    await story.party_send(
        record,
        "book_party_security_assessment",
        kind="follow_up",
        roles=["gas_supplier"],
        assessment_on=follow_up,
        effective_on=assessed_on,
    )
    await story.party_send(
        record, "complete_party_security_assessment", assessment_id="S2", effective_on=follow_up
    )
    await story.party_send(
        record,
        "set_party_security_status",
        assessment_id="S2",
        status="approved",
        effective_on=follow_up,
    )
    view = await story.until(handle, story.security_met, "the follow-up's approval reached it")
    security = next(r for r in view["requirements"] if r["requirement"] == "security")
    assert security == {
        "requirement": "security",
        "status": "approved (S2, Party record)",
        "met": True,
        "verified_on": None,
    }


async def test_privacy_rejected_under_mp112_blocks_until_second_assessment(
    harness: Harness,
) -> None:
    today = await story.today(harness)
    begun = today - timedelta(days=300)
    handle = await story.start(harness, UserRole.OTHER_USER, begun, rules_version="mp112")
    on = begun + timedelta(weeks=12)
    await story.send(handle, "book_privacy_assessment", assessment_on=on, effective_on=begun)
    await story.send(handle, "complete_privacy_assessment", effective_on=on)
    await story.send(handle, "set_privacy_status", status="rejected", effective_on=on)
    view = await story.view(handle)
    privacy = next(r for r in view["requirements"] if r["requirement"] == "privacy")
    assert privacy["status"] == "rejected" and not privacy["met"]
    assert view["rules_version"] == "mp112"
    message = await story.refused(handle, "verify_evidence", {"requirement": "privacy"})
    assert "privacy requirement is not met" in message


async def test_bank_guarantee_with_20_days_to_expiry_is_refused(harness: Harness) -> None:
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.IMPORT_SUPPLIER, today - timedelta(days=30))
    record = story.record_of(harness, story.party_id_of(handle))
    await story.party_send(
        record, "notify_party_credit_cover", requirement="25000", threshold="2400"
    )
    before = [e.type for e in await harness.store.read_stream(record.id)]
    item = {
        "form": "bank_guarantee",
        "amount": "25000",
        "expires_on": (today + timedelta(days=20)).isoformat(),
    }
    message = await story.party_refused(
        record, "lodge_instrument", {"reference": "BG-1", "instrument": item}
    )
    assert "instrument.expires_on" in message and "month" in message
    assert [e.type for e in await harness.store.read_stream(record.id)] == before
    view = await story.until(
        handle,
        lambda v: any("lodge" in o["what"] for o in v["outstanding"]),
        "the case asks for Credit Support to be lodged",
    )
    credit = next(r for r in view["requirements"] if r["requirement"] == "credit")
    assert credit["met"] is False


async def test_supplier_roles_share_a_user_id_and_other_roles_may_not(harness: Harness) -> None:
    today = await story.today(harness)
    acme = story.party(UserRole.IMPORT_SUPPLIER, licences=["electricity_supply", "gas_supply"])
    uid = "90-B3-D5-1F-30-01-AA-01"
    gas = await story.start(harness, UserRole.GAS_SUPPLIER, today, party_data=acme)
    imp = await story.start(harness, UserRole.IMPORT_SUPPLIER, today, party_data=acme)
    await story.send(gas, "propose_user_id", user_id=uid)
    await story.send(imp, "propose_user_id", user_id=uid)
    other = await story.start(harness, UserRole.OTHER_USER, today, party_data=acme)
    message = await story.refused(other, "propose_user_id", {"user_id": uid})
    assert "Other User" in message or "other_user" in message
    assert "UserIdProposed" not in await stored_types(harness, other)
    rival = await story.start(harness, UserRole.GAS_SUPPLIER, today)
    message = await story.refused(rival, "propose_user_id", {"user_id": uid})
    assert acme["party_id"] in message
    view = await story.view(other)
    assert view["user_id"] is None


async def test_dispute_to_the_panel_then_ofgem(harness: Harness) -> None:
    """A privacy status disputed (security is the Party record's since revision 3)."""
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.OTHER_USER, today - timedelta(days=200))
    on = today - timedelta(days=100)
    await story.send(
        handle,
        "book_privacy_assessment",
        assessment_on=on,
        effective_on=today - timedelta(days=200),
    )
    await story.send(handle, "complete_privacy_assessment", effective_on=on)
    message = await story.refused(handle, "raise_dispute", {"subject": "privacy", "reason": "x"})
    assert "recorded adverse outcome of privacy" in message
    await story.send(handle, "set_privacy_status", status="deferred")
    await story.send(handle, "raise_dispute", subject="privacy", reason="scope of the assessment")
    message = await story.refused(
        handle, "book_privacy_assessment", {"kind": "follow_up", "assessment_on": "2099-01-01"}
    )
    assert "paused by dispute D1" in message
    await story.send(handle, "record_panel_determination", dispute_id="D1", upheld=False)
    await story.send(handle, "refer_dispute_to_ofgem", dispute_id="D1")
    view = await story.view(handle)
    assert view["disputes"][0]["phase"] == "with_ofgem"
    assert any(o["who"] == "Ofgem" for o in view["outstanding"])
    result = await story.send(
        handle, "record_ofgem_determination", dispute_id="D1", upheld=True, outcome="approved"
    )
    assert result.events == ["OfgemDeterminationMade", "AssuranceStatusSet"]
    view = await story.view(handle)
    assert view["disputes"][0]["phase"] == "ofgem_determined"
    assert next(r for r in view["requirements"] if r["requirement"] == "privacy")["met"]
    message = await story.refused(handle, "raise_dispute", {"subject": "security", "reason": "x"})
    assert "the Party record" in message and "does not yet record disputes there" in message
    await story.record_history(handle, "dispute-panel-then-ofgem")


async def test_withdrawal_ends_the_case_and_releases_the_user_id(harness: Harness) -> None:
    today = await story.today(harness)
    acme = story.party(UserRole.GAS_SUPPLIER)
    uid = "90-B3-D5-1F-30-01-BB-01"
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, today, party_data=acme)
    await story.send(handle, "propose_user_id", user_id=uid)
    await story.send(handle, "withdraw", reason="left the market")
    result = await story.result(harness, handle)
    assert isinstance(result, CaseResult) and result.status == "withdrawn"
    assert (await stored_types(harness, handle))[-1] == "CaseWithdrawn"
    again = await story.start(harness, UserRole.GAS_SUPPLIER, today, party_data=acme)
    await story.send(again, "propose_user_id", user_id=uid)  # the released id may be claimed again
    versions = [e.version for e in await harness.store.read_stream(again.id)]
    assert versions == list(range(1, len(versions) + 1))  # one stream per Party x role, continued


async def test_secas_moves_a_running_case_onto_newer_rules(harness: Harness) -> None:
    today = await story.today(harness)
    handle = await story.start(harness, UserRole.OTHER_USER, today, rules_version="guidance-2018")
    await story.opened(handle)
    assert (await story.view(handle))["rules_version"] == "guidance-2018"
    moved = await story.send(
        handle, "change_rules_version", rules_version="mp112", reason="MP112 implemented"
    )
    assert moved.events == ["RulesVersionChanged"]
    assert (await story.view(handle))["rules_version"] == "mp112"
    back = await story.refused(
        handle, "change_rules_version", {"rules_version": "guidance-2018", "reason": "undo"}
    )
    assert "a case moves forward only" in back
