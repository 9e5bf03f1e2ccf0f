-- Booking types: what the public can book (duration, buffers, notice, horizon, interval, capacity).
--
-- Owners write them directly with supabase-js under RLS; members read them. A
-- validation trigger trims the texts, fills the slot interval (default: the
-- duration) and raises a stable code for each rule; check constraints are the
-- backstop whatever the code path. Which practitioners perform a type lives in
-- public.booking_type_practitioners (the practitioners migration).

insert into private.error_codes (code, http_status, description) values
(
    'invalid_description',
    400,
    'A description has at most 2000 characters, one visible, and no control characters but line breaks and tabs.'
),
('invalid_location', 400, 'A location has at most 200 characters, at least one visible, and no control characters.'),
('invalid_duration', 400, 'A duration is a whole number of minutes from 1 to 720.'),
('invalid_buffer', 400, 'A buffer before or after a booking is 0 to 240 minutes.'),
(
    'invalid_booking_window',
    400,
    'Minimum notice is 0 to 43200 minutes, maximum days ahead 1 to 730, and the notice ends before the horizon.'
),
('invalid_slot_interval', 400, 'A slot interval is a whole number of minutes from 1 to 720.'),
('invalid_daily_capacity', 400, 'A daily capacity is empty (no limit) or 1 to 1000 bookings.');

create table public.booking_types (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    name text not null,
    description text,
    duration_minutes integer not null,
    buffer_before_minutes integer not null default 0,
    buffer_after_minutes integer not null default 0,
    min_notice_minutes integer not null default 0,
    max_days_ahead integer not null default 60,
    slot_interval_minutes integer not null,
    daily_capacity integer,
    location text,  -- noqa: RF04
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint booking_types_workspace_id_id_key unique (workspace_id, id),
    constraint booking_types_name_is_clean check (private.is_clean_text(name, 120)),
    constraint booking_types_description_is_clean check (
        description is null or private.is_clean_multiline_text(description, 2000)
    ),
    constraint booking_types_location_is_clean check (location is null or private.is_clean_text(location, 200)),
    constraint booking_types_duration_range check (duration_minutes between 1 and 720),
    constraint booking_types_buffer_range check (
        buffer_before_minutes between 0 and 240 and buffer_after_minutes between 0 and 240
    ),
    constraint booking_types_window_range check (
        min_notice_minutes between 0 and 43200
        and max_days_ahead between 1 and 730
        and min_notice_minutes < max_days_ahead * 1440
    ),
    constraint booking_types_slot_interval_range check (slot_interval_minutes between 1 and 720),
    constraint booking_types_daily_capacity_range check (daily_capacity is null or daily_capacity between 1 and 1000)
);

comment on table public.booking_types is
'What the public can book in a workspace: duration, buffers, notice, horizon and who performs it.';
comment on column public.booking_types.duration_minutes is 'Length of the appointment itself (1 to 720 minutes).';
comment on column public.booking_types.buffer_before_minutes is
'Time the practitioner is held before the appointment (preparation), 0 to 240 minutes.';
comment on column public.booking_types.buffer_after_minutes is
'Time the practitioner is held after the appointment (clean-up, notes), 0 to 240 minutes.';
comment on column public.booking_types.min_notice_minutes is
'A slot must start at least this many minutes after the moment of booking.';
comment on column public.booking_types.max_days_ahead is
'A slot must start within this many days of the moment of booking.';
comment on column public.booking_types.slot_interval_minutes is
'Spacing of offered start times from the start of each availability window; defaults to the duration.';
comment on column public.booking_types.daily_capacity is
'At most this many bookings of the type per local day in the workspace; null means no limit.';
comment on column public.booking_types.location is 'Where the appointment happens, as shown to the public.';
comment on column public.booking_types.active is 'Inactive types stay for history but are not offered to the public.';
comment on constraint booking_types_workspace_id_id_key on public.booking_types is
'Target of composite foreign keys, so rows that attach to a type stay in its workspace.';

create index booking_types_workspace_id_idx on public.booking_types (workspace_id) include (active);

alter table public.booking_types enable row level security;

revoke all on public.booking_types from anon, authenticated;
grant select, delete on public.booking_types to authenticated;
grant insert (
    workspace_id, name, description, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    min_notice_minutes, max_days_ahead, slot_interval_minutes, daily_capacity, location, active
) on public.booking_types to authenticated;
grant update (
    name, description, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    min_notice_minutes, max_days_ahead, slot_interval_minutes, daily_capacity, location, active
) on public.booking_types to authenticated;
grant all on public.booking_types to service_role;

create trigger booking_types_touch_updated_at
before update on public.booking_types
for each row execute function private.touch_updated_at();

create function private.validate_booking_type()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    if new.description is not null and pg_catalog.btrim(new.description) = '' then
        new.description := null;
    elsif new.description is not null then
        new.description := private.clean_multiline_text(new.description, 2000, 'invalid_description');
    end if;
    if new.location is not null and pg_catalog.btrim(new.location) = '' then
        new.location := null;
    elsif new.location is not null then
        new.location := private.clean_text(new.location, 200, 'invalid_location');
    end if;
    if new.duration_minutes is null or new.duration_minutes not between 1 and 720 then
        perform private.raise_error('invalid_duration');
    end if;
    if
        new.buffer_before_minutes is null or new.buffer_before_minutes not between 0 and 240
        or new.buffer_after_minutes is null or new.buffer_after_minutes not between 0 and 240
    then
        perform private.raise_error('invalid_buffer');
    end if;
    if
        new.min_notice_minutes is null or new.min_notice_minutes not between 0 and 43200
        or new.max_days_ahead is null or new.max_days_ahead not between 1 and 730
        or new.min_notice_minutes >= new.max_days_ahead * 1440
    then
        perform private.raise_error('invalid_booking_window');
    end if;
    new.slot_interval_minutes := coalesce(new.slot_interval_minutes, new.duration_minutes);
    if new.slot_interval_minutes not between 1 and 720 then
        perform private.raise_error('invalid_slot_interval');
    end if;
    if new.daily_capacity is not null and new.daily_capacity not between 1 and 1000 then
        perform private.raise_error('invalid_daily_capacity');
    end if;
    return new;
end
$$;

comment on function private.validate_booking_type() is
'Trigger: trims texts, defaults the slot interval to the duration and raises invalid_name, invalid_description, '
'invalid_location, invalid_duration, invalid_buffer, invalid_booking_window, invalid_slot_interval or '
'invalid_daily_capacity.';

create trigger booking_types_validate
before insert or update on public.booking_types
for each row execute function private.validate_booking_type();

create policy "members read their workspaces' booking types"
on public.booking_types for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners create booking types"
on public.booking_types for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners update booking types"
on public.booking_types for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners delete booking types"
on public.booking_types for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));
