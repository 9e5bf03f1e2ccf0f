-- Activation: a checklist of what a workspace needs before the public can book it,
-- activate_workspace (owners) that activates or says what is missing, the same
-- checklist for members at any time, and suspend_workspace for owners.
--
-- Checklist codes (stable; the onboarding UI switches on them):
--   email_sender       the email channel is on and has a sender address (confirmations go by email)
--   sms_sender         the SMS channel is off, or on with a sender number (reminders would fail otherwise)
--   bookable_type      an active booking type performed by an active practitioner with weekly hours
--   practitioner_names every active practitioner of an active booking type has a full name
--                      (the public page shows it, and never an email)

create function private.activation_checklist(p_workspace_id uuid)
returns table (code text, done boolean, description text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
    select
        'email_sender'::text,
        exists (
            select 1 from public.communication_settings as s
            where s.workspace_id = p_workspace_id and s.email_enabled and s.sender_email is not null
        ),
        'Turn the email channel on and set a sender email address.'::text
    union all
    select
        'sms_sender'::text,
        not exists (
            select 1 from public.communication_settings as s
            where s.workspace_id = p_workspace_id and s.sms_enabled and s.sms_from_number is null
        ),
        'The SMS channel is on: set its sender number, or turn SMS off.'::text
    union all
    select
        'bookable_type'::text,
        exists (
            select 1
            from public.booking_types as bt
            inner join public.booking_type_practitioners as btp
                on btp.workspace_id = bt.workspace_id and btp.booking_type_id = bt.id
            inner join public.practitioners as p
                on p.workspace_id = btp.workspace_id and p.id = btp.practitioner_id
            where
                bt.workspace_id = p_workspace_id
                and bt.active
                and p.active
                and exists (select 1 from public.availability_rules as r where r.practitioner_id = p.id)
        ),
        'Create an active booking type performed by a practitioner who has weekly hours.'::text
    union all
    select
        'practitioner_names'::text,
        not exists (
            select 1
            from public.booking_types as bt
            inner join public.booking_type_practitioners as btp
                on btp.workspace_id = bt.workspace_id and btp.booking_type_id = bt.id
            inner join public.practitioners as p
                on p.workspace_id = btp.workspace_id and p.id = btp.practitioner_id
            inner join public.profiles as pr on pr.id = p.user_id
            where bt.workspace_id = p_workspace_id and bt.active and p.active and pr.full_name = ''
        ),
        'Every practitioner who performs an active booking type needs a full name (the public page shows it).'::text;
end
$$;

comment on function private.activation_checklist(uuid) is
'What a workspace needs before it can be activated: (code, done, description) for email_sender, sms_sender, '
'bookable_type and practitioner_names.';

revoke execute on function private.activation_checklist(uuid) from public;
grant execute on function private.activation_checklist(uuid) to service_role;

-- The JSON both RPCs return: status, ready, the checklist and the codes still missing.
create function private.activation_report(p_workspace_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_checklist jsonb;
    v_missing jsonb;
begin
    select
        coalesce(
            jsonb_agg(jsonb_build_object('code', c.code, 'done', c.done, 'description', c.description)),
            '[]'::jsonb
        ),
        coalesce(jsonb_agg(c.code) filter (where not c.done), '[]'::jsonb)
    into v_checklist, v_missing
    from private.activation_checklist(p_workspace_id) as c;
    return jsonb_build_object(
        'workspace_id', p_workspace_id,
        'status', (select w.status from public.workspaces as w where w.id = p_workspace_id),
        'ready', jsonb_array_length(v_missing) = 0,
        'checklist', v_checklist,
        'missing', v_missing
    );
end
$$;

comment on function private.activation_report(uuid) is
'{workspace_id, status, ready, checklist: [{code, done, description}], missing: [code]} for a workspace.';

revoke execute on function private.activation_report(uuid) from public;
grant execute on function private.activation_report(uuid) to service_role;

create function public.workspace_activation_status(p_workspace_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform private.require_role(p_workspace_id, 'staff');
    return private.activation_report(p_workspace_id);
end
$$;

comment on function public.workspace_activation_status(uuid) is
'The activation checklist for the onboarding UI: {workspace_id, status, ready, checklist: [{code, done, '
'description}], missing: [code]}; codes email_sender, sms_sender, bookable_type, practitioner_names. Members '
'only. Errors: not_authenticated, not_found.';

revoke execute on function public.workspace_activation_status(uuid) from public, anon;
grant execute on function public.workspace_activation_status(uuid) to authenticated, service_role;

create function public.activate_workspace(p_workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_report jsonb;
begin
    perform private.require_role(p_workspace_id, 'owner');
    -- One activation or suspension at a time per workspace.
    perform 1 from public.workspaces as w where w.id = p_workspace_id for no key update;
    v_report := private.activation_report(p_workspace_id);
    if (v_report ->> 'ready')::boolean and v_report ->> 'status' <> 'active' then
        update public.workspaces set status = 'active' where id = p_workspace_id;
        v_report := v_report || jsonb_build_object('status', 'active');
    end if;
    return v_report || jsonb_build_object('activated', v_report ->> 'status' = 'active');
end
$$;

comment on function public.activate_workspace(uuid) is
'Activates a draft or suspended workspace when its checklist is complete; otherwise changes nothing and returns '
'what is missing. Returns the workspace_activation_status report plus activated (whether the workspace is now '
'active). An active workspace stays active. Owners only. Errors: not_authenticated, not_found, forbidden.';

revoke execute on function public.activate_workspace(uuid) from public, anon;
grant execute on function public.activate_workspace(uuid) to authenticated, service_role;

create function public.suspend_workspace(p_workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform private.require_role(p_workspace_id, 'owner');
    update public.workspaces set status = 'suspended' where id = p_workspace_id and status = 'active';
    return private.activation_report(p_workspace_id);
end
$$;

comment on function public.suspend_workspace(uuid) is
'Takes an active workspace off public booking (status suspended) until activate_workspace runs again; a draft '
'stays a draft. Returns the workspace_activation_status report. Owners only. Errors: not_authenticated, '
'not_found, forbidden.';

revoke execute on function public.suspend_workspace(uuid) from public, anon;
grant execute on function public.suspend_workspace(uuid) to authenticated, service_role;
