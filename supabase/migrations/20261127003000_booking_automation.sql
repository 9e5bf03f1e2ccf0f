-- What contacts and bookings set off, in the transaction that makes the change:
-- a new contact gets a welcome; a new booking a confirmation, its conversation and one form
-- request per attached form; a cancelled or moved booking a notice; a sweep every 30 minutes
-- sends the reminders. Every message is idempotent per cause (see messages.idempotency_key).

-- The channels automated messages to customers go out on; each is sent only where the
-- workspace has it on and has a template for the kind (private.queue_message).
create function private.customer_channels()
returns text []
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
    select array['email', 'sms'];
$$;

comment on function private.customer_channels() is
'The channels an automated message to a customer is tried on, in order.';

-- Placeholders of the booking kinds (private.template_placeholders): times on the workspace's
-- wall clock. manage_url carries the manage token only inside the transaction that made it
-- (book_appointment can pass it with set_config('careops.manage_token', token, true));
-- otherwise it links the workspace's booking page.
create function private.booking_message_values(p_booking_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'contact_name', c.name,
        'workspace_name', w.name,
        'booking_type_name', t.name,
        'practitioner_name', coalesce(nullif(p.full_name, ''), w.name),
        'starts_at_local', private.format_local_time(b.starts_at, w.timezone),
        'ends_at_local', private.format_local_time(b.ends_at, w.timezone),
        'location', coalesce(t.location, w.name),
        'manage_url', coalesce(
            private.public_url('/manage/' || nullif(pg_catalog.current_setting('careops.manage_token', true), '')),
            private.public_url('/' || w.slug)
        )
    )
    from public.bookings as b
    inner join public.workspaces as w on b.workspace_id = w.id
    inner join public.contacts as c on b.contact_id = c.id
    inner join public.booking_types as t on b.booking_type_id = t.id
    left join public.practitioners as pr on b.practitioner_id = pr.id
    left join public.profiles as p on pr.user_id = p.id
    where b.id = p_booking_id;
$$;

comment on function private.booking_message_values(uuid) is
'The placeholder values of a booking message: contact, workspace, type, practitioner, local start and end, location, manage link.';

create function private.queue_booking_message(p_booking_id uuid, p_template_kind text, p_cause text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_contact_id uuid;
    v_values jsonb := private.booking_message_values(p_booking_id);
    v_channel text;
begin
    select b.contact_id into v_contact_id from public.bookings as b where b.id = p_booking_id;
    foreach v_channel in array private.customer_channels() loop
        perform private.queue_message(
            v_contact_id, p_template_kind, v_channel, v_values,
            format('%s:%s:%s:%s', p_template_kind, p_booking_id, p_cause, v_channel),
            p_booking_id
        );
    end loop;
end
$$;

comment on function private.queue_booking_message(uuid, text, text) is
'Queues a booking message of a kind on every customer channel; p_cause makes the idempotency key (e.g. the start it is about).';

-- New contact -> welcome ---------------------------------------------------------------------

create function private.queue_welcome_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_channel text;
begin
    foreach v_channel in array private.customer_channels() loop
        perform private.queue_message(
            new.id, 'welcome', v_channel,
            pg_catalog.jsonb_build_object(
                'contact_name', new.name,
                'workspace_name', (select w.name from public.workspaces as w where w.id = new.workspace_id)
            ),
            format('welcome:%s:%s', new.id, v_channel)
        );
    end loop;
    return null;
end
$$;

comment on function private.queue_welcome_message() is
'Trigger: a new contact gets the welcome message on every channel it can.';

create trigger contacts_queue_welcome_message
after insert on public.contacts
for each row execute function private.queue_welcome_message();

-- New booking -> conversation, confirmation, form requests ----------------------------------

create function private.queue_booking_confirmation()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- The conversation exists even when every channel is off.
    perform private.conversation_for_contact(new.workspace_id, new.contact_id);
    perform private.queue_booking_message(new.id, 'booking_confirmation', 'booked');
    return null;
end
$$;

comment on function private.queue_booking_confirmation() is
'Trigger: a new confirmed booking creates or reuses the contact''s conversation and queues the confirmation.';

create trigger bookings_queue_confirmation
after insert on public.bookings
for each row when (new.status = 'confirmed')
execute function private.queue_booking_confirmation();

create function private.send_booking_forms()
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
    v_channel text;
begin
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
        v_values := private.booking_message_values(new.id) || pg_catalog.jsonb_build_object(
            'form_name', v_form.name,
            'form_url', private.public_url('/forms/' || v_token)
        );
        foreach v_channel in array private.customer_channels() loop
            perform private.queue_message(
                new.contact_id, 'form_request', v_channel, v_values,
                format('form_request:%s:%s', v_submission_id, v_channel), new.id
            );
        end loop;
    end loop;
    return null;
end
$$;

comment on function private.send_booking_forms() is
'Trigger: a new confirmed booking gets one pending form submission per active form attached to its type, each requested with its fill-in link.';

create trigger bookings_send_forms
after insert on public.bookings
for each row when (new.status = 'confirmed')
execute function private.send_booking_forms();

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

alter table public.bookings add column reminded_at timestamptz;

comment on column public.bookings.reminded_at is
'When the reminder for the current start was queued; cleared when the booking moves (private.send_due_reminders).';

-- The sweep reads only confirmed bookings not yet reminded, by start: it costs what is due.
create index bookings_reminder_due_idx on public.bookings (starts_at)
where (status = 'confirmed' and reminded_at is null);

create function private.reset_booking_reminder()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.reminded_at := null;
    return new;
end
$$;

comment on function private.reset_booking_reminder() is
'Trigger: a booking that moves is reminded again for its new start.';

create trigger bookings_reset_reminder
before update of starts_at on public.bookings
for each row when (old.starts_at is distinct from new.starts_at)
execute function private.reset_booking_reminder();

-- Which bookings a sweep at p_now reminds: confirmed, not yet reminded, starting within
-- 24 hours (never past), and either booked at least 24 hours ahead or booked at least 12
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
    v_booking record;
    v_count integer := 0;
begin
    for v_booking in
        select b.id, b.starts_at
        from public.bookings as b
        where
            b.status = 'confirmed'
            and b.reminded_at is null
            and b.starts_at > now()
            and b.starts_at <= now() + interval '24 hours'
            and (b.starts_at - b.created_at >= interval '24 hours' or b.created_at <= now() - interval '12 hours')
        order by b.starts_at, b.id
        -- A concurrent sweep waits here, then sees them reminded and skips them.
        for update of b
    loop
        perform private.queue_booking_message(
            v_booking.id, 'reminder',
            pg_catalog.to_char(v_booking.starts_at at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')
        );
        update public.bookings as b set reminded_at = now() where b.id = v_booking.id;
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;

comment on function private.send_due_reminders() is
'Every 30 minutes (careops_send_due_reminders): queues the reminder (email and SMS where possible) of each confirmed booking starting in the next 24 hours, once per start; bookings made less than 12 hours ago for the next day are not reminded. Returns how many bookings were reminded. Safe to run twice or concurrently.';

revoke execute on function
private.customer_channels(),
private.booking_message_values(uuid),
private.queue_booking_message(uuid, text, text),
private.queue_welcome_message(),
private.queue_booking_confirmation(),
private.send_booking_forms(),
private.queue_cancellation_notice(),
private.queue_reschedule_notice(),
private.reset_booking_reminder(),
private.send_due_reminders()
from public;
grant execute on function
private.customer_channels(),
private.booking_message_values(uuid),
private.queue_booking_message(uuid, text, text),
private.send_due_reminders()
to service_role;

select cron.unschedule(j.jobid) from cron.job as j where j.jobname = 'careops_send_due_reminders';
select cron.schedule('careops_send_due_reminders', '*/30 * * * *', 'select private.send_due_reminders()');
