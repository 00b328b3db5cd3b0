"""The one data converter of the project: pydantic payloads, and refusals without stack traces.

Arguments decoded without a type (the workflow's message handlers take them raw, so that a
missing or extra argument is theirs to refuse) never raise on a payload that is not JSON: it is
handed over as :class:`workflows.payloads.UndecodablePayload`, and refused by name.

A refused update is an answer to an operator, not a crash: the Web UI would otherwise show the
Python stack trace under the validator's message. Domain refusals (``ApplicationError`` with
one of our error types) are sent with their message and details only; any other failure keeps
its stack trace for debugging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadConverter
from temporalio.exceptions import ApplicationError

from workflows.errors import REFUSAL_TYPES
from workflows.payloads import UndecodablePayload


class TolerantPayloadConverter(PydanticPayloadConverter):
    """Pydantic payloads; an untyped argument that will not decode becomes a value to refuse."""

    def from_payloads(
        self, payloads: Sequence[Payload], type_hints: list[type] | None = None
    ) -> list[Any]:
        """Decode as usual; without type hints, an undecodable payload does not raise."""
        if type_hints is not None:
            return super().from_payloads(payloads, type_hints)
        out: list[Any] = []
        for payload in payloads:
            try:
                out.extend(super().from_payloads([payload], None))
            except Exception as err:  # any decoding failure: the handler refuses it by name
                out.append(
                    UndecodablePayload(
                        encoding=payload.metadata.get("encoding", b"").decode(errors="replace"),
                        size=len(payload.data),
                        reason=type(err).__name__,
                    )
                )
        return out


class RefusalFailureConverter(DefaultFailureConverter):
    """Default conversion, minus the stack trace of a refusal."""

    def to_failure(
        self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure
    ) -> None:
        """Convert as usual, then drop the stack trace of a domain refusal."""
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, ApplicationError) and exception.type in REFUSAL_TYPES:
            failure.stack_trace = ""


DATA_CONVERTER = DataConverter(
    payload_converter_class=TolerantPayloadConverter,
    failure_converter_class=RefusalFailureConverter,
)
"""Use this for every client, worker, test environment and replayer."""
