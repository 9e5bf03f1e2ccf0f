begin;
select plan(20);

-- SMS is off in North Clinic; Bo has no phone; Cy (added below) no email.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333'
);
insert into public.contacts (id, workspace_id, name, email, phone) values
('c0000000-0000-0000-0000-00000000000b', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Bo Ng', 'bo@example.test', null),
('c0000000-0000-0000-0000-00000000000c', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Cy Ru', null, '+33622222222');
select tests.write_events();

create temp table target as
select
    c.contact_id,
    c.id
from public.conversations as c;
grant select on target to authenticated;

create temp view written as
select
    (select count(*)::int from public.messages) as messages,
    (select count(*)::int from pgmq.q_jobs) as jobs,
    (
        select count(*)::int from public.conversations as c
        where c.automation_paused_until is not null or c.automation_paused_by is not null
    ) as paused;
create temp table written_before as select * from written;

create function pg_temp.conversation_of(p_contact text)
returns uuid
language sql
as $$ select t.id from target as t where t.contact_id = p_contact::uuid $$;
create function pg_temp.bo()
returns uuid
language sql
as $$ select pg_temp.conversation_of('c0000000-0000-0000-0000-00000000000b') $$;
create function pg_temp.cy()
returns uuid
language sql
as $$ select pg_temp.conversation_of('c0000000-0000-0000-0000-00000000000c') $$;
grant execute on function pg_temp.conversation_of(text), pg_temp.bo(), pg_temp.cy() to authenticated, anon;
grant select on target to anon;

select tests.authenticate_without_user();
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'email')$$,
    'PT401', 'not_authenticated', 'no signed-in user: not_authenticated'
);
select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'email')$$,
    'PT404', 'not_found', 'a member of another workspace: not_found'
);
select throws_ok(
    $$select public.mark_conversation_read(pg_temp.bo())$$,
    'PT404', 'not_found', 'mark_conversation_read from another workspace: not_found'
);
select throws_ok(
    $$select public.resume_automation(pg_temp.bo())$$,
    'PT404', 'not_found', 'resume_automation from another workspace: not_found'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.send_message('cccccccc-cccc-cccc-cccc-cccccccccccc', 'Hi', 'email')$$,
    'PT404', 'not_found', 'an unknown conversation: not_found'
);
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'fax')$$,
    'PT400', 'invalid_channel', 'a channel that is neither email nor sms: invalid_channel'
);
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', null)$$,
    'PT400', 'invalid_channel', 'no channel: invalid_channel'
);
select throws_ok(
    $$select public.send_message(pg_temp.bo(), '   ', 'email')$$,
    'PT400', 'invalid_body', 'a blank body: invalid_body'
);
select throws_ok(
    $$select public.send_message(pg_temp.bo(), null, 'email')$$,
    'PT400', 'invalid_body', 'no body: invalid_body'
);
select throws_ok(
    $$select public.send_message(pg_temp.bo(), repeat('x', 20001), 'email')$$,
    'PT400', 'invalid_body', 'an email body over 20000 characters: invalid_body'
);
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'email', E'a\u0007b')$$,
    'PT400', 'invalid_subject', 'a subject with a control character: invalid_subject'
);
select throws_ok(
    $$select public.send_message(pg_temp.cy(), 'Hi', 'sms', 'Subject')$$,
    'PT400', 'invalid_subject', 'an SMS with a subject: invalid_subject'
);
select throws_ok(
    $$select public.send_message(pg_temp.cy(), 'Hi', 'sms')$$,
    'PT409', 'channel_disabled', 'SMS turned off: channel_disabled'
);
select throws_ok(
    $$select public.send_message(pg_temp.cy(), 'Hi', 'email')$$,
    'PT409', 'no_contact_address', 'email to a contact without email address: no_contact_address'
);
select tests.clear_authentication();

update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'sms')$$,
    'PT409', 'no_contact_address', 'SMS to a contact without phone: no_contact_address'
);
select throws_ok(
    $$select public.send_message(pg_temp.cy(), repeat('x', 1601), 'sms')$$,
    'PT400', 'invalid_body', 'an SMS over 1600 characters: invalid_body'
);
update public.communication_settings set email_enabled = false
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'email')$$,
    'PT409', 'channel_disabled', 'email turned off (by the owner, in the same transaction): channel_disabled'
);
select tests.clear_authentication();

select results_eq('select * from written', 'select * from written_before', 'every refusal wrote nothing');

select tests.authenticate_as_anon();
select throws_ok(
    $$select public.send_message(pg_temp.bo(), 'Hi', 'email')$$,
    '42501', null, 'anon may not call send_message'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'anon wrote nothing');

select * from finish();
rollback;
