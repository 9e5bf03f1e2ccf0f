"""A brute-force reference for open booking slots, written independently of the SQL.

It knows nothing of how `private.available_slots` works: it walks the UTC timeline
minute by minute to learn what the local clock of the zone shows (zoneinfo), and
applies the rules of docs/booking.md literally:

- A practitioner's windows on a local date are the date's override windows when the
  date has overrides (an override with no window is a day off), else the weekly windows
  of its weekday; a workspace closure removes the date for everyone.
- Candidate starts are local wall-clock times on the window's grid: window start +
  k * slot interval. A local time the clock never shows (a spring-forward gap) is not
  offered; a local time the clock shows twice (a fall-back repeat) is offered once, at
  its first occurrence.
- A window bound is the first instant at which the clock shows it; a bound that falls
  in a gap is read with the UTC offset in force before the gap (RFC 5545).
- The slot [start, start + duration) lies in [window start, window end), in real time.
- Its blocked time [start - buffer before, end + buffer after) does not overlap the
  blocked time of any booking of the practitioner that is not cancelled.
- now + minimum notice <= start <= now + maximum days ahead (days of 24 hours).
- With a daily capacity, a local date that already holds that many bookings of the type
  (not cancelled) offers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)

Window = tuple[int, int]  # local minutes since midnight: [start, end), end may be 1440


@dataclass(frozen=True)
class Hours:
    """One practitioner's hours. weekly: ISO weekday (1 = Monday) -> windows."""

    weekly: dict[int, list[Window]] = field(default_factory=dict)
    overrides: dict[date, list[Window]] = field(default_factory=dict)  # [] = off all day


@dataclass(frozen=True)
class ExistingBooking:
    practitioner: str
    starts_at: datetime
    ends_at: datetime
    buffer_before: int
    buffer_after: int
    same_type: bool
    cancelled: bool = False


@dataclass(frozen=True)
class SlotRules:
    duration: int
    interval: int
    buffer_before: int
    buffer_after: int
    min_notice: int
    max_days_ahead: int
    daily_capacity: int | None


@cache
def _local_clock(zone_name: str, day: date) -> tuple[dict[datetime, datetime], dict[datetime, timedelta]]:
    """For local naive minutes around `day`: the first UTC instant the clock shows each one,
    and the UTC offset in force at that instant. Brute force over the UTC timeline."""
    zone = ZoneInfo(zone_name)
    first_seen: dict[datetime, datetime] = {}
    offset_at: dict[datetime, timedelta] = {}
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=2)
    end = instant + timedelta(days=5)
    while instant < end:
        local = instant.astimezone(zone)
        naive = local.replace(tzinfo=None)
        if naive not in first_seen:
            first_seen[naive] = instant
            offset_at[naive] = local.utcoffset() or timedelta(0)
        instant += MINUTE
    return first_seen, offset_at


def first_instant(zone_name: str, local: datetime) -> datetime | None:
    """The first instant the clock shows `local`, or None when it never does (a gap)."""
    first_seen, _ = _local_clock(zone_name, local.date())
    return first_seen.get(local)


def bound_instant(zone_name: str, local: datetime) -> datetime:
    """A window bound: its first occurrence, or in a gap the offset from before the gap."""
    found = first_instant(zone_name, local)
    if found is not None:
        return found
    first_seen, offset_at = _local_clock(zone_name, local.date())
    before = local - MINUTE
    while before not in first_seen:
        before -= MINUTE
    return (local - offset_at[before]).replace(tzinfo=UTC)


def local_date_of(zone_name: str, instant: datetime) -> date:
    return instant.astimezone(ZoneInfo(zone_name)).date()


def windows_on(hours: Hours, day: date) -> list[Window]:
    if day in hours.overrides:
        return hours.overrides[day]
    return hours.weekly.get(day.isoweekday(), [])


def open_slots(
    *,
    zone: str,
    rules: SlotRules,
    practitioners: dict[str, Hours],
    closures: set[date],
    bookings: list[ExistingBooking],
    first_day: date,
    last_day: date,
    now: datetime,
) -> dict[datetime, frozenset[str]]:
    """Every open start (UTC) in the local date range, with the practitioners free for it."""
    latest = now + timedelta(days=rules.max_days_ahead)
    earliest = now + timedelta(minutes=rules.min_notice)
    duration = timedelta(minutes=rules.duration)
    live = [b for b in bookings if not b.cancelled]
    found: dict[datetime, set[str]] = {}
    day = first_day
    while day <= last_day:
        if day in closures:
            day += timedelta(days=1)
            continue
        if rules.daily_capacity is not None:
            taken = sum(1 for b in live if b.same_type and local_date_of(zone, b.starts_at) == day)
            if taken >= rules.daily_capacity:
                day += timedelta(days=1)
                continue
        midnight = datetime(day.year, day.month, day.day)
        for name, hours in practitioners.items():
            for window_start, window_end in windows_on(hours, day):
                opens = bound_instant(zone, midnight + timedelta(minutes=window_start))
                closes = bound_instant(zone, midnight + timedelta(minutes=window_end))
                minute = window_start
                while minute < window_end:
                    start = first_instant(zone, midnight + timedelta(minutes=minute))
                    minute += rules.interval
                    if (
                        start is None
                        or start < opens
                        or start + duration > closes
                        or start < earliest
                        or start > latest
                    ):
                        continue
                    blocked_from = start - timedelta(minutes=rules.buffer_before)
                    blocked_to = start + duration + timedelta(minutes=rules.buffer_after)
                    clash = any(
                        b.practitioner == name
                        and b.starts_at - timedelta(minutes=b.buffer_before) < blocked_to
                        and blocked_from < b.ends_at + timedelta(minutes=b.buffer_after)
                        for b in live
                    )
                    if not clash:
                        found.setdefault(start, set()).add(name)
        day += timedelta(days=1)
    return {start: frozenset(names) for start, names in found.items()}
