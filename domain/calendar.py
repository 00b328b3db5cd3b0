"""Working-Day arithmetic over a calendar snapshot (SEC Appendix A "Working Day").

Pure: the holiday dates come in as data (``domain.calendar_data`` builds them), so a case can
record the snapshot it ran under and replay deterministically.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from domain.errors import CalendarRangeError, InvalidInputError

_SATURDAY = 5


class WorkingDayCalendar(BaseModel):
    """Working Days for one region and a span of whole years.

    A Working Day is any day other than Saturday, Sunday, Christmas Day, Good Friday or a bank
    holiday in the region (SEC Appendix A "Working Day"). ``holidays`` lists
    the non-working weekdays (and may list weekend holidays too, which change nothing) within
    ``first_year``..``last_year``; any date outside those years raises CalendarRangeError.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str
    first_year: int
    last_year: int
    holidays: list[date]

    # Every Working Day in range, ascending: each question is then one or two bisects.
    _working: tuple[date, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check_span(self) -> WorkingDayCalendar:
        if self.first_year < 1 or self.last_year >= 9999:
            raise ValueError("calendar years must be between 1 and 9998")
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        outside = [d for d in self.holidays if not self.first_year <= d.year <= self.last_year]
        if outside:
            raise ValueError(
                f"holiday {outside[0].isoformat()} is outside {self.first_year}-{self.last_year}"
            )
        return self

    def model_post_init(self, context: object, /) -> None:
        """Precompute the sorted tuple of Working Days the queries bisect."""
        off = frozenset(self.holidays)
        day = date(self.first_year, 1, 1)
        end = date(self.last_year, 12, 31)
        working: list[date] = []
        one = timedelta(days=1)
        while day <= end:
            if day.weekday() < _SATURDAY and day not in off:
                working.append(day)
            day += one
        self._working = tuple(working)

    def corrected(self, add: list[date], remove: list[date]) -> WorkingDayCalendar:
        """The calendar with non-working days added and removed (a calendar correction)."""
        days = (set(self.holidays) | set(add)) - set(remove)
        # Built anew, not model_copy: the lookup table is precomputed at construction.
        return WorkingDayCalendar(
            region=self.region,
            first_year=self.first_year,
            last_year=self.last_year,
            holidays=sorted(d for d in days if self.covers(d)),
        )

    def extended(self, later: WorkingDayCalendar) -> WorkingDayCalendar:
        """The snapshot grown with the years after it; its own (possibly corrected) days kept."""
        added = [d for d in later.holidays if d.year > self.last_year]
        return WorkingDayCalendar(
            region=self.region,
            first_year=self.first_year,
            last_year=max(self.last_year, later.last_year),
            holidays=[*self.holidays, *added],
        )

    @property
    def first_day(self) -> date:
        """1 January of ``first_year``."""
        return date(self.first_year, 1, 1)

    @property
    def last_day(self) -> date:
        """31 December of ``last_year``."""
        return date(self.last_year, 12, 31)

    def covers(self, d: date) -> bool:
        """Whether ``d`` falls within the years this snapshot covers."""
        return self.first_year <= d.year <= self.last_year

    def _span(self) -> str:
        return f"{self.first_year}-{self.last_year}"

    def _require(self, d: date) -> None:
        if not self.covers(d):
            raise CalendarRangeError(
                f"the {self.region} calendar covers {self._span()}; {d.isoformat()} is "
                "outside; refresh the calendar"
            )

    def _beyond(self, start: date, n: int) -> CalendarRangeError:
        return CalendarRangeError(
            f"the {self.region} calendar covers {self._span()}; {n} Working Days after "
            f"{start.isoformat()} falls after {self.last_day.isoformat()}; refresh the calendar"
        )

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a Working Day."""
        self._require(d)
        i = bisect_left(self._working, d)
        return i < len(self._working) and self._working[i] == d

    def next_working_day_on_or_after(self, d: date) -> date:
        """``d`` if it is a Working Day, else the first Working Day after it."""
        return self.add_working_days(d, 0)

    def previous_working_day_on_or_before(self, d: date) -> date:
        """``d`` if it is a Working Day, else the last Working Day before it."""
        self._require(d)
        i = bisect_right(self._working, d)
        if i == 0:
            raise CalendarRangeError(
                f"the {self.region} calendar covers {self._span()}; no Working Day on or "
                f"before {d.isoformat()} within it; refresh the calendar"
            )
        return self._working[i - 1]

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th Working Day after ``d`` (n >= 0).

        ``n`` >= 1 counts Working Days strictly after ``d``, whether or not ``d`` is one, as
        "within 2 WD of receipt" is read: Thu 24 Dec 2020 + 1 = Tue 29 Dec 2020. ``n`` == 0
        returns ``d`` if it is a Working Day, else the next one (the day a notice given on a
        non-working day takes effect). For n >= 1, ``working_days_between(d, result) == n``.
        """
        if n < 0:
            raise InvalidInputError(
                f"cannot add {n} Working Days; the count must be zero or more", field="n"
            )
        self._require(d)
        i = bisect_left(self._working, d) if n == 0 else bisect_right(self._working, d) + n - 1
        if i >= len(self._working):
            raise self._beyond(d, n)
        return self._working[i]

    def working_days_between(self, start: date, end: date) -> int:
        """Working Days in (start, end]; negative (minus those in (end, start]) if end < start."""
        self._require(start)
        self._require(end)
        return bisect_right(self._working, end) - bisect_right(self._working, start)
