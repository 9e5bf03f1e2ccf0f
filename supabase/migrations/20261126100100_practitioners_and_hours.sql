-- Practitioners and their hours: who takes bookings, which booking types they perform,
-- weekly rules, date overrides and workspace closures.
--
-- Hours are local wall-clock times (time without time zone) in the workspace's
-- IANA zone; private.practitioner_windows converts them to timestamptz at query
-- time, so DST is Postgres' job. Weekdays are ISO: 1 = Monday .. 7 = Sunday
-- (extract(isodow from date)). A window never crosses midnight; '24:00' ends a
-- window at the end of its day.
--
-- A date with override rows for a practitioner replaces that day's weekly rules:
-- one row without times means off all day, rows with times are that day's windows
-- (extra hours are replacement windows that include them). A workspace closure
-- closes the date for everyone, whatever the rules and overrides say.

insert into private.error_codes (code, http_status, description) values
('invalid_weekday', 400, 'A weekday is an ISO day number: 1 (Monday) to 7 (Sunday).'),
(
    'invalid_time_window',
    400,
    'A window has a start and an end time on the same day, the end after the start (24:00 ends the day).'
),
('invalid_date', 400, 'A date is required.'),
('invalid_note', 400, 'A note has at most 500 characters, at least one visible, and no control characters.'),
('availability_overlap', 409, 'The window overlaps another window of the same practitioner on that day.');

-- Practitioners -------------------------------------------------------------

create table public.practitioners (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    user_id uuid not null references public.profiles (id) on delete cascade,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint practitioners_workspace_id_user_id_key unique (workspace_id, user_id),
    constraint practitioners_workspace_id_id_key unique (workspace_id, id),
    constraint practitioners_member_fkey foreign key (workspace_id, user_id)
    references public.workspace_members (workspace_id, user_id) on delete cascade
);

comment on table public.practitioners is
'Members who take bookings. The public sees their id and profile full name only (never email or phone).';
comment on column public.practitioners.id is
'The practitioner''s public id (the booking page shows it instead of the user id).';
comment on column public.practitioners.user_id is
'The member''s profile; the display name is profiles.full_name (PostgREST embeds it).';
comment on column public.practitioners.active is
'Inactive practitioners keep their hours and history but are offered to nobody.';
comment on constraint practitioners_member_fkey on public.practitioners is
'A practitioner is a member of the workspace; leaving the workspace removes the practitioner.';

create index practitioners_user_id_idx on public.practitioners (user_id);

alter table public.practitioners enable row level security;

revoke all on public.practitioners from anon, authenticated;
grant select, delete on public.practitioners to authenticated;
grant insert (workspace_id, user_id, active) on public.practitioners to authenticated;
grant update (active) on public.practitioners to authenticated;
grant all on public.practitioners to service_role;

create trigger practitioners_touch_updated_at
before update on public.practitioners
for each row execute function private.touch_updated_at();

create policy "members read their workspaces' practitioners"
on public.practitioners for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners mark members as practitioners"
on public.practitioners for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners update practitioners"
on public.practitioners for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners remove practitioners"
on public.practitioners for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- The simplest path needs no extra step: whoever creates a workspace (its first
-- owner) takes bookings from the start.
create function private.make_creator_a_practitioner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.role = 'owner' and exists (
        select 1 from public.workspaces as w
        where w.id = new.workspace_id and w.created_by = new.user_id
    ) then
        insert into public.practitioners (workspace_id, user_id)
        values (new.workspace_id, new.user_id)
        on conflict (workspace_id, user_id) do nothing;
    end if;
    return null;
end
$$;

comment on function private.make_creator_a_practitioner() is
'Trigger: the workspace creator, joining as owner, becomes its first practitioner.';

revoke execute on function private.make_creator_a_practitioner() from public;

create trigger workspace_members_make_creator_a_practitioner
after insert on public.workspace_members
for each row execute function private.make_creator_a_practitioner();

-- Practitioner ids of the calling user (one per workspace where they take bookings).
create function private.own_practitioner_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select coalesce(array_agg(p.id), '{}')
        from public.practitioners as p
        where p.user_id = (select auth.uid())
    );
end
$$;

comment on function private.own_practitioner_ids() is
'The calling user''s practitioner ids, for policies that let staff edit their own hours.';

-- Serialises writes to one practitioner's hours so the overlap check in the
-- validation triggers sees every committed window (staff cannot lock the row themselves).
create function private.lock_practitioner_hours(p_practitioner_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform 1 from public.practitioners as p where p.id = p_practitioner_id for no key update;
end
$$;

comment on function private.lock_practitioner_hours(uuid) is
'Locks a practitioner row so concurrent writes to their hours check overlaps one after the other.';

revoke execute on function private.own_practitioner_ids(), private.lock_practitioner_hours(uuid) from public;
grant execute on function private.own_practitioner_ids(), private.lock_practitioner_hours(uuid)
to authenticated, service_role;

-- Who performs which booking type ---------------------------------------------

create table public.booking_type_practitioners (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    booking_type_id uuid not null,
    practitioner_id uuid not null,
    created_at timestamptz not null default now(),
    primary key (booking_type_id, practitioner_id),
    constraint booking_type_practitioners_booking_type_fkey foreign key (workspace_id, booking_type_id)
    references public.booking_types (workspace_id, id) on delete cascade,
    constraint booking_type_practitioners_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete cascade
);

comment on table public.booking_type_practitioners is
'Which practitioners perform a booking type; both belong to the same workspace (composite foreign keys).';

create index booking_type_practitioners_practitioner_idx
on public.booking_type_practitioners (workspace_id, practitioner_id);
create index booking_type_practitioners_workspace_type_idx
on public.booking_type_practitioners (workspace_id, booking_type_id);

alter table public.booking_type_practitioners enable row level security;

revoke all on public.booking_type_practitioners from anon, authenticated;
grant select, delete on public.booking_type_practitioners to authenticated;
grant insert (workspace_id, booking_type_id, practitioner_id) on public.booking_type_practitioners to authenticated;
grant all on public.booking_type_practitioners to service_role;

create policy "members read who performs their workspaces' booking types"
on public.booking_type_practitioners for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners assign practitioners to booking types"
on public.booking_type_practitioners for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners unassign practitioners from booking types"
on public.booking_type_practitioners for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Weekly rules ----------------------------------------------------------------

create table public.availability_rules (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    practitioner_id uuid not null,
    weekday smallint not null,  -- noqa: RF04
    start_time time not null,
    end_time time not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint availability_rules_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete cascade,
    constraint availability_rules_weekday_range check (weekday between 1 and 7),
    constraint availability_rules_end_after_start check (end_time > start_time),
    constraint availability_rules_no_overlap exclude using gist (
        practitioner_id with =,
        weekday with =,
        tsrange(date '2000-01-03' + start_time, date '2000-01-03' + end_time) with &&
    )
);

comment on table public.availability_rules is
'A practitioner''s weekly hours: one row per window, several windows a day, never overlapping.';
comment on column public.availability_rules.weekday is 'ISO weekday: 1 = Monday .. 7 = Sunday.';
comment on column public.availability_rules.start_time is 'Local wall-clock start in the workspace''s time zone.';
comment on column public.availability_rules.end_time is
'Local wall-clock end, after the start; 24:00 ends the window at midnight.';

create index availability_rules_workspace_id_idx on public.availability_rules (workspace_id);
create index availability_rules_practitioner_idx on public.availability_rules (workspace_id, practitioner_id);

alter table public.availability_rules enable row level security;

revoke all on public.availability_rules from anon, authenticated;
grant select, delete on public.availability_rules to authenticated;
grant insert (workspace_id, practitioner_id, weekday, start_time, end_time)
on public.availability_rules to authenticated;
grant update (weekday, start_time, end_time) on public.availability_rules to authenticated;
grant all on public.availability_rules to service_role;

create trigger availability_rules_touch_updated_at
before update on public.availability_rules
for each row execute function private.touch_updated_at();

create function private.validate_availability_rule()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.weekday is null or new.weekday not between 1 and 7 then
        perform private.raise_error('invalid_weekday');
    end if;
    if new.start_time is null or new.end_time is null or new.end_time <= new.start_time then
        perform private.raise_error('invalid_time_window');
    end if;
    perform private.lock_practitioner_hours(new.practitioner_id);
    if exists (
        select 1 from public.availability_rules as r
        where
            r.practitioner_id = new.practitioner_id
            and r.weekday = new.weekday
            and r.id <> new.id
            and r.start_time < new.end_time
            and new.start_time < r.end_time
    ) then
        perform private.raise_error(
            'availability_overlap',
            format('%s-%s overlaps another window on weekday %s.', new.start_time, new.end_time, new.weekday)
        );
    end if;
    return new;
end
$$;

comment on function private.validate_availability_rule() is
'Trigger: raises invalid_weekday, invalid_time_window or availability_overlap (the exclusion constraint is the backstop).';

create trigger availability_rules_validate
before insert or update on public.availability_rules
for each row execute function private.validate_availability_rule();

create policy "members read their workspaces' weekly hours"
on public.availability_rules for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners and the practitioner add weekly hours"
on public.availability_rules for insert to authenticated
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner change weekly hours"
on public.availability_rules for update to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
)
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner remove weekly hours"
on public.availability_rules for delete to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

-- Date overrides ----------------------------------------------------------------

create table public.availability_overrides (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    practitioner_id uuid not null,
    override_date date not null,
    start_time time,
    end_time time,
    note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint availability_overrides_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete cascade,
    constraint availability_overrides_off_or_window check (
        (start_time is null and end_time is null) or end_time > start_time
    ),
    constraint availability_overrides_note_is_clean check (note is null or private.is_clean_text(note, 500)),
    -- A day off covers the whole day, so it overlaps (and excludes) any window that date.
    constraint availability_overrides_no_overlap exclude using gist (
        practitioner_id with =,
        override_date with =,
        tsrange(
            override_date + coalesce(start_time, time '00:00'),
            override_date + coalesce(end_time, time '24:00')
        ) with &&
    )
);

comment on table public.availability_overrides is
'Date overrides of a practitioner''s weekly hours: a row without times is a day off, rows with times '
'replace that date''s weekly windows.';
comment on column public.availability_overrides.override_date is 'The local date in the workspace''s time zone.';
comment on column public.availability_overrides.start_time is 'Local start of a replacement window; null for a day off.';
comment on column public.availability_overrides.end_time is 'Local end of a replacement window; null for a day off.';
comment on column public.availability_overrides.note is 'Why (holiday, training), for staff only.';

create index availability_overrides_workspace_id_idx on public.availability_overrides (workspace_id);
create index availability_overrides_practitioner_idx
on public.availability_overrides (workspace_id, practitioner_id, override_date);

alter table public.availability_overrides enable row level security;

revoke all on public.availability_overrides from anon, authenticated;
grant select, delete on public.availability_overrides to authenticated;
grant insert (workspace_id, practitioner_id, override_date, start_time, end_time, note)
on public.availability_overrides to authenticated;
grant update (override_date, start_time, end_time, note) on public.availability_overrides to authenticated;
grant all on public.availability_overrides to service_role;

create trigger availability_overrides_touch_updated_at
before update on public.availability_overrides
for each row execute function private.touch_updated_at();

create function private.validate_availability_override()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.override_date is null then
        perform private.raise_error('invalid_date');
    end if;
    if
        (new.start_time is null) <> (new.end_time is null)
        or (new.start_time is not null and new.end_time <= new.start_time)
    then
        perform private.raise_error('invalid_time_window');
    end if;
    if new.note is not null and pg_catalog.btrim(new.note) = '' then
        new.note := null;
    elsif new.note is not null then
        new.note := private.clean_text(new.note, 500, 'invalid_note');
    end if;
    perform private.lock_practitioner_hours(new.practitioner_id);
    if exists (
        select 1 from public.availability_overrides as o
        where
            o.practitioner_id = new.practitioner_id
            and o.override_date = new.override_date
            and o.id <> new.id
            and coalesce(o.start_time, time '00:00') < coalesce(new.end_time, time '24:00')
            and coalesce(new.start_time, time '00:00') < coalesce(o.end_time, time '24:00')
    ) then
        perform private.raise_error(
            'availability_overlap',
            format('The override overlaps another override on %s (a day off excludes windows).', new.override_date)
        );
    end if;
    return new;
end
$$;

comment on function private.validate_availability_override() is
'Trigger: raises invalid_date, invalid_time_window, invalid_note or availability_overlap.';

create trigger availability_overrides_validate
before insert or update on public.availability_overrides
for each row execute function private.validate_availability_override();

create policy "members read their workspaces' date overrides"
on public.availability_overrides for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners and the practitioner add date overrides"
on public.availability_overrides for insert to authenticated
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner change date overrides"
on public.availability_overrides for update to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
)
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner remove date overrides"
on public.availability_overrides for delete to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

-- Workspace closures --------------------------------------------------------------

create table public.workspace_closures (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    closed_on date not null,
    note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint workspace_closures_one_per_date unique (workspace_id, closed_on),
    constraint workspace_closures_note_is_clean check (note is null or private.is_clean_text(note, 500))
);

comment on table public.workspace_closures is
'Dates the whole workspace is closed (holidays): nobody is available, whatever their hours say.';
comment on column public.workspace_closures.closed_on is 'The local date in the workspace''s time zone.';
comment on column public.workspace_closures.note is 'Why (for example "Christmas Day"), for staff.';

alter table public.workspace_closures enable row level security;

revoke all on public.workspace_closures from anon, authenticated;
grant select, delete on public.workspace_closures to authenticated;
grant insert (workspace_id, closed_on, note) on public.workspace_closures to authenticated;
grant update (closed_on, note) on public.workspace_closures to authenticated;
grant all on public.workspace_closures to service_role;

create trigger workspace_closures_touch_updated_at
before update on public.workspace_closures
for each row execute function private.touch_updated_at();

create function private.validate_workspace_closure()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.closed_on is null then
        perform private.raise_error('invalid_date');
    end if;
    if new.note is not null and pg_catalog.btrim(new.note) = '' then
        new.note := null;
    elsif new.note is not null then
        new.note := private.clean_text(new.note, 500, 'invalid_note');
    end if;
    return new;
end
$$;

comment on function private.validate_workspace_closure() is
'Trigger: raises invalid_date or invalid_note.';

create trigger workspace_closures_validate
before insert or update on public.workspace_closures
for each row execute function private.validate_workspace_closure();

create policy "members read their workspaces' closures"
on public.workspace_closures for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners add closures"
on public.workspace_closures for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners change closures"
on public.workspace_closures for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners remove closures"
on public.workspace_closures for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Hours as instants ----------------------------------------------------------------

-- Each active practitioner's open windows for the local dates p_from..p_to, as
-- timestamptz ranges: overrides replace the weekday's rules, closures remove the
-- day. Local times become instants with the workspace's zone here, so a window
-- across a DST change has its real length.
create function private.practitioner_windows(p_workspace_id uuid, p_from date, p_to date)
returns table (practitioner_id uuid, local_date date, starts_at timestamptz, ends_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
    with
    workspace as (
        select w.timezone from public.workspaces as w where w.id = p_workspace_id
    ),
    days as (
        select d::date as local_date
        from pg_catalog.generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') as d
        where not exists (
            select 1 from public.workspace_closures as c
            where c.workspace_id = p_workspace_id and c.closed_on = d::date
        )
    ),
    local_windows as (
        select p.id as practitioner_id, days.local_date, o.start_time, o.end_time
        from public.practitioners as p
        cross join days
        inner join public.availability_overrides as o
            on o.practitioner_id = p.id and o.override_date = days.local_date
        where p.workspace_id = p_workspace_id and p.active and o.start_time is not null
        union all
        select p.id as practitioner_id, days.local_date, r.start_time, r.end_time
        from public.practitioners as p
        cross join days
        inner join public.availability_rules as r
            on r.practitioner_id = p.id and r.weekday = extract(isodow from days.local_date)
        where
            p.workspace_id = p_workspace_id
            and p.active
            and not exists (
                select 1 from public.availability_overrides as o
                where o.practitioner_id = p.id and o.override_date = days.local_date
            )
    )
    select
        lw.practitioner_id,
        lw.local_date,
        (lw.local_date + lw.start_time) at time zone workspace.timezone as starts_at,
        (lw.local_date + lw.end_time) at time zone workspace.timezone as ends_at
    from local_windows as lw
    cross join workspace
    order by lw.practitioner_id, starts_at;
$$;

comment on function private.practitioner_windows(uuid, date, date) is
'Open windows of each active practitioner for local dates p_from..p_to as instants (workspace zone, DST-correct).';

revoke execute on function private.practitioner_windows(uuid, date, date) from public;
grant execute on function private.practitioner_windows(uuid, date, date) to authenticated, service_role;

-- Workspaces created before this migration: their creators take bookings too.
insert into public.practitioners (workspace_id, user_id)
select
    m.workspace_id,
    m.user_id
from public.workspace_members as m
inner join public.workspaces as w on m.workspace_id = w.id and m.user_id = w.created_by
where m.role = 'owner'
on conflict (workspace_id, user_id) do nothing;
