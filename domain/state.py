"""The folded state of a case, and ``evolve``: how each event changes it.

State is always derivable from the events: ``fold(events)`` rebuilds it, which is what an
auditor does to see a case "as of" any moment. ``evolve`` never raises on a valid stream and
never looks at a clock or a calendar: every date it needs is inside the event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain import events as ev
from domain.assurance import AssuranceStatus, RulesVersion
from domain.credit import CreditSupportItem
from domain.events import DccStep, DisputeSubject, EntryCriterion, Recipient, Requirement
from domain.party.position import CreditPosition, SecurityPosition
from domain.roles import PartyProfile, UserRole

CaseStatus = Literal["open", "completed", "withdrawn"]
UserIdStatus = Literal["not_started", "proposed", "accepted", "rejected"]
UeptPhase = Literal[
    "not_started",
    "notice_given",
    "testing",
    "report_submitted",
    "report_received",
    "review_concluded",
    "certificate_due",
    "certified",
]
AssessmentPhase = Literal["not_started", "booked", "assessed", "status_set"]
CreditPhase = Literal["awaiting_requirement", "not_required", "required", "lodged", "accepted"]
DisputePhase = Literal["with_panel", "panel_determined", "with_ofgem", "ofgem_determined"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserIdState(_Model):
    """Requirement (a): the User ID for the role (H1.4, H1.10(a))."""

    status: UserIdStatus = "not_started"
    proposed: str | None = None
    accepted: str | None = None
    """The first User ID the DCC accepted: it meets requirement (a)."""
    rejected: list[str] = Field(default_factory=list)
    last_reason: str = ""
    accepted_ids: list[str] = Field(default_factory=list)
    """Every User ID the DCC accepted for the role, in order (revision 3: a role may hold
    several)."""


class DccStepState(_Model):
    """One DCC completion step with its working-day deadline."""

    step: DccStep
    cycle: int
    opened_on: date
    due_on: date
    done_on: date | None = None
    missed: bool = False


class UeptState(_Model):
    """Requirement (b): User Entry Process Tests (guidance s.5)."""

    phase: UeptPhase = "not_started"
    notice_given_on: date | None = None
    planned_start_on: date | None = None
    earliest_start_on: date | None = None
    criteria: list[EntryCriterion] = Field(default_factory=list)
    cycle: int = 0
    started_on: date | None = None
    certificate_ref: str | None = None
    certified_on: date | None = None
    dcc_steps: list[DccStepState] = Field(default_factory=list)
    adverse: str = ""
    """The adverse outcome last recorded (further testing required, an unsuccessful quality
    gate), until testing moves on: what a UEPT dispute can be about."""

    def open_step(self) -> DccStepState | None:
        """The DCC step now awaited, if any."""
        return next((s for s in self.dcc_steps if s.done_on is None), None)


class AssessmentState(_Model):
    """Requirements (c) and (d): a security or privacy assessment and its status."""

    applicable: bool = True
    phase: AssessmentPhase = "not_started"
    booked_kind: Literal["pre_assessment", "full", "follow_up"] | None = None
    booked_for: date | None = None
    pre_assessment_done: bool = False
    assessments_done: int = 0
    status: AssuranceStatus | None = None
    allows_completion: bool = False
    conditions: str = ""
    short_notice: bool = False
    """The booking gave less than twelve weeks' notice (a warning, not a refusal)."""


class CreditState(_Model):
    """Requirement (e): Credit Support under J3."""

    phase: CreditPhase = "awaiting_requirement"
    requirement: Decimal | None = None
    threshold: Decimal | None = None
    regulatory_year: int | None = None
    lodged: list[CreditSupportItem] = Field(default_factory=list)
    accepted_total: Decimal | None = None
    refusals: list[str] = Field(default_factory=list)


class PartyTerms(_Model):
    """What the case last took from its Party record (revision 3)."""

    record: str
    version: int
    event: str = ""
    credit: CreditPosition
    security: SecurityPosition
    user_id_ranges: list[tuple[str, str]] = Field(default_factory=list)
    recorded_on: date


class DisputeState(_Model):
    """A dispute under H1.13 and where it stands."""

    dispute_id: str
    subject: DisputeSubject
    reason: str
    raised_on: date
    phase: DisputePhase = "with_panel"
    panel_upheld: bool | None = None
    ofgem_upheld: bool | None = None
    referred_on: date | None = None
    outcome: str | None = None
    """The outcome the latest determination decided, if it decided one."""

    @property
    def pauses(self) -> bool:
        """A dispute pauses its step while the Panel or Ofgem is considering it."""
        return self.phase in ("with_panel", "with_ofgem")


class CaseState(_Model):
    """Everything known about one Party x User Role case."""

    case_id: str
    party: PartyProfile
    role: UserRole
    rules_version: RulesVersion
    calendar_region: str
    started_on: date
    revision: int = 1
    """The engine's reading of the rules the case opened under (domain.revision)."""
    status: CaseStatus = "open"
    mandate_due_on: date | None = None
    mandate_source: str = ""
    mandate_derogated: bool = False
    user_id: UserIdState = Field(default_factory=UserIdState)
    srept_completed_on: date | None = None
    uept: UeptState = Field(default_factory=UeptState)
    security: AssessmentState = Field(default_factory=AssessmentState)
    privacy: AssessmentState = Field(default_factory=AssessmentState)
    credit: CreditState = Field(default_factory=CreditState)
    verified: dict[Requirement, date] = Field(default_factory=dict)
    disputes: list[DisputeState] = Field(default_factory=list)
    completed_on: date | None = None
    notified: list[Recipient] = Field(default_factory=list)
    """Recipients the completion notice reached (revision 2: delivered, not just queued)."""
    notices_queued: dict[str, str] = Field(default_factory=dict)
    """Recipient -> notice id of each completion notice in the outbox."""
    panel_paper_on: date | None = None
    """The Panel meeting at which SECAS's information paper informed the Panel (H1.12)."""
    panel_paper_reference: str = ""
    withdrawn_on: date | None = None
    withdrawal_reason: str = ""
    holidays_added: list[date] = Field(default_factory=list)
    holidays_removed: list[date] = Field(default_factory=list)
    last_effective_on: date | None = None
    from_party: PartyTerms | None = None
    """Revision 3: the credit and security positions and the User ID ranges, as the Party
    record last gave them."""

    @property
    def party_backed(self) -> bool:
        """Whether credit and security come from the Party record (revision 3 and later)."""
        return self.revision >= 3

    def dispute(self, dispute_id: str) -> DisputeState | None:
        """The dispute with this id, if any."""
        return next((d for d in self.disputes if d.dispute_id == dispute_id), None)

    def requirement_met(self, requirement: Requirement) -> bool:
        """Whether a requirement is satisfied (before SECAS verification)."""
        match requirement:
            case "user_id":
                return self.user_id.accepted is not None
            case "uept":
                return self.uept.phase == "certified"
            case "security":
                if self.party_backed:
                    return self.from_party is not None and self.from_party.security.met
                return self.security.allows_completion
            case "privacy":
                return not self.privacy.applicable or self.privacy.allows_completion
            case "credit":
                if self.party_backed:
                    return self.from_party is not None and self.from_party.credit.met
                return self.credit.phase in ("not_required", "accepted")

    def credit_holds_on(self, day: date) -> bool:
        """Whether the credit requirement is met on ``day``: a Party-backed case re-checks the
        day against the Party's support (a guarantee inside its last month no longer counts)."""
        if not self.requirement_met("credit"):
            return False
        if self.party_backed and self.from_party is not None:
            return self.from_party.credit.met_on(day)
        return True

    def applicable_requirements(self) -> list[Requirement]:
        """The H1.10 requirements that apply to this role."""
        reqs: list[Requirement] = ["user_id", "uept", "security", "privacy", "credit"]
        return [r for r in reqs if r != "privacy" or self.privacy.applicable]


def _step(state: CaseState, step: DccStep, cycle: int) -> DccStepState | None:
    return next((s for s in state.uept.dcc_steps if s.step == step and s.cycle == cycle), None)


def _close_step(state: CaseState, step: DccStep, cycle: int, on: date) -> list[DccStepState]:
    return [
        s.model_copy(update={"done_on": on}) if s.step == step and s.cycle == cycle else s
        for s in state.uept.dcc_steps
    ]


def _open_step(
    state: CaseState, step: DccStep, cycle: int, on: date, due: date
) -> list[DccStepState]:
    new = DccStepState(step=step, cycle=cycle, opened_on=on, due_on=due)
    return [*state.uept.dcc_steps, new]


def _assessment(state: CaseState, area: Literal["security", "privacy"]) -> AssessmentState:
    return state.security if area == "security" else state.privacy


def _with_assessment(
    state: CaseState, area: Literal["security", "privacy"], **changes: object
) -> CaseState:
    current = _assessment(state, area)
    return state.model_copy(update={area: current.model_copy(update=changes)})


def _with_uept(state: CaseState, **changes: object) -> CaseState:
    return state.model_copy(update={"uept": state.uept.model_copy(update=changes)})


def _with_dispute(state: CaseState, dispute_id: str, **changes: object) -> CaseState:
    disputes = [
        d.model_copy(update=changes) if d.dispute_id == dispute_id else d for d in state.disputes
    ]
    return state.model_copy(update={"disputes": disputes})


def start(event: ev.CaseStarted) -> CaseState:
    """The state a case begins with."""
    return CaseState(
        case_id=event.case_id,
        party=event.party,
        role=event.role,
        rules_version=event.rules_version,
        calendar_region=event.calendar_region,
        revision=event.revision,
        started_on=event.effective_on,
        mandate_due_on=event.mandate_due_on,
        mandate_source=event.mandate_source,
        mandate_derogated=event.mandate_derogated,
        privacy=AssessmentState(applicable=event.role == UserRole.OTHER_USER),
        last_effective_on=event.effective_on,
    )


def evolve(state: CaseState | None, event: ev.Event) -> CaseState:
    """Apply one event to the state; a ``CaseStarted`` begins a new case on the stream."""
    if isinstance(event, ev.CaseStarted):
        return start(event)
    if state is None:
        raise ValueError(f"{event.type} before CaseStarted: the stream has no case yet")
    last = max(state.last_effective_on or event.effective_on, event.effective_on)
    s = state.model_copy(update={"last_effective_on": last})
    u = s.uept
    match event:
        case ev.UserIdProposed(user_id=uid):
            return s.model_copy(
                update={
                    "user_id": s.user_id.model_copy(update={"status": "proposed", "proposed": uid})
                }
            )
        case ev.UserIdAccepted(user_id=uid):
            changes = {
                "status": "accepted",
                "accepted": s.user_id.accepted or uid,
                "accepted_ids": [*s.user_id.accepted_ids, uid],
            }
            return s.model_copy(update={"user_id": s.user_id.model_copy(update=changes)})
        case ev.UserIdRejected(user_id=uid, reason=reason):
            rejected = [*s.user_id.rejected, uid]
            changes = {"status": "rejected", "rejected": rejected, "last_reason": reason}
            return s.model_copy(update={"user_id": s.user_id.model_copy(update=changes)})
        case ev.SreptCompleted():
            return s.model_copy(update={"srept_completed_on": event.effective_on})
        case ev.UeptNoticeGiven(planned_start_on=planned, earliest_start_on=earliest):
            return _with_uept(
                s,
                phase="notice_given",
                notice_given_on=event.effective_on,
                planned_start_on=planned,
                earliest_start_on=earliest,
            )
        case ev.UeptEntryCriteriaConfirmed(criteria=criteria):
            merged = list(dict.fromkeys([*u.criteria, *criteria]))
            return _with_uept(s, criteria=merged)
        case ev.UeptStarted(cycle=cycle):
            started = u.started_on or event.effective_on
            return _with_uept(s, phase="testing", cycle=cycle, started_on=started)
        case ev.TestCompletionReportSubmitted(cycle=cycle, receipt_due_on=due):
            steps = _open_step(s, "report_receipt", cycle, event.effective_on, due)
            return _with_uept(s, phase="report_submitted", dcc_steps=steps, adverse="")
        case ev.TestCompletionReportReceiptConfirmed(cycle=cycle, review_due_on=due):
            steps = _close_step(s, "report_receipt", cycle, event.effective_on)
            s = _with_uept(s, dcc_steps=steps)
            opened = event.review_from or event.effective_on
            steps = _open_step(s, "report_review", cycle, opened, due)
            return _with_uept(s, phase="report_received", dcc_steps=steps)
        case ev.UeptReviewConcluded(cycle=cycle, outcome=outcome):
            steps = _close_step(s, "report_review", cycle, event.effective_on)
            phase: UeptPhase = "review_concluded" if outcome == "concluded" else "testing"
            cycle_next = cycle if outcome == "concluded" else cycle + 1
            adverse = (
                ""
                if outcome == "concluded"
                else f"the DCC required further testing ({event.effective_on.isoformat()})"
            )
            return _with_uept(s, phase=phase, dcc_steps=steps, cycle=cycle_next, adverse=adverse)
        case ev.QualityGateMeetingHeld(cycle=cycle, successful=True, certificate_due_on=due):
            assert due is not None, "a successful meeting always carries the certificate due date"
            steps = _open_step(s, "certificate", cycle, event.effective_on, due)
            return _with_uept(s, phase="certificate_due", dcc_steps=steps)
        case ev.QualityGateMeetingHeld(cycle=cycle, successful=False):
            adverse = f"the quality gate review was unsuccessful ({event.effective_on.isoformat()})"
            return _with_uept(s, phase="testing", cycle=cycle + 1, adverse=adverse)
        case ev.TestCompletionCertificateIssued(cycle=cycle, certificate_ref=ref):
            steps = _close_step(s, "certificate", cycle, event.effective_on)
            return _with_uept(
                s,
                phase="certified",
                dcc_steps=steps,
                certificate_ref=ref,
                certified_on=event.effective_on,
            )
        case ev.DccDeadlineMissed(step=step, cycle=cycle):
            steps = [
                x.model_copy(update={"missed": True}) if x.step == step and x.cycle == cycle else x
                for x in u.dcc_steps
            ]
            return _with_uept(s, dcc_steps=steps)
        case ev.AssessmentBooked(area=area, kind=kind, assessment_on=on):
            return _with_assessment(
                s,
                area,
                phase="booked",
                booked_kind=kind,
                booked_for=on,
                short_notice=event.short_notice,
            )
        case ev.AssessmentCompleted(area=area, kind="pre_assessment"):
            return _with_assessment(
                s, area, phase="not_started", pre_assessment_done=True, booked_kind=None
            )
        case ev.AssessmentCompleted(area=area):
            done = _assessment(s, area).assessments_done + 1
            return _with_assessment(s, area, phase="assessed", assessments_done=done)
        case ev.AssuranceStatusSet(area=area, status=status, allows_completion=ok):
            return _with_assessment(
                s,
                area,
                phase="status_set",
                status=status,
                allows_completion=ok,
                conditions=event.conditions,
            )
        case ev.CreditCoverRequirementNotified():
            credit_phase: CreditPhase = "required" if event.support_required else "not_required"
            if event.support_required and s.credit.phase in ("lodged", "accepted"):
                credit_phase = (
                    "lodged"  # a monthly review re-opens the assessment of what is lodged
                )
            credit = s.credit.model_copy(
                update={
                    "phase": credit_phase,
                    "requirement": event.requirement,
                    "threshold": event.threshold,
                    "regulatory_year": event.regulatory_year,
                    "accepted_total": None,
                }
            )
            verified = dict(s.verified)
            if event.support_required:
                verified.pop("credit", None)  # the verified evidence no longer covers the need
            return s.model_copy(update={"credit": credit, "verified": verified})
        case ev.CreditSupportNotRequired():
            return s.model_copy(
                update={"credit": s.credit.model_copy(update={"phase": "not_required"})}
            )
        case ev.CreditSupportLodged(items=items):
            credit = s.credit.model_copy(
                update={"phase": "lodged", "lodged": [*s.credit.lodged, *items]}
            )
            return s.model_copy(update={"credit": credit})
        case ev.CreditSupportAssessed(accepted=accepted, accepted_total=total, reasons=reasons):
            credit = s.credit.model_copy(
                update={
                    "phase": "accepted" if accepted else "required",
                    "accepted_total": total,
                    "refusals": reasons,
                    "lodged": s.credit.lodged if accepted else [],
                }
            )
            return s.model_copy(update={"credit": credit})
        case ev.EvidenceVerified(requirement=req):
            return s.model_copy(update={"verified": {**s.verified, req: event.effective_on}})
        case ev.UserEntryProcessCompleted():
            return s.model_copy(update={"status": "completed", "completed_on": event.effective_on})
        case ev.CompletionNotified(recipient=recipient):
            return s.model_copy(update={"notified": [*s.notified, recipient]})
        case ev.CompletionNoticeQueued(recipient=recipient, notice_id=notice_id):
            queued = {**s.notices_queued, recipient: notice_id}
            return s.model_copy(update={"notices_queued": queued})
        case ev.PanelInformedByPaper(reference=reference):
            return s.model_copy(
                update={"panel_paper_on": event.effective_on, "panel_paper_reference": reference}
            )
        case ev.CompletionNoticeDelivered(recipient=recipient):
            if recipient in s.notified:
                return s
            return s.model_copy(update={"notified": [*s.notified, recipient]})
        case ev.DisputeRaised(dispute_id=did, subject=subject, reason=reason):
            d = DisputeState(
                dispute_id=did, subject=subject, reason=reason, raised_on=event.effective_on
            )
            return s.model_copy(update={"disputes": [*s.disputes, d]})
        case ev.PanelDeterminationMade(dispute_id=did, upheld=upheld, outcome=outcome):
            return _with_dispute(
                s, did, phase="panel_determined", panel_upheld=upheld, outcome=outcome
            )
        case ev.DisputeReferredToOfgem(dispute_id=did):
            return _with_dispute(s, did, phase="with_ofgem", referred_on=event.effective_on)
        case ev.OfgemDeterminationMade(dispute_id=did, upheld=upheld, outcome=outcome):
            return _with_dispute(
                s, did, phase="ofgem_determined", ofgem_upheld=upheld, outcome=outcome
            )
        case ev.UeptConcludedByDetermination(cycle=cycle):
            return _with_uept(s, phase="review_concluded", cycle=cycle, adverse="")
        case ev.CreditSupportFoundSufficient():
            credit = s.credit.model_copy(
                update={"phase": "accepted", "accepted_total": s.credit.requirement}
            )
            return s.model_copy(update={"credit": credit})
        case ev.DccDeadlinesExtended(recomputed=recomputed):
            steps = [
                x.model_copy(update={"due_on": recomputed[f"{x.step}:{x.cycle}"]})
                if f"{x.step}:{x.cycle}" in recomputed
                else x
                for x in u.dcc_steps
            ]
            return _with_uept(s, dcc_steps=steps)
        case ev.PartyPositionRecorded():
            terms = PartyTerms(
                record=event.party_record,
                version=event.party_version,
                event=event.party_event,
                credit=event.credit,
                security=event.security,
                user_id_ranges=event.user_id_ranges,
                recorded_on=event.effective_on,
            )
            verified = dict(s.verified)
            if not event.credit.met:
                verified.pop("credit", None)  # verified evidence no longer covers the need
            if not event.security.met:
                verified.pop("security", None)
            return s.model_copy(update={"from_party": terms, "verified": verified})
        case ev.RulesVersionChanged(to_version=to_version):
            return s.model_copy(update={"rules_version": to_version})
        case ev.CaseWithdrawn(reason=reason):
            return s.model_copy(
                update={
                    "status": "withdrawn",
                    "withdrawn_on": event.effective_on,
                    "withdrawal_reason": reason,
                }
            )
        case ev.CalendarCorrected(recomputed=recomputed):
            if event.earliest_start_on is not None:
                s = _with_uept(s, earliest_start_on=event.earliest_start_on)
                u = s.uept
            added, removed = set(event.added_holidays), set(event.removed_holidays)
            s = s.model_copy(
                update={
                    "holidays_added": sorted((set(s.holidays_added) - removed) | added),
                    "holidays_removed": sorted((set(s.holidays_removed) - added) | removed),
                }
            )
            steps = [
                x.model_copy(update={"due_on": recomputed[f"{x.step}:{x.cycle}"]})
                if f"{x.step}:{x.cycle}" in recomputed
                else x
                for x in u.dcc_steps
            ]
            return _with_uept(s, dcc_steps=steps)
    raise ValueError(f"evolve has no rule for {event.type}")  # pragma: no cover


def fold(events: Iterable[ev.Event], state: CaseState | None = None) -> CaseState | None:
    """Fold events into state, from an optional starting state."""
    for event in events:
        state = evolve(state, event)
    return state


def facts_for_party_record(state: CaseState) -> dict[str, Any]:
    """What a Party record records of its role case: role, status and accepted User IDs (the
    case's query answers this, and the record's read of the case's stream folds to the same)."""
    return {
        "case_id": state.case_id,
        "party_id": state.party.party_id,
        "role": str(state.role),
        "status": state.status,
        "user_ids": list(state.user_id.accepted_ids),
        "revision": state.revision,
    }
