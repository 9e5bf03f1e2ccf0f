-- Inbox and staff day: alerts, form submissions, the inbox, closing bookings, inbound webhooks, sweeps.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Alerts: what needs staff attention (an overdue form, low stock, a message that could not be
-- delivered). At most one open alert per kind and subject; resolved alerts stay as history.
--
-- Low stock: hourly, every active item at or below its threshold has one open alert and its
-- workspace's owners one email notice per alert; the alert resolves itself once the item is
-- above its threshold again (or inactive, or deleted).
--
-- Form submissions: an intake form sent for a booking, filled in by the customer through a
-- one-time link (get_form / submit_form, anon), overdue after 48 hours (hourly sweep).
--
-- The inbox: unread counts kept by a trigger, reading a conversation, staff replies that pause
-- automation, and resuming it.
--
-- Read state is per workspace, not per member: the inbox is the team's shared inbox (one
-- conversation per contact, answered by whoever is at the desk), so once one member has read
-- a message nobody else needs to. conversations.unread_count is that shared count.
--
-- The staff day: closing bookings (completed with stock drawn, or no-show) and stock adjustments
-- with a reason kept as history. The low-stock alert resolves itself on refill through the
-- automation's hourly private.check_low_stock (an item above its threshold again).
--
-- Every change of an item's quantity, whoever makes it (adjust_stock, complete_booking, or a
-- stock count written to inventory_items.quantity directly), leaves one inventory_movements
-- row, written by a trigger: the RPCs tell it the kind, reason and booking through
-- transaction-local settings (careops.stock_*).
--
-- Inbound: SMS (Twilio) and email (Resend) written by customers, and Resend's delivery events,
-- as edge_api's signed webhooks hand them over (it verifies the signatures, then calls these
-- functions as service_role). Each provider event is processed once: webhook_events keeps the
-- id of every event seen, so a replay writes nothing.
--
-- A bounce or complaint stops email to that address in that workspace until the contact's
-- email address is changed (contacts.email_bounced_at); automated emails to it are recorded as
-- skipped (email_bounced) and send_message refuses with email_bounced.

-- Tables --------------------------------------------------------------------------------

create table public.alerts (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid references public.workspaces (id) on delete cascade,
    kind text not null check (
        kind in ('form_overdue', 'low_stock', 'message_failed', 'email_bounced', 'malformed_job', 'abuse_suspected')
    ),
    severity text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
    subject_type text not null check (subject_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    subject_id uuid not null,
    text text not null constraint alerts_text_is_clean check (private.is_clean_text(text, 500)),  -- noqa: RF04
    created_at timestamptz not null default now(),
    resolved_at timestamptz,
    resolved_by uuid references auth.users (id) on delete set null,
    constraint alerts_resolved_by_needs_resolved_at check (resolved_by is null or resolved_at is not null),
    -- Alerts about the system rather than a workspace (a job that can never be processed): no
    -- workspace, so no member sees them; service_role (operators, /metrics) does.
    constraint alerts_only_system_alerts_have_no_workspace check ((workspace_id is null) = (kind = 'malformed_job'))
);

comment on table public.alerts is
'What needs staff attention in a workspace; open until resolved (by staff or by the system), then kept as history.';

comment on column public.alerts.workspace_id is
'The workspace it concerns; null only for system alerts (malformed_job), which members never see.';

comment on column public.alerts.kind is
'form_overdue (subject: a form submission), low_stock (an inventory item), message_failed (a message), email_bounced (a contact), abuse_suspected (the workspace: a cap on what anonymous callers set off was reached), malformed_job (a queue job; no workspace).';

comment on column public.alerts.severity is 'info, warning or critical: how a frontend ranks and colours it.';

comment on column public.alerts.subject_type is
'The table of the row the alert is about, singular (form_submission, inventory_item, message).';

comment on column public.alerts.subject_id is 'The id of that row (not a foreign key: subjects live in several tables).';

comment on column public.alerts.text is 'One line for people, written by the database when it raises the alert.';

comment on column public.alerts.resolved_at is 'Null while open.';

comment on column public.alerts.resolved_by is
'The member who resolved it; null while open, when the system resolved it (stock refilled) or once that account is deleted.';

-- Settings of the deployment (not of a workspace) -------------------------------------------
create table private.app_settings (
    key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),  -- noqa: RF04
    value text not null,  -- noqa: RF04
    description text not null
);

comment on table private.app_settings is
'Settings of the deployment that SQL needs (not per workspace); ops change them with an update as postgres.';

-- Submissions -------------------------------------------------------------------------------

create table public.form_submissions (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    form_id uuid not null,
    booking_id uuid not null,
    contact_id uuid not null,
    token_hash bytea not null,
    token_nonce bytea,
    status text not null default 'pending' check (status in ('pending', 'completed', 'overdue')),
    sent_at timestamptz not null default now(),
    overdue_at timestamptz,
    completed_at timestamptz,
    answers jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint form_submissions_token_hash_key unique (token_hash),
    constraint form_submissions_one_per_booking_and_form unique (booking_id, form_id),
    constraint form_submissions_token_nonce_length check (octet_length(token_nonce) = 16),
    constraint form_submissions_form_fkey foreign key (workspace_id, form_id)
    references public.intake_forms (workspace_id, id),
    constraint form_submissions_booking_fkey foreign key (workspace_id, booking_id)
    references public.bookings (workspace_id, id) on delete cascade,
    constraint form_submissions_contact_fkey foreign key (workspace_id, contact_id)
    references public.contacts (workspace_id, id) on delete cascade,
    constraint form_submissions_completed_have_answers check (
        (status = 'completed') = (completed_at is not null and answers is not null)
    ),
    constraint form_submissions_answers_object check (answers is null or jsonb_typeof(answers) = 'object')  -- noqa: RF04
);

comment on table public.form_submissions is
'An intake form sent to a contact for a booking: pending until the contact fills it in through its link, overdue after 48 hours (it can still be completed).';

comment on column public.form_submissions.token_hash is 'sha256 of the fill-in token in the link; the token itself is never stored.';

comment on column public.form_submissions.token_nonce is
'The nonce the fill-in token is derived from (private.derived_token), rebuilt only when its request is delivered; a '
'new nonce replaces the link.';

comment on column public.form_submissions.sent_at is 'When the request was queued; overdue counts from here.';

comment on column public.form_submissions.overdue_at is 'When the hourly sweep marked it overdue.';

comment on column public.form_submissions.answers is 'Field key -> answer, validated against the form''s fields when submitted.';

-- Stock history -----------------------------------------------------------------------------------
create table public.inventory_movements (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    item_id uuid not null,
    kind text not null check (kind in ('adjustment', 'booking_usage', 'count')),
    delta numeric not null check (delta <> 0),
    quantity_after numeric not null check (quantity_after >= 0),
    reason text constraint inventory_movements_reason_is_clean check (
        reason is null or private.is_clean_multiline_text(reason, 500)
    ),
    booking_id uuid references public.bookings (id) on delete set null,
    created_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint inventory_movements_item_fkey foreign key (workspace_id, item_id)
    references public.inventory_items (workspace_id, id) on delete cascade,
    constraint inventory_movements_adjustments_have_a_reason check (kind <> 'adjustment' or reason is not null),
    constraint inventory_movements_usage_has_a_booking check (kind <> 'booking_usage' or booking_id is not null)
);

comment on table public.inventory_movements is
'Every change of an item''s stock, newest last: adjustments with their reason, usage by completed bookings, direct stock counts. Written by the database only.';

comment on column public.inventory_movements.kind is
'adjustment (adjust_stock, with a reason), booking_usage (complete_booking) or count (quantity written directly).';

comment on column public.inventory_movements.delta is 'The change: negative when stock was taken out.';

comment on column public.inventory_movements.quantity_after is 'The item''s quantity right after this change.';

comment on column public.inventory_movements.reason is 'Why, as staff wrote it (required for adjustments).';

comment on column public.inventory_movements.booking_id is 'The completed booking that used the stock.';

comment on column public.inventory_movements.created_by is 'The member who made the change; null for the system.';

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

-- SMS opt-outs ------------------------------------------------------------------------------------
create table public.sms_opt_outs (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    phone text not null check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    keyword text not null check (char_length(keyword) between 1 and 20),
    opt_out_type text check (char_length(opt_out_type) <= 20),
    message_id uuid references public.messages (id) on delete set null,
    opted_out_at timestamptz not null default now(),
    primary key (workspace_id, phone)
);

comment on table public.sms_opt_outs is
'Numbers that texted STOP (STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) to the workspace: no SMS of any kind goes to them '
'until they text START (YES, UNSTOP), which removes the row. Members read; written only by inbound SMS.';

comment on column public.sms_opt_outs.keyword is 'What they wrote (upper-cased), e.g. STOP.';

comment on column public.sms_opt_outs.opt_out_type is
'Twilio''s OptOutType parameter (STOP) when the number''s Advanced Opt-Out sent it; null otherwise.';

comment on column public.sms_opt_outs.message_id is 'The inbound message that opted the number out.';

-- Inbound that no workspace receives: kept for operators, never shown to a workspace.
create table public.unroutable_messages (
    provider text not null,
    event_id text not null,
    channel text not null check (channel in ('email', 'sms')),
    sender text check (char_length(sender) <= 320),
    recipients text[] not null check (cardinality(recipients) <= 50),
    subject text check (char_length(subject) <= 1000),
    body text not null check (char_length(body) <= 20000),
    received_at timestamptz not null default now(),
    primary key (provider, event_id),
    constraint unroutable_messages_event_fkey foreign key (provider, event_id)
    references public.webhook_events (provider, event_id) on delete cascade
);

comment on table public.unroutable_messages is
'Inbound SMS and email sent to a number or address that no active workspace holds verified: kept (not lost) for '
'operators (service_role), counted by /metrics (careops_unroutable_inbound_messages). Members never see them.';

comment on column public.unroutable_messages.recipients is 'The numbers or addresses it was sent to, as the provider gave them.';

-- Indexes -------------------------------------------------------------------------------

-- At most one open alert per kind and subject: raise_alert relies on it to stay idempotent under concurrency.
create unique index alerts_one_open_per_subject
on public.alerts (workspace_id, kind, subject_type, subject_id) where (resolved_at is null);

create index alerts_workspace_id_created_at_idx on public.alerts (workspace_id, created_at desc);

create index alerts_resolved_by_idx on public.alerts (resolved_by) where (resolved_by is not null);

-- Only the items that are low: the hourly check reads these, not the whole table.
create index inventory_items_low_stock_idx on public.inventory_items (workspace_id)
where (active and quantity <= low_stock_threshold);

create index form_submissions_workspace_id_created_at_idx on public.form_submissions (workspace_id, created_at desc);

create index form_submissions_form_id_idx on public.form_submissions (form_id);

create index form_submissions_contact_id_idx on public.form_submissions (contact_id);

-- The overdue sweep reads only pending submissions, oldest first.
create index form_submissions_pending_sent_at_idx on public.form_submissions (sent_at) where (status = 'pending');

-- Unread counts -----------------------------------------------------------------------------------

-- The unread total of a workspace reads only conversations with something unread.
create index conversations_workspace_id_unread_idx on public.conversations (workspace_id) include (unread_count)
where (unread_count > 0);

create index bookings_closed_by_idx on public.bookings (closed_by) where (closed_by is not null);

create index inventory_movements_workspace_id_item_id_created_at_idx
on public.inventory_movements (workspace_id, item_id, created_at desc);

create index inventory_movements_booking_id_idx on public.inventory_movements (booking_id)
where (booking_id is not null);

create index inventory_movements_created_by_idx on public.inventory_movements (created_by)
where (created_by is not null);

-- Who wrote: inbound messages are matched by phone within the workspace.
create index contacts_workspace_id_phone_idx on public.contacts (workspace_id, phone) where (phone is not null);

-- Where inbound mail and texts arrive ---------------------------------------------------------------
create index communication_settings_sms_from_number_idx on public.communication_settings (sms_from_number)
where (sms_from_number is not null);

create index communication_settings_sender_email_idx on public.communication_settings (sender_email)
where (sender_email is not null);

create index webhook_events_workspace_id_idx on public.webhook_events (workspace_id) where (workspace_id is not null);

create index webhook_events_message_id_idx on public.webhook_events (message_id) where (message_id is not null);

create index sms_opt_outs_message_id_idx on public.sms_opt_outs (message_id) where (message_id is not null);

-- A form request names the submission whose link it carries (the table is this domain's).
alter table public.messages
add constraint messages_form_submission_fkey foreign key (form_submission_id)
references public.form_submissions (id) on delete set null;

create index messages_form_submission_id_idx on public.messages (form_submission_id)
where (form_submission_id is not null);

-- One open system alert per kind and subject (the other unique index skips null workspaces).
create unique index alerts_one_open_system_alert_per_subject
on public.alerts (kind, subject_type, subject_id) where (workspace_id is null and resolved_at is null);

-- Functions -----------------------------------------------------------------------------

-- A submission's link token is derived from its nonce (as a booking's manage token): the
-- hash is kept for the lookup, the token rebuilt only in what the worker sends.
create function private.derive_form_token()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.token_nonce is not null then
        new.token_hash := private.token_hash(private.derived_token(new.id, new.token_nonce));
    end if;
    return new;
end
$$;

comment on function private.derive_form_token() is
'Trigger: a form submission with a token nonce gets the sha256 of the token derived from it (private.derived_token); '
'no token is stored.';

-- Raising: the database's own schedules and the worker call this.
create function private.raise_alert(
    p_workspace_id uuid,
    p_kind text,
    p_subject_type text,
    p_subject_id uuid,
    p_text text,
    p_severity text default 'warning'
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_alert_id uuid;
begin
    -- A concurrent raiser of the same alert waits on the unique index, then does nothing.
    insert into public.alerts (workspace_id, kind, severity, subject_type, subject_id, text)
    values (p_workspace_id, p_kind, p_severity, p_subject_type, p_subject_id, p_text)
    on conflict (workspace_id, kind, subject_type, subject_id) where (resolved_at is null) do nothing
    returning id into v_alert_id;
    if v_alert_id is null then
        select a.id into v_alert_id
        from public.alerts as a
        where
            a.workspace_id = p_workspace_id
            and a.kind = p_kind
            and a.subject_type = p_subject_type
            and a.subject_id = p_subject_id
            and a.resolved_at is null;
    end if;
    return v_alert_id;
end
$$;

comment on function private.raise_alert(uuid, text, text, uuid, text, text) is
'Opens an alert for (workspace, kind, subject) unless one is open already; returns the open alert''s id either way.';

create function private.resolve_open_alert(
    p_workspace_id uuid, p_kind text, p_subject_type text, p_subject_id uuid
)
returns uuid
language sql
volatile
security definer
set search_path = ''
as $$
    update public.alerts as a
    set resolved_at = now()
    where
        a.workspace_id = p_workspace_id
        and a.kind = p_kind
        and a.subject_type = p_subject_type
        and a.subject_id = p_subject_id
        and a.resolved_at is null
    returning a.id;
$$;

comment on function private.resolve_open_alert(uuid, text, text, uuid) is
'The system resolves the open alert of (workspace, kind, subject), e.g. when stock is refilled; returns its id or null.';

-- RPC
create function public.resolve_alert(p_alert_id uuid)
returns public.alerts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := (select auth.uid());
    v_alert public.alerts;
begin
    if v_user_id is null then
        perform private.raise_error('not_authenticated');
    end if;
    select a.* into v_alert from public.alerts as a where a.id = p_alert_id for update;
    if not found or not private.is_member(v_alert.workspace_id) then
        perform private.raise_error('not_found', 'No such alert in your workspaces.');
    end if;
    if v_alert.resolved_at is null then
        update public.alerts as a
        set resolved_at = now(), resolved_by = v_user_id
        where a.id = p_alert_id
        returning a.* into v_alert;
    end if;
    return v_alert;
end
$$;

comment on function public.resolve_alert(uuid) is
'Staff and owners: resolves an open alert of their workspace (idempotent: a resolved alert is returned as it is). Errors: not_authenticated, not_found.';

create function private.check_low_stock()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_item record;
    v_alert_id uuid;
    v_raised integer := 0;
    v_resolved integer;
begin
    with resolved as (
        update public.alerts as a
        set resolved_at = now()
        where
            a.kind = 'low_stock'
            and a.resolved_at is null
            and not exists (
                select 1 from public.inventory_items as i
                where i.id = a.subject_id and i.active and i.quantity <= i.low_stock_threshold
            )
        returning a.id
    )

    select count(*) into v_resolved from resolved;

    for v_item in
        select i.id, i.workspace_id, i.name, i.unit, i.quantity, i.low_stock_threshold, w.name as workspace_name
        from public.inventory_items as i
        inner join public.workspaces as w on i.workspace_id = w.id
        where
            i.active
            and i.quantity <= i.low_stock_threshold
            and not exists (
                select 1 from public.alerts as a
                where
                    a.workspace_id = i.workspace_id
                    and a.kind = 'low_stock'
                    and a.subject_type = 'inventory_item'
                    and a.subject_id = i.id
                    and a.resolved_at is null
            )
        order by i.id
    loop
        -- A concurrent run waits on the open-alert index here and gets the same alert.
        v_alert_id := private.raise_alert(
            v_item.workspace_id, 'low_stock', 'inventory_item', v_item.id,
            left(
                format(
                    '%s is low: %s %s left (threshold %s).',
                    v_item.name, v_item.quantity, v_item.unit, v_item.low_stock_threshold
                ),
                500
            )
        );
        perform private.queue_member_notice(
            v_item.workspace_id,
            m.user_id,
            'low_stock',
            pg_catalog.jsonb_build_object(
                'workspace_name', v_item.workspace_name,
                'item_name', v_item.name,
                'unit', v_item.unit,
                'quantity', v_item.quantity::text,
                'threshold', v_item.low_stock_threshold::text
            ),
            format('low_stock:%s:%s', v_alert_id, m.user_id)
        )
        from public.workspace_members as m
        where m.workspace_id = v_item.workspace_id and m.role = 'owner'
        order by m.user_id;
        -- Counted when this run opened it (a concurrent run's alert has its own now()).
        if (select a.created_at from public.alerts as a where a.id = v_alert_id) = now() then
            v_raised := v_raised + 1;
        end if;
    end loop;
    return pg_catalog.jsonb_build_object('raised', v_raised, 'resolved', v_resolved);
end
$$;

comment on function private.check_low_stock() is
'Hourly (careops_check_low_stock): raises one low_stock alert per active item at or below its threshold with an email notice to each owner, and resolves the alerts of items above it again; returns how many of each. Safe to run twice or concurrently.';

create function private.public_url(p_path text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select pg_catalog.rtrim(s.value, '/') || p_path
        from private.app_settings as s
        where s.key = 'public_base_url'
    );
end
$$;

comment on function private.public_url(text) is
'A link to the frontend: private.app_settings public_base_url (without trailing slash) followed by p_path.';

-- Answers -----------------------------------------------------------------------------------

-- The answers, normalised (trimmed texts, E.164 phones, lower-case emails; blank optional
-- answers left out), or the code of the first problem, naming the field in the detail.
create function private.validate_form_answers(p_fields jsonb, p_answers jsonb)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_field jsonb;
    v_key text;
    v_type text;
    v_answer jsonb;
    v_text text;
    v_result jsonb := '{}'::jsonb;
    v_date date;
begin
    if
        p_answers is null
        or pg_catalog.jsonb_typeof(p_answers) <> 'object'
        or char_length(p_answers::text) > 100000
    then
        perform private.raise_error('invalid_answers');
    end if;
    select k.name into v_key
    from pg_catalog.jsonb_object_keys(p_answers) as k (name)
    where not exists (
        select 1 from pg_catalog.jsonb_array_elements(p_fields) as f (field) where f.field ->> 'key' = k.name
    )
    limit 1;
    if v_key is not null then
        perform private.raise_error(
            'unknown_answer_field', format('The form has no field "%s".', left(v_key, 100))
        );
    end if;
    for v_field in select f.value from pg_catalog.jsonb_array_elements(p_fields) as f loop
        v_key := v_field ->> 'key';
        v_type := v_field ->> 'type';
        v_answer := p_answers -> v_key;
        -- Blank text counts as no answer.
        if pg_catalog.jsonb_typeof(v_answer) = 'null' then
            v_answer := null;
        elsif
            pg_catalog.jsonb_typeof(v_answer) = 'string' and pg_catalog.btrim(v_answer #>> '{}') = ''
        then
            v_answer := null;
        end if;
        if v_answer is null then
            if (v_field ->> 'required')::boolean then
                perform private.raise_error(
                    'missing_required_answer', format('"%s" needs an answer.', v_field ->> 'label')
                );
            end if;
            continue;
        end if;
        if v_type = 'checkbox' then
            if pg_catalog.jsonb_typeof(v_answer) <> 'boolean' then
                perform private.raise_error(
                    'invalid_answer', format('"%s" is answered true or false.', v_field ->> 'label')
                );
            end if;
            if (v_field ->> 'required')::boolean and not (v_answer)::boolean then
                perform private.raise_error(
                    'missing_required_answer', format('"%s" must be ticked.', v_field ->> 'label')
                );
            end if;
            v_result := v_result || pg_catalog.jsonb_build_object(v_key, v_answer);
            continue;
        end if;
        if pg_catalog.jsonb_typeof(v_answer) <> 'string' then
            perform private.raise_error('invalid_answer', format('"%s" is answered with text.', v_field ->> 'label'));
        end if;
        v_text := v_answer #>> '{}';
        if v_type = 'text' then
            if not private.is_clean_text(pg_catalog.btrim(v_text), 2000) then
                perform private.raise_error(
                    'invalid_answer',
                    format('"%s" takes one line of at most 2000 characters.', v_field ->> 'label')
                );
            end if;
            v_text := pg_catalog.btrim(v_text);
        elsif v_type = 'long_text' then
            v_text := pg_catalog.btrim(pg_catalog.replace(v_text, E'\r\n', E'\n'));
            if not private.is_clean_multiline_text(v_text, 10000) then
                perform private.raise_error(
                    'invalid_answer', format('"%s" takes at most 10000 characters.', v_field ->> 'label')
                );
            end if;
        elsif v_type = 'choice' then
            if not (v_field -> 'options') ? v_text then
                perform private.raise_error(
                    'invalid_answer_choice', format('"%s" is not an option of "%s".', left(v_text, 200), v_field ->> 'label')
                );
            end if;
        elsif v_type = 'date' then
            if v_text !~ '^\d{4}-\d{2}-\d{2}$' then
                perform private.raise_error('invalid_answer_date', format('"%s" needs a date.', v_field ->> 'label'));
            end if;
            begin
                v_date := v_text::date;
            exception when others then
                perform private.raise_error(
                    'invalid_answer_date', format('"%s" needs a date that exists.', v_field ->> 'label')
                );
            end;
            v_text := v_date::text;
        elsif v_type = 'email' then
            v_text := private.normalize_email(v_text);
            if v_text is null then
                perform private.raise_error(
                    'invalid_email', format('"%s" needs an email address.', v_field ->> 'label')
                );
            end if;
        elsif v_type = 'phone' then
            v_text := private.normalize_phone(v_text);
            if v_text is null then
                perform private.raise_error(
                    'invalid_phone', format('"%s" needs an international phone number.', v_field ->> 'label')
                );
            end if;
        end if;
        v_result := v_result || pg_catalog.jsonb_build_object(v_key, v_text);
    end loop;
    return v_result;
end
$$;

comment on function private.validate_form_answers(jsonb, jsonb) is
'Answers checked against a form''s fields and normalised, or the first problem: invalid_answers, unknown_answer_field, missing_required_answer, invalid_answer, invalid_answer_choice, invalid_answer_date, invalid_email, invalid_phone.';

-- RPCs (anon: the customer holds only the link) ---------------------------------------------
create function public.get_form(p_token text)
returns table (
    status text,
    form_name text,
    form_description text,
    fields jsonb,
    workspace_name text,
    contact_name text,
    booking_starts_at timestamptz,
    workspace_timezone text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_booking_status text;
begin
    select b.status into v_booking_status
    from public.form_submissions as s
    inner join public.bookings as b on s.booking_id = b.id
    where s.token_hash = private.token_hash(coalesce(p_token, ''));
    if not found then
        perform private.raise_error('form_not_found');
    end if;
    -- The link of a cancelled visit shows nothing more (who, which form, when).
    if v_booking_status = 'cancelled' then
        perform private.raise_error('form_booking_cancelled');
    end if;
    return query
    select
        s.status, f.name, f.description, f.fields, w.name, c.name, b.starts_at, w.timezone
    from public.form_submissions as s
    inner join public.intake_forms as f on s.form_id = f.id
    inner join public.workspaces as w on s.workspace_id = w.id
    inner join public.contacts as c on s.contact_id = c.id
    inner join public.bookings as b on s.booking_id = b.id
    where s.token_hash = private.token_hash(coalesce(p_token, ''));
end
$$;

comment on function public.get_form(text) is
'Anon, by the link''s token: the form to fill (name, description, fields), whose it is and for which visit, and its status (completed: already filled in; answers are never returned). Errors: form_not_found, form_booking_cancelled.';

create function public.submit_form(p_token text, p_answers jsonb)
returns table (status text, completed_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_submission public.form_submissions;
    v_answers jsonb;
begin
    select s.* into v_submission
    from public.form_submissions as s
    where s.token_hash = private.token_hash(coalesce(p_token, ''))
    for update;
    if not found then
        perform private.raise_error('form_not_found');
    end if;
    if (select b.status from public.bookings as b where b.id = v_submission.booking_id) = 'cancelled' then
        perform private.raise_error('form_booking_cancelled');
    end if;
    if v_submission.status = 'completed' then
        perform private.raise_error('form_already_submitted');
    end if;
    v_answers := private.validate_form_answers(
        (select f.fields from public.intake_forms as f where f.id = v_submission.form_id), p_answers
    );
    update public.form_submissions as s
    set status = 'completed', completed_at = now(), answers = v_answers
    where s.id = v_submission.id;
    perform private.resolve_open_alert(
        v_submission.workspace_id, 'form_overdue', 'form_submission', v_submission.id
    );
    return query select 'completed'::text, now();
end
$$;

comment on function public.submit_form(text, jsonb) is
'Anon, by the link''s token: completes the form once with answers checked against its fields (an overdue form can still be completed, which resolves its alert). Errors: form_not_found, form_booking_cancelled, form_already_submitted, invalid_answers, unknown_answer_field, missing_required_answer, invalid_answer, invalid_answer_choice, invalid_answer_date, invalid_email, invalid_phone.';

-- Overdue sweep (hourly) --------------------------------------------------------------------
create function private.mark_overdue_forms()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_submission record;
    v_count integer := 0;
begin
    -- A concurrent run waits on these rows and then finds them no longer pending.
    for v_submission in
        with overdue as (
            update public.form_submissions as s
            set status = 'overdue', overdue_at = now()
            where s.status = 'pending' and s.sent_at < now() - interval '48 hours'
            returning s.id, s.workspace_id, s.form_id, s.contact_id
        )

        select o.id, o.workspace_id, f.name as form_name, c.name as contact_name
        from overdue as o
        inner join public.intake_forms as f on o.form_id = f.id
        inner join public.contacts as c on o.contact_id = c.id
    loop
        perform private.raise_alert(
            v_submission.workspace_id, 'form_overdue', 'form_submission', v_submission.id,
            left(format('%s has not filled in %s (sent over 48 hours ago).', v_submission.contact_name, v_submission.form_name), 500)
        );
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;

comment on function private.mark_overdue_forms() is
'Hourly (careops_mark_overdue_forms): pending submissions sent more than 48 hours ago become overdue, each with one form_overdue alert; returns how many. Safe to run twice or concurrently.';

create function private.clear_email_bounce()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if old.email_bounced_at is not null then
        new.email_bounced_at := null;
        -- The alert asked staff to correct the address: done.
        perform private.resolve_open_alert(new.workspace_id, 'email_bounced', 'contact', new.id);
    end if;
    return new;
end
$$;

comment on function private.clear_email_bounce() is
'Trigger: a corrected email address may be written to again, and its email_bounced alert is resolved.';

create function private.validate_automation_pause_hours()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.automation_pause_hours is not null and new.automation_pause_hours not between 1 and 720 then
        perform private.raise_error('invalid_pause_hours');
    end if;
    return new;
end
$$;

comment on function private.validate_automation_pause_hours() is
'Trigger: the pause after a staff reply is 1 to 720 hours or null (invalid_pause_hours).';

create function private.count_inbound_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update public.conversations as c
    set
        unread_count = c.unread_count + 1,
        last_message_at = greatest(c.last_message_at, new.created_at)
    where c.id = new.conversation_id;
    return null;
end
$$;

comment on function private.count_inbound_message() is
'Trigger: an inbound message raises its conversation''s unread count and moves it to the top of the inbox.';

-- RPCs --------------------------------------------------------------------------------------------

-- The conversation, locked, if the caller is a member of its workspace; else not_found.
create function private.member_conversation(p_conversation_id uuid)
returns public.conversations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_conversation public.conversations;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select c.* into v_conversation from public.conversations as c where c.id = p_conversation_id for update;
    if not found or not private.is_member(v_conversation.workspace_id) then
        perform private.raise_error('not_found', 'No such conversation in your workspaces.');
    end if;
    return v_conversation;
end
$$;

comment on function private.member_conversation(uuid) is
'The conversation locked for update when the signed-in caller is a member of its workspace; not_authenticated, not_found.';

create function public.mark_conversation_read(p_conversation_id uuid)
returns public.conversations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_conversation public.conversations := private.member_conversation(p_conversation_id);
begin
    if v_conversation.unread_count > 0 then
        update public.conversations as c
        set unread_count = 0
        where c.id = p_conversation_id
        returning c.* into v_conversation;
    end if;
    return v_conversation;
end
$$;

comment on function public.mark_conversation_read(uuid) is
'Staff and owners: clears the conversation''s unread count for the whole workspace (read state is shared: one team inbox). Errors: not_authenticated, not_found.';

create function public.send_message(p_conversation_id uuid, p_body text, p_channel text, p_subject text default null)
returns public.messages
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_conversation public.conversations := private.member_conversation(p_conversation_id);
    v_settings public.communication_settings;
    v_contact public.contacts;
    v_recipient text;
    v_body text;
    v_subject text;
    v_message public.messages;
begin
    if p_channel is null or p_channel not in ('email', 'sms') then
        perform private.raise_error('invalid_channel');
    end if;
    v_body := private.clean_multiline_text(
        p_body, case p_channel when 'sms' then 1600 else 20000 end, 'invalid_body'
    );
    if p_channel = 'sms' and p_subject is not null then
        perform private.raise_error('invalid_subject', 'An SMS has no subject.');
    end if;
    if p_subject is not null then
        v_subject := private.clean_text(p_subject, 200, 'invalid_subject');
    end if;
    select s.* into v_settings
    from public.communication_settings as s
    where s.workspace_id = v_conversation.workspace_id;
    if not coalesce(case p_channel when 'email' then v_settings.email_enabled else v_settings.sms_enabled end, false) then
        perform private.raise_error('channel_disabled', format('%s is turned off for this workspace.', p_channel));
    end if;
    select c.* into v_contact from public.contacts as c where c.id = v_conversation.contact_id;
    v_recipient := case p_channel when 'email' then v_contact.email else v_contact.phone end;
    if v_recipient is null then
        perform private.raise_error(
            'no_contact_address',
            case p_channel when 'email' then 'The contact has no email address.' else 'The contact has no phone number.' end
        );
    end if;
    if p_channel = 'email' and v_contact.email_bounced_at is not null then
        perform private.raise_error('email_bounced');
    end if;
    if p_channel = 'sms' and exists (
        select 1 from public.sms_opt_outs as o
        where o.workspace_id = v_conversation.workspace_id and o.phone = v_recipient
    ) then
        perform private.raise_error('sms_opted_out');
    end if;
    if p_channel = 'email' and v_subject is null then
        v_subject := (
            select format('Message from %s', coalesce(v_settings.sender_name, w.name))
            from public.workspaces as w where w.id = v_conversation.workspace_id
        );
    end if;
    insert into public.messages (
        workspace_id, conversation_id, direction, channel, kind, subject, body, recipient, status, idempotency_key
    )
    values (
        v_conversation.workspace_id, v_conversation.id, 'outbound', p_channel, 'manual', v_subject, v_body,
        v_recipient, 'queued', 'manual:' || gen_random_uuid()::text
    )
    returning * into v_message;
    perform private.enqueue_job('deliver_message', pg_catalog.jsonb_build_object('message_id', v_message.id));
    update public.conversations as c
    set
        last_message_at = now(),
        automation_paused_until = case
            when v_settings.automation_pause_hours is null then 'infinity'::timestamptz
            else greatest(
                c.automation_paused_until, now() + make_interval(hours => v_settings.automation_pause_hours)
            )
        end,
        automation_paused_by = (select auth.uid())
    where c.id = v_conversation.id;
    return v_message;
end
$$;

comment on function public.send_message(uuid, text, text, text) is
'Staff and owners: a manual message to the conversation''s contact by email or sms, queued for the worker (deliver_message), which pauses automated messages to that contact for communication_settings.automation_pause_hours (null: until resume_automation). Errors: not_authenticated, not_found, invalid_channel, invalid_body, invalid_subject, channel_disabled, no_contact_address, email_bounced, sms_opted_out.';

create function public.resume_automation(p_conversation_id uuid)
returns public.conversations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_conversation public.conversations := private.member_conversation(p_conversation_id);
    v_resumed integer;
begin
    if v_conversation.automation_paused_until is not null then
        update public.conversations as c
        set automation_paused_until = null, automation_paused_by = null
        where c.id = p_conversation_id
        returning c.* into v_conversation;
        -- A reminder skipped during the pause goes now when it still holds: its booking is
        -- confirmed, ahead and at the revision it states, and no reminder of that revision went.
        with resumed as (
            update public.messages as m
            set status = 'queued', skip_reason = null
            from public.bookings as b
            where
                m.conversation_id = p_conversation_id
                and m.template_kind = 'reminder'
                and m.status = 'skipped'
                and m.skip_reason = 'automation_paused'
                and b.id = m.booking_id
                and b.status = 'confirmed'
                and b.starts_at > now()
                and m.booking_revision = b.revision
                and not exists (
                    select 1 from public.messages as o
                    where
                        o.booking_id = b.id
                        and o.template_kind = 'reminder'
                        and o.booking_revision = b.revision
                        and o.status <> 'skipped'
                )
            returning m.id
        )

        select private.enqueue_jobs(
            'deliver_message',
            array(select pg_catalog.jsonb_build_object('message_id', r.id) from resumed as r order by r.id)
        )
        into v_resumed;
        if v_resumed > 0 then
            -- Queued again: the conversation moves up the inbox, as for any queued message.
            update public.conversations as c
            set last_message_at = now()
            where c.id = p_conversation_id
            returning c.* into v_conversation;
        end if;
    end if;
    return v_conversation;
end
$$;

comment on function public.resume_automation(uuid) is
'Staff and owners: automated messages (reminders, notices) go to this contact again, and a reminder skipped during the pause is queued again when its booking is still confirmed, ahead and unmoved and no reminder of it went. Idempotent. Errors: not_authenticated, not_found.';

create function private.record_inventory_movement()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.inventory_movements (
        workspace_id, item_id, kind, delta, quantity_after, reason, booking_id, created_by
    )
    values (
        new.workspace_id,
        new.id,
        coalesce(nullif(pg_catalog.current_setting('careops.stock_kind', true), ''), 'count'),
        new.quantity - old.quantity,
        new.quantity,
        nullif(pg_catalog.current_setting('careops.stock_reason', true), ''),
        nullif(pg_catalog.current_setting('careops.stock_booking_id', true), '')::uuid,
        (select auth.uid())
    );
    return null;
end
$$;

comment on function private.record_inventory_movement() is
'Trigger: each change of an item''s quantity leaves a movement (kind, reason and booking from the careops.stock_* settings the RPCs set; a direct write is a count).';

-- One stock change by an RPC, atomic: never below zero (insufficient_stock), never above the limit.
create function private.change_stock(
    p_item_id uuid, p_delta numeric, p_kind text, p_reason text, p_booking_id uuid
)
returns public.inventory_items
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_item public.inventory_items;
begin
    perform pg_catalog.set_config('careops.stock_kind', p_kind, true);
    perform pg_catalog.set_config('careops.stock_reason', coalesce(p_reason, ''), true);
    perform pg_catalog.set_config('careops.stock_booking_id', coalesce(p_booking_id::text, ''), true);
    -- The row lock and the re-check of the condition settle concurrent draws on the last units.
    update public.inventory_items as i
    set quantity = i.quantity + p_delta
    where i.id = p_item_id and i.quantity + p_delta >= 0
    returning i.* into v_item;
    if not found then
        select i.* into v_item from public.inventory_items as i where i.id = p_item_id;
        perform private.raise_error(
            'insufficient_stock',
            format('%s: %s %s in stock, %s needed.', v_item.name, v_item.quantity, v_item.unit, -p_delta)
        );
    end if;
    perform pg_catalog.set_config('careops.stock_kind', '', true);
    perform pg_catalog.set_config('careops.stock_reason', '', true);
    perform pg_catalog.set_config('careops.stock_booking_id', '', true);
    return v_item;
end
$$;

comment on function private.change_stock(uuid, numeric, text, text, uuid) is
'Adds p_delta to an item''s quantity in one statement and records the movement; raises insufficient_stock (nothing changes) when it would go below zero.';

-- RPCs ----------------------------------------------------------------------------------------------
create function public.adjust_stock(p_item_id uuid, p_delta numeric, p_reason text)
returns public.inventory_items
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_workspace_id uuid;
    v_reason text;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select i.workspace_id into v_workspace_id from public.inventory_items as i where i.id = p_item_id;
    if not found or not private.is_member(v_workspace_id) then
        perform private.raise_error('not_found', 'No such inventory item in your workspaces.');
    end if;
    if p_delta is null or p_delta = 0 or p_delta not between -1000000000 and 1000000000 then
        perform private.raise_error('invalid_stock_delta');
    end if;
    v_reason := private.clean_multiline_text(p_reason, 500, 'invalid_reason');
    if (select i.quantity + p_delta from public.inventory_items as i where i.id = p_item_id) > 1000000000 then
        perform private.raise_error('invalid_quantity');
    end if;
    return private.change_stock(p_item_id, p_delta, 'adjustment', v_reason, null);
end
$$;

comment on function public.adjust_stock(uuid, numeric, text) is
'Staff and owners: adds p_delta (negative to take out) to an item''s stock with a reason kept in inventory_movements (the next low-stock check resolves the alert of an item refilled above its threshold). Errors: not_authenticated, not_found, invalid_stock_delta, invalid_reason, invalid_quantity, insufficient_stock.';

-- The booking, locked, when the caller is a member and it is open and has started.
create function private.startable_booking(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select b.* into v_booking from public.bookings as b where b.id = p_booking_id for update;
    if not found or not private.is_member(v_booking.workspace_id) then
        perform private.raise_error('not_found', 'No such booking in your workspaces.');
    end if;
    if v_booking.status = 'cancelled' then
        perform private.raise_error('booking_cancelled');
    end if;
    if v_booking.status in ('completed', 'no_show') then
        perform private.raise_error('booking_closed', format('The booking is already %s.', v_booking.status));
    end if;
    if v_booking.starts_at > now() then
        perform private.raise_error('booking_not_started');
    end if;
    return v_booking;
end
$$;

comment on function private.startable_booking(uuid) is
'The booking locked for update when the signed-in caller is a member, it is confirmed and it has started; not_authenticated, not_found, booking_cancelled, booking_closed, booking_not_started.';

create function public.complete_booking(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings := private.startable_booking(p_booking_id);
    v_usage record;
begin
    -- Items in id order: two completions drawing the same items lock them in the same order.
    for v_usage in
        select u.item_id, u.quantity_per_booking
        from public.booking_type_inventory_usage as u
        inner join public.inventory_items as i on u.item_id = i.id
        where u.booking_type_id = v_booking.booking_type_id and i.active
        order by u.item_id
    loop
        perform private.change_stock(v_usage.item_id, -v_usage.quantity_per_booking, 'booking_usage', null, v_booking.id);
    end loop;
    update public.bookings as b
    set status = 'completed', closed_at = now(), closed_by = (select auth.uid())
    where b.id = p_booking_id
    returning b.* into v_booking;
    return v_booking;
end
$$;

comment on function public.complete_booking(uuid) is
'Staff and owners: a started booking is completed and its booking type''s stock usage is taken from each active item, all or nothing (never below zero). Errors: not_authenticated, not_found, booking_cancelled, booking_closed, booking_not_started, insufficient_stock.';

create function public.mark_no_show(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings := private.startable_booking(p_booking_id);
begin
    update public.bookings as b
    set status = 'no_show', closed_at = now(), closed_by = (select auth.uid())
    where b.id = v_booking.id
    returning b.* into v_booking;
    return v_booking;
end
$$;

comment on function public.mark_no_show(uuid) is
'Staff and owners: a started booking whose customer did not come; no stock is used. Errors: not_authenticated, not_found, booking_cancelled, booking_closed, booking_not_started.';

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

-- SMS keywords (CTIA, TCPA; UK PECR): the whole message, case-insensitive. Twilio's Advanced
-- Opt-Out sends OptOutType (STOP, START, HELP) for the keywords it recognised, custom ones too.
create function private.sms_keyword(p_body text, p_opt_out_type text default null)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_word text := pg_catalog.upper(pg_catalog.btrim(coalesce(p_body, ''), e' \t\r\n'));
begin
    if pg_catalog.upper(p_opt_out_type) in ('STOP', 'START', 'HELP') then
        return pg_catalog.upper(p_opt_out_type);
    end if;
    return case
        when v_word in ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT') then 'STOP'
        when v_word in ('START', 'YES', 'UNSTOP') then 'START'
        when v_word = 'HELP' then 'HELP'
    end;
end
$$;

comment on function private.sms_keyword(text, text) is
'STOP, START or HELP when an inbound SMS is that keyword (the whole message, case-insensitive: STOP, STOPALL, '
'UNSUBSCRIBE, CANCEL, END, QUIT / START, YES, UNSTOP / HELP) or Twilio''s OptOutType says so; null otherwise.';

-- HELP is answered even to an opted-out number (carriers require it) and during an automation pause.
create function private.queue_sms_help_reply(
    p_workspace_id uuid, p_conversation_id uuid, p_phone text, p_event_id text
)
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
        workspace_id, conversation_id, direction, channel, kind, body, recipient, status, idempotency_key
    )
    select
        w.id, p_conversation_id, 'outbound', 'sms', 'automated',
        left(
            format(
                '%s: for help, write to %s or visit %s. Reply STOP to stop texts, START to receive them again.',
                coalesce(s.sender_name, w.name),
                coalesce(s.reply_to_email, s.sender_email, 'us'),
                private.public_url('/' || w.slug)
            ),
            1600
        ),
        p_phone, 'queued', left('sms_help:' || p_event_id, 255)
    from public.workspaces as w
    left join public.communication_settings as s on w.id = s.workspace_id
    where w.id = p_workspace_id
    on conflict (workspace_id, idempotency_key) do nothing
    returning id into v_message_id;
    if v_message_id is not null then
        perform private.enqueue_job('deliver_message', pg_catalog.jsonb_build_object('message_id', v_message_id));
    end if;
    return v_message_id;
end
$$;

comment on function private.queue_sms_help_reply(uuid, uuid, text, text) is
'The answer to an inbound HELP: the business name, how to reach it (its email address and booking page) and the '
'STOP/START keywords, queued as an automated SMS (idempotency key sms_help:<event>) that opt-outs and pauses do not stop.';

-- No SMS of any kind to a number that texted STOP to the workspace (the HELP reply aside).
create function private.skip_sms_opted_out()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if exists (
        select 1 from public.sms_opt_outs as o
        where o.workspace_id = new.workspace_id and o.phone = new.recipient
    ) then
        new.status := 'skipped';
        new.skip_reason := 'sms_opted_out';
    end if;
    return new;
end
$$;

comment on function private.skip_sms_opted_out() is
'Trigger: an SMS queued to a number that opted out of the workspace''s texts is recorded as skipped (sms_opted_out).';

-- Staff see the state on the contact: supabase-js selects it as a column (PostgREST computed field).
create function public.sms_opted_out(p_contact public.contacts)
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
    select exists (
        select 1 from public.sms_opt_outs as o
        where o.workspace_id = p_contact.workspace_id and o.phone = p_contact.phone
    );
$$;

comment on function public.sms_opted_out(public.contacts) is
'Computed field of contacts (select=*,sms_opted_out): whether the contact''s phone texted STOP to the workspace.';

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
    p_sender_name text default null,
    p_opt_out_type text default null
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
    v_keyword text;
begin
    if not private.claim_webhook_event(p_provider, p_event_id, p_channel || '.received') then
        return pg_catalog.jsonb_build_object('outcome', 'duplicate');
    end if;
    v_from := case p_channel when 'sms' then private.normalize_phone(p_from) else private.normalize_email(p_from) end;
    -- The active workspace holding a verified identity it was sent to (one per value).
    v_workspace_id := private.receiving_workspace(p_channel, p_to);
    if v_workspace_id is null or v_from is null then
        update public.webhook_events as e set outcome = 'unroutable'
        where e.provider = p_provider and e.event_id = p_event_id;
        insert into public.unroutable_messages (provider, event_id, channel, sender, recipients, subject, body)
        values (
            p_provider, p_event_id, p_channel, left(p_from, 320), coalesce(p_to[1:50], '{}'),
            case when p_channel = 'email' then left(p_subject, 1000) end, left(coalesce(p_body, ''), 20000)
        );
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

    if p_channel = 'sms' then
        v_keyword := private.sms_keyword(p_body, p_opt_out_type);
        if v_keyword = 'STOP' then
            insert into public.sms_opt_outs (workspace_id, phone, keyword, opt_out_type, message_id)
            values (
                v_workspace_id, v_from, left(pg_catalog.upper(pg_catalog.btrim(p_body, e' \t\r\n')), 20),
                left(pg_catalog.upper(p_opt_out_type), 20), v_message_id
            )
            on conflict (workspace_id, phone) do update
            set keyword = excluded.keyword, opt_out_type = excluded.opt_out_type,
                message_id = excluded.message_id, opted_out_at = excluded.opted_out_at;
        elsif v_keyword = 'START' then
            delete from public.sms_opt_outs as o where o.workspace_id = v_workspace_id and o.phone = v_from;
        elsif v_keyword = 'HELP' then
            perform private.queue_sms_help_reply(v_workspace_id, v_conversation_id, v_from, p_event_id);
        end if;
    end if;

    update public.webhook_events as e
    set outcome = 'received', workspace_id = v_workspace_id, message_id = v_message_id
    where e.provider = p_provider and e.event_id = p_event_id;
    return pg_catalog.jsonb_build_object(
        'outcome', 'received',
        'workspace_id', v_workspace_id,
        'contact_id', v_contact_id,
        'conversation_id', v_conversation_id,
        'message_id', v_message_id,
        'sms_keyword', v_keyword
    );
end
$$;

comment on function private.receive_inbound_message(text, text, text, text, text[], text, text, text, text) is
'edge_api (service_role), after verifying the webhook: an SMS or email a customer wrote, attached to their conversation in the active workspace holding a verified identity in p_to (private.receiving_workspace; matched by the contact''s own phone or email; an unknown sender becomes a contact with source inbound and no welcome). Raises the unread count. Inbound no workspace receives is kept in unroutable_messages. An SMS that is a keyword (private.sms_keyword, or Twilio''s p_opt_out_type) opts the number out (STOP) or back in (START) for the workspace, or gets the HELP reply. Returns {"outcome": received | duplicate | unroutable, ..., "sms_keyword"}; a duplicate event id writes nothing.';

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

-- Triggers ------------------------------------------------------------------------------

create trigger form_submissions_touch_updated_at
before update on public.form_submissions
for each row execute function private.touch_updated_at();

create trigger form_submissions_derive_token
before insert or update of token_nonce on public.form_submissions
for each row execute function private.derive_form_token();

create trigger contacts_clear_email_bounce
before update of email on public.contacts
for each row when (old.email is distinct from new.email)
execute function private.clear_email_bounce();

create trigger communication_settings_validate_automation_pause_hours
before insert or update of automation_pause_hours on public.communication_settings
for each row execute function private.validate_automation_pause_hours();

create trigger messages_count_inbound
after insert on public.messages
for each row when (new.direction = 'inbound' and new.conversation_id is not null)
execute function private.count_inbound_message();

create trigger inventory_items_record_movement
after update of quantity on public.inventory_items
for each row when (old.quantity is distinct from new.quantity)
execute function private.record_inventory_movement();

create trigger messages_skip_bounced_email
before insert on public.messages
for each row when (
    new.direction = 'outbound' and new.channel = 'email' and new.status = 'queued' and new.conversation_id is not null
)
execute function private.skip_bounced_email();

create trigger messages_skip_sms_opted_out
before insert on public.messages
for each row when (
    new.direction = 'outbound' and new.channel = 'sms' and new.status = 'queued'
    and new.idempotency_key not like 'sms\_help:%'
)
execute function private.skip_sms_opted_out();

-- Row level security, policies and Realtime ---------------------------------------------

alter table public.alerts enable row level security;

create policy "members read their workspaces' alerts"
on public.alerts for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

-- The inbox shows them live where Supabase Realtime exists. Realtime checks a subscriber's RLS
-- on an inserted or updated row, but cannot on a deleted one: a DELETE event would carry the
-- row's primary key to every subscriber of the table, whatever their workspace (and TRUNCATE
-- is not checked either). So the publication carries inserts and updates only; a frontend
-- learns of a deletion by reloading. Published tables keep the default replica identity, so an
-- update carries no old values.
do $realtime$
begin
    if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        alter publication supabase_realtime add table public.conversations, public.messages, public.alerts;
        alter publication supabase_realtime set (publish = 'insert, update');
    end if;
end
$realtime$;

alter table private.app_settings enable row level security;

alter table public.form_submissions enable row level security;

create policy "members read their workspaces' form submissions"
on public.form_submissions for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

alter table public.inventory_movements enable row level security;

create policy "members read their workspaces' stock history"
on public.inventory_movements for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

alter table public.webhook_events enable row level security;

alter table public.sms_opt_outs enable row level security;

create policy "members read their workspaces' sms opt-outs"
on public.sms_opt_outs for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

alter table public.unroutable_messages enable row level security;

-- Grants --------------------------------------------------------------------------------

-- Members read; resolving goes through resolve_alert (who and when are set by the database).
revoke all on public.alerts from anon, authenticated;

grant select on public.alerts to authenticated;

grant all on public.alerts to service_role;

revoke execute on function
private.raise_alert(uuid, text, text, uuid, text, text),
private.resolve_open_alert(uuid, text, text, uuid)
from public;

grant execute on function
private.raise_alert(uuid, text, text, uuid, text, text),
private.resolve_open_alert(uuid, text, text, uuid)
to service_role;

revoke execute on function public.resolve_alert(uuid) from public, anon;

grant execute on function public.resolve_alert(uuid) to authenticated, service_role;

revoke execute on function private.check_low_stock() from public;

revoke execute on function private.derive_form_token() from public;

grant execute on function private.check_low_stock() to service_role;

revoke all on private.app_settings from public, anon, authenticated;

grant select on private.app_settings to service_role;

revoke execute on function private.public_url(text) from public;

grant execute on function private.public_url(text) to service_role;

-- Members read (review); the contact writes through submit_form, the database the rest.
revoke all on public.form_submissions from anon, authenticated;

grant select on public.form_submissions to authenticated;

grant all on public.form_submissions to service_role;

revoke execute on function private.validate_form_answers(jsonb, jsonb) from public;

grant execute on function private.validate_form_answers(jsonb, jsonb) to service_role;

revoke execute on function public.get_form(text), public.submit_form(text, jsonb) from public;

grant execute on function public.get_form(text), public.submit_form(text, jsonb) to anon, authenticated, service_role;

revoke execute on function private.mark_overdue_forms() from public;

grant execute on function private.mark_overdue_forms() to service_role;

grant update (automation_pause_hours) on public.communication_settings to authenticated;

revoke execute on function
private.clear_email_bounce(),
private.count_inbound_message(),
private.validate_automation_pause_hours(),
private.member_conversation(uuid),
public.mark_conversation_read(uuid),
public.send_message(uuid, text, text, text),
public.resume_automation(uuid)
from public, anon;

grant execute on function
public.mark_conversation_read(uuid),
public.send_message(uuid, text, text, text),
public.resume_automation(uuid)
to authenticated, service_role;

revoke all on public.inventory_movements from anon, authenticated;

grant select on public.inventory_movements to authenticated;

grant all on public.inventory_movements to service_role;

revoke execute on function
private.record_inventory_movement(),
private.change_stock(uuid, numeric, text, text, uuid),
private.startable_booking(uuid),
public.adjust_stock(uuid, numeric, text),
public.complete_booking(uuid),
public.mark_no_show(uuid)
from public, anon;

grant execute on function
public.adjust_stock(uuid, numeric, text),
public.complete_booking(uuid),
public.mark_no_show(uuid)
to authenticated, service_role;

revoke all on public.webhook_events from anon, authenticated;

grant all on public.webhook_events to service_role;

revoke all on public.sms_opt_outs from anon, authenticated;

grant select on public.sms_opt_outs to authenticated;

grant all on public.sms_opt_outs to service_role;

revoke execute on function public.sms_opted_out(public.contacts) from public, anon;

grant execute on function public.sms_opted_out(public.contacts) to authenticated, service_role;

revoke execute on function
private.sms_keyword(text, text),
private.queue_sms_help_reply(uuid, uuid, text, text),
private.skip_sms_opted_out()
from public, anon, authenticated;

grant execute on function private.sms_keyword(text, text) to service_role;

revoke all on public.unroutable_messages from anon, authenticated;

grant all on public.unroutable_messages to service_role;

revoke execute on function
private.skip_bounced_email(),
private.claim_webhook_event(text, text, text),
private.receive_inbound_message(text, text, text, text, text[], text, text, text, text),
private.record_delivery_event(text, text, text)
from public, anon, authenticated;

grant execute on function
private.receive_inbound_message(text, text, text, text, text[], text, text, text, text),
private.record_delivery_event(text, text, text)
to service_role;

-- Schedules (pg_cron) -------------------------------------------------------------------

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_check_low_stock';

select cron.schedule('careops_check_low_stock', '5 * * * *', 'select private.check_low_stock()');

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_mark_overdue_forms';

select cron.schedule('careops_mark_overdue_forms', '35 * * * *', 'select private.mark_overdue_forms()');

-- Data ----------------------------------------------------------------------------------

insert into private.app_settings (key, value, description) values
(
    'public_base_url',
    'http://localhost:3000',
    'Where the frontend is served: links in messages are this plus a path (/forms/<token>, /manage/<token>).'
),
(
    'client_address_header',
    'cf-connecting-ip',
    'The request header that carries the anonymous caller''s address (empty: no per-address cap).'
),
(
    'anonymous_actions_per_email_hour',
    '8',
    'Anonymous bookings, cancellations and moves per email and workspace per hour.'
),
('anonymous_actions_per_phone_hour', '8', 'The same per phone number and workspace per hour.'),
('anonymous_actions_per_address_hour', '30', 'The same per client address, across workspaces, per hour.'),
('messages_per_recipient_workspace_hour', '12', 'Automated messages to one address or number per workspace per hour.'),
('messages_per_recipient_workspace_day', '40', 'The same per 24 hours.'),
(
    'messages_per_recipient_platform_hour',
    '24',
    'Automated messages to one address or number across workspaces per hour.'
),
('messages_per_recipient_platform_day', '80', 'The same per 24 hours.')
on conflict (key) do nothing;

insert into private.error_codes (code, http_status, description) values
('sms_opted_out', 409, 'The number texted STOP to this workspace: no SMS goes to it until it texts START.'),
('form_not_found', 404, 'No form to fill matches this link.'),
('form_booking_cancelled', 410, 'The visit this form was for was cancelled: the link no longer opens.'),
('form_already_submitted', 409, 'This form was already filled in; it cannot be changed.'),
('invalid_answers', 400, 'Answers are a JSON object of field keys to values, at most 100000 characters in all.'),
('unknown_answer_field', 400, 'An answer names a field the form does not have.'),
('missing_required_answer', 400, 'A required field of the form has no answer.'),
(
    'invalid_answer',
    400,
    'An answer has the wrong type for its field (text for text fields, true/false for a checkbox) or is too long.'
),
('invalid_answer_choice', 400, 'The answer to a choice field is not one of its options.'),
('invalid_answer_date', 400, 'The answer to a date field is not a date written YYYY-MM-DD.'),
('invalid_channel', 400, 'A channel is email or sms.'),
(
    'invalid_body',
    400,
    'A message needs 1 to 20000 characters (SMS 1 to 1600), at least one visible, no control characters '
    'but line breaks and tabs.'
),
(
    'invalid_subject',
    400,
    'An email subject has at most 200 characters, at least one visible, and no control characters; an SMS has none.'
),
('invalid_pause_hours', 400, 'Automation pauses after a staff reply for 1 to 720 hours, or until resumed (empty).'),
('channel_disabled', 409, 'The workspace has this channel turned off (communication settings).'),
('no_contact_address', 409, 'The contact has no email address (or no phone number) for this channel.'),
(
    'email_bounced',
    409,
    'Email to this address bounced or was marked as spam; correct the contact''s email address first.'
),
('invalid_stock_delta', 400, 'A stock adjustment is a non-zero number from -1000000000 to 1000000000.'),
('booking_not_started', 409, 'The booking has not started yet; it can be completed or marked no-show once it has.'),
('booking_closed', 409, 'The booking is already completed or marked no-show.'),
(
    'insufficient_stock',
    409,
    'Not enough stock: the change would take an item below zero. Nothing was changed; adjust the stock first.'
),
(
    'invalid_signature',
    401,
    'The webhook''s signature does not verify (wrong secret, altered body, or a timestamp outside the tolerance).'
);
