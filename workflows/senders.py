"""Checking who sent a message, where it cannot be forged and replay stays deterministic.

The `uep` tools and the HTTP API attach a signed principal as a Temporal header
(``domain.principals``). A worker interceptor reads it:

- an **update** is checked in its validator (validators are not replayed): a header that does
  not verify, or a principal the sender matrix refuses, is refused and nothing enters history;
  the handler then reads the principal from the header history recorded with the update;
- a **signal** (replayed) is checked by an activity, whose answer history records: the
  handler asks :func:`signal_origin`, behind a patch so older histories replay as they ran
  (a regular activity since ``regular-sender-check-2026-12``, a local one before);
- a **start** of a role case is checked the same way as a signal, before the case opens.

A message with no header (the Temporal Web UI) is SECAS on the console when the deployment
allows UI writes, refused otherwise. The key and that setting live in the worker's memory (the
interceptor) and in the local activity: workflow code never reads them, and nothing read here
changes what a replay does.

Such a message is recorded with the Temporal identity of the client that sent it: only
Temporal's history holds it, so an activity (``identify_sender``) reads it there and history
records the answer. Only headerless messages pay for that call, behind a patch so older
histories replay as they ran; a signed message from the tools or the API never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

with workflow.unsafe.imports_passed_through():
    from activities.coordination import CoordinationActivities, SenderIdentityRequest
    from activities.senders import SenderActivities, SenderCheckRequest
    from domain.principals import (
        HEADER,
        SENDER_MATRIX,
        START,
        HeaderRefused,
        Principal,
        SenderRefused,
        Verdict,
        authorise,
        console_principal,
        is_console,
        judge,
        read_header,
    )
    from workflows import names
    from workflows.errors import Refusal, refusal
    from workflows.patches import patched

SIGNED_SENDERS_PATCH = "signed-senders-2026-12"
"""Signals and starts are checked by a local activity; older histories have none."""
CHECK_TIMEOUT = timedelta(seconds=10)
REGULAR_SENDER_CHECK_PATCH = "regular-sender-check-2026-12"
"""The check is a regular activity: a local one, under a flood of signals, let handlers resume in
another order on replay (docs/versioning.md); older histories ran it local."""
UI_IDENTITY_PATCH = "ui-identity-2026-12"
"""A headerless message is recorded with its Temporal identity; older histories have none."""
IDENTIFY_TIMEOUT = timedelta(seconds=30)
"""Reading the run's history (paged) for one message's identity."""
IDENTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
)
"""A few tries; then the message is recorded with an unknown identity rather than held up."""


@dataclass(frozen=True)
class Origin:
    """Who a message came from, as the event's metadata records it."""

    principal: Principal | None
    request_id: str | None = None
    identified: bool = False
    """Whether the Temporal identity was looked up (a headerless message since the patch)."""
    temporal_identity: str | None = None
    """The Temporal identity that sent the message (None: history named none)."""

    def actor(self, fallback: str) -> str:
        """The timeline's one-line actor."""
        return self.principal.display() if self.principal else fallback

    def metadata(self) -> dict[str, Any]:
        """The principal (and on whose behalf) for an event's metadata."""
        if self.principal is None:
            return {}
        p = self.principal
        meta: dict[str, Any] = {"principal": p.model_dump(mode="json", exclude={"on_behalf_of"})}
        if p.on_behalf_of is not None:
            meta["on_behalf_of"] = p.on_behalf_of.model_dump(mode="json")
        if self.request_id:
            meta["request_id"] = self.request_id
        if self.identified:
            meta["temporal_identity"] = self.temporal_identity
        return meta


LEGACY = Origin(None)


def event_metadata(
    command: str, actor: str, causation: str | None, origin: Origin
) -> dict[str, Any]:
    """What every stored event of a case or a Party record carries: the message, who sent it
    (and on whose behalf), what caused it, the run that decided it and when."""
    info = workflow.info()
    return {
        "actor": actor,
        "command": command,
        "causation_id": causation,
        "correlation_id": info.workflow_id,
        "workflow_id": info.workflow_id,
        "run_id": info.run_id,
        "decided_at": workflow.now().isoformat(),
        **origin.metadata(),
    }


@dataclass(frozen=True)
class Received:
    """What the interceptor saw with a message: its raw header, if any, and the history
    length of the workflow task that delivered it (a signal's event lies at or before it)."""

    header: bytes | None
    history_length: int | None = None


CURRENT: ContextVar[Received | None] = ContextVar("uep_received", default=None)
"""The header of the message the running handler serves (each handler runs in its own task)."""


def _header(headers: Mapping[str, Payload]) -> bytes | None:
    payload = headers.get(HEADER)
    return None if payload is None else bytes(payload.data)


def check(
    key: bytes | None,
    allow_ui_writes: bool,
    header: bytes | None,
    workflow_type: str,
    workflow_id: str,
    message: str,
) -> Origin:
    """The origin of a message if its header verifies and the matrix allows it; else a
    refusal (``unauthenticated``, ``forbidden`` or, for another Party's case, ``not_found``)."""
    party = names.party_of(workflow_type, workflow_id)
    verdict = judge(key, allow_ui_writes, header, workflow_id, message, party)
    return _origin(verdict)


def _origin(verdict: Verdict) -> Origin:
    if not verdict.allowed or verdict.principal is None:
        raise refusal(verdict.reason, Refusal(verdict.refusal or Refusal.FORBIDDEN))
    return Origin(verdict.principal, verdict.request_id)


def recorded(header: bytes | None, workflow_type: str, workflow_id: str, message: str) -> Origin:
    """The origin of an accepted update, from the header history holds (not verified again:
    its validator verified it, and a replay must not read keys)."""
    party = names.party_of(workflow_type, workflow_id)
    try:
        if header is None:
            return Origin(authorise(console_principal(), message, party))
        body = read_header(header)
        return Origin(authorise(body.principal, message, party), body.request_id)
    except (HeaderRefused, SenderRefused):
        return LEGACY


class SenderCheck(Interceptor):
    """Worker interceptor: updates are checked in their validators; signals and starts carry
    their header to the handler, which checks it through the local activity."""

    def __init__(self, key: bytes | None, allow_ui_writes: bool) -> None:
        self.key = key
        self.allow_ui_writes = allow_ui_writes

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        """A class bound to this worker's key (kept in memory, outside workflow code)."""
        key, allow = self.key, self.allow_ui_writes

        class Bound(_Inbound):
            _key = key
            _allow_ui_writes = allow

        return Bound


def replay_interceptors() -> list[Interceptor]:
    """What a replay needs besides the workflows: the interceptor that hands each handler the
    header its message carried (whether a headerless message looked up its identity is decided
    from it). Validators do not run in a replay, so it holds no key."""
    return [SenderCheck(None, allow_ui_writes=True)]


class _Inbound(WorkflowInboundInterceptor):
    _key: bytes | None = None
    _allow_ui_writes = False

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        CURRENT.set(Received(_header(input.headers)))
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        length = workflow.info().get_current_history_length()
        CURRENT.set(Received(_header(input.headers), length))
        await self.next.handle_signal(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        if input.update in SENDER_MATRIX:  # an unknown update is refused by its own validator
            info = workflow.info()
            check(
                self._key,
                self._allow_ui_writes,
                _header(input.headers),
                info.workflow_type,
                info.workflow_id,
                input.update,
            )
        self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        CURRENT.set(Received(_header(input.headers)))
        return await self.next.handle_update_handler(input)


async def update_origin(message: str) -> Origin:
    """In an update handler: who sent it (checked by the validator when it was accepted); a
    headerless update also by which Temporal identity (an activity reads it from history)."""
    received = CURRENT.get()
    if received is None:
        return LEGACY
    info = workflow.info()
    origin = recorded(received.header, info.workflow_type, info.workflow_id, message)
    update = workflow.current_update_info()
    if received.header is not None or not _from_console(origin) or update is None:
        return origin
    # a regular activity: it runs once the task that accepted the update has completed, so
    # the update's acceptance (with the identity) is in history by then
    return await _identified(
        origin, SenderIdentityRequest(**_run(), kind="update", update_id=update.id)
    )


async def signal_origin(message: str, message_id: str | None = None) -> Origin:
    """In a signal handler (or at a start): who sent it, checked by the local activity; a
    refusal (ApplicationError) when the header or the matrix refuses. Histories from before
    the check replay as they ran (the free-text actor). A headerless signal (``message_id``
    finds it in history) or start is also recorded with the Temporal identity that sent it."""
    if not patched(SIGNED_SENDERS_PATCH):
        return LEGACY
    received = CURRENT.get()
    info = workflow.info()
    header = None if received is None else received.header
    request = SenderCheckRequest(
        header=None if header is None else header.decode("utf-8", "replace"),
        workflow_id=info.workflow_id,
        message=message,
        party_id=names.party_of(info.workflow_type, info.workflow_id),
    )
    summary = f"Check who sent {message}"
    if patched(REGULAR_SENDER_CHECK_PATCH):
        verdict = await workflow.execute_activity_method(
            SenderActivities.check_sender,
            request,
            start_to_close_timeout=CHECK_TIMEOUT,
            summary=summary,
        )
    else:
        verdict = await workflow.execute_local_activity_method(
            SenderActivities.check_sender,
            request,
            start_to_close_timeout=CHECK_TIMEOUT,
            summary=summary,
        )
    origin = _origin(verdict)
    if header is not None or not _from_console(origin):
        return origin
    if message == START:
        return await _identified(origin, SenderIdentityRequest(**_run(), kind="start"))
    return await _identified(
        origin,
        SenderIdentityRequest(
            **_run(),
            kind="signal",
            signal=message,
            message_id=message_id,
            up_to=None if received is None else received.history_length,
        ),
    )


def _from_console(origin: Origin) -> bool:
    """Whether the message came with no header, from the console (the Temporal Web UI)."""
    return origin.principal is not None and is_console(origin.principal)


def _run() -> dict[str, str]:
    info = workflow.info()
    return {"workflow_id": info.workflow_id, "run_id": info.run_id}


async def _identified(origin: Origin, request: SenderIdentityRequest) -> Origin:
    """The origin with the Temporal identity history holds for the message (new histories
    only: older ones replay without the activity)."""
    if not patched(UI_IDENTITY_PATCH):
        return origin
    try:
        identity = await workflow.execute_activity_method(
            CoordinationActivities.identify_sender,
            request,
            start_to_close_timeout=IDENTIFY_TIMEOUT,
            retry_policy=IDENTIFY_RETRY,
            summary=f"Read which Temporal identity sent this {request.kind}",
        )
    except ActivityError as err:
        workflow.logger.warning("the sender's Temporal identity could not be read: %s", err)
        identity = None
    return replace(origin, identified=True, temporal_identity=identity)
