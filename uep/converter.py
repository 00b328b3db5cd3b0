"""The one data converter of the project: pydantic payloads, and refusals without stack traces.

A refused update is an answer to an operator, not a crash: the Web UI would otherwise show the
Python stack trace under the validator's message. Domain refusals (``ApplicationError`` with
one of our error types) are sent with their message and details only; any other failure keeps
its stack trace for debugging.
"""

from __future__ import annotations

from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadConverter
from temporalio.exceptions import ApplicationError

from workflows.errors import REFUSAL_TYPES


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
    payload_converter_class=PydanticPayloadConverter,
    failure_converter_class=RefusalFailureConverter,
)
"""Use this for every client, worker, test environment and replayer."""
