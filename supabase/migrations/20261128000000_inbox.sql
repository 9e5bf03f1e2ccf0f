-- The inbox: unread counts kept by a trigger, reading a conversation, staff replies that pause
-- automation, and resuming it.
--
-- Read state is per workspace, not per member: the inbox is the team's shared inbox (one
-- conversation per contact, answered by whoever is at the desk), so once one member has read
-- a message nobody else needs to. conversations.unread_count is that shared count.

insert into private.error_codes (code, http_status, description) values
('invalid_channel', 400, 'A channel is email or sms.'),
(
    'invalid_body',
    400,
    'A message needs 1 to 20000 characters (SMS 1 to 1600), at least one visible, '
    'no control characters but line breaks and tabs.'
),
(
    'invalid_subject',
    400,
    'An email subject has at most 200 characters, at least one visible, and no control characters; '
    'an SMS has none.'
),
('invalid_pause_hours', 400, 'Automation pauses after a staff reply for 1 to 720 hours, or until resumed (empty).'),
('channel_disabled', 409, 'The workspace has this channel turned off (communication settings).'),
('no_contact_address', 409, 'The contact has no email address (or no phone number) for this channel.'),
(
    'email_bounced',
    409,
    'Email to this address bounced or was marked as spam; correct the contact''s email address first.'
);

-- Addresses that bounced (set by the Resend webhook, see *_inbound_webhooks.sql) -----------------

alter table public.contacts add column email_bounced_at timestamptz;

comment on column public.contacts.email_bounced_at is
'When email to this address bounced or was marked as spam: no email goes to it until the address changes.';

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

create trigger contacts_clear_email_bounce
before update of email on public.contacts
for each row when (old.email is distinct from new.email)
execute function private.clear_email_bounce();

-- How long a staff reply pauses automation ------------------------------------------------------

alter table public.communication_settings
add column automation_pause_hours integer default 72
constraint communication_settings_automation_pause_hours_range check (automation_pause_hours between 1 and 720);

comment on column public.communication_settings.automation_pause_hours is
'After a staff reply, automated messages to that contact are skipped for this many hours; null: until someone resumes automation.';

grant update (automation_pause_hours) on public.communication_settings to authenticated;

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

create trigger communication_settings_validate_automation_pause_hours
before insert or update of automation_pause_hours on public.communication_settings
for each row execute function private.validate_automation_pause_hours();

-- Unread counts -----------------------------------------------------------------------------------

-- The unread total of a workspace reads only conversations with something unread.
create index conversations_workspace_id_unread_idx on public.conversations (workspace_id) include (unread_count)
where (unread_count > 0);

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

create trigger messages_count_inbound
after insert on public.messages
for each row when (new.direction = 'inbound' and new.conversation_id is not null)
execute function private.count_inbound_message();

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
'Staff and owners: a manual message to the conversation''s contact by email or sms, queued for the worker (deliver_message), which pauses automated messages to that contact for communication_settings.automation_pause_hours (null: until resume_automation). Errors: not_authenticated, not_found, invalid_channel, invalid_body, invalid_subject, channel_disabled, no_contact_address, email_bounced.';

create function public.resume_automation(p_conversation_id uuid)
returns public.conversations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_conversation public.conversations := private.member_conversation(p_conversation_id);
begin
    if v_conversation.automation_paused_until is not null then
        update public.conversations as c
        set automation_paused_until = null, automation_paused_by = null
        where c.id = p_conversation_id
        returning c.* into v_conversation;
    end if;
    return v_conversation;
end
$$;

comment on function public.resume_automation(uuid) is
'Staff and owners: automated messages (reminders, notices) go to this contact again. Idempotent. Errors: not_authenticated, not_found.';

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
