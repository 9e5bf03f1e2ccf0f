-- Conversations and messages: what the database decided to send (or received), and the one
-- function that queues a message: render, check, insert, enqueue, in the caller's transaction.
--
-- The worker delivers: private.claim_message moves a queued message to sending and
-- returns what to send; private.record_delivery stores the outcome. A job on the queue
-- carries only {"message_id": ...}, never text or a secret.

create table public.conversations (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    contact_id uuid not null,
    unread_count integer not null default 0 check (unread_count >= 0),
    last_message_at timestamptz,
    automation_paused_until timestamptz,
    automation_paused_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint conversations_one_per_contact unique (workspace_id, contact_id),
    constraint conversations_workspace_id_id_key unique (workspace_id, id),
    constraint conversations_contact_fkey foreign key (workspace_id, contact_id)
    references public.contacts (workspace_id, id) on delete cascade
);

comment on table public.conversations is
'One thread per contact and workspace: every message to or from the contact, with unread count and automation pause.';
comment on column public.conversations.unread_count is 'Inbound messages staff have not read yet.';
comment on column public.conversations.last_message_at is 'When the last message was queued or received (inbox order).';
comment on column public.conversations.automation_paused_until is
'While in the future, automated messages to this contact are recorded as skipped (a staff reply pauses; infinity until resumed).';
comment on column public.conversations.automation_paused_by is 'The member whose reply paused automation.';

create index conversations_workspace_id_last_message_at_idx
on public.conversations (workspace_id, last_message_at desc nulls last);
create index conversations_automation_paused_by_idx
on public.conversations (automation_paused_by) where (automation_paused_by is not null);

create table public.messages (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    conversation_id uuid,
    recipient_user_id uuid references auth.users (id) on delete set null,
    booking_id uuid,
    direction text not null check (direction in ('inbound', 'outbound')),
    channel text not null check (channel in ('email', 'sms')),
    kind text not null check (kind in ('automated', 'manual')),
    template_kind text check (template_kind in (
        'welcome', 'booking_confirmation', 'booking_cancelled', 'booking_rescheduled', 'reminder',
        'form_request', 'form_overdue', 'low_stock', 'staff_invitation'
    )),
    subject text check (char_length(subject) <= 1000),
    body text not null check (char_length(body) <= 20000),
    recipient text check (char_length(recipient) <= 320),
    status text not null check (status in ('queued', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'received')),
    skip_reason text check (
        skip_reason in ('automation_paused', 'no_email_address', 'no_phone_number', 'booking_cancelled')
    ),
    provider text check (char_length(provider) <= 63),
    provider_message_id text check (char_length(provider_message_id) <= 255),
    attempts integer not null default 0 check (attempts >= 0),
    last_error text check (char_length(last_error) <= 2000),
    idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
    created_at timestamptz not null default now(),
    claimed_at timestamptz,
    sent_at timestamptz,
    delivered_at timestamptz,
    failed_at timestamptz,
    updated_at timestamptz not null default now(),
    constraint messages_idempotency_key_key unique (workspace_id, idempotency_key),
    constraint messages_conversation_fkey foreign key (workspace_id, conversation_id)
    references public.conversations (workspace_id, id) on delete cascade,
    constraint messages_booking_fkey foreign key (booking_id) references public.bookings (id) on delete set null,
    constraint messages_skipped_have_a_reason check ((status = 'skipped') = (skip_reason is not null)),
    constraint messages_to_a_contact_or_a_member check (
        (conversation_id is not null) or (direction = 'outbound' and recipient_user_id is not null)
    ),
    constraint messages_outbound_statuses check (
        (direction = 'inbound' and status = 'received') or (direction = 'outbound' and status <> 'received')
    )
);

comment on table public.messages is
'Every message in or out: automated ones are queued by the database, the worker delivers and records the outcome here.';
comment on column public.messages.conversation_id is 'The contact''s conversation; null for notices to members (low stock, overdue forms).';
comment on column public.messages.recipient_user_id is 'For notices to members: the member it goes to.';
comment on column public.messages.booking_id is 'The booking that caused it, if any.';
comment on column public.messages.kind is 'automated (queued by the database) or manual (written by staff).';
comment on column public.messages.template_kind is 'Which template rendered it (automated messages).';
comment on column public.messages.subject is 'Email subject; null for SMS.';
comment on column public.messages.body is 'The rendered text, as sent.';
comment on column public.messages.recipient is 'Email address or E.164 number it goes to (or came from); null when the contact has none.';
comment on column public.messages.status is
'queued -> sending -> sent -> delivered, or failed; skipped (never sent, see skip_reason); received (inbound).';
comment on column public.messages.skip_reason is
'Why a message was not sent: automation_paused, no_email_address, no_phone_number, or booking_cancelled (a booking message whose booking was cancelled before delivery).';
comment on column public.messages.provider is 'Who delivered it (resend, smtp, twilio, console).';
comment on column public.messages.provider_message_id is 'The provider''s id, for delivery webhooks.';
comment on column public.messages.attempts is 'Delivery attempts so far (claims by the worker).';
comment on column public.messages.idempotency_key is
'Unique per workspace: the same cause never queues a second message (e.g. reminder:<booking>:<start>:email).';
comment on column public.messages.claimed_at is 'When the worker last claimed it for delivery.';

create index messages_conversation_id_created_at_idx on public.messages (conversation_id, created_at desc);
create index messages_workspace_id_created_at_idx on public.messages (workspace_id, created_at desc);
create index messages_booking_id_idx on public.messages (booking_id) where (booking_id is not null);
create index messages_recipient_user_id_idx on public.messages (recipient_user_id) where (recipient_user_id is not null);
create index messages_provider_message_id_idx on public.messages (provider, provider_message_id)
where (provider_message_id is not null);

alter table public.conversations enable row level security;
alter table public.messages enable row level security;

-- Members read. Writes go through functions (queue_message here; send_message, mark read and
-- resume in the inbox work): who paused, counts and statuses stay honest.
revoke all on public.conversations from anon, authenticated;
grant select on public.conversations to authenticated;
grant all on public.conversations to service_role;

revoke all on public.messages from anon, authenticated;
grant select on public.messages to authenticated;
grant all on public.messages to service_role;

create trigger conversations_touch_updated_at
before update on public.conversations
for each row execute function private.touch_updated_at();

create trigger messages_touch_updated_at
before update on public.messages
for each row execute function private.touch_updated_at();

create policy "members read their workspaces' conversations"
on public.conversations for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "members read their workspaces' messages"
on public.messages for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

-- The inbox shows them live where Supabase Realtime exists.
do $realtime$
begin
    if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        alter publication supabase_realtime add table public.conversations, public.messages, public.alerts;
    end if;
end
$realtime$;

-- Queueing ---------------------------------------------------------------------------------

create function private.conversation_for_contact(p_workspace_id uuid, p_contact_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_conversation_id uuid;
begin
    select c.id into v_conversation_id
    from public.conversations as c
    where c.workspace_id = p_workspace_id and c.contact_id = p_contact_id;
    if v_conversation_id is null then
        insert into public.conversations (workspace_id, contact_id)
        values (p_workspace_id, p_contact_id)
        on conflict (workspace_id, contact_id) do nothing
        returning id into v_conversation_id;
    end if;
    if v_conversation_id is null then
        -- A concurrent transaction created it first.
        select c.id into v_conversation_id
        from public.conversations as c
        where c.workspace_id = p_workspace_id and c.contact_id = p_contact_id;
    end if;
    return v_conversation_id;
end
$$;

comment on function private.conversation_for_contact(uuid, uuid) is
'The contact''s conversation in the workspace, created on first use (one per contact, race-safe).';

-- Inserts the message (queued or skipped) unless its idempotency key is taken, and
-- enqueues its delivery when queued. Returns the message id (the existing one for a
-- taken key), or null when nothing was written (channel off, no template).
create function private.insert_message(
    p_workspace_id uuid,
    p_conversation_id uuid,
    p_recipient_user_id uuid,
    p_booking_id uuid,
    p_template_kind text,
    p_channel text,
    p_recipient text,
    p_skip_reason text,
    p_values jsonb,
    p_idempotency_key text
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_template public.message_templates;
    v_message_id uuid;
begin
    select t.* into v_template
    from public.message_templates as t
    where t.workspace_id = p_workspace_id and t.kind = p_template_kind and t.channel = p_channel;
    if not found then
        return null;
    end if;
    insert into public.messages (
        workspace_id, conversation_id, recipient_user_id, booking_id, direction, channel, kind, template_kind,
        subject, body, recipient, status, skip_reason, idempotency_key
    )
    values (
        p_workspace_id, p_conversation_id, p_recipient_user_id, p_booking_id, 'outbound', p_channel, 'automated',
        p_template_kind,
        private.render_template(v_template.subject, p_values),
        private.render_template(v_template.body, p_values),
        p_recipient,
        case when p_skip_reason is null then 'queued' else 'skipped' end,
        p_skip_reason,
        p_idempotency_key
    )
    on conflict (workspace_id, idempotency_key) do nothing
    returning id into v_message_id;
    if v_message_id is null then
        select m.id into v_message_id
        from public.messages as m
        where m.workspace_id = p_workspace_id and m.idempotency_key = p_idempotency_key;
        return v_message_id;
    end if;
    if p_skip_reason is null then
        perform private.enqueue_job('deliver_message', pg_catalog.jsonb_build_object('message_id', v_message_id));
    end if;
    if p_conversation_id is not null then
        update public.conversations as c
        set last_message_at = now()
        where c.id = p_conversation_id and c.last_message_at is distinct from now();
    end if;
    return v_message_id;
end
$$;

comment on function private.insert_message(uuid, uuid, uuid, uuid, text, text, text, text, jsonb, text) is
'Renders the workspace''s template, inserts the message (queued, or skipped with a reason) once per idempotency key and enqueues deliver_message for a queued one.';

-- Many jobs at once (one pgmq.send_batch): sweeps queue hundreds of messages per statement.
create function private.enqueue_jobs(p_kind text, p_payloads jsonb[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    if coalesce(pg_catalog.cardinality(p_payloads), 0) = 0 then
        return 0;
    end if;
    return (
        select count(*)::integer
        from pgmq.send_batch(
            'jobs',
            array(
                select pg_catalog.jsonb_build_object('kind', p_kind, 'payload', p.payload)
                from unnest(p_payloads) with ordinality as p (payload, ordinal)
                order by p.ordinal
            )
        )
    );
end
$$;

comment on function private.enqueue_jobs(text, jsonb[]) is
'Puts one job {kind, payload} per payload on the jobs queue in one batch; returns how many.';

-- What to queue: a template kind for a contact, with its placeholder values, on one channel or
-- (channel null) on every channel; the idempotency key then gets ':<channel>' appended.
create type private.message_request as (
    contact_id uuid,
    template_kind text,
    channel text,
    template_values jsonb,
    idempotency_key text,
    booking_id uuid
);

comment on type private.message_request is
'One automated message to queue for a contact (channel null: every channel; the key then ends in :<channel>).';

-- The one place automated messages to contacts are queued, set-based: triggers pass one
-- request, the reminder sweep hundreds. Per request and channel: nothing when the channel is
-- off or has no template; skipped with a reason (automation_paused, no_email_address,
-- no_phone_number) when it cannot go; else queued with a deliver_message job. A key already
-- used writes nothing. Returns how many messages were written.
create function private.queue_messages(p_requests private.message_request[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_written integer;
begin
    -- Every contact written to has its conversation (race-safe: the unique index decides).
    insert into public.conversations (workspace_id, contact_id)
    select distinct c.workspace_id, c.id
    from unnest(p_requests) as r
    inner join public.contacts as c on r.contact_id = c.id
    on conflict (workspace_id, contact_id) do nothing;

    with candidates as (
        select
            c.workspace_id,
            v.id as conversation_id,
            r.booking_id,
            r.template_kind,
            ch.channel,
            case ch.channel when 'email' then c.email else c.phone end as recipient,
            case
                when v.automation_paused_until > now() then 'automation_paused'
                when ch.channel = 'email' and c.email is null then 'no_email_address'
                when ch.channel = 'sms' and c.phone is null then 'no_phone_number'
            end as skip_reason,
            private.render_template(t.subject, r.template_values) as subject,
            private.render_template(t.body, r.template_values) as body,
            case
                when r.channel is null then r.idempotency_key || ':' || ch.channel else r.idempotency_key
            end as idempotency_key,
            r.ordinal
        from unnest(p_requests) with ordinality as r (
            contact_id, template_kind, channel, template_values, idempotency_key, booking_id, ordinal
        )
        inner join public.contacts as c on r.contact_id = c.id
        inner join public.communication_settings as s on c.workspace_id = s.workspace_id
        cross join lateral (values ('email', s.email_enabled), ('sms', s.sms_enabled)) as ch (channel, enabled)
        inner join public.message_templates as t
            on c.workspace_id = t.workspace_id and r.template_kind = t.kind and ch.channel = t.channel
        inner join public.conversations as v on c.workspace_id = v.workspace_id and c.id = v.contact_id
        where ch.enabled and (r.channel is null or r.channel = ch.channel)
    ),

    inserted as (
        insert into public.messages (
            workspace_id, conversation_id, booking_id, direction, channel, kind, template_kind,
            subject, body, recipient, status, skip_reason, idempotency_key
        )
        select
            d.workspace_id, d.conversation_id, d.booking_id, 'outbound', d.channel, 'automated', d.template_kind,
            d.subject, d.body, d.recipient,
            case when d.skip_reason is null then 'queued' else 'skipped' end,
            d.skip_reason, d.idempotency_key
        from candidates as d
        order by d.ordinal, d.channel
        on conflict (workspace_id, idempotency_key) do nothing
        returning id, conversation_id, status
    ),

    jobs as (
        select private.enqueue_jobs(
            'deliver_message',
            array(
                select pg_catalog.jsonb_build_object('message_id', i.id)
                from inserted as i where i.status = 'queued' order by i.id
            )
        ) as enqueued
    ),

    touched as (
        update public.conversations as v
        set last_message_at = now()
        where
            v.id in (select i.conversation_id from inserted as i where i.status = 'queued')
            and v.last_message_at is distinct from now()
        returning v.id
    )

    select (select count(*) from inserted)::integer
    into v_written
    from jobs
    where jobs.enqueued >= 0 and (select count(*) from touched) >= 0;
    return v_written;
end
$$;

comment on function private.queue_messages(private.message_request[]) is
'Queues automated messages to contacts in the caller''s transaction, set-based: renders the workspace''s template per request and channel; nothing when the channel is off or has no template; skipped with a reason (automation_paused, no_email_address, no_phone_number) when it cannot go; else queued with a deliver_message job {"message_id"}. Idempotent per key; returns how many messages it wrote.';

create function private.queue_message(
    p_contact_id uuid,
    p_template_kind text,
    p_channel text,
    p_values jsonb,
    p_idempotency_key text,
    p_booking_id uuid default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform private.queue_messages(
        array[
            row(p_contact_id, p_template_kind, p_channel, p_values, p_idempotency_key, p_booking_id)
        ]::private.message_request[]
    );
    return (
        select m.id
        from public.messages as m
        inner join public.contacts as c on m.workspace_id = c.workspace_id
        where c.id = p_contact_id and m.idempotency_key = p_idempotency_key
    );
end
$$;

comment on function private.queue_message(uuid, text, text, jsonb, text, uuid) is
'One automated message to a contact on one channel (see private.queue_messages); returns its id (also when the key was used before), or null when nothing was written (channel off, no template).';

create function private.queue_member_notice(
    p_workspace_id uuid, p_user_id uuid, p_template_kind text, p_values jsonb, p_idempotency_key text
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_email text;
begin
    if not coalesce(
        (select s.email_enabled from public.communication_settings as s where s.workspace_id = p_workspace_id),
        false
    ) then
        return null;
    end if;
    select p.email into v_email
    from public.profiles as p
    inner join public.workspace_members as m on p.id = m.user_id
    where m.workspace_id = p_workspace_id and m.user_id = p_user_id;
    if not found then
        return null;
    end if;
    return private.insert_message(
        p_workspace_id, null, p_user_id, null, p_template_kind, 'email', v_email,
        case when v_email is null then 'no_email_address' end, p_values, p_idempotency_key
    );
end
$$;

comment on function private.queue_member_notice(uuid, uuid, text, jsonb, text) is
'Queues an email notice (low_stock, form_overdue) to a member of the workspace; idempotent per key; nothing when email is off.';

-- Delivery (the worker, as service_role) ----------------------------------------------------

create function private.claim_message(p_message_id uuid)
returns table (
    message_id uuid,
    workspace_id uuid,
    channel text,
    recipient text,
    subject text,
    body text,
    attempts integer,
    sender_name text,
    sender_email text,
    reply_to_email text,
    sms_from_number text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    -- A message about a booking cancelled since it was queued is not sent (the cancellation
    -- notice itself is).
    update public.messages as m
    set status = 'skipped', skip_reason = 'booking_cancelled'
    from public.bookings as b
    where
        m.id = p_message_id
        and m.status = 'queued'
        and b.id = m.booking_id
        and b.status = 'cancelled'
        and m.template_kind is distinct from 'booking_cancelled';
    -- queued -> sending; a claim older than 10 minutes is taken over (the worker crashed).
    return query
    with claimed as (
        update public.messages as m
        set status = 'sending', attempts = m.attempts + 1, claimed_at = now()
        where
            m.id = p_message_id
            and m.direction = 'outbound'
            and (m.status = 'queued' or (m.status = 'sending' and m.claimed_at < now() - interval '10 minutes'))
        returning m.*
    )

    select
        c.id, c.workspace_id, c.channel, c.recipient, c.subject, c.body, c.attempts,
        coalesce(s.sender_name, w.name), s.sender_email, coalesce(s.reply_to_email, s.sender_email),
        s.sms_from_number
    from claimed as c
    inner join public.workspaces as w on c.workspace_id = w.id
    left join public.communication_settings as s on c.workspace_id = s.workspace_id;
end
$$;

comment on function private.claim_message(uuid) is
'Worker: moves a queued message to sending (attempts + 1) and returns what to send with the workspace''s sender details; no row when it is already claimed, sent, skipped or gone, or when its booking was cancelled since (then it becomes skipped: booking_cancelled). A claim older than 10 minutes can be taken over.';

create function private.record_delivery(
    p_message_id uuid,
    p_status text,
    p_provider text default null,
    p_provider_message_id text default null,
    p_error text default null
)
returns public.messages
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_message public.messages;
begin
    if p_status is null or p_status not in ('sent', 'delivered', 'failed', 'queued') then
        raise exception 'a delivery outcome is sent, delivered, failed or queued (to retry), not %', p_status
        using errcode = '22023';
    end if;
    select m.* into v_message from public.messages as m where m.id = p_message_id for update;
    if not found then
        perform private.raise_error('not_found', 'No such message.');
    end if;
    -- Only moves forward: sending -> sent | failed | queued (retry); sending | sent -> delivered.
    if not (
        (v_message.status = 'sending' and p_status in ('sent', 'failed', 'queued', 'delivered'))
        or (v_message.status = 'sent' and p_status = 'delivered')
    ) then
        return v_message;
    end if;
    update public.messages as m
    set
        status = p_status,
        provider = coalesce(p_provider, m.provider),
        provider_message_id = coalesce(p_provider_message_id, m.provider_message_id),
        last_error = case when p_error is null then m.last_error else left(p_error, 2000) end,
        sent_at = case when p_status in ('sent', 'delivered') then coalesce(m.sent_at, now()) else m.sent_at end,
        delivered_at = case when p_status = 'delivered' then now() else m.delivered_at end,
        failed_at = case when p_status = 'failed' then now() else m.failed_at end
    where m.id = p_message_id
    returning m.* into v_message;
    if p_status = 'failed' then
        perform private.raise_alert(
            v_message.workspace_id, 'message_failed', 'message', v_message.id,
            left(
                format(
                    'The %s %s to %s could not be delivered after %s attempts.',
                    v_message.channel,
                    replace(coalesce(v_message.template_kind, 'message'), '_', ' '),
                    coalesce(v_message.recipient, 'nobody'),
                    v_message.attempts
                ),
                500
            ),
            'critical'
        );
    end if;
    return v_message;
end
$$;

comment on function private.record_delivery(uuid, text, text, text, text) is
'Worker: stores a delivery outcome on a message being sent: sent, delivered, failed (final: raises a message_failed alert) or queued (to retry), with provider, provider id and error. Outcomes that would move a message backwards are ignored (the row is returned as it is). Errors: not_found.';

revoke execute on function
private.conversation_for_contact(uuid, uuid),
private.insert_message(uuid, uuid, uuid, uuid, text, text, text, text, jsonb, text),
private.enqueue_jobs(text, jsonb[]),
private.queue_messages(private.message_request[]),
private.queue_message(uuid, text, text, jsonb, text, uuid),
private.queue_member_notice(uuid, uuid, text, jsonb, text),
private.claim_message(uuid),
private.record_delivery(uuid, text, text, text, text)
from public;
grant execute on function
private.conversation_for_contact(uuid, uuid),
private.insert_message(uuid, uuid, uuid, uuid, text, text, text, text, jsonb, text),
private.enqueue_jobs(text, jsonb[]),
private.queue_messages(private.message_request[]),
private.queue_message(uuid, text, text, jsonb, text, uuid),
private.queue_member_notice(uuid, uuid, text, jsonb, text),
private.claim_message(uuid),
private.record_delivery(uuid, text, text, text, text)
to service_role;
