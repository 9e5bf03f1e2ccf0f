-- What contacts and bookings set off, in the transaction that makes the change:
-- a new contact gets a welcome; a new booking a confirmation, its conversation and one form
-- request per attached form; a cancelled or moved booking a notice; a sweep every 30 minutes
-- sends the reminders. Every message is idempotent per cause (see messages.idempotency_key).

-- Placeholders of the booking kinds (private.template_placeholders): times on the workspace's
-- wall clock. manage_url carries the manage token only inside the transaction that made it
-- (book_appointment can pass it with set_config('careops.manage_token', token, true));
-- otherwise it links the workspace's booking page.
create function private.booking_message_values(p_booking_ids uuid[])
returns table (booking_id uuid, template_values jsonb)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    -- plpgsql keeps this plan; a non-inlined SQL function is planned on every call.
    return query
    select
        b.id,
        pg_catalog.jsonb_build_object(
            'contact_name', c.name,
            'workspace_name', w.name,
            'booking_type_name', t.name,
            'practitioner_name', coalesce(nullif(p.full_name, ''), w.name),
            'starts_at_local', private.format_local_time(b.starts_at, w.timezone),
            'ends_at_local', private.format_local_time(b.ends_at, w.timezone),
            'location', coalesce(t.location, w.name),
            'manage_url', coalesce(
                u.base_url || '/manage/' || nullif(pg_catalog.current_setting('careops.manage_token', true), ''),
                u.base_url || '/' || w.slug
            )
        )
    from public.bookings as b
    inner join public.workspaces as w on b.workspace_id = w.id
    inner join public.contacts as c on b.contact_id = c.id
    inner join public.booking_types as t on b.booking_type_id = t.id
    left join public.practitioners as pr on b.practitioner_id = pr.id
    left join public.profiles as p on pr.user_id = p.id
    cross join (select private.public_url('') as base_url) as u
    where b.id = any(p_booking_ids);
end
$$;

comment on function private.booking_message_values(uuid[]) is
'The placeholder values of booking messages, per booking: contact, workspace, type, practitioner, local start and end, location, manage link.';

create function private.queue_booking_message(p_booking_id uuid, p_template_kind text, p_cause text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform private.queue_messages(
        array(
            select row(
                b.contact_id, p_template_kind, null, v.template_values,
                format('%s:%s:%s', p_template_kind, b.id, p_cause), b.id
            )::private.message_request
            from public.bookings as b
            inner join private.booking_message_values(array[p_booking_id]) as v on b.id = v.booking_id
        )
    );
end
$$;

comment on function private.queue_booking_message(uuid, text, text) is
'Queues a booking message of a kind on every channel it can go; p_cause makes the idempotency key (e.g. the start it is about).';

-- New contact -> welcome ---------------------------------------------------------------------

create function private.queue_welcome_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.queue_messages(
        array[
            row(
                new.id, 'welcome', null,
                pg_catalog.jsonb_build_object(
                    'contact_name', new.name,
                    'workspace_name', (select w.name from public.workspaces as w where w.id = new.workspace_id)
                ),
                format('welcome:%s', new.id), null
            )
        ]::private.message_request[]
    );
    return null;
end
$$;

comment on function private.queue_welcome_message() is
'Trigger: a new contact gets the welcome message on every channel it can.';

create trigger contacts_queue_welcome_message
after insert on public.contacts
for each row execute function private.queue_welcome_message();

-- New booking -> conversation, confirmation, form requests ----------------------------------

-- One trigger for the event: the booking's values are read once and every message
-- (confirmation, one request per form) is queued in one call.
create function private.announce_new_booking()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_form record;
    v_token text;
    v_submission_id uuid;
    v_values jsonb;
    v_requests private.message_request[];
begin
    -- The conversation exists even when every channel is off.
    perform private.conversation_for_contact(new.workspace_id, new.contact_id);
    select v.template_values into v_values from private.booking_message_values(array[new.id]) as v;
    v_requests := array[
        row(
            new.contact_id, 'booking_confirmation', null, v_values, format('booking_confirmation:%s:booked', new.id),
            new.id
        )::private.message_request
    ];
    for v_form in
        select f.id, f.name
        from public.booking_type_forms as btf
        inner join public.intake_forms as f on btf.form_id = f.id
        where btf.booking_type_id = new.booking_type_id and f.active
        order by f.name, f.id
    loop
        v_token := private.new_token();
        insert into public.form_submissions (workspace_id, form_id, booking_id, contact_id, token_hash)
        values (new.workspace_id, v_form.id, new.id, new.contact_id, private.token_hash(v_token))
        on conflict (booking_id, form_id) do nothing
        returning id into v_submission_id;
        continue when v_submission_id is null;
        v_requests := v_requests || row(
            new.contact_id, 'form_request', null,
            v_values || pg_catalog.jsonb_build_object(
                'form_name', v_form.name, 'form_url', private.public_url('/forms/' || v_token)
            ),
            format('form_request:%s', v_submission_id), new.id
        )::private.message_request;
    end loop;
    perform private.queue_messages(v_requests);
    return null;
end
$$;

comment on function private.announce_new_booking() is
'Trigger: a new confirmed booking creates or reuses the contact''s conversation, queues the confirmation, and makes one pending form submission per active form attached to its type, each requested with its fill-in link.';

create trigger bookings_announce_new_booking
after insert on public.bookings
for each row when (new.status = 'confirmed')
execute function private.announce_new_booking();

-- Cancelled / moved -> notice -----------------------------------------------------------------

create function private.queue_cancellation_notice()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.queue_booking_message(new.id, 'booking_cancelled', 'cancelled');
    return null;
end
$$;

comment on function private.queue_cancellation_notice() is
'Trigger: a booking that becomes cancelled sends the customer a cancellation notice.';

create trigger bookings_queue_cancellation_notice
after update of status on public.bookings
for each row when (old.status is distinct from 'cancelled' and new.status = 'cancelled')
execute function private.queue_cancellation_notice();

create function private.queue_reschedule_notice()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.queue_booking_message(
        new.id, 'booking_rescheduled', pg_catalog.to_char(new.starts_at at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')
    );
    return null;
end
$$;

comment on function private.queue_reschedule_notice() is
'Trigger: a confirmed booking moved to another start sends the customer the new time (once per new start).';

create trigger bookings_queue_reschedule_notice
after update of starts_at on public.bookings
for each row when (new.status = 'confirmed' and old.starts_at is distinct from new.starts_at)
execute function private.queue_reschedule_notice();

-- Reminders ----------------------------------------------------------------------------------

-- Which start of which booking was reminded. Keyed by the start: a booking that moves is due
-- again for its new start, with nothing to reset, and the bookings table is never written.
create table private.booking_reminders (
    booking_id uuid not null references public.bookings (id) on delete cascade,
    starts_at timestamptz not null,
    reminded_at timestamptz not null default now(),
    primary key (booking_id, starts_at)
);

comment on table private.booking_reminders is
'Reminders sent: one row per booking and start (private.send_due_reminders); a moved booking is reminded again for its new start.';

revoke all on private.booking_reminders from public, anon, authenticated;
-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.booking_reminders enable row level security;
grant select on private.booking_reminders to service_role;

-- The sweep reads the confirmed bookings of the next 24 hours by start: it costs what is in
-- that window, not the table.
create index bookings_confirmed_starts_at_idx on public.bookings (starts_at) where (status = 'confirmed');

-- Which bookings a sweep reminds: confirmed, starting within 24 hours (never past), not yet
-- reminded for this start, and either booked at least 24 hours ahead or booked at least 12
-- hours ago. A booking made less than 12 hours ago for the next day has just had its
-- confirmation, with the same content: it is not reminded.
create function private.send_due_reminders()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_requests private.message_request[];
begin
    -- Set-based: one statement records the due reminders (a concurrent sweep waits on the
    -- primary key, then records nothing), one queues all their messages.
    with due as (
        select b.id, b.starts_at
        from public.bookings as b
        where
            b.status = 'confirmed'
            and b.starts_at > now()
            and b.starts_at <= now() + interval '24 hours'
            and (b.starts_at - b.created_at >= interval '24 hours' or b.created_at <= now() - interval '12 hours')
            and not exists (
                select 1 from private.booking_reminders as r
                where r.booking_id = b.id and r.starts_at = b.starts_at
            )
    ),

    reminded as (
        insert into private.booking_reminders (booking_id, starts_at)
        select d.id, d.starts_at from due as d
        order by d.starts_at, d.id
        on conflict (booking_id, starts_at) do nothing
        returning booking_id, starts_at
    )

    select array_agg(
        row(
            b.contact_id, 'reminder', null, v.template_values,
            format(
                'reminder:%s:%s', b.id, pg_catalog.to_char(r.starts_at at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')
            ),
            b.id
        )::private.message_request
        order by r.starts_at, b.id
    )
    into v_requests
    from reminded as r
    inner join public.bookings as b on r.booking_id = b.id
    inner join private.booking_message_values(array(select d.id from due as d)) as v on b.id = v.booking_id;
    if v_requests is null then
        return 0;
    end if;
    perform private.queue_messages(v_requests);
    return pg_catalog.cardinality(v_requests);
end
$$;

comment on function private.send_due_reminders() is
'Every 30 minutes (careops_send_due_reminders): queues the reminder (email and SMS where possible) of each confirmed booking starting in the next 24 hours, once per start; bookings made less than 12 hours ago for the next day are not reminded. Returns how many bookings were reminded. Safe to run twice or concurrently.';

revoke execute on function
private.booking_message_values(uuid[]),
private.queue_booking_message(uuid, text, text),
private.queue_welcome_message(),
private.announce_new_booking(),
private.queue_cancellation_notice(),
private.queue_reschedule_notice(),
private.send_due_reminders()
from public;
grant execute on function
private.booking_message_values(uuid[]),
private.queue_booking_message(uuid, text, text),
private.send_due_reminders()
to service_role;

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_send_due_reminders';
select cron.schedule('careops_send_due_reminders', '*/30 * * * *', 'select private.send_due_reminders()');
