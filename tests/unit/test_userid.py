"""EUI-64 User IDs and the sharing rule (H1.4, guidance s.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInputError
from domain.roles import UserRole
from domain.userid import claim_refusal, format_user_id, parse_user_id, roles_may_share

ID = "90b3d51f30010000"


@pytest.mark.parametrize(
    "text",
    [
        "90-B3-D5-1F-30-01-00-00",
        "90 B3 D5 1F 30 01 00 00",
        "90b3d51f30010000",
        "90B3D51F30010000",
        "  90-b3-d5-1f-30-01-00-00\n",
    ],
)
def test_accepted_forms_normalise_to_one_id(text: str) -> None:
    assert parse_user_id(text) == ID


def test_format() -> None:
    assert format_user_id(ID) == "90-B3-D5-1F-30-01-00-00"
    assert format_user_id("90 b3 d5 1f 30 01 00 00") == "90-B3-D5-1F-30-01-00-00"


def fault(text: str) -> str:
    with pytest.raises(InvalidInputError) as info:
        parse_user_id(text)
    assert info.value.field == "user_id"
    return info.value.message


def test_seven_octets() -> None:
    assert "has 7 octets, an EUI-64 has 8" in fault("90-B3-D5-1F-30-01-00")
    assert "has 7 octets, an EUI-64 has 8" in fault("90b3d51f300100")


def test_nine_octets() -> None:
    assert "has 9 octets, an EUI-64 has 8" in fault("90-B3-D5-1F-30-01-00-00-11")


def test_odd_digit_count() -> None:
    assert "has 15 hex digits" in fault("90b3d51f3001000")


def test_one_octet_singular() -> None:
    assert "has 1 octet, an EUI-64 has 8" in fault("90")


def test_non_hex_character_named_with_position() -> None:
    message = fault("90-B3-D5-1G-30-01-00-00")
    assert "'G'" in message
    assert "position 11" in message
    assert "position 3" in fault("90X3d51f30010000")


def test_position_counts_from_the_text_as_given() -> None:
    assert "position 4" in fault("  9Z")


def test_colon_is_not_a_separator() -> None:
    assert "':'" in fault("90:B3:D5:1F:30:01:00:00")


def test_trailing_and_leading_separator() -> None:
    assert "trailing separator" in fault("90-B3-D5-1F-30-01-00-00-")
    assert "starts with a separator" in fault("-90-B3-D5-1F-30-01-00-00")


def test_mixed_separators() -> None:
    assert "mixes hyphens and spaces" in fault("90-B3 D5-1F-30-01-00-00")


def test_misplaced_separators() -> None:
    message = fault("90B3-D51F-3001-0000")
    assert "misplaced separators" in message
    assert "octet 1" in message
    assert "two separators in a row" in fault("90--B3-D5-1F-30-01-00-00")
    assert "'B'" in fault("90-B-3D5-1F-30-01-00-00")


def test_empty() -> None:
    assert "empty" in fault("")
    assert "empty" in fault("   ")


def test_reserved_ids() -> None:
    assert "all-zero" in fault("00-00-00-00-00-00-00-00")
    assert "all-FF" in fault("ffffffffffffffff")


def test_not_text() -> None:
    with pytest.raises(InvalidInputError, match="must be text"):
        parse_user_id(1234)  # type: ignore[arg-type]


octets = st.lists(st.integers(0, 255), min_size=8, max_size=8).filter(
    lambda xs: set(xs) not in ({0}, {255})
)


@given(octets, st.sampled_from(["-", " ", ""]), st.booleans())
def test_round_trip(values: list[int], sep: str, upper: bool) -> None:
    text = sep.join(f"{v:02x}" for v in values)
    text = text.upper() if upper else text
    normalised = parse_user_id(text)
    assert len(normalised) == 16 and normalised == normalised.lower()
    shown = format_user_id(normalised)
    assert parse_user_id(shown) == normalised
    assert format_user_id(text) == shown


@given(st.text(max_size=30))
def test_parse_never_crashes_otherwise(text: str) -> None:
    try:
        result = parse_user_id(text)
    except InvalidInputError:
        return
    assert len(result) == 16
    int(result, 16)


@pytest.mark.parametrize("a", list(UserRole))
@pytest.mark.parametrize("b", list(UserRole))
def test_roles_may_share(a: UserRole, b: UserRole) -> None:
    suppliers = {UserRole.IMPORT_SUPPLIER, UserRole.EXPORT_SUPPLIER, UserRole.GAS_SUPPLIER}
    assert roles_may_share(a, b) == (a != b and a in suppliers and b in suppliers)
    assert roles_may_share(a, b) == roles_may_share(b, a)


def test_fresh_id_is_free() -> None:
    assert claim_refusal(ID, "acme", "other_user", []) is None


def test_id_of_another_party_is_refused() -> None:
    refusal = claim_refusal(ID, "acme", "gas_supplier", [("rival", "gas_supplier")])

    assert refusal is not None
    assert "held by Party 'rival' (gas_supplier)" in refusal
    assert "90-B3-D5-1F-30-01-00-00" in refusal
    assert "belongs to one Party (H1.4)" in refusal


def test_supplier_roles_share() -> None:
    holders = [("acme", "import_supplier"), ("acme", "export_supplier")]
    assert claim_refusal(ID, "acme", "gas_supplier", holders) is None


def test_same_claim_again_is_idempotent() -> None:
    assert claim_refusal(ID, "acme", "other_user", [("acme", "other_user")]) is None


@pytest.mark.parametrize(
    ("role", "held"),
    [
        ("other_user", "import_supplier"),
        ("gas_supplier", "electricity_distributor"),
        ("registered_supplier_agent", "gas_supplier"),
        ("gas_transporter", "electricity_distributor"),
    ],
)
def test_a_non_supplier_role_cannot_share(role: str, held: str) -> None:
    refusal = claim_refusal(ID, "acme", role, [("acme", held)])

    assert refusal is not None
    assert f"held by Party 'acme' as {held}" in refusal
    assert f"cannot also serve {role}" in refusal


def test_an_unknown_role_never_shares() -> None:
    assert claim_refusal(ID, "acme", "not_a_role", [("acme", "gas_supplier")]) is not None
