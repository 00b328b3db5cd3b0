"""Evidence and completion: SECAS verifies each requirement (H1.11) and notifies (H1.12)."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError
from domain.handlers.common import require_not_paused, stage_error
from domain.state import CaseState


def verify_evidence(
    state: CaseState, cmd: c.VerifyEvidence, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """SECAS verifies a met requirement once (H1.11); the last one completes the UEP."""
    req = cmd.requirement
    if req not in state.applicable_requirements():
        raise InvalidInputError(
            f"{req} does not apply to {state.role.label} (privacy is for Other User only)",
            field="requirement",
        )
    if req in state.verified:
        raise stage_error(
            state, f"SECAS already verified the {req} evidence on {state.verified[req]}"
        )
    require_not_paused(state, req)
    if not state.requirement_met(req):
        raise stage_error(
            state, f"the {req} requirement is not met yet, so there is no evidence to verify"
        )
    if req == "credit" and not state.credit_holds_on(on):
        raise stage_error(state, _credit_lapsed(state, on))
    out: list[ev.Event] = [
        ev.EvidenceVerified(effective_on=on, requirement=req, reference=cmd.reference)
    ]
    # Complete only when every requirement is met now and verified (credit can regress after
    # verification: a monthly review may raise the requirement over the threshold).
    remaining = [
        r
        for r in state.applicable_requirements()
        if r != req and (r not in state.verified or not state.requirement_met(r))
    ]
    if state.party_backed and not state.credit_holds_on(on):
        # re-validated on the day the case would complete: a guarantee in its last month fails
        remaining.append("credit")
    if not remaining:
        assert state.user_id.accepted is not None
        out.append(ev.UserEntryProcessCompleted(effective_on=on, user_id=state.user_id.accepted))
    return out


def _credit_lapsed(state: CaseState, on: date) -> str:
    terms = state.from_party
    until = terms.credit.valid_until if terms is not None else None
    return f"the Party's Credit Support no longer covers its requirement on {on.isoformat()}" + (
        f" (it held until {until.isoformat()}: a Bank Guarantee needs a month to run)"
        if until
        else ""
    )


def notice_queued(state: CaseState, cmd: c.RecordNoticeQueued, today: date) -> list[ev.Event]:
    """Record that a completion notice is in the outbox, once per recipient."""
    if state.status != "completed":
        raise stage_error(state, "completion notices follow the completion of the UEP")
    if cmd.recipient in state.notices_queued:
        return []
    return [
        ev.CompletionNoticeQueued(
            effective_on=today, recipient=cmd.recipient, notice_id=cmd.notice_id
        )
    ]


def notice_delivered(state: CaseState, cmd: c.RecordNoticeDelivered, today: date) -> list[ev.Event]:
    """Record that a queued completion notice reached its recipient, once."""
    if state.notices_queued.get(cmd.recipient) != cmd.notice_id:
        raise stage_error(state, f"no notice {cmd.notice_id} to the {cmd.recipient} is queued")
    if cmd.recipient in state.notified:
        return []
    return [
        ev.CompletionNoticeDelivered(
            effective_on=today,
            recipient=cmd.recipient,
            notice_id=cmd.notice_id,
            channel=cmd.channel,
            reference=cmd.reference,
        )
    ]


def panel_information_paper(
    state: CaseState, cmd: c.RecordPanelInformationPaper, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """SECAS informed the Panel by an information paper at its meeting (H1.12), once the UEP
    has completed; the Panel's notice is then recorded delivered."""
    if state.status != "completed":
        raise stage_error(state, "the Panel is informed of a completion once the UEP completes")
    if state.panel_paper_on is not None:
        raise stage_error(
            state, f"the SEC Panel was already informed at its meeting of {state.panel_paper_on}"
        )
    return [ev.PanelInformedByPaper(effective_on=on, reference=cmd.reference)]


def completion_notice(
    state: CaseState, cmd: c.RecordCompletionNotice, today: date
) -> list[ev.Event]:
    """Record SECAS's notice to one recipient, once (H1.11, H1.12)."""
    if state.status != "completed":
        raise stage_error(state, "completion notices follow the completion of the UEP")
    if cmd.recipient in state.notified:
        return []
    return [ev.CompletionNotified(effective_on=today, recipient=cmd.recipient)]
