-- Open slots: which start times a booking type offers, DST-correct, and get_available_slots (anon).
--
-- The rules (docs/booking.md, and tests/slot_reference.py implements them on its own):
-- - A practitioner's windows on a local date are that date's override windows when the
--   date has overrides (an override without times is a day off), else the weekly rules of
--   its ISO weekday; a workspace closure removes the date for everyone.
-- - Candidate starts are local wall-clock times on the window's grid: window start +
--   k * slot interval. A local time the clock skips (spring forward) is never offered; a
--   local time the clock shows twice (fall back) is offered once, at its first occurrence.
-- - A window bound is the first instant the clock shows it; a bound inside a gap is read
--   with the offset in force before the gap (RFC 5545, as PostgreSQL does).
-- - [start, start + duration) lies in [window start, window end) in real time; the
--   blocked time [start - buffer before, end + buffer after) overlaps no live booking of
--   the practitioner; start >= now + minimum notice; start <= now + maximum days ahead
--   (in 24-hour days); with a daily capacity, a local date that holds that many live
--   bookings of the type offers nothing.

insert into private.error_codes (code, http_status, description) values
('invalid_range', 400, 'A date range needs a first and a last date, the first not after the last.'),
('range_too_long', 400, 'A slot search covers at most 62 days.');

-- Local wall-clock time -> instant --------------------------------------------------

-- The first instant at which the zone's clock shows p_local, or null when it never does
-- (a spring-forward gap). PostgreSQL reads an ambiguous local time as its later
-- occurrence; the earlier one is the same wall time with the offset in force two hours
-- before (longer than any DST shift), when that lands on the same wall time.
create function private.first_instant(p_local timestamp, p_timezone text)
returns timestamptz
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_later timestamptz := p_local at time zone p_timezone;
    v_before timestamptz;
    v_earlier timestamptz;
begin
    if v_later is null or (v_later at time zone p_timezone) <> p_local then
        return null;
    end if;
    v_before := v_later - interval '2 hours';
    v_earlier := (p_local - ((v_before at time zone p_timezone) - (v_before at time zone 'UTC'))) at time zone 'UTC';
    if v_earlier < v_later and (v_earlier at time zone p_timezone) = p_local then
        return v_earlier;
    end if;
    return v_later;
end
$$;

comment on function private.first_instant(timestamp, text) is
'First instant the zone''s clock shows the local time; null when a DST gap skips it.';

-- A window bound: its first occurrence, or inside a gap the offset from before the gap.
create function private.window_bound(p_local timestamp, p_timezone text)
returns timestamptz
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
begin
    return coalesce(private.first_instant(p_local, p_timezone), p_local at time zone p_timezone);
end
$$;

comment on function private.window_bound(timestamp, text) is
'Instant of a window''s local start or end: first occurrence; in a DST gap, the offset from before the gap.';

-- Whether a DST change (or any offset change) comes within three hours of the local
-- date: only such dates need the careful conversions above.
create function private.is_irregular_day(p_date date, p_timezone text)
returns boolean
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_before_day timestamptz := (p_date::timestamp at time zone p_timezone) - interval '3 hours';
    v_after_day timestamptz := ((p_date + 1)::timestamp at time zone p_timezone) + interval '3 hours';
begin
    return (v_before_day at time zone p_timezone) - (v_before_day at time zone 'UTC')
    <> (v_after_day at time zone p_timezone) - (v_after_day at time zone 'UTC');
end
$$;

comment on function private.is_irregular_day(date, text) is
'Whether the zone''s UTC offset changes within three hours of the local date (a DST change day).';

revoke execute on function
private.first_instant(timestamp, text),
private.window_bound(timestamp, text),
private.is_irregular_day(date, text)
from public;
grant execute on function
private.first_instant(timestamp, text),
private.window_bound(timestamp, text),
private.is_irregular_day(date, text)
to authenticated, service_role;

-- Open slots ----------------------------------------------------------------------------

create function private.available_slots(
    p_workspace_id uuid,
    p_booking_type_id uuid,
    p_from date,
    p_to date,
    p_practitioner_id uuid,
    p_now timestamptz
)
returns table (starts_at timestamptz, ends_at timestamptz, practitioner_ids uuid[])
language plpgsql
stable
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_timezone text;
    v_type public.booking_types;
    v_duration interval;
    v_earliest timestamptz;
    v_latest timestamptz;
    v_first date;
    v_last date;
    v_scope tstzrange;
begin
    select w.timezone into v_timezone from public.workspaces as w where w.id = p_workspace_id;
    select t.* into v_type from public.booking_types as t
    where t.id = p_booking_type_id and t.workspace_id = p_workspace_id;
    if v_timezone is null or v_type.id is null or p_from is null or p_to is null then
        return;
    end if;
    v_duration := v_type.duration_minutes * interval '1 minute';
    v_earliest := p_now + v_type.min_notice_minutes * interval '1 minute';
    v_latest := p_now + v_type.max_days_ahead * interval '1440 minutes';
    v_first := greatest(p_from, (v_earliest at time zone v_timezone)::date);
    v_last := least(p_to, (v_latest at time zone v_timezone)::date);
    if v_first > v_last then
        return;
    end if;
    v_scope := pg_catalog.tstzrange(
        (v_first::timestamp at time zone v_timezone) - interval '1 day',
        ((v_last + 1)::timestamp at time zone v_timezone) + interval '1 day'
    );

    return query
    with
    days as (
        select
            d::date as local_date,
            private.is_irregular_day(d::date, v_timezone) as irregular
        from pg_catalog.generate_series(v_first::timestamp, v_last::timestamp, interval '1 day') as d
        where not exists (
            select 1 from public.workspace_closures as c
            where c.workspace_id = p_workspace_id and c.closed_on = d::date
        )
    ),
    performers as (
        select p.id
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where
            btp.booking_type_id = v_type.id
            and p.workspace_id = p_workspace_id
            and p.active
            and (p_practitioner_id is null or p.id = p_practitioner_id)
    ),
    local_windows as (
        select pf.id as practitioner_id, days.local_date, days.irregular, o.start_time, o.end_time
        from performers as pf
        cross join days
        inner join public.availability_overrides as o
            on pf.id = o.practitioner_id and days.local_date = o.override_date
        where o.start_time is not null
        union all
        select pf.id as practitioner_id, days.local_date, days.irregular, r.start_time, r.end_time
        from performers as pf
        cross join days
        inner join public.availability_rules as r
            on pf.id = r.practitioner_id and r.weekday = extract(isodow from days.local_date)
        where not exists (
            select 1 from public.availability_overrides as o
            where o.practitioner_id = pf.id and o.override_date = days.local_date
        )
    ),
    windows as (
        select
            lw.practitioner_id,
            lw.local_date,
            lw.irregular,
            lw.local_date + lw.start_time as local_start,
            lw.local_date + lw.end_time as local_end,
            case
                when lw.irregular then private.window_bound(lw.local_date + lw.start_time, v_timezone)
                else (lw.local_date + lw.start_time) at time zone v_timezone
            end as opens,
            case
                when lw.irregular then private.window_bound(lw.local_date + lw.end_time, v_timezone)
                else (lw.local_date + lw.end_time) at time zone v_timezone
            end as closes
        from local_windows as lw
    ),
    -- On a regular day the offset is the same all day: step in real time from the
    -- window's opening instant. On a DST change day, step on the local grid and convert
    -- each local time (skipped ones become null, repeated ones their first occurrence).
    candidates as (
        select w.practitioner_id, w.local_date, w.opens, w.closes, g.slot_start
        from windows as w
        cross join lateral pg_catalog.generate_series(
            w.opens, w.closes - v_duration, v_type.slot_interval_minutes * interval '1 minute'
        ) as g (slot_start)
        where not w.irregular
        union all
        select
            w.practitioner_id,
            w.local_date,
            w.opens,
            w.closes,
            private.first_instant(g.local_slot, v_timezone) as slot_start
        from windows as w
        cross join lateral pg_catalog.generate_series(
            w.local_start, w.local_end, v_type.slot_interval_minutes * interval '1 minute'
        ) as g (local_slot)
        where w.irregular and g.local_slot < w.local_end
    ),
    busy as (
        select b.practitioner_id, pg_catalog.range_agg(b.blocked_period) as periods
        from public.bookings as b
        where
            b.practitioner_id in (select pf.id from performers as pf)
            and b.status <> 'cancelled'
            and b.starts_at > lower(v_scope) - interval '20 hours'
            and b.starts_at < upper(v_scope) + interval '4 hours'
            and (b.blocked_period && v_scope) is true
        group by b.practitioner_id
    ),
    full_days as (
        select (b.starts_at at time zone v_timezone)::date as local_date
        from public.bookings as b
        where
            v_type.daily_capacity is not null
            and b.booking_type_id = v_type.id
            and b.status <> 'cancelled'
            and b.starts_at >= lower(v_scope)
            and b.starts_at < upper(v_scope)
        group by 1
        having count(*) >= v_type.daily_capacity
    )
    select c.slot_start, c.slot_start + v_duration, pg_catalog.array_agg(c.practitioner_id order by c.practitioner_id)
    from candidates as c
    left join busy on c.practitioner_id = busy.practitioner_id
    where
        c.slot_start is not null
        and c.slot_start >= c.opens
        and c.slot_start + v_duration <= c.closes
        and c.slot_start >= v_earliest
        and c.slot_start <= v_latest
        and c.local_date not in (select fd.local_date from full_days as fd)
        and (
            busy.periods is null
            or not busy.periods && pg_catalog.tstzrange(
                c.slot_start - v_type.buffer_before_minutes * interval '1 minute',
                c.slot_start + v_duration + v_type.buffer_after_minutes * interval '1 minute',
                '[)'
            )
        )
    group by c.slot_start
    order by c.slot_start;
end
$$;

comment on function private.available_slots(uuid, uuid, date, date, uuid, timestamptz) is
'Open starts of a booking type for local dates p_from..p_to as seen at p_now, with the practitioners free '
'for each (optionally one practitioner). The rules are in docs/booking.md.';

revoke execute on function private.available_slots(uuid, uuid, date, date, uuid, timestamptz) from public;
grant execute on function private.available_slots(uuid, uuid, date, date, uuid, timestamptz) to service_role;

-- Resolves what a public booking page names: an active workspace by slug, an active
-- booking type of it, and optionally one of the practitioners who perform it.
-- Raises one not_found for all of them, so drafts and other tenants do not leak.
create function private.public_booking_target(
    p_workspace_slug text,
    p_booking_type_id uuid,
    p_practitioner_id uuid,
    out workspace_id uuid,
    out timezone text,
    out max_active_bookings_per_email integer
)
language plpgsql
stable
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
begin
    select w.id, w.timezone, w.max_active_bookings_per_email
    into workspace_id, timezone, max_active_bookings_per_email
    from public.workspaces as w
    where
        char_length(p_workspace_slug) <= 100
        and w.slug = pg_catalog.lower(pg_catalog.btrim(p_workspace_slug))
        and w.status = 'active';
    if workspace_id is null then
        perform private.raise_error('not_found', 'No active workspace has this address.');
    end if;
    if not exists (
        select 1 from public.booking_types as t
        where t.id = p_booking_type_id and t.workspace_id = public_booking_target.workspace_id and t.active
    ) then
        perform private.raise_error('not_found', 'This workspace offers no such booking type.');
    end if;
    if p_practitioner_id is not null and not exists (
        select 1
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where btp.booking_type_id = p_booking_type_id and p.id = p_practitioner_id and p.active
    ) then
        perform private.raise_error('not_found', 'Nobody by this id performs this booking type.');
    end if;
end
$$;

comment on function private.public_booking_target(text, uuid, uuid) is
'The active workspace and active booking type a public request names, or not_found.';

revoke execute on function private.public_booking_target(text, uuid, uuid) from public;
grant execute on function private.public_booking_target(text, uuid, uuid) to service_role;

create function public.get_available_slots(
    p_workspace_slug text,
    p_booking_type_id uuid,
    p_from date,
    p_to date,
    p_staff_id uuid default null
)
returns table (starts_at timestamptz, ends_at timestamptz, practitioner_ids uuid[])
language plpgsql
stable
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_workspace_id uuid;
begin
    select t.workspace_id into v_workspace_id
    from private.public_booking_target(p_workspace_slug, p_booking_type_id, p_staff_id) as t;
    if p_from is null or p_to is null or p_from > p_to then
        perform private.raise_error('invalid_range');
    end if;
    if p_to - p_from >= 62 then
        perform private.raise_error('range_too_long');
    end if;
    return query
    select s.starts_at, s.ends_at, s.practitioner_ids
    from private.available_slots(
        v_workspace_id, p_booking_type_id, p_from, p_to, p_staff_id, pg_catalog.now()
    ) as s;
end
$$;

comment on function public.get_available_slots(text, uuid, date, date, uuid) is
'Public booking page: open start times of an active workspace''s booking type for the local dates p_from..p_to '
'(at most 62 days), with the ids of the practitioners free for each; p_staff_id narrows to one practitioner. '
'Errors: not_found, invalid_range, range_too_long.';

revoke execute on function public.get_available_slots(text, uuid, date, date, uuid) from public;
grant execute on function public.get_available_slots(text, uuid, date, date, uuid)
to anon, authenticated, service_role;
