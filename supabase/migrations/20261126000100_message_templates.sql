-- Message templates: what each kind of message says, per channel, with named {{placeholders}}.
--
-- The workspace trigger of the communication settings migration now also
-- creates the default templates (existing workspaces are backfilled below).

insert into private.error_codes (code, http_status, description) values
(
    'invalid_template_subject',
    400,
    'An email template needs a subject of 1 to 200 characters without control characters; an SMS template has none.'
),
(
    'invalid_template_body',
    400,
    'A body has 1 to 10000 characters (SMS: 1600), one visible, no control characters but line breaks and tabs.'
),
('unknown_placeholder', 400, 'The template uses a placeholder that its kind does not provide.'),
(
    'malformed_placeholder',
    400,
    'A placeholder is written {{name}}: lowercase letters, digits and underscores between double braces.'
);

-- Message templates --------------------------------------------------------------------------

-- The placeholders each kind may use; the renderer (automation) provides exactly these.
create function private.template_placeholders(p_kind text)
returns text[]
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
    select case p_kind
        when 'welcome' then array['contact_name', 'workspace_name']
        when 'booking_confirmation' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location', 'manage_url'
        ]
        when 'booking_rescheduled' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location', 'manage_url'
        ]
        when 'reminder' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location', 'manage_url'
        ]
        when 'booking_cancelled' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location'
        ]
        when 'form_request' then array[
            'contact_name', 'workspace_name', 'form_name', 'form_url', 'booking_type_name', 'starts_at_local'
        ]
        when 'form_overdue' then array[
            'contact_name', 'workspace_name', 'form_name', 'booking_type_name', 'starts_at_local'
        ]
        when 'low_stock' then array['workspace_name', 'item_name', 'unit', 'quantity', 'threshold']
        when 'staff_invitation' then array[
            'workspace_name', 'invite_url', 'inviter_name', 'role', 'expires_at_local'
        ]
    end;
$$;

comment on function private.template_placeholders(text) is
'Placeholders ({{name}}) a template of this kind may use, as the renderer provides them; null for an unknown kind.';

-- Raises unknown_placeholder / malformed_placeholder for a text that uses anything else.
create function private.check_placeholders(p_kind text, p_text text)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_allowed text[] := private.template_placeholders(p_kind);
    v_name text;
begin
    if p_text is null then
        return;
    end if;
    for v_name in
        select m[1] from pg_catalog.regexp_matches(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}', 'g') as m
    loop
        if not v_name = any(v_allowed) then
            perform private.raise_error(
                'unknown_placeholder',
                format(
                    'A %s template cannot use {{%s}}; it may use: %s.',
                    p_kind, v_name, pg_catalog.array_to_string(v_allowed, ', ')
                )
            );
        end if;
    end loop;
    if pg_catalog.regexp_replace(p_text, '\{\{\s*[a-z][a-z0-9_]*\s*\}\}', '', 'g') ~ '\{\{|\}\}' then
        perform private.raise_error('malformed_placeholder');
    end if;
end
$$;

comment on function private.check_placeholders(text, text) is
'Raises unknown_placeholder when the text uses a placeholder its kind does not provide, malformed_placeholder for stray double braces.';

revoke execute on function private.template_placeholders(text), private.check_placeholders(text, text) from public;
grant execute on function private.template_placeholders(text), private.check_placeholders(text, text)
to authenticated, service_role;

create table public.message_templates (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    kind text not null check (kind in (
        'welcome', 'booking_confirmation', 'booking_cancelled', 'booking_rescheduled', 'reminder',
        'form_request', 'form_overdue', 'low_stock', 'staff_invitation'
    )),
    channel text not null check (channel in ('email', 'sms')),
    subject text,
    body text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint message_templates_one_per_kind_and_channel unique (workspace_id, kind, channel),
    constraint message_templates_subject_for_email_only check (
        (channel = 'email' and private.is_clean_text(subject, 200))
        or (channel = 'sms' and subject is null)
    ),
    constraint message_templates_body_is_clean check (
        private.is_clean_multiline_text(body, case channel when 'sms' then 1600 else 10000 end)
    )
);

comment on table public.message_templates is
'What each kind of message says, per channel, with {{placeholders}} the renderer fills in. Every workspace gets the defaults; owners edit subject and body.';
comment on column public.message_templates.kind is
'What the message is for; private.template_placeholders(kind) lists the placeholders it may use.';
comment on column public.message_templates.channel is 'email or sms.';
comment on column public.message_templates.subject is 'Email subject line (may use placeholders); null for SMS.';
comment on column public.message_templates.body is
'Message text with {{placeholders}}; plain text, line breaks kept; at most 1600 characters for SMS.';

-- The one-per-kind unique index leads with workspace_id: it serves the policies too.
alter table public.message_templates enable row level security;

revoke all on public.message_templates from anon, authenticated;
grant select on public.message_templates to authenticated;
grant update (subject, body) on public.message_templates to authenticated;
grant all on public.message_templates to service_role;

create trigger message_templates_touch_updated_at
before update on public.message_templates
for each row execute function private.touch_updated_at();

create function private.validate_message_template()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.channel = 'sms' then
        if nullif(pg_catalog.btrim(new.subject), '') is not null then
            perform private.raise_error('invalid_template_subject', 'An SMS template has no subject.');
        end if;
        new.subject := null;
    else
        new.subject := private.clean_text(new.subject, 200, 'invalid_template_subject');
    end if;
    new.body := private.clean_multiline_text(
        new.body, case new.channel when 'sms' then 1600 else 10000 end, 'invalid_template_body'
    );
    perform private.check_placeholders(new.kind, new.subject);
    perform private.check_placeholders(new.kind, new.body);
    return new;
end
$$;

comment on function private.validate_message_template() is
'Trigger: trims subject and body and refuses bad ones (invalid_template_subject, invalid_template_body, unknown_placeholder, malformed_placeholder).';

create trigger message_templates_validate
before insert or update on public.message_templates
for each row execute function private.validate_message_template();

create policy "members read their workspaces' message templates"
on public.message_templates for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners update their workspaces' message templates"
on public.message_templates for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Defaults -----------------------------------------------------------------------------------

create function private.default_message_templates()
returns table (kind text, channel text, subject text, body text)
language sql
immutable
security invoker
set search_path = ''
as $$
    values
    (
        'welcome', 'email', 'Welcome to {{workspace_name}}',
        E'Hello {{contact_name}},\n\nThank you for choosing {{workspace_name}}. We look forward to seeing you.\n\n{{workspace_name}}'
    ),
    ('welcome', 'sms', null, 'Welcome to {{workspace_name}}, {{contact_name}}!'),
    (
        'booking_confirmation', 'email', 'Your {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nYour {{booking_type_name}} with {{practitioner_name}} is booked for {{starts_at_local}} (until {{ends_at_local}}).\nWhere: {{location}}\n\nTo cancel or reschedule: {{manage_url}}\n\n{{workspace_name}}'
    ),
    (
        'booking_confirmation', 'sms', null,
        '{{workspace_name}}: {{booking_type_name}} booked for {{starts_at_local}} with {{practitioner_name}}. Manage: {{manage_url}}'
    ),
    (
        'booking_cancelled', 'email', 'Cancelled: your {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nYour {{booking_type_name}} on {{starts_at_local}} has been cancelled.\n\n{{workspace_name}}'
    ),
    (
        'booking_cancelled', 'sms', null,
        '{{workspace_name}}: your {{booking_type_name}} on {{starts_at_local}} is cancelled.'
    ),
    (
        'booking_rescheduled', 'email', 'New time: your {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nYour {{booking_type_name}} with {{practitioner_name}} now takes place on {{starts_at_local}} (until {{ends_at_local}}).\nWhere: {{location}}\n\nTo cancel or reschedule: {{manage_url}}\n\n{{workspace_name}}'
    ),
    (
        'booking_rescheduled', 'sms', null,
        '{{workspace_name}}: your {{booking_type_name}} is now on {{starts_at_local}}. Manage: {{manage_url}}'
    ),
    (
        'reminder', 'email', 'Reminder: {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nA reminder of your {{booking_type_name}} with {{practitioner_name}} on {{starts_at_local}}.\nWhere: {{location}}\n\nTo cancel or reschedule: {{manage_url}}\n\n{{workspace_name}}'
    ),
    (
        'reminder', 'sms', null,
        '{{workspace_name}} reminder: {{booking_type_name}} on {{starts_at_local}}. Manage: {{manage_url}}'
    ),
    (
        'form_request', 'email', 'Please fill in: {{form_name}}',
        E'Hello {{contact_name}},\n\nBefore your {{booking_type_name}} on {{starts_at_local}}, please fill in {{form_name}}:\n{{form_url}}\n\n{{workspace_name}}'
    ),
    (
        'form_request', 'sms', null,
        '{{workspace_name}}: please fill in {{form_name}} before your visit: {{form_url}}'
    ),
    (
        'form_overdue', 'email', 'Overdue form: {{form_name}} from {{contact_name}}',
        E'{{contact_name}} has not filled in {{form_name}} for the {{booking_type_name}} on {{starts_at_local}}.'
    ),
    (
        'low_stock', 'email', 'Low stock: {{item_name}}',
        E'{{item_name}} is down to {{quantity}} {{unit}} (threshold {{threshold}} {{unit}}) at {{workspace_name}}.'
    ),
    (
        'staff_invitation', 'email', 'Join {{workspace_name}} on CareOps',
        E'{{inviter_name}} invites you to join {{workspace_name}} as {{role}}.\n\nAccept the invitation: {{invite_url}}\n\nThe invitation expires on {{expires_at_local}}.'
    );
$$;

comment on function private.default_message_templates() is
'The templates every workspace starts with: email for every kind, SMS for the messages to customers.';

create or replace function private.create_communication_defaults(p_workspace_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    insert into public.communication_settings (workspace_id)
    values (p_workspace_id)
    on conflict (workspace_id) do nothing;
    insert into public.message_templates (workspace_id, kind, channel, subject, body)
    select p_workspace_id, d.kind, d.channel, d.subject, d.body
    from private.default_message_templates() as d
    on conflict (workspace_id, kind, channel) do nothing;
end
$$;

comment on function private.create_communication_defaults(uuid) is
'Gives a workspace its communication settings row and any default template it lacks (idempotent).';

revoke execute on function private.default_message_templates() from public;
grant execute on function private.default_message_templates() to service_role;

-- Workspaces made before this migration.
select private.create_communication_defaults(w.id) from public.workspaces as w;
