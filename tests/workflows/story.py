"""A small vocabulary for workflow tests: start a case, send messages, read its state."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.deadlines import uept_earliest_start
from domain.events import ENTRY_CRITERIA
from domain.roles import UserRole
from tests.workflows.conftest import Harness
from workflows.io import CaseResult, UpdateResult
from workflows.names import STATE_QUERY, WORKFLOW_TYPE, party_record_id, workflow_id

ALL_CRITERIA = list(ENTRY_CRITERIA)
CALENDAR: WorkingDayCalendar = build_calendar("england-and-wales", 2016, 2040)

PARTIES: dict[UserRole, dict[str, Any]] = {
    UserRole.IMPORT_SUPPLIER: {
        "category": "large_supplier",
        "licences": ["electricity_supply"],
    },
    UserRole.EXPORT_SUPPLIER: {"category": "small_supplier", "licences": ["electricity_supply"]},
    UserRole.GAS_SUPPLIER: {"category": "small_supplier", "licences": ["gas_supply"]},
    UserRole.ELECTRICITY_DISTRIBUTOR: {
        "category": "electricity_network_party",
        "licences": ["electricity_distribution"],
    },
    UserRole.GAS_TRANSPORTER: {"category": "gas_network_party", "licences": ["gas_transportation"]},
    UserRole.REGISTERED_SUPPLIER_AGENT: {"category": "other_sec_party", "mop_or_mam": True},
    UserRole.OTHER_USER: {"category": "other_sec_party"},
}


def party(role: UserRole, party_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Party eligible for ``role`` with a unique id."""
    pid = party_id or f"p{uuid.uuid4().hex[:10]}"
    return {"party_id": pid, "party_name": f"Party {pid}", **PARTIES[role], **extra}


async def start(
    h: Harness,
    role: UserRole,
    started_on: date,
    party_data: dict[str, Any] | None = None,
    memo: dict[str, Any] | None = None,
    ranges: bool = True,
    **extra: Any,
) -> WorkflowHandle[Any, Any]:
    """Start a case for a new Party in ``role``, backdated to ``started_on``.

    With ``ranges`` (the default) SECAS has allocated the Party the test User ID range
    (:data:`TEST_RANGE`) and the case holds it before this returns, as most stories assume;
    a story about a Party with no range yet passes ``ranges=False``.
    """
    p = party_data or party(role)
    payload = {"party": p, "role": str(role), "started_on": started_on.isoformat(), **extra}
    handle = await h.client.start_workflow(
        WORKFLOW_TYPE,
        payload,
        id=workflow_id(p["party_id"], str(role)),
        task_queue=h.task_queue,
        result_type=CaseResult,
        static_summary=f"{p['party_name']} - {role.label}",
        memo=memo,
    )
    if ranges:
        await allocated(h, handle, *TEST_RANGE)
    return handle


TEST_RANGE = ("90b3d51f30000000", "90b3d51f30ffffff")
"""The User ID range SECAS allocates each test Party (the ids the stories propose lie in it)."""


def _json(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in payload.items()}


async def opened(handle: WorkflowHandle[Any, Any], attempts: int = 2_000) -> dict[str, Any]:
    """Ask the state query until the case has opened (each query is a round trip, no sleep)."""
    for _ in range(attempts):
        state = await view(handle)
        if state.get("status") != "opening" and _settled(state):
            return state
    raise AssertionError(f"{handle.id} did not open after {attempts} state queries")


def _settled(state: dict[str, Any]) -> bool:
    """Whether a case backed by a Party record (revision 3 on) holds its first position from
    the record, so a test's "nothing recorded" snapshot is not raced by it."""
    return int(state.get("revision") or 0) < 3 or state.get("party_record") is not None


async def send(handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> UpdateResult:
    """Send an update that must be accepted; a refusal fails the test with its message."""
    for attempt in range(2):
        try:
            result: UpdateResult = await handle.execute_update(
                name, _json(payload), result_type=UpdateResult
            )
        except WorkflowUpdateFailedError as err:
            raise AssertionError(f"{name} refused: {refusal(err)}") from err
        except RPCError as err:
            # sent just as the run handed over to its successor: the run closed without
            # taking it (its task was refused), so the case's next run is asked again
            if attempt or "already completed" not in err.message:
                raise
            continue
        return result
    raise AssertionError("unreachable")


async def refused(handle: WorkflowHandle[Any, Any], name: str, payload: Any) -> str:
    """Send an update that must be refused; return the refusal message."""
    body = _json(payload) if isinstance(payload, dict) else payload
    try:
        await handle.execute_update(name, body, result_type=UpdateResult)
    except WorkflowUpdateFailedError as err:
        return refusal(err)
    raise AssertionError(f"{name} was accepted, expected a refusal")


def refusal(err: WorkflowUpdateFailedError) -> str:
    """The message of the ApplicationError behind a failed update."""
    cause = err.cause
    return str(cause.message if isinstance(cause, ApplicationError) else cause)


async def signal(handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> None:
    """Send a signal (fire and forget)."""
    await handle.signal(name, _json(payload))


async def result(h: Harness, handle: WorkflowHandle[Any, Any]) -> CaseResult:
    """The case's result, waited for without letting the test server skip time meanwhile.

    While a client waits on a result the time-skipping server may jump to the next timer of
    any workflow (ten years ahead, its default execution timeout, if nothing else is pending).
    """
    with h.env.auto_time_skipping_disabled():
        outcome = await handle.result()
    assert isinstance(outcome, CaseResult)
    return outcome


async def view(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The case as the state query returns it (plain JSON)."""
    result: dict[str, Any] = await handle.query(STATE_QUERY, result_type=dict)
    return result


async def today(h: Harness) -> date:
    """The test server's current date."""
    return (await h.env.get_current_time()).date()


async def user_id_accepted(
    handle: WorkflowHandle[Any, Any], uid: str, on: date, h: HasClient | None = None
) -> None:
    """Propose a User ID and have the DCC accept it (with ``h``, SECAS first allocates the
    Party a range holding it, as revision 3 needs)."""
    if h is not None:
        await party_range(h, handle, uid)
    await send(handle, "propose_user_id", user_id=uid, effective_on=on)
    await send(handle, "accept_user_id", user_id=uid, effective_on=on)


async def uept_certified(
    handle: WorkflowHandle[Any, Any], notice_on: date, finish_on: date
) -> None:
    """UEPT from notice to certificate: backdated notice and start, completion steps on one day."""
    earliest = uept_earliest_start(notice_on, CALENDAR)
    await send(handle, "give_uept_notice", planned_start_on=earliest, effective_on=notice_on)
    await send(handle, "confirm_entry_criteria", criteria=ALL_CRITERIA, effective_on=notice_on)
    await send(handle, "start_uept", effective_on=earliest)
    await send(handle, "submit_test_completion_report", effective_on=finish_on)
    await send(handle, "confirm_report_receipt", effective_on=finish_on)
    await send(handle, "conclude_uept_review", outcome="concluded", effective_on=finish_on)
    await send(handle, "record_quality_gate_meeting", successful=True, effective_on=finish_on)
    await send(handle, "issue_test_certificate", certificate_ref="TCC-1", effective_on=finish_on)


async def assurance_approved(handle: WorkflowHandle[Any, Any], area: str, booked_on: date) -> None:
    """Book, complete and approve a security or privacy assessment, all backdated."""
    on = booked_on + timedelta(weeks=12)
    await send(handle, f"book_{area}_assessment", assessment_on=on, effective_on=booked_on)
    await send(handle, f"complete_{area}_assessment", effective_on=on)
    await send(handle, f"set_{area}_status", status="approved", effective_on=on)


async def verify_all(
    handle: WorkflowHandle[Any, Any], requirements: list[str], on: date
) -> UpdateResult:
    """SECAS verifies each requirement's evidence; returns the last result."""
    result = None
    for req in requirements:
        result = await send(handle, "verify_evidence", requirement=req, effective_on=on)
    assert result is not None
    return result


async def panel_informed(
    handle: WorkflowHandle[Any, Any], on: date, attempts: int = 2_000
) -> UpdateResult:
    """Once the completed case has queued its notices, SECAS records the Panel's information
    paper (H1.12): the last notice, after which the case closes."""
    for _ in range(attempts):
        waiting = [o["what"] for o in (await view(handle))["outstanding"]]
        if any("information paper" in w for w in waiting):
            return await send(
                handle, "record_panel_information_paper", effective_on=on, reference="SECP/1"
            )
    raise AssertionError(f"{handle.id} did not queue the Panel's notice")


# -- the Party record (revision 3) -----------------------------------------------------------


class HasClient(Protocol):
    """What the Party record's helpers need: a Temporal client (a Harness, or :class:`Via`)."""

    @property
    def client(self) -> Client: ...


@dataclass(frozen=True)
class Via:
    """A client to reach Party records with, for stories told on the dev stack."""

    client: Client


def record_of(h: HasClient, party_id: str) -> WorkflowHandle[Any, Any]:
    """The handle of a Party's record."""
    return h.client.get_workflow_handle(party_record_id(party_id))


def party_id_of(handle: WorkflowHandle[Any, Any]) -> str:
    """The Party of a role case, from its workflow id (``uep-<party>-<role>``)."""
    return handle.id.removeprefix("uep-").rsplit("-", 1)[0]


async def party_send(record: WorkflowHandle[Any, Any], name: str, **payload: Any) -> dict[str, Any]:
    """Send an update to a Party record that must be accepted."""
    try:
        answer: dict[str, Any] = await record.execute_update(name, _json(payload), result_type=dict)
    except WorkflowUpdateFailedError as err:
        raise AssertionError(f"{name} refused by the Party record: {refusal(err)}") from err
    return answer


async def party_refused(record: WorkflowHandle[Any, Any], name: str, payload: Any) -> str:
    """Send an update to a Party record that must be refused; return the refusal."""
    try:
        await record.execute_update(name, _json(payload), result_type=dict)
    except WorkflowUpdateFailedError as err:
        return refusal(err)
    raise AssertionError(f"{name} was accepted by the Party record, expected a refusal")


async def party_view(record: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The Party record as its state query returns it."""
    answer: dict[str, Any] = await record.query(STATE_QUERY, result_type=dict)
    return answer


async def party_open(record: WorkflowHandle[Any, Any], attempts: int = 2_000) -> dict[str, Any]:
    """Ask until the record has opened (it is started by the first role case)."""
    for _ in range(attempts):
        try:
            state = await party_view(record)
        except RPCError:
            continue
        if "party_id" in state:
            return state
    raise AssertionError(f"{record.id} did not open after {attempts} queries")


async def until(
    handle: WorkflowHandle[Any, Any],
    check: Callable[[dict[str, Any]], bool],
    what: str,
    within: float = 60.0,
) -> dict[str, Any]:
    """Ask the case's state until ``check`` holds (each query a round trip, no sleep), for at
    most ``within`` seconds: what the Party record tells a case travels by signal and activity,
    which takes longer while other tests' workflows keep the worker busy."""
    state: dict[str, Any] = {}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        state = await view(handle)
        if check(state):
            return state
    raise AssertionError(f"{handle.id}: {what} never held; last state: {state.get('stage')}")


def _terms(state: dict[str, Any]) -> dict[str, Any]:
    terms = state.get("party_record")
    return terms if isinstance(terms, dict) else {}


def ranges_known(state: dict[str, Any]) -> bool:
    """Whether the case has taken a User ID range from its Party record."""
    return bool(_terms(state).get("user_id_ranges"))


def security_met(state: dict[str, Any]) -> bool:
    """Whether the case holds a met security position from its Party record."""
    return bool(_terms(state).get("security", {}).get("met"))


def credit_met(state: dict[str, Any]) -> bool:
    """Whether the case holds a met credit position from its Party record."""
    return bool(_terms(state).get("credit", {}).get("met"))


async def party_range(h: HasClient, handle: WorkflowHandle[Any, Any], uid: str) -> None:
    """SECAS allocates the case's Party the 65,536 ids around ``uid`` (unless the Party holds
    a range already), and the case has taken the range from its record."""
    prefix = uid.replace("-", "").replace(" ", "").lower()[:12]
    await allocated(h, handle, f"{prefix}0000", f"{prefix}ffff")


async def allocated(h: HasClient, handle: WorkflowHandle[Any, Any], first: str, last: str) -> None:
    """SECAS allocates the case's Party ``first``-``last`` unless it holds a range already;
    returns once the case holds its record's ranges."""
    record = record_of(h, party_id_of(handle))
    await party_open(record)
    state = await party_view(record)
    if not state["user_id_ranges"]:
        await party_send(record, "allocate_user_id_range", first=first, last=last)
    await until(handle, ranges_known, "the Party's User ID range reached the case")


async def party_security_approved(
    h: HasClient, handle: WorkflowHandle[Any, Any], booked_on: date, roles: list[str] | None = None
) -> None:
    """A full security assessment of the case's Party covering ``roles`` (default: the case's
    role), completed and approved, all backdated; the case then holds security as met."""
    record = record_of(h, party_id_of(handle))
    await party_open(record)
    state = await view(handle)
    on = booked_on + timedelta(weeks=12)
    booked = await party_send(
        record,
        "book_party_security_assessment",
        roles=roles or [state["role"]],
        assessment_on=on,
        effective_on=booked_on,
    )
    assert booked["events"] == ["SecurityAssessmentBooked"]
    assessment = (await party_view(record))["security"][-1]["assessment_id"]
    await party_send(
        record, "complete_party_security_assessment", assessment_id=assessment, effective_on=on
    )
    await party_send(
        record,
        "set_party_security_status",
        assessment_id=assessment,
        status="approved",
        effective_on=on,
    )
    await until(handle, security_met, "the approved assessment reached the case")


async def party_credit(
    h: HasClient, handle: WorkflowHandle[Any, Any], requirement: str = "0", threshold: str = "2400"
) -> None:
    """The DCC notifies the case's Party a Credit Cover Requirement under the threshold (no
    support needed); the case then holds credit as met."""
    record = record_of(h, party_id_of(handle))
    await party_open(record)
    await party_send(
        record, "notify_party_credit_cover", requirement=requirement, threshold=threshold
    )
    await until(handle, credit_met, "the credit position reached the case")


HISTORY_GENERATION = 13
"""Bump when the workflow's commands change (behind ``workflow.patched``), then record."""


async def replays(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the run's history, as it stands, replays against today's code (as a worker
    replays it: the audit's replayer)."""
    from uep.audit.replay import replayer
    from worker import WORKFLOWS

    history = await handle.fetch_history()
    replayed = await replayer(WORKFLOWS).replay_workflow(history, raise_on_replay_failure=False)
    return replayed.replay_failure is None


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Save the case's history for the replay tests when ``UEP_RECORD_HISTORIES`` is set."""
    import json
    import os
    from pathlib import Path

    if not os.environ.get("UEP_RECORD_HISTORIES"):
        return
    # Histories are never overwritten: each generation of the workflow code adds its own, and
    # every one of them must keep replaying (cases recorded by older code may still be running).
    target = Path(__file__).parent.parent / "histories" / f"{name}.g{HISTORY_GENERATION}.json"
    if target.exists():
        return
    history = await handle.fetch_history()
    record = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
    target.write_text(json.dumps(record, indent=1) + "\n")
