"""Every JSON example in the operator guide is accepted by the model it documents."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from domain.commands import MESSAGES
from domain.limits import LIMITS
from domain.party.commands import PARTY_MESSAGES
from workflows.io import WorkflowInput

GUIDE = Path(__file__).parents[2] / "docs" / "operator-guide.md"
_NAME = re.compile(r"`([a-z_]+)`")
_INLINE = re.compile(r"`(\{.*?\})`")


def examples() -> list[tuple[str, Any]]:
    """(message name, payload) for each example, named by the last message mentioned before it."""
    found: list[tuple[str, Any]] = []
    current = "start"
    lines = GUIDE.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## 1. Start"):
            current = "start"
        if line.strip() == "```json":
            block = []
            i += 1
            while lines[i].strip() != "```":
                block.append(lines[i])
                i += 1
            found.append((current, json.loads("\n".join(block))))
        else:
            names = [n for n in _NAME.findall(line) if n in MESSAGES or n in PARTY_MESSAGES]
            if names and (line.startswith(("`", "### ", "| `"))):
                current = names[0]
            for inline in _INLINE.findall(line):
                found.append((current, json.loads(inline)))
        i += 1
    return found


EXAMPLES = examples()


def test_the_guide_has_an_example_for_every_message() -> None:
    assert {name for name, _ in EXAMPLES} >= set(MESSAGES) | {"start"}


@pytest.mark.parametrize(("name", "payload"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_example_is_valid(name: str, payload: Any) -> None:
    if name == "start":
        WorkflowInput.model_validate(payload)
    else:
        (MESSAGES.get(name) or PARTY_MESSAGES[name]).model.model_validate(payload)


def test_the_guide_has_an_example_for_every_party_record_message() -> None:
    assert {name for name, _ in EXAMPLES} >= set(PARTY_MESSAGES)


def test_the_guide_lists_every_input_limit() -> None:
    text = GUIDE.read_text()
    for what, limit in LIMITS.items():
        assert f"| {what} | {limit} |" in text, what
