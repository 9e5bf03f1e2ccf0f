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

-- The pattern is private.render_template's.
create function private.template_format(p_text text)
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_literals text[];
    v_format text;
begin
    if p_text is null then
        return null;
    end if;
    v_literals := pg_catalog.regexp_split_to_array(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}');
    v_format := pg_catalog.replace(v_literals[1], '%', '%%');
    for v_position in 2 .. pg_catalog.cardinality(v_literals) loop
        v_format := v_format || '%' || (v_position - 1) || '$s' || pg_catalog.replace(v_literals[v_position], '%', '%%');
    end loop;
    return v_format;
end
$$;

comment on function private.template_format(text) is
'A template as a format() string: its literal text (''%'' doubled) with %<n>$s for its n-th placeholder; fill it with the values of private.template_placeholder_names(text) in order.';

create function private.template_placeholder_names(p_text text)
returns text[]
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    if p_text is null then
        return null;
    end if;
    return array(
        select m.match[1]
        from pg_catalog.regexp_matches(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}', 'g')
            with ordinality as m (match, ordinal)
        order by m.ordinal
    );
end
$$;

comment on function private.template_placeholder_names(text) is
'The placeholder names of a template in the order they appear (repeats included): argument n of private.template_format(text).';

-- Owners update subject and body as authenticated: the generated columns run these as them.
revoke execute on function private.template_format(text), private.template_placeholder_names(text) from public;
grant execute on function private.template_format(text), private.template_placeholder_names(text)
to authenticated, service_role;

-- Computed after the before-triggers (private.validate_message_template trims the text first).
alter table public.message_templates
add column subject_format text generated always as (private.template_format(subject)) stored,
add column subject_placeholders text[] generated always as (private.template_placeholder_names(subject)) stored,
add column body_format text generated always as (private.template_format(body)) stored,
add column body_placeholders text[] generated always as (private.template_placeholder_names(body)) stored;

comment on column public.message_templates.subject_format is
'subject parsed for rendering (private.template_format): kept by the database, read by private.queue_messages.';
comment on column public.message_templates.subject_placeholders is
'The placeholder names of subject in order (private.template_placeholder_names).';
comment on column public.message_templates.body_format is
'body parsed for rendering (private.template_format): kept by the database, read by private.queue_messages.';
comment on column public.message_templates.body_placeholders is
'The placeholder names of body in order (private.template_placeholder_names).';

-- The writer: the same statement, rendering from the parsed columns.
create or replace function private.queue_messages(p_requests private.message_request[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
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
            t.channel,
            case t.channel when 'email' then c.email else c.phone end as recipient,
            case
                when v.automation_paused_until > now() then 'automation_paused'
                when t.channel = 'email' and c.email is null then 'no_email_address'
                when t.channel = 'sms' and c.phone is null then 'no_phone_number'
            end as skip_reason,
            pg_catalog.format(
                t.subject_format,
                variadic array(
                    select r.template_values ->> n.name
                    from unnest(t.subject_placeholders) with ordinality as n (name, ordinal)
                    order by n.ordinal
                )
            ) as subject,
            pg_catalog.format(
                t.body_format,
                variadic array(
                    select r.template_values ->> n.name
                    from unnest(t.body_placeholders) with ordinality as n (name, ordinal)
                    order by n.ordinal
                )
            ) as body,
            case
                when r.channel is null then r.idempotency_key || ':' || t.channel else r.idempotency_key
            end as idempotency_key,
            r.ordinal
        from unnest(p_requests) with ordinality as r (
            contact_id, template_kind, channel, template_values, idempotency_key, booking_id, ordinal
        )
        inner join public.contacts as c on r.contact_id = c.id
        inner join public.communication_settings as s on c.workspace_id = s.workspace_id
        inner join public.message_templates as t on c.workspace_id = t.workspace_id and r.template_kind = t.kind
        inner join public.conversations as v on c.workspace_id = v.workspace_id and c.id = v.contact_id
        where
            case t.channel when 'email' then s.email_enabled when 'sms' then s.sms_enabled else false end
            and (r.channel is null or r.channel = t.channel)
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
'Queues automated messages to contacts in the caller''s transaction, set-based: renders the workspace''s template per request and channel (from its parsed columns, one pass); nothing when the channel is off or has no template; skipped with a reason (automation_paused, no_email_address, no_phone_number) when it cannot go; else queued with a deliver_message job {"message_id"}. Idempotent per key; returns how many messages it wrote.';
