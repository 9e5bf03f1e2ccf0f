-- Booking: contacts, bookings, open slots, book, cancel and reschedule.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Contacts and bookings: who books, and the practitioner time a booking holds.
--
-- A booking stores the time it blocks, buffers included (blocked_period), and an
-- exclusion constraint (btree_gist) makes two live bookings of one practitioner
-- that overlap impossible, whatever the code path: the database settles races,
-- not a read-then-write check. Cancelled bookings leave the constraint and free
-- their time. Status changes go through functions (cancel, reschedule, complete),
-- so staff update only the notes directly.
--
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
--
-- book_appointment (anon): one transaction that validates, picks a practitioner, reuses
-- or creates the contact and inserts the booking. The exclusion constraint on bookings
-- settles races: a request that loses a practitioner to a concurrent booking tries the
-- next free one, and is refused (slot_unavailable) only when nobody is left.
--
-- Cancel and reschedule: by manage token (anon, the customer) and by booking id
-- (staff and owners of the workspace). Both paths share one implementation and its rules:
-- only confirmed bookings that have not started; a cancellation frees the time; a move
-- is atomic (the new slot is taken, with the same practitioner when free or another who
-- performs the type, or nothing changes). A move keeps the booking's id and manage token.

-- Functions the tables below use in constraints and generated columns -------------------

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

-- Tables --------------------------------------------------------------------------------

create table public.contacts (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    name text not null,
    email text,
    phone text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    email_bounced_at timestamptz,
    email_unsubscribed_at timestamptz,
    source text not null default 'direct'  -- noqa: RF04
    constraint contacts_source_known check (source in ('direct', 'inbound')),  -- noqa: RF04
    constraint contacts_workspace_id_id_key unique (workspace_id, id),
    constraint contacts_workspace_id_email_key unique (workspace_id, email),
    constraint contacts_name_is_clean check (private.is_clean_text(name, 120)),
    constraint contacts_email_is_normalized check (email is null or email = private.normalize_email(email)),
    constraint contacts_phone_is_e164 check (phone is null or phone ~ '^\+[1-9][0-9]{6,14}$'),
    constraint contacts_email_or_phone check (email is not null or phone is not null)
);

comment on table public.contacts is
'People who book or write to a workspace. One contact per email address and workspace.';

comment on column public.contacts.source is
'direct (booked, or added by staff) or inbound (wrote to the workspace first: no welcome message).';

comment on column public.contacts.email_bounced_at is
'When email to this address bounced or was marked as spam: no email goes to it until the address changes.';

comment on column public.contacts.email_unsubscribed_at is
'When the contact used the one-click unsubscribe (List-Unsubscribe) of an automated email: automated email that is '
'not transactional (private.honours_unsubscribe) is no longer sent to them; booking messages still are.';

comment on column public.contacts.email is 'Trimmed and lower-cased; the same email in a workspace is the same contact.';

comment on column public.contacts.phone is 'E.164 (+ and 7 to 15 digits), see private.normalize_phone.';

comment on constraint contacts_workspace_id_id_key on public.contacts is
'Target of composite foreign keys, so rows that point at a contact stay in its workspace.';

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
    closed_at timestamptz,
    closed_by uuid references auth.users (id) on delete set null,
    contact_phone text constraint bookings_contact_phone_is_e164 check (contact_phone ~ '^\+[1-9][0-9]{6,14}$'),
    confirm_token_hash bytea constraint bookings_confirm_token_hash_key unique,
    revision integer not null default 1,
    manage_token_nonce bytea,
    constraint bookings_manage_token_hash_key unique (manage_token_hash),
    constraint bookings_revision_positive check (revision >= 1),
    constraint bookings_manage_token_nonce_length check (octet_length(manage_token_nonce) = 16),
    -- Target of composite foreign keys, so rows that point at a booking stay in its workspace.
    constraint bookings_workspace_id_id_key unique (workspace_id, id),
    constraint bookings_booking_type_fkey foreign key (workspace_id, booking_type_id)
    references public.booking_types (workspace_id, id),
    constraint bookings_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete set null (practitioner_id),
    constraint bookings_contact_fkey foreign key (workspace_id, contact_id)
    references public.contacts (workspace_id, id),
    constraint bookings_status_known check (status in ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
    constraint bookings_pending_have_a_confirm_token check (status <> 'pending' or confirm_token_hash is not null),
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

comment on column public.bookings.contact_phone is
'The phone number given with this booking when it is not the contact''s own (an anonymous booking never changes '
'an existing contact): this booking''s SMS go to it. Staff adopt it by writing it to contacts.phone.';

comment on column public.bookings.confirm_token_hash is
'sha256 of the link that confirms a pending booking, emailed to the address it was made for; cleared once confirmed.';

comment on column public.bookings.closed_by is 'The member who marked it completed or no_show.';

comment on column public.bookings.closed_at is 'When staff marked it completed or no_show; null otherwise.';

comment on column public.bookings.practitioner_id is
'Who holds the booking; null only when that practitioner was removed (the booking stays as history).';

comment on column public.bookings.buffer_before_minutes is
'The booking type''s buffer before, copied when booked: later edits of the type do not move existing bookings.';

comment on column public.bookings.buffer_after_minutes is
'The booking type''s buffer after, copied when booked.';

comment on column public.bookings.blocked_period is
'[starts_at - buffer before, ends_at + buffer after): the practitioner time the booking holds.';

comment on column public.bookings.status is
'pending (an anonymous booking past the per-email limit, held until the address holder confirms it by the emailed '
'link; released after 24 hours), confirmed, cancelled (frees the time), completed or no_show; changed only through '
'functions.';

comment on column public.bookings.manage_token_hash is
'sha256 of the manage token given to the customer for cancel/reschedule; the token is never stored.';

comment on column public.bookings.manage_token_nonce is
'Random per booking: with the private key (private.derived_token) it rebuilds the manage token when a message '
'is delivered, so no table, message or job holds the token.';

comment on column public.bookings.revision is
'1 when booked, + 1 on every move (starts_at) and on cancellation: messages are written for a revision and skipped '
'when the booking has another by the time they are delivered; calendar invites use it as their SEQUENCE.';

comment on column public.bookings.created_by is 'The signed-in user who booked; null for the public booking page.';

comment on column public.bookings.cancelled_by is 'The signed-in user who cancelled; null when the customer did.';

comment on constraint bookings_no_overlap on public.bookings is
'Two live bookings of one practitioner never overlap, buffers included: the database refuses the second.';

-- Anonymous actions -------------------------------------------------------------------------

-- What the public booking page did (book, cancel, reschedule), for the churn caps: keys are
-- sha256 digests (the caps need equality, not the values). Kept a day.
create table private.anonymous_actions (
    id bigint generated always as identity primary key,
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    kind text not null check (kind in ('book', 'cancel', 'reschedule')),
    email_key bytea,
    phone_key bytea,
    client_address_key bytea,
    reached_cap text check (reached_cap in ('email', 'phone', 'client_address')),
    happened_at timestamptz not null default now()
);

comment on table private.anonymous_actions is
'Anonymous bookings, cancellations and moves of the last day, keyed by sha256 of the email, the phone and the client '
'address, for private.limit_anonymous_action; reached_cap marks the action that reached a cap (metrics, alert).';

-- A practitioner's private calendar feed (edge_api GET /calendar/<token>.ics): only the
-- sha256 of its token is kept; a new token replaces the old one, deleting the row revokes it.
create table private.calendar_feeds (
    practitioner_id uuid primary key references public.practitioners (id) on delete cascade,
    token_hash bytea not null unique,
    created_at timestamptz not null default now()
);

comment on table private.calendar_feeds is
'One private calendar feed per practitioner: sha256 of its unguessable token (create_calendar_feed). Reached only '
'through security definer functions.';

-- Indexes -------------------------------------------------------------------------------

create index bookings_practitioner_id_starts_at_idx on public.bookings (practitioner_id, starts_at);

create index bookings_booking_type_id_starts_at_idx on public.bookings (booking_type_id, starts_at);

create index bookings_contact_id_starts_at_idx on public.bookings (contact_id, starts_at);

-- The hourly release reads only the few bookings held as pending, not the whole table.
create index bookings_pending_created_at_idx on public.bookings (created_at) where status = 'pending';

create index anonymous_actions_workspace_id_email_key_at_idx
on private.anonymous_actions (workspace_id, email_key, happened_at);

create index anonymous_actions_workspace_id_phone_key_at_idx
on private.anonymous_actions (workspace_id, phone_key, happened_at)
where (phone_key is not null);

create index anonymous_actions_client_address_key_at_idx on private.anonymous_actions (client_address_key, happened_at)
where (client_address_key is not null);

create index anonymous_actions_happened_at_idx on private.anonymous_actions (happened_at);

-- Functions -----------------------------------------------------------------------------

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

-- The confirm link of a booking held as pending (past the per-email limit): derived from the
-- same nonce with another purpose, so neither token reveals the other.
create function private.confirm_token(p_booking_id uuid, p_nonce bytea)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select private.derived_token(p_booking_id, p_nonce || pg_catalog.convert_to('confirm', 'UTF8'));
$$;

comment on function private.confirm_token(uuid, bytea) is
'The confirm token of a pending booking: private.derived_token of its id and its nonce followed by ''confirm''.';

-- Every booking gets its manage token here, whatever inserts it: a random nonce and the
-- sha256 of the token derived from it (private.derived_token); the token is never stored.
create function private.derive_manage_token()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    new.manage_token_nonce := coalesce(new.manage_token_nonce, extensions.gen_random_bytes(16));
    new.manage_token_hash := private.token_hash(private.derived_token(new.id, new.manage_token_nonce));
    if new.status = 'pending' then
        new.confirm_token_hash := private.token_hash(private.confirm_token(new.id, new.manage_token_nonce));
    end if;
    return new;
end
$$;

comment on function private.derive_manage_token() is
'Trigger: a new booking gets a manage token nonce and the sha256 of its derived token (private.derived_token); a '
'pending one also the sha256 of its confirm token (private.confirm_token). No token is stored.';

create function private.count_booking_revision()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.revision := old.revision + 1;
    return new;
end
$$;

comment on function private.count_booking_revision() is
'Trigger: a booking that moves or is cancelled gets the next revision.';

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

-- Abuse caps on what anonymous callers set off --------------------------------------------------

-- A numeric deployment setting (private.app_settings), or the default when unset or not a number.
create function private.setting_integer(p_key text, p_default integer)
returns integer
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_value text := (select s.value from private.app_settings as s where s.key = p_key);
begin
    if v_value ~ '^[0-9]{1,9}$' then
        return v_value::integer;
    end if;
    return p_default;
end
$$;

comment on function private.setting_integer(text, integer) is
'private.app_settings value of p_key as an integer (caps, limits), or p_default when it is missing or not a number.';

-- The caller's address as the configured request header gives it (private.app_settings
-- client_address_header; PostgREST passes headers in request.headers). Default cf-connecting-ip:
-- Cloudflare, in front of hosted Supabase, sets it to the address that connected and replaces any
-- value the client sent; the first X-Forwarded-For entry is whatever the client wrote. Of a list,
-- the last entry (added by the nearest proxy). Null without a parsable address: no address cap.
create function private.client_address()
returns inet
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_header text := (select s.value from private.app_settings as s where s.key = 'client_address_header');
    v_value text;
begin
    if coalesce(v_header, '') = '' then
        return null;
    end if;
    v_value := pg_catalog.btrim(
        pg_catalog.split_part(
            left(nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb ->> pg_catalog.lower(v_header), 1000),
            ',', -1
        )
    );
    return v_value::inet;
exception when others then
    return null;
end
$$;

comment on function private.client_address() is
'The anonymous caller''s address from the request header named by app_settings client_address_header (last entry of a '
'list), or null when absent or not an address.';

-- One cap per key over the last hour: email and phone per workspace, the client address across
-- the platform. Counted on actions that happened (a refused request writes nothing), so
-- cancelling never gives an attempt back. Signed-in callers (staff booking for a customer) are
-- not capped.
create function private.limit_anonymous_action(p_action text, p_workspace_id uuid, p_email text, p_phone text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_email bytea := pg_catalog.sha256(pg_catalog.convert_to(coalesce(p_email, ''), 'UTF8'));
    v_phone bytea := case when p_phone is not null then pg_catalog.sha256(pg_catalog.convert_to(p_phone, 'UTF8')) end;
    v_address_text text := private.client_address()::text;
    v_address bytea := case when v_address_text is not null then pg_catalog.sha256(pg_catalog.convert_to(v_address_text, 'UTF8')) end;
    v_email_cap integer := private.setting_integer('anonymous_actions_per_email_hour', 8);
    v_phone_cap integer := private.setting_integer('anonymous_actions_per_phone_hour', 8);
    v_address_cap integer := private.setting_integer('anonymous_actions_per_address_hour', 30);
    v_since timestamptz := pg_catalog.now() - interval '1 hour';
    v_emails integer;
    v_phones integer := 0;
    v_addresses integer := 0;
    v_reached text;
    v_lock bigint;
begin
    if (select auth.uid()) is not null then
        return;
    end if;
    -- One email's, one phone's (per workspace) and one client address's actions at a time, so
    -- every count holds under concurrency: a lock per key, always taken in the same order.
    for v_lock in
        select k.lock_key
        from unnest(array[
            pg_catalog.hashtextextended('email:' || p_workspace_id::text || ':' || pg_catalog.encode(v_email, 'hex'), 0),
            pg_catalog.hashtextextended('phone:' || p_workspace_id::text || ':' || pg_catalog.encode(v_phone, 'hex'), 0),
            pg_catalog.hashtextextended('address:' || pg_catalog.encode(v_address, 'hex'), 0)
        ]) as k (lock_key)
        where k.lock_key is not null
        order by k.lock_key
    loop
        perform pg_catalog.pg_advisory_xact_lock(v_lock);
    end loop;
    select count(*) into v_emails from private.anonymous_actions as a
    where a.workspace_id = p_workspace_id and a.email_key = v_email and a.happened_at > v_since;
    if v_phone is not null then
        select count(*) into v_phones from private.anonymous_actions as a
        where a.workspace_id = p_workspace_id and a.phone_key = v_phone and a.happened_at > v_since;
    end if;
    if v_address is not null then
        select count(*) into v_addresses from private.anonymous_actions as a
        where a.client_address_key = v_address and a.happened_at > v_since;
    end if;
    if v_emails >= v_email_cap or v_phones >= v_phone_cap or v_addresses >= v_address_cap then
        perform private.raise_error('too_many_requests');
    end if;
    v_reached := case
        when v_emails + 1 >= v_email_cap then 'email'
        when v_phone is not null and v_phones + 1 >= v_phone_cap then 'phone'
        when v_address is not null and v_addresses + 1 >= v_address_cap then 'client_address'
    end;
    insert into private.anonymous_actions (workspace_id, kind, email_key, phone_key, client_address_key, reached_cap)
    values (p_workspace_id, p_action, v_email, v_phone, v_address, v_reached);
    if v_reached is not null then
        perform private.raise_alert(
            p_workspace_id, 'abuse_suspected', 'workspace', p_workspace_id,
            format(
                'The public booking page was used %s times in an hour from one %s; more is refused for an hour.',
                case v_reached when 'email' then v_email_cap when 'phone' then v_phone_cap else v_address_cap end,
                case v_reached when 'client_address' then 'client address' else v_reached end
            )
        );
    end if;
end
$$;

comment on function private.limit_anonymous_action(text, uuid, text, text) is
'Anonymous callers only: refuses (too_many_requests) a booking, cancellation or move once the email or phone has made '
'anonymous_actions_per_email_hour / _per_phone_hour of them in the workspace, or the client address '
'anonymous_actions_per_address_hour anywhere, in the last hour; otherwise records it, and the one that reaches a cap '
'raises the workspace''s abuse_suspected alert.';

create function private.limit_anonymous_booking_action(p_action text, p_booking_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform private.limit_anonymous_action(p_action, b.workspace_id, c.email, coalesce(b.contact_phone, c.phone))
    from public.bookings as b
    inner join public.contacts as c on b.contact_id = c.id
    where b.id = p_booking_id;
end
$$;

comment on function private.limit_anonymous_booking_action(text, uuid) is
'private.limit_anonymous_action for an action on an existing booking (by its contact''s email and the booking''s phone).';

create function private.prune_anonymous_actions()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_deleted integer;
begin
    delete from private.anonymous_actions as a where a.happened_at < pg_catalog.now() - interval '1 day';
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;

comment on function private.prune_anonymous_actions() is
'Daily (careops_prune_anonymous_actions): forgets anonymous actions older than a day; returns how many.';

-- Open slots ----------------------------------------------------------------------------
--
-- Each rule has one home, called by get_available_slots (private.available_slots),
-- book_appointment and reschedule_booking (private.bookable_practitioners):
-- - hours (windows, overrides, closures, DST bounds): private.open_windows (onboarding);
-- - notice and horizon: private.bookable_period;
-- - the grid, the fit in a window, repeated and skipped local times, capacity, and the
--   overlap with live bookings: private.open_slots;
-- - which bookings are in the way of a period: private.bookings_in_the_way.
-- They are SQL without SET clauses, so the planner inlines them into the calling statement:
-- set-based, no function call per row or per request.

-- The live bookings of a practitioner whose blocked period overlaps [p_from, p_to) (none
-- when that is empty), but p_except_booking_id (the booking being moved). `&&` on the live
-- blocked periods is the gist index of bookings_no_overlap: it finds exactly the overlapping
-- rows. Bounds on starts_at for the btree (practitioner_id, starts_at) would have to reach
-- back 20 hours (a booking of 720 minutes with 240-minute buffers), which on a booked-up day
-- reads every booking of the day before to check one start.
create function private.bookings_in_the_way(
    p_practitioner_id uuid, p_from timestamptz, p_to timestamptz, p_except_booking_id uuid
)
returns table (booking_id uuid, blocked_period tstzrange)
language sql
stable
security invoker
as $$
    select b.id, b.blocked_period
    from public.bookings as b
    where
        p_from < p_to
        and b.practitioner_id = p_practitioner_id
        and b.status <> 'cancelled'
        and b.blocked_period && pg_catalog.tstzrange(p_from, p_to, '[)')
        and b.id is distinct from p_except_booking_id
$$;

comment on function private.bookings_in_the_way(uuid, timestamptz, timestamptz, uuid) is
'Live bookings of the practitioner whose blocked period overlaps [p_from, p_to) (but p_except_booking_id), found by '
'the gist index of bookings_no_overlap. Inlinable.';

-- The starts a booking type accepts, seen at p_now: from min_notice_minutes after it to
-- max_days_ahead days (of 1,440 minutes, "of the moment of booking") after it, both included.
create function private.bookable_period(p_booking_type public.booking_types, p_now timestamptz)
returns tstzrange
language sql
stable
security invoker
as $$
    select pg_catalog.tstzrange(
        p_now + (p_booking_type).min_notice_minutes * interval '1 minute',
        p_now + (p_booking_type).max_days_ahead * interval '1440 minutes',
        '[]'
    )
$$;

comment on function private.bookable_period(public.booking_types, timestamptz) is
'Notice and horizon: the starts the booking type accepts at p_now, [now + notice, now + days ahead]. Inlinable.';

-- The offer: every start on the type's grid in a window of the local dates p_from..p_to
-- (private.open_windows) that fits in it and lies in [p_earliest, p_latest], per
-- practitioner, with whether the practitioner is free then (no live booking in the way of
-- [start - buffer before, end + buffer after)) and whether its local date is full (daily
-- capacity). p_moving_booking_id is a booking being moved: it is not in its own way and does
-- not count against the capacity. get_available_slots lists the free starts of days that are
-- not full; booking checks one start with p_earliest = p_latest = the start.
-- On a day without an offset change the grid steps in real time from the window's opening
-- instant, only over the steps within [p_earliest, p_latest]; on a DST change day it steps
-- on local time and converts each time (private.first_instant: a skipped time is dropped, a
-- repeated one is its first occurrence).
create function private.open_slots(
    p_workspace_id uuid,
    p_timezone text,
    p_booking_type public.booking_types,
    p_practitioner_id uuid,
    p_from date,
    p_to date,
    p_earliest timestamptz,
    p_latest timestamptz,
    p_moving_booking_id uuid
)
returns table (
    practitioner_id uuid,
    local_date date,
    irregular boolean,
    starts_at timestamptz,
    free boolean,
    day_full boolean
)
language sql
stable
security invoker
as $$
    with
    -- Days that already hold daily_capacity live bookings of the type.
    full_days as materialized (
        select (b.starts_at at time zone p_timezone)::date as local_date
        from public.bookings as b
        where
            (p_booking_type).daily_capacity is not null
            and b.booking_type_id = (p_booking_type).id
            and b.status <> 'cancelled'
            and b.starts_at >= (p_from::timestamp at time zone p_timezone) - interval '1 day'
            and b.starts_at < ((p_to + 1)::timestamp at time zone p_timezone) + interval '1 day'
            and b.id is distinct from p_moving_booking_id
        group by 1
        having count(*) >= (p_booking_type).daily_capacity
    ),
    -- Each window, and whether its day is full.
    windows as materialized (
        select
            w.practitioner_id,
            w.local_date,
            w.irregular,
            w.local_start,
            w.local_end,
            w.opens,
            w.closes,
            w.local_date in (select fd.local_date from full_days as fd) as day_full
        from private.open_windows(
            p_workspace_id, p_timezone, (p_booking_type).id, p_practitioner_id, p_from, p_to
        ) as w
    ),
    -- Per practitioner, the blocked periods of the bookings in the way of any start its
    -- windows may offer within [p_earliest, p_latest]: one index probe per practitioner, not
    -- per window or per start (for one start, a probe of that start's blocked time).
    busy as materialized (
        select
            s.practitioner_id,
            (
                select pg_catalog.range_agg(o.blocked_period)
                from private.bookings_in_the_way(
                    s.practitioner_id,
                    s.first_start - (p_booking_type).buffer_before_minutes * interval '1 minute',
                    s.last_end + (p_booking_type).buffer_after_minutes * interval '1 minute',
                    p_moving_booking_id
                ) as o
            ) as busy
        from (
            select
                w.practitioner_id,
                greatest(min(w.opens), p_earliest) as first_start,
                least(max(w.closes), p_latest + (p_booking_type).duration_minutes * interval '1 minute') as last_end
            from windows as w
            group by w.practitioner_id
        ) as s
    ),
    candidates as (
        select w.practitioner_id, w.local_date, w.irregular, w.opens, w.closes, bu.busy, w.day_full, g.starts_at
        from windows as w
        inner join busy as bu on w.practitioner_id = bu.practitioner_id
        -- From the first step at or after p_earliest (whole steps from the opening instant).
        cross join lateral pg_catalog.generate_series(
            w.opens + pg_catalog.ceil(
                greatest(pg_catalog.date_part('epoch', p_earliest - w.opens), 0)
                / ((p_booking_type).slot_interval_minutes * 60)
            ) * (p_booking_type).slot_interval_minutes * interval '1 minute',
            least(p_latest, w.closes - (p_booking_type).duration_minutes * interval '1 minute'),
            (p_booking_type).slot_interval_minutes * interval '1 minute'
        ) as g (starts_at)
        where not w.irregular
        union all
        select
            w.practitioner_id,
            w.local_date,
            w.irregular,
            w.opens,
            w.closes,
            bu.busy,
            w.day_full,
            private.first_instant(g.local_slot, p_timezone) as starts_at
        from windows as w
        inner join busy as bu on w.practitioner_id = bu.practitioner_id
        cross join lateral pg_catalog.generate_series(
            w.local_start, w.local_end, (p_booking_type).slot_interval_minutes * interval '1 minute'
        ) as g (local_slot)
        where
            w.irregular
            and g.local_slot < w.local_end
            -- No offset change is 3 hours long: a local time farther from the bounds' local times
            -- never converts into [p_earliest, p_latest]. Cheap, so first_instant runs on the rest only.
            and g.local_slot >= (p_earliest at time zone p_timezone) - interval '3 hours'
            and g.local_slot <= (p_latest at time zone p_timezone) + interval '3 hours'
    )
    select
        c.practitioner_id,
        c.local_date,
        c.irregular,
        c.starts_at,
        c.busy is null or not c.busy && pg_catalog.tstzrange(
            c.starts_at - (p_booking_type).buffer_before_minutes * interval '1 minute',
            c.starts_at + ((p_booking_type).duration_minutes + (p_booking_type).buffer_after_minutes)
            * interval '1 minute',
            '[)'
        ) as free,
        c.day_full
    from candidates as c
    where
        c.starts_at is not null
        and c.starts_at >= c.opens
        and c.starts_at + (p_booking_type).duration_minutes * interval '1 minute' <= c.closes
        and c.starts_at >= p_earliest
        and c.starts_at <= p_latest
$$;

comment on function private.open_slots(
    uuid, text, public.booking_types, uuid, date, date, timestamptz, timestamptz, uuid
) is
'The offer (its one home): starts on the type''s grid in the open windows of local dates p_from..p_to that fit and '
'lie in [p_earliest, p_latest], per practitioner, whether the practitioner is free then and whether the day is full. '
'DST: a skipped local time is never a start, a repeated one only at its first occurrence. Inlinable; docs/booking.md.';

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
    v_bookable tstzrange;
    v_first date;
    v_last date;
begin
    select w.timezone into v_timezone from public.workspaces as w where w.id = p_workspace_id;
    select t.* into v_type from public.booking_types as t
    where t.id = p_booking_type_id and t.workspace_id = p_workspace_id;
    if v_timezone is null or v_type.id is null or p_from is null or p_to is null then
        return;
    end if;
    v_bookable := private.bookable_period(v_type, p_now);
    -- Only the local dates that the bookable period reaches.
    v_first := greatest(p_from, (lower(v_bookable) at time zone v_timezone)::date);
    v_last := least(p_to, (upper(v_bookable) at time zone v_timezone)::date);
    if v_first > v_last then
        return;
    end if;
    return query
    select
        s.starts_at,
        s.starts_at + v_type.duration_minutes * interval '1 minute',
        pg_catalog.array_agg(s.practitioner_id order by s.practitioner_id)
    from private.open_slots(
        p_workspace_id, v_timezone, v_type, p_practitioner_id, v_first, v_last,
        lower(v_bookable), upper(v_bookable), null
    ) as s
    where s.free and not s.day_full
    group by s.starts_at
    order by s.starts_at;
end
$$;

comment on function private.available_slots(uuid, uuid, date, date, uuid, timestamptz) is
'Open starts of a booking type for local dates p_from..p_to as seen at p_now, with the practitioners free '
'for each (optionally one practitioner): the free starts of private.open_slots on days that are not full, within '
'private.bookable_period. The rules are in docs/booking.md.';

-- The one check that a practitioner may take bookings of a type: active and among its
-- performers. Public pages, staff bookings and moves all name practitioners through it.
create function private.require_performer(p_booking_type_id uuid, p_practitioner_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
begin
    if not exists (
        select 1
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where btp.booking_type_id = p_booking_type_id and p.id = p_practitioner_id and p.active
    ) then
        perform private.raise_error('not_found', 'Nobody by this id performs this booking type.');
    end if;
end
$$;

comment on function private.require_performer(uuid, uuid) is
'Raises not_found unless the practitioner is active and performs the booking type.';

-- Resolves what a public booking page names: an active workspace by slug, an active
-- booking type of it (the row returned), and optionally one of the practitioners who
-- perform it. Raises one not_found for all of them, so drafts and other tenants do not leak.
create function private.public_booking_target(p_workspace_slug text, p_booking_type_id uuid, p_practitioner_id uuid)
returns public.booking_types
language plpgsql
stable
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_workspace_id uuid;
    v_type public.booking_types;
begin
    select w.id into v_workspace_id
    from public.workspaces as w
    where
        char_length(p_workspace_slug) <= 100
        and w.slug = pg_catalog.lower(pg_catalog.btrim(p_workspace_slug))
        and w.status = 'active';
    if v_workspace_id is null then
        perform private.raise_error('not_found', 'No active workspace has this address.');
    end if;
    select t.* into v_type
    from public.booking_types as t
    where t.id = p_booking_type_id and t.workspace_id = v_workspace_id and t.active;
    if v_type.id is null then
        perform private.raise_error('not_found', 'This workspace offers no such booking type.');
    end if;
    if p_practitioner_id is not null then
        perform private.require_performer(p_booking_type_id, p_practitioner_id);
    end if;
    return v_type;
end
$$;

comment on function private.public_booking_target(text, uuid, uuid) is
'The active booking type (its row) of the active workspace a public request names, checking that p_practitioner_id, '
'when given, performs it; or not_found.';

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
    v_workspace_id := (private.public_booking_target(p_workspace_slug, p_booking_type_id, p_staff_id)).workspace_id;
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

-- The practitioners who can take a booking of the type at p_starts_at, in the order to
-- try them: p_preferred_id first when free, then the fair rule (fewest live bookings
-- that local day, then the lowest id). Raises too_soon, too_far_ahead,
-- outside_availability or slot_unavailable, in that order. The rules are those of the
-- slot search (private.bookable_period, private.open_slots for this one start), so it
-- accepts exactly the starts get_available_slots offers. p_moving_booking_id is the
-- booking being rescheduled (it does not count against itself). Called by book_appointment
-- and reschedule_booking. Volatile: it takes the daily capacity lock and must see what
-- committed before it got it.
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
    v_bookable tstzrange;
    v_date date;
    v_in_hours boolean;
    v_full boolean;
    v_result uuid [];
begin
    if p_starts_at is null then
        perform private.raise_error('outside_availability', 'A start time is required.');
    end if;
    v_bookable := private.bookable_period(p_booking_type, pg_catalog.now());
    if p_starts_at < lower(v_bookable) then
        perform private.raise_error('too_soon');
    end if;
    if p_starts_at > upper(v_bookable) then
        perform private.raise_error('too_far_ahead');
    end if;
    v_date := (p_starts_at at time zone p_timezone)::date;
    if p_booking_type.daily_capacity is not null then
        -- One booking of the type per local day at a time, so the count below stays true
        -- (taken before the statement below, so it sees what committed before).
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended(p_booking_type.id::text || '/' || v_date::text, 0)
        );
    end if;
    -- One statement: the start in someone's hours (on the grid of a window, no closure,
    -- DST), the day full or not, and the free ones in the order to try them. The order only
    -- orders the attempts; the exclusion constraint settles races. The day's bookings are
    -- counted only when they order something: two or more free (not for a named practitioner).
    select
        count(*) > 0,
        coalesce(pg_catalog.bool_or(c.day_full), false),
        pg_catalog.array_agg(
            c.practitioner_id order by c.practitioner_id is distinct from p_preferred_id, c.taken, c.practitioner_id
        ) filter (where c.free)
    from (
        select
            s.practitioner_id,
            s.free,
            s.day_full,
            case when s.free and pg_catalog.count(*) filter (where s.free) over () > 1 then (
                select count(*) from public.bookings as b
                where
                    b.practitioner_id = s.practitioner_id
                    and b.status <> 'cancelled'
                    and b.starts_at >= private.local_bound(s.local_date::timestamp, p_timezone, s.irregular)
                    and b.starts_at < private.local_bound((s.local_date + 1)::timestamp, p_timezone, s.irregular)
                    and b.id is distinct from p_moving_booking_id
            ) end as taken
        from private.open_slots(
            p_workspace_id, p_timezone, p_booking_type, p_practitioner_id, v_date, v_date,
            p_starts_at, p_starts_at, p_moving_booking_id
        ) as s
    ) as c
    into v_in_hours, v_full, v_result;
    if not v_in_hours then
        perform private.raise_error('outside_availability');
    end if;
    if v_full then
        perform private.raise_error('slot_unavailable', 'The booking type is fully booked that day.');
    end if;
    if v_result is null then
        perform private.raise_error('slot_unavailable');
    end if;
    return v_result;
end
$$;

comment on function private.bookable_practitioners(
    uuid, text, public.booking_types, timestamptz, uuid, uuid, uuid
) is
'Free practitioners for a start, in the order to try them (preferred, then fewest bookings that day, then id), by '
'the rules of the slot search (private.bookable_period, private.open_slots). '
'Errors: outside_availability, too_soon, too_far_ahead, slot_unavailable.';

create function public.book_appointment(
    p_workspace_slug text,
    p_booking_type_id uuid,
    p_starts_at timestamptz,
    p_name text,
    p_email text,
    p_phone text default null,
    p_notes text default null,
    p_staff_id uuid default null
)
returns table (
    booking_id uuid,
    starts_at timestamptz,
    ends_at timestamptz,
    practitioner_id uuid,
    practitioner_name text,
    manage_token text
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
    v_booking_phone text;
    v_status text;
    v_wait boolean := false;
    v_waiting uuid [] := '{}'::uuid [];
begin
    -- The active workspace, its active booking type and the named practitioner, or not_found.
    v_type := private.public_booking_target(p_workspace_slug, p_booking_type_id, p_staff_id);
    select w.id, w.timezone, w.max_active_bookings_per_email into v_workspace_id, v_timezone, v_limit
    from public.workspaces as w
    where w.id = v_type.workspace_id;

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
    -- Churn caps on what the public page sets off (anonymous callers only).
    perform private.limit_anonymous_action('book', v_workspace_id, v_email, v_phone);

    -- The slot: notice, hours, capacity and the free practitioners in the fair order, by the
    -- rules of the slot search (raises too_soon, too_far_ahead, outside_availability,
    -- slot_unavailable).
    v_candidates := private.bookable_practitioners(
        v_workspace_id, v_timezone, v_type, p_starts_at, p_staff_id, null, null
    );

    -- Same email in the same workspace is the same contact. An anonymous caller may create a
    -- contact but never changes one: a phone given for an existing contact is this booking's
    -- number (bookings.contact_phone), not the contact's. The row lock serialises bookings of
    -- one email address, so the limit below holds.
    insert into public.contacts as c (workspace_id, name, email, phone)
    values (v_workspace_id, v_name, v_email, v_phone)
    on conflict on constraint contacts_workspace_id_email_key do nothing
    returning c.id into v_contact_id;
    v_new_contact := v_contact_id is not null;
    if not v_new_contact then
        select c.id, nullif(v_phone, c.phone) into v_contact_id, v_booking_phone
        from public.contacts as c
        where c.workspace_id = v_workspace_id and c.email = v_email
        for update;
    end if;

    -- A contact created just now holds no bookings yet. Past the limit, an anonymous caller gets the
    -- same answer as below it (nothing tells them about the address's bookings): the booking is
    -- held as pending and the address holder is emailed a link to confirm it. A signed-in caller
    -- (staff, who see the contact's bookings anyway) is refused.
    v_status := 'confirmed';
    if not v_new_contact and (
        select count(*) from public.bookings as b
        where b.contact_id = v_contact_id and b.status = 'confirmed' and b.starts_at > pg_catalog.now()
    ) >= v_limit then
        if (select auth.uid()) is not null then
            perform private.raise_error('booking_limit_reached');
        end if;
        v_status := 'pending';
    end if;

    ends_at := p_starts_at + v_type.duration_minutes * interval '1 minute';
    -- First pass: practitioners nobody is booking at this very moment, in the fair order,
    -- so concurrent "anyone" requests spread instead of queueing. Second pass: the ones
    -- that were busy, waiting for them. Each attempt is a savepoint: when the insert fails
    -- (the time was taken meanwhile), the practitioner's lock (taken here and by the
    -- bookings_lock_practitioners trigger) is released and the next one is tried.
    loop
        foreach v_candidate in array v_candidates loop
            begin
                if not v_wait then
                    perform 1 from public.practitioners as p where p.id = v_candidate for no key update skip locked;
                end if;
                if v_wait or found then
                    insert into public.bookings as b (
                        workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at,
                        buffer_before_minutes, buffer_after_minutes, notes, created_by,
                        contact_phone, status, confirm_token_hash
                    )
                    values (
                        v_workspace_id, v_type.id, v_candidate, v_contact_id, p_starts_at, ends_at,
                        v_type.buffer_before_minutes, v_type.buffer_after_minutes, v_notes,
                        (select auth.uid()), v_booking_phone, v_status, null
                    )
                    -- The manage token from the nonce that bookings_derive_manage_token gave the row.
                    returning b.id, private.derived_token(b.id, b.manage_token_nonce) into booking_id, manage_token;
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
        exit when booking_id is not null or v_wait or cardinality(v_waiting) = 0;
        v_candidates := v_waiting;
        v_wait := true;
    end loop;
    if booking_id is null then
        perform private.raise_error('slot_unavailable');
    end if;
    starts_at := p_starts_at;
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = book_appointment.practitioner_id;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.book_appointment(text, uuid, timestamptz, text, text, text, text, uuid) is
'Public booking: books p_starts_at of an active booking type for the named person (email required, phone in '
'international format, optional notes), with p_staff_id or the fair pick of the free practitioners, and returns '
'the booking and its manage token (shown once). It creates a contact for a new email address but never changes an '
'existing one: a phone given for an existing contact is kept on the booking (contact_phone) and gets that booking''s '
'SMS. Anonymous callers are capped (private.limit_anonymous_action); past the per-email limit their booking is held '
'as pending and the address holder is emailed a confirm link (the same answer: nothing tells them the address''s '
'bookings); signed-in callers get booking_limit_reached. Errors: not_found, invalid_name, invalid_email, invalid_phone, '
'invalid_notes, outside_availability, too_soon, too_far_ahead, slot_unavailable, booking_limit_reached, too_many_requests.';

-- Locks the booking and checks that it may still change; returns it.
create function private.lock_changeable_booking(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b where b.id = p_booking_id for no key update;
    if v_booking.id is null then
        perform private.raise_error('not_found', 'No booking matches.');
    end if;
    if v_booking.status = 'cancelled' then
        perform private.raise_error('booking_cancelled');
    end if;
    if v_booking.status not in ('confirmed', 'pending') or v_booking.starts_at <= pg_catalog.now() then
        perform private.raise_error('booking_past');
    end if;
    return v_booking;
end
$$;

comment on function private.lock_changeable_booking(uuid) is
'Locks a booking that may still change, or raises not_found, booking_cancelled or booking_past.';

create function private.cancel_booking(p_booking_id uuid, p_reason text, p_cancelled_by uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_reason text;
    v_booking public.bookings;
begin
    perform private.lock_changeable_booking(p_booking_id);
    if char_length(p_reason) > 10000 then
        perform private.raise_error('invalid_reason');
    end if;
    if p_reason is not null and pg_catalog.btrim(p_reason) <> '' then
        v_reason := private.clean_multiline_text(p_reason, 500, 'invalid_reason');
    end if;
    update public.bookings as b
    set status = 'cancelled', cancelled_at = pg_catalog.now(), cancelled_by = p_cancelled_by,
        cancellation_reason = v_reason
    where b.id = p_booking_id
    returning b.* into v_booking;
    return v_booking;
end
$$;

comment on function private.cancel_booking(uuid, text, uuid) is
'Cancels a confirmed future booking (its time is free again). Errors: not_found, booking_cancelled, booking_past, '
'invalid_reason.';

create function private.reschedule_booking(p_booking_id uuid, p_new_starts_at timestamptz, p_practitioner_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_booking public.bookings := private.lock_changeable_booking(p_booking_id);
    v_workspace public.workspaces;
    v_type public.booking_types;
    v_candidates uuid [];
    v_candidate uuid;
    v_moved public.bookings;
begin
    select w.* into v_workspace from public.workspaces as w where w.id = v_booking.workspace_id;
    if v_workspace.status <> 'active' then
        perform private.raise_error('workspace_inactive');
    end if;
    select t.* into v_type from public.booking_types as t where t.id = v_booking.booking_type_id;
    if p_practitioner_id is not null then
        perform private.require_performer(v_type.id, p_practitioner_id);
    end if;
    v_candidates := private.bookable_practitioners(
        v_workspace.id, v_workspace.timezone, v_type, p_new_starts_at, p_practitioner_id,
        v_booking.practitioner_id, v_booking.id
    );
    foreach v_candidate in array v_candidates loop
        begin
            update public.bookings as b
            set
                starts_at = p_new_starts_at,
                ends_at = p_new_starts_at + v_type.duration_minutes * interval '1 minute',
                buffer_before_minutes = v_type.buffer_before_minutes,
                buffer_after_minutes = v_type.buffer_after_minutes,
                practitioner_id = v_candidate
            where b.id = v_booking.id
            returning b.* into v_moved;
            exit;
        exception when exclusion_violation then
            -- A concurrent booking took this practitioner first: try the next one.
            null;
        end;
    end loop;
    if v_moved.id is null then
        perform private.raise_error('slot_unavailable');
    end if;
    return v_moved;
end
$$;

comment on function private.reschedule_booking(uuid, timestamptz, uuid) is
'Moves a confirmed future booking to a new start under the booking rules, same practitioner first; all or nothing. '
'Errors: not_found, booking_cancelled, booking_past, workspace_inactive, outside_availability, too_soon, '
'too_far_ahead, slot_unavailable.';

-- The booking a manage token opens, or not_found.
create function private.booking_id_by_token(p_token text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_booking_id uuid;
begin
    if p_token is not null and char_length(p_token) between 1 and 200 then
        select b.id into v_booking_id from public.bookings as b where b.manage_token_hash = private.token_hash(p_token);
    end if;
    if v_booking_id is null then
        perform private.raise_error('not_found', 'No booking matches this link.');
    end if;
    return v_booking_id;
end
$$;

comment on function private.booking_id_by_token(text) is
'The booking whose manage token this is, or not_found.';

-- The booking of the caller's workspace (staff or owner), or not_found/forbidden.
create function private.workspace_booking_id(p_booking_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_workspace_id uuid;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select b.workspace_id into v_workspace_id from public.bookings as b where b.id = p_booking_id;
    if v_workspace_id is null or not private.is_member(v_workspace_id) then
        perform private.raise_error('not_found', 'No such booking in your workspaces.');
    end if;
    perform private.require_role(v_workspace_id, 'staff');
    return p_booking_id;
end
$$;

comment on function private.workspace_booking_id(uuid) is
'The booking id when the caller is staff or owner of its workspace; else not_authenticated or not_found.';

-- Public (manage token) -------------------------------------------------------------------
create function public.cancel_booking(
    p_token text,
    p_reason text default null
)
returns table (booking_id uuid, status text, starts_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    booking_id := private.booking_id_by_token(p_token);
    perform private.limit_anonymous_booking_action('cancel', booking_id);
    v_booking := private.cancel_booking(booking_id, p_reason, null);
    booking_id := v_booking.id;
    status := v_booking.status;
    starts_at := v_booking.starts_at;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.cancel_booking(text, text) is
'The customer cancels with the manage token from book_appointment (capped: private.limit_anonymous_action). Errors: '
'not_found, booking_cancelled, booking_past, invalid_reason, too_many_requests.';

create function public.reschedule_booking(
    p_token text,
    p_new_starts_at timestamptz
)
returns table (
    booking_id uuid,
    starts_at timestamptz,
    ends_at timestamptz,
    practitioner_id uuid,
    practitioner_name text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    booking_id := private.booking_id_by_token(p_token);
    perform private.limit_anonymous_booking_action('reschedule', booking_id);
    v_booking := private.reschedule_booking(booking_id, p_new_starts_at, null);
    booking_id := v_booking.id;
    starts_at := v_booking.starts_at;
    ends_at := v_booking.ends_at;
    practitioner_id := v_booking.practitioner_id;
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = v_booking.practitioner_id;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.reschedule_booking(text, timestamptz) is
'The customer moves a booking with its manage token (the token stays valid). Errors: not_found, '
'booking_cancelled, booking_past, workspace_inactive, outside_availability, too_soon, too_far_ahead, '
'slot_unavailable, too_many_requests (capped: private.limit_anonymous_action).';

-- The address holder confirms a booking held as pending (anonymous, past the per-email limit).
create function public.confirm_booking(p_token text)
returns table (booking_id uuid, status text, starts_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    if p_token is not null and char_length(p_token) between 1 and 200 then
        select b.* into v_booking from public.bookings as b
        where b.confirm_token_hash = private.token_hash(p_token)
        for no key update;
    end if;
    if v_booking.id is null or v_booking.status <> 'pending' then
        perform private.raise_error('not_found', 'No booking waits for this confirmation.');
    end if;
    if v_booking.starts_at <= pg_catalog.now() then
        perform private.raise_error('booking_past');
    end if;
    -- The confirmation, its forms and the reminder follow as for any new booking (trigger).
    update public.bookings as b
    set status = 'confirmed', confirm_token_hash = null
    where b.id = v_booking.id
    returning b.id, b.status, b.starts_at into booking_id, status, starts_at;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.confirm_booking(text) is
'The address holder confirms, with the emailed link, a booking held as pending (an anonymous booking for their address '
'past the per-email limit); it then sets off what any new booking does. Errors: not_found, booking_past.';

-- Pending bookings nobody confirmed free their time after a day, silently (no notice).
create function private.release_pending_bookings()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_released integer;
begin
    update public.bookings as b
    set
        status = 'cancelled', cancelled_at = pg_catalog.now(), confirm_token_hash = null,
        cancellation_reason = 'Not confirmed by the address holder within 24 hours.'
    where b.status = 'pending' and (b.created_at < pg_catalog.now() - interval '24 hours' or b.starts_at <= pg_catalog.now());
    get diagnostics v_released = row_count;
    return v_released;
end
$$;

comment on function private.release_pending_bookings() is
'Hourly (careops_release_pending_bookings): pending bookings not confirmed within 24 hours (or whose start came) are '
'cancelled without a notice, freeing their time; returns how many.';

-- What the manage page shows: the booking a token opens, in its current state (a link from a
-- message sent before a reschedule shows the new time; a cancelled booking shows as such).
create function public.get_booking_by_token(p_token text)
returns table (
    booking_id uuid,
    status text,
    starts_at timestamptz,
    ends_at timestamptz,
    timezone text,
    booking_type_id uuid,
    booking_type_name text,
    location text,
    practitioner_name text,
    workspace_name text,
    workspace_slug text,
    cancelled_at timestamptz,
    can_change boolean
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    select
        -- A booking held past the per-email limit shows as confirmed: the link's holder made it,
        -- and whether it is held depends on another person's bookings (issue 17).
        b.id, case b.status when 'pending' then 'confirmed' else b.status end, b.starts_at, b.ends_at, w.timezone,
        t.id, t.name, coalesce(t.location, w.name), coalesce(nullif(pr.full_name, ''), w.name), w.name, w.slug,
        b.cancelled_at,
        b.status in ('confirmed', 'pending') and b.starts_at > pg_catalog.now() and w.status = 'active'
    into
        booking_id, status, starts_at, ends_at, timezone, booking_type_id, booking_type_name, location,
        practitioner_name, workspace_name, workspace_slug, cancelled_at, can_change
    from public.bookings as b
    inner join public.workspaces as w on b.workspace_id = w.id
    inner join public.booking_types as t on b.booking_type_id = t.id
    left join public.practitioners as p on b.practitioner_id = p.id
    left join public.profiles as pr on p.user_id = pr.id
    where b.id = private.booking_id_by_token(p_token);
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.get_booking_by_token(text) is
'The manage page (anon, with the token from book_appointment or a booking message): the booking as it is now: '
'status (confirmed, cancelled, completed, no_show), start, end, the workspace zone, type, location, practitioner, '
'workspace, and whether it can still be cancelled or rescheduled. Errors: not_found.';

-- Staff and owners (booking id, under their membership) -------------------------------------
create function public.cancel_workspace_booking(
    p_booking_id uuid,
    p_reason text default null
)
returns table (booking_id uuid, status text, starts_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    v_booking := private.cancel_booking(
        private.workspace_booking_id(p_booking_id), p_reason, (select auth.uid())
    );
    booking_id := v_booking.id;
    status := v_booking.status;
    starts_at := v_booking.starts_at;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.cancel_workspace_booking(uuid, text) is
'Staff or an owner cancels a booking of their workspace. Errors: not_authenticated, not_found, booking_cancelled, '
'booking_past, invalid_reason.';

create function public.reschedule_workspace_booking(
    p_booking_id uuid,
    p_new_starts_at timestamptz,
    p_staff_id uuid default null
)
returns table (
    booking_id uuid,
    starts_at timestamptz,
    ends_at timestamptz,
    practitioner_id uuid,
    practitioner_name text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    v_booking := private.reschedule_booking(
        private.workspace_booking_id(p_booking_id), p_new_starts_at, p_staff_id
    );
    booking_id := v_booking.id;
    starts_at := v_booking.starts_at;
    ends_at := v_booking.ends_at;
    practitioner_id := v_booking.practitioner_id;
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = v_booking.practitioner_id;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.reschedule_workspace_booking(uuid, timestamptz, uuid) is
'Staff or an owner moves a booking of their workspace under the booking rules (p_staff_id picks the practitioner). '
'Errors: not_authenticated, not_found, booking_cancelled, booking_past, workspace_inactive, outside_availability, '
'too_soon, too_far_ahead, slot_unavailable.';

-- Calendar feeds -------------------------------------------------------------------------------

-- The caller's active practitioner row in the workspace, or not_found.
create function private.own_practitioner_id(p_workspace_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := private.require_role(p_workspace_id, 'staff');
    v_practitioner_id uuid;
begin
    select p.id into v_practitioner_id
    from public.practitioners as p
    where p.workspace_id = p_workspace_id and p.user_id = v_user_id and p.active;
    if v_practitioner_id is null then
        perform private.raise_error('not_found', 'You are not an active practitioner of this workspace.');
    end if;
    return v_practitioner_id;
end
$$;

comment on function private.own_practitioner_id(uuid) is
'The caller''s active practitioner id in the workspace; else not_authenticated, not_found or forbidden.';

create function public.create_calendar_feed(p_workspace_id uuid)
returns table (token text, created_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_practitioner_id uuid := private.own_practitioner_id(p_workspace_id);
begin
    token := private.new_token();
    insert into private.calendar_feeds as f (practitioner_id, token_hash)
    values (v_practitioner_id, private.token_hash(token))
    on conflict (practitioner_id) do update set token_hash = excluded.token_hash, created_at = now()
    returning f.created_at into create_calendar_feed.created_at;
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.create_calendar_feed(uuid) is
'A practitioner (staff or owner with an active practitioner row) makes their private calendar feed: returns its '
'token once (the feed is edge_api GET /calendar/<token>.ics); a new one replaces the previous, whose URL stops '
'working. Errors: not_authenticated, not_found.';

create function public.revoke_calendar_feed(p_workspace_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := private.require_role(p_workspace_id, 'staff');
begin
    delete from private.calendar_feeds as f
    using public.practitioners as p
    where f.practitioner_id = p.id and p.workspace_id = p_workspace_id and p.user_id = v_user_id;
    return found;
end
$$;

comment on function public.revoke_calendar_feed(uuid) is
'The caller revokes their calendar feed in the workspace (its URL answers 404); true when there was one. '
'Errors: not_authenticated, not_found.';

-- One round trip for the feed: null when the token is unknown or revoked, or its practitioner
-- is inactive, removed or no longer a member (edge_api answers 404).
create function private.calendar_feed(p_token text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'practitioner_id', p.id,
        'practitioner_name', coalesce(nullif(pr.full_name, ''), w.name),
        'workspace_name', w.name,
        'timezone', w.timezone,
        'bookings', coalesce(
            (
                select
                    pg_catalog.jsonb_agg(
                        pg_catalog.jsonb_build_object(
                            'id', b.id,
                            'revision', b.revision,
                            'starts_at', b.starts_at,
                            'ends_at', b.ends_at,
                            'booking_type_name', t.name,
                            'location', coalesce(t.location, w.name),
                            'contact_name', c.name,
                            'updated_at', b.updated_at
                        )
                        order by b.starts_at, b.id
                    )
                from public.bookings as b
                inner join public.booking_types as t on b.booking_type_id = t.id
                inner join public.contacts as c on b.contact_id = c.id
                where
                    b.practitioner_id = p.id
                    and b.status = 'confirmed'
                    and b.starts_at > pg_catalog.now() - interval '30 days'
            ),
            '[]'::jsonb
        )
    )
    from private.calendar_feeds as f
    inner join public.practitioners as p on f.practitioner_id = p.id
    inner join public.workspaces as w on p.workspace_id = w.id
    inner join public.workspace_members as m on p.workspace_id = m.workspace_id and p.user_id = m.user_id
    left join public.profiles as pr on p.user_id = pr.id
    where
        char_length(p_token) between 1 and 200
        and f.token_hash = private.token_hash(p_token)
        and p.active;
$$;

comment on function private.calendar_feed(text) is
'edge_api (service_role): the practitioner''s confirmed bookings from 30 days ago on, for their calendar feed; null '
'when the token is unknown or revoked or the practitioner inactive or removed.';

-- Triggers ------------------------------------------------------------------------------

create trigger contacts_touch_updated_at
before update on public.contacts
for each row execute function private.touch_updated_at();

create trigger contacts_validate
before insert or update of name, email, phone on public.contacts
for each row execute function private.validate_contact();

create trigger bookings_touch_updated_at
before update on public.bookings
for each row execute function private.touch_updated_at();

create trigger bookings_derive_manage_token
before insert on public.bookings
for each row execute function private.derive_manage_token();

create trigger bookings_count_revision
before update of starts_at, ends_at, status on public.bookings
for each row when (
    old.starts_at is distinct from new.starts_at
    or old.ends_at is distinct from new.ends_at
    or (old.status is distinct from 'cancelled' and new.status = 'cancelled')
)
execute function private.count_booking_revision();

create trigger bookings_lock_practitioners
before insert or update on public.bookings
for each row execute function private.lock_booking_practitioners();

create trigger bookings_validate_notes
before insert or update of notes on public.bookings
for each row when (new.notes is not null)
execute function private.validate_booking_notes();

create trigger workspaces_validate_booking_limit
before insert or update of max_active_bookings_per_email on public.workspaces
for each row execute function private.validate_booking_limit();

-- Row level security, policies and Realtime ---------------------------------------------

alter table public.contacts enable row level security;

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

alter table public.bookings enable row level security;

-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.calendar_feeds enable row level security;

create policy "members read their workspaces' bookings"
on public.bookings for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "members update their workspaces' bookings"
on public.bookings for update to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.member_workspace_ids())::uuid[]));

-- Staff follow bookings live (Supabase Realtime), where the publication exists.
do $$
begin
    if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        alter publication supabase_realtime add table public.bookings;
    end if;
end
$$;

-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.anonymous_actions enable row level security;

-- Grants --------------------------------------------------------------------------------

revoke all on public.contacts from anon, authenticated;

grant select, delete on public.contacts to authenticated;

grant insert (workspace_id, name, email, phone) on public.contacts to authenticated;

grant update (name, email, phone) on public.contacts to authenticated;

grant all on public.contacts to service_role;

revoke execute on function private.blocked_period(timestamptz, timestamptz, integer, integer) from public;

grant execute on function private.blocked_period(timestamptz, timestamptz, integer, integer)
to authenticated, service_role;

revoke all on public.bookings from anon, authenticated;

grant select on public.bookings to authenticated;

grant update (notes) on public.bookings to authenticated;

grant all on public.bookings to service_role;

revoke execute on function private.lock_booking_practitioners() from public;

revoke execute on function private.derive_manage_token(), private.count_booking_revision() from public;

revoke execute on function private.confirm_token(uuid, bytea) from public;

grant update (max_active_bookings_per_email) on public.workspaces to authenticated;

revoke execute on function
private.bookings_in_the_way(uuid, timestamptz, timestamptz, uuid),
private.bookable_period(public.booking_types, timestamptz),
private.open_slots(uuid, text, public.booking_types, uuid, date, date, timestamptz, timestamptz, uuid)
from public;

grant execute on function
private.bookings_in_the_way(uuid, timestamptz, timestamptz, uuid),
private.bookable_period(public.booking_types, timestamptz),
private.open_slots(uuid, text, public.booking_types, uuid, date, date, timestamptz, timestamptz, uuid)
to service_role;

revoke execute on function private.available_slots(uuid, uuid, date, date, uuid, timestamptz) from public;

grant execute on function private.available_slots(uuid, uuid, date, date, uuid, timestamptz) to service_role;

revoke execute on function private.require_performer(uuid, uuid) from public;

grant execute on function private.require_performer(uuid, uuid) to service_role;

revoke execute on function private.public_booking_target(text, uuid, uuid) from public;

grant execute on function private.public_booking_target(text, uuid, uuid) to service_role;

revoke execute on function public.get_available_slots(text, uuid, date, date, uuid) from public;

grant execute on function public.get_available_slots(text, uuid, date, date, uuid)
to anon, authenticated, service_role;

revoke execute on function
private.bookable_practitioners(uuid, text, public.booking_types, timestamptz, uuid, uuid, uuid)
from public;

grant execute on function
private.bookable_practitioners(uuid, text, public.booking_types, timestamptz, uuid, uuid, uuid)
to service_role;

revoke execute on function public.book_appointment(text, uuid, timestamptz, text, text, text, text, uuid)
from public;

grant execute on function public.book_appointment(text, uuid, timestamptz, text, text, text, text, uuid)
to anon, authenticated, service_role;

revoke execute on function
private.lock_changeable_booking(uuid),
private.cancel_booking(uuid, text, uuid),
private.reschedule_booking(uuid, timestamptz, uuid),
private.booking_id_by_token(text),
private.workspace_booking_id(uuid)
from public;

grant execute on function
private.lock_changeable_booking(uuid),
private.cancel_booking(uuid, text, uuid),
private.reschedule_booking(uuid, timestamptz, uuid),
private.booking_id_by_token(text),
private.workspace_booking_id(uuid)
to service_role;

revoke execute on function
public.cancel_booking(text, text),
public.reschedule_booking(text, timestamptz),
public.cancel_workspace_booking(uuid, text),
public.reschedule_workspace_booking(uuid, timestamptz, uuid)
from public;

grant execute on function
public.cancel_booking(text, text),
public.reschedule_booking(text, timestamptz)
to anon, authenticated, service_role;

revoke execute on function public.confirm_booking(text) from public;

grant execute on function public.confirm_booking(text) to anon, authenticated, service_role;

revoke execute on function private.release_pending_bookings() from public;

grant execute on function private.release_pending_bookings() to service_role;
revoke execute on function public.get_booking_by_token(text) from public;

revoke all on private.calendar_feeds from public, anon, authenticated, service_role;

revoke execute on function
private.own_practitioner_id(uuid),
public.create_calendar_feed(uuid),
public.revoke_calendar_feed(uuid),
private.calendar_feed(text)
from public;

grant execute on function
private.own_practitioner_id(uuid),
public.create_calendar_feed(uuid),
public.revoke_calendar_feed(uuid)
to authenticated, service_role;

grant execute on function private.calendar_feed(text) to service_role;

grant execute on function public.get_booking_by_token(text) to anon, authenticated, service_role;

grant execute on function
public.cancel_workspace_booking(uuid, text),
public.reschedule_workspace_booking(uuid, timestamptz, uuid)
to authenticated, service_role;

revoke all on private.anonymous_actions from public, anon, authenticated;

grant select on private.anonymous_actions to service_role;

revoke execute on function
private.setting_integer(text, integer),
private.client_address(),
private.limit_anonymous_action(text, uuid, text, text),
private.limit_anonymous_booking_action(text, uuid),
private.prune_anonymous_actions()
from public;

grant execute on function private.prune_anonymous_actions() to service_role;

-- Schedules (pg_cron) -------------------------------------------------------------------

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_prune_anonymous_actions';

select cron.schedule('careops_prune_anonymous_actions', '17 4 * * *', 'select private.prune_anonymous_actions()');

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_release_pending_bookings';

select cron.schedule('careops_release_pending_bookings', '45 * * * *', 'select private.release_pending_bookings()');

-- Data ----------------------------------------------------------------------------------

insert into private.error_codes (code, http_status, description) values
(
    'invalid_notes',
    400,
    'Notes have at most 2000 characters, at least one visible, no control characters but line breaks and tabs.'
),
('invalid_booking_limit', 400, 'The limit of active bookings per email address is 1 to 100.'),
('invalid_range', 400, 'A date range needs a first and a last date, the first not after the last.'),
('range_too_long', 400, 'A slot search covers at most 62 days.'),
(
    'outside_availability',
    400,
    'The start is not one the booking type offers: not on its grid, or outside every practitioner''s hours.'
),
('too_soon', 400, 'The start is closer than the booking type''s minimum notice.'),
('too_far_ahead', 400, 'The start is further ahead than the booking type allows.'),
('slot_unavailable', 409, 'Nobody who performs the booking type is free at that time any more.'),
('booking_limit_reached', 409, 'This email address already holds as many upcoming bookings as the workspace allows.'),
(
    'too_many_requests',
    429,
    'Too many bookings, cancellations or changes from this email address, phone or network in the last hour; try later.'
),
('booking_cancelled', 409, 'The booking is already cancelled.'),
('booking_past', 409, 'The booking has started or is over; it can no longer change.'),
('workspace_inactive', 409, 'The workspace does not take bookings at the moment.'),
(
    'invalid_reason',
    400,
    'A reason has at most 500 characters, at least one visible, no control characters but line breaks and tabs.'
);
