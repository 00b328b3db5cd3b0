"""How a message becomes a command: payload validation with readable errors, and the handler
factories that give every update its validator and every signal its message-id rule.

Kept apart from the workflow class so that the class reads as the process.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from domain import commands as c
    from workflows.errors import Refusal, refusal
    from workflows.io import UpdateResult


def format_validation_error(err: ValidationError) -> str:
    """Pydantic's explanation, one ``field: reason`` per problem."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "payload"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def parse_message(name: str, raw: Any) -> c.Command:
    """Validate a message payload against its command model, or raise a readable error."""
    message = c.MESSAGES.get(name)
    if message is None:
        raise refusal(f"unknown message {name!r}", Refusal.INVALID_INPUT)
    try:
        return message.model.model_validate({} if raw is None else raw)
    except ValidationError as err:
        text = f"{name}: " + format_validation_error(err)
        raise refusal(text, Refusal.INVALID_INPUT) from None


def update_handler(name: str) -> Any:
    """An update handler (with validator) that runs one message through the decider."""
    message = c.MESSAGES[name]

    async def handler(self: Any, payload: Any) -> UpdateResult:
        result: UpdateResult = await self._apply_update(name, payload)
        return result

    handler.__name__ = name
    handler.__qualname__ = f"UserEntryProcess.{name}"
    description = f"{message.summary} Sent by: {message.sender}."
    defined = workflow.update(name=name, description=description)(handler)

    def validate(self: Any, payload: Any) -> None:
        self._validate(name, payload)

    defined.validator(validate)
    return defined


def signal_handler(name: str) -> Any:
    """A signal handler for fire-and-forget senders; ``message_id`` required, repeats ignored."""
    message = c.MESSAGES[name]

    async def handler(self: Any, payload: Any) -> None:
        await self._apply_signal(name, payload)

    handler.__name__ = f"{name}_signal"
    handler.__qualname__ = f"UserEntryProcess.{name}_signal"
    description = f"{message.summary} Sent by: {message.sender}. Needs message_id."
    return workflow.signal(name=name, description=description)(handler)


def message_id_of(payload: Any) -> str | None:
    if isinstance(payload, dict):
        value = payload.get("message_id")
        return value if isinstance(value, str) else None
    return None
