-- book_appointment (anon): one transaction that validates, picks a practitioner, reuses
-- or creates the contact and inserts the booking. The exclusion constraint on bookings
-- settles races: a request that loses a practitioner to a concurrent booking tries the
-- next free one, and is refused (slot_unavailable) only when nobody is left.

insert into private.error_codes (code, http_status, description) values
(
    'outside_availability',
    400,
    'The start is not one the booking type offers: not on its grid, or outside every practitioner''s hours.'
),
('too_soon', 400, 'The start is closer than the booking type''s minimum notice.'),
('too_far_ahead', 400, 'The start is further ahead than the booking type allows.'),
('slot_unavailable', 409, 'Nobody who performs the booking type is free at that time any more.'),
(
    'booking_limit_reached',
    409,
    'This email address already holds as many upcoming bookings as the workspace allows.'
);

-- Practitioners whose hours offer p_starts_at for the booking type (grid, window, DST
-- rules of available_slots), bookings aside; optionally only p_practitioner_id.
create function private.practitioners_in_hours(
    p_workspace_id uuid,
    p_timezone text,
    p_booking_type public.booking_types,
    p_starts_at timestamptz,
    p_practitioner_id uuid
)
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_local timestamp := p_starts_at at time zone p_timezone;
    v_date date := (p_starts_at at time zone p_timezone)::date;
    v_irregular boolean := private.is_irregular_day((p_starts_at at time zone p_timezone)::date, p_timezone);
    v_result uuid [];
begin
    -- The second occurrence of a repeated local time is never offered.
    if v_irregular and private.first_instant(v_local, p_timezone) is distinct from p_starts_at then
        return '{}'::uuid [];
    end if;
    if exists (
        select 1 from public.workspace_closures as c
        where c.workspace_id = p_workspace_id and c.closed_on = v_date
    ) then
        return '{}'::uuid [];
    end if;
    with
    performers as (
        select p.id
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where
            btp.booking_type_id = p_booking_type.id
            and p.workspace_id = p_workspace_id
            and p.active
            and (p_practitioner_id is null or p.id = p_practitioner_id)
    ),
    local_windows as (
        select pf.id as practitioner_id, o.start_time, o.end_time
        from performers as pf
        inner join public.availability_overrides as o on pf.id = o.practitioner_id
        where o.override_date = v_date and o.start_time is not null
        union all
        select pf.id as practitioner_id, r.start_time, r.end_time
        from performers as pf
        inner join public.availability_rules as r on pf.id = r.practitioner_id
        where
            r.weekday = extract(isodow from v_date)
            and not exists (
                select 1 from public.availability_overrides as o
                where o.practitioner_id = pf.id and o.override_date = v_date
            )
    )
    select coalesce(pg_catalog.array_agg(distinct lw.practitioner_id), '{}') into v_result
    from local_windows as lw
    where
        v_local >= v_date + lw.start_time
        and v_local < v_date + lw.end_time
        and extract(epoch from v_local - (v_date + lw.start_time)) % (p_booking_type.slot_interval_minutes * 60) = 0
        and p_starts_at >= case
            when v_irregular then private.window_bound(v_date + lw.start_time, p_timezone)
            else (v_date + lw.start_time) at time zone p_timezone
        end
        and p_starts_at + p_booking_type.duration_minutes * interval '1 minute' <= case
            when v_irregular then private.window_bound(v_date + lw.end_time, p_timezone)
            else (v_date + lw.end_time) at time zone p_timezone
        end;
    return v_result;
end
$$;

comment on function private.practitioners_in_hours(uuid, text, public.booking_types, timestamptz, uuid) is
'Practitioners whose hours offer this start for the booking type (grid, window, closures, DST), bookings aside.';

-- The practitioners who can take a booking of the type at p_starts_at, in the order to
-- try them: p_preferred_id first when free, then the fair rule (fewest live bookings
-- that local day, then the lowest id). Raises too_soon, too_far_ahead,
-- outside_availability or slot_unavailable. p_moving_booking_id is the booking being
-- rescheduled (it does not count against itself). Volatile: it takes the daily
-- capacity lock and must see what committed before it got it.
create function private.bookable_practitioners(
    p_workspace_id uuid,
    p_timezone text,
    p_booking_type public.booking_types,
    p_starts_at timestamptz,
    p_practitioner_id uuid,
    p_preferred_id uuid,
    p_moving_booking_id uuid
)
returns uuid[]
language plpgsql
volatile
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_date date;
    v_day tstzrange;
    v_blocked tstzrange;
    v_in_hours uuid [];
    v_result uuid [];
begin
    if p_starts_at is null then
        perform private.raise_error('outside_availability', 'A start time is required.');
    end if;
    if p_starts_at < pg_catalog.now() + p_booking_type.min_notice_minutes * interval '1 minute' then
        perform private.raise_error('too_soon');
    end if;
    if p_starts_at > pg_catalog.now() + p_booking_type.max_days_ahead * interval '1440 minutes' then
        perform private.raise_error('too_far_ahead');
    end if;
    v_in_hours := private.practitioners_in_hours(
        p_workspace_id, p_timezone, p_booking_type, p_starts_at, p_practitioner_id
    );
    if cardinality(v_in_hours) = 0 then
        perform private.raise_error('outside_availability');
    end if;
    v_date := (p_starts_at at time zone p_timezone)::date;
    v_day := pg_catalog.tstzrange(
        private.window_bound(v_date::timestamp, p_timezone), private.window_bound((v_date + 1)::timestamp, p_timezone)
    );
    if p_booking_type.daily_capacity is not null then
        -- One booking of the type per local day at a time, so the count below stays true.
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended(p_booking_type.id::text || '/' || v_date::text, 0)
        );
        if (
            select count(*) from public.bookings as b
            where
                b.booking_type_id = p_booking_type.id
                and b.status <> 'cancelled'
                and b.starts_at >= lower(v_day)
                and b.starts_at < upper(v_day)
                and b.id is distinct from p_moving_booking_id
        ) >= p_booking_type.daily_capacity then
            perform private.raise_error('slot_unavailable', 'The booking type is fully booked that day.');
        end if;
    end if;
    v_blocked := private.blocked_period(
        p_starts_at,
        p_starts_at + p_booking_type.duration_minutes * interval '1 minute',
        p_booking_type.buffer_before_minutes,
        p_booking_type.buffer_after_minutes
    );
    select pg_catalog.array_agg(c.id order by c.id is distinct from p_preferred_id, c.taken, c.id) into v_result
    from (
        select
            candidate.id,
            (
                select count(*) from public.bookings as b
                where
                    b.practitioner_id = candidate.id
                    and b.status <> 'cancelled'
                    and b.starts_at >= lower(v_day)
                    and b.starts_at < upper(v_day)
                    and b.id is distinct from p_moving_booking_id
            ) as taken
        from pg_catalog.unnest(v_in_hours) as candidate (id)
        where not exists (
            select 1 from public.bookings as b
            where
                b.practitioner_id = candidate.id
                and b.status <> 'cancelled'
                -- Bounds on starts_at (a booking is at most 720 minutes plus two 240-minute
                -- buffers) let the btree (practitioner_id, starts_at) find the few rows; the
                -- overlap test is a filter on them (`is true` keeps the planner off the
                -- slower gist probe of bookings_no_overlap).
                and b.starts_at > lower(v_blocked) - interval '20 hours'
                and b.starts_at < upper(v_blocked) + interval '4 hours'
                and (b.blocked_period && v_blocked) is true
                and b.id is distinct from p_moving_booking_id
        )
    ) as c;
    if v_result is null then
        perform private.raise_error('slot_unavailable');
    end if;
    return v_result;
end
$$;

comment on function private.bookable_practitioners(
    uuid, text, public.booking_types, timestamptz, uuid, uuid, uuid
) is
'Free practitioners for a start, in the order to try them (preferred, then fewest bookings that day, then id). '
'Errors: outside_availability, too_soon, too_far_ahead, slot_unavailable.';

revoke execute on function
private.practitioners_in_hours(uuid, text, public.booking_types, timestamptz, uuid),
private.bookable_practitioners(uuid, text, public.booking_types, timestamptz, uuid, uuid, uuid)
from public;
grant execute on function
private.practitioners_in_hours(uuid, text, public.booking_types, timestamptz, uuid),
private.bookable_practitioners(uuid, text, public.booking_types, timestamptz, uuid, uuid, uuid)
to service_role;

-- One attempt to insert a booking for one practitioner; null booking_id when an
-- overlapping booking committed first. Without p_wait it gives up at once (skipped) when
-- another transaction is booking this practitioner right now. The function body is a
-- savepoint: when the insert fails, the practitioner's lock taken here (and by the
-- bookings_lock_practitioners trigger) is released before the caller tries the next one.
create function private.try_booking(
    p_workspace_id uuid,
    p_booking_type public.booking_types,
    p_practitioner_id uuid,
    p_contact_id uuid,
    p_starts_at timestamptz,
    p_notes text,
    p_manage_token_hash bytea,
    p_wait boolean,
    out booking_id uuid,
    out skipped boolean
)
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
begin
    skipped := false;
    if not p_wait then
        perform 1 from public.practitioners as p where p.id = p_practitioner_id for no key update skip locked;
        if not found then
            skipped := true;
            return;
        end if;
    end if;
    insert into public.bookings as b (
        workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at,
        buffer_before_minutes, buffer_after_minutes, notes, manage_token_hash, created_by
    )
    values (
        p_workspace_id, p_booking_type.id, p_practitioner_id, p_contact_id, p_starts_at,
        p_starts_at + p_booking_type.duration_minutes * interval '1 minute',
        p_booking_type.buffer_before_minutes, p_booking_type.buffer_after_minutes, p_notes,
        p_manage_token_hash, (select auth.uid())
    )
    returning b.id into booking_id;
exception when exclusion_violation then
    booking_id := null;
end
$$;

comment on function private.try_booking(
    uuid, public.booking_types, uuid, uuid, timestamptz, text, bytea, boolean
) is
'Inserts a booking for one practitioner, or returns no id when the time is taken (or, without p_wait, when '
'the practitioner is being booked concurrently: skipped).';

revoke execute on function private.try_booking(
    uuid, public.booking_types, uuid, uuid, timestamptz, text, bytea, boolean
) from public;
grant execute on function private.try_booking(
    uuid, public.booking_types, uuid, uuid, timestamptz, text, bytea, boolean
) to service_role;

create function public.book_appointment(
    p_workspace_slug text,
    p_booking_type_id uuid,
    p_starts_at timestamptz,
    p_name text,
    p_email text,
    p_phone text default null,
    p_notes text default null,
    p_staff_id uuid default null,
    out booking_id uuid,
    out starts_at timestamptz,
    out ends_at timestamptz,
    out practitioner_id uuid,
    out practitioner_name text,
    out manage_token text
)
language plpgsql
volatile
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_workspace_id uuid;
    v_timezone text;
    v_limit integer;
    v_type public.booking_types;
    v_name text;
    v_email text;
    v_phone text;
    v_notes text;
    v_candidates uuid [];
    v_candidate uuid;
    v_contact_id uuid;
    v_new_contact boolean;
    v_waiting uuid [] := '{}'::uuid [];
    v_skipped boolean;
begin
    select t.workspace_id, t.timezone, t.max_active_bookings_per_email
    into v_workspace_id, v_timezone, v_limit
    from private.public_booking_target(p_workspace_slug, p_booking_type_id, p_staff_id) as t;
    select bt.* into v_type from public.booking_types as bt where bt.id = p_booking_type_id;

    -- Length first, so an oversized field costs nothing more (PostgREST does not cap a body).
    if char_length(p_name) > 1000 then
        perform private.raise_error('invalid_name');
    end if;
    if char_length(p_email) > 1000 then
        perform private.raise_error('invalid_email');
    end if;
    if char_length(p_notes) > 10000 then
        perform private.raise_error('invalid_notes');
    end if;
    v_name := private.clean_text(p_name, 120, 'invalid_name');
    v_email := private.normalize_email(p_email);
    if v_email is null then
        perform private.raise_error('invalid_email');
    end if;
    if p_phone is not null and pg_catalog.btrim(p_phone) <> '' then
        v_phone := private.normalize_phone(p_phone);
        if v_phone is null then
            perform private.raise_error('invalid_phone');
        end if;
    end if;
    if p_notes is not null and pg_catalog.btrim(p_notes) <> '' then
        v_notes := private.clean_multiline_text(p_notes, 2000, 'invalid_notes');
    end if;

    v_candidates := private.bookable_practitioners(
        v_workspace_id, v_timezone, v_type, p_starts_at, p_staff_id, null, null
    );

    -- Same email in the same workspace is the same contact; a missing phone is filled in.
    -- The row lock serialises bookings of one email address, so the limit below holds.
    insert into public.contacts as c (workspace_id, name, email, phone)
    values (v_workspace_id, v_name, v_email, v_phone)
    on conflict on constraint contacts_workspace_id_email_key
    do update set phone = coalesce(c.phone, excluded.phone)
    returning c.id, c.xmax = 0 into v_contact_id, v_new_contact;

    -- A contact created just now holds no bookings yet.
    if not v_new_contact and (
        select count(*) from public.bookings as b
        where b.contact_id = v_contact_id and b.status = 'confirmed' and b.starts_at > pg_catalog.now()
    ) >= v_limit then
        perform private.raise_error('booking_limit_reached');
    end if;

    manage_token := private.new_token();
    -- First pass: practitioners nobody is booking at this very moment, in the fair order,
    -- so concurrent "anyone" requests spread instead of queueing. Second pass: the ones
    -- that were busy, waiting for them.
    foreach v_candidate in array v_candidates loop
        select t.booking_id, t.skipped into booking_id, v_skipped
        from private.try_booking(
            v_workspace_id, v_type, v_candidate, v_contact_id, p_starts_at, v_notes, private.token_hash(manage_token),
            false
        ) as t;
        if booking_id is not null then
            practitioner_id := v_candidate;
            exit;
        end if;
        if v_skipped then
            v_waiting := v_waiting || v_candidate;
        end if;
    end loop;
    if booking_id is null then
        foreach v_candidate in array v_waiting loop
            select t.booking_id into booking_id
            from private.try_booking(
                v_workspace_id, v_type, v_candidate, v_contact_id, p_starts_at, v_notes,
                private.token_hash(manage_token), true
            ) as t;
            if booking_id is not null then
                practitioner_id := v_candidate;
                exit;
            end if;
        end loop;
    end if;
    if booking_id is null then
        perform private.raise_error('slot_unavailable');
    end if;

    starts_at := p_starts_at;
    ends_at := p_starts_at + v_type.duration_minutes * interval '1 minute';
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = book_appointment.practitioner_id;
end
$$;

comment on function public.book_appointment(text, uuid, timestamptz, text, text, text, text, uuid) is
'Public booking: books p_starts_at of an active booking type for the named person (email required, phone in '
'international format, optional notes), with p_staff_id or the fair pick of the free practitioners, and returns '
'the booking and its manage token (shown once). Errors: not_found, invalid_name, invalid_email, invalid_phone, '
'invalid_notes, outside_availability, too_soon, too_far_ahead, slot_unavailable, booking_limit_reached.';

revoke execute on function public.book_appointment(text, uuid, timestamptz, text, text, text, text, uuid)
from public;
grant execute on function public.book_appointment(text, uuid, timestamptz, text, text, text, text, uuid)
to anon, authenticated, service_role;
