"""Build Working-Day calendar snapshots from the ``holidays`` package (SEC "Working Day").

The only domain module that imports ``holidays``: everything else takes the snapshot as data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import holidays as holidays_pkg

from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError

Region = Literal["england-and-wales", "scotland", "northern-ireland", "great-britain"]
"""A Working-Day calendar region a case may run under (the keys of :data:`REGIONS`)."""

REGIONS: dict[str, tuple[str, str]] = {
    "england-and-wales": ("GB", "ENG"),
    "scotland": ("GB", "SCT"),
    "northern-ireland": ("GB", "NIR"),
    "great-britain": ("GB", "ENG+SCT"),
}
"""Region setting -> (country, subdivision) in ``holidays``. The SEC's Working Day refers to
bank holidays in England and Wales (Banking and Financial Dealings Act 1971); the others are
there because the region is a setting (the SEC definition is not verified here). ``holidays``
gives Wales the same bank holidays as England, so England's subdivision stands for both.
``great-britain`` joins England and Wales with Scotland ("ENG+SCT"): the conservative reading
of "Working Day" for operators who count neither region's bank holidays."""

DEFAULT_REGION = "england-and-wales"
DEFAULT_FIRST_YEAR = 2016
DEFAULT_LAST_YEAR = 2040


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian computus (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    r = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * r) // 451
    month, day = divmod(h + r - 7 * m + 114, 31)
    return date(year, month, day + 1)


def build_calendar(
    region: str = DEFAULT_REGION,
    first_year: int = DEFAULT_FIRST_YEAR,
    last_year: int = DEFAULT_LAST_YEAR,
) -> WorkingDayCalendar:
    """A Working-Day calendar for ``region`` over ``first_year``..``last_year``.

    Non-working days: weekends (implicit), Christmas Day and Good Friday (named in the Working
    Day definition, so always added, whatever the package lists), and the region's public
    holidays from ``holidays`` - including one-off days (jubilees, state funerals) and
    substitute days. Holidays of other regions (Scotland's 2 January, St Andrew's Day) are
    Working Days for England and Wales.
    """
    if region not in REGIONS:
        raise InvalidInputError(
            f"unknown Working-Day region {region!r}; known regions: {', '.join(REGIONS)}",
            field="region",
        )
    if last_year < first_year:
        raise InvalidInputError(
            f"last_year {last_year} is before first_year {first_year}", field="last_year"
        )
    country, subdivisions = REGIONS[region]
    years = range(first_year, last_year + 1)
    days: set[date] = set()
    # great-britain, the conservative reading: a day off in England and Wales or in Scotland
    for subdiv in subdivisions.split("+"):
        listed = holidays_pkg.country_holidays(country, subdiv=subdiv, years=years)
        days |= {d for d in listed if first_year <= d.year <= last_year}
    for year in years:
        days.add(date(year, 12, 25))
        days.add(easter_sunday(year) - timedelta(days=2))
    weekdays = sorted(d for d in days if d.weekday() < 5)
    return WorkingDayCalendar(
        region=region, first_year=first_year, last_year=last_year, holidays=weekdays
    )
