"""Invalid payloads for every message, derived from the message models with hypothesis.

Each strategy takes a message's model, picks one of its fields (or the payload as a whole) and
spoils it one way: a wrong type, a missing or unknown field, an out-of-range or coerced date, a
NUL or control character, a bidirectional override, an oversized string or list, an amount
written with an exponent or non-ASCII digits. Only payloads the model itself refuses are kept,
so every payload here must be refused by the workflow too, naming what is wrong.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.commands import MESSAGES, StartCase
from domain.limits import LIST_MAX, NAME_MAX, TEXT_MAX

WRONG_VALUES: list[Any] = [
    123,
    -1,
    1.5,
    10**30,
    True,
    False,
    None,
    [],
    {},
    [1, 2],
    {"nested": "object"},
    "",
    "   ",
    "x",
    "\u0000",
    "a\u0000b",
    "line\u001bescape",
    "Acme \u202eENERGY",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-01-01T00:00:00Z",
    "1e999999",
    "NaN",
    "Infinity",
    "\uff11\uff10\uff10",
    "1_000",
    "yes",
    1_700_000_000,
]
"""Values that are wrong for most fields; the model decides which are."""


def is_invalid(model: type[BaseModel], payload: Any) -> bool:
    """Whether the model refuses the payload (the workflow must refuse it then)."""
    try:
        model.model_validate(payload)
    except (ValidationError, TypeError, ValueError):
        return True
    return False


def _spoiled_field(model: type[BaseModel]) -> st.SearchStrategy[tuple[str, Any]]:
    """A field of ``model`` and a bad value for it."""
    fields = sorted(model.model_fields)
    oversized = st.sampled_from(
        ["n" * (NAME_MAX + 1), "t" * (TEXT_MAX + 1), "u" * 100_000, ["x"] * (LIST_MAX + 1)]
    )
    value = st.one_of(st.sampled_from(WRONG_VALUES), oversized, st.text(max_size=20))
    return st.tuples(st.sampled_from(fields), value)


@st.composite
def invalid_payload(draw: st.DrawFn, model: type[BaseModel]) -> tuple[Any, str | None]:
    """An invalid payload for ``model`` and the field the refusal must name (None: whole)."""
    how = draw(st.sampled_from(["field", "unknown", "shape"]))
    if how == "unknown":
        key = draw(st.text(min_size=1, max_size=30).filter(lambda k: k not in model.model_fields))
        return {key: draw(st.sampled_from(WRONG_VALUES))}, None
    if how == "shape":
        return draw(st.sampled_from([[], [1], "text", 42, True, 1.5])), None
    field, value = draw(_spoiled_field(model))
    return {field: value}, field


@st.composite
def invalid_message(draw: st.DrawFn, names: list[str]) -> tuple[str, Any, str | None]:
    """A message name, an invalid payload for it, and the field to be named."""
    name = draw(st.sampled_from(names))
    payload, field = draw(invalid_payload(MESSAGES[name].model))
    return name, payload, field


@st.composite
def invalid_start(draw: st.DrawFn, valid: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A start input with one field (or one Party field) spoiled, and that field's path."""
    payload = {**valid, "party": dict(valid["party"])}
    in_party = draw(st.booleans())
    if in_party:
        field = draw(st.sampled_from(["party_name", "category", "licences", "mop_or_mam"]))
        payload["party"][field] = draw(st.sampled_from(WRONG_VALUES))
        return payload, f"party.{field}"
    field = draw(st.sampled_from(["role", "rules_version", "calendar_region", "started_on"]))
    payload[field] = draw(st.sampled_from(WRONG_VALUES))
    return payload, field


def start_is_invalid(payload: dict[str, Any]) -> bool:
    """Whether the public start model refuses it."""
    return is_invalid(StartCase, payload)
