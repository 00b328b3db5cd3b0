"""A Party record folded from its events, and the positions its role cases take from it.

``evolve_party`` never raises on a valid stream and never looks at a clock. The positions are
judged on a given day: Credit Support is re-validated on the day it is relied on (a Bank
Guarantee needs a month to run on that day), so a position also says until when it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from domain.assurance import AssuranceStatus
from domain.credit import CreditSupportForm, CreditSupportItem, gbp, one_month_after, refusal_reason
from domain.party import events as pe
from domain.party import record_id
from domain.party.position import CreditPosition, PartyPosition, SecurityPosition
from domain.roles import PartyProfile, UserRole


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyCase(_Model):
    """One role case of the Party and where it stands."""

    role: UserRole
    case_id: str
    status: str
    user_ids: list[str] = Field(default_factory=list)


class CreditNotice(_Model):
    """The DCC's latest notification of the Party's Credit Cover Requirement."""

    effective_on: date
    requirement: Decimal
    threshold: Decimal
    threshold_source: str
    regulatory_year: int
    support_required: bool


class CreditAssessment(_Model):
    """The DCC's latest assessment of the Party's Credit Support."""

    effective_on: date
    requirement: Decimal
    accepted_total: Decimal
    shortfall: Decimal
    counted: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)


class SecurityAssessment(_Model):
    """One security assessment of the Party and the status the Panel set on it."""

    assessment_id: str
    kind: pe.AssessmentKind
    roles: list[UserRole]
    booked_on: date
    assessment_on: date
    short_notice: bool = False
    done_on: date | None = None
    status: AssuranceStatus | None = None
    allows_completion: bool = False
    conditions: str = ""
    status_on: date | None = None


class PartyState(_Model):
    """Everything known about a SEC Party as such."""

    party_id: str
    profile: PartyProfile
    opened_on: date
    cases: list[PartyCase] = Field(default_factory=list)
    user_id_ranges: list[tuple[str, str]] = Field(default_factory=list)
    credit_notice: CreditNotice | None = None
    instruments: list[pe.Instrument] = Field(default_factory=list)
    credit_assessment: CreditAssessment | None = None
    security: list[SecurityAssessment] = Field(default_factory=list)
    stopped_counting: dict[str, date] = Field(default_factory=dict)
    """Instrument reference -> the day the record's timer saw it stop counting."""
    last_effective_on: date | None = None

    def instrument(self, reference: str) -> pe.Instrument | None:
        """The instrument with this reference, if any."""
        return next((i for i in self.instruments if i.reference == reference), None)

    def assessment(self, assessment_id: str) -> SecurityAssessment | None:
        """The security assessment with this id, if any."""
        return next((a for a in self.security if a.assessment_id == assessment_id), None)

    def open_cases(self) -> list[PartyCase]:
        """Role cases still open."""
        return [c for c in self.cases if c.status == "open"]


def start_party(event: pe.PartyRecordOpened) -> PartyState:
    """The state a Party record begins with."""
    return PartyState(
        party_id=event.profile.party_id,
        profile=event.profile,
        opened_on=event.effective_on,
        last_effective_on=event.effective_on,
    )


def _replace(items: list[pe.Instrument], ref: str, **changes: object) -> list[pe.Instrument]:
    return [i.model_copy(update=changes) if i.reference == ref else i for i in items]


def _with_assessment(state: PartyState, aid: str, **changes: object) -> list[SecurityAssessment]:
    return [a.model_copy(update=changes) if a.assessment_id == aid else a for a in state.security]


def evolve_party(state: PartyState | None, event: pe.PartyEvent) -> PartyState:
    """Apply one event to the Party record."""
    if isinstance(event, pe.PartyRecordOpened):
        return start_party(event)
    if state is None:
        raise ValueError(f"{type(event).__name__} before PartyRecordOpened")
    last = max(state.last_effective_on or event.effective_on, event.effective_on)
    s = state.model_copy(update={"last_effective_on": last})
    match event:
        case pe.PartyProfileChanged(profile=profile):
            return s.model_copy(update={"profile": profile})
        case pe.RoleCaseRecorded(role=role, case_id=case_id, status=status, user_ids=ids):
            others = [c for c in s.cases if c.case_id != case_id]
            case = PartyCase(role=role, case_id=case_id, status=status, user_ids=ids)
            return s.model_copy(update={"cases": [*others, case]})
        case pe.UserIdRangeAllocated(first=first, last=last_id):
            return s.model_copy(update={"user_id_ranges": [*s.user_id_ranges, (first, last_id)]})
        case pe.PartyCreditCoverNotified():
            notice = CreditNotice(
                effective_on=event.effective_on,
                requirement=event.requirement,
                threshold=event.threshold,
                threshold_source=event.threshold_source,
                regulatory_year=event.regulatory_year,
                support_required=event.support_required,
            )
            return s.model_copy(update={"credit_notice": notice})
        case pe.InstrumentLodged(instrument=instrument):
            return s.model_copy(update={"instruments": [*s.instruments, instrument]})
        case pe.InstrumentStatusChanged(reference=ref, status=status):
            return s.model_copy(update={"instruments": _replace(s.instruments, ref, status=status)})
        case pe.InstrumentStoppedCounting(reference=ref):
            stopped = {**s.stopped_counting, ref: event.effective_on}
            return s.model_copy(update={"stopped_counting": stopped})
        case pe.PartyCreditAssessed():
            assessment = CreditAssessment(
                effective_on=event.effective_on,
                requirement=event.requirement,
                accepted_total=event.accepted_total,
                shortfall=event.shortfall,
                counted=event.counted,
                refused=event.refused,
            )
            return s.model_copy(update={"credit_assessment": assessment})
        case pe.SecurityAssessmentBooked():
            booked = SecurityAssessment(
                assessment_id=event.assessment_id,
                kind=event.kind,
                roles=event.roles,
                booked_on=event.effective_on,
                assessment_on=event.assessment_on,
                short_notice=event.short_notice,
            )
            return s.model_copy(update={"security": [*s.security, booked]})
        case pe.SecurityAssessmentCompleted(assessment_id=aid):
            return s.model_copy(
                update={"security": _with_assessment(s, aid, done_on=event.effective_on)}
            )
        case pe.SecurityStatusSet(assessment_id=aid):
            changed = _with_assessment(
                s,
                aid,
                status=event.status,
                allows_completion=event.allows_completion,
                conditions=event.conditions,
                status_on=event.effective_on,
            )
            return s.model_copy(update={"security": changed})
    raise ValueError(f"evolve_party has no rule for {type(event).__name__}")  # pragma: no cover


def fold_party(
    events: Iterable[pe.PartyEvent], state: PartyState | None = None
) -> PartyState | None:
    """Fold events into the Party record."""
    for event in events:
        state = evolve_party(state, event)
    return state


class StoredPartyEvent(Protocol):
    """What folding needs of a stored event of a Party record's stream."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


def fold_party_stored(events: Iterable[StoredPartyEvent]) -> PartyState | None:
    """Fold a Party record's stored events (in stream order) into the record."""
    return fold_party(pe.party_event_from_data(e.type, dict(e.data)) for e in events)


# -- positions ---------------------------------------------------------------------------------


def held(state: PartyState) -> list[pe.Instrument]:
    """Instruments the DCC holds (lodged, not withdrawn, replaced, breached or disclaimed)."""
    return [i for i in state.instruments if i.status == "lodged"]


def as_item(instrument: pe.Instrument) -> CreditSupportItem:
    """The instrument as the credit rules read it."""
    return CreditSupportItem(
        form=instrument.form,
        amount=instrument.amount,
        provider=instrument.provider,
        expires_on=instrument.expires_on,
        required_bank_rating=instrument.required_bank_rating,
    )


def stops_counting_on(instrument: pe.Instrument) -> date | None:
    """The first day the instrument no longer counts (a Bank Guarantee within a month of its
    expiry, anything after it); None for an open-ended one."""
    if instrument.expires_on is None:
        return None
    if instrument.form is not CreditSupportForm.BANK_GUARANTEE:
        return instrument.expires_on + timedelta(days=1)
    day = instrument.expires_on - timedelta(days=32)
    while one_month_after(day) <= instrument.expires_on:
        day += timedelta(days=1)
    return day


def counted_on(state: PartyState, day: date) -> tuple[list[pe.Instrument], dict[str, str]]:
    """Instruments that count on ``day``, and why each of the others does not."""
    counted: list[pe.Instrument] = []
    refused: dict[str, str] = {}
    for instrument in held(state):
        reason = refusal_reason(as_item(instrument), day)
        if reason is None:
            counted.append(instrument)
        else:
            refused[instrument.reference] = reason
    return counted, refused


def credit_position(state: PartyState, day: date) -> CreditPosition:
    """The Party's credit position on ``day`` (SEC J3; guidance s.9)."""
    notice = state.credit_notice
    if notice is None:
        return CreditPosition(
            met=False, reason="the DCC has not notified the Credit Cover Requirement", who="DCC"
        )
    if not notice.support_required:
        return CreditPosition(
            met=True,
            reason=f"no Credit Support required: {gbp(notice.requirement)} is not over the "
            f"threshold {gbp(notice.threshold)}",
            requirement=notice.requirement,
        )
    required = gbp(notice.requirement)
    assessed = state.credit_assessment
    if assessed is None or assessed.effective_on < notice.effective_on:
        if not held(state):
            return CreditPosition(
                met=False,
                reason=f"lodge Credit Support of {required} (none is held)",
                requirement=notice.requirement,
                shortfall=notice.requirement,
            )
        return CreditPosition(
            met=False,
            reason=f"the DCC has not assessed the Credit Support against the requirement of "
            f"{required} notified on {notice.effective_on.isoformat()}",
            who="DCC",
            requirement=notice.requirement,
        )
    counted, _ = counted_on(state, day)
    # only what the DCC accepted counts; an instrument lodged since awaits its assessment
    accepted = [i for i in counted if i.reference in assessed.counted]
    pending = [i.reference for i in counted if i.reference not in assessed.counted]
    total = sum((i.amount for i in accepted), Decimal(0))
    short = max(Decimal(0), notice.requirement - total)
    if short > 0:
        awaiting = f"; the DCC has yet to assess {', '.join(pending)}" if pending else ""
        return CreditPosition(
            met=False,
            reason=f"the Credit Support that counts on {day.isoformat()} ({gbp(total)}) is "
            f"{gbp(short)} short of the requirement {required}{awaiting}",
            who="DCC" if pending else "Party",
            requirement=notice.requirement,
            accepted_total=total,
            shortfall=short,
        )
    return CreditPosition(
        met=True,
        reason=f"Credit Support of {gbp(total)} covers the requirement {required}",
        requirement=notice.requirement,
        accepted_total=total,
        shortfall=Decimal(0),
        valid_until=_holds_until(accepted, notice.requirement),
    )


def _holds_until(counted: list[pe.Instrument], requirement: Decimal) -> date | None:
    """The first day on which what still counts falls below the requirement."""
    total = sum((i.amount for i in counted), Decimal(0))
    for instrument in sorted(counted, key=lambda i: stops_counting_on(i) or date.max):
        stop = stops_counting_on(instrument)
        if stop is None:
            return None
        total -= instrument.amount
        if total < requirement:
            return stop
    return None


def security_position(state: PartyState, role: UserRole) -> SecurityPosition:
    """Whether an assessment covering ``role`` has a completing status (G8.34)."""
    covering = [a for a in state.security if role in a.roles and a.kind != "pre_assessment"]
    if not covering:
        return SecurityPosition(
            met=False,
            reason=f"no security assessment of the Party covers {role.label}: book one that does",
        )
    decided = [a for a in covering if a.status is not None]
    latest = max(decided, key=lambda a: (a.status_on or a.booked_on, a.assessment_id), default=None)
    if latest is not None and latest.allows_completion:
        assert latest.status is not None
        return SecurityPosition(
            met=True,
            reason=f"assessment {latest.assessment_id}: {AssuranceStatus(latest.status).label}",
            assessment_id=latest.assessment_id,
            status=latest.status,
        )
    pending = [a for a in covering if a.status is None]
    if pending:
        waiting = pending[-1]
        return SecurityPosition(
            met=False,
            reason=f"assessment {waiting.assessment_id} covering {role.label} awaits "
            + ("the Panel's status" if waiting.done_on else "the User CIO"),
            who="SEC Panel" if waiting.done_on else "User CIO",
            assessment_id=waiting.assessment_id,
        )
    assert latest is not None and latest.status is not None
    return SecurityPosition(
        met=False,
        reason=f"assessment {latest.assessment_id}: {AssuranceStatus(latest.status).label}; "
        f"book a follow-up assessment covering {role.label}",
        assessment_id=latest.assessment_id,
        status=latest.status,
    )


def position_for(
    state: PartyState, role: UserRole, day: date, version: int, last_event: str = ""
) -> PartyPosition:
    """What a role case of ``role`` takes from the record, judged on ``day``."""
    return PartyPosition(
        party_record=record_id(state.party_id),
        party_version=version,
        party_event=last_event,
        credit=credit_position(state, day),
        security=security_position(state, role),
        user_id_ranges=list(state.user_id_ranges),
    )


def lapses_due(state: PartyState, today: date) -> list[pe.InstrumentStoppedCounting]:
    """Instruments held that have stopped counting by ``today`` and are not yet recorded so."""
    out = []
    for instrument in held(state):
        stop = stops_counting_on(instrument)
        if stop is None or stop > today or instrument.reference in state.stopped_counting:
            continue
        reason = refusal_reason(as_item(instrument), stop) or "it no longer counts"
        out.append(
            pe.InstrumentStoppedCounting(
                effective_on=stop, reference=instrument.reference, reason=reason
            )
        )
    return out


def next_lapse(state: PartyState) -> date | None:
    """The next day a held instrument stops counting (the record's timer), if any."""
    days = [
        stop
        for instrument in held(state)
        if instrument.reference not in state.stopped_counting
        and (stop := stops_counting_on(instrument)) is not None
    ]
    return min(days, default=None)


def review_due_on(state: PartyState) -> date | None:
    """When the DCC's monthly review of the Credit Cover Requirement is due: a month after the
    latest notification or assessment, while the Party holds or needs Credit Support."""
    notice = state.credit_notice
    if notice is None or (not notice.support_required and not held(state)):
        return None
    latest = notice.effective_on
    if state.credit_assessment is not None:
        latest = max(latest, state.credit_assessment.effective_on)
    return one_month_after(latest)
