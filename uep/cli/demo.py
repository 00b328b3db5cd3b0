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
from domain.principals import Principal, PrincipalKind
from uep.cli.case import refusal_message, start_case
from uep.cli.common import REFUSED, CliError, run_command
from uep.connect import settings, temporal_client
from uep.principal import signing_as
from workflows import names

CRITERIA = list(ENTRY_CRITERIA)

Steps = Callable[["Story"], Awaitable[None]]


@dataclass
class Story:
    """One demo case being written: its handle, today and the Working-Day calendar."""

    handle: WorkflowHandle[Any, Any]
    today: date
    calendar: WorkingDayCalendar

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
        """Book, hold and decide a security or privacy assessment (12 weeks' notice)."""
        held_on = booked_on + timedelta(weeks=12)
        await self.send(f"book_{area}_assessment", booked_on, assessment_on=held_on)
        await self.send(f"complete_{area}_assessment", held_on)
        await self.send(f"set_{area}_status", held_on, status=status)


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
    await s.send("propose_user_id", s.ago(5), user_id="90-B3-D5-1F-30-01-00-01")


async def _in_testing(s: Story) -> None:
    await s.user_id_accepted("90-B3-D5-1F-30-01-00-02", s.ago(130))
    await s.uept_started(s.ago(125))
    await s.send(
        "book_security_assessment", s.ago(60), assessment_on=s.ago(60) + timedelta(weeks=12)
    )
    await s.send("notify_credit_cover", s.ago(40), requirement="12500.00", threshold="2400")


async def _dcc_receipt_missed(s: Story) -> None:
    await s.user_id_accepted("90-B3-D5-1F-30-01-00-03", s.ago(200))
    await s.uept_started(s.ago(190))
    # The DCC confirmed receipt a week after the report (2 Working Days allowed): recorded as
    # missed when its answer came in; its 5-Working-Day review is now overdue as well.
    await s.send("submit_test_completion_report", s.ago(21))
    await s.send("confirm_report_receipt", s.ago(14))
    await s.assured("security", s.ago(150))


async def _privacy_under_way(s: Story) -> None:
    await s.user_id_accepted("90-B3-D5-1F-30-01-00-04", s.ago(160))
    await s.assured("security", s.ago(140))
    booked = s.ago(100)
    await s.send("book_privacy_assessment", booked, assessment_on=booked + timedelta(weeks=12))
    await s.send("complete_privacy_assessment", booked + timedelta(weeks=12))


async def _completed(s: Story) -> None:
    begun = s.ago(240)
    await s.user_id_accepted("90-B3-D5-1F-30-01-00-05", begun)
    await s.uept_certified(begun, s.ago(20))
    await s.assured("security", begun)
    await s.send("notify_credit_cover", s.ago(15), requirement="0", threshold="2400")
    for requirement in ("user_id", "uept", "security", "credit"):
        await s.send("verify_evidence", s.ago(3), requirement=requirement)
    # the Panel hears of it by an information paper at its meeting (H1.12); the other
    # notices go out through the outbox, and the case closes
    await s.send("record_panel_information_paper", s.ago(1), reference="SECP/DEMO/1")
    await asyncio.wait_for(s.handle.result(), 60)


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
    await case.steps(Story(client.get_workflow_handle(case.case_id), today, calendar))
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
