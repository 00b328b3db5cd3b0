"""Bounds on every input: how long, how many, how big, and which characters.

A message is written once and kept for ever in an append-only store, and a single payload can
wedge a durable workflow (a refusal that echoes a megabyte, a NUL that PostgreSQL will never
store). So every field of every message is bounded here, in the models, before any rule runs:
text has a maximum length and no control characters (names also no bidirectional overrides),
required text is not blank, lists have a maximum size, dates fall in a sane window, amounts are
finite ASCII decimals of bounded size, and booleans and dates are never coerced from other
types. `uep schema` publishes these limits (``maxLength``, ``maxItems``, ``pattern``...) and
the operator guide lists them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict

NAME_MAX = 200
"""A name or short reference: a Party name, a certificate reference, a bank."""
TEXT_MAX = 4000
"""Free text: a reason, notes, a summary."""
MESSAGE_ID_MAX = 128
"""A sender's message id."""
USER_ID_TEXT_MAX = 64
"""A User ID as typed (an EUI-64 with separators is 23 characters; room for spaces around)."""
LIST_MAX = 50
"""Items in one list (credit instruments, holidays, criteria)."""
EARLIEST_DATE = date(2013, 1, 1)
"""No fact of the User Entry Process predates the Smart Energy Code (designated 2013)."""
LATEST_DATE = date(2099, 12, 31)
"""No date of a case lies this far ahead; a later one is a typing error."""
PLANNED_YEARS_MAX = 5
"""A date planned ahead (a UEPT start, an assessment) lies at most this many years after the
notice that gives it."""
AMOUNT_DIGITS = 15
"""Digits in a money amount (GBP): up to 13 before the point and 2 after."""
AMOUNT_PLACES = 2

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ASCII_DECIMAL = re.compile(r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$")
_MESSAGE_ID = r"^[\x21-\x7e]+$"


def _text(value: str) -> str:
    """Free text: NFC, no control characters but line breaks and tabs, not blank."""
    value = unicodedata.normalize("NFC", value)
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, escape, ...)")
    if _BIDI.search(value):
        raise ValueError("must not contain bidirectional override characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _name(value: str) -> str:
    """A name: free text on one line, without surrounding spaces."""
    value = _text(value)
    if _CONTROL_IN_NAME.search(value):
        raise ValueError("must be one line without tabs or control characters")
    return value.strip()


def _optional_name(value: str) -> str:
    """An optional name or reference: empty is allowed, otherwise as a name."""
    return "" if value == "" else _name(value)


def _optional_text(value: str) -> str:
    """Optional free text: empty is allowed, otherwise as free text."""
    return "" if value == "" else _text(value)


def _iso_date(value: Any) -> Any:
    """A date as JSON writes it (``YYYY-MM-DD``); no timestamps, numbers or other forms."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _in_window(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"must lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"
        )
    return value


def _ascii_amount(value: Any) -> Any:
    """An amount as a JSON number or a plain decimal string of ASCII digits."""
    if isinstance(value, bool):
        raise ValueError("must be an amount in pounds, not true or false")
    if isinstance(value, str) and not _ASCII_DECIMAL.match(value):
        raise ValueError(
            "must be written with the digits 0-9 and at most one point and two decimals, "
            "e.g. 25000 or 25000.50"
        )
    return value


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(_name)]
"""A name or short reference, one line."""
OptionalName = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_optional_name)]
"""An optional reference: empty, or as :data:`Name`."""
Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(_text)]
"""Required free text (a reason): not blank."""
OptionalText = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(_optional_text)]
"""Optional free text (notes): empty, or as :data:`Text`."""
MessageId = Annotated[str, Field(min_length=1, max_length=MESSAGE_ID_MAX, pattern=_MESSAGE_ID)]
"""A sender's message id: printable ASCII without spaces."""
Day = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_in_window)]
"""A calendar date, ``YYYY-MM-DD``, between 2013 and 2099."""
Flag = Annotated[bool, Strict()]
"""A boolean: JSON ``true`` or ``false``, nothing else."""
Amount = Annotated[
    Decimal,
    BeforeValidator(_ascii_amount),
    Field(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, allow_inf_nan=False),
]
"""A sum of money in pounds: finite, at most 13 digits before the point and 2 after."""
Factor = Annotated[
    Decimal,
    BeforeValidator(_ascii_amount),
    Field(ge=0, le=1, max_digits=6, decimal_places=4, allow_inf_nan=False),
]
"""A proportion between 0 and 1, at most four decimals."""

LIMITS: dict[str, str] = {
    "names and references": f"1-{NAME_MAX} characters, one line",
    "reasons, notes, summaries": f"up to {TEXT_MAX} characters; a required reason is not blank",
    "message_id": f"1-{MESSAGE_ID_MAX} printable ASCII characters, no spaces",
    "user_id": f"up to {USER_ID_TEXT_MAX} characters as typed (an EUI-64)",
    "lists": f"up to {LIST_MAX} items",
    "dates": f"YYYY-MM-DD, {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}",
    "amounts": "digits 0-9, at most 13 before the point and 2 after; no exponent",
    "true / false": "JSON true or false only",
    "all text": "no control characters (NUL, escape...), no bidirectional overrides",
}
"""Every input limit in words, for `uep schema` and the operator guide."""
