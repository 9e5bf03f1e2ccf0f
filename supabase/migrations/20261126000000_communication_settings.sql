-- Communication settings: which channels a workspace uses and who its messages come from.
--
-- Also the shared helpers private.normalize_phone (E.164) and multi-line clean text.
-- A trigger on workspaces gives every new workspace its settings row (existing
-- workspaces are backfilled below). Provider credentials never live here: the
-- worker reads them from its environment.

insert into private.error_codes (code, http_status, description) values
(
    'invalid_phone',
    400,
    'Not an international phone number: "+", country code and number, 7 to 15 digits ("+33 6 12 34 56 78").'
),
(
    'invalid_sender_name',
    400,
    'A sender name has 1 to 120 characters, at least one visible, and no control characters.'
);

-- Phone numbers ------------------------------------------------------------------------------

-- Accepted: international numbers only, "+" (or the "00" international prefix)
-- then the country code and number, 7 to 15 digits in all, first digit 1-9,
-- optionally grouped with spaces, dots, hyphens, slashes or parentheses
-- ("+33 6 12 34 56 78", "+1 (415) 555-0100", "0044 20 7946 0958").
-- National formats without a country code are refused: the country is unknown.
create function private.normalize_phone(p_phone text)
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_phone text := pg_catalog.btrim(p_phone);
    v_digits text;
begin
    if v_phone is null or char_length(v_phone) > 40 then
        return null;
    end if;
    if v_phone ~ '^00' then
        v_phone := '+' || substr(v_phone, 3);
    end if;
    if v_phone !~ '^\+[0-9 .()/-]+$' then
        return null;
    end if;
    v_digits := pg_catalog.regexp_replace(v_phone, '[^0-9]', '', 'g');
    if v_digits !~ '^[1-9][0-9]{6,14}$' then
        return null;
    end if;
    return '+' || v_digits;
end
$$;

comment on function private.normalize_phone(text) is
'E.164 form (+ and 7 to 15 digits) of an international phone number, or null when it is not one. Accepts "+" or "00", then digits grouped with spaces, dots, hyphens, slashes or parentheses.';

-- Multi-line human text (message bodies, descriptions) ---------------------------------------

-- Like private.is_clean_text, but line breaks (LF) and tabs are allowed inside.
create function private.is_clean_multiline_text(p_value text, p_max_length integer)
returns boolean
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
    -- The one-line rule, with each line feed and tab read as a blank: they may stand
    -- inside the text, not at its ends (one character for one, so the length holds).
    select private.is_clean_text(pg_catalog.translate(p_value, E'\n\t', '  '), p_max_length);
$$;

comment on function private.is_clean_multiline_text(text, integer) is
'Whether a multi-line human text is trimmed, visible, at most p_max_length long, with no control characters but LF and tab.';

create function private.clean_multiline_text(p_value text, p_max_length integer, p_error_code text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_text text := pg_catalog.regexp_replace(
        pg_catalog.replace(p_value, E'\r\n', E'\n'),
        U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+|[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+$',
        '',
        'g'
    );
begin
    if not private.is_clean_multiline_text(v_text, p_max_length) then
        perform private.raise_error(
            p_error_code,
            format(
                'Text needs 1 to %s characters with at least one visible character and no control characters but line breaks and tabs.',
                p_max_length
            )
        );
    end if;
    return v_text;
end
$$;

comment on function private.clean_multiline_text(text, integer, text) is
'Turns CRLF into LF, trims, and returns the text, or raises p_error_code when it is not clean (see is_clean_multiline_text).';

-- Check constraints and validation triggers run with the caller's privileges.
revoke execute on function
private.normalize_phone(text),
private.is_clean_multiline_text(text, integer),
private.clean_multiline_text(text, integer, text)
from public;
grant execute on function
private.normalize_phone(text),
private.is_clean_multiline_text(text, integer),
private.clean_multiline_text(text, integer, text)
to authenticated, service_role;

-- Communication settings ---------------------------------------------------------------------

create table public.communication_settings (
    workspace_id uuid primary key references public.workspaces (id) on delete cascade,
    email_enabled boolean not null default true,
    sms_enabled boolean not null default false,
    sender_name text check (sender_name is null or private.is_clean_text(sender_name, 120)),
    sender_email text check (sender_email is null or sender_email = private.normalize_email(sender_email)),
    reply_to_email text check (reply_to_email is null or reply_to_email = private.normalize_email(reply_to_email)),
    sms_from_number text check (sms_from_number is null or sms_from_number ~ '^\+[1-9][0-9]{6,14}$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.communication_settings is
'How a workspace talks to people: which channels are on and who messages come from (one row per workspace, made with it). Provider credentials are not stored here.';
comment on column public.communication_settings.email_enabled is 'Whether email messages are sent at all.';
comment on column public.communication_settings.sms_enabled is 'Whether SMS messages are sent at all (needs sms_from_number).';
comment on column public.communication_settings.sender_name is
'Display name in the From header; null means the workspace name.';
comment on column public.communication_settings.sender_email is
'Address emails are sent from (lower case); must be a domain the email provider accepts.';
comment on column public.communication_settings.reply_to_email is 'Reply-To address; null means sender_email.';
comment on column public.communication_settings.sms_from_number is 'SMS sender number in E.164 ("+14155550100").';

alter table public.communication_settings enable row level security;

revoke all on public.communication_settings from anon, authenticated;
grant select on public.communication_settings to authenticated;
grant update (
    email_enabled, sms_enabled, sender_name, sender_email, reply_to_email, sms_from_number
) on public.communication_settings to authenticated;
grant all on public.communication_settings to service_role;

create trigger communication_settings_touch_updated_at
before update on public.communication_settings
for each row execute function private.touch_updated_at();

-- Null for a blank value, the normalised address for a valid one, invalid_email otherwise.
create function private.normalize_optional_email(p_email text, p_detail text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_email text := private.normalize_email(p_email);
begin
    if nullif(pg_catalog.btrim(p_email), '') is null then
        return null;
    end if;
    if v_email is null then
        perform private.raise_error('invalid_email', p_detail);
    end if;
    return v_email;
end
$$;

comment on function private.normalize_optional_email(text, text) is
'Null for a blank address, else the normalised address or invalid_email with p_detail.';

revoke execute on function private.normalize_optional_email(text, text) from public;
grant execute on function private.normalize_optional_email(text, text) to authenticated, service_role;

create function private.validate_communication_settings()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_phone text;
begin
    -- Optional fields: a blank value from a form means "not set".
    new.sender_name := nullif(pg_catalog.btrim(new.sender_name), '');
    if new.sender_name is not null then
        new.sender_name := private.clean_text(new.sender_name, 120, 'invalid_sender_name');
    end if;
    new.sender_email := private.normalize_optional_email(new.sender_email, 'The sender email is not a valid address.');
    new.reply_to_email := private.normalize_optional_email(
        new.reply_to_email, 'The reply-to email is not a valid address.'
    );
    if nullif(pg_catalog.btrim(new.sms_from_number), '') is null then
        new.sms_from_number := null;
    else
        v_phone := private.normalize_phone(new.sms_from_number);
        if v_phone is null then
            perform private.raise_error('invalid_phone', 'The SMS sender number is not an international number.');
        end if;
        new.sms_from_number := v_phone;
    end if;
    return new;
end
$$;

comment on function private.validate_communication_settings() is
'Trigger: blank optional fields become null; sender name, emails and SMS number are normalised or refused (invalid_sender_name, invalid_email, invalid_phone).';

create trigger communication_settings_validate
before insert or update on public.communication_settings
for each row execute function private.validate_communication_settings();

create policy "members read their workspaces' communication settings"
on public.communication_settings for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners update their workspaces' communication settings"
on public.communication_settings for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Defaults -----------------------------------------------------------------------------------

create function private.create_communication_defaults(p_workspace_id uuid)
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
end
$$;

comment on function private.create_communication_defaults(uuid) is
'Gives a workspace its communication settings row if it lacks one (idempotent).';

create function private.create_communication_defaults_for_new_workspace()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.create_communication_defaults(new.id);
    return null;
end
$$;

comment on function private.create_communication_defaults_for_new_workspace() is
'Trigger: every new workspace starts with its communication defaults.';

revoke execute on function
private.create_communication_defaults(uuid),
private.create_communication_defaults_for_new_workspace()
from public;
grant execute on function private.create_communication_defaults(uuid) to service_role;

create trigger workspaces_create_communication_defaults
after insert on public.workspaces
for each row execute function private.create_communication_defaults_for_new_workspace();

-- Workspaces made before this migration.
select private.create_communication_defaults(w.id) from public.workspaces as w;
