-- Messaging: conversations, messages, rendering, what bookings send, delivery.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Template rendering: placeholders {{name}} filled from a jsonb of values, in one pass.
--
-- Templates are validated on write (only the placeholders of their kind), so a
-- placeholder without a value can only be one whose value is missing for this
-- message (a booking without a practitioner name, say): it renders as empty text.
-- One pass means a value is never rendered again: a customer named "{{manage_link}}"
-- stays that text and cannot pull another value into the message.
--
-- Conversations and messages: what the database decided to send (or received), and the one
-- function that queues a message: render, check, insert, enqueue, in the caller's transaction.
--
-- The worker delivers: private.claim_message moves a queued message to sending and
-- returns what to send; private.record_delivery stores the outcome. A job on the queue
-- carries only {"message_id": ...}, never text or a secret.
--
-- What contacts and bookings set off, in the transaction that makes the change:
-- a new contact gets a welcome; a new booking a confirmation, its conversation and one form
-- request per attached form; a cancelled or moved booking a notice; a sweep every 30 minutes
-- sends the reminders. Every message is idempotent per cause (see messages.idempotency_key).
--
-- Message delivery by the worker: a claim with the worker's own time-out, alerts for malformed
-- jobs, requeueing failed messages, and delivery figures for /metrics.
--
-- The worker's deliver_message handler (worker/handlers/messages.py) per job:
--   1. private.claim_message_delivery(id, timeout): queued -> sending (attempts + 1), or a
--      sending row whose claim is older than the time-out (its worker died) taken over;
--      otherwise the row's state, so the job is archived (final) or comes back later;
--   2. sends through the channel's providers with the message's idempotency key;
--   3. private.record_delivery (sent | failed | queued to retry) and the job's archive or
--      pgmq.set_vt, in one transaction.
--
-- Message delivery per read batch: one statement claims every claimable row of a pgmq.read
-- batch, one statement records a group of outcomes and archives (or delays) their jobs.
--
-- The worker's deliver_message handler (worker/handlers/messages.py) used one
-- claim_message_delivery call and one record_delivery + pgmq.archive statement per message:
-- four statements and two plpgsql calls per message. Now, per read batch:
--   1. private.claim_message_deliveries(ids, timeout): the claim of private.claim_message_delivery
--      for every id at once (committed before any send, as before);
--   2. each message is sent on its own thread, as before;
--   3. private.record_deliveries(queue, outcomes): the outcomes that are ready (group commit
--      across the worker's jobs in flight) recorded as record_delivery does, and their jobs
--      archived (sent, failed) or made visible again later (queued to retry, released) in the
--      same transaction.
-- The single-message functions stay (tests, the inbox, requeue paths call record_delivery).
--
-- Templates parsed once, when they are written, not once per message (issue #8: the reminder
-- sweep writes 2,000 messages; rendering each with private.render_template, a regexp split and
-- a regexp match per call, was ~100 ms of it).
--
-- Each subject and body keeps its parsed form in stored generated columns, so it can never
-- disagree with the text: a format() string (the literal text, '%' doubled, and '%<n>$s' for the
-- n-th placeholder) and the placeholder names in order. private.queue_messages fills it with one
-- format() call per message: the values are arguments, never parsed again, so rendering stays
-- one pass (a customer named "{{manage_link}}" stays that text). The text is the same as
-- private.render_template's byte for byte: the same pattern splits the template, a placeholder
-- without a value renders as empty text (format's %s of null), and text that is not a
-- placeholder stays as it is.

-- Types ---------------------------------------------------------------------------------

-- What to queue: a template kind for a contact, with its placeholder values, on one channel or
-- (channel null) on every channel; the idempotency key then gets ':<channel>' appended.
create type private.message_request as (
    contact_id uuid,
    template_kind text,
    channel text,
    template_values jsonb,
    idempotency_key text,
    booking_id uuid,
    booking_revision integer,
    form_submission_id uuid,
    booking_phone text,
    outdated_reason text
);

comment on type private.message_request is
'One automated message to queue for a contact (channel null: every channel; the key then ends in :<channel>); '
'booking_revision: the revision of the booking its values were read from (null: not checked at delivery); '
'form_submission_id: the form a form request asks for (its link''s token goes in at delivery); '
'from the booking as the caller read it (queue_messages does not read it again): booking_phone, the number given '
'with it (its SMS go there rather than to the contact''s), and outdated_reason, why the message is no longer true '
'(private.outdated_booking_message: written skipped).';

-- Tables --------------------------------------------------------------------------------

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
    -- The contact first: the writer finds a contact's conversation by the contact alone.
    constraint conversations_one_per_contact unique (contact_id, workspace_id),
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

create table public.messages (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    conversation_id uuid,
    recipient_user_id uuid references auth.users (id) on delete set null,
    booking_id uuid,
    booking_revision integer,
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
    status text not null check (
        status in ('queued', 'sending', 'sent', 'delivered', 'bounced', 'complained', 'failed', 'skipped', 'received')
    ),
    skip_reason text check (
        skip_reason in (
            'automation_paused', 'no_email_address', 'no_phone_number', 'booking_cancelled', 'booking_changed',
            'email_bounced', 'sms_opted_out', 'email_unsubscribed', 'recipient_cap'
        )
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
    form_submission_id uuid,
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

comment on column public.messages.skip_reason is
'Why a message was not sent: automation_paused, no_email_address, no_phone_number, booking_cancelled, '
'booking_changed (the booking moved after it was written: a newer message states the current time), email_bounced, '
'sms_opted_out (the number texted STOP), email_unsubscribed (one-click unsubscribe, non-transactional kinds only), recipient_cap (too many automated messages to this address or number lately).';

comment on column public.messages.status is
'queued -> sending -> sent -> delivered, or failed; bounced or complained (delivery events); skipped (never sent, see skip_reason); received (inbound).';

comment on column public.messages.conversation_id is 'The contact''s conversation; null for notices to members (low stock, overdue forms).';

comment on column public.messages.recipient_user_id is 'For notices to members: the member it goes to.';

comment on column public.messages.booking_id is 'The booking that caused it, if any.';

comment on column public.messages.booking_revision is
'The booking''s revision when the message was written: a message stating a time is not sent once the booking has '
'another revision (skipped, booking_changed).';

comment on column public.messages.kind is 'automated (queued by the database) or manual (written by staff).';

comment on column public.messages.template_kind is 'Which template rendered it (automated messages).';

comment on column public.messages.subject is 'Email subject; null for SMS.';

comment on column public.messages.body is 'The rendered text, as sent.';

comment on column public.messages.recipient is 'Email address or E.164 number it goes to (or came from); null when the contact has none.';

comment on column public.messages.provider is 'Who delivered it (resend, smtp, twilio, console).';

comment on column public.messages.provider_message_id is 'The provider''s id, for delivery webhooks.';

comment on column public.messages.attempts is 'Delivery attempts so far (claims by the worker).';

comment on column public.messages.idempotency_key is
'Unique per workspace: the same cause never queues a second message (e.g. reminder:<booking>:r<revision>:email).';

comment on column public.messages.claimed_at is 'When the worker last claimed it for delivery.';

-- Sender identities ----------------------------------------------------------------------------

-- A number or address belongs to one workspace and is used only once the platform verified it.
create table public.sender_identities (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    kind text not null check (kind in ('sms_number', 'email_address', 'email_domain', 'inbound_address')),
    value text not null constraint sender_identities_value_fits_kind check (  -- noqa: RF04
        case kind
            when 'sms_number' then value ~ '^\+[1-9][0-9]{6,14}$'
            when 'email_domain'
                then
                    char_length(value) <= 253
                    and value ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
            else char_length(value) <= 254 and value = private.normalize_email(value)
        end
    ),
    status text not null default 'requested' check (status in ('requested', 'verified', 'revoked')),
    requested_by uuid references auth.users (id) on delete set null,
    verified_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint sender_identities_verified_have_verified_at check (status <> 'verified' or verified_at is not null),
    constraint sender_identities_revoked_have_revoked_at check (status <> 'revoked' or revoked_at is not null)
);

comment on table public.sender_identities is
'Numbers and addresses a workspace sends from or receives at. Owners request one; only the platform (service_role) '
'marks it verified, after proving the workspace controls it. Outbound uses only verified ones (else the platform '
'default), inbound is routed only to the active workspace holding the verified one.';

comment on column public.sender_identities.kind is
'sms_number (E.164, sends and receives SMS), email_address (sends, and receives replies), email_domain (sends from '
'any address of it), inbound_address (receives email only).';

comment on column public.sender_identities.value is
'Normalised: E.164 for numbers, lower-case for addresses and domains.';

comment on column public.sender_identities.status is
'requested (by an owner, not used), verified (by the platform; one workspace per value), revoked (no longer used).';

comment on column public.sender_identities.requested_by is 'The owner who asked for it.';

-- Reminders ----------------------------------------------------------------------------------

-- Which revision of which booking was reminded. Keyed by the revision (bookings.revision, + 1 on
-- every move): a booking that moves is due again, also when it moves back to an earlier start,
-- with nothing to reset, and the bookings table is never written.
create table private.booking_reminders (
    booking_id uuid not null references public.bookings (id) on delete cascade,
    revision integer not null,
    reminded_at timestamptz not null default now(),
    primary key (booking_id, revision)
);

comment on table private.booking_reminders is
'Reminders sent: one row per booking and revision (private.send_due_reminders); a moved booking is reminded again.';

-- Indexes -------------------------------------------------------------------------------

create index conversations_workspace_id_last_message_at_idx
on public.conversations (workspace_id, last_message_at desc nulls last);

create index conversations_automation_paused_by_idx
on public.conversations (automation_paused_by) where (automation_paused_by is not null);

create index messages_conversation_id_created_at_idx on public.messages (conversation_id, created_at desc);

create index messages_workspace_id_created_at_idx on public.messages (workspace_id, created_at desc);

create index messages_booking_id_idx on public.messages (booking_id) where (booking_id is not null);

create index messages_recipient_user_id_idx on public.messages (recipient_user_id)
where (recipient_user_id is not null);

-- The per-recipient caps count automated messages to one address or number over the last day.
create index messages_recipient_created_at_idx on public.messages (recipient, created_at)
where (direction = 'outbound' and kind = 'automated');

create index messages_provider_message_id_idx on public.messages (provider, provider_message_id)
where (provider_message_id is not null);

-- The sweep reads the confirmed bookings of the next 24 hours by start: it costs what is in
-- that window, not the table.
create index bookings_confirmed_starts_at_idx on public.bookings (starts_at) where (status = 'confirmed');

-- One workspace per verified number, address or domain (an email_address and an inbound_address
-- are the same mailbox). Requests are not unique across workspaces, so nobody can hold a value
-- hostage by asking for it first; the platform verifies only the one that proved control.
create unique index sender_identities_one_verified_owner
on public.sender_identities ((case kind when 'inbound_address' then 'email_address' else kind end), value)
where (status = 'verified');

create unique index sender_identities_one_live_per_workspace
on public.sender_identities (workspace_id, kind, value) where (status <> 'revoked');

create index sender_identities_requested_by_idx on public.sender_identities (requested_by)
where (requested_by is not null);

-- Functions -----------------------------------------------------------------------------

-- plpgsql, not sql: a non-inlined SQL function is planned again on every call, plpgsql keeps
-- its plan (a sweep renders thousands of messages).
create function private.render_template(p_text text, p_values jsonb)
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    if p_text is null or pg_catalog.strpos(p_text, '{{') = 0 then
        return p_text;
    end if;
    -- The text between placeholders and the placeholders themselves, split by the same
    -- pattern: literal n is followed by placeholder n (the last literal by none).
    return (
    with literals as (
        select s.part, s.ordinal
        from pg_catalog.regexp_split_to_table(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}')
            with ordinality as s (part, ordinal)
    ),

    placeholders as (
        select m.match[1] as name, m.ordinal
        from pg_catalog.regexp_matches(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}', 'g')
            with ordinality as m (match, ordinal)
    )

    select pg_catalog.string_agg(
        l.part || coalesce(coalesce(p_values, '{}'::jsonb) ->> p.name, ''), '' order by l.ordinal
    )
    from literals as l
    left join placeholders as p on l.ordinal = p.ordinal
    );
end
$$;

comment on function private.render_template(text, jsonb) is
'Fills every {{name}} of a template with p_values ->> name (empty when absent), in one pass: values are never re-rendered.';

-- How a time reaches a customer: the workspace's wall clock, in a format that reads the
-- same in every language (ISO date, 24-hour time), with the zone named. SQL without SET
-- clauses: inlined into the statements that write messages, a thousand bookings at a time.
create function private.format_local_time(p_at timestamptz, p_timezone text)
returns text
language sql
stable
parallel safe
security invoker
as $$
    select pg_catalog.to_char(p_at at time zone p_timezone, 'YYYY-MM-DD HH24:MI') || ' (' || p_timezone || ')';
$$;

comment on function private.format_local_time(timestamptz, text) is
'A time as customers read it: "2026-12-01 14:30 (Europe/Paris)", wall clock of the given IANA zone.';

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
set plan_cache_mode = force_generic_plan
as $$
begin
    if coalesce(pg_catalog.cardinality(p_payloads), 0) = 0 then
        return 0;
    end if;
    return (
        select count(*)::integer
        from pgmq.send_batch(
            private.job_queue(p_kind),
            -- In the payloads' order: unnest yields them in array order.
            array(
                select pg_catalog.jsonb_build_object('kind', p_kind, 'payload', p.payload)
                from unnest(p_payloads) as p (payload)
            )
        )
    );
end
$$;

comment on function private.enqueue_jobs(text, jsonb[]) is
'Puts one job {kind, payload} per payload on its queue (private.job_queue) in one batch; returns how many.';

-- The writer: the same statement, rendering from the parsed columns. Its joins run in the order
-- written (join_collapse_limit = 1): a request's contact, settings and conversation are looked
-- up once per request, before the templates fan it out to its channels; the generic plan (10
-- requests assumed) would otherwise look them up once per message. The booking a message is
-- about is not read here: its callers read it already (private.message_request).
create function private.queue_messages(p_requests private.message_request[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
set join_collapse_limit = 1
as $$
declare
    v_written integer;
    -- Automated messages to one address or number over rolling windows, counted on what was
    -- queued to go (not on live bookings): per workspace, and across the platform.
    v_workspace_hour integer := private.setting_integer('messages_per_recipient_workspace_hour', 12);
    v_workspace_day integer := private.setting_integer('messages_per_recipient_workspace_day', 40);
    v_platform_hour integer := private.setting_integer('messages_per_recipient_platform_hour', 24);
    v_platform_day integer := private.setting_integer('messages_per_recipient_platform_day', 80);
begin
    -- Every contact written to has its conversation (race-safe: the unique index decides). Only
    -- the contacts without one reach the contacts and the insert: those that have one (nearly
    -- all) cost one index probe by the contact, not a row built, sorted and conflict-checked.
    insert into public.conversations (workspace_id, contact_id)
    select c.workspace_id, c.id
    from (
        select distinct r.contact_id
        from unnest(p_requests) as r
        where not exists (select 1 from public.conversations as v where v.contact_id = r.contact_id)
    ) as m
    inner join public.contacts as c on m.contact_id = c.id
    on conflict (workspace_id, contact_id) do nothing;

    with candidates as (
        select
            c.workspace_id,
            v.id as conversation_id,
            r.booking_id,
            r.booking_revision,
            r.template_kind,
            t.channel,
            -- A booking's SMS go to the number given with it when that is not the contact's own.
            case t.channel when 'email' then c.email else coalesce(r.booking_phone, c.phone) end as recipient,
            r.outdated_reason,
            case
                when v.automation_paused_until > now() then 'automation_paused'
                when t.channel = 'email' and c.email is null then 'no_email_address'
                when t.channel = 'sms' and coalesce(r.booking_phone, c.phone) is null then 'no_phone_number'
                when
                    t.channel = 'email' and c.email_unsubscribed_at is not null
                    and private.honours_unsubscribe(r.template_kind)
                    then 'email_unsubscribed'
                when
                    sent.workspace_hour >= v_workspace_hour or sent.workspace_day >= v_workspace_day
                    or sent.platform_hour >= v_platform_hour or sent.platform_day >= v_platform_day
                    then 'recipient_cap'
            end as skip_reason,
            -- unnest yields the names in array order and nothing in these subqueries reorders
            -- them, so no ordinality and sort (a sort per message cost 5-8 ms per 2,000 messages);
            -- in the select list (a ProjectSet, not a function scan that stores its rows first).
            pg_catalog.format(
                t.subject_format,
                variadic array(select r.template_values ->> pg_catalog.unnest(t.subject_placeholders))
            ) as subject,
            pg_catalog.format(
                t.body_format,
                variadic array(select r.template_values ->> pg_catalog.unnest(t.body_placeholders))
            ) as body,
            case
                when r.channel is null then r.idempotency_key || ':' || t.channel else r.idempotency_key
            end as idempotency_key,
            r.form_submission_id,
            r.ordinal
        from unnest(p_requests) with ordinality as r (
            contact_id, template_kind, channel, template_values, idempotency_key, booking_id, booking_revision,
            form_submission_id, booking_phone, outdated_reason, ordinal
        )
        inner join public.contacts as c on r.contact_id = c.id
        inner join public.communication_settings as s on c.workspace_id = s.workspace_id
        inner join public.conversations as v on c.workspace_id = v.workspace_id and c.id = v.contact_id
        -- Last: a request fans out to its channels here (join_collapse_limit = 1 keeps this order).
        -- A subquery of its own (offset 0), so the index finds the workspace's templates of the
        -- request's kind: flattened, the generic plan reads all of the workspace's and filters.
        cross join lateral (
            select t.*
            from public.message_templates as t
            where t.workspace_id = c.workspace_id and t.kind = r.template_kind
            offset 0
        ) as t
        left join lateral (
            select
                count(*) filter (
                    where m.workspace_id = c.workspace_id and m.created_at > now() - interval '1 hour'
                ) as workspace_hour,
                count(*) filter (where m.workspace_id = c.workspace_id) as workspace_day,
                count(*) filter (where m.created_at > now() - interval '1 hour') as platform_hour,
                count(*) as platform_day
            from public.messages as m
            where
                m.recipient = case t.channel when 'email' then c.email else coalesce(r.booking_phone, c.phone) end
                and m.direction = 'outbound'
                and m.kind = 'automated'
                and m.status <> 'skipped'
                and m.created_at > now() - interval '1 day'
        ) as sent on true
        where
            case t.channel when 'email' then s.email_enabled when 'sms' then s.sms_enabled else false end
            and (r.channel is null or r.channel = t.channel)
    ),

    inserted as (
        insert into public.messages (
            workspace_id, conversation_id, booking_id, booking_revision, form_submission_id, direction, channel, kind,
            template_kind, subject, body, recipient, status, skip_reason, idempotency_key
        )
        select
            d.workspace_id, d.conversation_id, d.booking_id, d.booking_revision, d.form_submission_id, 'outbound',
            d.channel, 'automated', d.template_kind,
            d.subject, d.body, d.recipient,
            case when coalesce(d.outdated_reason, d.skip_reason) is null then 'queued' else 'skipped' end,
            coalesce(d.outdated_reason, d.skip_reason), d.idempotency_key
        from candidates as d
        order by d.ordinal, d.channel
        on conflict (workspace_id, idempotency_key) do nothing
        returning id, workspace_id, conversation_id, status, skip_reason
    ),

    -- A workspace whose automated messages hit a cap is told (once while the alert is open).
    capped as (
        select private.raise_alert(
            w.workspace_id, 'abuse_suspected', 'workspace', w.workspace_id,
            'Automated messages to one address or number reached the cap; more are recorded as skipped (recipient_cap).'
        ) as alert_id
        from (select distinct i.workspace_id from inserted as i where i.skip_reason = 'recipient_cap') as w
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
    where jobs.enqueued >= 0 and (select count(*) from touched) >= 0 and (select count(*) from capped) >= 0;
    return v_written;
end
$$;

comment on function private.queue_messages(private.message_request[]) is
'Queues automated messages to contacts in the caller''s transaction, set-based: renders the workspace''s template per request and channel (from its parsed columns, one pass); nothing when the channel is off or has no template; skipped with a reason (automation_paused, no_email_address, no_phone_number, email_unsubscribed, recipient_cap: the per-recipient caps, which raise an abuse_suspected alert) when it cannot go; else queued with a deliver_message job {"message_id"}. A message about a booking records the booking''s revision. Idempotent per key; returns how many messages it wrote.';

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
            row(
                p_contact_id, p_template_kind, p_channel, p_values, p_idempotency_key, p_booking_id, null, null,
                (select b.contact_phone from public.bookings as b where b.id = p_booking_id), null
            )
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

-- Sender identities ------------------------------------------------------------------------------

create function private.validate_sender_identity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        if char_length(new.value) > 320 then
            perform private.raise_error('invalid_sender_identity');
        end if;
        new.value := case new.kind
            when 'sms_number' then private.normalize_phone(new.value)
            when 'email_domain' then pg_catalog.lower(pg_catalog.btrim(new.value))
            else private.normalize_email(new.value)
        end;
        if new.value is null or (
            new.kind = 'email_domain'
            and new.value !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
        ) then
            perform private.raise_error(case new.kind when 'sms_number' then 'invalid_phone' else 'invalid_sender_identity' end);
        end if;
        new.requested_by := coalesce(new.requested_by, (select auth.uid()));
    elsif new.kind is distinct from old.kind or new.value is distinct from old.value
        or new.workspace_id is distinct from old.workspace_id then
        perform private.raise_error('invalid_sender_identity', 'Request a new identity instead of changing one.');
    end if;
    if new.status = 'verified' then
        new.verified_at := coalesce(new.verified_at, pg_catalog.now());
    elsif new.status = 'revoked' then
        new.revoked_at := coalesce(new.revoked_at, pg_catalog.now());
    end if;
    -- Someone else's verified value cannot be requested (the unique index refuses a second verification).
    if new.status <> 'revoked' and exists (
        select 1 from public.sender_identities as i
        where
            i.status = 'verified'
            and i.workspace_id <> new.workspace_id
            and i.value = new.value
            and (case i.kind when 'inbound_address' then 'email_address' else i.kind end)
            = (case new.kind when 'inbound_address' then 'email_address' else new.kind end)
    ) then
        perform private.raise_error('sender_identity_taken');
    end if;
    return new;
end
$$;

comment on function private.validate_sender_identity() is
'Trigger: normalises a requested identity (E.164, lower-case address or domain), stamps verified_at/revoked_at, and '
'refuses a value another workspace holds verified. Raises invalid_phone, invalid_sender_identity, sender_identity_taken.';

-- What a workspace's messages go out as: the settings' sender address and number, each only when
-- the platform verified it for this workspace; null means the platform's default identity.
create function private.workspace_senders(p_workspace_id uuid)
returns table (from_email text, reply_to_email text, sms_from_number text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
    select
        -- Sending from an address needs its domain verified (the provider signs for the domain).
        case when exists (
            select 1 from public.sender_identities as i
            where
                i.workspace_id = p_workspace_id and i.status = 'verified' and i.kind = 'email_domain'
                and i.value = pg_catalog.split_part(s.sender_email, '@', 2)
        ) then s.sender_email end,
        coalesce(
            s.reply_to_email,
            case when exists (
                select 1 from public.sender_identities as i
                where
                    i.workspace_id = p_workspace_id and i.status = 'verified'
                    and (
                        (i.kind in ('email_address', 'inbound_address') and i.value = s.sender_email)
                        or (i.kind = 'email_domain' and i.value = pg_catalog.split_part(s.sender_email, '@', 2))
                    )
            ) then s.sender_email end
        ),
        case when exists (
            select 1 from public.sender_identities as i
            where
                i.workspace_id = p_workspace_id and i.status = 'verified' and i.kind = 'sms_number'
                and i.value = s.sms_from_number
        ) then s.sms_from_number end
    from public.communication_settings as s
    where s.workspace_id = p_workspace_id;
end
$$;

comment on function private.workspace_senders(uuid) is
'The workspace''s outbound identities as the worker uses them: From address (sender_email when its domain is a verified '
'email_domain), Reply-To (reply_to_email, else a verified sender_email) and SMS number (sms_from_number when verified); '
'null: the platform''s default (EMAIL_FROM, TWILIO_FROM_NUMBER).';

-- Inbound goes to the one active workspace holding a verified identity it was sent to; never by age.
create function private.receiving_workspace(p_channel text, p_to text[])
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select i.workspace_id
        from unnest(p_to) with ordinality as t (address, ordinal)
        inner join public.sender_identities as i
            on i.value = case p_channel
                when 'sms' then private.normalize_phone(t.address)
                else private.normalize_email(t.address)
            end
        inner join public.workspaces as w on i.workspace_id = w.id
        where
            i.status = 'verified'
            and w.status = 'active'
            and case p_channel
                when 'sms' then i.kind = 'sms_number'
                else i.kind in ('email_address', 'inbound_address')
            end
        order by t.ordinal
        limit 1
    );
end
$$;

comment on function private.receiving_workspace(text, text[]) is
'The active workspace whose verified sms_number (sms) or email_address/inbound_address (email) is one of p_to, in '
'the order of p_to; null when none is.';

-- Which automated emails are not transactional: they carry List-Unsubscribe (RFC 8058 one-click)
-- and are not sent once the contact unsubscribed. Messages about a booking the person made
-- (confirmation, notices, reminder, form request) are transactional; notices go to members.
create function private.honours_unsubscribe(p_template_kind text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
    return coalesce(p_template_kind in ('welcome'), false);
end
$$;

comment on function private.honours_unsubscribe(text) is
'Whether automated email of a template kind is not transactional: it carries a one-click List-Unsubscribe and is '
'skipped (email_unsubscribed) for a contact who used it. Today: welcome.';

-- edge_api (service_role), after verifying the link's signature: the one-click unsubscribe.
create function private.unsubscribe_email(p_message_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_contact_id uuid;
begin
    update public.contacts as c
    set email_unsubscribed_at = coalesce(c.email_unsubscribed_at, pg_catalog.now())
    from public.messages as m
    inner join public.conversations as v on m.conversation_id = v.id
    where m.id = p_message_id and c.id = v.contact_id and c.email = m.recipient
    returning c.id into v_contact_id;
    return pg_catalog.jsonb_build_object(
        'outcome', case when v_contact_id is null then 'unknown_message' else 'unsubscribed' end
    );
end
$$;

comment on function private.unsubscribe_email(uuid) is
'edge_api (service_role), after verifying the signed one-click link of an email: the contact it went to (while that is '
'still their address) gets no more non-transactional automated email (contacts.email_unsubscribed_at). Idempotent.';

-- The links of a booking message are stored as '<base>/manage/…', '<base>/confirm/…' and
-- '<base>/forms/…'; the tokens are put in only in what the claim hands the worker
-- (private.derived_token, private.confirm_token), never in a row or a job.
-- SQL without SET clauses, like private.outdated_booking_message: inlined into the claim, which
-- applies it to every message it claims.
create function private.with_booking_tokens(
    p_body text, p_manage_token text, p_confirm_token text, p_form_token text
)
returns text
language sql
immutable
parallel safe
security invoker
as $$
    select pg_catalog.replace(
        pg_catalog.replace(
            pg_catalog.replace(p_body, '/manage/…', coalesce('/manage/' || p_manage_token, '/manage/…')),
            '/confirm/…',
            coalesce('/confirm/' || p_confirm_token, '/confirm/…')
        ),
        '/forms/…',
        coalesce('/forms/' || p_form_token, '/forms/…')
    );
$$;

comment on function private.with_booking_tokens(text, text, text, text) is
'A booking message''s text as sent: its manage link ''/manage/…'', confirm link ''/confirm/…'' and form link '
'''/forms/…'' with their tokens in (each left as it is when its token is null).';

-- The one rule for a queued booking message whose booking changed after it was written: null
-- while it is still true, else why it is skipped. A cancelled booking sends only its
-- cancellation notice; a moved one (another revision) does not send what states the old time
-- (a form request skipped so is requested again for the new time: private.request_forms_again).
-- SQL without SET clauses: inlined into the statements that apply it (queue_messages writes
-- thousands of messages per call; a call with SET saves and restores settings every time).
create function private.outdated_booking_message(
    p_template_kind text, p_message_revision integer, p_booking_status text, p_booking_revision integer
)
returns text
language sql
immutable
parallel safe
security invoker
as $$
    select case
        when p_template_kind = 'booking_cancelled' then null
        when p_booking_status = 'cancelled' then 'booking_cancelled'
        when p_message_revision <> p_booking_revision then 'booking_changed'
    end;
$$;

comment on function private.outdated_booking_message(text, integer, text, integer) is
'Why a message about a booking is no longer true (booking_cancelled, booking_changed), or null: the skip rule of '
'claims and of booking changes.';

-- A booking that moved or was cancelled skips its queued messages that no longer hold, in the
-- transaction of the change: a worker claiming one at that moment waits for the row and then
-- finds it skipped.
create function private.skip_outdated_booking_messages(p_booking_id uuid)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_skipped integer;
begin
    update public.messages as m
    set
        status = 'skipped',
        skip_reason = private.outdated_booking_message(m.template_kind, m.booking_revision, b.status, b.revision)
    from public.bookings as b
    where
        b.id = p_booking_id
        and m.booking_id = b.id
        and m.status = 'queued'
        and private.outdated_booking_message(m.template_kind, m.booking_revision, b.status, b.revision) is not null;
    get diagnostics v_skipped = row_count;
    return v_skipped;
end
$$;

comment on function private.skip_outdated_booking_messages(uuid) is
'In the transaction that moves or cancels a booking: its queued messages that no longer hold become skipped '
'(private.outdated_booking_message). Returns how many.';

create function private.claim_message_deliveries(p_message_ids uuid[], p_claim_timeout interval)
returns table (
    claimed boolean,
    status text,
    retry_in_seconds integer,
    message_id uuid,
    workspace_id uuid,
    channel text,
    recipient text,
    subject text,
    body text,
    attempts integer,
    idempotency_key text,
    sender_name text,
    sender_email text,
    reply_to_email text,
    sms_from_number text,
    list_unsubscribe boolean,
    calendar_event jsonb
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_claimed uuid[];
begin
    -- A message about a booking cancelled since it was queued is not sent (the cancellation
    -- notice itself is), nor one written for an earlier revision of its booking (it moved: the
    -- reschedule notice states the new time); it becomes skipped and its job archived. The change itself already skipped the queued
    -- ones (private.skip_outdated_booking_messages, under the row locks a claim waits for); this
    -- covers the claims being taken over.
    update public.messages as m
    set
        status = 'skipped',
        skip_reason = private.outdated_booking_message(m.template_kind, m.booking_revision, b.status, b.revision)
    from public.bookings as b
    where
        m.id = any(p_message_ids)
        and (m.status = 'queued' or (m.status = 'sending' and m.claimed_at <= now() - p_claim_timeout))
        and b.id = m.booking_id
        and private.outdated_booking_message(m.template_kind, m.booking_revision, b.status, b.revision) is not null;
    -- Nor an SMS to a number that texted STOP since it was queued (the HELP reply aside).
    update public.messages as m
    set status = 'skipped', skip_reason = 'sms_opted_out'
    from public.sms_opt_outs as o
    where
        m.id = any(p_message_ids)
        and m.status = 'queued'
        and m.channel = 'sms'
        and o.workspace_id = m.workspace_id
        and o.phone = m.recipient
        and m.idempotency_key not like 'sms\_help:%';
    -- One update with the status in its where: a row another worker claims at the same moment
    -- is re-checked after its lock is released and not taken (two workers never both win).
    with claimed as (
        update public.messages as m
        set status = 'sending', attempts = m.attempts + 1, claimed_at = now()
        where
            m.id = any(p_message_ids)
            and m.direction = 'outbound'
            and (m.status = 'queued' or (m.status = 'sending' and m.claimed_at <= now() - p_claim_timeout))
        returning m.id
    )

    select coalesce(array_agg(c.id), '{}') into v_claimed from claimed as c;

    return query
    select
        true, m.status, null::integer, m.id, m.workspace_id, m.channel, m.recipient, m.subject,
        private.with_booking_tokens(m.body, k.token, k.confirm_token, k.form_token),
        m.attempts, m.idempotency_key,
        coalesce(s.sender_name, w.name), v.from_email, v.reply_to_email, v.sms_from_number,
        m.channel = 'email' and m.conversation_id is not null and private.honours_unsubscribe(m.template_kind),
        -- What the worker's calendar invite (worker/calendar.py) says: the booking as the message
        -- states it (an outdated message was skipped above), its revision as the SEQUENCE.
        case
            when
                m.channel = 'email'
                and m.template_kind in ('booking_confirmation', 'booking_rescheduled', 'booking_cancelled')
                then pg_catalog.jsonb_build_object(
                    'uid', b.id,
                    'sequence', coalesce(m.booking_revision, b.revision),
                    'method', case when m.template_kind = 'booking_cancelled' then 'CANCEL' else 'REQUEST' end,
                    'starts_at', b.starts_at,
                    'ends_at', b.ends_at,
                    'timezone', w.timezone,
                    'summary', t.name || ' (' || w.name || ')',
                    'location', coalesce(t.location, w.name),
                    'practitioner_name', coalesce(nullif(pr.full_name, ''), w.name),
                    'manage_url', private.public_url('/manage/' || k.token)
                )
        end
    from public.messages as m
    inner join public.workspaces as w on m.workspace_id = w.id
    left join public.communication_settings as s on m.workspace_id = s.workspace_id
    -- Only identities the platform verified for this workspace; else its default.
    left join lateral private.workspace_senders(m.workspace_id) as v on true
    left join public.bookings as b on m.booking_id = b.id
    left join public.booking_types as t on b.booking_type_id = t.id
    left join public.practitioners as p on b.practitioner_id = p.id
    left join public.profiles as pr on p.user_id = pr.id
    cross join lateral (
        select
            case when b.manage_token_nonce is not null then private.derived_token(b.id, b.manage_token_nonce) end,
            case
                when b.status = 'pending' and b.manage_token_nonce is not null
                    then private.confirm_token(b.id, b.manage_token_nonce)
            end,
            (
                select private.derived_token(f.id, f.token_nonce)
                from public.form_submissions as f
                where f.id = m.form_submission_id
            )
    ) as k (token, confirm_token, form_token)
    where m.id = any(v_claimed);
    -- The rest, in a new snapshot (so a row claimed by another worker meanwhile shows sending):
    -- final (archive the job), being sent by another worker (come back when that claim times
    -- out), or no row at all (gone).
    return query
    select
        false, m.status,
        case
            when m.status = 'sending'
                then greatest(1, ceil(extract(epoch from m.claimed_at + p_claim_timeout - now()))::integer)
        end,
        m.id, m.workspace_id, m.channel, null::text, null::text, null::text, m.attempts, m.idempotency_key,
        null::text, null::text, null::text, null::text, false, null::jsonb
    from public.messages as m
    where m.id = any(p_message_ids) and m.id <> all(v_claimed);
end
$$;

comment on function private.claim_message_deliveries(uuid[], interval) is
'Worker, per pgmq read batch: private.claim_message_delivery for many messages in one statement. Every outbound queued message of p_message_ids (or sending one claimed longer than p_claim_timeout ago) moves to sending (attempts + 1, claimed_at = now()) and comes back with what to send (claimed true; a booking message''s body with its manage link''s token rebuilt, private.with_booking_tokens; list_unsubscribe: the email gets a one-click List-Unsubscribe); a claimable one whose booking was cancelled since becomes skipped (booking_cancelled), one written for an earlier revision of its booking skipped (booking_changed), an SMS to a number that texted STOP since becomes skipped (sms_opted_out). calendar_event: for a confirmation, reschedule or cancellation email, the booking''s invite (uid, sequence = revision, method REQUEST or CANCEL, start, end, zone, summary, location, practitioner, manage link). Every other existing message comes back with its status and claimed false (while another worker''s claim is live, retry_in_seconds until it times out); a message that is gone has no row.';

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
    -- A claim older than 10 minutes is taken over (the worker crashed).
    return query
    select
        c.message_id, c.workspace_id, c.channel, c.recipient, c.subject, c.body, c.attempts,
        c.sender_name, c.sender_email, c.reply_to_email, c.sms_from_number
    from private.claim_message_deliveries(array[p_message_id], interval '10 minutes') as c
    where c.claimed;
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

create function private.booking_message_values(p_booking_ids uuid[])
returns table (
    booking_id uuid, revision integer, workspace_id uuid, booking_type_id uuid, contact_id uuid, status text,
    contact_phone text, held boolean, created_at timestamptz, template_values jsonb
)
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    v_manage_url text := private.public_url('/manage/…');
begin
    -- plpgsql keeps this plan; a non-inlined SQL function is planned on every call.
    return query
    select
        b.id,
        b.revision,
        b.workspace_id,
        b.booking_type_id,
        b.contact_id,
        b.status,
        b.contact_phone,
        -- Past the per-email limit and not confirmed: it has a confirm hash.
        b.confirm_token_hash is not null,
        b.created_at,
        pg_catalog.jsonb_build_object(
            'contact_name', c.name,
            'workspace_name', w.name,
            'booking_type_name', t.name,
            'practitioner_name', coalesce(nullif(p.full_name, ''), w.name),
            'starts_at_local', private.format_local_time(b.starts_at, w.timezone),
            'ends_at_local', private.format_local_time(b.ends_at, w.timezone),
            'location', coalesce(t.location, w.name),
            -- The token is a secret: the message keeps '/manage/…', the claim puts the token in
            -- (private.with_booking_tokens) when the worker takes the message to send it.
            'manage_url', v_manage_url
        )
    from public.bookings as b
    inner join public.workspaces as w on b.workspace_id = w.id
    inner join public.contacts as c on b.contact_id = c.id
    inner join public.booking_types as t on b.booking_type_id = t.id
    left join public.practitioners as pr on b.practitioner_id = pr.id
    left join public.profiles as p on pr.user_id = p.id
    where b.id = any(p_booking_ids);
end
$$;

comment on function private.booking_message_values(uuid[]) is
'The placeholder values of booking messages, per booking and the revision they were read at: contact, workspace, type, practitioner, local start and end, location, manage link (<base>/manage/…: the token goes in at delivery, private.with_booking_tokens); with what the writers decide by, read in the same pass: workspace, type, contact, status, the number given with the booking, whether it is held (unconfirmed past the per-email limit) and when it was made.';

-- To the address a pending booking was made for (anonymously, past the per-email limit): a link
-- to confirm it. Email only: the number given with the booking may be the stranger's.
create function private.queue_booking_confirm_request(p_booking_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_message_id uuid;
begin
    insert into public.messages (
        workspace_id, conversation_id, booking_id, direction, channel, kind, subject, body, recipient, status,
        idempotency_key
    )
    select
        b.workspace_id,
        private.conversation_for_contact(b.workspace_id, b.contact_id),
        b.id, 'outbound', 'email', 'automated',
        left(format('Please confirm your booking with %s', w.name), 1000),
        left(
            format(
                E'Hello %s,\n\nA booking was requested for this email address: %s with %s on %s.\n\n'
                'You already hold several upcoming bookings with us, so we hold this one until you confirm it:\n%s\n\n'
                'If you did not ask for it, ignore this email: it is released in 24 hours.',
                c.name, t.name, w.name, private.format_local_time(b.starts_at, w.timezone),
                private.public_url('/confirm/…')
            ),
            20000
        ),
        c.email, 'queued', format('booking_confirm_request:%s', b.id)
    from public.bookings as b
    inner join public.contacts as c on b.contact_id = c.id
    inner join public.workspaces as w on b.workspace_id = w.id
    inner join public.booking_types as t on b.booking_type_id = t.id
    where b.id = p_booking_id and c.email is not null
    on conflict (workspace_id, idempotency_key) do nothing
    returning id into v_message_id;
    if v_message_id is not null and (select m.status from public.messages as m where m.id = v_message_id) = 'queued' then
        perform private.enqueue_job('deliver_message', pg_catalog.jsonb_build_object('message_id', v_message_id));
    end if;
    return v_message_id;
end
$$;

comment on function private.queue_booking_confirm_request(uuid) is
'Emails the contact of a pending booking the link that confirms it (/confirm/…: the token, private.confirm_token, goes '
'in at delivery and is stored nowhere); a bounced address gets nothing (skipped). Idempotent per booking.';

-- The outbox ---------------------------------------------------------------------------------
-- A booking or contact change writes its own rows and one message_events job, nothing more: the
-- customer waits only for the booking. The worker turns events into messages in batches
-- (private.write_event_messages), each (booking, revision, kind) once, so a replayed batch
-- writes nothing and events handled in any order leave the same messages.

-- What changed about a booking, as an event for the worker: booked (inserted confirmed, or a
-- pending one confirmed), pending (held past the per-email limit), cancelled (a confirmed one),
-- rescheduled (a confirmed one moved). A change also skips, in its own transaction, the queued
-- messages it makes untrue: a worker claiming one at that moment waits for the row and then
-- finds it skipped.
create function private.publish_booking_event()
returns trigger
language plpgsql
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    v_kind text;
begin
    v_kind := case
        when tg_op = 'INSERT' then case new.status when 'confirmed' then 'booked' when 'pending' then 'pending' end
        when old.status = 'pending' and new.status = 'confirmed' then 'booked'
        -- A held booking cancelled by its link (not released unconfirmed: that clears the hash).
        when
            new.status = 'cancelled'
            and (old.status = 'confirmed' or (old.status = 'pending' and new.confirm_token_hash is not null))
            then 'cancelled'
        when new.status in ('confirmed', 'pending') and old.starts_at is distinct from new.starts_at then 'rescheduled'
    end;
    if v_kind is null then
        return null;
    end if;
    if v_kind in ('cancelled', 'rescheduled') then
        perform private.skip_outdated_booking_messages(new.id);
    end if;
    perform private.enqueue_events(
        pg_catalog.jsonb_build_array(
            pg_catalog.jsonb_build_object('kind', v_kind, 'booking_id', new.id, 'revision', new.revision)
        )
    );
    return null;
end
$$;

comment on function private.publish_booking_event() is
'Trigger: one message_events job per booking change the customer hears about (booked, pending, cancelled, '
'rescheduled, with the booking''s revision); a cancellation or move first skips the queued messages it makes untrue '
'(private.skip_outdated_booking_messages).';

-- A contact created on its own (staff, import) is welcomed through its own event; one created
-- with a booking is welcomed by that booking's event, in order before its confirmation. Checked
-- at commit (deferred), when the booking is there; someone who wrote first (inbound) gets an
-- answer from a person instead.
create function private.publish_contact_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if exists (select 1 from public.bookings as b where b.contact_id = new.id and b.created_at = new.created_at) then
        return null;
    end if;
    perform private.enqueue_events(
        pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('kind', 'contact_created', 'contact_id', new.id))
    );
    return null;
end
$$;

comment on function private.publish_contact_event() is
'Deferred trigger: a contact created without a booking in its transaction gets a message_events job '
'(contact_created: the welcome); one created with a booking is welcomed by the booking''s event.';

-- A moved booking's form requests that were skipped before they went (they stated the old
-- time) are requested again for the new time, with a new link: the old token was never sent,
-- so the submission gets a new nonce (its token and hash change). A request that went stays.
create function private.request_forms_again(p_booking_ids uuid[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_requests private.message_request[];
begin
    with again as (
        update public.form_submissions as s
        set token_nonce = extensions.gen_random_bytes(16)
        from public.bookings as b
        where
            s.booking_id = any(p_booking_ids)
            and b.id = s.booking_id
            and b.status = 'confirmed'
            and s.status = 'pending'
            and exists (
                select 1 from public.messages as m
                where m.form_submission_id = s.id and m.skip_reason = 'booking_changed'
            )
            and not exists (
                select 1 from public.messages as m
                where
                    m.form_submission_id = s.id
                    and m.status in ('queued', 'sending', 'sent', 'delivered', 'bounced', 'complained', 'failed')
            )
        returning s.id, s.form_id, s.booking_id, b.contact_id, b.revision
    )

    select array_agg(
        row(
            a.contact_id, 'form_request', null,
            v.template_values || pg_catalog.jsonb_build_object(
                'form_name', f.name, 'form_url', private.public_url('/forms/…')
            ),
            format('form_request:%s:r%s', a.id, a.revision), a.booking_id, a.revision, a.id, v.contact_phone,
            private.outdated_booking_message('form_request', a.revision, v.status, v.revision)
        )::private.message_request
        order by a.booking_id, f.name, a.id
    )
    into v_requests
    from again as a
    inner join public.intake_forms as f on a.form_id = f.id
    inner join private.booking_message_values(p_booking_ids) as v on a.booking_id = v.booking_id;
    if v_requests is null then
        return 0;
    end if;
    return private.queue_messages(v_requests);
end
$$;

comment on function private.request_forms_again(uuid[]) is
'After a move: each pending form of the bookings whose request was skipped before it went (booking_changed) is '
'requested again for the new time with a new link (a new nonce: the unsent token is replaced). Returns the messages '
'written.';

-- The worker's one writer for events. Messages about a booking are rendered from its current
-- state and stamped with the event's revision: what a later change made untrue is written as
-- skipped by the rule deliveries use (private.outdated_booking_message), so a booking cancelled
-- before its confirmation was written gets none, and nothing stale. Form requests always state
-- the current booking, so a move handled first does not lose them.
create function private.write_event_messages(p_events jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    v_requests private.message_request[];
    v_held uuid[];
    v_moved uuid[];
    v_written integer;
    v_form_url text := private.public_url('/forms/…');
begin
    if pg_catalog.jsonb_typeof(p_events) is distinct from 'array' then
        raise exception 'events must be a JSON array' using errcode = '22023';
    end if;
    with events as (
        select
            e.ordinal,
            e.event ->> 'kind' as kind,
            (e.event ->> 'booking_id')::uuid as booking_id,
            (e.event ->> 'revision')::integer as revision,
            (e.event ->> 'contact_id')::uuid as contact_id
        from pg_catalog.jsonb_array_elements(p_events) with ordinality as e (event, ordinal)
    ),

    -- Each booking of the batch read once: its values and everything the statement decides by.
    booking_values as (
        select v.*
        from private.booking_message_values(
            array(select e.booking_id from events as e where e.booking_id is not null)
        ) as v
    ),

    -- One pending submission per active form of the type, while the booking stands.
    new_forms as (
        insert into public.form_submissions (workspace_id, form_id, booking_id, contact_id, token_nonce)
        select v.workspace_id, f.id, v.booking_id, v.contact_id, extensions.gen_random_bytes(16)
        from events as e
        inner join booking_values as v on e.booking_id = v.booking_id
        inner join public.booking_type_forms as btf on v.booking_type_id = btf.booking_type_id
        inner join public.intake_forms as f on btf.form_id = f.id
        where e.kind = 'booked' and v.status = 'confirmed' and f.active
        order by e.ordinal, f.name, f.id
        on conflict (booking_id, form_id) do nothing
        returning id, form_id, booking_id
    ),

    requests as (
        -- The welcome: a contact created on its own, or with this event's booking.
        select
            e.ordinal, 0 as part, null::text as sort_name, c.id as contact_id, 'welcome' as template_kind,
            pg_catalog.jsonb_build_object('contact_name', c.name, 'workspace_name', w.name) as template_values,
            format('welcome:%s', c.id) as idempotency_key,
            null::uuid as booking_id, null::integer as booking_revision, null::uuid as form_submission_id,
            null::text as channel, null::text as booking_phone, null::text as outdated_reason
        from events as e
        left join booking_values as v on e.booking_id = v.booking_id
        inner join public.contacts as c on coalesce(e.contact_id, v.contact_id) = c.id
        inner join public.workspaces as w on c.workspace_id = w.id
        where
            c.source is distinct from 'inbound'
            and (e.kind = 'contact_created' or (e.kind in ('booked', 'pending') and c.created_at = v.created_at))
        union all
        -- What the event is about, at the event's revision. A held booking (past the per-email
        -- limit, not confirmed: it has a confirm hash) is told by SMS to the number given with it
        -- exactly as a confirmed one would be, so that number cannot tell them apart; its address
        -- holder hears only the confirm request.
        select
            e.ordinal, 1, null, v.contact_id, k.template_kind, v.template_values,
            format(k.key_format, v.booking_id, e.revision) || case when v.held then ':sms' else '' end,
            v.booking_id, e.revision, null,
            case when v.held then 'sms' end,
            v.contact_phone,
            -- Written after its booking changed (the worker writes what an event asked for): the
            -- same skip rule as at delivery.
            private.outdated_booking_message(k.template_kind, e.revision, v.status, v.revision)
        from events as e
        inner join (
            values
            ('booked', 'booking_confirmation', 'booking_confirmation:%s:booked'),
            ('pending', 'booking_confirmation', 'booking_confirmation:%s:booked'),
            ('cancelled', 'booking_cancelled', 'booking_cancelled:%s:cancelled'),
            ('rescheduled', 'booking_rescheduled', 'booking_rescheduled:%s:r%s'),
            ('reminder', 'reminder', 'reminder:%s:r%s')
        ) as k (event_kind, template_kind, key_format) on e.kind = k.event_kind
        inner join booking_values as v on e.booking_id = v.booking_id
        where
            (e.kind <> 'pending' or v.status = 'pending')
            and (not v.held or v.contact_phone is not null)
        union all
        -- A request per new form, about the booking as it is now.
        select
            e.ordinal, 2, f.name, v.contact_id, 'form_request',
            v.template_values || pg_catalog.jsonb_build_object('form_name', f.name, 'form_url', v_form_url),
            format('form_request:%s', s.id), v.booking_id, v.revision, s.id, null, v.contact_phone,
            private.outdated_booking_message('form_request', v.revision, v.status, v.revision)
        from new_forms as s
        inner join events as e on s.booking_id = e.booking_id and e.kind = 'booked'
        inner join public.intake_forms as f on s.form_id = f.id
        inner join booking_values as v on s.booking_id = v.booking_id
    )

    select
        (
            select array_agg(
                row(
                    r.contact_id, r.template_kind, r.channel, r.template_values, r.idempotency_key, r.booking_id,
                    r.booking_revision, r.form_submission_id, r.booking_phone, r.outdated_reason
                )::private.message_request
                order by r.ordinal, r.part, r.sort_name, r.form_submission_id
            )
            from requests as r
        ),
        -- Held bookings, whose address holder is asked to confirm (below), and moves still
        -- current, whose forms are requested again: from the same read.
        array(
            select v.booking_id from events as e inner join booking_values as v on e.booking_id = v.booking_id
            where e.kind = 'pending' and v.status = 'pending'
            order by e.ordinal
        ),
        array(
            select v.booking_id from events as e inner join booking_values as v on e.booking_id = v.booking_id
            where e.kind = 'rescheduled' and v.revision = e.revision
            order by e.ordinal
        )
    into v_requests, v_held, v_moved;

    v_written := coalesce(private.queue_messages(v_requests), 0);

    -- A held booking: its address holder is asked to confirm it (email only).
    perform private.queue_booking_confirm_request(h.id) from unnest(v_held) as h (id);

    -- A move: the forms whose request it made untrue are requested again.
    v_written := v_written + private.request_forms_again(v_moved);
    return v_written;
end
$$;

comment on function private.write_event_messages(jsonb) is
'Worker (job message_events): writes the messages of a batch of events [{kind, booking_id, revision} | {kind: '
'contact_created, contact_id}] in one pass. booked: the welcome of a contact created with the booking, the '
'confirmation, a pending form submission and request per active form; pending: the confirm request; cancelled, '
'rescheduled: the notice (and the forms to ask again); reminder: the reminder; contact_created: the welcome. Each '
'message once per idempotency key (a replay writes nothing); what a later change made untrue is written skipped '
'(booking_cancelled, booking_changed). Returns how many messages it wrote. Errors: 22023 when p_events is not an '
'array.';

-- Which bookings a tick reminds: confirmed, starting within 24 hours (never past), not yet
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
    v_reminded integer;
begin
    -- The tick only records which bookings are due (a concurrent tick waits on the primary key,
    -- then records nothing) and hands them to the worker in jobs of 100: writing the messages is
    -- the worker's (private.write_event_messages).
    with due as (
        select b.id, b.revision, b.starts_at
        from public.bookings as b
        where
            b.status = 'confirmed'
            and b.starts_at > now()
            and b.starts_at <= now() + interval '24 hours'
            and (b.starts_at - b.created_at >= interval '24 hours' or b.created_at <= now() - interval '12 hours')
            and not exists (
                select 1 from private.booking_reminders as r
                where r.booking_id = b.id and r.revision = b.revision
            )
    ),

    reminded as (
        insert into private.booking_reminders (booking_id, revision)
        select d.id, d.revision from due as d
        order by d.starts_at, d.id
        on conflict (booking_id, revision) do nothing
        returning booking_id, revision
    ),

    numbered as (
        select r.booking_id, r.revision, (row_number() over (order by r.booking_id) - 1) / 100 as batch
        from reminded as r
    )

    select (select count(*) from reminded)::integer
    into v_reminded
    from (
        select private.enqueue_jobs(
            'message_events',
            array(
                select pg_catalog.jsonb_build_object(
                    'events',
                    pg_catalog.jsonb_agg(
                        pg_catalog.jsonb_build_object('kind', 'reminder', 'booking_id', n.booking_id, 'revision', n.revision)
                        order by n.booking_id
                    )
                )
                from numbered as n
                group by n.batch
                order by n.batch
            )
        ) as enqueued
    ) as jobs
    where jobs.enqueued >= 0;
    return v_reminded;
end
$$;

comment on function private.send_due_reminders() is
'Every 30 minutes (careops_send_due_reminders): records the confirmed bookings starting in the next 24 hours that are '
'due a reminder (once per revision: every move makes one due again; bookings made less than 12 hours ago for the next '
'day are not reminded) and hands them to the worker as message_events jobs of up to 100 reminder events, which write '
'the reminder (email and SMS where possible). Returns how many bookings it recorded. Safe to run twice or '
'concurrently.';

create function private.raise_malformed_job_alert(p_queue text, p_msg_id bigint, p_job_kind text, p_error text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    -- The same job always maps to the same subject, so raising twice (a crash before the
    -- archive) keeps one alert.
    v_subject_id uuid := pg_catalog.md5(p_queue || ':' || p_msg_id::text)::uuid;
    v_text text := left(
        pg_catalog.btrim(
            pg_catalog.regexp_replace(
                format(
                    'Job %s on queue %s (%s) can never be processed and was archived: %s',
                    p_msg_id, p_queue, coalesce(p_job_kind, 'no kind'), coalesce(p_error, 'malformed')
                ),
                U&'[\0001-\001F\007F-\009F\2028\2029\202A-\202E\2066-\2069]+',
                ' ',
                'g'
            )
        ),
        500
    );
    v_alert_id uuid;
begin
    v_text := pg_catalog.rtrim(v_text);
    insert into public.alerts (workspace_id, kind, severity, subject_type, subject_id, text)
    values (null, 'malformed_job', 'critical', 'job', v_subject_id, v_text)
    on conflict (kind, subject_type, subject_id) where (workspace_id is null and resolved_at is null) do nothing
    returning id into v_alert_id;
    if v_alert_id is null then
        select a.id into v_alert_id
        from public.alerts as a
        where
            a.workspace_id is null
            and a.kind = 'malformed_job'
            and a.subject_type = 'job'
            and a.subject_id = v_subject_id
            and a.resolved_at is null;
    end if;
    return v_alert_id;
end
$$;

comment on function private.raise_malformed_job_alert(text, bigint, text, text) is
'Worker: opens a critical malformed_job system alert (no workspace) for a job it archives unprocessed; once per queue and job id. Returns the open alert''s id.';

create function private.claim_message_delivery(p_message_id uuid, p_claim_timeout interval)
returns table (
    claimed boolean,
    status text,
    retry_in_seconds integer,
    message_id uuid,
    workspace_id uuid,
    channel text,
    recipient text,
    subject text,
    body text,
    attempts integer,
    idempotency_key text,
    sender_name text,
    sender_email text,
    reply_to_email text,
    sms_from_number text,
    list_unsubscribe boolean,
    calendar_event jsonb
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    return query select * from private.claim_message_deliveries(array[p_message_id], p_claim_timeout);
end
$$;

comment on function private.claim_message_delivery(uuid, interval) is
'Worker: moves an outbound queued message to sending (attempts + 1), or takes over a sending one claimed longer than p_claim_timeout ago, and returns what to send (claimed true). A queued message whose booking was cancelled since becomes skipped (booking_cancelled), as in private.claim_message. Otherwise returns the row''s status with claimed false (and, while another worker''s claim is live, retry_in_seconds until it times out); no row when the message is gone.';

-- Owners (and service_role) requeue failed messages.
create function public.retry_failed_messages(p_workspace_id uuid, p_message_ids uuid[] default null)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_requeued uuid[];
begin
    if (select auth.role()) is distinct from 'service_role' then
        perform private.require_role(p_workspace_id, 'owner');
    elsif not exists (select 1 from public.workspaces as w where w.id = p_workspace_id) then
        perform private.raise_error('not_found', 'No such workspace.');
    end if;

    with requeued as (
        update public.messages as m
        set status = 'queued', attempts = 0, claimed_at = null, failed_at = null
        where
            m.workspace_id = p_workspace_id
            and m.direction = 'outbound'
            and m.status = 'failed'
            and (p_message_ids is null or m.id = any(p_message_ids))
        returning m.id
    )

    select coalesce(array_agg(r.id order by r.id), '{}') into v_requeued from requeued as r;

    perform private.enqueue_jobs(
        'deliver_message',
        array(select pg_catalog.jsonb_build_object('message_id', r.id) from unnest(v_requeued) as r (id))
    );
    update public.alerts as a
    set resolved_at = now(), resolved_by = (select auth.uid())
    where
        a.workspace_id = p_workspace_id
        and a.kind = 'message_failed'
        and a.subject_type = 'message'
        and a.subject_id = any(v_requeued)
        and a.resolved_at is null;
    return pg_catalog.cardinality(v_requeued);
end
$$;

comment on function public.retry_failed_messages(uuid, uuid[]) is
'Owners and service_role: puts failed outbound messages of the workspace (all, or those of p_message_ids) back on the queue with their attempts reset, and resolves their message_failed alerts. Ids that are not failed messages of the workspace are ignored. Returns how many were requeued. Errors: not_authenticated, not_found, forbidden.';

create function private.record_deliveries(p_queue text, p_outcomes jsonb)
returns table (message_id uuid, status text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_bad text;
    v_ids uuid[];
    v_statuses text[];
    v_delayed record;
begin
    if pg_catalog.jsonb_typeof(p_outcomes) is distinct from 'array' then
        raise exception 'delivery outcomes are a json array, not %', coalesce(pg_catalog.jsonb_typeof(p_outcomes), 'null')
        using errcode = '22023';
    end if;
    select pg_catalog.format('%s', o) into v_bad
    from pg_catalog.jsonb_to_recordset(p_outcomes) as o (
        job_id bigint, message_id uuid, status text, retry_in_seconds integer
    )
    where
        o.job_id is null
        or o.message_id is null
        or o.status is null
        or o.status not in ('sent', 'failed', 'queued', 'released')
        or (o.status in ('queued', 'released') and o.retry_in_seconds is null)
    limit 1;
    if v_bad is not null then
        raise exception 'a delivery outcome has a job_id, a message_id, a status (sent, failed, queued or released) and, when queued or released, retry_in_seconds: %', v_bad
        using errcode = '22023';
    end if;

    -- The outcomes, as private.record_delivery records one: only a message being sent moves
    -- (sending -> sent | failed | queued); released (shutdown before the send) undoes the claim.
    -- A message that is gone or no longer sending is left as it is; its job is still archived.
    with
    outcomes as (
        select distinct on (o.message_id) o.*
        from pg_catalog.jsonb_to_recordset(p_outcomes) as o (
            job_id bigint, message_id uuid, status text, provider text, provider_message_id text, error text
        )
        order by o.message_id
    ),

    recorded as (
        update public.messages as m
        set
            status = case when o.status = 'released' then 'queued' else o.status end,
            attempts = case when o.status = 'released' then greatest(m.attempts - 1, 0) else m.attempts end,
            claimed_at = case when o.status = 'released' then null else m.claimed_at end,
            provider = coalesce(o.provider, m.provider),
            provider_message_id = coalesce(o.provider_message_id, m.provider_message_id),
            last_error = case when o.error is null then m.last_error else left(o.error, 2000) end,
            sent_at = case when o.status = 'sent' then coalesce(m.sent_at, now()) else m.sent_at end,
            failed_at = case when o.status = 'failed' then now() else m.failed_at end
        from outcomes as o
        where m.id = o.message_id and m.status = 'sending'
        returning m.id, m.status
    )

    select coalesce(array_agg(r.id), '{}'), coalesce(array_agg(r.status), '{}') into v_ids, v_statuses
    from recorded as r;

    -- A final failure raises the workspace's message_failed alert, as record_delivery does.
    perform private.raise_alert(
        m.workspace_id, 'message_failed', 'message', m.id,
        left(
            format(
                'The %s %s to %s could not be delivered after %s attempts.',
                m.channel,
                replace(coalesce(m.template_kind, 'message'), '_', ' '),
                coalesce(m.recipient, 'nobody'),
                m.attempts
            ),
            500
        ),
        'critical'
    )
    from unnest(v_ids, v_statuses) as r (id, status)
    inner join public.messages as m on r.id = m.id
    where r.status = 'failed';

    -- The jobs, in the same transaction: archived with a final outcome, visible again later
    -- otherwise (a retry after its backoff, or at once when released).
    perform pgmq.archive(
        p_queue,
        array(
            select o.job_id
            from pg_catalog.jsonb_to_recordset(p_outcomes) as o (job_id bigint, status text)
            where o.status in ('sent', 'failed')
        )
    );
    for v_delayed in
        select o.job_id, o.retry_in_seconds
        from pg_catalog.jsonb_to_recordset(p_outcomes) as o (job_id bigint, status text, retry_in_seconds integer)
        where o.status in ('queued', 'released')
    loop
        perform pgmq.set_vt(p_queue, v_delayed.job_id, greatest(v_delayed.retry_in_seconds, 0));
    end loop;

    return query select r.id, r.status from unnest(v_ids, v_statuses) as r (id, status);
end
$$;

comment on function private.record_deliveries(text, jsonb) is
'Worker: records a group of delivery outcomes [{job_id, message_id, status, provider, provider_message_id, error, retry_in_seconds}] and settles their pgmq jobs on p_queue in one transaction. status sent or failed (final: a message_failed alert, as private.record_delivery) archives the job; queued (retry) puts the message back with its error and hides the job for retry_in_seconds; released (not sent: the worker stops) undoes the claim (attempts - 1) and hides the job for retry_in_seconds. Only messages being sent move; the others (gone, final) are left as they are, their jobs archived or delayed all the same. Returns the messages it moved, with their new status. Errors: 22023 for a malformed outcome (nothing is written).';

-- Triggers ------------------------------------------------------------------------------

create trigger conversations_touch_updated_at
before update on public.conversations
for each row execute function private.touch_updated_at();

create trigger messages_touch_updated_at
before update on public.messages
for each row execute function private.touch_updated_at();

-- Deferred: at commit a booking made with the contact is there to welcome it instead.
create constraint trigger contacts_publish_event
after insert on public.contacts
deferrable initially deferred
for each row when (new.source is distinct from 'inbound')
execute function private.publish_contact_event();

create trigger bookings_publish_new_booking
after insert on public.bookings
for each row when (new.status in ('confirmed', 'pending'))
execute function private.publish_booking_event();

-- Confirmed from pending, cancelled, moved. A held booking released unconfirmed (its confirm
-- hash cleared) goes without a notice.
create trigger bookings_publish_change
after update of status, starts_at on public.bookings
for each row when (
    (old.status = 'pending' and new.status = 'confirmed')
    or (old.status = 'confirmed' and new.status = 'cancelled')
    or (old.status = 'pending' and new.status = 'cancelled' and new.confirm_token_hash is not null)
    or (new.status in ('confirmed', 'pending') and old.starts_at is distinct from new.starts_at)
)
execute function private.publish_booking_event();

create trigger sender_identities_validate
before insert or update on public.sender_identities
for each row execute function private.validate_sender_identity();

create trigger sender_identities_touch_updated_at
before update on public.sender_identities
for each row execute function private.touch_updated_at();

-- Row level security, policies and Realtime ---------------------------------------------

alter table public.conversations enable row level security;

alter table public.messages enable row level security;

create policy "members read their workspaces' conversations"
on public.conversations for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "members read their workspaces' messages"
on public.messages for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

alter table public.sender_identities enable row level security;

create policy "members read their workspaces' sender identities"
on public.sender_identities for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners request sender identities"
on public.sender_identities for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]) and status = 'requested');

create policy "owners remove sender identities"
on public.sender_identities for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.booking_reminders enable row level security;

-- Grants --------------------------------------------------------------------------------

revoke execute on function
private.render_template(text, jsonb),
private.format_local_time(timestamptz, text)
from public;

grant execute on function
private.render_template(text, jsonb),
private.format_local_time(timestamptz, text)
to service_role;

-- Members read. Writes go through functions (queue_message here; send_message, mark read and
-- resume in the inbox work): who paused, counts and statuses stay honest.
revoke all on public.conversations from anon, authenticated;

grant select on public.conversations to authenticated;

grant all on public.conversations to service_role;

revoke all on public.messages from anon, authenticated;

grant select on public.messages to authenticated;

grant all on public.messages to service_role;

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

revoke all on private.booking_reminders from public, anon, authenticated;

grant select on private.booking_reminders to service_role;

revoke execute on function private.queue_booking_confirm_request(uuid) from public;

grant execute on function private.queue_booking_confirm_request(uuid) to service_role;

revoke execute on function
private.booking_message_values(uuid[]),
private.publish_booking_event(),
private.publish_contact_event(),
private.write_event_messages(jsonb),
private.send_due_reminders()
from public;

grant execute on function
private.booking_message_values(uuid[]),
private.write_event_messages(jsonb),
private.send_due_reminders()
to service_role;

revoke execute on function
private.request_forms_again(uuid[]),
private.with_booking_tokens(text, text, text, text),
private.outdated_booking_message(text, integer, text, integer),
private.skip_outdated_booking_messages(uuid)
from public;

grant execute on function
private.outdated_booking_message(text, integer, text, integer),
private.skip_outdated_booking_messages(uuid)
to service_role;

revoke execute on function
private.raise_malformed_job_alert(text, bigint, text, text),
private.claim_message_delivery(uuid, interval),
public.retry_failed_messages(uuid, uuid[])
from public, anon, authenticated;

grant execute on function
private.raise_malformed_job_alert(text, bigint, text, text),
private.claim_message_delivery(uuid, interval)
to service_role;

grant execute on function public.retry_failed_messages(uuid, uuid[]) to authenticated, service_role;

revoke execute on function
private.claim_message_deliveries(uuid[], interval),
private.record_deliveries(text, jsonb)
from public, anon, authenticated;

grant execute on function
private.claim_message_deliveries(uuid[], interval),
private.record_deliveries(text, jsonb)
to service_role;

-- Owners request (the status stays requested: no column grant) and remove; only the platform
-- (service_role) marks one verified or revoked.
revoke all on public.sender_identities from anon, authenticated;

grant select, delete on public.sender_identities to authenticated;

grant insert (workspace_id, kind, value) on public.sender_identities to authenticated;

grant all on public.sender_identities to service_role;

revoke execute on function
private.honours_unsubscribe(text),
private.unsubscribe_email(uuid)
from public, anon, authenticated;

grant execute on function
private.honours_unsubscribe(text),
private.unsubscribe_email(uuid)
to service_role;

revoke execute on function
private.validate_sender_identity(),
private.workspace_senders(uuid),
private.receiving_workspace(text, text[])
from public;

grant execute on function
private.workspace_senders(uuid),
private.receiving_workspace(text, text[])
to service_role;

-- Owners update subject and body as authenticated: the generated columns run these as them.
revoke execute on function private.template_format(text), private.template_placeholder_names(text) from public;

grant execute on function private.template_format(text), private.template_placeholder_names(text)
to authenticated, service_role;

-- Schedules (pg_cron) -------------------------------------------------------------------

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_send_due_reminders';

select cron.schedule('careops_send_due_reminders', '*/30 * * * *', 'select private.send_due_reminders()');

-- Data ----------------------------------------------------------------------------------

insert into private.error_codes (code, http_status, description) values
(
    'invalid_sender_identity',
    400,
    'Not a valid sender identity: an email address or a domain name (example.com); an SMS number is invalid_phone.'
),
('sender_identity_taken', 409, 'Another workspace holds this number or address, verified.');
