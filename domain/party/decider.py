"""The Party record's decider: ``decide_party(state, command, today) -> events`` (pure).

Each refusal names the field and the reason: an instrument lodged twice, a guarantee already
inside its last month, an assessment covering a role the Party has neither a case nor a licence
for, a Panel status with no completed assessment, a range that overlaps one already allocated,
a profile change that would make an open role case ineligible.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain import commands as c
from domain.assurance import RULE_SETS, RulesVersion, check_security_status
from domain.credit import (
    CreditSupportForm,
    credit_cover_requirement,
    credit_cover_threshold,
    credit_support_required,
    one_month_after,
    regulatory_year_of,
    value_at_risk,
)
from domain.deadlines import ASSESSMENT_BOOKING_NOTICE_WEEKS
from domain.errors import IneligibleError, InvalidInputError, OutOfStageError
from domain.handlers.common import effective_date, not_too_far_ahead
from domain.party import commands as pc
from domain.party import events as pe
from domain.party.state import PartyState, counted_on, held
from domain.roles import ROLE_LICENCE, PartyProfile, UserRole, check_eligibility

_SECURITY_RULES = RULE_SETS[RulesVersion.MP112]
"""Security statuses are the same under every rules version (G8.34)."""


def open_party(cmd: pc.PartyRecordInput, today: date) -> list[pe.PartyEvent]:
    """Open the record of a Party."""
    on = effective_date(cmd.opened_on, today, None)
    profile = PartyProfile.model_validate(cmd.party.model_dump())
    return [pe.PartyRecordOpened(effective_on=on, profile=profile)]


def decide_party(state: PartyState, command: c.Command, today: date) -> list[pe.PartyEvent]:
    """Decide which events a message produces, or raise a DomainError saying why not."""
    on = effective_date(command.effective_on, today, state.profile.acceded_on, "the Party acceded")
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise InvalidInputError(f"{type(command).__name__} is not a message a Party record takes")
    return handler(state, command, on)


def _change_profile(state: PartyState, cmd: pc.ChangeProfile, on: date) -> list[pe.PartyEvent]:
    profile = PartyProfile.model_validate(cmd.party.model_dump())
    if profile.party_id != state.party_id:
        raise InvalidInputError(
            f"this is the record of {state.party_id!r}, not {profile.party_id!r}",
            field="party.party_id",
        )
    broken = []
    for case in state.open_cases():
        try:
            check_eligibility(profile, case.role)
        except IneligibleError as err:
            broken.append(f"{case.case_id} ({err.message})")
    if broken:
        raise IneligibleError(
            "the change would make open role cases ineligible: " + "; ".join(broken),
            field="party",
        )
    return [pe.PartyProfileChanged(effective_on=on, profile=profile)]


def _allocate_range(
    state: PartyState, cmd: pc.AllocateUserIdRange, on: date
) -> list[pe.PartyEvent]:
    first, last = int(cmd.first, 16), int(cmd.last, 16)
    if first > last:
        raise InvalidInputError(f"the range ends ({cmd.last}) before it starts", field="last")
    for low, high in state.user_id_ranges:
        if first <= int(high, 16) and int(low, 16) <= last:
            raise InvalidInputError(
                f"the range overlaps one already allocated ({low}-{high})", field="first"
            )
    return [pe.UserIdRangeAllocated(effective_on=on, first=cmd.first, last=cmd.last)]


def _notify_credit(
    state: PartyState, cmd: pc.NotifyPartyCreditCover, on: date
) -> list[pe.PartyEvent]:
    if cmd.requirement is not None:
        requirement = cmd.requirement
    else:
        if cmd.value_at_risk is None or cmd.maximum_credit_value is None:
            raise InvalidInputError(
                "give either 'requirement', or all of 'value_at_risk', 'maximum_credit_value' "
                "and 'unsecured_credit_factor'",
                field="requirement",
            )
        factor = cmd.unsecured_credit_factor or Decimal(0)
        requirement = credit_cover_requirement(
            value_at_risk(cmd.value_at_risk, Decimal(0)), cmd.maximum_credit_value, factor
        )
    year = regulatory_year_of(on)
    threshold = credit_cover_threshold(year, notified=cmd.threshold)
    source = "notified by the DCC" if cmd.threshold is not None else "CPI (ONS D7BT)"
    return [
        pe.PartyCreditCoverNotified(
            effective_on=on,
            requirement=requirement,
            threshold=threshold,
            threshold_source=source,
            regulatory_year=year,
            support_required=credit_support_required(requirement, threshold),
            value_at_risk=cmd.value_at_risk,
            maximum_credit_value=cmd.maximum_credit_value,
            unsecured_credit_factor=cmd.unsecured_credit_factor,
        )
    ]


def _instrument(reference: str, item: c.CreditSupportInput, on: date) -> pe.Instrument:
    if (
        item.form is CreditSupportForm.BANK_GUARANTEE
        and item.expires_on is not None
        and item.expires_on < one_month_after(on)
    ):
        raise InvalidInputError(
            f"the Bank Guarantee expires on {item.expires_on.isoformat()}, less than a month "
            f"after {on.isoformat()}: it would not count (SEC Appendix A)",
            field="instrument.expires_on",
        )
    return pe.Instrument(
        reference=reference,
        form=item.form,
        amount=item.amount,
        provider=item.provider,
        expires_on=item.expires_on,
        required_bank_rating=item.required_bank_rating,
        lodged_on=on,
    )


def _new_reference(state: PartyState, reference: str, field: str) -> None:
    if state.instrument(reference) is not None:
        raise InvalidInputError(
            f"an instrument {reference!r} is already lodged; each is lodged once", field=field
        )


def _held(state: PartyState, reference: str) -> pe.Instrument:
    instrument = state.instrument(reference)
    if instrument is None:
        known = ", ".join(i.reference for i in state.instruments) or "none"
        raise InvalidInputError(f"no instrument {reference!r} (lodged: {known})", field="reference")
    if instrument.status != "lodged":
        raise OutOfStageError(f"instrument {reference!r} is already {instrument.status}")
    return instrument


def _lodge(state: PartyState, cmd: pc.LodgeInstrument, on: date) -> list[pe.PartyEvent]:
    _new_reference(state, cmd.reference, "reference")
    return [
        pe.InstrumentLodged(
            effective_on=on, instrument=_instrument(cmd.reference, cmd.instrument, on)
        )
    ]


def _withdraw(state: PartyState, cmd: pc.WithdrawInstrument, on: date) -> list[pe.PartyEvent]:
    _held(state, cmd.reference)
    return [
        pe.InstrumentStatusChanged(
            effective_on=on, reference=cmd.reference, status="withdrawn", reason=cmd.reason
        )
    ]


def _replace(state: PartyState, cmd: pc.ReplaceInstrument, on: date) -> list[pe.PartyEvent]:
    _held(state, cmd.reference)
    _new_reference(state, cmd.by_reference, "by_reference")
    new = _instrument(cmd.by_reference, cmd.instrument, on)
    return [
        pe.InstrumentLodged(effective_on=on, instrument=new),
        pe.InstrumentStatusChanged(
            effective_on=on,
            reference=cmd.reference,
            status="replaced",
            replaced_by=cmd.by_reference,
        ),
    ]


def _report(state: PartyState, cmd: pc.ReportInstrument, on: date) -> list[pe.PartyEvent]:
    _held(state, cmd.reference)
    return [
        pe.InstrumentStatusChanged(
            effective_on=on, reference=cmd.reference, status=cmd.status, reason=cmd.reason
        )
    ]


def _assess(state: PartyState, cmd: pc.AssessPartyCredit, on: date) -> list[pe.PartyEvent]:
    notice = state.credit_notice
    if notice is None:
        raise OutOfStageError("the DCC assesses Credit Support against a notified requirement")
    if not held(state):
        raise OutOfStageError("no Credit Support is lodged to assess")
    counted, refused = counted_on(state, on)
    total = sum((i.amount for i in counted), Decimal(0))
    return [
        pe.PartyCreditAssessed(
            effective_on=on,
            requirement=notice.requirement,
            accepted_total=total,
            shortfall=max(Decimal(0), notice.requirement - total),
            counted=[i.reference for i in counted],
            refused=refused,
        )
    ]


def _roles_in_scope(state: PartyState, roles: list[UserRole]) -> None:
    """Refuse a role the Party has neither a case nor a licence (or MOP/MAM) for."""
    with_case = {case.role for case in state.cases}
    for role in roles:
        if role in with_case or role is UserRole.OTHER_USER:
            continue
        licence = ROLE_LICENCE.get(role)
        if licence is not None and licence in state.profile.licences:
            continue
        if role is UserRole.REGISTERED_SUPPLIER_AGENT and state.profile.mop_or_mam:
            continue
        raise InvalidInputError(
            f"the Party has no case or licence for {role.label}; an assessment covers roles "
            "the Party operates in",
            field="roles",
        )


def _book(state: PartyState, cmd: pc.BookPartySecurityAssessment, on: date) -> list[pe.PartyEvent]:
    _roles_in_scope(state, cmd.roles)
    not_too_far_ahead(cmd.assessment_on, on, "assessment_on")
    pending = [a for a in state.security if a.status is None and a.kind != "pre_assessment"]
    if cmd.kind != "pre_assessment" and pending:
        raise OutOfStageError(f"assessment {pending[0].assessment_id} is booked and not decided")
    if cmd.kind == "pre_assessment" and any(a.kind != "pre_assessment" for a in state.security):
        raise OutOfStageError("the Optional Pre-Assessment comes once, before the full one")
    if cmd.kind == "follow_up" and not any(
        a.status is not None and not a.allows_completion for a in state.security
    ):
        raise InvalidInputError(
            "a follow-up assessment follows a Deferred or Rejected status", field="kind"
        )
    short = cmd.assessment_on < on + timedelta(weeks=ASSESSMENT_BOOKING_NOTICE_WEEKS)
    return [
        pe.SecurityAssessmentBooked(
            effective_on=on,
            assessment_id=f"S{len(state.security) + 1}",
            kind=cmd.kind,
            roles=list(dict.fromkeys(cmd.roles)),
            assessment_on=cmd.assessment_on,
            short_notice=short,
        )
    ]


def _assessment(state: PartyState, assessment_id: str) -> Any:
    found = state.assessment(assessment_id)
    if found is None:
        known = ", ".join(a.assessment_id for a in state.security) or "none"
        raise InvalidInputError(
            f"no assessment {assessment_id!r} (assessments: {known})", field="assessment_id"
        )
    return found


def _complete(
    state: PartyState, cmd: pc.CompletePartySecurityAssessment, on: date
) -> list[pe.PartyEvent]:
    found = _assessment(state, cmd.assessment_id)
    if found.done_on is not None:
        raise OutOfStageError(f"assessment {cmd.assessment_id} was completed on {found.done_on}")
    if on < found.assessment_on:
        raise InvalidInputError(
            f"{on.isoformat()} is before the assessment booked for "
            f"{found.assessment_on.isoformat()}",
            field="effective_on",
        )
    return [pe.SecurityAssessmentCompleted(effective_on=on, assessment_id=cmd.assessment_id)]


def _status(state: PartyState, cmd: pc.SetPartySecurityStatus, on: date) -> list[pe.PartyEvent]:
    found = _assessment(state, cmd.assessment_id)
    if found.kind == "pre_assessment":
        raise InvalidInputError(
            "the Panel sets no status on the Optional Pre-Assessment", field="assessment_id"
        )
    if found.done_on is None:
        raise OutOfStageError(
            f"the Panel sets the status after the assessment: {cmd.assessment_id} is not done"
        )
    if found.status is not None:
        raise OutOfStageError(f"assessment {cmd.assessment_id} already has a status")
    status = check_security_status(_SECURITY_RULES, cmd.status)
    return [
        pe.SecurityStatusSet(
            effective_on=on,
            assessment_id=cmd.assessment_id,
            status=status,
            allows_completion=status in _SECURITY_RULES.security_completing,
            conditions=cmd.conditions,
        )
    ]


def _record_case(state: PartyState, cmd: pc.RecordRoleCase, on: date) -> list[pe.PartyEvent]:
    known = next((x for x in state.cases if x.case_id == cmd.case_id), None)
    if known is not None and (known.status, known.user_ids) == (cmd.status, cmd.user_ids):
        return []
    return [
        pe.RoleCaseRecorded(
            effective_on=on,
            role=cmd.role,
            case_id=cmd.case_id,
            status=cmd.status,
            user_ids=cmd.user_ids,
        )
    ]


_HANDLERS: dict[type[c.Command], Callable[[PartyState, Any, date], list[pe.PartyEvent]]] = {
    pc.ChangeProfile: _change_profile,
    pc.AllocateUserIdRange: _allocate_range,
    pc.NotifyPartyCreditCover: _notify_credit,
    pc.LodgeInstrument: _lodge,
    pc.WithdrawInstrument: _withdraw,
    pc.ReplaceInstrument: _replace,
    pc.ReportInstrument: _report,
    pc.AssessPartyCredit: _assess,
    pc.BookPartySecurityAssessment: _book,
    pc.CompletePartySecurityAssessment: _complete,
    pc.SetPartySecurityStatus: _status,
    pc.RecordRoleCase: _record_case,
}
