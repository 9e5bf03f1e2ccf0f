-- Contacts and bookings: who books, and the practitioner time a booking holds.
--
-- A booking stores the time it blocks, buffers included (blocked_period), and an
-- exclusion constraint (btree_gist) makes two live bookings of one practitioner
-- that overlap impossible, whatever the code path: the database settles races,
-- not a read-then-write check. Cancelled bookings leave the constraint and free
-- their time. Status changes go through functions (cancel, reschedule, complete),
-- so staff update only the notes directly.

insert into private.error_codes (code, http_status, description) values
(
    'invalid_notes',
    400,
    'Notes have at most 2000 characters, at least one visible, no control characters but line breaks and tabs.'
),
(
    'invalid_booking_limit',
    400,
    'The limit of active bookings per email address is 1 to 100.'
);

-- Contacts ----------------------------------------------------------------------

create table public.contacts (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    name text not null,
    email text,
    phone text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint contacts_workspace_id_id_key unique (workspace_id, id),
    constraint contacts_workspace_id_email_key unique (workspace_id, email),
    constraint contacts_name_is_clean check (private.is_clean_text(name, 120)),
    constraint contacts_email_is_normalized check (email is null or email = private.normalize_email(email)),
    constraint contacts_phone_is_e164 check (phone is null or phone ~ '^\+[1-9][0-9]{6,14}$'),
    constraint contacts_email_or_phone check (email is not null or phone is not null)
);

comment on table public.contacts is
'People who book or write to a workspace. One contact per email address and workspace.';
comment on column public.contacts.email is 'Trimmed and lower-cased; the same email in a workspace is the same contact.';
comment on column public.contacts.phone is 'E.164 (+ and 7 to 15 digits), see private.normalize_phone.';
comment on constraint contacts_workspace_id_id_key on public.contacts is
'Target of composite foreign keys, so rows that point at a contact stay in its workspace.';

alter table public.contacts enable row level security;

revoke all on public.contacts from anon, authenticated;
grant select, delete on public.contacts to authenticated;
grant insert (workspace_id, name, email, phone) on public.contacts to authenticated;
grant update (name, email, phone) on public.contacts to authenticated;
grant all on public.contacts to service_role;

create trigger contacts_touch_updated_at
before update on public.contacts
for each row execute function private.touch_updated_at();

create function private.validate_contact()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    if new.email is not null then
        new.email := private.normalize_email(new.email);
        if new.email is null then
            perform private.raise_error('invalid_email');
        end if;
    end if;
    if new.phone is not null and pg_catalog.btrim(new.phone) = '' then
        new.phone := null;
    elsif new.phone is not null then
        new.phone := private.normalize_phone(new.phone);
        if new.phone is null then
            perform private.raise_error('invalid_phone');
        end if;
    end if;
    if new.email is null and new.phone is null then
        perform private.raise_error('invalid_email', 'A contact needs an email address or a phone number.');
    end if;
    return new;
end
$$;

comment on function private.validate_contact() is
'Trigger: trims the name, normalises email and phone; raises invalid_name, invalid_email or invalid_phone.';

create trigger contacts_validate
before insert or update of name, email, phone on public.contacts
for each row execute function private.validate_contact();

create policy "members read their workspaces' contacts"
on public.contacts for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "members add contacts"
on public.contacts for insert to authenticated
with check (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "members update contacts"
on public.contacts for update to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners delete contacts"
on public.contacts for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Bookings ----------------------------------------------------------------------

-- Minute arithmetic on timestamptz does not depend on the session's time zone, so
-- this is immutable and may define a generated column. plpgsql, not sql: a SQL function
-- with SET search_path is parsed and planned again in every statement that calls it.
create function private.blocked_period(
    p_starts_at timestamptz, p_ends_at timestamptz, p_buffer_before_minutes integer, p_buffer_after_minutes integer
)
returns tstzrange
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    return pg_catalog.tstzrange(
        p_starts_at - p_buffer_before_minutes * interval '1 minute',
        p_ends_at + p_buffer_after_minutes * interval '1 minute',
        '[)'
    );
end
$$;

comment on function private.blocked_period(timestamptz, timestamptz, integer, integer) is
'The time a booking holds its practitioner: [start - buffer before, end + buffer after).';

revoke execute on function private.blocked_period(timestamptz, timestamptz, integer, integer) from public;
grant execute on function private.blocked_period(timestamptz, timestamptz, integer, integer)
to authenticated, service_role;

create table public.bookings (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    booking_type_id uuid not null,
    practitioner_id uuid,
    contact_id uuid not null,
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    buffer_before_minutes integer not null default 0,
    buffer_after_minutes integer not null default 0,
    blocked_period tstzrange not null generated always as (
        private.blocked_period(starts_at, ends_at, buffer_before_minutes, buffer_after_minutes)
    ) stored,
    status text not null default 'confirmed',
    notes text,
    manage_token_hash bytea,
    created_by uuid references auth.users (id) on delete set null,
    cancelled_at timestamptz,
    cancelled_by uuid references auth.users (id) on delete set null,
    cancellation_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint bookings_manage_token_hash_key unique (manage_token_hash),
    constraint bookings_booking_type_fkey foreign key (workspace_id, booking_type_id)
    references public.booking_types (workspace_id, id),
    constraint bookings_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete set null (practitioner_id),
    constraint bookings_contact_fkey foreign key (workspace_id, contact_id)
    references public.contacts (workspace_id, id),
    constraint bookings_status_known check (status in ('confirmed', 'cancelled', 'completed', 'no_show')),
    constraint bookings_ends_after_start check (ends_at > starts_at),
    constraint bookings_buffer_range check (
        buffer_before_minutes between 0 and 240 and buffer_after_minutes between 0 and 240
    ),
    constraint bookings_cancelled_when_cancelled check ((status = 'cancelled') = (cancelled_at is not null)),
    constraint bookings_notes_are_clean check (notes is null or private.is_clean_multiline_text(notes, 2000)),
    constraint bookings_reason_is_clean check (
        cancellation_reason is null or private.is_clean_multiline_text(cancellation_reason, 500)
    ),
    constraint bookings_no_overlap exclude using gist (
        practitioner_id with =,
        blocked_period with &&
    ) where (status <> 'cancelled')
);

comment on table public.bookings is
'Appointments: one contact, one booking type, held by one practitioner. Live bookings of a practitioner never '
'overlap, buffers included (bookings_no_overlap).';
comment on column public.bookings.practitioner_id is
'Who holds the booking; null only when that practitioner was removed (the booking stays as history).';
comment on column public.bookings.buffer_before_minutes is
'The booking type''s buffer before, copied when booked: later edits of the type do not move existing bookings.';
comment on column public.bookings.buffer_after_minutes is
'The booking type''s buffer after, copied when booked.';
comment on column public.bookings.blocked_period is
'[starts_at - buffer before, ends_at + buffer after): the practitioner time the booking holds.';
comment on column public.bookings.status is
'confirmed, cancelled (frees the time), completed or no_show; changed only through functions.';
comment on column public.bookings.manage_token_hash is
'sha256 of the manage token given to the customer for cancel/reschedule; the token is never stored.';
comment on column public.bookings.created_by is 'The signed-in user who booked; null for the public booking page.';
comment on column public.bookings.cancelled_by is 'The signed-in user who cancelled; null when the customer did.';
comment on constraint bookings_no_overlap on public.bookings is
'Two live bookings of one practitioner never overlap, buffers included: the database refuses the second.';

create index bookings_workspace_id_starts_at_idx on public.bookings (workspace_id, starts_at);
create index bookings_practitioner_id_starts_at_idx on public.bookings (practitioner_id, starts_at);
create index bookings_booking_type_id_starts_at_idx on public.bookings (booking_type_id, starts_at);
create index bookings_contact_id_starts_at_idx on public.bookings (contact_id, starts_at);

alter table public.bookings enable row level security;

revoke all on public.bookings from anon, authenticated;
grant select on public.bookings to authenticated;
grant update (notes) on public.bookings to authenticated;
grant all on public.bookings to service_role;

create trigger bookings_touch_updated_at
before update on public.bookings
for each row execute function private.touch_updated_at();

-- Every write to a booking first locks its practitioner's row (both, in id order, when a
-- move changes practitioner). So two transactions never insert overlapping bookings of one
-- practitioner at the same moment: the exclusion constraint then never waits on an
-- uncommitted booking, where two concurrent inserters could wait for each other (a
-- deadlock). book_appointment tries each practitioner in a savepoint, whose rollback
-- releases the lock before it tries the next, so a transaction waits for a practitioner
-- while holding no other.
create function private.lock_booking_practitioners()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op = 'UPDATE' and old.practitioner_id is distinct from new.practitioner_id then
        perform 1 from public.practitioners as p
        where p.id in (old.practitioner_id, new.practitioner_id)
        order by p.id
        for no key update of p;
    else
        perform 1 from public.practitioners as p where p.id = new.practitioner_id for no key update of p;
    end if;
    return new;
end
$$;

comment on function private.lock_booking_practitioners() is
'Trigger: locks the practitioner row(s) of a booking being written, so overlapping writers queue instead of deadlocking.';

revoke execute on function private.lock_booking_practitioners() from public;

create trigger bookings_lock_practitioners
before insert or update on public.bookings
for each row execute function private.lock_booking_practitioners();

create function private.validate_booking_notes()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.notes is not null and pg_catalog.btrim(new.notes) = '' then
        new.notes := null;
    elsif new.notes is not null then
        new.notes := private.clean_multiline_text(new.notes, 2000, 'invalid_notes');
    end if;
    return new;
end
$$;

comment on function private.validate_booking_notes() is
'Trigger: trims the notes (empty becomes null) or raises invalid_notes.';

create trigger bookings_validate_notes
before insert or update of notes on public.bookings
for each row when (new.notes is not null)
execute function private.validate_booking_notes();

create policy "members read their workspaces' bookings"
on public.bookings for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "members update their workspaces' bookings"
on public.bookings for update to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.member_workspace_ids())::uuid[]));

-- Per-workspace abuse limit ---------------------------------------------------------

alter table public.workspaces
add column max_active_bookings_per_email integer not null default 5,
add constraint workspaces_booking_limit_range check (max_active_bookings_per_email between 1 and 100);

comment on column public.workspaces.max_active_bookings_per_email is
'How many future confirmed bookings one email address may hold in the workspace (public booking abuse limit).';

grant update (max_active_bookings_per_email) on public.workspaces to authenticated;

create function private.validate_booking_limit()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.max_active_bookings_per_email is null or new.max_active_bookings_per_email not between 1 and 100 then
        perform private.raise_error('invalid_booking_limit');
    end if;
    return new;
end
$$;

comment on function private.validate_booking_limit() is
'Trigger: raises invalid_booking_limit unless the per-email limit is 1 to 100.';

create trigger workspaces_validate_booking_limit
before insert or update of max_active_bookings_per_email on public.workspaces
for each row execute function private.validate_booking_limit();

-- Staff follow bookings live (Supabase Realtime), where the publication exists.
do $$
begin
    if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        alter publication supabase_realtime add table public.bookings;
    end if;
end
$$;
