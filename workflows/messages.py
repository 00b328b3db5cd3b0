"""How a message becomes a command: payload validation with readable, bounded errors, and the
handler factories that give every update its validator and every signal its message-id rule.

Handlers take their arguments raw (``*args``), so that no argument, two arguments or a payload
that is not JSON are refused like any other bad input instead of failing the workflow task.
Kept apart from the workflow class so that the class reads as the process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from domain import commands as c
    from workflows.errors import Refusal, refusal, shorten
    from workflows.payloads import UndecodablePayload

MAX_PROBLEMS = 8
"""Problems named in one refusal; the rest are counted."""


def format_validation_error(err: ValidationError) -> str:
    """Pydantic's explanation, one ``field: reason`` per problem, bounded in size."""
    problems = err.errors()
    parts = []
    for e in problems[:MAX_PROBLEMS]:
        loc = ".".join(shorten(str(x), 40) for x in e["loc"]) or "payload"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {shorten(msg, 300)}")
    if len(problems) > MAX_PROBLEMS:
        parts.append(f"and {len(problems) - MAX_PROBLEMS} more problems")
    return "; ".join(parts)


def single_argument(name: str, args: tuple[Any, ...]) -> Any:
    """The one argument a message carries, or a refusal saying what arrived instead."""
    if len(args) != 1:
        raise refusal(
            f"{name}: expected one JSON object as the payload, got {len(args)} arguments",
            Refusal.INVALID_INPUT,
        )
    (arg,) = args
    if isinstance(arg, UndecodablePayload):
        raise refusal(
            f"{name}: the payload could not be decoded ({arg.describe()}); send one JSON object",
            Refusal.INVALID_INPUT,
        )
    return arg


def parse_message(
    name: str, args: tuple[Any, ...], registry: Mapping[str, c.Message] = c.MESSAGES
) -> c.Command:
    """Validate a message's arguments against its command model, or raise a readable refusal."""
    message = registry.get(name)
    if message is None:
        raise refusal(
            f"unknown message {shorten(name, 60)!r}; known: {', '.join(sorted(registry))}",
            Refusal.INVALID_INPUT,
        )
    raw = single_argument(name, args)
    try:
        return message.model.model_validate({} if raw is None else raw)
    except ValidationError as err:
        raise refusal(f"{name}: " + format_validation_error(err), Refusal.INVALID_INPUT) from None


def fingerprint(name: str, command: c.Command) -> str:
    """What a message says, apart from its id: a repeated id must repeat the same message."""
    body = command.model_dump(mode="json", exclude={"message_id"})
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"{name}:{digest[:32]}"


def update_handler(
    name: str, registry: Mapping[str, c.Message] = c.MESSAGES, owner: str = "UserEntryProcess"
) -> Any:
    """An update handler (with validator) that runs one message through the decider; the
    workflow class provides ``_apply_update`` and ``_validate``."""
    message = registry[name]

    async def handler(self: Any, *args: Any) -> Any:
        return await self._apply_update(name, args)

    handler.__name__ = name
    handler.__qualname__ = f"{owner}.{name}"
    description = f"{message.summary} Sent by: {message.sender}."
    defined = workflow.update(name=name, description=description)(handler)

    def validate(self: Any, *args: Any) -> None:
        self._validate(name, args)

    defined.validator(validate)
    return defined


def signal_handler(
    name: str, registry: Mapping[str, c.Message] = c.MESSAGES, owner: str = "UserEntryProcess"
) -> Any:
    """A signal handler for fire-and-forget senders; ``message_id`` required, repeats ignored."""
    message = registry[name]

    async def handler(self: Any, *args: Any) -> None:
        await self._apply_signal(name, args)

    handler.__name__ = f"{name}_signal"
    handler.__qualname__ = f"{owner}.{name}_signal"
    description = f"{message.summary} Sent by: {message.sender}. Needs message_id."
    return workflow.signal(name=name, description=description)(handler)


def message_id_of(args: tuple[Any, ...]) -> str | None:
    """The message id a payload names, if any (for listing a refused signal)."""
    if len(args) == 1 and isinstance(args[0], dict):
        value = args[0].get("message_id")
        return value if isinstance(value, str) else None
    return None
