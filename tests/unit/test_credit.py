"""Credit cover (SEC J3, Appendix A; guidance s.9)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.credit import (
    CreditSupportForm,
    CreditSupportItem,
    assess_credit_support,
    credit_cover_requirement,
    credit_cover_threshold,
    credit_support_required,
    gbp,
    load_cpi_table,
    one_month_after,
    regulatory_year_of,
    value_at_risk,
)
from domain.errors import DomainError, InvalidInputError

D = Decimal
BG = CreditSupportForm.BANK_GUARANTEE
LC = CreditSupportForm.LETTER_OF_CREDIT
CASH = CreditSupportForm.CASH_DEPOSIT
ON = date(2025, 6, 15)


def test_value_at_risk_default_uplift() -> None:
    assert value_at_risk(D("1000"), D("500")) == D("2100.0")
    assert value_at_risk(D("1000"), D("0"), D("1")) == D("1000")


def test_value_at_risk_validation() -> None:
    with pytest.raises(InvalidInputError, match="negative") as info:
        value_at_risk(D("-1"), D("0"))
    assert info.value.field == "unpaid_invoices"
    with pytest.raises(InvalidInputError, match="above zero"):
        value_at_risk(D("1"), D("1"), D("0"))
    with pytest.raises(InvalidInputError, match="is a float"):
        value_at_risk(1.5, D("1"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="not a number"):
        value_at_risk("lots", D("1"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="not a finite number"):
        value_at_risk(D("NaN"), D("1"))


def test_requirement_formula() -> None:
    assert credit_cover_requirement(D("10000"), D("20000"), D("0.25")) == D("5000.00")


def test_requirement_never_below_zero() -> None:
    assert credit_cover_requirement(D("1000"), D("100000"), D("0.5")) == 0


@pytest.mark.parametrize("factor", [D("-0.1"), D("1.01")])
def test_factor_must_be_a_proportion(factor: Decimal) -> None:
    with pytest.raises(InvalidInputError, match="between 0 and 1") as info:
        credit_cover_requirement(D("1"), D("1"), factor)
    assert info.value.field == "unsecured_credit_factor"


def test_requirement_rejects_negative_amounts() -> None:
    with pytest.raises(InvalidInputError) as info:
        credit_cover_requirement(D("1"), D("-5"), D("0.5"))
    assert info.value.field == "maximum_credit_value"


@given(
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.decimals(min_value=0, max_value=1, places=4),
)
def test_requirement_properties(var: Decimal, mcv: Decimal, ucf: Decimal) -> None:
    result = credit_cover_requirement(var, mcv, ucf)
    assert 0 <= result <= var
    assert result == max(D(0), var - mcv * ucf)


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2025, 3, 31), 2024),
        (date(2025, 4, 1), 2025),
        (date(2025, 12, 31), 2025),
        (date(2026, 1, 1), 2025),
    ],
)
def test_regulatory_year(day: date, year: int) -> None:
    assert regulatory_year_of(day) == year


def test_cpi_table_has_base_year_and_sourced_values() -> None:
    table = load_cpi_table()
    assert table[2014] == D("100.4")
    assert table[2023] == D("132.0")
    assert table[2025] == D("139.8")
    assert sorted(table) == list(range(2014, 2026))


def test_threshold_from_cpi() -> None:
    # 2,000 x 132.0 / 100.4 = 2,629.48 -> 2,629 (Regulatory Year 2024/25 uses October 2023).
    assert credit_cover_threshold(2024) == D("2629")
    # 2,000 x 126.2 / 100.4 = 2,513.94 -> 2,514.
    assert credit_cover_threshold(2023) == D("2514")


def test_threshold_rounds_half_up() -> None:
    cpi = {2014: D("100"), 2019: D("100.025")}  # 2,000.50 -> 2,001
    assert credit_cover_threshold(2020, cpi) == D("2001")
    cpi = {2014: D("100"), 2019: D("100.0249")}  # 2,000.498 -> 2,000
    assert credit_cover_threshold(2020, cpi) == D("2000")


def test_notified_threshold_wins() -> None:
    assert credit_cover_threshold(2040, notified=D("3100")) == D("3100")
    assert credit_cover_threshold(2024, {}, notified=D("2700")) == D("2700")


def test_missing_cpi_names_the_october_and_the_way_out() -> None:
    with pytest.raises(DomainError) as info:
        credit_cover_threshold(2040)
    message = info.value.message
    assert "October 2039" in message
    assert "2040/41" in message
    assert "DCC-notified threshold" in message
    with pytest.raises(DomainError, match="October 2014"):
        credit_cover_threshold(2020, {2019: D("108.3")})


def test_support_required_strictly_over() -> None:
    assert credit_support_required(D("2630"), D("2629"))
    assert not credit_support_required(D("2629"), D("2629"))
    assert not credit_support_required(D("0"), D("2629"))


def test_form_labels() -> None:
    assert BG.label == "Bank Guarantee"
    assert LC.label == "Letter of Credit"
    assert CASH.label == "Cash Deposit"


def test_item_validation() -> None:
    with pytest.raises(ValidationError):
        CreditSupportItem(form=CASH, amount=D("0"))
    with pytest.raises(ValidationError):
        CreditSupportItem.model_validate({"form": "cash_deposit", "amount": "1", "colour": "x"})
    item = CreditSupportItem.model_validate({"form": "bank_guarantee", "amount": "100.50"})
    assert item.amount == D("100.50") and item.required_bank_rating


def test_one_month_after() -> None:
    assert one_month_after(date(2025, 6, 15)) == date(2025, 7, 15)
    assert one_month_after(date(2025, 1, 31)) == date(2025, 2, 28)
    assert one_month_after(date(2024, 1, 31)) == date(2024, 2, 29)
    assert one_month_after(date(2025, 12, 10)) == date(2026, 1, 10)


def item(form: CreditSupportForm, amount: str, **extra: object) -> CreditSupportItem:
    return CreditSupportItem.model_validate({"form": form, "amount": amount, **extra})


def test_bank_guarantee_with_20_days_left_is_refused() -> None:
    bg = item(BG, "10000", provider="Barclays", expires_on=date(2025, 7, 5))
    result = assess_credit_support([bg], D("10000"), ON)
    assert not result.accepted
    assert result.accepted_total == 0
    assert "Bank Guarantee of GBP 10,000.00 from Barclays" in result.reasons[0]
    assert "20 days" in result.reasons[0]
    assert "at least one month left" in result.reasons[0]
    assert "GBP 10,000.00 short" in result.reasons[-1]


def test_bank_guarantee_with_exactly_a_month_left_counts() -> None:
    bg = item(BG, "10000", expires_on=date(2025, 7, 15))
    result = assess_credit_support([bg], D("10000"), ON)
    assert result.accepted and result.reasons == []


def test_open_ended_bank_guarantee_counts() -> None:
    assert assess_credit_support([item(BG, "5000")], D("5000"), ON).accepted


def test_bank_rating_required_for_guarantee_and_letter_of_credit() -> None:
    for form in (BG, LC):
        result = assess_credit_support(
            [item(form, "5000", required_bank_rating=False)], D("1000"), ON
        )
        assert not result.accepted
        assert "Required Bank Rating" in result.reasons[0]


def test_letter_of_credit_needs_no_month_margin_but_must_not_be_expired() -> None:
    soon = item(LC, "5000", expires_on=date(2025, 6, 20))
    assert assess_credit_support([soon], D("5000"), ON).accepted
    gone = item(LC, "5000", expires_on=date(2025, 6, 1))
    result = assess_credit_support([gone], D("5000"), ON)
    assert not result.accepted
    assert "expired on 2025-06-01" in result.reasons[0]


def test_cash_deposit_always_counts() -> None:
    cash = item(CASH, "500", required_bank_rating=False, expires_on=date(2000, 1, 1))
    assert assess_credit_support([cash], D("500"), ON).accepted


def test_items_add_up_and_refused_ones_are_listed() -> None:
    items = [
        item(CASH, "3000"),
        item(LC, "4000", provider="HSBC"),
        item(BG, "5000", provider="Lloyds", expires_on=date(2025, 6, 30)),
        item(BG, "1000", provider="NatWest", expires_on=date(2026, 6, 30)),
    ]
    result = assess_credit_support(items, D("8000"), ON)
    assert result.accepted
    assert result.accepted_total == D("8000")
    assert result.required == D("8000")
    assert len(result.reasons) == 1 and "Lloyds" in result.reasons[0]


def test_shortfall_reported() -> None:
    result = assess_credit_support([item(CASH, "2500.50")], D("3000"), ON)
    assert not result.accepted
    assert result.reasons == [
        "accepted Credit Support GBP 2,500.50 is GBP 499.50 short of the requirement GBP 3,000.00"
    ]


def test_nothing_required_nothing_offered() -> None:
    assert assess_credit_support([], D("0"), ON).accepted


def test_negative_requirement_refused() -> None:
    with pytest.raises(InvalidInputError, match="negative"):
        assess_credit_support([], D("-1"), ON)


def test_gbp() -> None:
    assert gbp(D("1234567.5")) == "GBP 1,234,567.50"


@pytest.mark.parametrize(
    ("regulatory_year", "threshold"),
    [
        (2015, "2000"),  # October 2014: 100.4, the base
        (2016, "1998"),  # 100.3
        (2017, "2016"),  # 101.2
        (2018, "2076"),  # 104.2
        (2019, "2125"),  # 106.7: 2,125.498
        (2020, "2157"),  # 108.3
        (2021, "2173"),  # 109.1
        (2022, "2263"),  # 113.6
        (2023, "2514"),  # 126.2
        (2024, "2629"),  # 132.0
        (2025, "2689"),  # 135.0
        (2026, "2785"),  # 139.8
    ],
)
def test_threshold_of_every_regulatory_year_with_data(regulatory_year: int, threshold: str) -> None:
    """GBP 2,000 x CPI(October before) / 100.4, worked by hand from the ONS D7BT values."""
    assert credit_cover_threshold(regulatory_year) == D(threshold)


def test_the_first_year_without_data_asks_for_the_dccs_threshold() -> None:
    with pytest.raises(DomainError) as info:
        credit_cover_threshold(2027)
    assert "no CPI for October 2026" in info.value.message
    assert "data ends at October 2025" in info.value.message
    assert info.value.field == "threshold"
