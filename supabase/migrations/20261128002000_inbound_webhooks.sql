-- Inbound: SMS (Twilio) and email (Resend) written by customers, and Resend's delivery events,
-- as edge_api's signed webhooks hand them over (it verifies the signatures, then calls these
-- functions as service_role). Each provider event is processed once: webhook_events keeps the
-- id of every event seen, so a replay writes nothing.
--
-- A bounce or complaint stops email to that address in that workspace until the contact's
-- email address is changed (contacts.email_bounced_at); automated emails to it are recorded as
-- skipped (email_bounced) and send_message refuses with email_bounced.

insert into private.error_codes (code, http_status, description) values
(
    'invalid_signature',
    401,
    'The webhook''s signature does not verify (wrong secret, altered body, or a timestamp outside the tolerance).'
);

-- Contacts who wrote first, and addresses that bounced ---------------------------------------------

alter table public.contacts
add column source text not null default 'direct'
constraint contacts_source_known check (source in ('direct', 'inbound'));

comment on column public.contacts.source is
'direct (booked, or added by staff) or inbound (wrote to the workspace first: no welcome message).';

-- Who wrote: inbound messages are matched by phone within the workspace.
create index contacts_workspace_id_phone_idx on public.contacts (workspace_id, phone) where (phone is not null);

-- Someone who wrote first gets an answer from a person, not an automated welcome.
create or replace function private.queue_welcome_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.source = 'inbound' then
        return null;
    end if;
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
'Trigger: a new contact gets the welcome message on every channel it can, unless they wrote first (source inbound).';

-- Message statuses from delivery events, and a skip reason for bounced addresses ---------------

alter table public.messages drop constraint messages_status_check;
alter table public.messages add constraint messages_status_check check (
    status in ('queued', 'sending', 'sent', 'delivered', 'bounced', 'complained', 'failed', 'skipped', 'received')
);
alter table public.messages drop constraint messages_skip_reason_check;
alter table public.messages add constraint messages_skip_reason_check check (
    skip_reason in ('automation_paused', 'no_email_address', 'no_phone_number', 'booking_cancelled', 'email_bounced')
);

comment on column public.messages.status is
'queued -> sending -> sent -> delivered, or failed; bounced or complained (delivery events); skipped (never sent, see skip_reason); received (inbound).';
comment on column public.messages.skip_reason is
'Why a message was not sent: automation_paused, no_email_address, no_phone_number, booking_cancelled, email_bounced.';

alter table public.alerts drop constraint alerts_kind_check;
alter table public.alerts add constraint alerts_kind_check check (
    kind in ('form_overdue', 'low_stock', 'message_failed', 'email_bounced')
);

comment on column public.alerts.kind is
'form_overdue (subject: a form submission), low_stock (an inventory item), message_failed (a message), email_bounced (a contact).';

create function private.skip_bounced_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if exists (
        select 1 from public.contacts as c
        where c.workspace_id = new.workspace_id and c.email = new.recipient and c.email_bounced_at is not null
    ) then
        new.status := 'skipped';
        new.skip_reason := 'email_bounced';
    end if;
    return new;
end
$$;

comment on function private.skip_bounced_email() is
'Trigger: an email queued to an address that bounced is recorded as skipped (email_bounced) and never delivered.';

create trigger messages_skip_bounced_email
before insert on public.messages
for each row when (
    new.direction = 'outbound' and new.channel = 'email' and new.status = 'queued' and new.conversation_id is not null
)
execute function private.skip_bounced_email();

-- Where inbound mail and texts arrive ---------------------------------------------------------------

create index communication_settings_sms_from_number_idx on public.communication_settings (sms_from_number)
where (sms_from_number is not null);
create index communication_settings_sender_email_idx on public.communication_settings (sender_email)
where (sender_email is not null);

-- Provider events seen -------------------------------------------------------------------------------

create table public.webhook_events (
    provider text not null check (provider in ('twilio', 'resend')),  -- noqa: RF04
    event_id text not null check (char_length(event_id) between 1 and 255),
    event_type text not null check (char_length(event_type) between 1 and 100),
    workspace_id uuid references public.workspaces (id) on delete set null,
    message_id uuid references public.messages (id) on delete set null,
    outcome text not null check (
        outcome in ('received', 'status_updated', 'unknown_message', 'unroutable', 'ignored')
    ),
    received_at timestamptz not null default now(),
    primary key (provider, event_id)
);

comment on table public.webhook_events is
'Every provider webhook event processed (Twilio message SID, Svix message id for Resend): a replay of the same id writes nothing. Service role only.';
comment on column public.webhook_events.event_type is 'sms.received, or Resend''s type (email.delivered, email.bounced, email.received, ...).';
comment on column public.webhook_events.outcome is
'received (an inbound message), status_updated, unknown_message (no message has that provider id), unroutable (no workspace receives at that address), ignored (a type that changes nothing).';

create index webhook_events_workspace_id_idx on public.webhook_events (workspace_id) where (workspace_id is not null);
create index webhook_events_message_id_idx on public.webhook_events (message_id) where (message_id is not null);

alter table public.webhook_events enable row level security;
revoke all on public.webhook_events from anon, authenticated;
grant all on public.webhook_events to service_role;

-- Service role only: no policy for authenticated (RLS on, no grant).

-- Functions edge_api calls -------------------------------------------------------------------------

-- Records the event once; false when it was seen before (a replay: the caller writes nothing).
create function private.claim_webhook_event(p_provider text, p_event_id text, p_event_type text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    insert into public.webhook_events (provider, event_id, event_type, outcome)
    values (p_provider, p_event_id, left(p_event_type, 100), 'ignored')
    on conflict (provider, event_id) do nothing;
    return found;
end
$$;

comment on function private.claim_webhook_event(text, text, text) is
'Records a provider event id (outcome ignored until processed); false when it was recorded before.';

create function private.receive_inbound_message(
    p_provider text,
    p_event_id text,
    p_channel text,
    p_from text,
    p_to text[],
    p_subject text,
    p_body text,
    p_sender_name text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_from text;
    v_workspace_id uuid;
    v_contact_id uuid;
    v_conversation_id uuid;
    v_message_id uuid;
    v_name text;
begin
    if not private.claim_webhook_event(p_provider, p_event_id, p_channel || '.received') then
        return pg_catalog.jsonb_build_object('outcome', 'duplicate');
    end if;
    v_from := case p_channel when 'sms' then private.normalize_phone(p_from) else private.normalize_email(p_from) end;
    -- The workspace that receives at one of the addressed numbers or addresses (the oldest
    -- one if two share it).
    select s.workspace_id into v_workspace_id
    from public.communication_settings as s
    inner join public.workspaces as w on s.workspace_id = w.id
    where
        case p_channel
            when 'sms' then s.sms_from_number = any(
                array(select private.normalize_phone(t) from unnest(p_to) as t)
            )
            else s.sender_email = any(array(select private.normalize_email(t) from unnest(p_to) as t))
        end
    order by w.created_at, w.id
    limit 1;
    if v_workspace_id is null or v_from is null then
        update public.webhook_events as e set outcome = 'unroutable'
        where e.provider = p_provider and e.event_id = p_event_id;
        return pg_catalog.jsonb_build_object('outcome', 'unroutable');
    end if;

    -- Two messages from the same new sender at once make one contact: phones are not unique
    -- per workspace, so the sender is serialised here rather than by an index.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(v_workspace_id::text || ':' || v_from, 0));
    select c.id into v_contact_id
    from public.contacts as c
    where
        c.workspace_id = v_workspace_id
        and case p_channel when 'sms' then c.phone = v_from else c.email = v_from end
    order by c.created_at, c.id
    limit 1;
    if v_contact_id is null then
        v_name := coalesce(
            nullif(left(pg_catalog.btrim(pg_catalog.regexp_replace(coalesce(p_sender_name, ''), '[[:cntrl:]]', ' ', 'g')), 120), ''),
            v_from
        );
        insert into public.contacts (workspace_id, name, email, phone, source)
        values (
            v_workspace_id, v_name,
            case p_channel when 'email' then v_from end,
            case p_channel when 'sms' then v_from end,
            'inbound'
        )
        on conflict (workspace_id, email) do nothing
        returning id into v_contact_id;
        if v_contact_id is null then
            -- The same address wrote twice at once: the other request made the contact.
            select c.id into v_contact_id from public.contacts as c
            where c.workspace_id = v_workspace_id and c.email = v_from;
        end if;
    end if;
    v_conversation_id := private.conversation_for_contact(v_workspace_id, v_contact_id);

    insert into public.messages (
        workspace_id, conversation_id, direction, channel, kind, subject, body, recipient, status,
        provider, provider_message_id, idempotency_key
    )
    values (
        v_workspace_id, v_conversation_id, 'inbound', p_channel, 'manual',
        case when p_channel = 'email' then left(p_subject, 1000) end,
        left(coalesce(p_body, ''), 20000), v_from, 'received',
        p_provider, p_event_id, format('inbound:%s:%s', p_provider, p_event_id)
    )
    returning id into v_message_id;

    update public.webhook_events as e
    set outcome = 'received', workspace_id = v_workspace_id, message_id = v_message_id
    where e.provider = p_provider and e.event_id = p_event_id;
    return pg_catalog.jsonb_build_object(
        'outcome', 'received',
        'workspace_id', v_workspace_id,
        'contact_id', v_contact_id,
        'conversation_id', v_conversation_id,
        'message_id', v_message_id
    );
end
$$;

comment on function private.receive_inbound_message(text, text, text, text, text[], text, text, text) is
'edge_api (service_role), after verifying the webhook: an SMS or email a customer wrote, attached to their conversation in the workspace that receives at p_to (matched by phone or email; an unknown sender becomes a contact with source inbound and no welcome). Raises the unread count. Returns {"outcome": received | duplicate | unroutable, ...}; a duplicate event id writes nothing.';

create function private.record_delivery_event(
    p_event_id text, p_event_type text, p_provider_message_id text
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_message public.messages;
    v_status text := case p_event_type
        when 'email.delivered' then 'delivered'
        when 'email.bounced' then 'bounced'
        when 'email.complained' then 'complained'
    end;
    v_contact public.contacts;
begin
    if not private.claim_webhook_event('resend', p_event_id, p_event_type) then
        return pg_catalog.jsonb_build_object('outcome', 'duplicate');
    end if;
    select m.* into v_message
    from public.messages as m
    where m.provider = 'resend' and m.provider_message_id = p_provider_message_id
    for update;
    if not found then
        update public.webhook_events as e set outcome = 'unknown_message'
        where e.provider = 'resend' and e.event_id = p_event_id;
        return pg_catalog.jsonb_build_object('outcome', 'unknown_message');
    end if;
    update public.webhook_events as e
    set workspace_id = v_message.workspace_id, message_id = v_message.id,
        outcome = case when v_status is null then 'ignored' else 'status_updated' end
    where e.provider = 'resend' and e.event_id = p_event_id;
    if v_status is null then
        return pg_catalog.jsonb_build_object('outcome', 'ignored', 'message_id', v_message.id);
    end if;
    -- Delivered only moves a message forward; a bounce or complaint always wins (it can follow a delivery).
    if v_status = 'delivered' and v_message.status in ('sending', 'sent') then
        update public.messages as m
        set status = 'delivered', delivered_at = now(), sent_at = coalesce(m.sent_at, now())
        where m.id = v_message.id;
    elsif v_status in ('bounced', 'complained') and v_message.status not in ('bounced', 'complained') then
        update public.messages as m
        set status = v_status, failed_at = now(), last_error = format('Resend: %s', p_event_type)
        where m.id = v_message.id;
        update public.contacts as c
        set email_bounced_at = now()
        where c.workspace_id = v_message.workspace_id and c.email = v_message.recipient
        returning c.* into v_contact;
        perform private.raise_alert(
            v_message.workspace_id, 'email_bounced', 'contact',
            coalesce(v_contact.id, v_message.id),
            left(
                format(
                    'Email to %s %s; no more email goes to this address until it is corrected.',
                    coalesce(v_message.recipient, 'a contact'),
                    case v_status when 'bounced' then 'bounced' else 'was marked as spam' end
                ),
                500
            )
        );
    end if;
    return pg_catalog.jsonb_build_object('outcome', 'status_updated', 'message_id', v_message.id, 'status', v_status);
end
$$;

comment on function private.record_delivery_event(text, text, text) is
'edge_api (service_role), after verifying Resend''s signature: email.delivered, email.bounced or email.complained for the message Resend sent as p_provider_message_id. A bounce or complaint marks the message, stops email to the address (contacts.email_bounced_at) and raises an email_bounced alert. Other types are recorded as ignored, an unknown message id as unknown_message; a duplicate event id writes nothing.';

revoke execute on function
private.skip_bounced_email(),
private.claim_webhook_event(text, text, text),
private.receive_inbound_message(text, text, text, text, text[], text, text, text),
private.record_delivery_event(text, text, text)
from public, anon, authenticated;
grant execute on function
private.receive_inbound_message(text, text, text, text, text[], text, text, text),
private.record_delivery_event(text, text, text)
to service_role;
