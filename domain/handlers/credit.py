"""(e) Credit Support (guidance s.9; SEC J3)."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.credit import (
    CreditSupportItem,
    assess_credit_support,
    credit_cover_requirement,
    credit_cover_threshold,
    credit_support_required,
    regulatory_year_of,
)
from domain.handlers.common import stage_error
from domain.state import CaseState

# -- (e) credit -----------------------------------------------------------------------------


def notify_requirement(
    state: CaseState, cmd: c.NotifyCreditCoverRequirement, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The DCC notifies the requirement (J3.2); under the threshold no support is needed."""
    if cmd.requirement is not None:
        requirement = cmd.requirement
    else:
        assert cmd.value_at_risk is not None and cmd.maximum_credit_value is not None
        assert cmd.unsecured_credit_factor is not None
        requirement = credit_cover_requirement(
            cmd.value_at_risk, cmd.maximum_credit_value, cmd.unsecured_credit_factor
        )
    year = regulatory_year_of(on)
    threshold = credit_cover_threshold(year, notified=cmd.threshold)
    source = "notified by the DCC" if cmd.threshold is not None else "CPI (ONS D7BT)"
    required = credit_support_required(requirement, threshold)
    out: list[ev.Event] = [
        ev.CreditCoverRequirementNotified(
            effective_on=on,
            requirement=requirement,
            threshold=threshold,
            regulatory_year=year,
            threshold_source=source,
            support_required=required,
        )
    ]
    if not required:
        out.append(
            ev.CreditSupportNotRequired(
                effective_on=on, requirement=requirement, threshold=threshold
            )
        )
    return out


def lodge(
    state: CaseState, cmd: c.LodgeCreditSupport, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Lodge Credit Support once the DCC says it is required."""
    if state.credit.phase not in ("required", "lodged"):
        raise stage_error(
            state,
            "Credit Support is lodged once the DCC says it is required "
            f"(credit is {state.credit.phase})",
        )
    # recorded as the plain instrument: the input model's bounds are for input, not history
    items = [CreditSupportItem.model_validate(i.model_dump()) for i in cmd.items]
    return [ev.CreditSupportLodged(effective_on=on, items=items)]


def assess(
    state: CaseState, cmd: c.AssessCreditSupport, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The DCC assesses the lodged support on the effective date (forms, sum, expiry)."""
    if state.credit.phase != "lodged":
        raise stage_error(state, "no lodged Credit Support is awaiting the DCC's assessment")
    assert state.credit.requirement is not None
    result = assess_credit_support(state.credit.lodged, state.credit.requirement, on)
    return [
        ev.CreditSupportAssessed(
            effective_on=on,
            accepted=result.accepted,
            accepted_total=result.accepted_total,
            required=result.required,
            reasons=result.reasons,
        )
    ]
