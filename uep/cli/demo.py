"""`uep demo`: a handful of realistic cases on the running stack, so the UI shows something real.

Facts are entered with backdated ``effective_on`` dates, as an analyst catching up would: the
cases land mid-flight, and a DCC step already past its due date is recorded as missed by the
case's own timer straight away. A case that already exists is left alone, so running the demo
twice is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.deadlines import uept_earliest_start
from domain.events import ENTRY_CRITERIA
from domain.party import record_id
from domain.principals import Principal, PrincipalKind
from uep.cli.case import refusal_message, start_case
from uep.cli.common import REFUSED, CliError, run_command
from uep.cli.party import OPENING_PAUSES
from uep.connect import settings, temporal_client
from uep.principal import signing_as
from workflows import names

CRITERIA = list(ENTRY_CRITERIA)


def _terms(view: dict[str, Any]) -> dict[str, Any]:
    terms = view.get("party_record")
    return terms if isinstance(terms, dict) else {}


def _met(area: str) -> Callable[[dict[str, Any]], bool]:
    return lambda view: bool(_terms(view).get(area, {}).get("met"))


Steps = Callable[["Story"], Awaitable[None]]


@dataclass
class Story:
    """One demo case being written: its handle, today and the Working-Day calendar."""

    handle: WorkflowHandle[Any, Any]
    today: date
    calendar: WorkingDayCalendar
    client: Client

    def ago(self, days: int) -> date:
        """The date ``days`` calendar days before today."""
        return self.today - timedelta(days=days)

    async def send(self, name: str, on: date | None = None, **payload: Any) -> None:
        """Send an update, dated ``on``; a refusal stops this case with the workflow's reason."""
        body = {k: v.isoformat() if isinstance(v, date) else v for k, v in payload.items()}
        if on is not None:
            body["effective_on"] = on.isoformat()
        try:
            await self.handle.execute_update(name, body)
        except WorkflowUpdateFailedError as err:
            raise CliError(
                f"{self.handle.id}: {name} refused: {refusal_message(err)}", REFUSED
            ) from None

    async def user_id_accepted(self, user_id: str, on: date) -> None:
        """The Party proposes a User ID and the DCC accepts it."""
        await self.send("propose_user_id", on, user_id=user_id)
        await self.send("accept_user_id", on, user_id=user_id, message_id=f"dcc-{user_id}")

    async def uept_started(self, notice_on: date) -> date:
        """Notice, entry criteria and UEPT start (at the earliest date); the start date."""
        start = uept_earliest_start(notice_on, self.calendar)
        await self.send("give_uept_notice", notice_on, planned_start_on=start)
        await self.send("confirm_entry_criteria", notice_on, criteria=CRITERIA)
        await self.send("start_uept", start)
        return start

    async def uept_certified(self, notice_on: date, done_on: date) -> None:
        """UEPT from notice to Test Completion Certificate, each DCC step on time."""
        await self.uept_started(notice_on)
        await self.send("submit_test_completion_report", done_on)
        await self.send("confirm_report_receipt", done_on)
        await self.send("conclude_uept_review", done_on, outcome="concluded")
        await self.send("record_quality_gate_meeting", done_on, successful=True)
        await self.send("issue_test_certificate", done_on, certificate_ref="TCC-DEMO-001")

    async def assured(self, area: str, booked_on: date, status: str = "approved") -> None:
        """Book, hold and decide a privacy assessment (12 weeks' notice)."""
        held_on = booked_on + timedelta(weeks=12)
        await self.send(f"book_{area}_assessment", booked_on, assessment_on=held_on)
        await self.send(f"complete_{area}_assessment", held_on)
        await self.send(f"set_{area}_status", held_on, status=status)

    # -- the Party record: what belongs to the Party, not to one role ----------------------

    @property
    def record(self) -> WorkflowHandle[Any, Any]:
        """The Party's record (opened by its first role case)."""
        return self.client.get_workflow_handle(record_id(self.party_id))

    @property
    def party_id(self) -> str:
        """The Party of this case, from its workflow id (``uep-<party>-<role>``)."""
        return self.handle.id.removeprefix("uep-").rsplit("-", 1)[0]

    async def party_send(self, name: str, on: date | None = None, **payload: Any) -> dict[str, Any]:
        """Send an update to the Party record (waiting the moment it takes to open)."""
        body = {k: v.isoformat() if isinstance(v, date) else v for k, v in payload.items()}
        if on is not None:
            body["effective_on"] = on.isoformat()
        for pause in (*OPENING_PAUSES, None):
            try:
                answer: dict[str, Any] = await self.record.execute_update(name, body)
                return answer
            except WorkflowUpdateFailedError as err:
                raise CliError(
                    f"{self.record.id}: {name} refused: {refusal_message(err)}", REFUSED
                ) from None
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND or pause is None:
                    raise
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def holds(self, what: str, check: Callable[[dict[str, Any]], bool]) -> None:
        """Wait (up to a minute) until the case holds what its Party record told it."""
        for _ in range(600):
            if check(await self.handle.query(names.STATE_QUERY)):
                return
            await asyncio.sleep(0.1)
        raise CliError(f"{self.handle.id}: {what} never reached the case", REFUSED)

    async def range_allocated(self, block: int) -> None:
        """SECAS allocates the Party the 65,536 User IDs 90-B3-D5-1F-30-<block>-00-00 on."""
        await self.range_around(f"90b3d51f30{block:02x}0000")

    async def range_around(self, user_id: str) -> None:
        """SECAS allocates the Party the 65,536 User IDs sharing ``user_id``'s first six
        octets; returns once the case holds the range."""
        prefix = user_id.replace("-", "").lower()[:12]
        await self.party_send("allocate_user_id_range", first=prefix + "0000", last=prefix + "ffff")
        await self.holds("the User ID range", lambda v: bool(_terms(v).get("user_id_ranges")))

    async def security_and_credit_held(self) -> None:
        """Wait until the case holds met security and credit positions from its record."""
        await self.holds("security and credit", lambda v: _met("security")(v) and _met("credit")(v))

    async def security_assured(
        self, booked_on: date, roles: list[str], status: str = "approved"
    ) -> None:
        """The Party's Initial Full User Security Assessment covering ``roles``, held 12 weeks
        after booking, and the Panel's status on it."""
        held_on = booked_on + timedelta(weeks=12)
        booked = await self.party_send(
            "book_party_security_assessment", booked_on, roles=roles, assessment_on=held_on
        )
        assessment = booked.get("assessment_id") or await self._last_assessment()
        await self.party_send(
            "complete_party_security_assessment", held_on, assessment_id=assessment
        )
        await self.party_send(
            "set_party_security_status", held_on, assessment_id=assessment, status=status
        )

    async def _last_assessment(self) -> str:
        view = await self.record.query(names.STATE_QUERY)
        return str(view["security"][-1]["assessment_id"])


@dataclass(frozen=True)
class DemoCase:
    """A demo Party, the role it enters, how far back it started, and what happened since."""

    party: dict[str, Any]
    role: str
    started_days_ago: int
    steps: Steps
    rules_version: str | None = None

    @property
    def case_id(self) -> str:
        """The case's workflow id."""
        return names.workflow_id(self.party["party_id"], self.role)


async def _waiting_for_dcc(s: Story) -> None:
    await s.range_allocated(1)
    await s.send("propose_user_id", s.ago(5), user_id="90-B3-D5-1F-30-01-00-01")


async def _in_testing(s: Story) -> None:
    await s.range_allocated(2)
    await s.user_id_accepted("90-B3-D5-1F-30-02-00-02", s.ago(130))
    await s.uept_started(s.ago(125))
    booked = s.ago(60)
    await s.party_send(
        "book_party_security_assessment",
        booked,
        roles=["electricity_distributor"],
        assessment_on=booked + timedelta(weeks=12),
    )
    await s.party_send(
        "notify_party_credit_cover", s.ago(40), requirement="12500.00", threshold="2400"
    )


async def _dcc_receipt_missed(s: Story) -> None:
    await s.range_allocated(3)
    await s.user_id_accepted("90-B3-D5-1F-30-03-00-03", s.ago(200))
    await s.uept_started(s.ago(190))
    # The DCC confirmed receipt a week after the report (2 Working Days allowed): recorded as
    # missed when its answer came in; its 5-Working-Day review is now overdue as well.
    await s.send("submit_test_completion_report", s.ago(21))
    await s.send("confirm_report_receipt", s.ago(14))
    await s.security_assured(s.ago(150), ["import_supplier"])


async def _privacy_under_way(s: Story) -> None:
    await s.range_allocated(4)
    await s.user_id_accepted("90-B3-D5-1F-30-04-00-04", s.ago(160))
    await s.security_assured(s.ago(140), ["other_user"])
    booked = s.ago(100)
    await s.send("book_privacy_assessment", booked, assessment_on=booked + timedelta(weeks=12))
    await s.send("complete_privacy_assessment", booked + timedelta(weeks=12))


async def _completed(s: Story) -> None:
    await s.range_allocated(5)
    begun = s.ago(240)
    await s.user_id_accepted("90-B3-D5-1F-30-05-00-05", begun)
    await s.uept_certified(begun, s.ago(20))
    await s.security_assured(begun, ["registered_supplier_agent"])
    await s.party_send("notify_party_credit_cover", s.ago(15), requirement="0", threshold="2400")
    await s.security_and_credit_held()
    await _verified_and_closed(s, "SECP/DEMO/1")


async def _verified_and_closed(s: Story, paper: str) -> None:
    for requirement in ("user_id", "uept", "security", "credit"):
        await s.send("verify_evidence", s.ago(3), requirement=requirement)
    # the Panel hears of it by an information paper at its meeting (H1.12); the other
    # notices go out through the outbox, and the case closes
    await s.send("record_panel_information_paper", s.ago(1), reference=paper)
    await asyncio.wait_for(s.handle.result(), 60)


TRIO_ROLES = ["import_supplier", "export_supplier", "gas_supplier"]


async def _trio_import(s: Story) -> None:
    """Tri Energy's first role: SECAS allocates the range; one Bank Guarantee and one Initial
    Full User Security Assessment, both the Party's, serve all three supplier roles."""
    await s.range_allocated(6)
    begun = s.ago(230)
    await s.security_assured(begun, TRIO_ROLES)
    await s.party_send(
        "notify_party_credit_cover", s.ago(40), requirement="48000.00", threshold="2400"
    )
    await s.party_send(
        "lodge_instrument",
        s.ago(35),
        reference="BG-TRI-1",
        instrument={
            "form": "bank_guarantee",
            "amount": "50000.00",
            "provider": "Northern Bank plc",
            "expires_on": (s.today + timedelta(days=400)).isoformat(),
        },
    )
    await s.party_send("assess_party_credit", s.ago(30))
    await s.user_id_accepted("90-B3-D5-1F-30-06-00-01", begun)
    await s.uept_certified(begun, s.ago(20))
    await s.security_and_credit_held()
    await _verified_and_closed(s, "SECP/DEMO/2")


async def _trio_export(s: Story) -> None:
    """The same guarantee and assessment count for Export Supply; its UEPT is under way."""
    await s.security_and_credit_held()
    await s.user_id_accepted("90-B3-D5-1F-30-06-00-02", s.ago(120))
    await s.uept_started(s.ago(110))


async def _trio_gas(s: Story) -> None:
    """Gas Supply: covered by the same guarantee and assessment, waiting for its notice."""
    await s.security_and_credit_held()
    await s.user_id_accepted("90-B3-D5-1F-30-06-00-03", s.ago(20))


TRIO = {"party_id": "trienergy", "party_name": "Tri Energy plc", "category": "large_supplier",
        "licences": ["electricity_supply", "gas_supply"]}  # fmt: skip


DEMO_CASES = [
    DemoCase(
        {"party_id": "acme", "party_name": "Acme Energy", "category": "small_supplier",
         "licences": ["gas_supply"]},
        "gas_supplier", 10, _waiting_for_dcc,
    ),
    DemoCase(
        {"party_id": "northgrid", "party_name": "North Grid Networks",
         "category": "electricity_network_party", "licences": ["electricity_distribution"]},
        "electricity_distributor", 140, _in_testing,
    ),
    DemoCase(
        {"party_id": "bigpower", "party_name": "BigPower plc", "category": "large_supplier",
         "licences": ["electricity_supply"]},
        "import_supplier", 210, _dcc_receipt_missed,
    ),
    DemoCase(
        {"party_id": "datacorp", "party_name": "DataCorp Analytics",
         "category": "other_sec_party"},
        "other_user", 170, _privacy_under_way, rules_version="mp112",
    ),
    DemoCase(
        {"party_id": "meterco", "party_name": "MeterCo Services", "category": "other_sec_party",
         "mop_or_mam": True},
        "registered_supplier_agent", 250, _completed,
    ),
    DemoCase(TRIO, "import_supplier", 240, _trio_import),
    DemoCase(TRIO, "export_supplier", 130, _trio_export),
    DemoCase(TRIO, "gas_supplier", 30, _trio_gas),
]  # fmt: skip
"""Different Parties, categories, roles and stages: the UI and read models show real variety."""


async def _exists(client: Client, case_id: str) -> bool:
    try:
        await client.get_workflow_handle(case_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def create(client: Client, case: DemoCase, today: date, task_queue: str) -> str:
    """Start one demo case and play its story; a line saying what was done."""
    if await _exists(client, case.case_id):
        return f"skipped  {case.case_id} (already there)"
    payload: dict[str, Any] = {
        "party": case.party,
        "role": case.role,
        "started_on": (today - timedelta(days=case.started_days_ago)).isoformat(),
        "actor": "uep demo",
    }
    if case.rules_version:
        payload["rules_version"] = case.rules_version
    await start_case(client, payload, task_queue)
    calendar = build_calendar("england-and-wales", today.year - 2, today.year + 2)
    await case.steps(Story(client.get_workflow_handle(case.case_id), today, calendar, client))
    view = await client.get_workflow_handle(case.case_id).query(names.STATE_QUERY)
    return f"created  {case.case_id} - stage {view.get('stage')}"


async def run_demo(args: argparse.Namespace, today: date | None = None) -> int:
    """Create every demo case; 0 when all went in, 1 when one was refused."""
    config = settings()
    client = await temporal_client(config, signed=True)
    today = today or date.today()
    status = 0
    # SECAS records every demo fact, each on behalf of the message's own sender
    demo = Principal(kind=PrincipalKind.SECAS, id="uep-demo", name="SECAS (uep demo)")
    for case in DEMO_CASES:
        try:
            with signing_as(demo):
                print(await create(client, case, today, config.task_queue), flush=True)
        except CliError as err:
            print(f"failed   {err}", file=sys.stderr, flush=True)
            status = 1
    print("see them with `uep case list`, or in the Web UI's workflow list")
    return status


def add_parser(sub: Any) -> None:
    """Register `uep demo`."""
    p = sub.add_parser("demo", help="start a handful of realistic cases on the running stack")
    p.set_defaults(func=run_command("uep demo", run_demo))
