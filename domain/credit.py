"""Credit cover: requirement, threshold and Credit Support (SEC J3, H1.10(e); guidance s.9).

Money is ``Decimal`` throughout; floats are refused because they cannot hold pence exactly.
"""

from __future__ import annotations

import calendar as _months
import csv
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import DomainError, InvalidInputError

DEFAULT_WORKING_CAPITAL_ADJUSTMENT = Decimal("1.4")
"""SECAS (2019) description of Value at Risk: a monthly invoice plus a 40% uplift (SECAS
"(e) Credit Support"). The DCC sets the real figure; pass it when known."""

THRESHOLD_BASE_GBP = Decimal("2000")
"""Credit Cover Threshold base amount (SEC Appendix A "Credit Cover Threshold")."""

THRESHOLD_BASE_CPI_YEAR = 2014
"""The threshold is indexed from CPI for October 2014 (SEC Appendix A)."""

CPI_RESOURCE = "cpi_october.csv"


def _amount(value: Decimal | int | str, field: str) -> Decimal:
    """A finite Decimal from ``value``; floats and non-numbers raise InvalidInputError."""
    if isinstance(value, float | bool):
        raise InvalidInputError(
            f"{value!r} is a {type(value).__name__}; give money as a Decimal or a string",
            field=field,
        )
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInputError(f"{value!r} is not a number", field=field) from None
    if not result.is_finite():
        raise InvalidInputError(f"{value!r} is not a finite number", field=field)
    return result


def _non_negative(value: Decimal | int | str, field: str) -> Decimal:
    result = _amount(value, field)
    if result < 0:
        raise InvalidInputError(f"{result} is negative; it must be zero or more", field=field)
    return result


def gbp(amount: Decimal) -> str:
    """Display form of a sum of money: ``GBP 12,345.67``."""
    return f"GBP {amount:,.2f}"


def value_at_risk(
    unpaid_invoices: Decimal,
    likely_costs: Decimal,
    working_capital_adjustment: Decimal = DEFAULT_WORKING_CAPITAL_ADJUSTMENT,
) -> Decimal:
    """Value at Risk = (unpaid DCC invoices + costs likely before the next invoice) x WCA.

    Source: User Entry Process Guidance v1.3 (June 2018), s.9 and SEC J3.3; the default
    adjustment of 1.4 is the SECAS 2019 description (monthly invoice + 40% uplift).
    """
    unpaid = _non_negative(unpaid_invoices, "unpaid_invoices")
    likely = _non_negative(likely_costs, "likely_costs")
    adjustment = _amount(working_capital_adjustment, "working_capital_adjustment")
    if adjustment <= 0:
        raise InvalidInputError(
            f"working capital adjustment {adjustment} must be above zero",
            field="working_capital_adjustment",
        )
    return (unpaid + likely) * adjustment


def credit_cover_requirement(
    value_at_risk: Decimal, maximum_credit_value: Decimal, unsecured_credit_factor: Decimal
) -> Decimal:
    """Credit Cover Requirement = VaR - (Maximum Credit Value x Unsecured Credit Factor), >= 0.

    Source: SEC J3.2 as quoted in the User Entry Process Guidance v1.3, s.9; never below zero.
    The factor is a proportion of the Maximum Credit Value, so it must lie in [0, 1].
    """
    var = _non_negative(value_at_risk, "value_at_risk")
    mcv = _non_negative(maximum_credit_value, "maximum_credit_value")
    factor = _amount(unsecured_credit_factor, "unsecured_credit_factor")
    if not Decimal(0) <= factor <= Decimal(1):
        raise InvalidInputError(
            f"unsecured credit factor {factor} must be between 0 and 1 (a proportion of the "
            "Maximum Credit Value)",
            field="unsecured_credit_factor",
        )
    return max(Decimal(0), var - mcv * factor)


def regulatory_year_of(d: date) -> int:
    """The calendar year in which the Regulatory Year containing ``d`` began (1 April-31 March)."""
    return d.year if d.month >= 4 else d.year - 1


def load_cpi_table() -> dict[int, Decimal]:
    """October CPI (ONS D7BT, 2015=100) by year, from ``domain/data/cpi_october.csv``.

    Lines starting with ``#`` hold the source note. Read on each call, never at import time.
    """
    text = resources.files("domain.data").joinpath(CPI_RESOURCE).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {int(row["year"]): Decimal(row["cpi_index"]) for row in rows}


def credit_cover_threshold(
    regulatory_year: int,
    cpi: Mapping[int, Decimal] | None = None,
    notified: Decimal | None = None,
) -> Decimal:
    """Credit Cover Threshold for the Regulatory Year starting 1 April ``regulatory_year``.

    GBP 2,000 x CPI(October before the year) / CPI(October 2014), rounded to the nearest pound
    (half up) - SEC Appendix A "Credit Cover Threshold". A threshold the DCC has
    notified wins when given. ``cpi`` defaults to the bundled ONS table.
    """
    if notified is not None:
        return _non_negative(notified, "notified_threshold")
    table = load_cpi_table() if cpi is None else cpi
    october = regulatory_year - 1
    missing = [y for y in (october, THRESHOLD_BASE_CPI_YEAR) if y not in table]
    if missing:
        years = " and ".join(f"October {y}" for y in missing)
        latest = max(table, default=None)
        have = f"the bundled ONS D7BT data ends at October {latest}" if latest else "no CPI data"
        raise DomainError(
            f"no CPI for {years} (ONS series D7BT, published each November), needed for the "
            f"Credit Cover Threshold of Regulatory Year "
            f"{regulatory_year}/{(regulatory_year + 1) % 100:02d}; {have}. Give the "
            "DCC-notified threshold ('threshold') instead, or add the published value to "
            "domain/data/cpi_october.csv",
            field="threshold",
        )
    ratio = _amount(table[october], "cpi") / _amount(table[THRESHOLD_BASE_CPI_YEAR], "cpi")
    return (THRESHOLD_BASE_GBP * ratio).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def credit_support_required(requirement: Decimal, threshold: Decimal) -> bool:
    """Whether Credit Support is needed: only when the requirement is over the threshold.

    Guidance s.9: "if their Credit Cover Requirement is over the Credit Cover Threshold" -
    strictly over, so a requirement equal to the threshold needs none.
    """
    return _non_negative(requirement, "requirement") > _non_negative(threshold, "threshold")


class CreditSupportForm(StrEnum):
    """The forms of Credit Support (SEC Appendix A "Credit Support"; guidance s.9)."""

    BANK_GUARANTEE = "bank_guarantee"
    LETTER_OF_CREDIT = "letter_of_credit"
    CASH_DEPOSIT = "cash_deposit"

    @property
    def label(self) -> str:
        """The form as the SEC writes it ("Bank Guarantee")."""
        return self.value.replace("_", " ").title().replace(" Of ", " of ")


class CreditSupportItem(BaseModel):
    """One instrument of Credit Support a Party offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    form: CreditSupportForm
    amount: Decimal = Field(gt=0, allow_inf_nan=False)
    provider: str | None = None
    expires_on: date | None = None
    """None: open-ended (no expiry date stated)."""
    required_bank_rating: bool = True
    """Whether the issuing bank holds the Required Bank Rating (SEC J3)."""


class CreditSupportAssessment(BaseModel):
    """The outcome of checking offered Credit Support against the requirement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: bool
    accepted_total: Decimal
    required: Decimal
    reasons: list[str]


def one_month_after(d: date) -> date:
    """The same day next calendar month, or that month's last day if it is shorter."""
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return date(year, month, min(d.day, _months.monthrange(year, month)[1]))


def _describe(item: CreditSupportItem) -> str:
    text = f"{item.form.label} of {gbp(item.amount)}"
    return f"{text} from {item.provider}" if item.provider else text


def refusal_reason(item: CreditSupportItem, assessed_on: date) -> str | None:
    """Why ``item`` does not count as Credit Support on ``assessed_on``, or None if it counts.

    SEC Appendix A: a Bank Guarantee comes from a bank with the Required Bank Rating
    and has at least one month left until it expires (an expiry exactly one calendar month
    away still counts); a Letter of Credit comes from a bank with the Required Bank Rating; a
    Cash Deposit always counts. An instrument already expired never counts.
    """
    if item.form is CreditSupportForm.CASH_DEPOSIT:
        return None
    what = _describe(item)
    if not item.required_bank_rating:
        return f"{what}: the bank does not hold the Required Bank Rating (SEC J3)"
    if item.expires_on is None:
        return None
    if item.expires_on < assessed_on:
        return f"{what}: expired on {item.expires_on.isoformat()}"
    if item.form is CreditSupportForm.BANK_GUARANTEE and item.expires_on < one_month_after(
        assessed_on
    ):
        days = (item.expires_on - assessed_on).days
        return (
            f"{what}: expires on {item.expires_on.isoformat()}, {days} days after "
            f"{assessed_on.isoformat()}; a Bank Guarantee needs at least one month left until "
            "it expires (SEC Appendix A)"
        )
    return None


def assess_credit_support(
    items: Sequence[CreditSupportItem], requirement: Decimal, assessed_on: date
) -> CreditSupportAssessment:
    """Add up the items that count and compare with ``requirement`` (guidance s.9: forms add up).

    Accepted when the accepted total is at least the requirement. ``reasons`` names each
    refused item and why, and the shortfall if any.
    """
    required = _non_negative(requirement, "requirement")
    reasons: list[str] = []
    total = Decimal(0)
    for item in items:
        reason = refusal_reason(item, assessed_on)
        if reason is None:
            total += item.amount
        else:
            reasons.append(reason)
    accepted = total >= required
    if not accepted:
        reasons.append(
            f"accepted Credit Support {gbp(total)} is {gbp(required - total)} short of the "
            f"requirement {gbp(required)}"
        )
    return CreditSupportAssessment(
        accepted=accepted, accepted_total=total, required=required, reasons=reasons
    )
