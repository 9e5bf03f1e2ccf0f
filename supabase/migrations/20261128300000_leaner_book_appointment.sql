-- book_appointment, same behaviour with fewer function boundaries (bench/booking.py,
-- docs/benchmarks.md "Public booking").
--
-- Each plpgsql call with `set search_path`/`set plan_cache_mode` swaps settings in and out
-- and starts its own executor state; book_appointment made about fifteen such calls per
-- booking. Here the RPC does the work of private.public_booking_target,
-- private.bookable_practitioners (with private.practitioners_in_hours) and
-- private.try_booking itself, in the same order, with the same checks, errors and
-- details: the workspace and the booking type are read in one statement, the hours and the
-- free practitioners in fair order in one statement, each attempt is a block with an
-- exception handler (the same savepoint try_booking's body was), the token is hashed once.
-- Those helpers stay as they were for reschedule_booking and get_available_slots.

create or replace function public.book_appointment(
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
    v_local timestamp;
    v_date date;
    v_irregular boolean;
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_blocked tstzrange;
    v_in_hours boolean;
    v_candidates uuid [];
    v_candidate uuid;
    v_contact_id uuid;
    v_new_contact boolean;
    v_token_hash bytea;
    v_waiting uuid [] := '{}'::uuid [];
begin
    -- The active workspace and its active booking type (private.public_booking_target).
    select w.id, w.timezone, w.max_active_bookings_per_email
    into v_workspace_id, v_timezone, v_limit
    from public.workspaces as w
    where
        char_length(p_workspace_slug) <= 100
        and w.slug = pg_catalog.lower(pg_catalog.btrim(p_workspace_slug))
        and w.status = 'active';
    if v_workspace_id is null then
        perform private.raise_error('not_found', 'No active workspace has this address.');
    end if;
    select bt.* into v_type
    from public.booking_types as bt
    where bt.id = p_booking_type_id and bt.workspace_id = v_workspace_id and bt.active;
    if v_type.id is null then
        perform private.raise_error('not_found', 'This workspace offers no such booking type.');
    end if;
    if p_staff_id is not null and not exists (
        select 1
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where btp.booking_type_id = p_booking_type_id and p.id = p_staff_id and p.active
    ) then
        perform private.raise_error('not_found', 'Nobody by this id performs this booking type.');
    end if;

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

    -- The slot (private.bookable_practitioners with private.practitioners_in_hours).
    if p_starts_at is null then
        perform private.raise_error('outside_availability', 'A start time is required.');
    end if;
    if p_starts_at < pg_catalog.now() + v_type.min_notice_minutes * interval '1 minute' then
        perform private.raise_error('too_soon');
    end if;
    if p_starts_at > pg_catalog.now() + v_type.max_days_ahead * interval '1440 minutes' then
        perform private.raise_error('too_far_ahead');
    end if;
    v_local := p_starts_at at time zone v_timezone;
    v_date := v_local::date;
    v_irregular := private.is_irregular_day(v_date, v_timezone);
    -- The second occurrence of a repeated local time is never offered.
    if v_irregular and private.first_instant(v_local, v_timezone) is distinct from p_starts_at then
        perform private.raise_error('outside_availability');
    end if;
    -- On a day without an offset change a local bound is plain `at time zone`
    -- (private.window_bound gives the same there).
    if v_irregular then
        v_day_start := private.window_bound(v_date::timestamp, v_timezone);
        v_day_end := private.window_bound((v_date + 1)::timestamp, v_timezone);
    else
        v_day_start := v_date::timestamp at time zone v_timezone;
        v_day_end := (v_date + 1)::timestamp at time zone v_timezone;
    end if;
    v_blocked := pg_catalog.tstzrange(
        p_starts_at - v_type.buffer_before_minutes * interval '1 minute',
        p_starts_at + (v_type.duration_minutes + v_type.buffer_after_minutes) * interval '1 minute',
        '[)'
    );
    if v_type.daily_capacity is not null then
        -- One booking of the type per local day at a time, so the count below stays true
        -- (taken before the statement below, so its fair order sees what committed before).
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended(v_type.id::text || '/' || v_date::text, 0)
        );
    end if;
    -- In hours: on the type's grid inside a window of the day (an override replaces the
    -- weekly rules), no closure. Candidates: those of them with no live booking in the way,
    -- in fair order (fewest live bookings that local day, then id). Both in one statement;
    -- the candidates only order the attempts, the exclusion constraint settles races.
    with
    performers as (
        select p.id
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where
            btp.booking_type_id = v_type.id
            and p.workspace_id = v_workspace_id
            and p.active
            and (p_staff_id is null or p.id = p_staff_id)
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
    ),
    in_hours as (
        select distinct lw.practitioner_id as id
        from local_windows as lw
        where
            v_local >= v_date + lw.start_time
            and v_local < v_date + lw.end_time
            and extract(epoch from v_local - (v_date + lw.start_time)) % (v_type.slot_interval_minutes * 60) = 0
            and p_starts_at >= case
                when v_irregular then private.window_bound(v_date + lw.start_time, v_timezone)
                else (v_date + lw.start_time) at time zone v_timezone
            end
            and p_starts_at + v_type.duration_minutes * interval '1 minute' <= case
                when v_irregular then private.window_bound(v_date + lw.end_time, v_timezone)
                else (v_date + lw.end_time) at time zone v_timezone
            end
            and not exists (
                select 1 from public.workspace_closures as c
                where c.workspace_id = v_workspace_id and c.closed_on = v_date
            )
    )
    select
        exists (select 1 from in_hours),
        (
            select pg_catalog.array_agg(c.id order by c.taken, c.id)
            from (
                select
                    h.id,
                    (
                        select count(*) from public.bookings as b
                        where
                            b.practitioner_id = h.id
                            and b.status <> 'cancelled'
                            and b.starts_at >= v_day_start
                            and b.starts_at < v_day_end
                    ) as taken
                from in_hours as h
                where not exists (
                    select 1 from public.bookings as b
                    where
                        b.practitioner_id = h.id
                        and b.status <> 'cancelled'
                        -- See private.bookable_practitioners: btree bounds, overlap as a filter.
                        and b.starts_at > lower(v_blocked) - interval '20 hours'
                        and b.starts_at < upper(v_blocked) + interval '4 hours'
                        and (b.blocked_period && v_blocked) is true
                )
            ) as c
        )
    into v_in_hours, v_candidates;
    if not v_in_hours then
        perform private.raise_error('outside_availability');
    end if;
    if v_type.daily_capacity is not null then
        if (
            select count(*) from public.bookings as b
            where
                b.booking_type_id = v_type.id
                and b.status <> 'cancelled'
                and b.starts_at >= v_day_start
                and b.starts_at < v_day_end
        ) >= v_type.daily_capacity then
            perform private.raise_error('slot_unavailable', 'The booking type is fully booked that day.');
        end if;
    end if;
    if v_candidates is null then
        perform private.raise_error('slot_unavailable');
    end if;

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
    v_token_hash := pg_catalog.sha256(pg_catalog.convert_to(manage_token, 'UTF8'));
    ends_at := p_starts_at + v_type.duration_minutes * interval '1 minute';
    -- First pass: practitioners nobody is booking at this very moment, in the fair order,
    -- so concurrent "anyone" requests spread instead of queueing. Second pass: the ones
    -- that were busy, waiting for them. Each attempt is a savepoint: when the insert fails,
    -- the practitioner's lock (taken here and by the bookings_lock_practitioners trigger)
    -- is released before the next one is tried.
    foreach v_candidate in array v_candidates loop
        begin
            perform 1 from public.practitioners as p where p.id = v_candidate for no key update skip locked;
            if found then
                insert into public.bookings as b (
                    workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at,
                    buffer_before_minutes, buffer_after_minutes, notes, manage_token_hash, created_by
                )
                values (
                    v_workspace_id, v_type.id, v_candidate, v_contact_id, p_starts_at, ends_at,
                    v_type.buffer_before_minutes, v_type.buffer_after_minutes, v_notes, v_token_hash,
                    (select auth.uid())
                )
                returning b.id into booking_id;
            else
                v_waiting := v_waiting || v_candidate;
            end if;
        exception when exclusion_violation then
            booking_id := null;
        end;
        if booking_id is not null then
            practitioner_id := v_candidate;
            exit;
        end if;
    end loop;
    if booking_id is null then
        foreach v_candidate in array v_waiting loop
            begin
                insert into public.bookings as b (
                    workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at,
                    buffer_before_minutes, buffer_after_minutes, notes, manage_token_hash, created_by
                )
                values (
                    v_workspace_id, v_type.id, v_candidate, v_contact_id, p_starts_at, ends_at,
                    v_type.buffer_before_minutes, v_type.buffer_after_minutes, v_notes, v_token_hash,
                    (select auth.uid())
                )
                returning b.id into booking_id;
            exception when exclusion_violation then
                booking_id := null;
            end;
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
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = book_appointment.practitioner_id;
end
$$;
