"""Where a case stands: stage, who must act, deadlines, forecast, and the view built from them."""

from __future__ import annotations

import json
from datetime import date, timedelta

from domain import events as ev
from domain.calendar_data import build_calendar
from domain.progress import Stage, deadlines, forecast_completion, next_deadline, outstanding, stage
from domain.roles import UserRole
from domain.view import build_view
from tests.unit.test_decider import ALL_CRITERIA, START, TODAY, UID, given, started
from uep.cli.schema import all_schemas

CAL = build_calendar("england-and-wales", 2016, 2040)


def test_stage_follows_the_process() -> None:
    s = given(started())
    assert stage(s) == Stage.USER_ID
    s = given(s, ev.UserIdProposed(effective_on=START, user_id=UID))
    assert stage(s) == Stage.USER_ID
    s = given(s, ev.UserIdAccepted(effective_on=START, user_id=UID))
    assert stage(s) == Stage.UEPT_NOTICE
    earliest = CAL.add_working_days(START, 60)
    s = given(
        s,
        ev.UeptNoticeGiven(
            effective_on=START, planned_start_on=earliest, earliest_start_on=earliest
        ),
        ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=ALL_CRITERIA),
        ev.UeptStarted(effective_on=earliest, cycle=1),
    )
    assert stage(s) == Stage.UEPT_TESTING
    due = CAL.add_working_days(earliest, 2)
    s = given(
        s, ev.TestCompletionReportSubmitted(effective_on=earliest, cycle=1, receipt_due_on=due)
    )
    assert stage(s) == Stage.UEPT_COMPLETION
    assert stage(given(s, ev.CaseWithdrawn(effective_on=earliest, reason="x"))) == Stage.WITHDRAWN


def test_outstanding_items_name_who_must_act() -> None:
    s = given(started(UserRole.OTHER_USER, licences=[]))
    items = {(i.requirement, i.who) for i in outstanding(s)}
    assert ("user_id", "Party") in items
    assert ("uept", "Party") in items and ("uept", "DCC") in items
    assert ("security", "Party") in items and ("privacy", "Party") in items
    assert ("credit", "DCC") in items
    s = given(s, ev.UserIdProposed(effective_on=START, user_id=UID))
    assert any(i.who == "DCC" and UID in i.what for i in outstanding(s))


def test_open_dcc_step_is_the_next_deadline() -> None:
    s = given(started())
    assert next_deadline(s) is None
    assert [d.kind for d in deadlines(s)] == ["mandate"]
    s = given(
        s,
        ev.AssessmentBooked(
            effective_on=START,
            area="security",
            kind="full",
            assessment_on=START + timedelta(weeks=12),
        ),
    )
    assert next_deadline(s) == START + timedelta(weeks=12)


def test_forecast_is_after_today_and_within_a_year_for_a_new_case() -> None:
    s = given(started())
    forecast = forecast_completion(s, TODAY, CAL)
    assert forecast is not None
    assert TODAY + timedelta(days=60) < forecast < TODAY + timedelta(days=365)
    assert (
        forecast_completion(given(s, ev.CaseWithdrawn(effective_on=START, reason="x")), TODAY, CAL)
        is None
    )


def test_view_reports_mandate_and_dcc_step_lateness() -> None:
    s = given(started())
    view = build_view(s, TODAY, CAL)
    assert view.summary.endswith("- Gas Supplier")
    assert view.mandate_due_on == date(2017, 11, 25)
    assert view.mandate_status == "breached"  # a small supplier not yet a User, years after
    assert [r.requirement for r in view.requirements] == ["user_id", "uept", "security", "credit"]
    assert json.loads(view.model_dump_json())["stage"] == "user_id"


def test_schema_covers_every_message_and_the_state_query() -> None:
    schemas = all_schemas()
    assert schemas["workflow"] == "UserEntryProcess"
    assert "propose_user_id" in schemas["updates"]
    assert "accept_user_id" in schemas["signals"] and "propose_user_id" not in schemas["signals"]
    assert "stage" in schemas["queries"]["state"]["properties"]
    assert schemas["input"]["properties"]["role"]
    json.dumps(schemas, default=str)
