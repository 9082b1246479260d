"""The period a KPI question covers: a quarter (`2026Q3`), a month (`2026-07`) or a custom
range of dates, each read in the server's time zone (settings.TIME_ZONE). Pure: no queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

QUARTER = re.compile(r"(\d{4})[Qq]([1-4])")
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# Custom ranges longer than this are refused: a question over decades is a mistake.
MAX_DAYS = 3660


def expected_forms() -> str:
    return _(
        "expected a quarter such as 2026Q3, a month such as 2026-07, or 'from' and 'to' dates "
        "such as 2026-07-01"
    )


@dataclass(frozen=True)
class Period:
    """A half-open span of time [start, end) with the key it was asked by."""

    key: str  # "2026Q3", "2026-07" or "2026-07-01..2026-07-15"
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> date:
        return timezone.localtime(self.end).date() - timedelta(days=1)

    def query(self) -> dict[str, str]:
        """The period as the query parameters that ask for it again."""
        if ".." in self.key:
            return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        return {"period": self.key}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_default_timezone())


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * (number - 1) + 1, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(f"{year}Q{number}", _midnight(first), _midnight(after))


def month(year: int, number: int) -> Period:
    after = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return Period(f"{year}-{number:02}", _midnight(date(year, number, 1)), _midnight(after))


def custom(first: date, last: date) -> Period:
    """The days from `first` to `last`, both included."""
    return Period(
        f"{first.isoformat()}..{last.isoformat()}",
        _midnight(first),
        _midnight(last + timedelta(days=1)),
    )


def current_quarter(now: datetime | None = None) -> Period:
    local = timezone.localtime(now or timezone.now())
    return quarter(local.year, (local.month - 1) // 3 + 1)


def previous_quarters(period: Period, count: int) -> list[Period]:
    """`count` quarters ending with the one `period` starts in, oldest first."""
    local = timezone.localtime(period.start)
    index = local.year * 4 + (local.month - 1) // 3
    return [quarter(i // 4, i % 4 + 1) for i in range(index - count + 1, index + 1)]


def parse(text: str | None, first: date | None = None, last: date | None = None) -> Period:
    """The period named by `text`, or the custom range `first`..`last`. ValueError with a
    message naming the expected forms when it is none of them (the caller names the field)."""
    if text and (first or last):
        raise ValueError(_("give either a period or 'from' and 'to' dates, not both"))
    if text:
        text = text.strip()
        if found := QUARTER.fullmatch(text):
            year = int(found.group(1))
            if 1900 <= year <= 9000:
                return quarter(year, int(found.group(2)))
        if found := MONTH.fullmatch(text):
            year = int(found.group(1))
            if 1900 <= year <= 9000:
                return month(year, int(found.group(2)))
        raise ValueError(
            _("'%(value)s' is not a period: %(forms)s")
            % {
                "value": text[:40],
                "forms": expected_forms(),
            }
        )
    if first or last:
        if not (first and last):
            raise ValueError(_("a custom period needs both 'from' and 'to' dates"))
        if last < first:
            raise ValueError(_("'to' is before 'from'"))
        if (last - first).days > MAX_DAYS:
            raise ValueError(_("a custom period may span at most %d days") % MAX_DAYS)
        return custom(first, last)
    return current_quarter()
